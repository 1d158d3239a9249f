"""ONNX Resize, Upsample, DepthToSpace and SpaceToDepth through the importer: onnxruntime vs ai-edge-litert vs
our reference evaluator. A Resize either converts and matches, or is rejected naming the node and the
combination — never converted to something that computes differently."""
import itertools

import numpy as np
import pytest

from edgepress.convert.ir import Graph, Model, Op, Signature, Tensor
from edgepress.convert.onnx.importer import import_onnx
from edgepress.errors import ConversionError
from onnx_build import In, node_model, op_types
from onnx_harness import TOL, check_onnx_model, litert_run, onnxruntime_run

RNG = np.random.default_rng(17)
COORDINATE_MODES = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn",
                    "half_pixel_symmetric"]
NEAREST_MODES = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]
TARGETS = [  # (scales, sizes) for a (1, 2, 4, 6) input
    ([1, 1, 2, 2], None), ([1, 1, 3, 1.5], None), ([1, 1, 0.5, 0.5], None), (None, [1, 2, 7, 3]),
    (None, [1, 2, 1, 9]),
]
SETTINGS = [(False, False), (False, True), (True, False)]  # TFLite (align_corners, half_pixel_centers)


def resize_model(x_shape, scales, sizes, opset=19, **attrs):
    """Before opset 13 roi and scales are required inputs: empty when unused."""
    empty = np.zeros(0, np.float32) if opset < 13 else None
    args = [In(x_shape), empty, empty if scales is None else np.array(scales, np.float32),
            None if sizes is None else np.array(sizes, np.int64)]
    return node_model("Resize", args, opset=opset, **attrs)


def tflite_resize(op_type: str, setting, x_nchw: np.ndarray, out_hw) -> np.ndarray:
    """One TFLite resize op with the given setting, run by ai-edge-litert; NCHW in and out."""
    x = Tensor("x", (x_nchw.shape[0], *x_nchw.shape[2:], x_nchw.shape[1]))
    size = Tensor.constant("size", np.array(out_hw, np.int32))
    y = Tensor("y", (x.shape[0], *out_hw, x.shape[3]))
    op = Op(op_type, [x, size], [y], {"align_corners": setting[0], "half_pixel_centers": setting[1]})
    model = Model(graphs=[Graph("main", [x], [y], [op])],
                  signatures=[Signature("serving_default", 0, {"x": x}, {"y": y})])
    return np.moveaxis(litert_run(model.to_bytes(), {"x": np.moveaxis(x_nchw, 1, -1)})["y"], -1, 1)


CASES = list(itertools.product(["nearest"], COORDINATE_MODES, NEAREST_MODES, range(len(TARGETS))))
CASES += list(itertools.product(["linear"], COORDINATE_MODES, [None], range(len(TARGETS))))


@pytest.mark.parametrize("mode,ctm,nearest,target", CASES)
def test_resize_converts_exactly_or_is_rejected(mode, ctm, nearest, target):
    """Converted: matches onnxruntime. Rejected: ai-edge-litert with every TFLite setting indeed differs."""
    scales, sizes = TARGETS[target]
    attrs = {"mode": mode, "coordinate_transformation_mode": ctm, **({"nearest_mode": nearest} if nearest else {})}
    model = resize_model((1, 2, 4, 6), scales, sizes, **attrs)
    try:
        import_onnx(model)
    except ConversionError as e:
        assert "resize_node" in str(e) and f"'{ctm}'" in str(e) and "no TFLite equivalent" in str(e)
        x = RNG.standard_normal((1, 2, 4, 6)).astype(np.float32)
        expected = onnxruntime_run(model, {"x0": x})["y0"]
        op_type = "RESIZE_NEAREST_NEIGHBOR" if mode == "nearest" else "RESIZE_BILINEAR"
        for setting in SETTINGS:
            got = tflite_resize(op_type, setting, x, expected.shape[2:])
            assert np.max(np.abs(got - expected)) > TOL * max(1.0, np.max(np.abs(expected))), setting
        return
    ir = check_onnx_model(model)
    assert {"RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR"} & set(op_types(ir))


def test_common_exports_convert():
    """What PyTorch and Paddle export for nearest and bilinear upsampling must never be rejected."""
    for ctm, nearest, mode in [("asymmetric", "floor", "nearest"), ("half_pixel", "round_prefer_floor", "nearest"),
                               ("pytorch_half_pixel", "round_prefer_floor", "linear"),
                               ("half_pixel", "round_prefer_floor", "linear"), ("align_corners", "floor", "linear")]:
        check_onnx_model(resize_model((1, 2, 4, 6), [1, 1, 2, 2], None, mode=mode,
                                      coordinate_transformation_mode=ctm, nearest_mode=nearest))


@pytest.mark.parametrize("opset", [11, 13, 18])
@pytest.mark.parametrize("mode,ctm", [("nearest", "asymmetric"), ("linear", "half_pixel"),
                                      ("linear", "align_corners")])
def test_resize_across_opsets(opset, mode, ctm):
    nearest = {"nearest_mode": "floor"} if mode == "nearest" else {}
    model = resize_model((1, 3, 5, 4), [1, 1, 2, 2], None, opset=opset, mode=mode,
                         coordinate_transformation_mode=ctm, **nearest)
    check_onnx_model(model)


def test_resize_opset11_sizes_with_empty_scales():
    check_onnx_model(resize_model((1, 2, 4, 6), None, [1, 2, 8, 9], opset=11, mode="linear"))


@pytest.mark.parametrize("mode", ["nearest", "linear"])
def test_resize_opset10_model_keeps_its_semantics(mode):
    """Opset-10 Resize (asymmetric, truncating) upgraded to opset 11 must not become half_pixel."""
    model = node_model("Resize", [In((1, 2, 3, 4)), np.array([1, 1, 2, 3], np.float32)], opset=10, mode=mode)
    check_onnx_model(model)


def test_resize_axes_attribute():
    args = [In((1, 2, 4, 6)), None, np.array([2, 3], np.float32)]
    check_onnx_model(node_model("Resize", args, opset=18, mode="nearest", axes=[2, 3],
                                coordinate_transformation_mode="asymmetric", nearest_mode="floor"))


def test_resize_3d_input():
    model = resize_model((1, 2, 5), [1, 1, 2], None, mode="linear")
    check_onnx_model(model)


def test_resize_dynamic_spatial_integer_scale():
    """Run-time H, W: the size input is computed from the input's shape; the mapping is checked on samples."""
    model = resize_model((1, 2, None, None), [1, 1, 2, 2], None, mode="nearest",
                         coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    check_onnx_model(model, {"x0": RNG.standard_normal((1, 2, 5, 7)).astype(np.float32)})


@pytest.mark.parametrize("attrs,problem", [
    ({"mode": "cubic"}, "mode='cubic'"),
    ({"mode": "linear", "coordinate_transformation_mode": "tf_crop_and_resize"}, "tf_crop_and_resize"),
])
def test_unsupported_resize_is_rejected(attrs, problem):
    with pytest.raises(ConversionError, match=f"resize_node.*{problem}"):
        import_onnx(resize_model((1, 2, 4, 4), [1, 1, 2, 2], None, **attrs))


def test_resizing_channels_is_rejected():
    with pytest.raises(ConversionError, match="resize_node.*channel"):
        import_onnx(resize_model((1, 2, 4, 4), [1, 2, 2, 2], None))


@pytest.mark.parametrize("mode", ["nearest", "linear"])
def test_upsample(mode):
    """Upsample (opset 9) models are upgraded to opset 11 by the importer."""
    model = node_model("Upsample", [In((1, 2, 3, 4)), np.array([1, 1, 2, 3], np.float32)], opset=9, mode=mode)
    check_onnx_model(model)


@pytest.mark.parametrize("mode,lowered", [("DCR", "DEPTH_TO_SPACE"), ("CRD", "RESHAPE")])
@pytest.mark.parametrize("block", [2, 3])
def test_depth_to_space(mode, lowered, block):
    ir = check_onnx_model(node_model("DepthToSpace", [In((2, 2 * block * block, 3, 4))], blocksize=block, mode=mode))
    assert lowered in op_types(ir)


@pytest.mark.parametrize("block", [2, 3])
def test_space_to_depth(block):
    ir = check_onnx_model(node_model("SpaceToDepth", [In((2, 3, 2 * block, 3 * block))], blocksize=block))
    assert "SPACE_TO_DEPTH" in op_types(ir)
