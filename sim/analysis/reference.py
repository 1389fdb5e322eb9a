"""Reference points for a negotiation: where the solution concepts put the outcome.

Every summary carries, per issue, the Nash bargaining solution, the Kalai–Smorodinsky solution,
the utilitarian and egalitarian optima (`sim.analysis.solutions.IssueSpace`) and the compromise (the
capability-and-salience-weighted mean of the ideal points), and measures the outcome against
them: `distance_to_nash`, the root mean square distance between the agreed values and the Nash
point over the agreed issues, and `pareto_gap`, how much every bargainer could still gain together
(the largest t such that some full agreement gives each of them its outcome utility plus t).

The bargainers are the present signatories and parties, with their reservations as the
disagreement point and equal weights. Division issues are left out (their shares are bound to
sum to one, which the continuous issue space does not know).

A scenario of one issue (a BDM table, a DEU III proposal) is solved by the one-issue forms of
`sim.analysis.one_issue`, pinned to `IssueSpace` to 1e-6 (`tests/test_one_issue.py`): closed forms
and bisections whose cost grows with the number of actors, where `IssueSpace`'s linear
programmes have one variable per gap between ideal points and Kalai-Smorodinsky solves one per
bargainer. There every bargainer's salience is 1 or 0, and the Pareto gap above utilities v is
the largest least gain max_x min_i (1 - |x - x_i|^p - v_i) over the stakeholders, or 0.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from sim.analysis import one_issue
from sim.analysis.nash import least_gain
from sim.analysis.solutions import IssueSpace
from sim.core.means import weighted_position
from sim.core.scenario import Role, Scenario

CONCEPTS = ("nash", "kalai_smorodinsky", "utilitarian", "egalitarian")


def bargainers(scenario: Scenario) -> np.ndarray:
    """The actors whose consent matters: present signatories and parties."""
    roles = np.array(scenario.roles)
    return scenario.present & np.isin(roles, (Role.signatory, Role.party))


def positional_columns(scenario: Scenario) -> list[int]:
    return [k for k, issue in enumerate(scenario.columns) if not issue.division]


def single_issue(scenario: Scenario) -> bool:
    """Whether the scenario has one column, a positional one: the one-issue forms solve it."""
    return scenario.n_columns == 1 and not scenario.columns[0].division


@lru_cache(maxsize=32)
def _space(scenario: Scenario) -> IssueSpace | None:
    columns = positional_columns(scenario)
    rows = bargainers(scenario)
    if not columns or not rows.any() or single_issue(scenario):
        return None
    return IssueSpace(
        scenario.ideal[np.ix_(rows, columns)],
        scenario.salience[np.ix_(rows, columns)],
        scenario.reservation[rows],
        scenario.utility_exponent,
    )


@lru_cache(maxsize=32)
def reference_points(scenario: Scenario) -> dict[str, dict[str, float] | None]:
    """Per concept, its value on each positional issue (None where the concept is undefined)."""
    columns = positional_columns(scenario)
    names = [scenario.columns[k].name for k in columns]
    space = _space(scenario)
    points: dict[str, dict[str, float] | None] = {}
    for concept in CONCEPTS:
        point = (
            _one_issue_point(scenario, concept) if single_issue(scenario) else _space_point(space, concept)
        )
        points[concept] = None if point is None else dict(zip(names, map(float, point), strict=True))
    compromise = weighted_position(scenario.ideal, scenario.weights(), scenario.present[:, None])
    points["compromise"] = {name: float(compromise[k]) for name, k in zip(names, columns, strict=True)}
    return points


def _space_point(space: IssueSpace | None, concept: str) -> np.ndarray | None:
    """The concept's point in the issue space; None where it is undefined or there is no space."""
    return None if space is None else getattr(space, concept)()


def _one_issue_rows(scenario: Scenario) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The bargainers of a one-issue scenario as one row: ideal points, who has a stake, reservations."""
    rows = bargainers(scenario)
    ideal = scenario.ideal[rows, 0][None, :]
    return ideal, scenario.salience[rows, 0][None, :] > 0, scenario.reservation[rows][None, :]


def _one_issue_point(scenario: Scenario, concept: str) -> np.ndarray | None:
    """The concept's point on a one-issue scenario (`sim.analysis.one_issue`), equal weights; None
    where it is undefined or nobody bargains."""
    ideal, stake, reservation = _one_issue_rows(scenario)
    if not ideal.size:
        return None
    exponent = scenario.utility_exponent
    if concept in ("nash", "utilitarian"):
        point = getattr(one_issue, concept)(ideal, stake, reservation, np.ones_like(ideal), exponent)
    else:
        point = getattr(one_issue, concept)(ideal, stake, reservation, exponent)
    return None if np.isnan(point[0]) else point


def _gap(scenario: Scenario, utilities: np.ndarray) -> float | None:
    """How far the bargainers' `utilities` lie inside the frontier (`IssueSpace.gap_above`);
    None where nobody bargains."""
    if single_issue(scenario):
        ideal, stake, _ = _one_issue_rows(scenario)
        if not ideal.size:
            return None
        if not stake.any():
            return 0.0
        gain = least_gain(ideal, stake, utilities[bargainers(scenario)][None, :], scenario.utility_exponent)[
            1
        ]
        return max(0.0, float(gain[0]))
    space = _space(scenario)
    return None if space is None else float(space.gap_above(utilities[bargainers(scenario)]))


def measure(
    scenario: Scenario, values: np.ndarray, agreed: np.ndarray, utilities: np.ndarray
) -> dict[str, Any]:
    """`distance_to_nash` and `pareto_gap` of one outcome (per-column values and agreement)."""
    columns = positional_columns(scenario)
    nash = reference_points(scenario)["nash"]
    distance = None
    if nash is not None:
        agreed_columns = [k for k in columns if agreed[k]]
        if agreed_columns:
            gaps = [values[k] - nash[scenario.columns[k].name] for k in agreed_columns]
            distance = float(np.sqrt(np.mean(np.square(gaps))))
    return {"distance_to_nash": distance, "pareto_gap": _gap(scenario, utilities)}
