"""Shared fixtures. This folder is on sys.path (pytest puts a rootdir conftest's folder there), so tests in
subfolders import helpers such as `realmodels` directly."""
import pytest

import realmodels


@pytest.fixture(scope="session")
def face_model_files() -> dict:
    """name -> path of the MediaPipe face models (fetched and cached on first use)."""
    return realmodels.face_models()


@pytest.fixture(scope="session")
def rapidocr_model_files() -> dict:
    """name -> path of the PP-OCR ONNX models (fetched and cached on first use)."""
    return realmodels.rapidocr_models()
