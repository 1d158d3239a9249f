"""Text images for the PP-OCR models, rendered with Pillow's built-in scalable font (no font package needed):
pages for det, single lines (upright or rotated 180 degrees) for cls, normalized as PP-OCR does
((pixel / 255 - 0.5) / 0.5, NCHW)."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

WORDS = ("edge press model quantize tensor layer kernel float integer scale zero point channel weight "
         "bias calibrate sample image text line page phone device fast small accurate report").split()


def normalize(img: Image.Image) -> np.ndarray:
    x = (np.asarray(img.convert("RGB"), np.float32) / 255 - 0.5) / 0.5
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def line_image(width: int, height: int, rng: np.random.Generator, rotate: bool = False) -> np.ndarray:
    """One line of 2-4 words, dark on light, scaled into width x height (aspect kept, right-padded)."""
    text = " ".join(rng.choice(WORDS, int(rng.integers(2, 5))))
    font = ImageFont.load_default(size=int(rng.integers(26, 40)))
    left, top, right, bottom = font.getbbox(text)
    ink = int(rng.integers(0, 80))
    line = Image.new("RGB", (right + 8, bottom + 8), (255 - int(rng.integers(0, 40)),) * 3)
    ImageDraw.Draw(line).text((4 - left, 4), text, fill=(ink,) * 3, font=font)
    scaled_w = min(width, max(1, round(line.width * height / line.height)))
    line = line.resize((scaled_w, height), Image.BILINEAR)
    canvas = Image.new("RGB", (width, height), line.getpixel((0, 0)))
    canvas.paste(line, (0, 0))
    return normalize(canvas.rotate(180) if rotate else canvas)


def page_image(size: int, rng: np.random.Generator) -> np.ndarray:
    page = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(page)
    y = int(rng.integers(10, 40))
    while y < size - 40:
        font = ImageFont.load_default(size=int(rng.integers(18, 34)))
        draw.text((int(rng.integers(5, size // 4)), y), " ".join(rng.choice(WORDS, int(rng.integers(2, 6)))),
                  fill="black", font=font)
        y += int(rng.integers(40, 70))
    return normalize(page)
