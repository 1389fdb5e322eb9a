"""The `series` settings of the command line, and the series part of a job.

`series.record` (a rounds CSV file; default: the scenario's), `series.next` (the round to
forecast; default: the one after the record's last), `series.mechanisms.NAME` (switch a
between-round mechanism on or off), and the Monte Carlo and calibration budgets. They apply to a
scenario with a `series:` block (`conf/scenario/astana_series.yaml`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.core.checks import whole_number
from sim.core.scenario import Scenario
from sim.errors import UserError
from sim.series.mechanisms import MECHANISMS
from sim.series.record import SeriesRecord, read_record
from sim.series.rounds import check_switches
from sim.series.spec import SeriesSpec, build_series


@dataclass
class MechanismsConf:
    """Which between-round mechanisms act (`sim.series.mechanisms`)."""

    soft_deadline: bool = True
    status_quo: bool = True
    ripeness: bool = True
    learning: bool = True
    fractionation: bool = True
    linkage: bool = True
    leverage: bool = True
    fallback: bool = True


@dataclass
class SeriesConf:
    record: str | None = None
    """A rounds CSV file; null: the scenario's `series.record`."""
    next: int | None = None
    """The round `task=forecast` forecasts; null: the one after the record's last round."""
    draws: int = 24
    """Draws of the actors' positions within the stated uncertainty, per round."""
    seeds: int = 4
    """Negotiations per draw (seeds seed, seed+1, ...)."""
    calibrate: bool = True
    """forecast and backtest: fit the free parameters on the rounds before the one forecast."""
    fit_draws: int = 4
    """Draws per round while calibrating."""
    popsize: int = 2
    """Differential evolution: population size per free parameter."""
    maxiter: int = 1
    """Differential evolution: generations."""
    prior: float = 10.0
    """The weight of the stated parameter values in calibration, in issue-rounds (0: none)."""
    fit: list[str] | None = None
    """The parameters task=calibrate fits; null: the uncertainty and those of the switched-on mechanisms."""
    mechanisms: MechanismsConf = field(default_factory=MechanismsConf)


@dataclass(frozen=True)
class SeriesJob:
    """A series scenario with its record and settings, checked."""

    spec: SeriesSpec
    record: SeriesRecord
    next: int
    draws: int
    seeds: int
    calibrate: bool
    fit_draws: int
    popsize: int
    maxiter: int
    switches: Mapping[str, bool]
    fit: tuple[str, ...] | None
    """The parameters to fit; None: the uncertainty and those of the switched-on mechanisms."""
    scenario_cfg: Mapping[str, Any]
    """The scenario file as composed, from which a fitted scenario is written."""
    prior: float = 10.0
    """The weight of the stated parameter values in calibration, in issue-rounds."""


def project_path(path: str) -> Path:
    """A path as given, or else relative to the project (the folder that holds `conf/`)."""
    given = Path(path).expanduser()
    if given.is_absolute() or given.exists():
        return given
    project = Path(__file__).resolve().parents[2] / path
    return project if project.exists() else given


def series_job(scenario_cfg: Mapping[str, Any], base: Scenario, settings: Mapping[str, Any]) -> SeriesJob:
    """Build and check the series part of a job (raises UserError)."""
    spec = build_series(scenario_cfg.get("series") or {}, base)
    path = settings.get("record") or spec.record
    if not path:
        raise UserError("no record of rounds: set series.record=FILE (a rounds CSV file)")
    record = read_record(project_path(str(path)))
    last = record.numbers[-1]
    number = settings.get("next")
    number = last + 1 if number is None else whole_number(number, "series.next", 1)
    if number > last + 1:
        raise UserError(
            f"series.next is {number}, but the record ends at round {last}: "
            f"forecast round {last + 1} or earlier"
        )
    switches = {str(key): bool(value) for key, value in dict(settings.get("mechanisms") or {}).items()}
    for name in MECHANISMS:
        switches.setdefault(name, False)
    check_switches(switches, spec.values())
    if "uncertainty" not in spec.parameters:
        raise UserError("scenario.series.parameters has no 'uncertainty': declare it with its range")
    prior = settings.get("prior", 10.0)
    if isinstance(prior, bool) or not isinstance(prior, (int, float)) or not 0 <= prior < float("inf"):
        raise UserError(f"series.prior is {prior!r}: give a number, 0 or more")
    fit = settings.get("fit")
    if fit is not None:
        fit = tuple(str(name) for name in fit)
        unknown = [name for name in fit if name not in spec.parameters]
        if unknown:
            raise UserError(
                f"series.fit names '{unknown[0]}', not a parameter: choose among {', '.join(spec.parameters)}"
            )
    return SeriesJob(
        spec=spec,
        record=record,
        next=number,
        draws=whole_number(settings.get("draws", 24), "series.draws", 1),
        seeds=whole_number(settings.get("seeds", 4), "series.seeds", 1),
        calibrate=bool(settings.get("calibrate", True)),
        fit_draws=whole_number(settings.get("fit_draws", 4), "series.fit_draws", 1),
        popsize=whole_number(settings.get("popsize", 2), "series.popsize", 1),
        maxiter=whole_number(settings.get("maxiter", 1), "series.maxiter", 0),
        switches=switches,
        fit=fit,
        scenario_cfg=dict(scenario_cfg),
        prior=prior,
    )
