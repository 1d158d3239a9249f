"""Hybrid (dynamic-range) kernels: float activations with constant int8 weights in CONV_2D, DEPTHWISE_CONV_2D,
FULLY_CONNECTED and BATCH_MATMUL, vs ai-edge-litert and the reference evaluator.

The kernels quantize their float input on the fly (symmetric, or asymmetric per row with
asymmetric_quantize_inputs / for per-channel convolutions), accumulate in integers and rescale by input scale
x weight scale. Oracles and tolerances, as max |ours - oracle| / max |oracle| per output:
  - TFLite's reference kernels (BUILTIN_REF): 1e-6, i.e. equal up to float rounding; the on-the-fly
    quantization matches bit for bit.
  - TFLite's builtin kernels without delegates: 1e-5 (its optimized GEMM epilogues round the float
    rescaling in another order).
  - ai-edge-litert's default interpreter (XNNPACK): 2e-2; XNNPACK quantizes every input row asymmetrically
    with its own rounding of the row parameters, so inputs quantized symmetrically by TFLite land on other
    levels (measured up to 7.5e-3).
  - edgepress's reference evaluator (convert/reference): 3e-2. It fake-quantizes rows in NumPy, and a
    convolution's input symmetrically where TFLite's per-channel kernel uses asymmetric rows (measured
    1.6e-2 on CONV_2D, 6e-3 on DEPTHWISE_CONV_2D, 3e-3 on BATCH_MATMUL).
Sizes straddle the GEMM tiles (4x8 micro-tiles, 64-pixel im2col blocks) and exercise padding, strides,
dilation, groups, depth multipliers, batches, missing FULLY_CONNECTED biases (TFLite's hybrid convolution
requires one), fused activations and all-zero input rows.
"""
import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from edgepress.convert.reference import evaluate
from edgepress.convert.tflite.reader import read_tflite

from kernel_harness import const, edge_run, finalize, inp, litert_run, out, rand

TOLERANCE = {"reference kernels": 1e-6, "builtin kernels": 1e-5, "XNNPACK": 2e-2, "reference evaluator": 3e-2}


def int8_weights(rng, shape, axis, per_channel=True):
    w = rand(rng, shape, "int8")
    w[w == -128] = -127  # symmetric weights, as the quantizer writes them
    return w, rng.uniform(0.002, 0.02, shape[axis] if per_channel else 1).astype(np.float32)


def default_run(model: bytes, feeds: list) -> list:
    interp = Interpreter(model_content=model, num_threads=1)
    interp.allocate_tensors()
    for detail, value in zip(interp.get_input_details(), feeds):
        interp.set_tensor(detail["index"], value)
    interp.invoke()
    return [interp.get_tensor(d["index"]).copy() for d in interp.get_output_details()]


def evaluator_run(model: bytes, feeds: list) -> list:
    graph = read_tflite(model).graph
    values = evaluate(graph, {t.name: x for t, x in zip(graph.inputs, feeds)})
    return [values[t.name] for t in graph.outputs]


def relative_error(ours, oracle) -> float:
    return float(np.max(np.abs(ours.astype(np.float64) - oracle)) / max(float(np.max(np.abs(oracle))), 1e-30))


def check_hybrid(op, inputs, feeds, options):
    model, ref = finalize(op, inputs, [out()], options, 1, feeds, "ref")
    oracles = {"reference kernels": ref, "builtin kernels": litert_run(model, feeds, "builtin"),
               "XNNPACK": default_run(model, feeds), "reference evaluator": evaluator_run(model, feeds)}
    for threads in (1, 2):
        ours = edge_run(model, feeds, threads)
        for name, outputs in oracles.items():
            assert ours[0].shape == outputs[0].shape and ours[0].dtype == np.float32
            err = relative_error(ours[0], outputs[0])
            assert err <= TOLERANCE[name], f"{op} threads={threads} vs {name}: relative error {err:.2e}"


def fc_options(asymmetric, act="NONE", keep_num_dims=False):
    return {"fused_activation_function": act, "asymmetric_quantize_inputs": asymmetric,
            "keep_num_dims": keep_num_dims}


FC = [
    # (input shape, units, per-channel weights, asymmetric inputs, activation, bias)
    ((1, 40), 17, False, True, "NONE", True),
    ((3, 40), 17, False, False, "RELU", True),
    ((9, 70), 33, False, True, "RELU6", False),  # two row blocks of the batch
    ((2, 3, 24), 8, True, True, "NONE", True),   # per-channel weight scales (FULLY_CONNECTED version 12)
    ((3, 40), 17, True, False, "NONE", True),
    ((5, 300), 12, False, False, "NONE", True),
]


@pytest.mark.parametrize("x_shape,units,per_channel,asymmetric,act,with_bias", FC)
def test_fully_connected(x_shape, units, per_channel, asymmetric, act, with_bias):
    rng = np.random.default_rng(1)
    x = rand(rng, x_shape, low=-2.0, high=1.0)
    w, ws = int8_weights(rng, (units, x_shape[-1]), 0, per_channel)
    bias = const(rand(rng, (units,))) if with_bias else None
    check_hybrid("FULLY_CONNECTED", [inp(x.shape), const(w, scale=ws), bias], [x], fc_options(asymmetric, act))


def test_fully_connected_zero_rows_and_keep_num_dims():
    # All-zero input rows quantize to scale 1, zero point 0 (output = bias).
    rng = np.random.default_rng(2)
    x = rand(rng, (2, 3, 20))
    x[0, 1] = 0.0
    x[1] = 0.0
    w, ws = int8_weights(rng, (6, 20), 0, False)
    for asymmetric in (False, True):
        check_hybrid("FULLY_CONNECTED", [inp(x.shape), const(w, scale=ws), const(rand(rng, (6,)))], [x],
                     fc_options(asymmetric, keep_num_dims=True))


def conv_options(padding="SAME", stride=(1, 1), dilation=(1, 1), act="NONE"):
    return {"padding": padding, "stride_h": stride[0], "stride_w": stride[1], "dilation_h_factor": dilation[0],
            "dilation_w_factor": dilation[1], "fused_activation_function": act}


CONV = [
    # (input NHWC, filter OHWI, stride, dilation, padding, activation, per-channel)
    ((2, 9, 9, 5), (7, 3, 3, 5), (2, 2), (1, 1), "SAME", "RELU", True),
    ((2, 9, 9, 5), (7, 3, 3, 5), (2, 2), (1, 1), "SAME", "NONE", False),  # equal scales: symmetric inputs
    ((1, 17, 13, 3), (16, 5, 3, 3), (2, 1), (1, 1), "SAME", "RELU6", True),
    ((1, 12, 12, 4), (8, 3, 3, 4), (1, 1), (2, 2), "VALID", "NONE", True),
    ((1, 11, 9, 17), (24, 1, 1, 17), (1, 1), (1, 1), "VALID", "NONE", True),  # 1x1: input used as the matrix
    ((1, 8, 8, 12), (9, 3, 3, 4), (1, 1), (1, 1), "SAME", "NONE", True),     # grouped (3 groups)
]


@pytest.mark.parametrize("x_shape,w_shape,stride,dilation,padding,act,per_channel", CONV)
def test_conv(x_shape, w_shape, stride, dilation, padding, act, per_channel):
    rng = np.random.default_rng(3)
    x = rand(rng, x_shape)
    w, ws = int8_weights(rng, w_shape, 0, per_channel)
    if not per_channel:
        ws = np.repeat(ws, w_shape[0])  # one scale per channel, all equal
    check_hybrid("CONV_2D", [inp(x.shape), const(w, scale=ws), const(rand(rng, (w_shape[0],)))], [x],
                 conv_options(padding, stride, dilation, act))


def test_conv_non_negative_and_zero_input():
    # Non-negative input puts the asymmetric zero point at -128 (so padded taps read -128); an all-zero batch
    # item quantizes to scale 1, zero point 0.
    rng = np.random.default_rng(4)
    x = rand(rng, (2, 10, 10, 6), low=0.0, high=3.0)
    x[1] = 0.0
    w, ws = int8_weights(rng, (12, 3, 3, 6), 0)
    check_hybrid("CONV_2D", [inp(x.shape), const(w, scale=ws), const(rand(rng, (12,)))], [x], conv_options())


DEPTHWISE = [
    # (input NHWC, multiplier, stride, padding, activation)
    ((2, 9, 9, 8), 1, (1, 1), "SAME", "NONE"),
    ((1, 7, 7, 4), 2, (2, 2), "VALID", "RELU"),
    ((1, 12, 10, 19), 1, (2, 2), "SAME", "RELU6"),
]


@pytest.mark.parametrize("x_shape,multiplier,stride,padding,act", DEPTHWISE)
def test_depthwise_conv(x_shape, multiplier, stride, padding, act):
    rng = np.random.default_rng(5)
    x = rand(rng, x_shape)
    channels = x_shape[3] * multiplier
    w, ws = int8_weights(rng, (1, 3, 3, channels), 3)
    options = {**conv_options(padding, stride, act=act), "depth_multiplier": multiplier}
    check_hybrid("DEPTHWISE_CONV_2D", [inp(x.shape), const(w, scale=ws, axis=3), const(rand(rng, (channels,)))], [x],
                 options)


BATCH_MATMUL = [
    # (x shape, y shape, adj_x, adj_y, asymmetric inputs)
    ((2, 6, 10), (10, 12), False, False, False),
    ((2, 6, 10), (10, 12), False, False, True),
    ((2, 10, 6), (10, 12), True, False, True),
    ((3, 5, 24), (9, 24), False, True, False),
    ((2, 1, 5, 16), (2, 16, 7), False, False, True),  # weights with a batch axis, broadcast over x's
]


@pytest.mark.parametrize("x_shape,y_shape,adj_x,adj_y,asymmetric", BATCH_MATMUL)
def test_batch_matmul(x_shape, y_shape, adj_x, adj_y, asymmetric):
    rng = np.random.default_rng(6)
    x = rand(rng, x_shape, low=-1.0, high=2.0)
    y, ys = int8_weights(rng, y_shape, 0, False)
    check_hybrid("BATCH_MATMUL", [inp(x.shape), const(y, scale=ys)], [x],
                 {"adj_x": adj_x, "adj_y": adj_y, "asymmetric_quantize_inputs": asymmetric})
