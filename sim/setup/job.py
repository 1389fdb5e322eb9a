"""A composed configuration turned, once, into the typed `Job` every lower layer reads.

`job_from_config` is the only place a `DictConfig` is read: it builds and checks the scenario
(from a scenario file, `sim.core.build`, or a published table, `sim.tables.scenario`), the
protocol's `Config`, each actor's strategy, and the run settings. Every check a user's
configuration can fail runs here, before anything is written.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import BooleanNode, DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.core.build import build_scenario
from sim.core.limits import MAX_WORKERS, RunSize, check_disk, check_limits, check_seeds
from sim.core.scenario import Scenario
from sim.errors import UserError
from sim.protocols import PROTOCOLS, ProtocolConfig, make_protocol
from sim.setup.compose import compose_config, explain, node_at, parse_overrides, scenario_list, sweep_configs
from sim.setup.schema import Task
from sim.setup.sensitivity import SensitivityJob, sensitivity_job
from sim.setup.series import SeriesJob, series_job
from sim.setup.what_if import WhatIfJob, what_if_job
from sim.strategies import STRATEGIES
from sim.tables.readers import Table, read_table
from sim.tables.scenario import TableOptions, scenario_from_table, table_path


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
    workers: int = 1
    """Processes that run a batch's chunks at once (`sim.studies.batch.run_batch`)."""
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
    what_if: WhatIfJob | None = None
    """For task=what_if: the issues to study, the target outcome and the search's settings."""
    sensitivity: SensitivityJob | None = None
    """For task=sensitivity: the method, samples, spread and the robustness check's spreads."""

    def __post_init__(self) -> None:
        check_limits(self.size)
        check_seeds(self.seed, self.replications)
        check_disk(self.size, Path(self.results))

    @property
    def keeps_trace(self) -> bool:
        """Whether the run keeps its trace: a single run always, a batch when asked; the other
        tasks keep none."""
        return self.task == Task.run and (self.trace or self.replications == 1)

    @property
    def size(self) -> RunSize:
        """What the run's memory and work grow with (`sim.core.limits`)."""
        scenario = self.scenario
        steps = int(self.protocol.max_steps)
        streamed = self.task == Task.run and self.series is None
        return RunSize(
            scenario.n_actors, scenario.n_columns, self.replications, steps, self.keeps_trace, streamed
        )

    @property
    def heading(self) -> dict[str, Any]:
        """What a study's summary opens with: the scenario, its title, the protocol, seed and replications."""
        return {
            "scenario": self.scenario.name,
            "title": self.scenario.title,
            "protocol": self.protocol.name,
            "seed": self.seed,
            "replications": self.replications,
        }

    def replace(self, **changes: Any) -> Job:
        """A copy with some run settings changed (checked as when composed)."""
        return dataclasses.replace(self, **changes)


def worker_count(workers: int) -> int:
    """The processes a batch may use: `workers`, or one per core available for 0 (raises UserError)."""
    if not 0 <= workers <= MAX_WORKERS:
        raise UserError(
            f"workers is {workers}: give 0 (one per core) or a whole number from 1 to {MAX_WORKERS}"
        )
    return workers or len(os.sched_getaffinity(0))


def job_from_config(cfg: DictConfig, overrides: tuple[str, ...] = ()) -> Job:
    """Build and check the job a composed configuration describes (raises UserError)."""
    if cfg.get("scenario") is None:
        raise UserError("no scenario chosen\n" + scenario_list())
    check_known_keys(cfg)
    check_booleans(cfg, overrides)
    try:
        OmegaConf.resolve(copy.deepcopy(cfg))
    except OmegaConfBaseException as error:
        raise UserError(
            f"{explain(error, [])}: an interpolation ${{...}} in the configuration cannot be resolved; "
            "give the value itself"
        ) from error
    try:
        container = OmegaConf.to_container(cfg.scenario, resolve=True, throw_on_missing=True)
        protocol = OmegaConf.to_object(cfg.protocol)
    except OmegaConfBaseException as error:
        raise UserError(explain(error, [])) from error
    if not isinstance(container, dict):
        raise UserError(
            f"the scenario is {type(container).__name__}, not a mapping of its keys: give the scenario "
            "file its name, issues and actors (see conf/scenario/astana7.yaml)"
        )
    assert isinstance(protocol, ProtocolConfig)
    scenario_cfg = {str(key): value for key, value in container.items()}
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
    what_if = None
    if task == Task.what_if:
        what_if = what_if_job(section(cfg, "what_if"), scenario)
    sensitivity = None
    if task == Task.sensitivity:
        sensitivity = sensitivity_job(section(cfg, "sensitivity"))
    return Job(
        scenario=scenario,
        protocol=protocol,
        seed=int(cfg.seed),
        replications=int(cfg.replications),
        workers=worker_count(int(cfg.get("workers", 1))),
        trace=bool(cfg.trace),
        plots=bool(cfg.plots),
        results=str(cfg.results),
        quiet=bool(cfg.quiet),
        task=task,
        source=source,
        overrides=overrides,
        objective=check_objective_path(cfg.get("objective")),
        objective_target=check_objective_target(cfg.get("objective_target")),
        series=series,
        what_if=what_if,
        sensitivity=sensitivity,
    )


def section(cfg: DictConfig, key: str) -> dict[str, Any]:
    """A task's settings as plain values (empty when the configuration has none)."""
    settings = OmegaConf.to_container(cfg[key], resolve=True) if cfg.get(key) is not None else {}
    assert isinstance(settings, dict)
    return {str(name): value for name, value in settings.items()}


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


def check_objective_target(target: float | None) -> float | None:
    """An objective's target is a finite number, or null (raises UserError)."""
    if target is not None and not math.isfinite(target):
        raise UserError(f"objective_target is {target}: give a finite number, or null for the metric itself")
    return None if target is None else float(target)


def check_known_keys(node: DictConfig, where: str = "") -> None:
    """Every key of a section with a schema is one the schema has: `+foo=1` or `++seedd=3` would
    add a key nothing reads (raises UserError naming the key and the keys there are). Walks the
    sections with a schema, and the mappings of them (such as scenario.actors)."""
    schema = node._metadata.object_type
    if dataclasses.is_dataclass(schema):
        known = [field.name for field in dataclasses.fields(schema)]
        unknown = [str(key) for key in node if key not in known and (where or key != "hydra")]
        if unknown:
            close = difflib.get_close_matches(unknown[0], known, n=1)
            hint = f" (did you mean {where}{close[0]}?)" if close else ""
            place = where[:-1] or "the configuration"
            raise UserError(
                f"unknown key '{where}{unknown[0]}': '{unknown[0]}' is not in {place}{hint}; "
                f"it has: {', '.join(known)}"
            )
    elif not dataclasses.is_dataclass(node._metadata.element_type):
        return
    for key in node:
        child = node._get_node(key)
        if isinstance(child, DictConfig) and not (child._is_missing() or child._is_none()):
            check_known_keys(child, f"{where}{key!s}.")


def check_booleans(cfg: DictConfig, overrides: Sequence[str]) -> None:
    """An override of a true/false key gives true or false: OmegaConf would read `trace=2` or
    `trace=yes` as true (raises UserError)."""
    for override in parse_overrides(overrides):
        if override.is_delete() or override.is_sweep_override():
            continue
        node, value = node_at(cfg, override.key_or_group), override.value()
        interpolation = isinstance(value, str) and value.startswith("${")
        if isinstance(node, BooleanNode) and not isinstance(value, bool) and not interpolation:
            raise UserError(
                f"{override.key_or_group} is {override.get_value_element_as_str()}: give true or false"
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


def jobs_of(argv: Sequence[str]) -> Iterator[Job]:
    """The checked job of each run a command line asks for: its one run, or with -m every job of
    its sweep, each named in the error it raises (raises UserError)."""
    overrides = [arg for arg in argv if not arg.startswith("-")]
    if not any(arg in ("-m", "--multirun") for arg in argv):
        yield job_from_config(compose_config(overrides), overrides=tuple(overrides))
        return
    for job_overrides, cfg in sweep_configs(overrides):
        try:
            job = job_from_config(cfg, overrides=tuple(job_overrides))
        except UserError as error:
            raise UserError(f"{error} (in the sweep's job {' '.join(job_overrides)})") from None
        yield job
