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
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

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


@lru_cache(maxsize=32)
def _space(scenario: Scenario) -> IssueSpace | None:
    columns = positional_columns(scenario)
    rows = bargainers(scenario)
    if not columns or not rows.any():
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
        point = None if space is None else getattr(space, concept)()
        points[concept] = None if point is None else dict(zip(names, map(float, point), strict=True))
    compromise = weighted_position(scenario.ideal, scenario.weights(), scenario.present[:, None])
    points["compromise"] = {name: float(compromise[k]) for name, k in zip(names, columns, strict=True)}
    return points


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
    space = _space(scenario)
    gap = None if space is None else float(space.gap_above(utilities[bargainers(scenario)]))
    return {"distance_to_nash": distance, "pareto_gap": gap}
