"""Dynamic-range quantization: int8 weights, float activations (TFLite's hybrid kernels).

IR -> IR. The weights of the ops TFLite runs as hybrids become symmetric int8 constants; at run time the
kernel quantizes its float input on the fly (asymmetrically where the op has asymmetric_quantize_inputs),
multiplies in integers and rescales to float. As in TFLite, weights smaller than MIN_ELEMENTS stay float:
they save nothing and the hybrid path would cost accuracy.
"""
from __future__ import annotations

import copy

from edgepress.convert.ir import Model, Tensor
from edgepress.convert.passes.edit import Names

from . import params as P
from .bias_correction import corrected_bias
from .plan import ASKED, KeptFloat
from .prepare import expand_weights

# op -> (weight input index, per-channel axis or None for one scale, options the hybrid kernel wants).
# FULLY_CONNECTED keeps one weight scale: its per-channel hybrid kernel (op version 12) is newer than the
# interpreters still deployed (tflite-runtime 2.14 rejects it).
HYBRID = {
    "CONV_2D": (1, 0, {}),
    "DEPTHWISE_CONV_2D": (1, 3, {}),
    "FULLY_CONNECTED": (1, None, {"asymmetric_quantize_inputs": True}),
    "BATCH_MATMUL": (1, None, {"asymmetric_quantize_inputs": True}),
}
MIN_ELEMENTS = 1024


def quantize_dynamic(model: Model, keep=lambda op: False, means: dict | None = None) -> tuple[Model, list]:
    """Returns the new model and KeptFloat rows for the weighted ops left float (all by design: a hybrid
    kernel needs constant weights, and small ones are not worth it). means: per-channel input means by
    tensor name, for bias correction."""
    model = copy.deepcopy(model)
    kept = []
    for graph in model.graphs:
        expand_weights(graph)
        names = Names(graph)
        cache: dict[int, Tensor] = {}
        for op in graph.ops:
            if op.type not in HYBRID:
                continue
            index, axis, options = HYBRID[op.type]
            reason = why_float(op, index, keep)
            if reason:
                kept.append(KeptFloat(op.label, op.type, reason, chosen=True))
                continue
            w = op.inputs[index]
            if id(w) not in cache:
                cache[id(w)] = int8_weights(w, axis, names)
            mean = (means or {}).get(op.inputs[0].name)
            if len(op.inputs) > 2 and op.inputs[2] is not None and op.inputs[2].is_constant and mean is not None:
                op.inputs[2] = corrected(op, op.inputs[2], w, cache[id(w)], mean, names)
            op.inputs[index] = cache[id(w)]
            op.options.update(options)
    return model, kept


def int8_weights(w: Tensor, axis: int | None, names: Names) -> Tensor:
    q = P.weight_params(w.data, axis)
    t = Tensor.constant(names(f"{w.name}/int8"), P.quantize_array(w.data, q, "int8", narrow=True),
                        sources=list(w.sources))
    t.quant = q
    return t


def corrected(op, bias: Tensor, w: Tensor, wq: Tensor, mean, names: Names) -> Tensor:
    """A new float bias that cancels the int8 weights' mean output shift (the old one may be shared)."""
    value = corrected_bias(op, bias.data, w.data, P.dequantize_array(wq.data, wq.quant), mean)
    return Tensor.constant(names(f"{bias.name}/corrected"), value, sources=list(bias.sources))


def why_float(op, index: int, keep) -> str | None:
    w = op.inputs[index] if index < len(op.inputs) else None
    x = op.inputs[0]
    if keep(op):
        return ASKED
    if w is None or not w.is_constant or w.dtype != "float32":
        return "its weights are computed at run time"
    if x is None or x.dtype != "float32" or x.is_constant:
        return "its input is not a float activation"
    if w.data.size < MIN_ELEMENTS:
        return f"weights have {w.data.size} < {MIN_ELEMENTS} elements"
    return None
