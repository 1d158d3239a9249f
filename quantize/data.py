"""Calibration samples from what users have: a folder of images, .npy/.npz files, or Python iterables.

Every source becomes an iterator of feeds {input name: array shaped like the model's input}:
- a folder of images (.png .jpg .jpeg .bmp .webp), resized to the input's size, scaled to [0, 1], normalized
  with (x - mean) / std and laid out NCHW or NHWC in RGB, BGR or GRAY (ImageOptions);
- a .npy file (one input): an array of samples stacked on axis 0; a .npz file: one such stack per input name;
- in Python, any iterable of feed dicts, or of lists/tuples in input order, or a function returning one
  (TFLite's representative_dataset convention).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from itertools import islice

import numpy as np

from edgepress.errors import UsageError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


@dataclass
class ImageOptions:
    size: tuple | None = None  # (height, width); default: the input's static size
    mean: tuple = (0.0,)
    std: tuple = (1.0,)
    layout: str = "auto"  # NCHW, NHWC, or auto: NHWC when the last dim is 1 or 3 and the second is not
    color: str = "RGB"  # RGB, BGR, GRAY


def samples(source, inputs: list, limit: int | None = None, images: ImageOptions | None = None):
    """An iterator over at most `limit` feed dicts for the graph inputs `inputs` (IR tensors)."""
    it = _iterate(source, inputs, images or ImageOptions())
    return islice(it, limit) if limit else it


def _iterate(source, inputs, images):
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if os.path.isdir(path):
            return _image_folder(path, inputs, images)
        if path.endswith(".npz"):
            return _stacks(_load(path), inputs, path)
        if path.endswith(".npy"):
            if len(inputs) != 1:
                raise UsageError(f"{path}: a .npy file feeds one input; the model has {len(inputs)} "
                                 f"({', '.join(t.name for t in inputs)}): use a .npz keyed by input name")
            return _stacks({inputs[0].name: _load(path)}, inputs, path)
        raise UsageError(f"calibration data '{path}': expected a folder of images, a .npy or a .npz file")
    if callable(source):
        source = source()
    return (_feed(item, inputs, i) for i, item in enumerate(source))


def _load(path: str):
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise UsageError(f"cannot read calibration data '{path}': {e}") from None


def _stacks(arrays, inputs, path):
    missing = [t.name for t in inputs if t.name not in arrays]
    if missing:
        raise UsageError(f"{path}: no array for input(s) {', '.join(missing)} (keys: {', '.join(arrays)})")
    stacks = {t.name: np.asarray(arrays[t.name]) for t in inputs}
    counts = {name: _count(stack, t) for (name, stack), t in zip(stacks.items(), inputs)}
    if len(set(counts.values())) > 1:
        raise UsageError(f"{path}: inputs hold different numbers of samples: {counts}")
    n = next(iter(counts.values()))
    for i in range(n):
        yield {t.name: _take(stacks[t.name], t, i) for t in inputs}


def _count(stack, t) -> int:
    """Samples in a stack: along a new leading axis, or batch-sized slices of an input-ranked array."""
    if stack.ndim == len(t.shape) + 1:
        return stack.shape[0]
    batch = (t.shape[0] or 1) if t.shape else 1
    return stack.shape[0] // batch if stack.ndim == len(t.shape) else 0


def _take(stack, t, i):
    if stack.ndim == len(t.shape) + 1:
        return _check(stack[i], t, i)
    batch = t.shape[0] or 1
    return _check(stack[i * batch:(i + 1) * batch], t, i)


def _feed(item, inputs, i) -> dict:
    if isinstance(item, dict):
        missing = [t.name for t in inputs if t.name not in item]
        if missing:
            raise UsageError(f"calibration sample {i}: no value for input(s) {', '.join(missing)}")
        return {t.name: _check(item[t.name], t, i) for t in inputs}
    values = list(item) if isinstance(item, (list, tuple)) else [item]
    if len(values) != len(inputs):
        raise UsageError(f"calibration sample {i}: {len(values)} value(s) for {len(inputs)} input(s) "
                         f"({', '.join(t.name for t in inputs)})")
    return {t.name: _check(v, t, i) for v, t in zip(values, inputs)}


def _check(value, t, i) -> np.ndarray:
    value = np.asarray(value)
    if value.ndim == len(t.shape) - 1:
        value = value[None]
    if value.ndim != len(t.shape) or any(d is not None and d != v for d, v in zip(t.shape, value.shape)):
        raise UsageError(f"calibration sample {i}: input '{t.name}' has shape {list(value.shape)}, "
                         f"the model expects {[d if d is not None else '?' for d in t.shape]}")
    return value.astype(t.dtype, copy=False)


# -- images -----------------------------------------------------------------------------------------------
def _image_folder(path, inputs, opts: ImageOptions):
    if len(inputs) != 1:
        raise UsageError(f"{path}: a folder of images feeds one input; the model has {len(inputs)}")
    files = sorted(f for f in os.listdir(path) if f.lower().endswith(IMAGE_EXTENSIONS))
    if not files:
        raise UsageError(f"{path}: no images ({', '.join(IMAGE_EXTENSIONS)}) in this folder")
    t = inputs[0]
    layout = image_layout(t, opts.layout)
    for name in files:
        yield {t.name: _check(load_image(os.path.join(path, name), t, layout, opts), t, name)}


def image_layout(t, layout: str) -> str:
    if layout != "auto":
        if layout not in ("NCHW", "NHWC"):
            raise UsageError(f"--layout {layout}: expected NCHW, NHWC or auto")
        return layout
    if len(t.shape) != 4:
        raise UsageError(f"input '{t.name}' has shape {list(t.shape)}: images need a 4-D input")
    return "NHWC" if t.shape[3] in (1, 3) and t.shape[1] not in (1, 3) else "NCHW"


def load_image(path: str, t, layout: str, opts: ImageOptions) -> np.ndarray:
    from PIL import Image
    h, w = opts.size or ((t.shape[1], t.shape[2]) if layout == "NHWC" else (t.shape[2], t.shape[3]))
    if h is None or w is None:
        raise UsageError(f"input '{t.name}' has a dynamic size: give --input-size H,W")
    if opts.color not in ("RGB", "BGR", "GRAY"):
        raise UsageError(f"--color {opts.color}: expected RGB, BGR or GRAY")
    try:
        with Image.open(path) as img:
            img = img.convert("L" if opts.color == "GRAY" else "RGB").resize((w, h), Image.BILINEAR)
            x = np.asarray(img, np.float32) / 255.0
    except OSError as e:
        raise UsageError(f"cannot read image '{path}': {e}") from None
    x = x[:, :, None] if x.ndim == 2 else x[:, :, ::-1] if opts.color == "BGR" else x
    x = (x - np.asarray(opts.mean, np.float32)) / np.asarray(opts.std, np.float32)
    x = x[None]
    return np.ascontiguousarray(np.moveaxis(x, 3, 1) if layout == "NCHW" else x)
