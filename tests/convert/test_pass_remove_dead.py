"""remove_dead: ops whose outputs nothing reads go; graph outputs and partly used ops stay."""
from edgepress.convert.passes import remove_dead
from test_pass_graphs import Builder, run_pass


def test_dead_chain_goes_and_live_ops_stay():
    b = Builder()
    x = b.input("x", (2, 6))
    dead = b.op("EXP", [b.op("NEG", [x])])
    halves = b.op("SPLIT", [b.const(1, "int32"), x], {"num_splits": 2}, outputs=2)
    b.output(b.op("RELU", [halves[0]]), "y")
    changed, _ = run_pass(remove_dead.run, b.graph)
    assert changed
    assert [op.type for op in b.graph.ops] == ["SPLIT", "RELU"]
    assert dead not in {t for op in b.graph.ops for t in op.outputs}
    assert not remove_dead.run(b.graph)


def test_graph_output_read_by_nothing_stays():
    b = Builder()
    x = b.input("x", (3,))
    b.output(b.op("ABS", [x]), "y")
    changed, _ = run_pass(remove_dead.run, b.graph)
    assert not changed and len(b.graph.ops) == 1
