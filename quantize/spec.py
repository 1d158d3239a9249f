"""The TFLite integer quantization specification as data: which ops have integer kernels, where their
weights and biases are, and what their output parameters must be.

An op not listed here has no integer kernel we target: it stays float between DEQUANTIZE and QUANTIZE.
Float inputs that are neither weights nor biases are activations (or activation-like constants, quantized
per tensor); integer inputs (shapes, axes, indices) are left alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

# How an op's float output parameters are chosen.
FREE = "free"      # from the calibrated range of the output
SAME = "same"      # equal to the (first float) input's: the kernel moves values without rescaling
SHARED = "shared"  # all float inputs and the output share one set of parameters (covering them all)
FIXED = "fixed"    # set by the kernel (FIXED_OUTPUT)


@dataclass(frozen=True)
class Rule:
    output: str = FREE
    weights: dict = field(default_factory=dict)  # input index -> per-channel axis (None: per tensor)
    bias: tuple | None = None  # (bias index, activation input index, weight input index)
    int16: bool = True  # has an int16x8 kernel
    int16_options: dict = field(default_factory=dict)  # option values the int16 kernel needs


CONV = Rule(weights={1: 0}, bias=(2, 0, 1))
# ADD/SUB's int16 kernel takes arbitrary scales only when told the scales are not powers of two.
ARITH16 = Rule(int16_options={"pot_scale_int16": False})

RULES: dict[str, Rule] = {
    "CONV_2D": CONV,
    "DEPTHWISE_CONV_2D": Rule(weights={1: 3}, bias=(2, 0, 1)),
    "FULLY_CONNECTED": CONV,
    "TRANSPOSE_CONV": Rule(weights={1: 0}, bias=(3, 2, 1)),
    "BATCH_MATMUL": Rule(weights={1: None}),
    "ADD": ARITH16,
    "SUB": ARITH16,
    "MUL": Rule(),
    "SQUARED_DIFFERENCE": Rule(int16=False),
    "MEAN": Rule(),
    "SUM": Rule(),
    "RELU": Rule(),
    "RELU6": Rule(),
    "RELU_N1_TO_1": Rule(int16=False),  # litert: "Only float32, uint8, int8 supported"
    "LEAKY_RELU": Rule(),
    "PRELU": Rule(int16=False),
    "HARD_SWISH": Rule(int16=False),
    "ELU": Rule(int16=False),
    "GELU": Rule(int16=False),
    "RSQRT": Rule(int16=False),  # int16 RSQRT (op version 3) is newer than tflite-runtime 2.14
    "ABS": Rule(),
    "LOGISTIC": Rule(FIXED),
    "TANH": Rule(FIXED),
    "SOFTMAX": Rule(FIXED),
    "LOG_SOFTMAX": Rule(FIXED, int16=False),
    "L2_NORMALIZATION": Rule(FIXED, int16=False),
    "ARG_MAX": Rule(int16=False),  # TFLite's ARG_MAX/ARG_MIN reject int16 input
    "ARG_MIN": Rule(int16=False),
    **{name: Rule(SAME) for name in (
        "MAX_POOL_2D", "AVERAGE_POOL_2D", "RESHAPE", "SQUEEZE", "EXPAND_DIMS", "TRANSPOSE", "PAD", "PADV2",
        "GATHER", "GATHER_ND", "SLICE", "STRIDED_SLICE", "SPLIT", "SPLIT_V", "RESIZE_BILINEAR",
        "RESIZE_NEAREST_NEIGHBOR", "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND", "TILE", "BROADCAST_TO", "UNPACK",
        "REDUCE_MAX", "REDUCE_MIN", "MIRROR_PAD", "SHAPE")},
    **{name: Rule(SAME, int16=False) for name in ("SPACE_TO_DEPTH", "DEPTH_TO_SPACE")},
    **{name: Rule(SHARED) for name in ("CONCATENATION", "PACK", "MAXIMUM", "MINIMUM", "SELECT", "SELECT_V2")},
}

# (scale, zero point) the kernels produce, by (op, activation type).
FIXED_OUTPUT = {
    ("LOGISTIC", "int8"): (1 / 256, -128),
    ("TANH", "int8"): (1 / 128, 0),
    ("SOFTMAX", "int8"): (1 / 256, -128),
    ("LOG_SOFTMAX", "int8"): (16 / 256, 127),
    ("L2_NORMALIZATION", "int8"): (1 / 128, 0),
    ("LOGISTIC", "int16"): (1 / 32768, 0),
    ("TANH", "int16"): (1 / 32768, 0),
    ("SOFTMAX", "int16"): (1 / 32768, 0),
}


# int16x8 FULLY_CONNECTED keeps one weight scale: tflite-runtime 2.14's int16 kernel reads only the first
# scale of per-channel weights (its results are garbage), while it handles per-tensor ones.
INT16_WEIGHTS = {"FULLY_CONNECTED": {1: None}}


def rule_for(op_type: str, activation: str) -> Rule | None:
    rule = RULES.get(op_type)
    if rule is None or (activation == "int16" and not rule.int16):
        return None
    if activation == "int16" and op_type in INT16_WEIGHTS:
        return replace(rule, weights=INT16_WEIGHTS[op_type])
    return rule
