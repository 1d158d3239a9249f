"""An unchanged tflite_runtime script runs on edgepress with only its import swapped, and gives what the
same script gives on ai-edge-litert."""
import os
import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.realmodel

SCRIPT = os.path.join(os.path.dirname(__file__), "tflite_runtime_script.py")
IMPORT = "from tflite_runtime.interpreter import Interpreter"


def run_script(tmp_path, replacement: str, model: str) -> dict:
    with open(SCRIPT) as f:
        source = f.read()
    assert source.count(IMPORT) == 1
    script = tmp_path / f"script_{abs(hash(replacement))}.py"
    script.write_text(source.replace(IMPORT, replacement))
    out = tmp_path / f"out_{abs(hash(replacement))}.npz"
    subprocess.run([sys.executable, str(script), model, str(out)], check=True, capture_output=True, text=True,
                   timeout=300)
    with np.load(out) as data:
        return dict(data)


def test_script_runs_with_import_swapped(tmp_path, face_model_files):
    model = face_model_files["face_detection_short_range"]
    ours = run_script(tmp_path, "from edgepress.runtime_edge import Interpreter", model)
    theirs = run_script(tmp_path, "from ai_edge_litert.interpreter import Interpreter", model)
    assert sorted(ours) == sorted(theirs) and len(ours) == 4
    for name, want in theirs.items():
        assert ours[name].shape == want.shape and ours[name].dtype == want.dtype, name
        scale = max(float(np.abs(want).max()), 1e-30)
        assert float(np.abs(ours[name] - want).max()) / scale <= 1e-4, name
