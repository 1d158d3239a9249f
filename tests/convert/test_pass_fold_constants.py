"""fold_constants: all-constant ops become constants (values from the reference evaluator), no-op ops go,
and graph outputs keep their tensors and names."""
import numpy as np

from edgepress.convert.passes import fold_constants
from test_pass_graphs import Builder, count, run_pass


def test_constant_subgraph_folds_to_one_constant():
    b = Builder()
    x = b.input("x", (2, 3))
    k = b.op("MUL", [b.op("ADD", [b.const([[1.0, 2.0, 3.0]]), b.const(1.0)]), b.const(0.5)])
    b.output(b.op("ADD", [x, k]), "y")
    changed, _ = run_pass(fold_constants.run, b.graph)
    assert changed
    assert [op.type for op in b.graph.ops] == ["ADD"]
    folded = b.graph.ops[0].inputs[1]
    np.testing.assert_array_equal(folded.data, [[1.0, 1.5, 2.0]])
    assert folded.shape == (1, 3) and folded.sources == [folded.name]


def test_shape_arithmetic_folds():
    b = Builder()
    x = b.input("x", (2, 3, 4))
    dims = b.op("CONCATENATION", [b.const([2], "int32"), b.const([12], "int32")], {"axis": 0})
    b.output(b.op("RESHAPE", [x, dims]), "y")
    run_pass(fold_constants.run, b.graph)
    assert [op.type for op in b.graph.ops] == ["RESHAPE"]
    assert b.graph.ops[0].inputs[1].data.tolist() == [2, 12]


def test_noops_are_removed():
    b = Builder()
    x = b.input("x", (2, 3, 4))
    h = b.op("RESHAPE", [x, b.const([2, 3, 4], "int32")])
    h = b.transpose(h, (0, 1, 2))
    h = b.op("CAST", [h], dtype="float32")
    h = b.op("PAD", [h, b.const(np.zeros((3, 2)), "int32")])
    h = b.op("SLICE", [h, b.const([0, 0, 0], "int32"), b.const([-1, 3, 4], "int32")])
    h = b.op("ADD", [h, b.const(0.0)])
    h = b.op("MUL", [h, b.const(np.ones((3, 4)))])
    b.output(b.op("RELU", [h]), "y")
    run_pass(fold_constants.run, b.graph)
    assert [op.type for op in b.graph.ops] == ["RELU"]
    assert b.graph.ops[0].inputs[0] is x


def test_broadcasting_add_of_zero_is_not_a_noop():
    b = Builder()
    x = b.input("x", (1, 3))
    b.output(b.op("ADD", [x, b.const(np.zeros((2, 3)))]), "y")
    changed, _ = run_pass(fold_constants.run, b.graph)
    assert not changed


def test_noop_writing_a_graph_output_hands_the_output_to_its_producer():
    b = Builder()
    x = b.input("x", (2, 3))
    relu = b.op("RELU", [x])
    y = b.output(b.op("RESHAPE", [relu, b.const([2, 3], "int32")]), "y")
    other = b.output(b.op("NEG", [relu]), "z")
    run_pass(fold_constants.run, b.graph)
    assert [op.type for op in b.graph.ops] == ["RELU", "NEG"]
    assert b.graph.ops[0].outputs[0] is y and y.name == "y"
    assert b.graph.ops[1].inputs[0] is y and b.graph.outputs == [y, other]


def test_graph_input_copied_to_an_output_stays_a_copy():
    b = Builder()
    x = b.input("x", (2, 3))
    b.output(b.op("RESHAPE", [x, b.const([2, 3], "int32")]), "y")
    changed, _ = run_pass(fold_constants.run, b.graph)
    assert not changed and count(b.graph, "RESHAPE") == 1


def test_reshape_chains_collapse():
    b = Builder()
    x = b.input("x", (2, 3, 4))
    h = b.op("RESHAPE", [x, b.const([6, 4], "int32")])
    h = b.op("EXPAND_DIMS", [h, b.const(0, "int32")])
    b.output(b.op("RESHAPE", [h, b.const([4, 6], "int32")]), "y")
    run_pass(fold_constants.run, b.graph)
    assert [op.type for op in b.graph.ops] == ["RESHAPE"] and b.graph.ops[0].inputs[0] is x


def test_compressed_weights_stay_compressed():
    """float16 weights behind DEQUANTIZE are how TFLite keeps files small; folding would double them."""
    b = Builder()
    x = b.input("x", (1, 4, 4, 64))
    w16 = b.const(b.rng.standard_normal((64, 1, 1, 64)), "float16")
    w = b.op("DEQUANTIZE", [w16], dtype="float32")
    b.output(b.op("CONV_2D", [x, w, b.const(np.zeros(64))], {"padding": "SAME", "stride_h": 1, "stride_w": 1}), "y")
    small = b.op("DEQUANTIZE", [b.const([1.0, 2.0], "float16")], dtype="float32")
    b.output(b.op("ADD", [b.op("MEAN", [x, b.const([1, 2, 3], "int32")], {"keep_dims": False}), small]), "z")
    run_pass(fold_constants.run, b.graph)
    assert count(b.graph, "DEQUANTIZE") == 1 and b.graph.ops[0].inputs[0] is w16
