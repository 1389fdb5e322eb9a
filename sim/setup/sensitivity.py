"""The `sensitivity` settings of the command line, and the sensitivity part of a job.

`task=sensitivity` measures how much each numeric parameter of a scenario moves each outcome
when every parameter varies within `sensitivity.spread` of its value (Sobol indices, or Morris
elementary effects), and how often the scenario still reproduces its record when all of them are
perturbed together (`sim.studies.sensitivity`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sim.core.checks import whole_number
from sim.errors import UserError


class SensitivityMethod(StrEnum):
    """Sobol indices (first-order and total), or Morris elementary effects (a screening)."""

    sobol = "sobol"
    morris = "morris"


class Grouping(StrEnum):
    """How parameters are varied: each alone, or in groups that move as one factor."""

    none = "none"
    actor = "actor"
    """All of one actor's parameters form a factor."""
    kind = "kind"
    """All actors' parameters of one kind (ideal points, saliences, reservations...) form a factor."""


@dataclass
class SensitivityConf:
    method: SensitivityMethod = SensitivityMethod.sobol
    """sobol (first-order and total indices) or morris (elementary effects, for many parameters)."""
    samples: int = 1024
    """Sobol: base samples N, a power of 2 (N(D+2) runs for D factors); Morris: trajectories (N(D+1) runs)."""
    spread: float = 0.25
    """Each parameter varies within ± this share of its value (of its range where its value is 0)."""
    groups: Grouping = Grouping.none
    """none: every parameter is a factor; actor or kind: parameters grouped into fewer factors."""
    robustness: Any = field(default_factory=lambda: [0.1, 0.25])
    """The spreads of the joint perturbations checked against the scenario's record, a list (checked
    by `sensitivity_job`, whose message names the fix)."""
    scenarios: int = 1000
    """Perturbed scenarios per spread of `robustness`."""
    levels: int = 4
    """Morris: the levels of each factor's grid."""
    top: int = 5
    """The parameters printed and drawn per outcome."""


@dataclass(frozen=True)
class SensitivityJob:
    """The sensitivity settings, checked."""

    method: SensitivityMethod
    samples: int
    spread: float
    groups: Grouping
    robustness: tuple[float, ...]
    scenarios: int
    levels: int
    top: int


def _share(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UserError(f"sensitivity.{key} is {value!r}: give a share of each value in (0, 1], such as 0.25")
    if not 0 < value <= 1:
        raise UserError(f"sensitivity.{key} is {value:g}: give a share of each value in (0, 1], such as 0.25")
    return float(value)


def _choice(settings: Mapping[Any, Any], key: str, kind: type[StrEnum], default: StrEnum) -> Any:
    value = str(settings.get(key) or default)
    if value not in kind.__members__:
        raise UserError(f"sensitivity.{key} is '{value}': choose one of {', '.join(kind.__members__)}")
    return kind(value)


def _spreads(value: Any) -> tuple[float, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise UserError(f"sensitivity.robustness is {value!r}: give a list of spreads, such as [0.1,0.25]")
    return tuple(_share(item, "robustness") for item in value)


def sensitivity_job(settings: Mapping[Any, Any]) -> SensitivityJob:
    """Build and check the sensitivity part of a job (raises UserError)."""
    method = _choice(settings, "method", SensitivityMethod, SensitivityMethod.sobol)
    samples = whole_number(settings.get("samples", 1024), "sensitivity.samples", 2)
    if method == SensitivityMethod.sobol and samples & (samples - 1):
        power = 1 << (samples.bit_length() - 1)
        raise UserError(
            f"sensitivity.samples is {samples}: Sobol's sequence needs a power of 2, such as {power}"
        )
    levels = whole_number(settings.get("levels", 4), "sensitivity.levels", 2)
    if levels % 2:
        raise UserError(f"sensitivity.levels is {levels}: Morris' grid needs an even number, such as 4")
    return SensitivityJob(
        method=method,
        samples=samples,
        spread=_share(settings.get("spread", 0.25), "spread"),
        groups=_choice(settings, "groups", Grouping, Grouping.none),
        robustness=_spreads(settings.get("robustness", [0.1, 0.25])),
        scenarios=whole_number(settings.get("scenarios", 1000), "sensitivity.scenarios", 1),
        levels=levels,
        top=whole_number(settings.get("top", 5), "sensitivity.top", 1),
    )
