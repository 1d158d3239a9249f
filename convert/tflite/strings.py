"""TFLite's packed layout for string tensors: int32 count N, N + 1 int32 byte offsets from the start of
the buffer, then the concatenated bytes. The IR holds such constants as numpy object arrays of bytes."""
from __future__ import annotations

import numpy as np


def encode_strings(values: np.ndarray) -> bytes:
    items = [v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in np.asarray(values, dtype=object).ravel()]
    header = 4 * (len(items) + 2)
    offsets = np.cumsum([header] + [len(s) for s in items], dtype=np.int64)
    return np.asarray([len(items), *offsets], dtype="<i4").tobytes() + b"".join(items)


def decode_strings(raw: bytes, shape: tuple) -> np.ndarray:
    """Raises ValueError when the layout is inconsistent with the buffer."""
    if len(raw) < 4:
        raise ValueError("string buffer shorter than its count")
    count = int(np.frombuffer(raw, "<i4", 1)[0])
    if count < 0 or 4 * (count + 2) > len(raw):
        raise ValueError(f"string buffer of {len(raw)} bytes cannot hold {count} strings")
    offsets = np.frombuffer(raw, "<i4", count + 1, 4).astype(np.int64)
    if np.any(np.diff(offsets) < 0) or offsets[0] != 4 * (count + 2) or offsets[-1] > len(raw):
        raise ValueError("string offsets out of order or past the buffer")
    out = np.empty(count, dtype=object)
    for i in range(count):
        out[i] = bytes(raw[offsets[i]:offsets[i + 1]])
    return out.reshape(shape)
