"""PP-OCR inputs rendered with Pillow (fonts and words from tests/taskdata): text lines upright or turned
180 degrees for the cls model, pages of text for the det model, preprocessed as rapidocr does (cls: height
48, width scaled and right-padded to 192, (x/255 - 0.5)/0.5; det: ImageNet mean/std), NCHW float32."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from taskdata.fonts import FACES, font
from taskdata.words import phrase

CLS_SHAPE = (1, 3, 48, 192)
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def _colors(rng):
    """A light background and a dark ink, as printed text mostly is."""
    paper = tuple(int(v) for v in rng.integers(190, 256, 3))
    ink = tuple(int(v) for v in rng.integers(0, 70, 3))
    return paper, ink


def text_line(rng: np.random.Generator) -> Image.Image:
    f = font(str(rng.choice(FACES)), int(rng.integers(22, 40)))
    text = phrase(rng, int(rng.integers(1, 5)))
    left, top, right, bottom = f.getbbox(text)
    pad = int(rng.integers(2, 8))
    paper, ink = _colors(rng)
    img = Image.new("RGB", (right - left + 2 * pad, bottom - top + 2 * pad), paper)
    ImageDraw.Draw(img).text((pad - left, pad - top), text, font=f, fill=ink)
    return img


def cls_input(img: Image.Image) -> np.ndarray:
    h, w = CLS_SHAPE[2], CLS_SHAPE[3]
    width = min(w, max(1, int(np.ceil(h * img.width / img.height))))
    x = np.asarray(img.resize((width, h), Image.BILINEAR), np.float32)[:, :, ::-1] / 255.0  # BGR, like cv2
    out = np.zeros((h, w, 3), np.float32)
    out[:, :width] = (x - 0.5) / 0.5
    return out.transpose(2, 0, 1)[None]


def cls_samples(n: int, seed: int) -> tuple[list, np.ndarray]:
    """n feeds for the cls model and their labels (0 upright, 1 turned 180 degrees), half of each."""
    rng = np.random.default_rng(seed)
    feeds, labels = [], []
    for i in range(n):
        img = text_line(rng)
        label = i % 2
        if label:
            img = img.rotate(180)
        feeds.append({"x": cls_input(img)})
        labels.append(label)
    return feeds, np.array(labels)


def page(size: int, rng: np.random.Generator) -> Image.Image:
    paper, ink = _colors(rng)
    img = Image.new("RGB", (size, size), paper)
    draw = ImageDraw.Draw(img)
    y = int(rng.integers(4, 24))
    while y < size - 16:
        f = font(str(rng.choice(FACES)), int(rng.integers(12, 30)))
        draw.text((int(rng.integers(4, size // 3)), y), phrase(rng, int(rng.integers(2, 7))), font=f, fill=ink)
        y += int(f.size * rng.uniform(1.3, 2.6))
    return img


def det_samples(n: int, size: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    feeds = []
    for _ in range(n):
        x = np.asarray(page(size, rng), np.float32)[:, :, ::-1] / 255.0
        feeds.append({"x": ((x - MEAN) / STD).transpose(2, 0, 1)[None].astype(np.float32)})
    return feeds
