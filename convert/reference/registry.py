"""op type -> reference function, merged from the family modules (one op family per file)."""
from . import (activations, conv, elementwise, indexing, linear, normalization, pooling, quant, reduce, resize,
               shape, sparse, tensor_ops)

FAMILIES = (activations, conv, elementwise, indexing, linear, normalization, pooling, quant, reduce, resize,
            shape, sparse, tensor_ops)
REFERENCE = {}
for _family in FAMILIES:
    REFERENCE.update(_family.OPS)
