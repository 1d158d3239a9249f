"""TRANSPOSE_CONV, BATCH_MATMUL, GATHER, TILE, BROADCAST_TO, comparisons, logical ops, SELECT_V2 and DENSIFY
vs ai-edge-litert."""
import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as S

from kernel_harness import Spec, check, const, inp, out, rand

I32 = np.int32


@pytest.mark.parametrize("x_shape,w_shape,out_hw,stride,padding", [
    ((1, 5, 5, 3), (4, 3, 3, 3), (10, 10), (2, 2), "SAME"),
    ((2, 4, 6, 8), (7, 4, 4, 8), (10, 14), (2, 2), "VALID"),
    ((1, 7, 7, 5), (9, 3, 3, 5), (7, 7), (1, 1), "SAME"),
    ((1, 3, 4, 2), (3, 5, 3, 2), (9, 12), (3, 3), "SAME"),
])
def test_transpose_conv(x_shape, w_shape, out_hw, stride, padding):
    rng = np.random.default_rng(100)
    x, w, b = rand(rng, x_shape), rand(rng, w_shape), rand(rng, (w_shape[0],))
    shape = np.array([x_shape[0], *out_hw, w_shape[0]], I32)
    check("TRANSPOSE_CONV", [const(shape), const(w), inp(x.shape), const(b)], [out()], [x],
          {"padding": padding, "stride_h": stride[0], "stride_w": stride[1], "fused_activation_function": "RELU"},
          version=4)


def test_transpose_conv_weights_at_run_time():
    rng = np.random.default_rng(101)
    x, w = rand(rng, (1, 4, 4, 3)), rand(rng, (5, 3, 3, 3))
    check("TRANSPOSE_CONV", [const(np.array([1, 8, 8, 5], I32)), inp(w.shape), inp(x.shape)], [out()], [w, x],
          {"padding": "SAME", "stride_h": 2, "stride_w": 2})


@pytest.mark.parametrize("x_shape,y_shape,adj_x,adj_y", [
    ((2, 5, 7), (2, 7, 3), False, False), ((3, 4), (4, 9), False, False), ((2, 1, 6, 5), (3, 5, 4), False, False),
    ((2, 7, 5), (2, 3, 7), True, True), ((4, 6), (2, 5, 6), False, True)])
def test_batch_matmul(x_shape, y_shape, adj_x, adj_y):
    rng = np.random.default_rng(102)
    x, y = rand(rng, x_shape), rand(rng, y_shape)
    check("BATCH_MATMUL", [inp(x.shape), inp(y.shape)], [out()], [x, y], {"adj_x": adj_x, "adj_y": adj_y})


@pytest.mark.parametrize("axis,batch_dims,idx_shape", [(0, 0, (4,)), (1, 0, (2, 3)), (-1, 0, (5,)), (1, 1, (3, 2))])
@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_gather(axis, batch_dims, idx_shape, dtype):
    rng = np.random.default_rng(103)
    params = rand(rng, (3, 6, 4), dtype)
    limit = params.shape[axis]
    idx = rng.integers(0, limit, size=idx_shape).astype(I32)
    check("GATHER", [inp(params.shape, dtype), const(idx)], [out(dtype)], [params],
          {"axis": axis, "batch_dims": batch_dims})


def test_tile_and_broadcast_to():
    rng = np.random.default_rng(104)
    x = rand(rng, (2, 3, 4))
    check("TILE", [inp(x.shape), const(np.array([2, 1, 3], I32))], [out()], [x])
    y = rand(rng, (3, 1))
    check("BROADCAST_TO", [inp(y.shape), const(np.array([2, 3, 5], I32))], [out()], [y], version=2)


@pytest.mark.parametrize("op", ["EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL"])
@pytest.mark.parametrize("dtype", ["float32", "int32", "int64"])
def test_comparison(op, dtype):
    rng = np.random.default_rng(105)
    a, b = rand(rng, (3, 4, 5), dtype, -3, 3), rand(rng, (4, 1), dtype, -3, 3)
    if dtype == "float32":
        a, b = np.round(a * 2) / 2, np.round(b * 2) / 2  # make equal values common
    check(op, [inp(a.shape, dtype), inp(b.shape, dtype)], [out("bool")], [a, b])


def test_logical_ops():
    rng = np.random.default_rng(106)
    a, b = rand(rng, (3, 7), "bool"), rand(rng, (7,), "bool")
    check("LOGICAL_NOT", [inp(a.shape, "bool")], [out("bool")], [a])
    check("LOGICAL_AND", [inp(a.shape, "bool"), inp(b.shape, "bool")], [out("bool")], [a, b])
    check("LOGICAL_OR", [inp(a.shape, "bool"), inp(b.shape, "bool")], [out("bool")], [a, b])


@pytest.mark.parametrize("dtype", ["float32", "int8", "int32"])
def test_select_v2(dtype):
    rng = np.random.default_rng(107)
    c, x, y = rand(rng, (4, 1, 6), "bool"), rand(rng, (3, 6), dtype, -50, 50), rand(rng, (4, 3, 1), dtype, -50, 50)
    check("SELECT_V2", [inp(c.shape, "bool"), inp(x.shape, dtype), inp(y.shape, dtype)], [out(dtype)], [c, x, y])


def block_sparse(dense: np.ndarray, block: tuple):
    """Pack a 2-d matrix in TFLite's block-CSR layout: dims (rows/br dense, cols/bc sparse, br, bc dense)."""
    br, bc = block
    rows, cols = dense.shape[0] // br, dense.shape[1] // bc
    segments, indices, values = [0], [], []
    for r in range(rows):
        for c in range(cols):
            tile = dense[r * br:(r + 1) * br, c * bc:(c + 1) * bc]
            if np.any(tile):
                indices.append(c)
                values.append(tile.ravel())
        segments.append(len(indices))
    sp = S.SparsityParametersT()
    sp.traversalOrder = [0, 1, 2, 3]
    sp.blockMap = [0, 1]

    def dim(fmt, size, seg=None, idx=None):
        d = S.DimensionMetadataT()
        d.format = fmt
        d.denseSize = size
        if seg is not None:
            d.arraySegmentsType = S.SparseIndexVector.Uint16Vector
            d.arraySegments = S.Uint16VectorT()
            d.arraySegments.values = seg
            d.arrayIndicesType = S.SparseIndexVector.Uint8Vector
            d.arrayIndices = S.Uint8VectorT()
            d.arrayIndices.values = idx
        return d

    sp.dimMetadata = [dim(S.DimensionType.DENSE, rows), dim(S.DimensionType.SPARSE_CSR, 0, segments, indices),
                      dim(S.DimensionType.DENSE, br), dim(S.DimensionType.DENSE, bc)]
    return np.concatenate(values).astype(dense.dtype), sp


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_densify_block_sparse(dtype):
    rng = np.random.default_rng(108)
    dense = rand(rng, (8, 12)).astype(dtype)
    mask = rng.random((4, 3)) < 0.5
    mask[0, 0] = True
    dense *= np.kron(mask, np.ones((2, 4))).astype(dtype)
    values, sparsity = block_sparse(dense, (2, 4))
    spec = Spec(dense.shape, dtype, values, sparsity=sparsity)
    ref = check("DENSIFY", [spec], [out(dtype)], [])
    np.testing.assert_array_equal(ref[0], dense)
