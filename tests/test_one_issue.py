"""The one-issue bargaining solutions (`sim.analysis.one_issue`) pinned to `IssueSpace`."""

from __future__ import annotations

import dataclasses
import math
from functools import cache

import numpy as np
import pytest
from conftest import DATA

from sim.analysis import one_issue
from sim.analysis.solutions import IssueSpace
from sim.core.scenario import Scenario
from sim.studies.validate import padded, problems_of
from sim.tables.readers import read_table
from sim.tables.scenario import TableOptions

CONCEPTS = ("nash", "utilitarian", "egalitarian", "kalai_smorodinsky")
WEIGHTED = ("nash", "utilitarian")


@cache
def deu3(reservation: float, exponent: int) -> tuple[Scenario, ...]:
    table = read_table(DATA / "deu3" / "deu3_dev.csv")
    options = TableOptions(reservation=reservation, utility_exponent=exponent)
    return tuple(p.scenario for p in problems_of(table, options) if p.scenario is not None)


def random_problems(count: int, seed: int, reservation: float, exponent: int) -> list[Scenario]:
    """One-issue scenarios from DEU III's first, with random ideal points, saliences (some zero)
    and capabilities."""
    base = deu3(reservation, exponent)[0]
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        n = base.n_actors
        stated = np.where(rng.uniform(size=(n, 1)) < 0.2, 0.0, rng.uniform(0.1, 1.0, size=(n, 1)))
        out.append(
            dataclasses.replace(
                base,
                ideal=rng.uniform(size=(n, 1)),
                stated_salience=stated,
                salience=(stated > 0).astype(float),
                capability=rng.uniform(0.1, 1.0, size=n),
            )
        )
    return out


def expected(scenario: Scenario, concept: str) -> float:
    space = IssueSpace.from_scenario(scenario)
    if concept in WEIGHTED:
        point = getattr(space, concept)(scenario.weights()[scenario.present, 0])
    else:
        point = getattr(space, concept)()
    return math.nan if point is None else float(point[0])


def ours(scenarios: list[Scenario] | tuple[Scenario, ...], concept: str) -> np.ndarray:
    ideal, stake, reservation, weights, present = padded(scenarios)
    exponent = scenarios[0].utility_exponent
    if concept in WEIGHTED:
        return getattr(one_issue, concept)(ideal, stake, reservation, weights, exponent, present)
    return getattr(one_issue, concept)(ideal, stake, reservation, exponent, present)


def assert_same(scenarios, concept: str, tolerance: float) -> None:
    found = ours(scenarios, concept)
    for scenario, value in zip(scenarios, found, strict=True):
        reference = expected(scenario, concept)
        assert math.isnan(reference) == math.isnan(value), (concept, reference, value)
        if not math.isnan(reference):
            assert value == pytest.approx(reference, abs=tolerance), concept


@pytest.mark.parametrize("concept", CONCEPTS)
@pytest.mark.parametrize(("reservation", "exponent"), [(0.0, 1), (0.5, 1), (0.2, 2)])
def test_random_one_issue_problems(concept, reservation, exponent):
    assert_same(random_problems(25, 7, reservation, exponent), concept, 1e-6 if exponent == 1 else 1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("concept", CONCEPTS)
@pytest.mark.parametrize(("reservation", "exponent"), [(0.0, 1), (0.3, 1), (0.9, 1), (0.0, 2)])
def test_every_deu3_issue(concept, reservation, exponent):
    assert_same(deu3(reservation, exponent), concept, 1e-6 if exponent == 1 else 1e-5)


def test_where_no_text_is_acceptable_to_all_there_is_no_solution():
    ideal = np.array([[0.0, 1.0, np.nan]])
    stake = np.array([[True, True, False]])
    reservation = np.full((1, 3), 0.6)
    weights = np.ones((1, 3))
    for concept in CONCEPTS:
        args = (ideal, stake, reservation, weights) if concept in WEIGHTED else (ideal, stake, reservation)
        assert np.isnan(getattr(one_issue, concept)(*args)).all(), concept


def test_where_nobody_has_a_stake_the_answer_is_the_mean_ideal():
    ideal = np.array([[0.2, 0.6]])
    stake = np.zeros((1, 2), dtype=bool)
    assert one_issue.nash(ideal, stake, np.zeros((1, 2)), np.ones((1, 2)))[0] == pytest.approx(0.4)
    assert one_issue.egalitarian(ideal, stake, np.zeros((1, 2)))[0] == pytest.approx(0.4)
