"""Counter-based random numbers: one independent stream per replication seed.

A draw is a hash of (seed, step, purpose), so replication i of a batch sees exactly the numbers
that a single run with seed i sees, whatever the batch size or order. The hash is SplitMix64's
output function (Steele, Lea & Flood 2014, "Fast splittable pseudorandom number generators").
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)


def _mix(z: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * _MIX_1
        z = (z ^ (z >> np.uint64(27))) * _MIX_2
    return z ^ (z >> np.uint64(31))


def uniform(seeds: np.ndarray, step: int | np.ndarray, purpose: int) -> np.ndarray:
    """One uniform number in [0, 1) per seed (and step, which broadcasts against the seeds)."""
    keys = np.asarray(seeds, dtype=np.uint64)
    steps = np.asarray(step, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = _mix(keys * _GOLDEN + np.uint64(purpose))
        z = _mix(z + (steps + np.uint64(1)) * _GOLDEN)
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
