"""Structured channel pruning on small ONNX models: channels that are provably dead (exactly zero wherever
they flow) are found and removed exactly, so the pruned model must still match onnxruntime on the unpruned
model; targets, minimums, exclusions and pinning hold; every pruned model matches the reference evaluator
in ai-edge-litert; repair lowers the output error on held-out inputs."""
from __future__ import annotations

import numpy as np
import onnx
import pytest

from edgepress.prune import prune
from edgepress.prune.channels import analyze

from helpers_prune import assert_close, check_runs_everywhere, convert, onnxruntime_run
from pnets import DEAD_MODELS, deep_separable, feeds

def removable(ir) -> int:
    return sum(int((~g.pinned).sum()) for g in analyze(ir.graph).groups())


# Without data, importance comes from the producing weights: an SE gate's producer has nonzero rows for
# channels its gated input kills, so only activations show those dead.
CASES = [(name, True) for name in sorted(DEAD_MODELS)] + [(name, False) for name in sorted(DEAD_MODELS)
                                                          if name != "depthwise_separable"]


@pytest.mark.parametrize("name, calibrated", CASES)
def test_dead_channels_removed_exactly(name, calibrated, tmp_path):
    proto, dead = DEAD_MODELS[name]()
    ir = convert(proto, tmp_path)
    cal = feeds(proto, 16, seed=1) if calibrated else None
    pruned, report = prune(ir, channels=(dead - 0.5) / removable(ir), target="channels", calibration=cal,
                           min_channels=1, multiple=1, repair_layers=False)
    assert report.channel_groups["removed_channels"] == dead
    assert report.flops_after < report.flops_before and report.params_after < report.params_before
    test = feeds(proto, 3, seed=2)
    for feed in test:
        assert_close(pruned.run(feed), onnxruntime_run(proto, feed), "pruned vs onnxruntime on the original")
    check_runs_everywhere(pruned, test)


def test_input_model_is_left_unchanged(tmp_path):
    proto, dead = DEAD_MODELS["residual"]()
    ir = convert(proto, tmp_path)
    shapes = [t.shape for t in ir.graph.tensors()]
    prune(ir, channels=0.3, calibration=feeds(proto, 2, seed=1))
    assert [t.shape for t in ir.graph.tensors()] == shapes


def test_flops_target_with_simd_widths(tmp_path):
    proto = deep_separable()
    ir = convert(proto, tmp_path)
    pruned, report = prune(ir, channels=0.4, calibration=feeds(proto, 8, seed=1), multiple=8, min_channels=8)
    assert report.flops_after <= 0.6 * report.flops_before
    assert report.flops_after > 0.45 * report.flops_before  # the smallest removal that meets the target
    for row in report.layers:
        for before, after in (row.in_channels, row.out_channels):
            assert after == before or (after % 8 == 0 and after >= 8), row
    check_runs_everywhere(pruned, feeds(proto, 2, seed=2))


def test_graph_outputs_and_opaque_ops_pin_channels(tmp_path):
    """An intermediate graph output keeps its channels; so does anything behind a Softmax over channels."""
    proto, _ = DEAD_MODELS["conv_chain"]()
    relu1, relu2 = [n.output[0] for n in proto.graph.node if n.op_type in ("Relu", "HardSwish")][:2]
    proto.graph.node.append(onnx.helper.make_node("Softmax", [relu2], ["soft"], axis=1, name="soft"))
    known = {v.name: v for v in onnx.shape_inference.infer_shapes(proto).graph.value_info}
    proto.graph.output.extend([known[relu1], known["soft"]])
    ir = convert(proto, tmp_path)
    pruned, report = prune(ir, channels=0.9, target="channels", calibration=feeds(proto, 2, seed=1),
                           min_channels=1, multiple=1)
    convs = [r for r in report.layers if r.op_type == "CONV_2D"]
    assert [r.out_channels for r in convs[:2]] == [(16, 16), (24, 24)]
    assert convs[2].out_channels[1] < 32
    check_runs_everywhere(pruned, feeds(proto, 2, seed=2))


def test_exclude_by_source_node_name(tmp_path):
    proto = deep_separable()
    convs = [n.name for n in proto.graph.node if n.op_type == "Conv"]
    ir = convert(proto, tmp_path)
    pruned, report = prune(ir, channels=0.5, calibration=feeds(proto, 4, seed=1), exclude=[convs[1]])
    row = next(r for r in report.layers if convs[1] in r.layer)
    assert row.in_channels[0] == row.in_channels[1] and row.out_channels[0] == row.out_channels[1]
    assert report.flops_after <= 0.5 * report.flops_before
    assert report.channel_groups["excluded"] >= 2  # its input and its output channels


def test_unknown_exclusion_is_a_usage_error(tmp_path):
    from edgepress.errors import UsageError
    proto = deep_separable()
    with pytest.raises(UsageError, match="no layer named 'nope'"):
        prune(convert(proto, tmp_path), channels=0.3, exclude=["nope"])


def test_repair_lowers_held_out_error(tmp_path):
    proto = deep_separable(seed=3)
    ir = convert(proto, tmp_path)
    cal, test = feeds(proto, 24, seed=1), feeds(proto, 8, seed=2)
    plain, _ = prune(ir, channels=0.4, calibration=cal, repair_layers=False)
    repaired, report = prune(ir, channels=0.4, calibration=cal)
    assert report.refits and all(r.error_after <= r.error_before for r in report.refits)
    (out, by_kind), = report.outputs.items()
    assert by_kind["repaired"].relative_l2 < by_kind["no_repair"].relative_l2

    def error(model):
        diffs = [(model.run(f)[out], onnxruntime_run(proto, f)[out]) for f in test]
        return np.sqrt(sum(np.sum((a - b) ** 2) for a, b in diffs) / sum(np.sum(b ** 2) for _, b in diffs))

    assert error(repaired) < 0.8 * error(plain)
    check_runs_everywhere(repaired, test[:2])


def test_limits_stop_short_of_an_unreachable_target(tmp_path):
    proto = deep_separable()
    pruned, report = prune(convert(proto, tmp_path), channels=0.9, calibration=feeds(proto, 4, seed=1))
    assert not report.channel_groups["target_met"] and "stop short" in report.summary()
    for row in report.layers:
        for before, after in (row.in_channels, row.out_channels):
            assert after >= min(before, 8) and after >= before / 2, row
    check_runs_everywhere(pruned, feeds(proto, 1, seed=2))
