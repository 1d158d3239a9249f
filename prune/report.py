"""What pruning did and cost: per layer channels or sparsity before and after, parameters, FLOPs, file
size, each refit's error, and the output error against the original model on the calibration samples
with and without repair. Printed as a summary, saved as JSON."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from edgepress.files import write_json

@dataclass
class Metrics:
    relative_l2: float  # ||y - y0|| / ||y0|| over all samples
    max_abs_error: float
    cosine: float


@dataclass
class LayerRow:
    layer: str  # the op's source node names
    op_type: str
    in_channels: tuple  # (before, after)
    out_channels: tuple
    params: tuple
    flops: tuple


@dataclass
class SparseRow:
    layer: str
    op_type: str
    weights: int
    sparsity: tuple  # fraction of zero weights (before, after)
    stored: str  # "sparse" (SparsityParameters + DENSIFY) or "dense"
    bytes: tuple  # weight bytes in the file (dense, as stored)


@dataclass
class Report:
    options: dict = field(default_factory=dict)
    calibration_samples: int = 0
    size_before: int = 0
    size_after: int = 0
    params_before: int = 0
    params_after: int = 0
    flops_before: int = 0
    flops_after: int = 0
    channel_groups: dict = field(default_factory=dict)  # group counts, removable/removed channels, target_met
    layers: list = field(default_factory=list)  # LayerRow for every weighted op, in graph order
    sparse_layers: list = field(default_factory=list)  # SparseRow
    refits: list = field(default_factory=list)  # repair.Refit
    outputs: dict = field(default_factory=dict)  # output name -> {"pruned"|"no_repair"|"repaired": Metrics}
    seconds: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return _finite(asdict(self))

    def save(self, path: str) -> None:
        write_json(path, self.to_dict())

    def summary(self, rows: int = 12) -> str:
        lines = [", ".join(f"{what} {before:,} -> {after:,}{unit} ({_ratio(after, before)})" for what, before, after, unit in
                           (("size", self.size_before, self.size_after, " bytes"),
                            ("params", self.params_before, self.params_after, ""),
                            ("FLOPs", self.flops_before, self.flops_after, "")))]
        if self.channel_groups:
            g = self.channel_groups
            lines.append(f"channel groups: {g['prunable']} prunable, {g['pinned']} pinned, {g['excluded']} excluded; "
                         f"{g['removed_channels']} of {g['removable_channels']} removable channels removed")
            if not g["target_met"]:
                lines.append("warning: the per-layer limits stop short of the target (see --min-channels, "
                             "--max-layer-ratio, --multiple)")
        for name, by_kind in self.outputs.items():
            parts = [f"{kind} rel L2 {m.relative_l2:.4g} cos {m.cosine:.5f} max {m.max_abs_error:.4g}"
                     for kind, m in by_kind.items()]
            lines.append(f"output {name} vs original on {self.calibration_samples} samples: " + "; ".join(parts))
        changed = [r for r in self.layers if r.in_channels[0] != r.in_channels[1]
                   or r.out_channels[0] != r.out_channels[1]]
        if changed:
            lines.append(f"{len(changed)} of {len(self.layers)} layers pruned, largest FLOPs cuts:")
            for r in sorted(changed, key=lambda r: r.flops[1] - r.flops[0])[:rows]:
                lines.append(f"  {r.op_type:<18} in {r.in_channels[0]}->{r.in_channels[1]} out {r.out_channels[0]}->"
                             f"{r.out_channels[1]}  FLOPs {_ratio(r.flops[1], r.flops[0])}  {r.layer}")
        if self.refits:
            applied = sum(r.applied for r in self.refits)
            before = float(np.mean([r.error_before for r in self.refits]))
            after = float(np.mean([r.error_after for r in self.refits]))
            lines.append(f"repair: {applied} of {len(self.refits)} layers refit, mean layer error "
                         f"{before:.4g} -> {after:.4g}")
        if self.sparse_layers:
            sparse = sum(r.stored == "sparse" for r in self.sparse_layers)
            zeros = sum(r.sparsity[1] * r.weights for r in self.sparse_layers)
            total = sum(r.weights for r in self.sparse_layers) or 1
            lines.append(f"sparsity {zeros / total:.3f} over {len(self.sparse_layers)} layers, {sparse} stored sparse")
        return "\n".join(lines)


def metrics(got: list, ref: list) -> Metrics:
    a = np.concatenate([np.ravel(g).astype(np.float64) for g in got])
    b = np.concatenate([np.ravel(r).astype(np.float64) for r in ref])
    norm = float(np.linalg.norm(b))
    denom = norm * float(np.linalg.norm(a))
    return Metrics(relative_l2=float(np.linalg.norm(a - b)) / norm if norm else float(np.linalg.norm(a - b)),
                   max_abs_error=float(np.max(np.abs(a - b))) if a.size else 0.0,
                   cosine=float(a @ b) / denom if denom else 1.0)


def output_metrics(reference: list, **variants) -> dict:
    """Per output name, metrics of each variant's outputs (lists of {name: value} per sample)."""
    names = list(reference[0]) if reference else []
    return {name: {kind: metrics([o[name] for o in outs], [r[name] for r in reference])
                   for kind, outs in variants.items()} for name in names}


def _ratio(after: int, before: int) -> str:
    return f"{after / before:.3f}x" if before else "n/a"


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
