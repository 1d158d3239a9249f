"""DENSIFY: expand a TFLite sparse constant (SparsityParameters) into its dense tensor.

The format: the dense shape's n dims, plus one block dim per entry of block_map (block k splits dim
block_map[k] into blocks of the size stored for dim n + k), are stored in `traversal_order`; dim_metadata[l]
describes level l (dim traversal_order[l]): DENSE with dense_size, or SPARSE_CSR where the children of
parent position p are array_indices[array_segments[p]:array_segments[p + 1]]. Leaves, in traversal order,
are the packed values. This walks the levels with index arrays instead of TFLite's recursion."""
from __future__ import annotations

import numpy as np

from edgepress.errors import EdgepressError


def _expand_level(meta: dict, pos: np.ndarray):
    """Children of parent positions `pos` at one level: (parent of each child, child position, coordinate)."""
    if meta["format"] == "DENSE":
        size = int(meta["dense_size"])
        coord = np.tile(np.arange(size), len(pos))
        return np.repeat(np.arange(len(pos)), size), np.repeat(pos, size) * size + coord, coord
    segments = np.asarray(meta["array_segments"], np.int64)
    indices = np.asarray(meta["array_indices"], np.int64)
    starts, counts = segments[pos], segments[pos + 1] - segments[pos]
    parent = np.repeat(np.arange(len(pos)), counts)
    child = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts) + np.arange(counts.sum())
    return parent, child, indices[child]


def densify(op, values):
    sp = op.inputs[0].sparsity
    if sp is None:
        raise EdgepressError(f"DENSIFY ({op.label}): input '{op.inputs[0].name}' carries no sparsity parameters")
    shape = tuple(op.inputs[0].shape)  # a sparse tensor's shape is its dense shape; its data the packed values
    n = len(shape)
    pos = np.zeros(1, np.int64)
    coords = np.zeros((1, 0), np.int64)
    for meta in sp.dim_metadata:
        parent, pos, coord = _expand_level(meta, pos)
        coords = np.concatenate([coords[parent], coord[:, None]], axis=1)
    values = np.ravel(values)
    if len(pos) != values.size:
        raise EdgepressError(f"DENSIFY ({op.label}): sparsity describes {len(pos)} values, buffer holds {values.size}")
    level_of = {dim: level for level, dim in enumerate(sp.traversal_order)}
    dense_idx = [coords[:, level_of[d]] for d in range(n)]
    for k, d in enumerate(sp.block_map):
        block_level = level_of[n + k]
        dense_idx[d] = dense_idx[d] * int(sp.dim_metadata[block_level]["dense_size"]) + coords[:, block_level]
    out = np.zeros(shape, dtype=values.dtype)
    out[tuple(dense_idx)] = values
    return out


OPS = {
    "DENSIFY": densify,
}
