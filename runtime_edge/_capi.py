"""ctypes view of include/edgepress_rt.h: the shared library, its structs and function signatures.

The library is the `_native` extension setup.py builds into this package folder (plain C, no Python
module init), loaded once on first use."""
import ctypes
import functools
import glob
import importlib.machinery
import os

from ctypes import POINTER, c_char_p, c_int32, c_size_t, c_uint32, c_uint64, c_void_p

MAX_RANK = 8
LOAD_BORROW = 1


class TensorInfo(ctypes.Structure):
    _fields_ = [("name", c_char_p), ("dtype", c_int32), ("rank", c_int32), ("dims", c_int32 * MAX_RANK),
                ("signature_rank", c_int32), ("signature", c_int32 * MAX_RANK), ("data", c_void_p),
                ("bytes", c_size_t), ("is_constant", c_int32), ("is_variable", c_int32),
                ("quant_count", c_int32), ("quant_axis", c_int32), ("quant_scales", POINTER(ctypes.c_float)),
                ("quant_zero_points", POINTER(ctypes.c_int64)), ("is_sparse", c_int32)]


class SparsityDim(ctypes.Structure):
    _fields_ = [("format", c_int32), ("dense_size", c_int32), ("segments_dtype", c_int32),
                ("indices_dtype", c_int32), ("segments_count", c_int32), ("indices_count", c_int32),
                ("segments", c_void_p), ("indices", c_void_p)]


class Options(ctypes.Structure):
    _fields_ = [("num_threads", c_int32), ("profile", c_int32), ("preserve_all", c_int32)]


_P = c_void_p
_PI = POINTER(c_int32)
_SIGNATURES = {
    "ep_version": (c_char_p, []),
    "ep_last_error": (c_char_p, []),
    "ep_model_load_file": (c_int32, [c_char_p, POINTER(_P)]),
    "ep_model_load_memory": (c_int32, [c_char_p, c_size_t, c_uint32, POINTER(_P)]),
    "ep_model_release": (None, [_P]),
    "ep_interpreter_create": (c_int32, [_P, POINTER(Options), POINTER(_P)]),
    "ep_interpreter_destroy": (None, [_P]),
    "ep_interpreter_resize_input": (c_int32, [_P, c_int32, c_int32, _PI]),
    "ep_interpreter_allocate": (c_int32, [_P]),
    "ep_interpreter_invoke": (c_int32, [_P]),
    "ep_interpreter_tensor_count": (c_int32, [_P]),
    "ep_interpreter_tensor": (c_int32, [_P, c_int32, POINTER(TensorInfo)]),
    "ep_interpreter_input_count": (c_int32, [_P]),
    "ep_interpreter_input": (c_int32, [_P, c_int32]),
    "ep_interpreter_output_count": (c_int32, [_P]),
    "ep_interpreter_output": (c_int32, [_P, c_int32]),
    "ep_interpreter_sparsity": (c_int32, [_P, c_int32, _PI, POINTER(_PI), _PI, POINTER(_PI)]),
    "ep_interpreter_sparsity_dim": (c_int32, [_P, c_int32, c_int32, POINTER(SparsityDim)]),
    "ep_interpreter_signature_count": (c_int32, [_P]),
    "ep_interpreter_signature": (c_int32, [_P, c_int32, POINTER(c_char_p), _PI, _PI, _PI]),
    "ep_interpreter_signature_io": (c_int32, [_P, c_int32, c_int32, c_int32, POINTER(c_char_p), _PI]),
    "ep_interpreter_arena": (c_int32, [_P, POINTER(c_size_t), POINTER(c_size_t), POINTER(c_size_t)]),
    "ep_interpreter_op_count": (c_int32, [_P]),
    "ep_interpreter_op": (c_int32, [_P, c_int32, _PI, POINTER(c_char_p), POINTER(c_uint64)]),
    "ep_interpreter_op_output": (c_int32, [_P, c_int32]),
}


def library_path() -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = os.path.join(here, "_native" + suffix)
        if os.path.exists(candidate):
            return candidate
    found = sorted(glob.glob(os.path.join(here, "_native*.so")))
    if not found:
        raise ImportError(f"edgepress runtime library _native not found in {here}; build it with "
                          "`pip install -e .` or `python setup.py build_ext --inplace`")
    return found[0]


@functools.lru_cache(maxsize=None)
def lib() -> ctypes.CDLL:
    native = ctypes.CDLL(library_path())
    for name, (restype, argtypes) in _SIGNATURES.items():
        fn = getattr(native, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return native


def last_error() -> str:
    return lib().ep_last_error().decode("utf-8", "replace")
