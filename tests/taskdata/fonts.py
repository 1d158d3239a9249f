"""The fonts text is rendered in: DejaVu from Debian's fonts-dejavu-core (the faces that package ships)."""
from __future__ import annotations

import functools
import os

from PIL import ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu"
DEBIAN_PACKAGE = "fonts-dejavu-core"
# Sans, serif and monospace, regular and bold: different stroke widths and letter shapes, all Latin.
FACES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf",
         "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf")


class FontMissingError(RuntimeError):
    """The packaged font is not installed."""


@functools.lru_cache(maxsize=None)
def font(face: str, size: int) -> ImageFont.FreeTypeFont:
    path = os.path.join(FONT_DIR, face)
    if not os.path.isfile(path):
        raise FontMissingError(f"{path} not found: install the Debian package {DEBIAN_PACKAGE}")
    return ImageFont.truetype(path, size)
