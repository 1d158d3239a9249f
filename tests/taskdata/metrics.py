"""Task metrics: edit distance and character accuracy (rec), cosine (det maps), classification accuracy."""
from __future__ import annotations

import numpy as np


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions each cost 1), one row at a time."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        diagonal, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (ca != cb))
    return row[-1]


def char_accuracy(predictions: list[str], targets: list[str]) -> float:
    """1 - total edit distance / total target length, over the whole set (floored at 0). Spaces around a
    prediction are dropped: CTC emits one for a wide blank margin, and a line crop's margin holds no text."""
    errors = sum(edit_distance(p.strip(), t) for p, t in zip(predictions, targets, strict=True))
    return max(0.0, 1.0 - errors / sum(len(t) for t in targets))


def accuracy(predicted: list[int], labels: list[int]) -> float:
    return float(np.mean(np.asarray(predicted) == np.asarray(labels, dtype=int)))


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    denom = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / denom) if denom else float(np.array_equal(a, b))
