"""Bargaining solutions pinned by closed forms (domain.md §5), hand-worked optima and grid searches."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from sim.analysis.reference import reference_points
from sim.analysis.solutions import (
    AffineUtility,
    IssueSpace,
    UtilityFunction,
    egalitarian,
    is_pareto_efficient,
    kalai_smorodinsky,
    nash_solution,
    pareto_gap,
    utilitarian,
)
from sim.core.build import build_scenario

GOLDEN = (math.sqrt(5) - 1) / 2


def parabola(z: np.ndarray) -> np.ndarray:
    """S = {u ≥ 0, u1² + u2 ≤ 1}, its frontier traced by x = u1 in [0, 1]."""
    return np.array([z[0], 1 - z[0] ** 2])


def pie(
    n: int, affine: bool
) -> tuple[UtilityFunction, list[tuple[float, float]], tuple[np.ndarray, np.ndarray]]:
    """A unit pie among n players: the decision is the first n - 1 shares, the last takes the rest."""
    matrix = np.vstack([np.eye(n - 1), -np.ones(n - 1)])
    offset = np.append(np.zeros(n - 1), 1.0)
    utility = AffineUtility(offset, matrix) if affine else (lambda z: offset + matrix @ z)
    return utility, [(0.0, 1.0)] * (n - 1), (np.ones((1, n - 1)), np.ones(1))


# Generic layer: the set S of domain.md §5, d = 0.


def test_nash_on_s_is_one_over_root_three_and_two_thirds():
    point = nash_solution(parabola, [(0, 1)], [0, 0])
    assert point.utility == pytest.approx([1 / math.sqrt(3), 2 / 3], abs=1e-3)


def test_kalai_smorodinsky_on_s_is_the_golden_ratio_point():
    point = kalai_smorodinsky(parabola, [(0, 1)], [0, 0])
    assert point.utility == pytest.approx([GOLDEN, GOLDEN], abs=1e-3)


def test_utilitarian_on_s_maximises_x_plus_one_minus_x_squared_at_one_half():
    point = utilitarian(parabola, [(0, 1)], [0, 0])
    assert point.decision == pytest.approx([0.5], abs=1e-3)
    assert point.utility == pytest.approx([0.5, 0.75], abs=1e-3)


def test_egalitarian_on_s_solves_x_equals_one_minus_x_squared():
    point = egalitarian(parabola, [(0, 1)], [0, 0])
    assert point.utility == pytest.approx([GOLDEN, GOLDEN], abs=1e-3)


def test_pareto_gap_on_s_from_one_half_each():
    """max t with y ≥ 1/2 + t and 1 - y² ≥ 1/2 + t: y² + y = 1, so t = golden - 1/2."""
    assert pareto_gap(parabola, [(0, 1)], [0.5, 0.5]) == pytest.approx(GOLDEN - 0.5, abs=1e-6)
    assert pareto_gap(parabola, [(0, 1)], [0.6, 0.64]) == pytest.approx(0.0, abs=1e-6)
    assert is_pareto_efficient(parabola, [(0, 1)], [0.6, 0.64], start=[0.6])
    assert not is_pareto_efficient(parabola, [(0, 1)], [0.5, 0.5])


# Generic layer: the unit pie.


@pytest.mark.parametrize("affine", [False, True], ids=["callable", "affine"])
def test_simplex_nash_and_kalai_smorodinsky_split_evenly(affine):
    utility, bounds, constraints = pie(2, affine)
    for solution in (nash_solution, kalai_smorodinsky, egalitarian):
        point = solution(utility, bounds, [0, 0], constraints=constraints)
        assert point.utility == pytest.approx([0.5, 0.5], abs=1e-3), solution.__name__


@pytest.mark.parametrize("affine", [False, True], ids=["callable", "affine"])
@pytest.mark.parametrize(
    ("disagreement", "weights"),
    [
        ([0.0, 0.0], [1.0, 3.0]),
        ([0.2, 0.1], [1.0, 1.0]),
        ([0.3, 0.0], [2.0, 1.0]),
        ([0.1, 0.2, 0.05], [1.0, 2.0, 3.0]),
        ([0.0, 0.0, 0.0], [1.0, 1.0, 1.0]),
        ([0.3, 0.1, 0.2], [0.5, 1.0, 2.5]),
    ],
)
def test_weighted_nash_on_a_unit_pie(disagreement, weights, affine):
    """x_i = d_i + w_i (1 - Σd) / Σw (Kalai 1977; Roth 1979)."""
    d, w = np.array(disagreement), np.array(weights)
    utility, bounds, constraints = pie(len(d), affine)
    point = nash_solution(utility, bounds, d, w, constraints=constraints)
    assert point.utility == pytest.approx(d + w * (1 - d.sum()) / w.sum(), abs=1e-3)


@pytest.mark.parametrize("affine", [False, True], ids=["callable", "affine"])
@pytest.mark.parametrize("disagreement", [[0.1, 0.2, 0.05], [0.3, 0.0, 0.4], [0.0, 0.5]])
def test_egalitarian_and_kalai_smorodinsky_on_a_pie_with_disagreement(disagreement, affine):
    """Both give every player d_i + (1 - Σd)/n: for KS because U_i - d_i = 1 - Σd for all i."""
    d = np.array(disagreement)
    utility, bounds, constraints = pie(len(d), affine)
    expected = d + (1 - d.sum()) / len(d)
    assert egalitarian(utility, bounds, d, constraints=constraints).utility == pytest.approx(
        expected, abs=1e-3
    )
    ks = kalai_smorodinsky(utility, bounds, d, constraints=constraints)
    assert ks.utility == pytest.approx(expected, abs=1e-3)


@pytest.mark.parametrize("affine", [False, True], ids=["callable", "affine"])
def test_utilitarian_on_a_pie(affine):
    """Equal weights: every individually rational split is optimal. Unequal: the heaviest player
    takes all but the others' disagreement values."""
    d = np.array([0.1, 0.2, 0.05])
    utility, bounds, constraints = pie(3, affine)
    even = utilitarian(utility, bounds, d, constraints=constraints)
    assert even.utility.sum() == pytest.approx(1.0, abs=1e-6)
    assert np.all(even.utility >= d - 1e-6)
    weighted = utilitarian(utility, bounds, d, [1.0, 3.0, 2.0], constraints=constraints)
    assert weighted.utility == pytest.approx([0.1, 0.85, 0.05], abs=1e-3)


@pytest.mark.parametrize("affine", [False, True], ids=["callable", "affine"])
def test_no_solution_when_disagreement_values_exceed_the_pie(affine):
    utility, bounds, constraints = pie(2, affine)
    for solution in (nash_solution, kalai_smorodinsky, utilitarian, egalitarian):
        assert solution(utility, bounds, [0.6, 0.5], constraints=constraints) is None, solution.__name__


def test_nash_is_undefined_when_the_disagreement_point_is_efficient():
    utility, bounds, constraints = pie(2, affine=True)
    assert nash_solution(utility, bounds, [0.4, 0.6], constraints=constraints) is None
    point = egalitarian(utility, bounds, [0.4, 0.6], constraints=constraints)
    assert point.utility == pytest.approx([0.4, 0.6], abs=1e-6)


# Issue-space layer.


def two_on_one_issue(
    low: float, high: float, exponent: int, reservation: tuple[float, float] = (0.0, 0.0)
) -> IssueSpace:
    return IssueSpace([[low], [high]], [[1.0], [1.0]], list(reservation), exponent)


def test_linear_two_actors_nash_is_the_midpoint_and_the_segment_is_efficient():
    space = two_on_one_issue(0.2, 0.8, exponent=1)
    assert space.nash() == pytest.approx([0.5], abs=1e-6)
    for x in (0.2, 0.35, 0.5, 0.77, 0.8):
        assert space.pareto_gap([x]) == pytest.approx(0.0, abs=1e-9)
        assert space.is_pareto_efficient([x])


def test_points_outside_the_segment_have_a_positive_pareto_gap():
    """From 0.9 both gain t while 0.7 + t ≤ y ≤ 0.9 - t: t = 0.1. From 0.0: y in [t, 0.4 - t], t = 0.2."""
    space = two_on_one_issue(0.2, 0.8, exponent=1)
    assert space.pareto_gap([0.9]) == pytest.approx(0.1, abs=1e-6)
    assert space.pareto_gap([0.0]) == pytest.approx(0.2, abs=1e-6)
    assert not space.is_pareto_efficient([0.9])
    quadratic = two_on_one_issue(0.2, 0.8, exponent=2)
    assert quadratic.pareto_gap([0.95]) > 0.01
    assert not quadratic.is_pareto_efficient([0.95])


@pytest.mark.parametrize("exponent", [1, 2])
def test_symmetric_ideals_zero_and_one_give_one_half(exponent):
    space = two_on_one_issue(0.0, 1.0, exponent)
    for name in ("nash", "kalai_smorodinsky", "egalitarian"):
        assert getattr(space, name)() == pytest.approx([0.5], abs=1e-4), name
    if exponent == 2:
        assert space.utilitarian() == pytest.approx([0.5], abs=1e-4)


def test_linear_two_actors_with_unequal_reservations_split_like_a_pie():
    """u = (1 - x, x), d = (0.2, 0): Nash and KS give actor 0 a utility of 0.6, so x = 0.4; with
    weights (1, 3) actor 1 gets 3/4 of the surplus 0.8, so x = 0.6."""
    space = two_on_one_issue(0.0, 1.0, exponent=1, reservation=(0.2, 0.0))
    assert space.nash() == pytest.approx([0.4], abs=1e-4)
    assert space.kalai_smorodinsky() == pytest.approx([0.4], abs=1e-4)
    assert space.nash(weights=[1.0, 3.0]) == pytest.approx([0.6], abs=1e-4)


def test_solutions_are_none_when_reservations_cannot_all_be_met():
    space = two_on_one_issue(0.0, 1.0, exponent=1, reservation=(0.6, 0.6))
    assert space.nash() is None
    assert space.kalai_smorodinsky() is None
    assert space.utilitarian() is None
    assert space.egalitarian() is None


def test_weak_and_strong_efficiency_differ():
    """Actor 0 cares only for issue 0 and is at its ideal: nobody can gain strictly, yet actor 1
    gains by moving issue 1 to its ideal at no cost to actor 0."""
    space = IssueSpace([[0.0, 0.0], [1.0, 1.0]], [[1.0, 0.0], [0.5, 0.5]], [0.0, 0.0], exponent=1)
    assert space.pareto_gap([0.0, 0.0]) == pytest.approx(0.0, abs=1e-9)
    assert not space.is_pareto_efficient([0.0, 0.0])
    assert space.is_pareto_efficient([0.0, 1.0])


@pytest.mark.parametrize("exponent", [1, 2])
def test_an_indifferent_actor_changes_nothing(exponent):
    ideal = [[0.1, 0.9], [0.7, 0.2], [0.5, 0.5]]
    salience = [[0.6, 0.4], [0.3, 0.7], [0.5, 0.5]]
    base = IssueSpace(ideal, salience, [0.1, 0.2, 0.0], exponent)
    with_observer = IssueSpace([*ideal, [0.3, 0.3]], [*salience, [0.0, 0.0]], [0.1, 0.2, 0.0, 0.95], exponent)
    for name in ("nash", "kalai_smorodinsky", "egalitarian"):
        assert getattr(with_observer, name)() == pytest.approx(getattr(base, name)(), abs=1e-5), name
    assert with_observer.pareto_gap([0.0, 0.0]) == pytest.approx(base.pareto_gap([0.0, 0.0]), abs=1e-6)


THREE_ACTORS = {
    "ideal": np.array([[0.1, 0.8], [0.9, 0.6], [0.4, 0.05]]),
    "salience": np.array([[0.7, 0.3], [0.4, 0.6], [0.25, 0.75]]),
    "reservation": np.array([0.3, 0.2, 0.1]),
}


def grid_optimum(space: IssueSpace, criterion: str) -> tuple[np.ndarray, float]:
    """The best point of the 0.001 grid on [0, 1]² among those meeting every reservation."""
    axis = np.linspace(0.0, 1.0, 1001)
    first, second = np.meshgrid(axis, axis, indexing="ij")
    points = np.stack([first.ravel(), second.ravel()], axis=1)
    distance = np.abs(points[:, None, :] - space.ideal[None, :, :]) ** space.exponent
    gains = 1.0 - np.sum(space.salience[None] * distance, axis=2) - space.reservation
    if criterion == "nash":
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.where(np.all(gains > 0, axis=1), np.sum(np.log(gains), axis=1), -np.inf)
    else:
        score = np.where(np.all(gains >= 0, axis=1), gains.sum(axis=1), -np.inf)
    best = int(np.argmax(score))
    return points[best], float(score[best])


def score_at(space: IssueSpace, x: np.ndarray, criterion: str) -> float:
    gains = space.utility(x) - space.reservation
    return float(np.sum(np.log(gains)) if criterion == "nash" else gains.sum())


@pytest.mark.parametrize("exponent", [1, 2])
@pytest.mark.parametrize("criterion", ["nash", "utilitarian"])
def test_three_actors_two_issues_match_a_grid_search(exponent, criterion):
    space = IssueSpace(**THREE_ACTORS, exponent=exponent)
    x = getattr(space, criterion)()
    grid_point, grid_score = grid_optimum(space, criterion)
    assert score_at(space, x, criterion) >= grid_score - 1e-9
    assert score_at(space, x, criterion) <= grid_score + 1e-2
    if criterion == "nash" or exponent == 2:
        assert x == pytest.approx(grid_point, abs=2e-3)


@pytest.mark.parametrize("exponent", [1, 2])
@pytest.mark.parametrize("seed", range(4))
def test_every_solution_is_individually_rational_and_pareto_efficient(exponent, seed):
    rng = np.random.default_rng(seed)
    salience = rng.random((8, 3))
    space = IssueSpace(
        rng.random((8, 3)), salience / salience.sum(axis=1, keepdims=True), rng.random(8) * 0.4, exponent
    )
    for name in ("nash", "kalai_smorodinsky", "utilitarian", "egalitarian"):
        x = getattr(space, name)()
        assert x is not None, name
        assert np.all((x >= 0) & (x <= 1)), name
        assert np.all(space.utility(x) >= space.reservation - 1e-6), name
        assert space.pareto_gap(x) == pytest.approx(0.0, abs=1e-6), name
        assert space.is_pareto_efficient(x), name


def test_kalai_smorodinsky_equalises_relative_gains_on_the_issue_space():
    space = IssueSpace(**THREE_ACTORS, exponent=2)
    best = np.array([grid_best_utility(space, actor) for actor in range(3)])
    gains = space.utility(space.kalai_smorodinsky()) - space.reservation
    ratios = gains / (best - space.reservation)
    assert ratios == pytest.approx(np.full(3, ratios.mean()), abs=1e-3)


def grid_best_utility(space: IssueSpace, actor: int) -> float:
    """U_i on the 0.001 grid: the best utility of `actor` among points meeting every reservation."""
    axis = np.linspace(0.0, 1.0, 1001)
    first, second = np.meshgrid(axis, axis, indexing="ij")
    points = np.stack([first.ravel(), second.ravel()], axis=1)
    distance = np.abs(points[:, None, :] - space.ideal[None, :, :]) ** space.exponent
    utilities = 1.0 - np.sum(space.salience[None] * distance, axis=2)
    feasible = np.all(utilities >= space.reservation, axis=1)
    return float(utilities[feasible, actor].max())


def test_from_scenario_keeps_the_actors_present():
    scenario = SimpleNamespace(
        ideal=np.array([[0.0], [1.0], [0.9]]),
        salience=np.ones((3, 1)),
        reservation=np.zeros(3),
        present=np.array([True, True, False]),
        utility_exponent=1,
    )
    space = IssueSpace.from_scenario(scenario)
    assert space.n_actors == 2
    assert space.nash() == pytest.approx([0.5], abs=1e-6)
    assert IssueSpace.from_scenario(scenario, present_only=False).n_actors == 3


def test_inconsistent_shapes_are_refused():
    with pytest.raises(ValueError, match="actors, issues"):
        IssueSpace([[0.1, 0.2]], [[1.0]], [0.0])
    with pytest.raises(ValueError, match="exponent"):
        IssueSpace([[0.1]], [[1.0]], [0.0], exponent=3)
    with pytest.raises(ValueError, match="one per actor"):
        two_on_one_issue(0.0, 1.0, exponent=1).nash(weights=[1.0, 2.0, 3.0])


def test_a_degenerate_newton_system_falls_back_to_the_general_solver():
    """Found by the nightly property run: two present signatories, one with no salience on the
    second issue and the other a small one there, made the dual's Newton system singular."""

    def actor(ideal: float, salience: list[float], reservation: float, **more: object) -> dict[str, object]:
        return {
            "name": "A",
            "role": "signatory",
            "ideal": {"issue0": ideal, "issue1": 0.0},
            "salience": {"issue0": salience[0], "issue1": salience[1]},
            "capability": 1.0,
            "reservation": reservation,
            "patron_weight": 0.0,
            **more,
        }

    absent = actor(0.0, [0.0, 0.0], 0.0, present=False)
    spec = {
        "name": "degenerate",
        "issues": {"issue0": {"low": "none", "high": "all"}, "issue1": {"low": "none", "high": "all"}},
        "actors": {
            "actor0": actor(
                0.7116843501842692, [0.5, 0.0], 0.8756789771437703, patron_of="actor1", patron_weight=0.0
            ),
            "actor1": absent,
            "actor2": absent,
            "actor3": absent,
            "actor4": actor(
                0.2784868290556389,
                [0.78125, 0.04921300563326515],
                0.7093233241342064,
                patron_of="actor0",
                patron_weight=0.0,
            ),
        },
    }
    points = reference_points(build_scenario(spec))
    values = [v for point in points.values() if point for v in point.values() if v is not None]
    assert values and all(0.0 <= v <= 1.0 for v in values)
