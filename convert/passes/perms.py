"""Permutation algebra shared by the layout pass and its rules.

A tensor transposed by `perm` has shape[i] = source.shape[perm[i]] (np.transpose's convention).
"""
from __future__ import annotations

import numpy as np


def identity(rank: int) -> tuple:
    return tuple(range(rank))


def inverse(perm) -> tuple:
    return tuple(int(i) for i in np.argsort(perm))


def compose(first, then) -> tuple:
    """The one permutation equal to transposing by `first` and then by `then`."""
    return tuple(int(first[i]) for i in then)


def channels_last(rank: int) -> tuple:
    return (0, *range(2, rank), 1)


def permuted(shape, perm) -> tuple:
    return tuple(shape[i] for i in perm)


def only_unit_moves(shape, perm) -> bool:
    """True if transposing `shape` by `perm` keeps the order of every dim that is not 1 (a reshape)."""
    kept = [a for a in perm if shape[a] != 1]
    return kept == sorted(kept)


def is_reshape(shape, perm) -> bool:
    """True if transposing `shape` by `perm` can be written as a RESHAPE: it only moves size-1 dims and
    at most one dim is unknown (a RESHAPE's new shape has at most one -1)."""
    return only_unit_moves(shape, perm) and sum(d is None for d in shape) <= 1
