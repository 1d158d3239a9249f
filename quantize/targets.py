"""Where a full-integer model will run decides a few of its ops: the kernels there, not the TFLite
specification, say which ops pay off as integer ops.

- xnnpack: litert's default CPU delegate. A graph op it has no int8 kernel for runs on a builtin kernel and
  cuts the model into one more delegate partition. HARD_SWISH is rewritten with ops it has (decompose.py);
  SOFTMAX stays float, since XNNPACK's float SOFTMAX and the DEQUANTIZE/QUANTIZE around it stay in the
  partition (and a float softmax does not round its output to 1/256).
- builtin: TFLite's own ops as the specification quantizes them (NPU delegates, TFLite Micro).
int16x8 runs on builtin kernels only; TFLite has no int16 HARD_SWISH kernel, so it is rewritten there too.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Target:
    decompose: frozenset = frozenset()  # op types rewritten as ops with integer kernels (decompose.py)
    stays_float: dict = field(default_factory=dict)  # op type -> why it runs best in float there


TARGETS = {
    "xnnpack": Target(frozenset({"HARD_SWISH"}),
                      {"SOFTMAX": "XNNPACK has no int8 SOFTMAX; in float it stays in the delegate partition"}),
    "builtin": Target(),
}
INT16 = Target(frozenset({"HARD_SWISH"}))


def target_for(activation: str, name: str) -> Target:
    return INT16 if activation == "int16" else TARGETS[name]
