"""A composed configuration turned, once, into the typed `Job` every lower layer reads.

`job_from_config` is the only place a `DictConfig` is read: it builds and checks the scenario
(from a scenario file, `sim.core.build`, or a published table, `sim.tables.scenario`), the
protocol's `Config`, each actor's strategy, and the run settings. Every check a user's
configuration can fail runs here, before anything is written.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.core.build import build_scenario
from sim.core.scenario import Scenario
from sim.errors import UserError
from sim.protocols import PROTOCOLS, ProtocolConfig, make_protocol
from sim.setup.compose import explain, scenario_list
from sim.setup.schema import Task
from sim.setup.series import SeriesJob, series_job
from sim.strategies import STRATEGIES
from sim.tables.readers import Table, read_table
from sim.tables.scenario import TableOptions, scenario_from_table, table_path

MAX_SEED = 2**63 - 1


@dataclass(frozen=True)
class TableSource:
    """The published table a scenario was imported from, and the options it was read with."""

    table: Table
    options: TableOptions


@dataclass(frozen=True)
class Job:
    """Everything one run needs: the scenario, the protocol's configuration and the run settings."""

    scenario: Scenario
    protocol: ProtocolConfig
    seed: int = 0
    replications: int = 1
    trace: bool = False
    plots: bool = True
    results: str = "results"
    quiet: bool = False
    task: Task = Task.run
    source: TableSource | None = None
    """For a scenario imported from a table: the table (its recorded outcomes serve `task=validate`)."""
    overrides: tuple[str, ...] = ()
    """The overrides the job was composed with, as typed."""
    objective: str | None = None
    """The summary metric the job returns to a sweeper, as a dotted path into `summary.json`."""
    objective_target: float | None = None
    """When set, the job returns |metric - objective_target|."""
    series: SeriesJob | None = None
    """For a series scenario (one with a `series:` block): its record, mechanisms and settings."""

    def replace(self, **changes: Any) -> Job:
        """A copy with some run settings changed (checked as when composed)."""
        job = dataclasses.replace(self, **changes)
        check_settings(job.seed, job.replications)
        return job


def job_from_config(cfg: DictConfig, overrides: tuple[str, ...] = ()) -> Job:
    """Build and check the job a composed configuration describes (raises UserError)."""
    if cfg.get("scenario") is None:
        raise UserError("no scenario chosen\n" + scenario_list())
    try:
        container = OmegaConf.to_container(cfg.scenario, resolve=True, throw_on_missing=True)
        protocol = OmegaConf.to_object(cfg.protocol)
    except OmegaConfBaseException as error:
        raise UserError(explain(error, [])) from error
    assert isinstance(container, dict) and isinstance(protocol, ProtocolConfig)
    scenario_cfg = {str(key): value for key, value in container.items()}
    check_settings(cfg.seed, cfg.replications)
    source = None
    if scenario_cfg.get("path") or not (scenario_cfg.get("issues") or scenario_cfg.get("actors")):
        path = table_path(scenario_cfg)
        source = TableSource(
            read_table(path), TableOptions.from_config(scenario_cfg, source=str(path.resolve()))
        )
        scenario = scenario_from_table(source.table, source.options)
    else:
        scenario = build_scenario(scenario_cfg)
    check_fit(scenario, protocol)
    task = Task(cfg.get("task", Task.run))
    if task == Task.validate:
        check_validation_table(scenario, source)
    series = None
    if scenario_cfg.get("series") is not None:
        settings = OmegaConf.to_container(cfg.series, resolve=True) if cfg.get("series") is not None else {}
        assert isinstance(settings, dict)
        series = series_job(scenario_cfg, scenario, {str(key): value for key, value in settings.items()})
    check_series_task(task, scenario, series)
    return Job(
        scenario=scenario,
        protocol=protocol,
        seed=int(cfg.seed),
        replications=int(cfg.replications),
        trace=bool(cfg.trace),
        plots=bool(cfg.plots),
        results=str(cfg.results),
        quiet=bool(cfg.quiet),
        task=task,
        source=source,
        overrides=overrides,
        objective=check_objective_path(cfg.get("objective")),
        objective_target=None if cfg.get("objective_target") is None else float(cfg.objective_target),
        series=series,
    )


def check_series_task(task: Task, scenario: Scenario, series: SeriesJob | None) -> None:
    """The series tasks need a series scenario, and a series scenario runs only those (raises UserError)."""
    series_tasks = (Task.replay, Task.forecast, Task.backtest, Task.calibrate)
    if task in series_tasks and series is None:
        raise UserError(
            f"task={task} needs a series of rounds; scenario '{scenario.name}' has none: "
            "use scenario=astana_series"
        )
    if task == Task.validate and series is not None:
        raise UserError(
            f"scenario '{scenario.name}' is a series: use task=replay, forecast, backtest or calibrate"
        )


def check_objective_path(path: str | None) -> str | None:
    """An objective is a dotted path of names, such as `issues.detainees.agreement_probability`."""
    if path is not None and (not str(path).strip() or "" in str(path).split(".")):
        raise UserError(
            f"objective is '{path}': give a dotted path into summary.json, "
            "such as issues.detainees.agreement_probability"
        )
    return None if path is None else str(path)


def check_settings(seed: int, replications: int) -> None:
    """Seeds are whole numbers in [0, 2^63); replications at least one."""
    if not 0 <= seed <= MAX_SEED:
        raise UserError(f"seed is {seed}: give a whole number from 0 to {MAX_SEED}")
    if replications < 1:
        raise UserError(f"replications is {replications}: give a whole number, 1 or more")
    if seed + replications - 1 > MAX_SEED:
        raise UserError(
            f"seed {seed} with {replications} replications runs past {MAX_SEED}: give a smaller seed"
        )


def check_fit(scenario: Scenario, protocol: ProtocolConfig) -> None:
    """Each actor's strategy and the protocol must fit the scenario (raises UserError)."""
    for index, strategy in enumerate(scenario.strategies):
        if strategy not in STRATEGIES:
            raise UserError(
                f"scenario.actors.{scenario.actors[index]}.strategy is '{strategy}': "
                f"choose one of {', '.join(STRATEGIES)}"
            )
        STRATEGIES[strategy].check(scenario, index)
    if protocol.name not in PROTOCOLS:
        raise UserError(f"unknown protocol '{protocol.name}': choose one of {', '.join(PROTOCOLS)}")
    make_protocol(protocol).check(scenario)


def check_validation_table(scenario: Scenario, source: TableSource | None) -> None:
    """`task=validate` needs a table with recorded outcomes (raises UserError)."""
    if source is None:
        raise UserError(
            f"task=validate scores forecasts against a table's recorded outcomes; scenario '{scenario.name}' "
            "has none: use scenario=table scenario.path=FILE with a DEU III table"
        )
    if np.isnan(source.table.outcome).all() or not math.isfinite(np.nanmax(np.abs(source.table.outcome))):
        raise UserError(
            f"{scenario.source}: the table records no outcomes to score forecasts against "
            "(task=validate needs a DEU III table, whose 'out' column holds them)"
        )
