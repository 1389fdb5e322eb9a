"""The fast forms that large tables use, pinned to the plain definitions they replace."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from conftest import DATA
from scipy import stats

from sim.analysis.explain import INSIDE, Ranges, apart, gap
from sim.analysis.reference import bargainers, measure, reference_points
from sim.analysis.solutions import IssueSpace
from sim.studies.validate import BOOTSTRAP_RESAMPLES, paired_interval
from sim.tables.readers import read_table
from sim.tables.scenario import TableOptions, scenario_from_table


def plain_gap(low: np.ndarray, high: np.ndarray, enough: int) -> float | None:
    """The least widening over every low end, high end and midpoint, as first written."""
    known = ~np.isnan(low) & ~np.isnan(high) & (low <= high)
    if enough < 1 or known.sum() < enough:
        return None
    lows, highs = low[known], high[known]
    points = np.concatenate([lows, highs, ((lows[:, None] + highs[None, :]) / 2).ravel()])
    distance = np.maximum(0.0, np.maximum(lows[None, :] - points[:, None], points[:, None] - highs[None, :]))
    return float(2 * np.sort(distance, axis=1)[:, enough - 1].min())


def plain_apart(ranges: Ranges, column: int) -> list[dict]:
    """Every pair of veto players in turn, as first written."""
    pairs = []
    for i, j in combinations(range(len(ranges.actors)), 2):
        lows, highs = ranges.low[[i, j], column], ranges.high[[i, j], column]
        if np.isnan(lows).any() or np.isnan(highs).any() or (lows > highs).any():
            continue
        distance = max(lows[0] - highs[1], lows[1] - highs[0])
        if distance > INSIDE:
            pairs.append({"actors": [ranges.actors[i], ranges.actors[j]], "gap": float(distance)})
    return sorted(pairs, key=lambda pair: -pair["gap"])


def random_ranges(rng: np.random.Generator, trial: int) -> tuple[np.ndarray, np.ndarray]:
    """Ranges of every kind: random, on coarse grids (many ties), narrow, some unknown or empty."""
    n = int(rng.integers(1, 25))
    if trial % 3 == 0:
        a, b = rng.uniform(size=n), rng.uniform(size=n)
    else:
        grid = 4 if trial % 3 == 1 else 10
        a, b = rng.integers(0, grid + 1, n) / grid, rng.integers(0, grid + 1, n) / grid
    low, high = np.minimum(a, b), np.maximum(a, b)
    low[rng.uniform(size=n) < 0.1] = np.nan
    high[rng.uniform(size=n) < 0.1] = -1.0
    return low, high


def test_gap_and_apart_equal_their_plain_definitions_exactly():
    rng = np.random.default_rng(0)
    for trial in range(600):
        low, high = random_ranges(rng, trial)
        for enough in range(len(low) + 2):
            assert gap(low, high, enough) == plain_gap(low, high, enough)
        ranges = Ranges(tuple(f"a{i}" for i in range(len(low))), low[:, None], high[:, None])
        assert apart(ranges, 0) == plain_apart(ranges, 0)


def test_bootstrap_interval_equals_scipys_paired_call():
    rng = np.random.default_rng(1)
    errors, baseline = rng.uniform(0, 50, 40), rng.uniform(0, 50, 40)
    paired = stats.bootstrap(
        (errors, baseline),
        lambda a, b, axis: np.mean(a, axis=axis) - np.mean(b, axis=axis),
        paired=True,
        vectorized=True,
        n_resamples=BOOTSTRAP_RESAMPLES,
        confidence_level=0.95,
        method="BCa",
        rng=np.random.default_rng(7),
    )
    assert paired_interval(errors, baseline, 7) == [float(x) for x in paired.confidence_interval]


@pytest.mark.parametrize("reservation", [0.0, 0.4])
def test_one_issue_reference_points_match_the_issue_space(reservation):
    scenario = scenario_from_table(
        read_table(DATA / "bdm" / "ExampleActors_EC.csv"), TableOptions(reservation=reservation)
    )
    rows = bargainers(scenario)
    space = IssueSpace(scenario.ideal[rows], scenario.salience[rows], scenario.reservation[rows])
    points = reference_points(scenario)
    for concept in ("nash", "kalai_smorodinsky", "utilitarian", "egalitarian"):
        expected = getattr(space, concept)()
        found = points[concept]
        assert (expected is None) == (found is None), concept
        if expected is not None and found is not None:
            assert next(iter(found.values())) == pytest.approx(float(expected[0]), abs=1e-6), concept
    utilities = space.utility(np.array([0.3]))
    full = np.full(scenario.n_actors, np.nan)
    full[rows] = utilities
    gap_found = measure(scenario, np.array([0.3]), np.array([True]), full)["pareto_gap"]
    assert gap_found == pytest.approx(space.gap_above(utilities), abs=1e-6)
