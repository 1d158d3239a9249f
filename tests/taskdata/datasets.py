"""Seeded task datasets for the PP-OCR models: each sample is a preprocessed NCHW input and its target.

cls: text lines, upright (label 0) and turned 180 degrees (label 1), alternating.
rec: short phrases (1-2 words or numbers) whose text is the target.
det: 640 x 640 pages of text lines whose target is the lines' TextLine boxes (see render.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from .preprocess import CLS_SHAPE, DET_SHAPE, REC_SHAPE, line_input, page_input, to_layout
from .render import line_image, page_image
from .words import phrase


@dataclass(frozen=True)
class Sample:
    x: np.ndarray  # 1 x 3 x H x W float32, normalized as the model expects
    target: Any  # cls: 0 (0 deg) / 1 (180 deg); rec: the text; det: tuple of TextLine


def cls_dataset(n: int = 200, seed: int = 0) -> list[Sample]:
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(n):
        gray = line_image(phrase(rng, int(rng.integers(2, 6))), rng)
        label = i % 2
        samples.append(Sample(line_input(np.rot90(gray, 2) if label else gray, CLS_SHAPE), label))
    return samples


def rec_dataset(n: int = 100, seed: int = 0) -> list[Sample]:
    """Phrases are redrawn until their image fits the rec input's aspect ratio, so none is squeezed."""
    rng = np.random.default_rng(seed)
    samples = []
    while len(samples) < n:
        text = phrase(rng, int(rng.integers(1, 3)))
        gray = line_image(text, rng)
        if gray.shape[1] * REC_SHAPE[0] <= gray.shape[0] * REC_SHAPE[1]:
            samples.append(Sample(line_input(gray, REC_SHAPE), text))
    return samples


def det_dataset(n: int = 4, seed: int = 0) -> list[Sample]:
    rng = np.random.default_rng(seed)
    pages = [page_image(rng, DET_SHAPE) for _ in range(n)]
    return [Sample(page_input(p.pixels), p.lines) for p in pages]


def feeds(dataset: list[Sample], layout: str = "NCHW", input_name: str = "x") -> Iterator[dict]:
    """Input dicts in the model's layout: calibration data, or what a model callable receives."""
    for sample in dataset:
        yield {input_name: to_layout(sample.x, layout)}
