"""What the PP-OCR models' outputs mean: the rec model's character table and CTC decoding, the cls labels."""
from __future__ import annotations

import numpy as np
import onnx

CHARACTER_KEY = "character"  # metadata_props key holding the rec dictionary, one character per line
BLANK = 0
CLS_LABELS = (0, 180)  # output index -> degrees


def rec_charset(model: str | onnx.ModelProto) -> list[str]:
    """Class index -> character: CTC blank at 0, the dictionary from 1, and a space last (PaddleOCR's
    use_space_char), which is how the model's 6625 classes line up with its 6623 dictionary lines."""
    proto = model if isinstance(model, onnx.ModelProto) else onnx.load(model, load_external_data=False)
    props = {p.key: p.value for p in proto.metadata_props}
    if CHARACTER_KEY not in props:
        raise KeyError(f"no '{CHARACTER_KEY}' in the model's metadata_props (keys: {sorted(props)})")
    return ["<blank>"] + props[CHARACTER_KEY].split("\n") + [" "]


def ctc_greedy_decode(probs: np.ndarray, charset: list[str]) -> str:
    """Best class per time step; repeats collapse, then blanks drop. probs: T x C (or 1 x T x C)."""
    best = np.asarray(probs).reshape(-1, np.asarray(probs).shape[-1]).argmax(-1)
    if best.size and int(best.max()) >= len(charset):
        raise ValueError(f"class {int(best.max())} outside the {len(charset)}-entry character table")
    keep = np.ones(best.shape, bool)
    keep[1:] = best[1:] != best[:-1]
    return "".join(charset[i] for i in best[keep & (best != BLANK)])



def box_mask(boxes, shape, grow: int = 0) -> np.ndarray:
    """H x W mask of the boxes, each grown by `grow` pixels on every side."""
    mask = np.zeros(shape, bool)
    for x0, y0, x1, y1 in boxes:
        mask[max(0, y0 - grow):y1 + grow, max(0, x0 - grow):x1 + grow] = True
    return mask
