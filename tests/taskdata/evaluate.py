"""Run a model over a task dataset and score it.

A model is any callable feeds -> outputs: feeds is {input name: array} in the model's layout; outputs is a
list/tuple of arrays or a dict of them holding exactly one output (the PP-OCR models each have one).
onnxruntime, ai-edge-litert, the reference evaluator (`lambda f: ir.run(f)`) or runtime_edge plug in the
same way; `layout="NHWC"` serves models converted with --nhwc-io (4-D inputs and outputs are NHWC).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .datasets import Sample, feeds
from .metrics import accuracy, char_accuracy, cosine
from .ppocr import box_mask, ctc_greedy_decode
from .preprocess import from_layout
from .render import TextLine

Model = Callable[[dict], object]


def only_output(outputs) -> np.ndarray:
    values = list(outputs.values()) if isinstance(outputs, dict) else list(outputs)
    if len(values) != 1:
        raise ValueError(f"expected one model output, got {len(values)}")
    return np.asarray(values[0])


def predict(model: Model, dataset: list[Sample], layout: str = "NCHW", input_name: str = "x") -> list[np.ndarray]:
    """The model's output for each sample, in NCHW."""
    return [from_layout(only_output(model(f)), layout) for f in feeds(dataset, layout, input_name)]


def cls_accuracy(model: Model, dataset: list[Sample], layout: str = "NCHW", input_name: str = "x") -> float:
    """Fraction of lines whose orientation (0 = 0 deg, 1 = 180 deg) is the argmax of the model's 2 scores."""
    predicted = [int(np.argmax(y.reshape(-1))) for y in predict(model, dataset, layout, input_name)]
    return accuracy(predicted, [s.target for s in dataset])


def rec_texts(model: Model, dataset: list[Sample], charset: list[str], layout: str = "NCHW",
              input_name: str = "x") -> list[str]:
    return [ctc_greedy_decode(y, charset) for y in predict(model, dataset, layout, input_name)]


def rec_char_accuracy(model: Model, dataset: list[Sample], charset: list[str], layout: str = "NCHW",
                      input_name: str = "x") -> float:
    """1 - total edit distance / total characters between the CTC-decoded texts and the rendered ones."""
    return char_accuracy(rec_texts(model, dataset, charset, layout, input_name), [s.target for s in dataset])


def det_maps(model: Model, dataset: list[Sample], layout: str = "NCHW", input_name: str = "x") -> list[np.ndarray]:
    """The text probability map (H x W) of each page."""
    return [y.reshape(y.shape[-2:]) for y in predict(model, dataset, layout, input_name)]


def det_map_cosine(maps: list[np.ndarray], baseline: list[np.ndarray]) -> float:
    """Mean over pages of the cosine between a model's probability map and the baseline's (e.g. float)."""
    return float(np.mean([cosine(m, b) for m, b in zip(maps, baseline, strict=True)]))


def line_coverage(prob: np.ndarray, line: TextLine) -> np.ndarray:
    """Per column of a text line, the highest probability over the line's height: ~1 where the map marks the
    column as text. DB marks a thin band (its shrunk training labels) whose height and place vary with the
    letters, so columns, not the whole box, are what must be covered. The ends are inset by half the
    x-height, as DB's shrink insets them."""
    x0, y0, x1, y1 = line.box
    inset = line.x_height // 2
    return prob[y0:y1, x0 + inset:max(x0 + inset + 1, x1 - inset)].max(axis=0)


def det_region_means(maps: list[np.ndarray], dataset: list[Sample], margin: int = 4) -> tuple[float, float]:
    """Mean line coverage over every text column (should be ~1), and mean probability on the page away from
    every line box by more than `margin` pixels (should be ~0)."""
    inside, outside = [], []
    for m, s in zip(maps, dataset, strict=True):
        inside.extend(line_coverage(m, line) for line in s.target)
        outside.append(m[~box_mask([line.box for line in s.target], m.shape, grow=margin)])
    return float(np.concatenate(inside).mean()), float(np.concatenate(outside).mean())


def det_line_recall(maps: list[np.ndarray], dataset: list[Sample], threshold: float = 0.5) -> float:
    """Fraction of text lines whose mean coverage is above `threshold`."""
    found = [float(line_coverage(m, line).mean()) > threshold
             for m, s in zip(maps, dataset, strict=True) for line in s.target]
    return float(np.mean(found))
