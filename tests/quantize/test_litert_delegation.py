"""int8 models run whole in ai-edge-litert's XNNPACK delegate where its kernels allow: a constant addend of
ADD/SUB far below the output's step (PP-OCRv4 det's learnable affine biases) is quantized no finer than
XNNPACK's input/output scale ratio range [2^-10, 2^8) accepts, and the result still tracks float."""
import numpy as np
import onnx
import pytest

from edgepress.convert import load
from edgepress.quantize import quantize

from qmodels import Net, input_samples

XNNPACK_RATIO = (2.0**-10, 2.0**8)


def tiny_addends(seed: int = 3) -> onnx.ModelProto:
    """conv, relu, + per-channel constants far below an activation step (some 0), tanh, - a tiny scalar."""
    n = Net(seed)
    h = n.node("Relu", [n.conv("x", 3, 8, "conv")], "relu")
    h = n.node("Add", [h, n.const(np.array([1e-5, -2e-5, 0, 3e-6, 0, 1e-4, -1e-6, 2e-5], np.float32)
                                  .reshape(1, 8, 1, 1))], "add")
    h = n.node("Tanh", [h], "tanh")
    n.node("Sub", [h, n.const(np.float32(3e-6))], "out")
    return n.model({"x": [1, 3, 12, 12]}, ["out"])


def partitions(data: bytes) -> int:
    from ai_edge_litert.interpreter import Interpreter
    interp = Interpreter(model_content=data, num_threads=1)
    interp.allocate_tensors()
    return sum(o["op_name"] == "DELEGATE" for o in interp._get_ops_details())


@pytest.fixture(scope="module")
def quantized(tmp_path_factory):
    proto = tiny_addends()
    path = tmp_path_factory.mktemp("m") / "tiny_addends.onnx"
    onnx.save(proto, path)
    ir = load(str(path))
    samples = input_samples(proto, 8)
    qmodel, _ = quantize(ir, "int8", calibration=samples, report_samples=0)
    return ir, qmodel, samples


def test_constant_addends_are_within_xnnpack_scale_ratio(quantized):
    _, qmodel, _ = quantized
    addends = 0
    for op in qmodel.graph.ops:
        if op.type in ("ADD", "SUB"):
            out = float(op.outputs[0].quant.scale[0])
            for t in op.inputs:
                ratio = float(t.quant.scale[0]) / out
                assert XNNPACK_RATIO[0] <= ratio < XNNPACK_RATIO[1], f"{op.type} input {t.name}: ratio {ratio:.3g}"
                addends += t.is_constant
    assert addends == 2


def test_litert_runs_the_whole_int8_model_in_one_partition_close_to_float(quantized):
    from ai_edge_litert.interpreter import Interpreter
    ir, qmodel, samples = quantized
    data = qmodel.to_bytes()
    n = partitions(data)
    assert n == 1, f"litert split the model into {n} XNNPACK partitions"
    step = max(float(t.quant.scale[0]) for t in qmodel.graph.tensors()
               if t.quant is not None and not t.is_constant and t.dtype == "int8")
    runner = Interpreter(model_content=data, num_threads=1).get_signature_runner("serving_default")
    for feeds in samples[:3]:
        (want,) = ir.run(feeds).values()
        (got,) = runner(**feeds).values()
        assert float(np.max(np.abs(got - want))) <= 2 * step
