"""The bargaining solutions of many one-issue problems at once: closed forms and bisections.

On one issue actor i has u_i(x) = 1 - s_i |x - x_i|^p, s_i its salience there (above 0 for an
actor with a stake, 0 for one without), and disagreement value r_i. The solutions are those of
`sim.analysis.solutions.IssueSpace` (Nash 1950; Kalai 1977; Kalai & Smorodinsky 1975; Myerson
1981), which on one issue reduce to:

- the acceptable interval: x with |x - x_i|^p <= 1 - r_i for every stakeholder, within the span of
  their ideal points (where every efficient point lies);
- `nash`: the root of the derivative of Σ w_i log(u_i - r_i), which decreases in x, by bisection
  (`sim.analysis.nash.one_issue_nash`);
- `utilitarian`: the w-weighted median (p = 1) or mean (p = 2) of the ideals, held to the interval;
- `egalitarian`: the point of largest least gain (the midpoint of the ideals when the
  reservations are equal), by ternary search;
- `kalai_smorodinsky`: the largest λ at which every stakeholder can have r_i + λ (b_i - r_i), b_i
  its best utility in the interval, by bisection; then the point of largest total utility there.

Problems are rows of arrays padded with NaN (shape (problems, actors)); `stake` marks the actors
with a stake, `present` those at the table. A row's answer is NaN where the solution is
undefined (no point gives every stakeholder at least r_i; for Nash, strictly more); where nobody
has a stake, it is the mean of the ideals present. `tests/test_one_issue.py` pins every function
to `IssueSpace`.
"""

from __future__ import annotations

import numpy as np

from sim.analysis.nash import least_gain, one_issue_nash

FEASIBILITY_TOLERANCE = 1e-9
"""As in `sim.analysis.solutions`: slack on utility constraints, and the least gain that counts."""
BISECTIONS = 100


def acceptable(
    ideal: np.ndarray, stake: np.ndarray, reservation: np.ndarray, exponent: int, slack: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the interval [low, high] of texts every stakeholder accepts (u_i >= r_i - slack),
    within the span of their ideals; low > high where it is empty."""
    reach = np.maximum(1.0 - reservation + slack, 0.0) ** (1.0 / exponent)
    span_low = np.where(stake, ideal, np.inf).min(axis=1)
    span_high = np.where(stake, ideal, -np.inf).max(axis=1)
    low = np.maximum(np.where(stake, ideal - reach, -np.inf).max(axis=1), span_low)
    high = np.minimum(np.where(stake, ideal + reach, np.inf).min(axis=1), span_high)
    return low, high


def _settle(
    point: np.ndarray,
    ideal: np.ndarray,
    stake: np.ndarray,
    present: np.ndarray,
    reservation: np.ndarray,
    strict: bool,
) -> np.ndarray:
    """The rows' answers, with the mean ideal where nobody has a stake, and NaN where an actor
    without a stake wants more than no agreement gives it (it has u = 1 everywhere)."""
    mean = np.nanmean(np.where(present, ideal, np.nan), axis=1)
    point = np.where(stake.any(axis=1), point, mean)
    idle = present & ~stake & (reservation >= 1.0 if strict else reservation > 1.0)
    return np.where(idle.any(axis=1), np.nan, point)


def nash(
    ideal: np.ndarray,
    stake: np.ndarray,
    reservation: np.ndarray,
    weights: np.ndarray,
    exponent: int = 1,
    present: np.ndarray | None = None,
) -> np.ndarray:
    """The weighted Nash bargaining point of each row."""
    present = ~np.isnan(ideal) if present is None else present
    ideal = np.nan_to_num(ideal)
    point, gain = one_issue_nash(ideal, stake, reservation, weights, exponent)
    point = np.where(gain > FEASIBILITY_TOLERANCE, point, np.nan)
    return _settle(point, ideal, stake, present, reservation, strict=True)


def utilitarian(
    ideal: np.ndarray,
    stake: np.ndarray,
    reservation: np.ndarray,
    weights: np.ndarray,
    exponent: int = 1,
    present: np.ndarray | None = None,
) -> np.ndarray:
    """The point of largest weighted total utility among those every stakeholder accepts."""
    present = ~np.isnan(ideal) if present is None else present
    ideal = np.nan_to_num(ideal)
    low, high = acceptable(ideal, stake, reservation, exponent, FEASIBILITY_TOLERANCE)
    point = np.where(
        low <= high, np.clip(_centre(ideal, np.where(stake, weights, 0.0), exponent), low, high), np.nan
    )
    return _settle(point, ideal, stake, present, reservation, strict=False)


def _centre(ideal: np.ndarray, weights: np.ndarray, exponent: int) -> np.ndarray:
    """Per row, the maximiser of Σ w_i (1 - |x - x_i|^p): the weighted median (p = 1, the lowest
    x where the weights at or below it reach half) or the weighted mean (p = 2)."""
    if exponent == 2:
        total = weights.sum(axis=1)
        return (weights * ideal).sum(axis=1) / np.where(total > 0, total, 1.0)
    order = np.argsort(ideal, axis=1, kind="stable")
    sorted_ideal = np.take_along_axis(ideal, order, axis=1)
    cumulative = np.cumsum(np.take_along_axis(weights, order, axis=1), axis=1)
    half = 0.5 * cumulative[:, -1:]
    first = np.argmax(cumulative >= half * (1.0 - 1e-15), axis=1)
    return sorted_ideal[np.arange(len(ideal)), first]


def egalitarian(
    ideal: np.ndarray,
    stake: np.ndarray,
    reservation: np.ndarray,
    exponent: int = 1,
    present: np.ndarray | None = None,
) -> np.ndarray:
    """The point of largest least gain over the reservations, made efficient."""
    present = ~np.isnan(ideal) if present is None else present
    ideal = np.nan_to_num(ideal)
    point, gain = least_gain(ideal, stake, reservation, exponent)
    point = np.where(gain >= -FEASIBILITY_TOLERANCE, point, np.nan)
    return _settle(point, ideal, stake, present, reservation, strict=False)


def kalai_smorodinsky(
    ideal: np.ndarray,
    stake: np.ndarray,
    reservation: np.ndarray,
    exponent: int = 1,
    present: np.ndarray | None = None,
) -> np.ndarray:
    """The Kalai-Smorodinsky point of each row."""
    present = ~np.isnan(ideal) if present is None else present
    ideal = np.nan_to_num(ideal)
    low, high = acceptable(ideal, stake, reservation, exponent, FEASIBILITY_TOLERANCE)
    nearest = np.clip(ideal, low[:, None], high[:, None])
    room = np.maximum(1.0 - np.abs(nearest - ideal) ** exponent - reservation, 0.0)

    def band(level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        reach = np.maximum(1.0 - reservation - level[:, None] * room, 0.0) ** (1.0 / exponent)
        lo = np.maximum(np.where(stake, ideal - reach, -np.inf).max(axis=1), low)
        hi = np.minimum(np.where(stake, ideal + reach, np.inf).min(axis=1), high)
        return lo, hi

    below, above = np.zeros(len(ideal)), np.ones(len(ideal))
    for _ in range(BISECTIONS):
        level = 0.5 * (below + above)
        lo, hi = band(level)
        reached = lo <= hi + 1e-15
        below, above = np.where(reached, level, below), np.where(reached, above, level)
    lo, hi = band(below)
    centre = _centre(ideal, np.where(stake, 1.0, 0.0), exponent)
    point = np.where(low <= high, np.clip(centre, np.minimum(lo, hi), np.maximum(lo, hi)), np.nan)
    return _settle(point, ideal, stake, present, reservation, strict=False)
