"""The TFLite schema as the IR sees it, over the generated bindings of the `tflite` package.

The bindings have reader accessors (Conv2DOptions.StrideW) and builder functions (Conv2DOptionsAddStrideW)
but no object API, so builtin options are (de)serialized by reflection: each options table's accessors,
in schema order, give its fields; an accessor's bytecode names the flatbuffers scalar type it reads and
whether it reads a vector or a string. IR option keys are the schema's snake_case field names; enum-typed
fields hold the enum's member name ("SAME", "RELU", "INT32").
"""
from __future__ import annotations

import functools
import importlib
import re
from dataclasses import dataclass

import flatbuffers
import numpy as np
import tflite

from edgepress.errors import EdgepressError


def _members(enum_class) -> dict[str, int]:
    return {k: v for k, v in vars(enum_class).items() if not k.startswith("_")}


OPERATORS: dict[str, int] = _members(tflite.BuiltinOperator)
OPERATOR_NAMES: dict[int, str] = {code: name for name, code in OPERATORS.items()}

# Builtin operator -> its options table (a member of the BuiltinOptions or BuiltinOptions2 union).
# Operators missing here (LOGISTIC, RELU, PRELU, TANH, ...) carry no options.
OPTIONS_TABLE: dict[str, str] = {
    "ADD": "AddOptions", "AVERAGE_POOL_2D": "Pool2DOptions", "CONCATENATION": "ConcatenationOptions",
    "CONV_2D": "Conv2DOptions", "DEPTHWISE_CONV_2D": "DepthwiseConv2DOptions",
    "DEPTH_TO_SPACE": "DepthToSpaceOptions", "DEQUANTIZE": "DequantizeOptions",
    "FULLY_CONNECTED": "FullyConnectedOptions", "L2_NORMALIZATION": "L2NormOptions",
    "L2_POOL_2D": "Pool2DOptions", "LOCAL_RESPONSE_NORMALIZATION": "LocalResponseNormalizationOptions",
    "LSH_PROJECTION": "LSHProjectionOptions", "LSTM": "LSTMOptions", "MAX_POOL_2D": "Pool2DOptions",
    "MUL": "MulOptions", "RESHAPE": "ReshapeOptions", "RESIZE_BILINEAR": "ResizeBilinearOptions",
    "RNN": "RNNOptions", "SOFTMAX": "SoftmaxOptions", "SPACE_TO_DEPTH": "SpaceToDepthOptions",
    "SVDF": "SVDFOptions", "CONCAT_EMBEDDINGS": "ConcatEmbeddingsOptions", "SKIP_GRAM": "SkipGramOptions",
    "CALL": "CallOptions", "EMBEDDING_LOOKUP_SPARSE": "EmbeddingLookupSparseOptions", "PAD": "PadOptions",
    "UNIDIRECTIONAL_SEQUENCE_RNN": "SequenceRNNOptions", "GATHER": "GatherOptions",
    "BATCH_TO_SPACE_ND": "BatchToSpaceNDOptions", "SPACE_TO_BATCH_ND": "SpaceToBatchNDOptions",
    "TRANSPOSE": "TransposeOptions", "MEAN": "ReducerOptions", "SUB": "SubOptions", "DIV": "DivOptions",
    "SQUEEZE": "SqueezeOptions", "UNIDIRECTIONAL_SEQUENCE_LSTM": "UnidirectionalSequenceLSTMOptions",
    "STRIDED_SLICE": "StridedSliceOptions", "BIDIRECTIONAL_SEQUENCE_RNN": "BidirectionalSequenceRNNOptions",
    "EXP": "ExpOptions", "TOPK_V2": "TopKV2Options", "SPLIT": "SplitOptions",
    "LOG_SOFTMAX": "LogSoftmaxOptions", "BIDIRECTIONAL_SEQUENCE_LSTM": "BidirectionalSequenceLSTMOptions",
    "CAST": "CastOptions", "MAXIMUM": "MaximumMinimumOptions", "ARG_MAX": "ArgMaxOptions",
    "MINIMUM": "MaximumMinimumOptions", "LESS": "LessOptions", "NEG": "NegOptions", "PADV2": "PadV2Options",
    "GREATER": "GreaterOptions", "GREATER_EQUAL": "GreaterEqualOptions", "LESS_EQUAL": "LessEqualOptions",
    "SELECT": "SelectOptions", "SLICE": "SliceOptions", "TRANSPOSE_CONV": "TransposeConvOptions",
    "SPARSE_TO_DENSE": "SparseToDenseOptions", "TILE": "TileOptions", "EXPAND_DIMS": "ExpandDimsOptions",
    "EQUAL": "EqualOptions", "NOT_EQUAL": "NotEqualOptions", "SUM": "ReducerOptions", "SHAPE": "ShapeOptions",
    "POW": "PowOptions", "ARG_MIN": "ArgMinOptions", "FAKE_QUANT": "FakeQuantOptions",
    "REDUCE_PROD": "ReducerOptions", "REDUCE_MAX": "ReducerOptions", "PACK": "PackOptions",
    "LOGICAL_OR": "LogicalOrOptions", "ONE_HOT": "OneHotOptions", "LOGICAL_AND": "LogicalAndOptions",
    "LOGICAL_NOT": "LogicalNotOptions", "UNPACK": "UnpackOptions", "REDUCE_MIN": "ReducerOptions",
    "FLOOR_DIV": "FloorDivOptions", "REDUCE_ANY": "ReducerOptions", "SQUARE": "SquareOptions",
    "ZEROS_LIKE": "ZerosLikeOptions", "FILL": "FillOptions", "FLOOR_MOD": "FloorModOptions",
    "RANGE": "RangeOptions", "RESIZE_NEAREST_NEIGHBOR": "ResizeNearestNeighborOptions",
    "LEAKY_RELU": "LeakyReluOptions", "SQUARED_DIFFERENCE": "SquaredDifferenceOptions",
    "MIRROR_PAD": "MirrorPadOptions", "ABS": "AbsOptions", "SPLIT_V": "SplitVOptions",
    "UNIQUE": "UniqueOptions", "REVERSE_V2": "ReverseV2Options", "ADD_N": "AddNOptions",
    "GATHER_ND": "GatherNdOptions", "COS": "CosOptions", "WHERE": "WhereOptions", "RANK": "RankOptions",
    "REVERSE_SEQUENCE": "ReverseSequenceOptions", "MATRIX_DIAG": "MatrixDiagOptions",
    "QUANTIZE": "QuantizeOptions", "MATRIX_SET_DIAG": "MatrixSetDiagOptions", "HARD_SWISH": "HardSwishOptions",
    "IF": "IfOptions", "WHILE": "WhileOptions", "NON_MAX_SUPPRESSION_V4": "NonMaxSuppressionV4Options",
    "NON_MAX_SUPPRESSION_V5": "NonMaxSuppressionV5Options", "SCATTER_ND": "ScatterNdOptions",
    "SELECT_V2": "SelectV2Options", "DENSIFY": "DensifyOptions", "SEGMENT_SUM": "SegmentSumOptions",
    "BATCH_MATMUL": "BatchMatMulOptions", "CUMSUM": "CumsumOptions", "CALL_ONCE": "CallOnceOptions",
    "BROADCAST_TO": "BroadcastToOptions", "RFFT2D": "Rfft2dOptions", "CONV_3D": "Conv3DOptions",
    "HASHTABLE": "HashtableOptions", "HASHTABLE_FIND": "HashtableFindOptions",
    "HASHTABLE_IMPORT": "HashtableImportOptions", "HASHTABLE_SIZE": "HashtableSizeOptions",
    "REDUCE_ALL": "ReducerOptions", "CONV_3D_TRANSPOSE": "Conv3DOptions", "VAR_HANDLE": "VarHandleOptions",
    "READ_VARIABLE": "ReadVariableOptions", "ASSIGN_VARIABLE": "AssignVariableOptions",
    "RANDOM_STANDARD_NORMAL": "RandomOptions", "BUCKETIZE": "BucketizeOptions", "RANDOM_UNIFORM": "RandomOptions",
    "MULTINOMIAL": "RandomOptions", "GELU": "GeluOptions", "DYNAMIC_UPDATE_SLICE": "DynamicUpdateSliceOptions",
    "UNSORTED_SEGMENT_PROD": "UnsortedSegmentProdOptions", "UNSORTED_SEGMENT_MAX": "UnsortedSegmentMaxOptions",
    "UNSORTED_SEGMENT_SUM": "UnsortedSegmentSumOptions", "ATAN2": "ATan2Options",
    "UNSORTED_SEGMENT_MIN": "UnsortedSegmentMinOptions", "SIGN": "SignOptions", "BITCAST": "BitcastOptions",
    "BITWISE_XOR": "BitwiseXorOptions", "RIGHT_SHIFT": "RightShiftOptions",
    # BuiltinOptions2 (the second union, for ops past the first union's 127 members)
    "STABLEHLO_CONCATENATE": "StablehloConcatenateOptions",
    "STABLEHLO_BROADCAST_IN_DIM": "StablehloBroadcastInDimOptions", "STABLEHLO_SLICE": "StablehloSliceOptions",
    "STABLEHLO_CONVOLUTION": "StablehloConvolutionOptions", "STABLEHLO_CUSTOM_CALL": "StablehloCustomCallOptions",
    "STABLEHLO_REDUCE": "StablehloReduceOptions", "STABLEHLO_SCATTER": "StablehloScatterOptions",
    "STABLEHLO_COMPARE": "StablehloCompareOptions", "STABLEHLO_DYNAMIC_SLICE": "StablehloDynamicSliceOptions",
    "STABLEHLO_PAD": "StablehloPadOptions", "STABLEHLO_IOTA": "StablehloIotaOptions",
    "STABLEHLO_DOT_GENERAL": "StablehloDotGeneralOptions", "STABLEHLO_REDUCE_WINDOW": "StablehloReduceWindowOptions",
    "STABLEHLO_SORT": "StablehloSortOptions", "STABLEHLO_WHILE": "StablehloWhileOptions",
    "STABLEHLO_GATHER": "StablehloGatherOptions", "STABLEHLO_TRANSPOSE": "StablehloTransposeOptions",
    "DILATE": "DilateOptions", "STABLEHLO_RNG_BIT_GENERATOR": "StablehloRngBitGeneratorOptions",
    "REDUCE_WINDOW": "ReduceWindowOptions", "STABLEHLO_COMPOSITE": "StableHLOCompositeOptions",
    "STABLEHLO_SHIFT_LEFT": "StablehloShiftLeftOptions",
}

# IR dtype (numpy name) <-> TensorType. INT4, BFLOAT16, RESOURCE and VARIANT have no numpy dtype here.
TENSOR_TYPES: dict[str, int] = {
    "float32": 0, "float16": 1, "int32": 2, "uint8": 3, "int64": 4, "string": 5, "bool": 6, "int16": 7,
    "complex64": 8, "int8": 9, "float64": 10, "complex128": 11, "uint64": 12, "uint32": 15, "uint16": 16,
}
DTYPES: dict[int, str] = {code: name for name, code in TENSOR_TYPES.items()}
TENSOR_TYPE_NAMES: dict[int, str] = {code: name for name, code in _members(tflite.TensorType).items()}

# Option fields whose value is a schema enum; the IR holds the member's name.
ENUM_FIELDS = {
    "padding": tflite.Padding, "fused_activation_function": tflite.ActivationFunctionType,
    "weights_format": tflite.FullyConnectedOptionsWeightsFormat, "kernel_type": tflite.LSTMKernelType,
    "type": tflite.LSHProjectionType, "combiner": tflite.CombinerType, "mode": tflite.MirrorPadMode,
    "in_data_type": tflite.TensorType, "out_data_type": tflite.TensorType, "output_type": tflite.TensorType,
    "out_type": tflite.TensorType, "idx_out_type": tflite.TensorType, "quantized_bias_type": tflite.TensorType,
    "key_dtype": tflite.TensorType, "value_dtype": tflite.TensorType,
    "reduce_function": tflite.ReduceWindowFunction, "algorithm": tflite.RngAlgorithm,
    "precision_config": tflite.StablehloPrecisionConfig,
    "comparison_direction": tflite.StablehloComparisonDirection,
    "compare_type": tflite.StablehloComparisonType,
    "composite_attributes_format": tflite.CustomOptionsFormat,
}

# flatbuffers scalar type named in an accessor's bytecode -> numpy dtype of the value.
_FLAG_DTYPES = {"BoolFlags": "bool", "Int8Flags": "int8", "Uint8Flags": "uint8", "Int16Flags": "int16",
                "Uint16Flags": "uint16", "Int32Flags": "int32", "Uint32Flags": "uint32", "Int64Flags": "int64",
                "Uint64Flags": "uint64", "Float32Flags": "float32", "Float64Flags": "float64"}
_ACCESSOR_HELPERS = ("Init", "GetRootAs")
_ACCESSOR_SUFFIXES = ("Length", "AsNumpy", "IsNone", "BufferHasIdentifier")


@dataclass(frozen=True)
class Field:
    name: str  # snake_case, as in schema.fbs and the IR
    accessor: str  # CamelCase, as in the generated bindings
    kind: str  # "scalar" | "vector" | "string"
    dtype: str  # numpy dtype of the scalar or of the vector's elements ("" for strings)


@dataclass(frozen=True)
class OptionsTable:
    name: str
    union: int  # 1: Operator.builtin_options, 2: Operator.builtin_options_2
    type_code: int  # member of BuiltinOptions / BuiltinOptions2
    cls: type
    module: object
    fields: tuple


def snake_case(camel: str) -> str:
    """StrideW -> stride_w, DilationWFactor -> dilation_w_factor, Seed2 -> seed2 (flatc's inverse)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", camel).lower()


def _field(cls, accessor: str) -> Field:
    code = getattr(cls, accessor).__code__
    names = set(code.co_names)
    flags = [n for n in code.co_names if n in _FLAG_DTYPES]
    if "String" in names:
        return Field(snake_case(accessor), accessor, "string", "")
    if not flags or "Indirect" in names:
        raise EdgepressError(f"{cls.__name__}.{accessor}: options fields holding tables are not supported")
    kind = "vector" if "Vector" in names else "scalar"
    return Field(snake_case(accessor), accessor, kind, _FLAG_DTYPES[flags[0]])


@functools.cache
def options_table(name: str) -> OptionsTable:
    module = importlib.import_module(f"tflite.{name}")
    cls = getattr(module, name)
    accessors = [a for a, f in vars(cls).items()
                 if callable(f) and not a.startswith(("_", *_ACCESSOR_HELPERS)) and not a.endswith(_ACCESSOR_SUFFIXES)]
    first, second = _members(tflite.BuiltinOptions), _members(tflite.BuiltinOptions2)
    union, code = (1, first[name]) if name in first else (2, second[name])
    return OptionsTable(name, union, code, cls, module, tuple(_field(cls, a) for a in accessors))


def operator_code(op_type: str) -> int:
    code = OPERATORS.get(op_type)
    if code is None:
        raise EdgepressError(f"unknown TFLite builtin operator '{op_type}'")
    return code


def table_for(op_type: str) -> OptionsTable | None:
    operator_code(op_type)
    name = OPTIONS_TABLE.get(op_type)
    return None if name is None else options_table(name)


# -- dtypes ----------------------------------------------------------------------------------------------

def tensor_type(dtype: str) -> int:
    """IR dtype name -> TensorType code."""
    code = TENSOR_TYPES.get(str(dtype))
    if code is None:
        raise EdgepressError(f"dtype '{dtype}' has no TFLite tensor type")
    return code


def tensor_type_name(dtype: str) -> str:
    """IR dtype name -> TensorType member name, as enum-typed options hold it ('float32' -> 'FLOAT32')."""
    return TENSOR_TYPE_NAMES[tensor_type(dtype)]


def dtype_of(code: int) -> str:
    """TensorType code -> IR dtype name."""
    name = DTYPES.get(code)
    if name is None:
        raise EdgepressError(f"tensor type {TENSOR_TYPE_NAMES.get(code, code)} is not supported")
    return name


# -- options: flatbuffer table -> IR dict ---------------------------------------------------------------

def _float32(value: float) -> float:
    """The shortest decimal that is the same float32 (0.2, not 0.20000000298023224)."""
    return float(str(np.float32(value)))


def _enum_name(field: Field, code: int) -> str:
    names = {v: k for k, v in _members(ENUM_FIELDS[field.name]).items()}
    if code not in names:
        raise EdgepressError(f"option {field.name}: {code} is not a member of {ENUM_FIELDS[field.name].__name__}")
    return names[code]


def _read_field(obj, field: Field):
    if field.kind == "string":
        value = getattr(obj, field.accessor)()
        return None if value is None else value.decode("utf-8")
    if field.kind == "vector":
        values = getattr(obj, field.accessor + "AsNumpy")()
        values = np.asarray([] if isinstance(values, int) else values, dtype=field.dtype)
        if field.name in ENUM_FIELDS:
            return [_enum_name(field, int(v)) for v in values]
        if field.dtype == "uint8":
            return values.tobytes()
        if field.dtype == "float32":
            return [_float32(v) for v in values]
        return values.tolist()
    value = getattr(obj, field.accessor)()
    if field.name in ENUM_FIELDS:
        return _enum_name(field, int(value))
    if field.dtype == "float32":
        return _float32(value)
    return bool(value) if field.dtype == "bool" else value


def read_options(op_type: str, union_type: int, union_table) -> dict:
    """An operator's options table (a flatbuffers Table from Operator.BuiltinOptions(), or None) -> IR dict.

    Fields absent from the table read as their schema defaults. union_type is the operator's
    BuiltinOptions(2)Type; it must name the op's own table (or NONE)."""
    table = table_for(op_type)
    if union_table is None or union_type == 0:
        return builtin_defaults(op_type)
    if table is None or union_type != table.type_code:
        expected = "none" if table is None else table.name
        raise EdgepressError(f"{op_type} carries options of union type {union_type}, expected {expected}")
    obj = table.cls()
    obj.Init(union_table.Bytes, union_table.Pos)
    return {f.name: _read_field(obj, f) for f in table.fields}


@functools.cache
def _defaults(table_name: str) -> tuple:
    """Defaults of every field, read back from an empty table so that they come from the schema itself."""
    table = options_table(table_name)
    builder = flatbuffers.Builder(64)
    getattr(table.module, f"{table_name}Start")(builder)
    builder.Finish(getattr(table.module, f"{table_name}End")(builder))
    obj = table.cls.GetRootAs(builder.Output(), 0)
    return tuple((f.name, _read_field(obj, f)) for f in table.fields)


def builtin_defaults(op_type: str) -> dict:
    """Complete default options of a builtin op (a fresh dict: callers may mutate it); {} for ops without."""
    table = table_for(op_type)
    if table is None:
        return {}
    return {k: list(v) if isinstance(v, list) else v for k, v in _defaults(table.name)}


# -- options: IR dict -> flatbuffer table ---------------------------------------------------------------

def _enum_code(op_type: str, field: Field, value) -> int:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    members = _members(ENUM_FIELDS[field.name])
    if value not in members:
        raise EdgepressError(f"{op_type}: option {field.name}={value!r} is not one of {sorted(members)}")
    return members[value]


def _vector_offset(builder, op_type: str, field: Field, value) -> int:
    if field.name in ENUM_FIELDS:
        value = [_enum_code(op_type, field, v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        value = np.frombuffer(value, dtype=np.uint8)
    return builder.CreateNumpyVector(np.ascontiguousarray(value, dtype=field.dtype).reshape(-1))


def write_options(builder, op_type: str, options: dict) -> tuple[int, int, int]:
    """Serialize an op's options -> (union 1 or 2, union type code, table offset); (1, 0, 0) for none.

    Unknown keys are errors (a misspelt option must not silently become its default)."""
    table = table_for(op_type)
    if table is None:
        if any(v is not None for v in options.values()):
            raise EdgepressError(f"{op_type} takes no builtin options, got {sorted(options)}")
        return 1, 0, 0
    fields = {f.name: f for f in table.fields}
    unknown = sorted(set(options) - set(fields))
    if unknown:
        raise EdgepressError(f"{op_type}: unknown option(s) {unknown}; {table.name} has {sorted(fields)}")
    # Vectors and strings must exist before the table that points at them.
    # An empty vector is the default and is left out, as an absent string is.
    options = {k: v for k, v in options.items() if v is not None and not (fields[k].kind == "vector" and len(v) == 0)}
    offsets = {}
    for f in table.fields:
        value = options.get(f.name)
        if value is None or f.kind == "scalar":
            continue
        if f.kind == "string":
            offsets[f.name] = builder.CreateString(value)
        else:
            offsets[f.name] = _vector_offset(builder, op_type, f, value)
    getattr(table.module, f"{table.name}Start")(builder)
    for f in table.fields:
        value = options.get(f.name)
        if value is None:
            continue
        add = getattr(table.module, f"{table.name}Add{f.accessor}")
        if f.kind != "scalar":
            add(builder, offsets[f.name])
        elif f.name in ENUM_FIELDS:
            add(builder, _enum_code(op_type, f, value))
        else:
            add(builder, np.dtype(f.dtype).type(value).item())
    return table.union, table.type_code, getattr(table.module, f"{table.name}End")(builder)
