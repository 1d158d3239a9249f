"""What quantization cost: per-layer SQNR and cosine between the float and the quantized model's activations
on the same samples (rows named by the original source nodes), output metrics, sizes, and the layers that
stayed float with the reason. Printed as a summary, saved as JSON."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from edgepress.convert.ir import Model
from edgepress.files import write_json

from . import params as P


@dataclass
class Metrics:
    sqnr_db: float
    cosine: float
    max_abs_error: float


@dataclass
class LayerRow:
    layer: str  # the op's source node names
    op_type: str
    tensor: str
    dtype: str  # how the quantized model holds this activation
    metrics: Metrics


@dataclass
class Report:
    scheme: str
    calibrator: str | None = None
    calibration_samples: int = 0
    report_samples: int = 0
    size_before: int = 0
    size_after: int = 0
    layers: list = field(default_factory=list)  # LayerRow, in graph order
    outputs: dict = field(default_factory=dict)  # output name -> Metrics
    kept_float: list = field(default_factory=list)  # integer.KeptFloat
    int16_layers: list = field(default_factory=list)  # op labels run with int16 activations in an int8 model
    budget: dict | None = None  # budget.Budget as a dict, in accuracy-budget mode
    equalized_pairs: int = 0  # cross-layer equalization (equalize.py), when asked for
    seconds: dict = field(default_factory=dict)  # phase -> seconds

    def to_dict(self) -> dict:
        return _finite(asdict(self))

    def save(self, path: str) -> None:
        write_json(path, self.to_dict())

    def summary(self, worst: int = 10) -> str:
        ratio = self.size_after / self.size_before if self.size_before else float("nan")
        lines = [f"scheme {self.scheme}" + (f", calibrator {self.calibrator} on {self.calibration_samples} samples"
                                             if self.calibrator else ""),
                 f"size {self.size_before:,} -> {self.size_after:,} bytes ({ratio:.2f}x)"]
        if self.equalized_pairs:
            lines.append(f"cross-layer equalization: {self.equalized_pairs} layer pair(s)")
        for name, m in self.outputs.items():
            lines.append(f"output {name}: SQNR {m.sqnr_db:.1f} dB, cosine {m.cosine:.5f}, "
                         f"max abs error {m.max_abs_error:.4g}")
        if self.layers:
            rows = sorted(self.layers, key=lambda r: r.metrics.sqnr_db)[:worst]
            lines.append(f"lowest SQNR of {len(self.layers)} layers (on {self.report_samples} samples):")
            lines += [f"  {r.metrics.sqnr_db:7.1f} dB  cos {r.metrics.cosine:.5f}  {r.op_type:<20} {r.layer}"
                      for r in rows]
        if self.budget:
            b = self.budget
            lines.append(f"budget: {b['metric']} drop {b['drop']:.4g} (all quantized: {b['full_drop']:.4g}) "
                         f"{'<=' if b['reached'] else '>'} {b['max_drop']} with {len(b['kept'])} layer(s) "
                         f"{b['fallback']}, {b['probes']} probes")
        if self.int16_layers:
            lines.append(f"{len(self.int16_layers)} layer(s) in int16x8: {', '.join(self.int16_layers)}")
        if self.kept_float:
            lines.append(f"{len(self.kept_float)} layer(s) stayed float:")
            lines += [f"  {k.op_type:<20} {k.op}: {k.reason}" for k in self.kept_float]
        return "\n".join(lines)


def _finite(value):
    """JSON has no inf/nan: an exact match (infinite SQNR) is written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


class _Accumulator:
    def __init__(self):
        self.ff = self.ee = self.fq = self.qq = 0.0
        self.max_err = 0.0

    def add(self, f: np.ndarray, q: np.ndarray) -> None:
        f, q = np.ravel(f).astype(np.float64), np.ravel(q).astype(np.float64)
        err = f - q
        self.ff += float(f @ f)
        self.qq += float(q @ q)
        self.fq += float(f @ q)
        self.ee += float(err @ err)
        self.max_err = max(self.max_err, float(np.max(np.abs(err))) if err.size else 0.0)

    def metrics(self) -> Metrics:
        sqnr = 10 * math.log10(self.ff / self.ee) if self.ee > 0 and self.ff > 0 else (
            math.inf if self.ee == 0 else -math.inf)
        denom = math.sqrt(self.ff * self.qq)
        cosine = self.fq / denom if denom > 0 else (1.0 if self.ee == 0 else 0.0)
        return Metrics(sqnr, cosine, self.max_err)


def compare(float_model: Model, quant_model: Model, tensor_map: dict, samples: list) -> tuple[list, dict]:
    """(layer rows, output metrics) over `samples` (feed dicts for the float model)."""
    fg, qg = float_model.graph, quant_model.graph
    qtensors = {t.name: t for t in qg.tensors()}
    watched = [(op, t) for op in fg.ops for t in op.outputs[:1] if t.dtype == "float32" and t.name in tensor_map]
    layers = {id(t): _Accumulator() for _, t in watched}
    outputs = {t.name: _Accumulator() for t in fg.outputs}
    for feeds in samples:
        fv = float_model.run(feeds, keep_intermediates=True)
        qv = quant_model.run(quant_feeds(qg, feeds), keep_intermediates=True)
        for _, t in watched:
            layers[id(t)].add(fv[t.name], real_value(qtensors[tensor_map[t.name]], qv[tensor_map[t.name]]))
        for t in fg.outputs:
            outputs[t.name].add(fv[t.name], real_value(qtensors[t.name], qv[t.name]))
    rows = [LayerRow(op.label, op.type, t.name, qtensors[tensor_map[t.name]].dtype, layers[id(t)].metrics())
            for op, t in watched]
    return rows, {name: acc.metrics() for name, acc in outputs.items()}


def quant_feeds(graph, feeds: dict) -> dict:
    """Float feeds converted for the quantized model's inputs (quantized where its inputs are integers)."""
    out = {}
    for t in graph.inputs:
        x = np.asarray(feeds[t.name])
        out[t.name] = P.quantize_array(x, t.quant, t.dtype) if t.quant is not None and t.dtype != "float32" else x
    return out


def real_value(t, value: np.ndarray) -> np.ndarray:
    if t.quant is not None and value.dtype.kind in "iu":
        return P.dequantize_array(value, t.quant)
    return np.asarray(value, np.float32)
