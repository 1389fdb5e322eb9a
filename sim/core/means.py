"""Weighted means across actors: the one rule behind targets, drafts, the compromise and references."""

from __future__ import annotations

import numpy as np


def weighted_position(
    values: np.ndarray, weights: np.ndarray, include: np.ndarray | bool = True
) -> np.ndarray:
    """The weighted mean of `values` over the actor axis (second to last), counting only `include`.

    `values`, `weights` and `include` broadcast to (..., actors, issues). Where the included
    actors' weights sum to zero, every included actor counts equally; where none is included,
    the result is NaN.
    """
    values, weights, include = np.broadcast_arrays(values, weights, include)
    counted = np.where(include, 1.0, 0.0)
    known = np.where(include, values, 0.0)
    weights = np.where(include, weights, 0.0)
    total, count = weights.sum(axis=-2), counted.sum(axis=-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        weighted = (weights * known).sum(axis=-2) / total
        plain = known.sum(axis=-2) / count
    return np.where(total > 0, weighted, plain)
