"""Unstructured and N:M sparsity: which weights of CONV_2D, FULLY_CONNECTED and TRANSPOSE_CONV to zero.

Criteria: `magnitude` |W|, or `activation` |W| x ||X|| (the weight times the RMS of the input channel it
multiplies, from calibration data), so that weights on quiet inputs go first. Scopes: `layer` gives every
layer the target (activation-aware compares within each output row, where the products share a scale),
`global` one threshold over all layers. N:M keeps the N largest of every M consecutive weights along the
input-channel axis (the last axis of OHWI and of FULLY_CONNECTED's (out, in)), layers whose input width is
not a multiple of M stay dense. Layers with fewer than `min_weights` weights are left alone.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgepress.convert.ir import Graph, Op

from .stats import WEIGHTED_DATA

SPARSIFIABLE = ("CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV")
METHODS = ("magnitude", "activation")
SCOPES = ("layer", "global")


@dataclass
class Layer:
    op: Op
    weights: np.ndarray
    score: np.ndarray  # same shape as the weights; lower goes first


def parse_pattern(pattern: str | None) -> tuple | None:
    """'2:4' -> (2, 4)"""
    if pattern is None:
        return None
    n, sep, m = pattern.partition(":")
    if not sep or not n.isdigit() or not m.isdigit() or not 0 < int(n) < int(m):
        raise ValueError(f"pattern '{pattern}': expected N:M with 0 < N < M, e.g. 2:4")
    return int(n), int(m)


def input_rms(op: Op, energy: dict | None) -> np.ndarray | None:
    """RMS of the input channel each weight multiplies, broadcastable to the weights."""
    x = op.inputs[WEIGHTED_DATA[op.type]]
    if energy is None or x.name not in energy:
        return None
    rms = np.sqrt(energy[x.name])
    w = op.inputs[1].data
    if op.type == "CONV_2D" and len(rms) != w.shape[3]:
        groups = len(rms) // w.shape[3]
        per_out = np.repeat(rms.reshape(groups, -1), w.shape[0] // groups, axis=0)  # (out, cg)
        return per_out[:, None, None, :]
    return rms


def layers(graph: Graph, method: str, energy: dict | None, min_weights: int) -> list[Layer]:
    found = []
    for op in graph.ops:
        w = op.inputs[1] if op.type in SPARSIFIABLE else None
        if (w is None or not w.is_constant or w.dtype != "float32" or w.sparsity is not None
                or w.data.size < min_weights):
            continue
        score = np.abs(w.data).astype(np.float64)
        if method == "activation":
            rms = input_rms(op, energy)
            if rms is not None:
                score = score * rms
        found.append(Layer(op, w.data, score))
    return found


def keep_largest(score: np.ndarray, ratio: float) -> np.ndarray:
    """Mask keeping all but the round(ratio * size) smallest scores (stable order for ties)."""
    drop = int(round(ratio * score.size))
    keep = np.ones(score.size, dtype=bool)
    keep[np.argsort(score.reshape(-1), kind="stable")[:drop]] = False
    return keep.reshape(score.shape)


def n_of_m(score: np.ndarray, n: int, m: int) -> np.ndarray | None:
    if score.shape[-1] % m:
        return None
    blocks = score.reshape(-1, m)
    keep = np.zeros(blocks.shape, dtype=bool)
    top = np.argsort(-blocks, axis=1, kind="stable")[:, :n]
    np.put_along_axis(keep, top, True, axis=1)
    return keep.reshape(score.shape)


def masks(found: list, ratio: float, pattern: tuple | None, method: str, scope: str) -> list:
    """One keep mask per layer (None: the layer stays dense)."""
    if pattern is not None:
        return [n_of_m(layer.score, *pattern) for layer in found]
    if scope == "global":
        everything = np.concatenate([layer.score.reshape(-1) for layer in found]) if found else np.zeros(0)
        cut = np.sort(everything)[int(round(ratio * everything.size)) - 1] if everything.size and ratio > 0 else -1
        return [layer.score > cut for layer in found]
    if method == "activation":
        return [np.stack([keep_largest(row, ratio) for row in layer.score]) for layer in found]
    return [keep_largest(layer.score, ratio) for layer in found]
