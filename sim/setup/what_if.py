"""The `what_if` settings of the command line, and the what-if part of a job.

`task=what_if` finds, for each issue (or `what_if.issue`), the smallest change of each parameter
that flips its outcome, or that brings it to `what_if.target` (`agreed` or `failed`);
`what_if.pairs=true` adds the frontier of the two parameters that matter most
(`sim.studies.what_if`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sim.core.checks import whole_number
from sim.core.scenario import Scenario
from sim.errors import UserError


class WhatIfTarget(StrEnum):
    """The outcome a change should bring about: agreement (in at least half the runs), or failure."""

    agreed = "agreed"
    failed = "failed"


@dataclass
class WhatIfConf:
    issue: str | None = None
    """The issue to study; null: every issue."""
    target: WhatIfTarget | None = None
    """agreed or failed; null: the opposite of each issue's outcome."""
    pairs: bool = False
    """Also the frontier of the two parameters that matter most, per issue."""
    scan: int = 12
    """Values tried between a parameter's value and each end of its range before bisecting."""
    tolerance: float = 0.001
    """Bisection stops when the bracket is this narrow, as a share of the parameter's range."""
    grid: int = 21
    """With pairs: values per parameter on the grid of the frontier."""
    top: int = 5
    """The smallest changes printed in words, per issue."""


@dataclass(frozen=True)
class WhatIfJob:
    """The what-if settings, checked against the scenario."""

    issues: tuple[str, ...]
    target: WhatIfTarget | None
    pairs: bool
    scan: int
    tolerance: float
    grid: int
    top: int


def what_if_job(settings: Mapping[Any, Any], scenario: Scenario) -> WhatIfJob:
    """Build and check the what-if part of a job (raises UserError); for a series, `scenario` is
    its base scenario and every round studies the issues on its agenda."""
    issue = settings.get("issue")
    names = scenario.issue_names
    if issue is not None and str(issue) not in names:
        raise UserError(
            f"what_if.issue is '{issue}', not an issue of '{scenario.name}': choose one of {', '.join(names)}"
        )
    target = settings.get("target")
    if target is not None and str(target) not in WhatIfTarget.__members__:
        raise UserError(
            f"what_if.target is '{target}': choose agreed or failed, or leave it out to flip each issue"
        )
    tolerance = settings.get("tolerance", 0.001)
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 < tolerance < 0.5:
        raise UserError(
            f"what_if.tolerance is {tolerance!r}: give a share of a parameter's range in (0, 0.5)"
        )
    return WhatIfJob(
        issues=(str(issue),) if issue is not None else names,
        target=None if target is None else WhatIfTarget(str(target)),
        pairs=bool(settings.get("pairs", False)),
        scan=whole_number(settings.get("scan", 12), "what_if.scan", 1),
        tolerance=float(tolerance),
        grid=whole_number(settings.get("grid", 21), "what_if.grid", 3),
        top=whole_number(settings.get("top", 5), "what_if.top", 1),
    )
