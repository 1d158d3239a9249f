"""`Interpreter`: a drop-in for tf.lite.Interpreter / tflite_runtime.interpreter.Interpreter over the C core.

Same constructor, methods, detail dicts and error types (ValueError for bad models and arguments,
RuntimeError for failures while allocating or running). Numpy views returned by `tensor()` point into the
interpreter's arena; like TFLite, allocate_tensors() and resize_tensor_input() refuse to run while such a
view is alive, because they replace the arena."""
import ctypes
import os
import sys

import numpy as np

from . import _capi

# ep_dtype (TFLite TensorType) -> numpy type; None where numpy has no equivalent.
_NUMPY_TYPES = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64, 5: np.object_, 6: np.bool_,
                7: np.int16, 8: np.complex64, 9: np.int8, 10: np.float64, 11: np.complex128, 12: np.uint64,
                15: np.uint32, 16: np.uint16}
_TYPE_NAMES = {np.dtype(t): name for t, name in [
    (np.float32, "FLOAT32"), (np.float16, "FLOAT16"), (np.int32, "INT32"), (np.uint8, "UINT8"),
    (np.int64, "INT64"), (np.bool_, "BOOL"), (np.int16, "INT16"), (np.complex64, "COMPLEX64"),
    (np.int8, "INT8"), (np.float64, "FLOAT64"), (np.complex128, "COMPLEX128"), (np.uint64, "UINT64"),
    (np.uint32, "UINT32"), (np.uint16, "UINT16")]}
_INDEX_TYPES = {2: np.int32, 16: np.uint16, 3: np.uint8}


def _type_name(dtype: np.dtype) -> str:
    if dtype.kind in "OSU":
        return "STRING"
    return _TYPE_NAMES.get(dtype, str(dtype).upper())


class _ArenaToken:
    """Referenced by every numpy view into the arena; its reference count tells whether views are alive."""


class Interpreter:
    """Runs a .tflite model with edgepress's C runtime; see tf.lite.Interpreter for the API."""

    def __init__(self, model_path=None, model_content=None, experimental_delegates=None, num_threads=None,
                 experimental_op_resolver_type=None, experimental_preserve_all_tensors=False, **experimental):
        unknown = sorted(k for k in experimental if not k.startswith("experimental_"))
        if unknown:
            raise TypeError(f"Interpreter() got unexpected keyword argument(s): {', '.join(unknown)}")
        if num_threads is not None:
            if not isinstance(num_threads, int):
                raise ValueError("type of num_threads should be int")
            if num_threads < 1:
                raise ValueError("num_threads should >= 1")
        self._lib = _capi.lib()
        self._handle = None
        self._model = ctypes.c_void_p()
        if model_path and not model_content:
            status = self._lib.ep_model_load_file(os.fsencode(os.fspath(model_path)), ctypes.byref(self._model))
        elif model_content and not model_path:
            status = self._load_content(model_content)
        elif not model_content and not model_path:
            raise ValueError("`model_path` or `model_content` must be specified.")
        else:
            raise ValueError("Can't both provide `model_path` and `model_content`")
        if status:
            raise ValueError(_capi.last_error())
        # Every op is timed at each invoke (two clock reads per op) unless experimental_profile=False; see profile().
        options = _capi.Options(num_threads or 1, int(bool(experimental.get("experimental_profile", True))),
                                int(bool(experimental_preserve_all_tensors)))
        handle = ctypes.c_void_p()
        status = self._lib.ep_interpreter_create(self._model, ctypes.byref(options), ctypes.byref(handle))
        self._lib.ep_model_release(self._model)
        self._model = None
        if status:
            raise ValueError(_capi.last_error())
        self._handle = handle
        self._token = _ArenaToken()
        self._signature_defs = self.get_signature_list()

    def _load_content(self, content) -> int:
        # Immutable bytes are used in place (we keep a reference); anything else is copied once by the core.
        flags = _capi.LOAD_BORROW if isinstance(content, bytes) else 0
        data = content if isinstance(content, bytes) else bytes(content)
        self._model_content = data
        return self._lib.ep_model_load_memory(data, len(data), flags, ctypes.byref(self._model))

    def __del__(self):
        if getattr(self, "_handle", None):
            self._lib.ep_interpreter_destroy(self._handle)
            self._handle = None

    # ---- life cycle ----

    def _ensure_safe(self):
        # One reference from self._token, one from getrefcount's argument.
        if sys.getrefcount(self._token) > 2:
            raise RuntimeError("There is at least 1 reference to internal data\n      in the interpreter in the "
                               "form of a numpy array or slice. Be sure to\n      only hold the function returned "
                               "from tensor() if you are using raw\n      data access.")

    def allocate_tensors(self):
        self._ensure_safe()
        if self._lib.ep_interpreter_allocate(self._handle):
            raise RuntimeError(_capi.last_error())

    def invoke(self):
        if self._lib.ep_interpreter_invoke(self._handle):
            message = _capi.last_error()
            if message.startswith("invoke called before allocate"):
                message = "Invoke called on model that is not ready."
            raise RuntimeError(message)

    def resize_tensor_input(self, input_index, tensor_size, strict=False):
        self._ensure_safe()
        shape = np.array(tensor_size, dtype=np.int32)
        if shape.ndim != 1:
            raise ValueError(f"Shape should be 1D instead of {shape.ndim}.")
        index = int(input_index)
        info = self._info(index)
        if strict:
            self._check_strict_resize(index, info, shape)
        dims = (ctypes.c_int32 * max(len(shape), 1))(*shape.tolist())
        if self._lib.ep_interpreter_resize_input(self._handle, index, len(shape), dims):
            raise ValueError(_capi.last_error())

    @staticmethod
    def _check_strict_resize(index, info, shape):
        signature = list(info.signature[:info.signature_rank])
        if len(signature) != len(shape):
            raise RuntimeError(f"Attempting to resize tensor {index} from rank {len(signature)} to rank "
                               f"{len(shape)}. ResizeInputTensorStrict only allows mutating unknown dimensions "
                               "identified by -1.")
        for dim, (known, new) in enumerate(zip(signature, shape.tolist())):
            if known != -1 and known != new:
                raise RuntimeError(f"Attempting to resize dimension {dim} of tensor {index} with value {known} to "
                                   f"{new}. ResizeInputTensorStrict only allows mutating unknown dimensions "
                                   "identified by -1.")

    # ---- tensors ----

    def _info(self, tensor_index) -> _capi.TensorInfo:
        index = int(tensor_index)
        count = self._lib.ep_interpreter_tensor_count(self._handle)
        if not 0 <= index < count:
            raise ValueError(f"Invalid tensor index {index} exceeds max tensor index {count}")
        info = _capi.TensorInfo()
        if self._lib.ep_interpreter_tensor(self._handle, index, ctypes.byref(info)):
            raise ValueError(_capi.last_error())
        return info

    def _view(self, info: _capi.TensorInfo, index: int) -> np.ndarray:
        dtype = _NUMPY_TYPES.get(info.dtype)
        if dtype is None or dtype is np.object_:
            raise ValueError(f"Tensor {index} has a type numpy cannot view")
        if not info.data:
            raise ValueError("Tensor data is null. Run allocate_tensors() first")
        raw = (ctypes.c_uint8 * info.bytes).from_address(info.data)
        raw._owner = self._token
        flat = np.frombuffer(raw, dtype=dtype)
        if info.is_sparse:
            array = flat  # a sparse constant holds its stored values only, as in TFLite
        else:
            array = flat.reshape(tuple(info.dims[:info.rank]))
        if info.is_constant:
            array.flags.writeable = False
        return array

    def get_tensor(self, tensor_index, subgraph_index=0):
        if subgraph_index != 0:
            raise ValueError(f"subgraph_index is out of range: {subgraph_index}; only the main subgraph runs")
        index = int(tensor_index)
        return self._view(self._info(index), index).copy()

    def tensor(self, tensor_index):
        index = int(tensor_index)
        return lambda: self._view(self._info(index), index)

    def set_tensor(self, tensor_index, value):
        index = int(tensor_index)
        info = self._info(index)
        array = np.asarray(value)
        expected = np.dtype(_NUMPY_TYPES.get(info.dtype, np.void))
        if array.dtype != expected:
            raise ValueError(f"Cannot set tensor: Got value of type {_type_name(array.dtype)} but expected type "
                             f"{_type_name(expected)} for input {index}, name: {info.name.decode()} ")
        shape = list(info.dims[:info.rank])
        if array.ndim != len(shape):
            raise ValueError(f"Cannot set tensor: Dimension mismatch. Got {array.ndim} but expected {len(shape)} "
                             f"for input {index}.")
        for dim, (got, want) in enumerate(zip(array.shape, shape)):
            if got != want:
                raise ValueError(f"Cannot set tensor: Dimension mismatch. Got {got} but expected {want} for "
                                 f"dimension {dim} of input {index}.")
        if info.is_constant:
            raise ValueError(f"Cannot set tensor: tensor {index} ('{info.name.decode()}') is read-only model data")
        if not info.data:
            raise ValueError("Cannot set tensor: Tensor is unallocated. Try calling allocate_tensors() first")
        contiguous = np.ascontiguousarray(array)  # keep it referenced: memmove reads it after .ctypes.data
        ctypes.memmove(info.data, contiguous.ctypes.data, info.bytes)

    # ---- details ----

    def _details(self, index: int) -> dict:
        info = self._info(index)
        count = info.quant_count
        scales = np.ctypeslib.as_array(info.quant_scales, (count,)).astype(np.float32) if count else \
            np.zeros(0, np.float32)
        zero_points = np.ctypeslib.as_array(info.quant_zero_points, (count,)).astype(np.int32) if count else \
            np.zeros(0, np.int32)
        return {
            "name": info.name.decode("utf-8", "replace"),
            "index": index,
            "shape": np.array(info.dims[:info.rank], dtype=np.int32),
            "shape_signature": np.array(info.signature[:info.signature_rank], dtype=np.int32),
            "dtype": _NUMPY_TYPES.get(info.dtype),
            "quantization": (float(scales[0]), int(zero_points[0])) if count == 1 else (0.0, 0),
            "quantization_parameters": {"scales": scales, "zero_points": zero_points,
                                        "quantized_dimension": info.quant_axis if count else 0, "block_size": 0},
            "sparsity_parameters": self._sparsity(index) if info.is_sparse else {},
        }

    def _sparsity(self, index: int) -> dict:
        rank, blocks = ctypes.c_int32(), ctypes.c_int32()
        order, block_map = ctypes.POINTER(ctypes.c_int32)(), ctypes.POINTER(ctypes.c_int32)()
        if self._lib.ep_interpreter_sparsity(self._handle, index, ctypes.byref(rank), ctypes.byref(order),
                                             ctypes.byref(blocks), ctypes.byref(block_map)):
            raise ValueError(_capi.last_error())
        result = {"traversal_order": np.array(order[:rank.value], dtype=np.int32)}
        if blocks.value:
            result["block_map"] = np.array(block_map[:blocks.value], dtype=np.int32)
        dims = []
        for level in range(rank.value):
            d = _capi.SparsityDim()
            self._lib.ep_interpreter_sparsity_dim(self._handle, index, level, ctypes.byref(d))
            if d.format == 0:
                dims.append({"format": 0, "dense_size": d.dense_size})
                continue
            dims.append({"format": d.format,
                         "array_segments": _index_array(d.segments, d.segments_count, d.segments_dtype),
                         "array_indices": _index_array(d.indices, d.indices_count, d.indices_dtype)})
        result["dim_metadata"] = dims
        return result

    def get_input_details(self):
        return [self._details(self._lib.ep_interpreter_input(self._handle, i))
                for i in range(self._lib.ep_interpreter_input_count(self._handle))]

    def get_output_details(self):
        return [self._details(self._lib.ep_interpreter_output(self._handle, i))
                for i in range(self._lib.ep_interpreter_output_count(self._handle))]

    def get_tensor_details(self, subgraph_index=0):
        if subgraph_index != 0:
            raise ValueError(f"subgraph_index is out of range: {subgraph_index}; only the main subgraph runs")
        return [self._details(i) for i in range(self._lib.ep_interpreter_tensor_count(self._handle))]

    # ---- signatures ----

    def _get_full_signature_list(self) -> dict:
        result = {}
        for sig in range(self._lib.ep_interpreter_signature_count(self._handle)):
            key, subgraph = ctypes.c_char_p(), ctypes.c_int32()
            n_in, n_out = ctypes.c_int32(), ctypes.c_int32()
            self._lib.ep_interpreter_signature(self._handle, sig, ctypes.byref(key), ctypes.byref(subgraph),
                                               ctypes.byref(n_in), ctypes.byref(n_out))
            result[key.value.decode()] = {"inputs": self._signature_io(sig, 0, n_in.value),
                                          "outputs": self._signature_io(sig, 1, n_out.value),
                                          "subgraph": subgraph.value}
        return result

    def _signature_io(self, sig: int, is_output: int, count: int) -> dict:
        io = {}
        for i in range(count):
            name, tensor = ctypes.c_char_p(), ctypes.c_int32()
            self._lib.ep_interpreter_signature_io(self._handle, sig, is_output, i, ctypes.byref(name),
                                                  ctypes.byref(tensor))
            io[name.value.decode()] = tensor.value
        return io

    def get_signature_list(self):
        return {key: {"inputs": list(sig["inputs"]), "outputs": list(sig["outputs"])}
                for key, sig in self._get_full_signature_list().items()}

    def get_signature_runner(self, signature_key=None):
        if signature_key is None:
            if len(self._signature_defs) != 1:
                raise ValueError(f"SignatureDef signature_key is None and model has {len(self._signature_defs)} "
                                 "Signatures. None is only allowed when the model has 1 SignatureDef")
            signature_key = next(iter(self._signature_defs))
        return SignatureRunner(self, signature_key)

    # ---- edgepress extras ----

    def memory_plan(self) -> dict:
        """After allocate_tensors(): arena bytes, the naive sum of planned buffers (no sharing) and persistent
        bytes (kernel state, outputs of ops folded at allocate such as dequantized weights)."""
        arena, naive, persistent = ctypes.c_size_t(), ctypes.c_size_t(), ctypes.c_size_t()
        if self._lib.ep_interpreter_arena(self._handle, ctypes.byref(arena), ctypes.byref(naive),
                                          ctypes.byref(persistent)):
            raise RuntimeError(_capi.last_error())
        return {"arena_bytes": arena.value, "naive_bytes": naive.value, "persistent_bytes": persistent.value}

    def arena_bytes(self) -> int:
        return self.memory_plan()["arena_bytes"]

    def profile(self) -> list:
        """Per op at the last invoke: {'index', 'op' (type), 'name' (first output tensor), 'ms'}."""
        rows = []
        for op in range(self._lib.ep_interpreter_op_count(self._handle)):
            code, name, ns = ctypes.c_int32(), ctypes.c_char_p(), ctypes.c_uint64()
            self._lib.ep_interpreter_op(self._handle, op, ctypes.byref(code), ctypes.byref(name), ctypes.byref(ns))
            output = self._lib.ep_interpreter_op_output(self._handle, op)
            tensor = self._info(output).name.decode("utf-8", "replace") if output >= 0 else ""
            rows.append({"index": op, "op": name.value.decode(), "name": tensor, "ms": ns.value / 1e6})
        return rows


def _index_array(pointer, count, dtype) -> np.ndarray:
    if not count:
        return np.zeros(0, np.int32)
    raw = (ctypes.c_uint8 * (count * np.dtype(_INDEX_TYPES[dtype]).itemsize)).from_address(pointer)
    return np.frombuffer(raw, dtype=_INDEX_TYPES[dtype]).astype(np.int32)


class SignatureRunner:
    """Callable running one SignatureDef: keyword inputs by name in, dict of output copies out."""

    def __init__(self, interpreter=None, signature_key=None):
        if not interpreter:
            raise ValueError("None interpreter provided.")
        if not signature_key:
            raise ValueError("None signature_key provided.")
        signatures = interpreter._get_full_signature_list()
        if signature_key not in signatures:
            raise ValueError(f'Invalid signature_key provided: "{signature_key}".')
        signature = signatures[signature_key]
        if signature["subgraph"] != 0:
            raise ValueError(f"SignatureDef '{signature_key}' runs subgraph {signature['subgraph']}; only the main "
                             "subgraph is supported")
        self._interpreter = interpreter
        self._inputs = signature["inputs"]
        self._outputs = signature["outputs"]

    def __call__(self, **kwargs):
        if len(kwargs) != len(self._inputs):
            raise ValueError("Invalid number of inputs provided for running a SignatureDef, "
                             f"expected {len(self._inputs)} vs provided {len(kwargs)}")
        for name, value in kwargs.items():
            if name not in self._inputs:
                raise ValueError(f"Invalid Input name ({name}) for SignatureDef")
            self._interpreter.resize_tensor_input(self._inputs[name], np.shape(value))
        self._interpreter.allocate_tensors()
        for name, value in kwargs.items():
            self._interpreter.set_tensor(self._inputs[name], value)
        self._interpreter.invoke()
        return {name: self._interpreter.get_tensor(index) for name, index in self._outputs.items()}

    def get_input_details(self):
        return {name: self._interpreter._details(index) for name, index in self._inputs.items()}

    def get_output_details(self):
        return {name: self._interpreter._details(index) for name, index in self._outputs.items()}
