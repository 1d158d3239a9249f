"""Write sparse weights in TFLite's sparse tensor format: the weights become a constant with
SparsityParameters (every dimension DENSE except the last, SPARSE_CSR: per row of the leading dims, the
positions of its nonzeros in the last dim) whose buffer holds only the nonzero values, read through a
DENSIFY op, as TFLite's own sparse models do. Stock interpreters densify once at preparation, so the file
shrinks while the arithmetic stays that of the dense model. A tensor is stored sparse only when that is
smaller than dense."""
from __future__ import annotations

import numpy as np

from edgepress.convert.ir import Graph, Op, Sparsity, Tensor
from edgepress.convert.passes.edit import Names

# flatbuffer bytes the sparsity tables add beyond their arrays (tables, vtables, vectors' headers), an upper
# estimate used only to decide between sparse and dense
TABLE_OVERHEAD = 64


def index_dtype(largest: int) -> np.dtype:
    """The narrowest index type the schema offers (uint8, uint16, int32) that holds `largest`."""
    for dtype in (np.uint8, np.uint16):
        if largest <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.int32)


def encode(dense: np.ndarray) -> tuple[np.ndarray, Sparsity]:
    """(packed values, Sparsity) of `dense` in row-major CSR over the last dimension."""
    rows = dense.reshape(-1, dense.shape[-1])
    nz = rows != 0
    segments = np.concatenate([[0], np.cumsum(nz.sum(1))])
    indices = np.nonzero(nz)[1]
    dims = [{"format": "DENSE", "dense_size": int(d), "array_segments": None, "array_indices": None}
            for d in dense.shape[:-1]]
    dims.append({"format": "SPARSE_CSR", "dense_size": 0,
                 "array_segments": segments.astype(index_dtype(int(segments[-1]))),
                 "array_indices": indices.astype(index_dtype(dense.shape[-1] - 1))})
    return rows[nz].astype(dense.dtype), Sparsity(list(range(dense.ndim)), [], dims)


def sparse_bytes(dense: np.ndarray) -> int:
    nnz = int(np.count_nonzero(dense))
    rows = dense.size // dense.shape[-1]
    return (nnz * dense.itemsize + nnz * index_dtype(dense.shape[-1] - 1).itemsize
            + (rows + 1) * index_dtype(nnz).itemsize + TABLE_OVERHEAD)


def smaller_sparse(dense: np.ndarray) -> bool:
    return dense.ndim >= 1 and dense.size > 0 and sparse_bytes(dense) < dense.nbytes


def store_sparse(graph: Graph, op: Op, index: int, names: Names) -> None:
    """Replace constant input `index` of `op` by a sparse constant read through a new DENSIFY op."""
    w = op.inputs[index]
    values, sparsity = encode(w.data)
    packed = Tensor(names(f"{w.name}/sparse"), w.shape, w.dtype, data=values, sparsity=sparsity,
                    sources=list(w.sources))
    dense = Tensor(names(f"{w.name}/densified"), w.shape, w.dtype, sources=list(w.sources))
    densify = Op("DENSIFY", [packed], [dense], sources=list(op.sources))
    graph.ops.insert(graph.ops.index(op), densify)
    op.inputs[index] = dense
