"""ONNX Resize -> TFLite RESIZE_NEAREST_NEIGHBOR / RESIZE_BILINEAR; DepthToSpace, SpaceToDepth.

TFLite's resizes have two switches (align_corners, half_pixel_centers) where ONNX has coordinate modes,
rounding modes and free scales. Rather than trusting a table, each axis is resampled both ways on probe
signals: ONNX's way from its coordinate rules as onnxruntime evaluates them in float32, TFLite's by
running the reference evaluator's op. The first TFLite setting that gives the same results is used; if
none does, the node is rejected with the combination named. Sizes known only at run time are checked on
a range of sample sizes instead.
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper

from ..ir import Op, Tensor
from ..reference import evaluate_op
from .common import expand_dims, reshape_to, slice_axis, squeeze
from .lower_elementwise import binary

TFLITE_RESIZE = {"nearest": "RESIZE_NEAREST_NEIGHBOR", "linear": "RESIZE_BILINEAR"}
# (align_corners, half_pixel_centers); TFLite rejects both set.
SETTINGS = ((False, False), (False, True), (True, False))
SAMPLE_SIZES = range(1, 33)  # input sizes tried when a size is known only at run time


# -- ONNX's coordinate rules (onnxruntime, float32) ------------------------------------------------------
HALF = np.float32(0.5)


def half_pixel_symmetric(x, s, n_in, n_out):
    width = np.float32(n_in) * s
    offset = np.float32(n_in) / 2 * (1 - np.float32(np.floor(width)) / width)
    return offset + (x + HALF) / s - HALF


# mode -> source coordinate of output indices x (float32), given the scale s and the input/output sizes.
COORDINATES = {
    "half_pixel": lambda x, s, n_in, n_out: (x + HALF) / s - HALF,
    "pytorch_half_pixel": lambda x, s, n_in, n_out: (x + HALF) / s - HALF if n_out > 1 else np.zeros_like(x),
    "align_corners": lambda x, s, n_in, n_out: (x * np.float32(n_in - 1) / np.float32(n_out - 1) if n_out > 1
                                                else np.zeros_like(x)),
    "asymmetric": lambda x, s, n_in, n_out: x / s,
    "tf_half_pixel_for_nn": lambda x, s, n_in, n_out: (x + HALF) / s,
    "half_pixel_symmetric": half_pixel_symmetric,
}


def round_half_away(c):
    return np.sign(c) * np.floor(np.abs(c) + HALF)


NEAREST = {
    "round_prefer_floor": lambda c: np.where(c == np.trunc(c) + HALF, np.floor(c), round_half_away(c)),
    "round_prefer_ceil": round_half_away,
    "floor": np.floor,
    "ceil": np.ceil,
}


def onnx_resample(method: str, mode: str, rounding: str, in_size: int, out_size: int, scale,
                  probes: np.ndarray) -> np.ndarray:
    """Resample the columns of probes (in_size, P) along axis 0 as onnxruntime does."""
    coords = COORDINATES[mode](np.arange(out_size, dtype=np.float32), np.float32(scale), in_size, out_size)
    if method == "nearest":
        return probes[np.clip(NEAREST[rounding](coords), 0, in_size - 1).astype(np.int64)]
    c = np.clip(coords, 0, in_size - 1)
    lo = np.minimum(c.astype(np.int64), in_size - 1)
    hi = np.minimum(lo + 1, in_size - 1)
    frac = (c - lo).astype(np.float64)[:, None]
    return probes[lo] * (1 - frac) + probes[hi] * frac


# -- TFLite's, from the reference evaluator ----------------------------------------------------------
def tflite_resample(op_type: str, setting: tuple, out_size: int, probes: np.ndarray) -> np.ndarray:
    """Resample the columns of probes (in_size, P) along axis 0 with the reference evaluator's op, as an
    image of H = in_size, W = 1 and P channels."""
    align_corners, half_pixel = setting
    in_size, channels = probes.shape
    image = probes.astype(np.float32).reshape(1, in_size, 1, channels)
    op = Op(op_type, [Tensor("image", image.shape), Tensor("size", (2,), "int32")],
            [Tensor("resized", (1, out_size, 1, channels))],
            {"align_corners": align_corners, "half_pixel_centers": half_pixel})
    return evaluate_op(op, [image, np.array([out_size, 1], np.int32)])[0].reshape(out_size, channels)


def probes_for(in_size: int) -> np.ndarray:
    """A ramp (each pixel its own index, which pins nearest's choice down exactly) and random columns (on
    which two different interpolations cannot agree), fixed by a seed so conversion is deterministic."""
    rng = np.random.default_rng(in_size)
    return np.column_stack([np.arange(in_size), rng.standard_normal((in_size, 3))]).astype(np.float64)


def matching_setting(op_type: str, method: str, mode: str, rounding: str, cases) -> tuple | None:
    """The first TFLite (align_corners, half_pixel_centers) that resamples like ONNX in every
    (in_size, out_size, scale) case, within float32 rounding."""
    for setting in SETTINGS:
        if all(same_resampling(op_type, setting, method, mode, rounding, *case) for case in cases):
            return setting
    return None


def same_resampling(op_type, setting, method, mode, rounding, in_size, out_size, scale) -> bool:
    probes = probes_for(in_size)
    expected = onnx_resample(method, mode, rounding, in_size, out_size, scale, probes)
    got = tflite_resample(op_type, setting, out_size, probes)
    return bool(np.all(np.abs(got - expected) <= 1e-5 * np.maximum(1, np.abs(probes).max(axis=0))))


# -- lowering ---------------------------------------------------------------------------------------
def lower_resize(ctx, node):
    x = ctx.input(0)
    attrs = ctx.attrs()
    out = node.output[0]
    method = attrs.get("mode", "nearest")
    mode = attrs.get("coordinate_transformation_mode", "half_pixel")
    rounding = attrs.get("nearest_mode", "round_prefer_floor")
    if method not in TFLITE_RESIZE:
        ctx.fail(f"mode='{method}' is not supported (TFLite resizes nearest and bilinear only)")
    if mode not in COORDINATES:
        ctx.fail(f"coordinate_transformation_mode='{mode}' is not supported")
    if method == "nearest" and rounding not in NEAREST:
        ctx.fail(f"nearest_mode='{rounding}' is not supported")
    if attrs.get("keep_aspect_ratio_policy", "stretch") != "stretch":
        ctx.fail(f"keep_aspect_ratio_policy='{attrs['keep_aspect_ratio_policy']}' is not supported")
    if x.rank not in (3, 4):
        ctx.fail(f"resizing a rank-{x.rank} tensor is not supported (N, C, H, W or N, C, W only)")
    in_sizes = list(x.shape[2:])
    out_sizes, factors = target_sizes(ctx, x, attrs)
    if attrs.get("antialias", 0) and any(o is None or i is None or o < i for i, o in zip(in_sizes, out_sizes)):
        ctx.fail("antialias=1 when downscaling is not supported")
    op_type = TFLITE_RESIZE[method]
    cases = [c for n, o, f in zip(in_sizes, out_sizes, factors) for c in axis_cases(ctx, n, o, f)]
    setting = matching_setting(op_type, method, mode, rounding, cases)
    if setting is None:
        ctx.fail(f"mode='{method}' with coordinate_transformation_mode='{mode}'"
                 + (f", nearest_mode='{rounding}'" if method == "nearest" else "")
                 + f" at these sizes ({in_sizes} -> {out_sizes}) has no TFLite equivalent")
    options = {"align_corners": setting[0], "half_pixel_centers": setting[1]}
    if x.rank == 3:
        size = size_input(ctx, x, [1, *out_sizes], [1, *factors])
        y = ctx.channels_last(op_type, expand_dims(ctx, x, 2), [size], options, None,
                              out_shape=(*x.shape[:2], 1, *out_sizes))
        squeeze(ctx, y, 2, out=out)
        return
    ctx.channels_last(op_type, x, [size_input(ctx, x, out_sizes, factors)], options, out,
                      out_shape=(*x.shape[:2], *out_sizes))


def target_sizes(ctx, x: Tensor, attrs: dict) -> tuple[list, list]:
    """(output sizes, ONNX scales) of the spatial axes, from the scales or sizes input (for `axes` only,
    opset 18). Output sizes are None where only known at run time; scales are None where given by sizes.
    N and C must keep their sizes."""
    rank = x.rank
    axes = [a + rank if a < 0 else a for a in attrs.get("axes", range(rank))]
    scales = ctx.const_input(2, "scales") if len(ctx.node.input) > 2 else None
    sizes = ctx.const_input(3, "sizes") if len(ctx.node.input) > 3 else None
    if scales is not None and scales.size:
        full = [1.0] * rank
        for a, s in zip(axes, scales):
            full[a] = float(s)
        if full[:2] != [1.0, 1.0]:
            ctx.fail(f"resizing the batch or channel axis is not supported (scales {full})")
        outs = [None if n is None else int(np.floor(np.float32(s) * np.float32(n)))
                for n, s in zip(x.shape[2:], full[2:])]
        return outs, full[2:]
    if sizes is None:
        ctx.fail("Resize needs scales or sizes")
    full = list(x.shape)
    for a, s in zip(axes, sizes):
        full[a] = int(s)
    if full[:2] != list(x.shape[:2]):
        ctx.fail(f"resizing the batch or channel axis is not supported (sizes {full})")
    return full[2:], [None] * (rank - 2)


def axis_cases(ctx, in_size, out_size, factor) -> list:
    """(in, out, ONNX scale) triples to check one axis on: the real one, or samples at run-time sizes."""
    if in_size is not None:
        return [(in_size, out_size, factor if factor is not None else np.float32(out_size) / np.float32(in_size))]
    if factor != int(factor) or factor < 1:
        ctx.fail(f"scale {factor} on a size known only at run time is not supported (integer scales are); "
                 "give static input shapes with --input-shape")
    return [(n, int(n * factor), factor) for n in SAMPLE_SIZES]


def size_input(ctx, x: Tensor, out_sizes, factors) -> Tensor:
    """RESIZE's size input (out H, out W): a constant, or the run-time H, W times integer scales."""
    if None not in out_sizes:
        return ctx.const(np.array(out_sizes, np.int32), hint="size")
    dims = ctx.emit("SHAPE", [x], {"out_type": "INT32"}, shape=(x.rank,), dtype="int32")
    spatial = slice_axis(ctx, dims, 0, 2, None)
    if x.rank == 3:
        spatial = ctx.emit("CONCATENATION", [ctx.const(np.array([1], np.int32), hint="unit"), spatial],
                           {"axis": 0}, shape=(2,), dtype="int32")
    return binary(ctx, "MUL", spatial, ctx.const(np.array([int(f) for f in factors], np.int32), hint="scales"))


def keep_legacy_resize_semantics(upgraded: onnx.ModelProto) -> None:
    """Upsample and opset-10 Resize sample at x / scale and truncate (asymmetric, floor when upsampling);
    ONNX's version converter turns them into opset-11 Resize nodes with the default half_pixel, which
    computes something else. Say what they meant (only Resize nodes of a model upgraded from opset < 11)."""
    for node in upgraded.graph.node:
        if node.op_type != "Resize":
            continue
        kept = [a for a in node.attribute if a.name not in ("coordinate_transformation_mode", "nearest_mode")]
        del node.attribute[:]
        node.attribute.extend([*kept, helper.make_attribute("coordinate_transformation_mode", "asymmetric"),
                               helper.make_attribute("nearest_mode", "floor")])


# -- DepthToSpace / SpaceToDepth ------------------------------------------------------------------------
def lower_depth_to_space(ctx, node):
    """DCR is TFLite's order; CRD (channel c*b*b + i*b + j -> pixel (i, j) of channel c) is rearranged with
    RESHAPE, TRANSPOSE, RESHAPE."""
    x = ctx.input(0)
    attrs = ctx.attrs()
    b = int(attrs["blocksize"])
    out = node.output[0]
    n, c, h, w = x.shape
    if attrs.get("mode", "DCR") == "DCR":
        spatial = (None if d is None else d * b for d in (h, w))
        ctx.channels_last("DEPTH_TO_SPACE", x, [], {"block_size": b}, out,
                          out_shape=(n, None if c is None else c // (b * b), *spatial))
        return
    if None in (c, h, w):
        ctx.fail("mode='CRD' needs static C, H, W; give them with --input-shape")
    blocks = reshape_to(ctx, x, (n, c // (b * b), b, b, h, w))
    moved = ctx.transpose(blocks, (0, 1, 4, 2, 5, 3))
    reshape_to(ctx, moved, (n, c // (b * b), h * b, w * b), out=out)


def lower_space_to_depth(ctx, node):
    x = ctx.input(0)
    b = int(ctx.attrs()["blocksize"])
    n, c, h, w = x.shape
    spatial = (None if d is None else d // b for d in (h, w))
    ctx.channels_last("SPACE_TO_DEPTH", x, [], {"block_size": b}, node.output[0],
                      out_shape=(n, None if c is None else c * b * b, *spatial))


LOWERINGS = {
    "Resize": lower_resize,
    "DepthToSpace": lower_depth_to_space,
    "SpaceToDepth": lower_space_to_depth,
}
