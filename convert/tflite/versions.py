"""Operator versions and the minimum TFLite runtime a model needs, as data.

A builtin operator's version says which kernel features it needs (int8 inputs, dilation, half-pixel
centers...). The writer gives every op the lowest version that covers what it uses, as TFLite's converter
does, so that older runtimes (tflite-runtime 2.14) load our files. Rules are tried in order; the first that
matches decides; ops or cases not listed are version 1 (BROADCAST_TO starts at 2: its version 1 was
withdrawn). `MIN_RUNTIME` gives the first TFLite release that runs each (op, version), indexed by
version - 1; it fills the model's "min_runtime_version" metadata.
"""
from __future__ import annotations


def _dtype(tensors, i):
    t = tensors[i] if i < len(tensors) else None
    return None if t is None else t.dtype


def inp(i, *dtypes):
    return lambda op: _dtype(op.inputs, i) in dtypes


def out(i, *dtypes):
    return lambda op: _dtype(op.outputs, i) in dtypes


def opt(name, *values):
    """The option is set: truthy, or (with values) one of them."""
    return lambda op: op.options.get(name) in values if values else bool(op.options.get(name))


def all_of(*preds):
    return lambda op: all(p(op) for p in preds)


def any_of(*preds):
    return lambda op: any(p(op) for p in preds)


def rank_above(n, i=0):
    return lambda op: i < len(op.inputs) and op.inputs[i] is not None and op.inputs[i].rank > n


def broadcast_rank_above(n):
    """Binary op whose inputs differ in shape, at rank above n."""
    def pred(op):
        a, b = op.inputs[0], op.inputs[1] if len(op.inputs) > 1 else None
        return b is not None and a.shape != b.shape and max(a.rank, b.rank) > n
    return pred


def per_axis(i):
    def pred(op):
        t = op.inputs[i] if i < len(op.inputs) else None
        return t is not None and t.quant is not None and t.quant.per_axis
    return pred


def sparse(i):
    return lambda op: i < len(op.inputs) and op.inputs[i] is not None and op.inputs[i].sparsity is not None


def quantized(i):
    return lambda op: op.inputs[i] is not None and op.inputs[i].quant is not None and op.inputs[i].quant.scale.size


def n_inputs(n):
    return lambda op: len(op.inputs) == n


def grouped_conv(op):
    x, w = op.inputs[0], op.inputs[1]
    return x.shape[-1] is not None and w.shape[-1] is not None and x.shape[-1] != w.shape[-1]


def mul_rescale_at_least_one(op):
    """int8/uint8 MUL whose input scales' product is at least the output scale (version 3 kernels)."""
    ts = [op.inputs[0], op.inputs[1], op.outputs[0]]
    if any(t is None or t.quant is None or not t.quant.scale.size for t in ts):
        return False
    s1, s2, so = (float(t.quant.scale[0]) for t in ts)
    return so != 0 and s1 * s2 / so >= 1.0


def _bias_present(op):
    return len(op.inputs) == 4 and op.inputs[3] is not None


HYBRID = all_of(inp(0, "float32"), inp(1, "int8"), out(0, "float32"))
INT8 = inp(0, "int8")
INT16 = inp(0, "int16")
INT16_QUANT_BIAS = all_of(inp(0, "int16"), inp(1, "int8"), out(0, "int16"),
                          lambda op: op.options.get("quantized_bias_type", "FLOAT32") != "FLOAT32")
INT16_INT8 = [(INT16, 3), (INT8, 2)]

RULES = {
    "CONV_2D": [(INT16_QUANT_BIAS, 8), (grouped_conv, 6), (INT16, 4), (INT8, 3),
                (all_of(HYBRID, per_axis(1)), 5), (HYBRID, 2)],
    "DEPTHWISE_CONV_2D": [(INT16, 5), (all_of(HYBRID, per_axis(1)), 6), (HYBRID, 4), (INT8, 3),
                          (any_of(lambda op: op.options.get("dilation_w_factor", 1) != 1,
                                  lambda op: op.options.get("dilation_h_factor", 1) != 1), 2)],
    "FULLY_CONNECTED": [(all_of(HYBRID, per_axis(1)), 12), (INT16_QUANT_BIAS, 11), (sparse(1), 8), (INT16, 7),
                        (n_inputs(2), 6), (opt("keep_num_dims"), 5), (INT8, 4),
                        (all_of(HYBRID, opt("asymmetric_quantize_inputs")), 9), (HYBRID, 3),
                        (opt("weights_format", "SHUFFLED4x16INT8"), 2)],
    "GATHER": [(inp(1, "int16"), 6), (lambda op: op.options.get("batch_dims", 0) != 0, 5), (INT16, 4),
               (inp(0, "bool"), 3), (INT8, 2)],
    "SVDF": [(INT8, 3), (all_of(HYBRID, opt("asymmetric_quantize_inputs")), 4), (HYBRID, 2)],
    "SIGN": [(inp(0, "int32"), 2)],
    "MUL": [(any_of(all_of(INT16, lambda op: not quantized(0)(op)), inp(0, "uint32")), 7),
            (inp(0, "complex64"), 6), (inp(0, "int64"), 5), (INT16, 4), (mul_rescale_at_least_one, 3),
            (INT8, 2)],
    "MAX_POOL_2D": INT16_INT8,
    "AVERAGE_POOL_2D": INT16_INT8,
    "TRANSPOSE": [(rank_above(5), 6), (INT16, 5), (rank_above(4), 4), (inp(0, "bool"), 3), (INT8, 2)],
    "TRANSPOSE_CONV": [(all_of(inp(2, "int16"), inp(1, "int8"), out(0, "int16"),
                               lambda op: op.options.get("quantized_bias_type", "FLOAT32") != "FLOAT32"), 5),
                       (lambda op: op.options.get("fused_activation_function", "NONE") != "NONE", 4),
                       (_bias_present, 3), (inp(1, "int8"), 2)],
    "SPLIT": [(inp(1, "int16"), 4), (inp(1, "int32"), 3), (inp(1, "int8"), 2)],
    "SPARSE_TO_DENSE": [(inp(2, "int8", "uint8"), 3), (inp(2, "int64"), 2)],
    "SLICE": [(inp(0, "uint32"), 6), (rank_above(4), 5), (INT16, 4), (inp(0, "string"), 3), (INT8, 2)],
    "UNPACK": [(inp(0, "int8", "uint8"), 2), (inp(0, "bool"), 3), (INT16, 4)],
    "DEQUANTIZE": [(inp(0, "int16", "float16"), 3), (all_of(INT8, per_axis(0)), 5), (INT8, 2)],
    "QUANTIZE": [(lambda op: op.outputs[0].quant is not None and op.outputs[0].quant.per_axis, 3),
                 (out(0, "int16"), 2)],
    "FLOOR_DIV": [(inp(0, "int16", "int8"), 3), (inp(0, "float32"), 2)],
    "FLOOR_MOD": [(inp(0, "int16", "int8"), 2)],
    "L2_NORMALIZATION": [(out(0, "int8"), 2)],
    "ABS": [(inp(0, "int32"), 5), (all_of(INT16, quantized(0)), 3), (INT16, 4), (inp(0, "int8", "uint8"), 2)],
    "RELU": [(INT16, 3), (inp(0, "int8", "uint8"), 2)],
    "STRIDED_SLICE": [(opt("offset"), 8), (inp(0, "uint32"), 7),
                      (any_of(opt("ellipsis_mask"), opt("new_axis_mask")), 6), (inp(0, "string"), 5),
                      (rank_above(4), 4), (inp(0, "bool"), 3), (INT8, 2)],
    "REVERSE_V2": [(INT8, 3), (inp(0, "bool"), 2)],
    "RESIZE_BILINEAR": [(INT16, 4), (opt("half_pixel_centers"), 3), (INT8, 2)],
    "RESIZE_NEAREST_NEIGHBOR": [(INT16, 4), (any_of(opt("half_pixel_centers"), opt("align_corners")), 3),
                                (INT8, 2)],
    "MAXIMUM": [(INT16, 4), (broadcast_rank_above(4), 3), (INT8, 2)],
    "MINIMUM": [(INT16, 4), (broadcast_rank_above(4), 3), (INT8, 2)],
    "PACK": [(INT8, 2), (INT16, 3), (inp(0, "uint32"), 4)],
    "TILE": [(INT8, 3), (inp(0, "string"), 2)],
    "SQUEEZE": [(inp(0, "string"), 2)],
    "SPACE_TO_BATCH_ND": [(INT16, 4), (lambda op: op.inputs[0].rank != 4, 3), (INT8, 2)],
    "BATCH_TO_SPACE_ND": [(INT16, 4), (lambda op: op.inputs[0].rank != 4, 3), (INT8, 2)],
    "ADD": [(all_of(INT16, lambda op: not quantized(0)(op)), 5), (inp(0, "int64"), 4),
            (all_of(INT16, lambda op: not op.options.get("pot_scale_int16", True)), 3), (INT8, 2)],
    "SUB": [(all_of(INT16, lambda op: not op.options.get("pot_scale_int16", True)), 5), (inp(0, "int64"), 4),
            (broadcast_rank_above(4), 3), (INT8, 2)],
    "GATHER_ND": [(inp(0, "bool"), 5), (inp(1, "int16"), 4), (INT16, 3), (inp(0, "string"), 2)],
    "DIV": [(broadcast_rank_above(4), 2)],
    "TANH": INT16_INT8,
    "LOGISTIC": INT16_INT8,
    "FILL": [(inp(1, "float16"), 4), (inp(1, "int8", "int16"), 3), (inp(1, "bool", "string"), 2)],
    "EQUAL": [(INT16, 4), (inp(0, "string"), 3), (INT8, 2)],
    "NOT_EQUAL": [(inp(0, "string"), 3), (INT8, 2)],
    "LEAKY_RELU": [(INT16, 2)],
    "RANGE": [(inp(0, "int64"), 2)],
    "BATCH_MATMUL": [(INT16, 3), (INT8, 2), (all_of(HYBRID, opt("asymmetric_quantize_inputs")), 4)],
    "PAD": [(rank_above(4), 4), (INT16, 3), (INT8, 2)],
    "PADV2": [(rank_above(4), 4), (INT16, 3), (INT8, 2)],
    "CONCATENATION": [(inp(0, "uint32"), 4), (INT16, 3), (INT8, 2)],
    **{op: INT16_INT8 for op in ("SOFTMAX", "MEAN", "MIRROR_PAD", "REDUCE_MAX", "REDUCE_MIN", "RELU6", "RSQRT")},
    "ARG_MAX": [(inp(0, "bool"), 3), (INT8, 2)],
    "ARG_MIN": [(inp(0, "bool"), 3), (INT8, 2)],
    "SELECT": [(inp(1, "uint32"), 4), (any_of(*(rank_above(4, i) for i in range(3))), 3), (inp(1, "int8"), 2)],
    "LESS": INT16_INT8,
    "GREATER_EQUAL": INT16_INT8,
    "SELECT_V2": [(inp(1, "uint32"), 2)],
    **{op: [(INT8, 2)] for op in ("SPACE_TO_DEPTH", "SPLIT_V", "SUM", "LOG_SOFTMAX", "GREATER", "LESS_EQUAL",
                                  "SQUARED_DIFFERENCE", "DEPTH_TO_SPACE")},
    "TOPK_V2": [(INT16, 3), (INT8, 2)],
    "EXP": [(inp(0, "int8", "int16"), 2)],
    "LOG": [(inp(0, "int8", "int16"), 2)],
    "REDUCE_PROD": [(inp(0, "int8", "int16"), 2)],
    "BROADCAST_TO": [(inp(0, "int8", "int16"), 3), (lambda op: True, 2)],
    "CAST": [(any_of(inp(0, "float64", "float16"), out(0, "float64", "float16")), 5),
             (any_of(inp(0, "uint16"), out(0, "uint16")), 4), (any_of(INT8, out(0, "int8")), 3),
             (any_of(inp(0, "uint32"), out(0, "uint32")), 2)],
    "WHERE": [(lambda op: _dtype(op.inputs, 0) != "bool", 2)],
    "GELU": [(inp(0, "int8", "uint8"), 2)],
    "FAKE_QUANT": [(opt("narrow_range"), 2)],
}


def operator_version(op) -> int:
    """Lowest version of a builtin op that covers its dtypes and options (1 for custom ops)."""
    for pred, version in RULES.get(op.type, ()):
        if pred(op):
            return version
    return 1


# First TFLite release running each version of an op (index = version - 1); None where that version has no
# entry. Ops not listed do not constrain the runtime.
MIN_RUNTIME = {
    "AVERAGE_POOL_2D": ("1.5.0", "1.14.0", "2.3.0"),
    "BATCH_MATMUL": ("2.3.0", "2.3.0", "2.4.0", "2.5.0"),
    "BROADCAST_TO": (None, "2.5.0", "2.5.0"),
    "CONV_2D": ("1.5.0", "1.14.0", "1.14.0", "2.3.0", "2.4.0", "2.9.0"),
    "DEPTHWISE_CONV_2D": ("1.5.0", "1.12.0", "1.14.0", "2.2.0", "2.3.0", "2.3.0"),
    "ADD": ("1.5.0", "1.14.0", "2.4.0", "2.6.0"),
    "ADD_N": ("1.14.0",),
    "SPACE_TO_BATCH_ND": ("1.6.0", "1.14.0", "2.3.0"),
    "SUB": ("1.6.0", "1.14.0", "2.3.0", "2.4.0", "2.4.0"),
    "DENSIFY": ("2.2.0",),
    "DIV": ("1.6.0", "2.3.0"),
    "BATCH_TO_SPACE_ND": ("1.6.0", "1.14.0", "2.3.0"),
    "CAST": ("1.5.0", "2.7.0", "2.8.0", "2.9.0"),
    "CONCATENATION": ("1.5.0", "1.14.0", "2.3.0"),
    "DEPTH_TO_SPACE": ("2.1.0", "2.5.0"),
    "EMBEDDING_LOOKUP": ("1.13.0", "1.14.0", "1.14.0"),
    "EMBEDDING_LOOKUP_SPARSE": ("1.5.0",),
    "FAKE_QUANT": ("1.5.0", "1.10.0"),
    "FULLY_CONNECTED": ("1.5.0", "1.10.0", "1.14.0", "1.14.0", "2.0.0", "2.1.0", "2.3.0", "2.3.0", "2.3.0"),
    "GATHER": ("1.6.0", "1.14.0", "1.15.0", "2.4.0", "2.5.0"),
    "GATHER_ND": ("1.14.0", "2.3.0", "2.5.0"),
    "HASHTABLE_LOOKUP": ("1.5.0",),
    "SVDF": ("1.5.0", "1.14.0", "2.2.0", "2.3.0"),
    "L2_NORMALIZATION": ("1.5.0", "1.14.0"),
    "L2_POOL_2D": ("1.5.0",),
    "LOCAL_RESPONSE_NORMALIZATION": ("1.5.0",),
    "MAX_POOL_2D": ("1.5.0", "1.14.0", "2.3.0"),
    "MAXIMUM": ("1.14.0", "1.14.0", "2.3.0", "2.3.0"),
    "MINIMUM": ("1.14.0", "1.14.0", "2.3.0", "2.3.0"),
    "MUL": ("1.5.0", "1.14.0", "1.15.0", "2.3.0", "2.6.0"),
    "NON_MAX_SUPPRESSION_V4": ("2.1.0",),
    "NON_MAX_SUPPRESSION_V5": ("2.1.0",),
    "PAD": ("1.5.0", "1.14.0", "2.4.0", "2.6.0"),
    "TILE": ("1.10.1", "2.2.0", "2.8.0"),
    "PADV2": ("1.9.0", "1.14.0", "2.4.0", "2.6.0"),
    "RESHAPE": ("1.5.0",),
    "SOFTMAX": ("1.5.0", "1.14.0", "2.3.0"),
    "SPACE_TO_DEPTH": ("1.5.0", "1.14.0"),
    "TRANSPOSE": ("1.6.0", "1.14.0", "1.15.0", "2.3.0", "2.4.0"),
    "LSTM": ("1.7.0", "1.10.0", "1.14.0", "2.3.0"),
    "UNIDIRECTIONAL_SEQUENCE_LSTM": ("1.13.1", "1.14.0", "2.3.0"),
    "BIDIRECTIONAL_SEQUENCE_LSTM": ("1.14.0", "1.14.0", "1.14.0"),
    "BIDIRECTIONAL_SEQUENCE_RNN": ("1.14.0", "1.14.0", "2.3.0"),
    "MEAN": ("1.6.0", "1.14.0", "2.4.0"),
    "SUM": ("1.10.0", "1.15.0"),
    "REDUCE_MAX": ("1.11.0", "1.14.0", "2.5.0"),
    "REDUCE_MIN": ("1.11.0", "1.14.0", "2.5.0"),
    "REDUCE_PROD": ("1.11.0", "2.6.0"),
    "REDUCE_ANY": ("1.11.0",),
    "RELU6": ("1.5.0", "1.14.0", "2.5.0"),
    "RESIZE_BILINEAR": ("1.7.0", "1.14.0", "2.2.0", "2.5.0"),
    "RESIZE_NEAREST_NEIGHBOR": ("1.13.1", "1.14.0", "2.3.0", "2.4.0"),
    "RNN": ("1.5.0", "1.14.0", "2.3.0"),
    "SKIP_GRAM": ("1.5.0",),
    "SQUEEZE": ("1.6.0", "2.5.0"),
    "SPLIT": ("1.5.0", "1.14.0", "1.14.0", "2.3.0"),
    "SPLIT_V": ("1.13.1", "2.3.0"),
    "STRIDED_SLICE": ("1.6.0", "1.14.0", "2.1.0", "2.2.0", "2.5.0", "2.6.0"),
    "TOPK_V2": ("1.7.0", "1.14.0"),
    "ARG_MAX": ("1.9.0", "1.14.0", "2.9.0"),
    "ARG_MIN": ("1.9.0", "1.14.0", "2.9.0"),
    "TRANSPOSE_CONV": ("1.9.0", "2.2.0", "2.3.0"),
    "SPARSE_TO_DENSE": ("1.9.0", "1.14.0", "1.15.0"),
    "EXPAND_DIMS": ("1.10.0",),
    "PACK": ("1.11.0", "1.14.0", "2.3.0"),
    "SHAPE": ("1.10.0",),
    "SLICE": ("1.14.0", "1.14.0", "1.14.0", "2.4.0", "2.5.0"),
    "TANH": ("1.14.0", "1.14.0", "2.3.0"),
    "ONE_HOT": ("1.11.0",),
    "UNPACK": ("1.11.0", "1.14.0", "2.2.0", "2.3.0"),
    "LEAKY_RELU": ("1.13.1", "2.3.0"),
    "LOGISTIC": ("1.14.0", "1.14.0", "2.3.0"),
    "LOG_SOFTMAX": ("1.14.0", "1.14.0"),
    "LSH_PROJECTION": ("1.5.0",),
    "SQUARED_DIFFERENCE": ("1.13.1", "2.5.0"),
    "MIRROR_PAD": ("1.13.1", "2.3.0"),
    "UNIQUE": ("1.14.0",),
    "UNIDIRECTIONAL_SEQUENCE_RNN": ("1.14.0", "1.14.0", "2.3.0"),
    "WHERE": ("1.14.0", "2.8.0"),
    "DEQUANTIZE": ("1.13.1", "1.14.0", "1.15.0", "2.2.0", "2.7.0"),
    "REVERSE_SEQUENCE": ("1.14.0",),
    "EQUAL": ("1.14.0", "1.14.0", "2.3.0"),
    "NOT_EQUAL": ("1.14.0", "1.14.0", "2.3.0"),
    "GREATER": ("1.14.0", "1.14.0"),
    "GREATER_EQUAL": ("1.14.0", "1.14.0"),
    "LESS": ("1.14.0", "1.14.0"),
    "LESS_EQUAL": ("1.14.0", "1.14.0"),
    "SCATTER_ND": ("2.1.0",),
    "SEGMENT_SUM": ("2.2.0",),
    "SELECT": ("1.14.0", "1.14.0"),
    "SELECT_V2": ("2.2.0",),
    "IF": ("1.15.0",),
    "FLOOR_DIV": ("1.14.0", "1.14.0"),
    "FLOOR": ("1.9.0",),
    "CEIL": ("1.14.0",),
    "MATRIX_DIAG": ("1.14.0",),
    "MATRIX_SET_DIAG": ("1.14.0",),
    "ELU": ("1.14.0",),
    "QUANTIZE": ("1.14.0", "1.15.0", "2.7.0"),
    "ROUND": ("1.14.0",),
    "RELU": ("1.5.0", "2.1.0", "2.5.0"),
    "RELU_N1_TO_1": ("1.5.0",),
    "RELU_0_TO_1": ("2.10.0",),
    "PRELU": ("1.8.0",),
    "EXP": ("1.7.0",),
    "COS": ("1.14.0",),
    "NEG": ("1.9.0",),
    "POW": ("1.10.0",),
    "LOGICAL_OR": ("1.11.0",),
    "LOGICAL_AND": ("1.11.0",),
    "LOGICAL_NOT": ("1.11.0",),
    "FLOOR_MOD": ("1.13.0",),
    "RANGE": ("1.13.0",),
    "SIN": ("1.9.0",),
    "LOG": ("1.14.0",),
    "SQRT": ("1.10.0",),
    "RSQRT": ("1.10.0", "2.5.0"),
    "SQUARE": ("1.12.0",),
    "ZEROS_LIKE": ("1.12.0",),
    "ABS": ("1.13.0", "2.4.0", "2.5.0", "2.6.0"),
    "HARD_SWISH": ("1.15.0",),
    "FILL": ("1.13.0", "2.3.0", "2.5.0"),
    "REVERSE_V2": ("1.14.0", "2.2.0", "2.5.0"),
    "RANK": ("1.14.0",),
    "WHILE": ("1.15.0",),
    "CUMSUM": ("2.4.0",),
    "CALL_ONCE": ("2.5.0",),
    "RFFT2D": ("2.5.0",),
    "CONV_3D": ("2.5.0",),
    "IMAG": ("2.5.0",),
    "REAL": ("2.5.0",),
    "COMPLEX_ABS": ("2.5.0",),
    "HASHTABLE": ("2.5.0",),
    "HASHTABLE_FIND": ("2.5.0",),
    "HASHTABLE_IMPORT": ("2.5.0",),
    "HASHTABLE_SIZE": ("2.5.0",),
    "REDUCE_ALL": ("2.6.0",),
    "CONV_3D_TRANSPOSE": ("2.6.0",),
    "VAR_HANDLE": ("2.6.0",),
    "READ_VARIABLE": ("2.6.0",),
    "ASSIGN_VARIABLE": ("2.6.0",),
    "BROADCAST_ARGS": ("2.6.0",),
    "RANDOM_STANDARD_NORMAL": ("2.8.0",),
    "BUCKETIZE": ("2.8.0",),
    "RANDOM_UNIFORM": ("2.8.0",),
    "MULTINOMIAL": ("2.8.0",),
    "GELU": ("2.9.0", "2.9.0"),
    "DYNAMIC_UPDATE_SLICE": ("2.9.0",),
    "UNSORTED_SEGMENT_PROD": ("2.10.0",),
    "UNSORTED_SEGMENT_MAX": ("2.10.0",),
    "UNSORTED_SEGMENT_MIN": ("2.11.0",),
    "UNSORTED_SEGMENT_SUM": ("2.10.0",),
    "ATAN2": ("2.10.0",),
}


def _release(version: str) -> tuple:
    return tuple(int(p) for p in version.split("."))


def min_runtime_version(op_versions) -> str:
    """Highest first-release over (op type, version) pairs; "" when none constrains the runtime."""
    found = [MIN_RUNTIME[op][v - 1] for op, v in op_versions if op in MIN_RUNTIME and v <= len(MIN_RUNTIME[op])]
    found = [r for r in found if r is not None]
    return max(found, key=_release) if found else ""
