"""Gray text images drawn with Pillow: single lines (for cls and rec) and pages of lines (for det).

Dark text on a light background, in a random DejaVu face and size, with the small imperfections of a
scanned or photographed crop (uneven margins, a slight tilt, sensor noise) so that the models see what they
were trained on rather than perfectly clean synthetic text. Every draw comes from the caller's seeded RNG.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from .fonts import FACES, font
from .words import phrase

TILT_DEGREES = 1.0
NOISE_SIGMA = (0.0, 6.0)


@dataclass(frozen=True)
class Ink:
    """Text and background gray levels; contrast stays high as in printed text."""
    fg: int
    bg: int

    @staticmethod
    def draw(rng: np.random.Generator) -> "Ink":
        return Ink(fg=int(rng.integers(0, 70)), bg=int(rng.integers(200, 256)))


def add_noise(image: Image.Image, rng: np.random.Generator) -> np.ndarray:
    pixels = np.asarray(image, np.float32)
    pixels = pixels + rng.normal(0.0, rng.uniform(*NOISE_SIGMA), pixels.shape)
    return np.clip(np.rint(pixels), 0, 255).astype(np.uint8)


def line_image(text: str, rng: np.random.Generator, size_range=(20, 44)) -> np.ndarray:
    """One line of text cropped with a small uneven margin, as a detector's box would cut it: uint8 H x W."""
    face = FACES[rng.integers(len(FACES))]
    size = int(rng.integers(*size_range))
    f = font(face, size)
    left, top, right, bottom = f.getbbox(text)
    # Margins relative to the font size: detection boxes are expanded around the ink (DB's unclip).
    pad_l, pad_r = (int(size * rng.uniform(0.05, 0.4)) for _ in range(2))
    pad_t, pad_b = (int(size * rng.uniform(0.08, 0.3)) for _ in range(2))
    ink = Ink.draw(rng)
    image = Image.new("L", (right - left + pad_l + pad_r, bottom - top + pad_t + pad_b), ink.bg)
    ImageDraw.Draw(image).text((pad_l - left, pad_t - top), text, font=f, fill=ink.fg)
    image = image.rotate(rng.uniform(-TILT_DEGREES, TILT_DEGREES), Image.BICUBIC, expand=True, fillcolor=ink.bg)
    return add_noise(image, rng)


@dataclass(frozen=True)
class TextLine:
    """One line on a page. box (x0, y0, x1, y1), end-exclusive: the ink's horizontal extent and the font's
    full line height (ascender to descender), as lines are annotated. x_height: of the font, in pixels."""
    box: tuple
    x_height: int


@dataclass(frozen=True)
class Page:
    pixels: np.ndarray  # uint8 H x W
    lines: tuple  # TextLine per line of text


def page_image(rng: np.random.Generator, size=(640, 640), size_range=(18, 40), margin=24) -> Page:
    """Lines of 2-6 words at random indents, one per row, with random gaps, until the page is full."""
    height, width = size
    ink = Ink.draw(rng)
    image = Image.new("L", (width, height), ink.bg)
    draw = ImageDraw.Draw(image)
    lines = []
    y = margin + int(rng.integers(0, 40))
    while True:
        f = font(FACES[rng.integers(len(FACES))], int(rng.integers(*size_range)))
        words = phrase(rng, int(rng.integers(2, 7))).split()
        while len(words) > 1 and draw.textlength(" ".join(words), font=f) > width - 2 * margin:
            words.pop()
        text = " ".join(words)
        ascent, descent = f.getmetrics()
        left, _, right, _ = draw.textbbox((0, 0), text, font=f, anchor="ls")
        if y + ascent + descent > height - margin:
            break
        x = margin + int(rng.integers(0, max(1, width - 2 * margin - (right - left))))
        draw.text((x - left, y + ascent), text, font=f, fill=ink.fg, anchor="ls")
        lines.append(TextLine((x, y, x + right - left, y + ascent + descent), -f.getbbox("x", anchor="ls")[1]))
        y += ascent + descent + int(rng.integers(4, 36))
    return Page(add_noise(image, rng), tuple(lines))
