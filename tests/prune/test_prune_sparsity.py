"""Unstructured and N:M sparsity: the targets hold per layer (or overall), the sparse file (SparsityParameters +
DENSIFY) is smaller than the same weights written dense, loads in ai-edge-litert (and tflite-runtime where its
environment is set up) and gives the dense equivalent's outputs; weights are stored dense when sparse would
not be smaller; activation-aware selection weighs weights by their input's RMS."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from edgepress.convert.ir import Graph, Model, Op, Tensor
from edgepress.convert.tflite.reader import read_tflite
from edgepress.prune import prune
from edgepress.prune import sparsity as sp
from edgepress.quantize.prepare import expand_weights

from helpers_prune import assert_close, check_runs_everywhere, convert, litert_run, tflite_runtime_run
from pnets import deep_separable, feeds

MIN_WEIGHTS = 256  # the test model's layers are small; every layer from 16x16 up takes part


def dense_equivalent(model: Model) -> Model:
    """The same (zeroed) weights, written dense: DENSIFY folded away."""
    dense = copy.deepcopy(model)
    expand_weights(dense.graph)
    return dense


def sparse_weights(model: Model) -> list:
    """(op, dense weights) of every weighted op, with DENSIFY'd weights expanded."""
    dense = dense_equivalent(model)
    return [(op, op.inputs[1].data) for op in dense.graph.ops if op.type in sp.SPARSIFIABLE]


def check_sparse_file(model: Model, test_feeds: list) -> None:
    assert any(op.type == "DENSIFY" for op in model.graph.ops)
    check_runs_everywhere(model, test_feeds)
    data, dense = model.to_bytes(), dense_equivalent(model).to_bytes()
    assert len(data) < len(dense)
    for feed in test_feeds:
        want = litert_run(dense, feed)
        assert_close(litert_run(data, feed), want, "sparse vs dense equivalent", tol=1e-6)
        other = tflite_runtime_run(data, feed)
        if other is not None:
            assert_close(other, want, "tflite-runtime sparse vs ai-edge-litert dense", tol=1e-5)


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    proto = deep_separable(seed=5)
    return convert(proto, tmp_path_factory.mktemp("net")), feeds(proto, 8, seed=1), feeds(proto, 2, seed=2)


@pytest.mark.parametrize("method", sp.METHODS)
def test_half_of_every_layer(net, method):
    ir, cal, test = net
    pruned, report = prune(ir, sparsity=0.5, method=method, calibration=cal, min_weights=MIN_WEIGHTS)
    weights = sparse_weights(pruned)
    touched = [w for _, w in weights if w.size >= MIN_WEIGHTS]
    assert touched and len(report.sparse_layers) == len(touched)
    for w in touched:
        assert abs((w == 0).mean() - 0.5) <= 0.5 * w.shape[0] / w.size + 1e-9  # rounding: half a weight per row
    assert all(r.stored == "sparse" and r.bytes[1] < r.bytes[0] for r in report.sparse_layers)
    assert report.size_after < report.size_before
    check_sparse_file(pruned, test)


def test_two_of_four(net):
    ir, cal, test = net
    pruned, report = prune(ir, pattern="2:4", calibration=cal, min_weights=MIN_WEIGHTS)
    patterned = 0
    for op, w in sparse_weights(pruned):
        if w.size >= MIN_WEIGHTS and w.shape[-1] % 4 == 0:
            assert np.all((w.reshape(-1, 4) != 0).sum(1) <= 2), op.label
            patterned += 1
        elif w.size >= MIN_WEIGHTS:
            assert np.count_nonzero(w) == w.size, f"{op.label}: input width {w.shape[-1]} is not a multiple of 4"
    assert patterned >= 5
    check_sparse_file(pruned, test)


def test_global_scope_meets_the_overall_target(net):
    ir, cal, _ = net
    _, report = prune(ir, sparsity=0.6, scope="global", method="magnitude", min_weights=MIN_WEIGHTS)
    rows = report.sparse_layers
    overall = sum(r.sparsity[1] * r.weights for r in rows) / sum(r.weights for r in rows)
    assert abs(overall - 0.6) < 0.01
    assert max(r.sparsity[1] for r in rows) - min(r.sparsity[1] for r in rows) > 0.05


def test_stored_dense_when_sparse_is_not_smaller(net):
    """At 10% zeros, CSR's index per value costs more than the zeros save."""
    ir, cal, test = net
    pruned, report = prune(ir, sparsity=0.1, method="magnitude", min_weights=MIN_WEIGHTS)
    assert report.sparse_layers and all(r.stored == "dense" for r in report.sparse_layers)
    assert not any(op.type == "DENSIFY" for op in pruned.graph.ops)
    check_runs_everywhere(pruned, test)


def test_reader_reads_the_sparse_file_back(net, tmp_path):
    ir, cal, test = net
    pruned, _ = prune(ir, sparsity=0.5, method="magnitude", min_weights=MIN_WEIGHTS)
    path = tmp_path / "sparse.tflite"
    pruned.save(str(path))
    back = read_tflite(str(path))
    assert sum(op.type == "DENSIFY" for op in back.graph.ops) == sum(op.type == "DENSIFY" for op in pruned.graph.ops)
    for feed in test:
        assert_close(back.run(feed), pruned.run(feed), "read back vs written", tol=1e-6)


def fc_model(w: np.ndarray) -> Graph:
    x = Tensor("x", (1, w.shape[1]))
    y = Tensor("y", (1, w.shape[0]))
    return Graph(inputs=[x], outputs=[y], ops=[Op("FULLY_CONNECTED", [x, Tensor.constant("w", w), None], [y])])


def test_activation_aware_weighs_by_input_rms():
    """Input 0 is quiet, input 1 loud: magnitude drops the small weights on input 1, |W| x ||X|| the large
    weights on input 0, whose products are smaller."""
    w = np.array([[1.0, 0.5], [0.9, 0.4], [-1.0, -0.3], [0.8, 0.2]], np.float32)
    graph = fc_model(w)
    energy = {"x": np.array([0.01, 100.0])}
    for method, dropped_column in (("magnitude", 1), ("activation", 0)):
        found = sp.layers(graph, method, energy, min_weights=1)
        (keep,) = sp.masks(found, 0.5, None, method, "layer")
        assert not keep[:, dropped_column].any() and keep[:, 1 - dropped_column].all(), method


def test_n_of_m_keeps_the_largest_of_each_block():
    score = np.array([[0.1, 0.9, 0.5, 0.2, 3.0, 1.0, 2.0, 0.0]])
    keep = sp.n_of_m(score, 2, 4)
    assert keep.tolist() == [[False, True, True, False, True, False, True, False]]
    assert sp.n_of_m(np.ones((2, 6)), 2, 4) is None
