"""op type -> reference function, merged from the family modules (one op family per file)."""
from . import activations, conv, elementwise, pooling, reduce, resize, shape, tensor_ops

FAMILIES = (activations, conv, elementwise, pooling, reduce, resize, shape, tensor_ops)
REFERENCE = {}
for _family in FAMILIES:
    REFERENCE.update(_family.OPS)
