"""L2_NORMALIZATION against ai-edge-litert's reference kernel (1e-5 relative), including an all-zero row
(TFLite floors the norm at 1e-6)."""
import pytest

from oracles import check, rand


@pytest.mark.parametrize("shape", [(3, 8), (2, 4, 5, 6), (1, 1)])
def test_l2_normalization(shape):
    x = rand(shape, 1)
    x.reshape(-1, shape[-1])[0] = 0
    check("L2_NORMALIZATION", [x])
