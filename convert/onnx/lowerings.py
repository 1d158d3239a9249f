"""ONNX op type -> lowering function `fn(ctx, node)`, merged from the family modules (one family per file).

A lowering reads its inputs and attributes through the ImportContext and emits TFLite ops with `ctx.emit`;
see context.py for the layout convention (ONNX layout kept, channels-last-only ops wrapped in transposes).
"""
from . import (lower_activations, lower_conv, lower_elementwise, lower_linear, lower_norm, lower_pool,
               lower_quant, lower_reduce, lower_resize, lower_shape)

LOWERINGS = {}
for _family in (lower_activations, lower_conv, lower_elementwise, lower_linear, lower_norm, lower_pool,
                lower_quant, lower_reduce, lower_resize, lower_shape):
    LOWERINGS.update(_family.LOWERINGS)
