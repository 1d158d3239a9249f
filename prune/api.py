"""prune(): the one entry point the CLI and Python users call. Composes channel analysis, importance,
planning, shrinking and repair (structured), then sparsification and sparse storage (unstructured), and
the report."""
from __future__ import annotations

import copy
import os
import time
from dataclasses import dataclass

import numpy as np

from edgepress.convert.ir import Model
from edgepress.convert.passes.edit import Names
from edgepress.convert.passes.validate import check
from edgepress.errors import UsageError

from . import sparsity as sp
from .channels import analyze
from .flops import graph_flops, op_flops
from .importance import class_scores
from .repair import REFITTABLE, repair
from .report import LayerRow, Report, SparseRow, output_metrics
from .select import TARGETS, Limits, Planner, excluded_groups, unknown_names
from .shrink import shrink
from .sparse_format import smaller_sparse, sparse_bytes, store_sparse
from .stats import WEIGHTED_DATA, channel_energy
from .stream import Walk, run_all


@dataclass
class ChannelOptions:
    ratio: float
    target: str
    exclude: tuple
    limits: Limits
    repair: bool


@dataclass
class SparsityOptions:
    ratio: float
    pattern: tuple | None  # (N, M)
    method: str
    scope: str
    min_weights: int


def prune(model, channels: float | None = None, sparsity: float | None = None, *, target: str = "flops",
          pattern: str | None = None, method: str = "activation", scope: str = "layer", calibration=None,
          max_samples: int | None = None, images=None, exclude=(), min_channels: int = 8, multiple: int = 8,
          max_layer_ratio: float = 0.5, repair_layers: bool = True, min_weights: int = 1024,
          input_shapes: dict | None = None) -> tuple[Model, Report]:
    """Prune `model` (an IR Model, left unchanged, or an .onnx/.tflite path).

    channels: remove this fraction of `target` ("flops" or "channels") by structured channel pruning; each
    layer keeps at least `min_channels` and (1 - max_layer_ratio) of its channels, and a multiple of
    `multiple`; layers named in `exclude` (source node or output tensor names) stay whole; `repair_layers`
    refits the layers that lost inputs (ridge-regularized least squares, needs calibration).
    sparsity / pattern ("2:4"): zero this fraction of weights (or N of every M) of layers with at least
    `min_weights` weights, by `method` ("magnitude", or "activation": |W| x input RMS, needs calibration)
    over `scope` ("layer" or "global"); stored in TFLite's sparse format where that is smaller.
    calibration: data in any form edgepress.quantize accepts (folder of images with `images` options,
    .npy/.npz, an iterable of feeds); it ranks channels and weights, repairs, and measures output errors.
    Returns the pruned model and its Report.
    """
    n_m = check_options(channels, sparsity, target, pattern, method, scope)
    start = time.perf_counter()
    model = load(model, input_shapes)
    report = Report(options={"channels": channels, "target": target, "sparsity": sparsity, "pattern": pattern,
                             "method": method, "scope": scope, "exclude": list(exclude),
                             "min_channels": min_channels, "multiple": multiple, "max_layer_ratio": max_layer_ratio,
                             "repair": repair_layers, "min_weights": min_weights})
    report.size_before = len(model.to_bytes())
    expand(model)
    feeds = calibration_feeds(model, calibration, max_samples, images)
    report.calibration_samples = len(feeds)
    original = copy.deepcopy(model)
    report.params_before, report.flops_before = nonzero_params(model), graph_flops(model.graph)
    report.seconds["load"] = round(time.perf_counter() - start, 3)
    reference, outputs = None, {}
    if channels:
        options = ChannelOptions(channels, target, tuple(exclude), Limits(min_channels, multiple, max_layer_ratio),
                                 repair_layers)
        reference, outputs = prune_channels(original, model, options, feeds, report)
    if sparsity or n_m:
        sparsify(model, SparsityOptions(sparsity or 0.0, n_m, method, scope, min_weights), feeds, report)
        outputs.pop("repaired", None)
        outputs["pruned"] = None  # the final model, measured below
    if feeds:
        started = time.perf_counter()
        if reference is None or None in outputs.values():
            reference = reference or run_all(original.graph, feeds)
            final = run_all(model.graph, feeds)
            outputs = {kind: final if value is None else value for kind, value in outputs.items()}
        report.outputs = output_metrics(reference, **outputs)
        report.seconds["report"] = round(time.perf_counter() - started, 3)
    report.params_after, report.flops_after = nonzero_params(model), graph_flops(model.graph)
    report.size_after = len(model.to_bytes())
    return model, report


def check_options(channels, sparsity, target, pattern, method, scope) -> tuple | None:
    """(N, M) of the pattern, or None; UsageError for anything out of range."""
    if channels is None and sparsity is None and pattern is None:
        raise UsageError("nothing to do: give a channel ratio (--channels) and/or a sparsity (--sparsity, --pattern)")
    if channels is not None and not 0 < channels < 1:
        raise UsageError(f"--channels {channels}: expected a fraction between 0 and 1 (e.g. 0.3)")
    if sparsity is not None and not 0 <= sparsity < 1:
        raise UsageError(f"--sparsity {sparsity}: expected a fraction in [0, 1) (e.g. 0.5)")
    for value, allowed, option in ((target, TARGETS, "--target"), (method, sp.METHODS, "--method"),
                                   (scope, sp.SCOPES, "--scope")):
        if value not in allowed:
            raise UsageError(f"{option} {value}: expected one of {', '.join(allowed)}")
    try:
        n_m = sp.parse_pattern(pattern)
    except ValueError as e:
        raise UsageError(f"--{e}") from None
    if n_m is not None and sparsity is not None and abs(sparsity - (1 - n_m[0] / n_m[1])) > 1e-6:
        raise UsageError(f"--sparsity {sparsity} contradicts --pattern {pattern} ({1 - n_m[0] / n_m[1]:g} zeros)")
    return n_m


def load(model, input_shapes) -> Model:
    if isinstance(model, (str, os.PathLike)):
        from edgepress.convert import load as load_model
        return load_model(os.fspath(model), input_shapes=input_shapes)
    return copy.deepcopy(model)


def expand(model: Model) -> None:
    """Work on float32 weights: fold float16/int8 weights behind DEQUANTIZE and sparse ones behind DENSIFY.
    Quantized activations mean a quantized model, which is pruned before quantizing, not after."""
    from edgepress.quantize.prepare import expand_weights
    graph = model.graph
    expand_weights(graph)
    quantized = [t.name for t in graph.tensors() if not t.is_constant and t.quant is not None]
    if quantized:
        raise UsageError(f"the model is quantized (e.g. tensor '{quantized[0]}'): prune the float model, then "
                         f"quantize it")


def calibration_feeds(model: Model, calibration, max_samples, images) -> list:
    if calibration is None:
        return []
    from edgepress.quantize.data import samples
    feeds = list(samples(calibration, model.graph.inputs, max_samples, images))
    if not feeds:
        raise UsageError("the calibration data holds no samples")
    return feeds


def nonzero_params(model: Model) -> int:
    return sum(int(np.count_nonzero(t.data)) for t in model.graph.tensors()
               if t.is_constant and t.dtype == "float32")


def prune_channels(original: Model, model: Model, options: ChannelOptions, feeds: list, report: Report) -> tuple:
    """Structured pruning of `model` in place. Returns the original's outputs on the samples and the pruned
    variants' (kind -> outputs per sample); (None, {}) without calibration data."""
    started = time.perf_counter()
    missing = unknown_names(model.graph, options.exclude)
    if missing:
        raise UsageError(f"--exclude: no layer named {', '.join(repr(n) for n in missing)}")
    a = analyze(model.graph)
    groups = a.groups()
    energy = channel_energy(original.graph, feeds) if feeds else None
    excluded = excluded_groups(groups, options.exclude)
    plan = Planner(a, groups, class_scores(a, energy), excluded, options.limits).plan(options.target, options.ratio)
    report.channel_groups = {
        "prunable": sum(1 for i, g in enumerate(groups) if i not in excluded and not g.pinned.all()),
        "pinned": sum(1 for g in groups if g.pinned.all()), "excluded": len(excluded),
        "removable_channels": plan.channels_before, "removed_channels": plan.channels_before - plan.channels_after,
        "target_met": plan.met}
    targets = refit_targets(a, a.keep_masks(plan.removed))
    shrink(a, plan.removed)
    check(model, after="channel pruning")
    report.layers = layer_rows(original.graph, model.graph)
    report.seconds["plan"] = round(time.perf_counter() - started, 3)
    if not feeds:
        return None, {}
    started = time.perf_counter()
    if options.repair and targets:
        unrepaired = copy.deepcopy(model)
        report.refits, outs = repair(original.graph, model.graph, feeds, targets, extra=[unrepaired.graph])
        report.seconds["repair"] = round(time.perf_counter() - started, 3)
        return outs[0], {"no_repair": outs[2], "repaired": outs[1]}
    reference, pruned = Walk([original.graph, model.graph], feeds).run()
    return reference, {"pruned": pruned}


def refit_targets(a, masks: dict) -> dict:
    """op index -> (keep mask of its output channels, groups) for every refittable consumer losing inputs."""
    index = {id(op): i for i, op in enumerate(a.graph.ops)}
    return {index[id(c.op)]: (masks[id(c.op.outputs[0])], c.groups) for c in a.consumers
            if c.op.type in REFITTABLE and not masks[id(c.tensor)].all()}


def layer_rows(before, after) -> list:
    rows = []
    for op0, op1 in zip(before.ops, after.ops):
        if op0.type in WEIGHTED_DATA:
            data = WEIGHTED_DATA[op0.type]
            rows.append(LayerRow(op0.label, op0.type, (op0.inputs[data].shape[-1], op1.inputs[data].shape[-1]),
                                 (op0.outputs[0].shape[-1], op1.outputs[0].shape[-1]),
                                 (op0.inputs[1].data.size, op1.inputs[1].data.size), (op_flops(op0), op_flops(op1))))
    return rows


def sparsify(model: Model, options: SparsityOptions, feeds: list, report: Report) -> None:
    started = time.perf_counter()
    graph = model.graph
    energy = channel_energy(graph, feeds) if feeds and options.method == "activation" else None
    found = sp.layers(graph, options.method, energy, options.min_weights)
    names = Names(graph)
    for layer, keep in zip(found, sp.masks(found, options.ratio, options.pattern, options.method, options.scope)):
        w = layer.op.inputs[1]
        before = 1.0 - np.count_nonzero(w.data) / w.data.size
        if keep is not None:
            w.data = np.where(keep, w.data, np.float32(0)).astype(np.float32)
        stored = "sparse" if keep is not None and smaller_sparse(w.data) else "dense"
        size = sparse_bytes(w.data) if stored == "sparse" else w.data.nbytes
        report.sparse_layers.append(SparseRow(layer.op.label, layer.op.type, int(w.data.size),
                                              (before, 1.0 - np.count_nonzero(w.data) / w.data.size), stored,
                                              (int(w.data.nbytes), int(size))))
        if stored == "sparse":
            store_sparse(graph, layer.op, 1, names)
    report.seconds["sparsify"] = round(time.perf_counter() - started, 3)

