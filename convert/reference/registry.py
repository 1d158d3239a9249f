"""op type -> reference function, merged from the family modules (one op family per file)."""
from . import (activations, conv, elementwise, indexing, linear, normalization, pooling, quant, reduce, resize,
               shape, sparse, tensor_ops)

REFERENCE = {}
for _family in (activations, conv, elementwise, indexing, linear, normalization, pooling, quant, reduce, resize,
                shape, sparse, tensor_ops):
    REFERENCE.update(_family.OPS)
