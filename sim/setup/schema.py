"""Structured configuration: the schema Hydra checks every key and type against.

`conf/` mirrors these dataclasses: `conf/config.yaml` is `Config`, `conf/scenario/*.yaml` are
`ScenarioConf`, `conf/protocol/*.yaml` are the protocol schemas. A misspelled key or a value of
the wrong type is rejected when the configuration is composed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, OmegaConf

from sim.core.scenario import Decision, IssueKind, Recognition, Role
from sim.protocols import PROTOCOLS
from sim.setup.catalog import help_section
from sim.setup.sensitivity import SensitivityConf
from sim.setup.series import SeriesConf
from sim.setup.what_if import WhatIfConf
from sim.strategies import StrategyName


@dataclass
class IssueConf:
    low: str = ""
    high: str = ""
    description: str = ""
    marks: dict[str, str] = field(default_factory=dict)
    scale: list[float] = field(default_factory=lambda: [0.0, 1.0])
    kind: IssueKind = IssueKind.position
    recipients: list[str] | None = None


@dataclass
class ActorConf:
    name: str = MISSING
    role: Role = MISSING
    ideal: dict[str, float] = field(default_factory=dict)
    salience: dict[str, float] = MISSING
    capability: float = MISSING
    reservation: float = MISSING
    concession: float = 1.0
    patience: int = 10
    patron_of: str | None = None
    patron_weight: float = 0.0
    present: bool = True
    strategy: StrategyName = StrategyName.time_dependent
    discount: float = 1.0


@dataclass
class RecordConf:
    agreed: bool = MISSING
    low: float | None = None
    high: float | None = None
    note: str = ""
    disputed: str = ""
    """Where the sources disagree: the other account, with its source."""


@dataclass
class ScenarioConf:
    name: str = MISSING
    title: str = MISSING
    source: str = ""
    utility_exponent: int = 1
    decision: Decision = Decision.unanimity
    recognition: Recognition | None = None
    labels: dict[str, str] = field(default_factory=dict)
    """The scenario's own words for the generic roles, e.g. {signatory: guarantor}."""
    linked: list[list[str]] = field(default_factory=list)
    """Groups of issues that close together or not at all, e.g. [[detainees, demining]]."""
    issues: dict[str, IssueConf] = MISSING
    actors: dict[str, ActorConf] = MISSING
    record: dict[str, RecordConf] = field(default_factory=dict)
    path: str | None = None
    """A published negotiation table to import instead of `issues` and `actors` (`sim.tables.scenario`)."""
    signatories: Any = None
    """For an imported table, who signs (the veto players): null for every actor, a number N for the N
    most capable, or a list of actor keys."""
    reservation: float = 0.0
    """For an imported table, every actor's reservation utility."""
    concession: float = 1.0
    """For an imported table, every actor's concession exponent beta."""
    series: Any = None
    """For a series of rounds: the record's party codes, the mechanisms' free parameters with their
    ranges, the events before each round and the linked packages (`sim.series.spec`)."""


class Task(StrEnum):
    """What `python -m sim` does: run one negotiation, or score forecasts against recorded outcomes."""

    run = "run"
    validate = "validate"
    replay = "replay"
    forecast = "forecast"
    backtest = "backtest"
    calibrate = "calibrate"
    what_if = "what_if"
    sensitivity = "sensitivity"


TASKS = {
    Task.run: "one negotiation, or replications=N of them (the default)",
    Task.validate: "score every method's forecasts against a table's recorded outcomes (scenario=table)",
    Task.replay: "a series scenario's rounds, one by one, against its record (scenario=astana_series)",
    Task.forecast: "the next round of a series: probability of agreement per issue (series.next=N)",
    Task.backtest: "forecast each round of a series from the rounds before it, scored against baselines",
    Task.calibrate: "fit a series' free parameters to its record and save the fitted scenario",
    Task.what_if: "the smallest change of each parameter that flips each issue (what_if.issue, .target)",
    Task.sensitivity: "Sobol or Morris indices of every parameter for each outcome; the record's robustness",
}


@dataclass
class Config:
    scenario: Any = None
    protocol: Any = MISSING
    seed: int = 0
    replications: int = 1
    workers: int = 1
    """Processes that run a batch's chunks at once; 0 for one per core."""
    trace: bool = False
    plots: bool = True
    results: str = "results"
    quiet: bool = False
    task: Task = Task.run
    series: SeriesConf = field(default_factory=SeriesConf)
    """A series scenario's record, the round to forecast, its mechanisms and budgets."""
    what_if: WhatIfConf = field(default_factory=WhatIfConf)
    """task=what_if: the issue, the target outcome, pairs, and the search's budgets."""
    sensitivity: SensitivityConf = field(default_factory=SensitivityConf)
    """task=sensitivity: the method, samples, spread, groups, and the robustness check's spreads."""
    objective: str | None = None
    """The summary metric a job returns to a sweeper: a dotted path into summary.json."""
    objective_target: float | None = None
    """When set, a job returns |metric - objective_target| instead of the metric."""


def table_name(path: str | None) -> str:
    """The name of an imported table's scenario and run folder: the file's stem (`${table_name:...}`)."""
    return Path(path).stem if path else "table"


def help_list(name: str) -> str:
    """`${sim_help:NAME}`: a list of the help page (`sim.setup.catalog.help_section`)."""
    return help_section(name, tuple((str(task), text) for task, text in TASKS.items()))


def register_configs() -> None:
    """Put the schemas in Hydra's ConfigStore, where the YAML files name them in their defaults."""
    if not OmegaConf.has_resolver("table_name"):
        OmegaConf.register_new_resolver("table_name", table_name)
    if not OmegaConf.has_resolver("sim_help"):
        OmegaConf.register_new_resolver("sim_help", help_list)
    store = ConfigStore.instance()
    store.store(name="config_schema", node=Config)
    store.store(group="scenario", name="scenario_schema", node=ScenarioConf)
    for protocol in PROTOCOLS.values():
        store.store(group="protocol", name=f"{protocol.name}_schema", node=protocol.Config)
