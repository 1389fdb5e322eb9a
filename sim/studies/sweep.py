"""Aggregate a Hydra sweep: `sweep.csv` (one row per job), its plots and its `report.html`.

Runs by itself at the end of every multirun (a Hydra callback), under any sweeper: the table is
read from the job folders themselves, each holding `.hydra/overrides.yaml` (what it ran) and its
result file (what it found: `summary.json` for a run; `series.json`, `forecast.json`,
`backtest.json` or `calibration.json` for a series task; `validation.json`; `what_if.json`), so
the trials of an Optuna study aggregate as a grid does. A sweep that was interrupted can be
aggregated afterwards from what it finished:

    python -m sim.studies.sweep results/sweeps/<date_time>

which also names the jobs that are missing: those that started and did not finish, and, for a
grid sweep, those its `multirun.yaml` planned that never started. A job counts as finished when
its folder holds its result file, which is written last and atomically. A job whose files are
damaged (an empty or cut-short result file or `.hydra/*.yaml`) is named with what is wrong, a
damaged `multirun.yaml` is noted, and the rest is aggregated. The sweep's `report.html` says what
ran and links each job's own report, and the results folder's `index.html` lists the sweep.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd
import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.core.scenario import Record
from sim.errors import UserError
from sim.figures.sweep import write_sweep_plots
from sim.outputs.files import (
    interrupted_status,
    no_room_or_no_access,
    remove_stale_temporaries,
    stop_cleanly_on_termination,
    unwritable,
    write_csv,
)
from sim.outputs.report import REPORT, RunInfo, SweepPage, write_index, write_sweep_report
from sim.studies.objective import objective_of

EXIT_USER_ERROR = 2


def job_metrics(summary: dict[str, Any]) -> dict[str, Any]:
    """The outcome metrics of one job, flat, from its summary (of any number of replications)."""
    row: dict[str, Any] = {
        "replications": summary["replications"],
        "steps_mean": summary["steps"]["mean"],
    }
    for issue, outcome in summary["issues"].items():
        low, high = outcome["interval"]
        row[f"{issue}.agreement_probability"] = outcome["agreement_probability"]
        row[f"{issue}.interval_low"], row[f"{issue}.interval_high"] = low, high
        row[f"{issue}.value_mean"] = _number(outcome["value"]["mean"])
        row[f"{issue}.step_mean"] = _number(outcome["step"]["mean"])
    for actor, utility in summary["utilities"].items():
        low, high = utility["interval"]
        row[f"{actor}.utility"], row[f"{actor}.utility_low"], row[f"{actor}.utility_high"] = (
            utility["mean"],
            low,
            high,
        )
    for actor, p in summary["walk_out_probability"].items():
        row[f"{actor}.walk_out_probability"] = p
    for key in ("distance_to_nash", "pareto_gap"):
        row[key] = _number(summary[key])
    if "record" in summary:
        row["record_match_probability"] = summary["record"]["match_probability"]
    return row


def _number(value: float | None) -> float:
    return np.nan if value is None else value


def replay_metrics(summary: dict[str, Any]) -> dict[str, Any]:
    """The metrics of a series replay (`series.json`): its Brier score, the issue-rounds it
    reproduced, and per issue the share of its rounds reproduced."""
    reproduced, _, recorded = summary["reproduced"].partition(" of ")
    row: dict[str, Any] = {
        "brier": summary["brier"],
        "reproduced": int(reproduced),
        "issue_rounds": int(recorded),
    }
    for issue, entry in summary["issues"].items():
        row[f"{issue}.reproduced_share"] = (
            entry["reproduced"] / entry["rounds"] if entry["rounds"] else np.nan
        )
    return row


def forecast_metrics(summary: dict[str, Any]) -> dict[str, Any]:
    """The metrics of a series forecast (`forecast.json`): per issue the probability of agreement
    with its interval, and the Brier score when the round's outcomes are recorded."""
    row: dict[str, Any] = {"round": summary["round"]}
    for issue, entry in summary["issues"].items():
        row[f"{issue}.p_agree"] = entry["p_agree"]
        row[f"{issue}.p_agree_low"], row[f"{issue}.p_agree_high"] = entry["interval"]
    if "brier" in summary:
        row["brier"] = summary["brier"]
    return row


def what_if_metrics(summary: dict[str, Any]) -> dict[str, Any]:
    """The metrics of a what-if study (`what_if.json`): per issue (per round of a series) its
    probability of agreement and the number of changes found that reach its target."""
    studies = (
        {"": summary} if "issues" in summary else {f"round_{n}.": r for n, r in summary["rounds"].items()}
    )
    row: dict[str, Any] = {}
    for prefix, study in studies.items():
        for issue, entry in study["issues"].items():
            row[f"{prefix}{issue}.p_agreed"] = entry["agreement_probability"]
            row[f"{prefix}{issue}.changes_found"] = entry["changes_found"]
    return row


def sensitivity_metrics(summary: dict[str, Any]) -> dict[str, Any]:
    """The metrics of a sensitivity study (`sensitivity.json`): the runs, and per spread of the
    robustness check the share of perturbed scenarios that reproduce the record (none without a
    record, or for a series, whose rounds each have their own)."""
    row: dict[str, Any] = {"runs": summary.get("runs")}
    robustness = summary.get("robustness") or {}
    for entry in robustness.get("spreads") or []:
        row[f"robustness_{entry['spread']:g}.share"] = entry["share"]
    return row


def backtest_metrics(summary: dict[str, Any]) -> dict[str, Any]:
    """The metrics of a series backtest (`backtest.json`): each forecaster's overall Brier score."""
    row: dict[str, Any] = {"issue_rounds": summary["issue_rounds"]}
    for name, score in summary["brier"].items():
        row[f"{name}.brier"] = score["overall"]
    return row


def calibration_metrics(summary: dict[str, Any]) -> dict[str, Any]:
    """The metrics of a series calibration (`calibration.json`): the Brier scores at the fitted and
    the stated values, and each fitted parameter."""
    row: dict[str, Any] = {"brier_fitted": summary["brier_fitted"], "brier_stated": summary["brier_stated"]}
    for name, entry in summary["parameters"].items():
        row[f"{name}.fitted"] = entry["value"]
    return row


def validation_metrics(summary: dict[str, Any]) -> dict[str, Any]:
    """The metrics of a validation (`validation.json`): the issues scored and each method's mean
    absolute error."""
    row: dict[str, Any] = {"n_issues": summary["n_issues"]}
    for method, error in summary["mae"].items():
        row[f"{method}.mae"] = _number(error)
    return row


RESULT_FILES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "summary.json": job_metrics,
    "series.json": replay_metrics,
    "forecast.json": forecast_metrics,
    "backtest.json": backtest_metrics,
    "calibration.json": calibration_metrics,
    "validation.json": validation_metrics,
    "what_if.json": what_if_metrics,
    "sensitivity.json": sensitivity_metrics,
}
"""The file each task writes last, by which a job counts as finished, and its metrics."""
HIDDEN_OVERRIDES = {"results", "quiet"}
"""Overrides that say where a sweep wrote and how it printed, not what it ran."""
LISTED_VALUES = 12
"""A report lists a swept key's values up to this many, else gives their range."""
LONG_NUMBER = 8
"""A listed value written with more characters is shown to four significant digits."""
WITHOUT_REPLICATIONS = {"replay", "forecast", "backtest", "calibrate", "validate"}
"""Tasks that do not run `replications` negotiations (a series draws its own)."""


def result_file(folder: Path) -> Path | None:
    """The result file a finished job wrote (the first of `RESULT_FILES` there), else None."""
    for name in RESULT_FILES:
        if (folder / name).is_file():
            return folder / name
    return None


GRID_SWEEPER = "BasicSweeper"
"""The class name of Hydra's own sweeper, whose jobs are the grid of the swept values."""


class Damaged(Exception):
    """A file of a sweep that cannot be read: empty, cut short, or not what it should hold."""


@dataclass(frozen=True)
class SweepJob:
    """A job of a sweep, from its folder: its number, the overrides it ran with, and why its
    folder cannot be read (None when it can)."""

    number: int
    overrides: list[str]
    folder: Path
    problem: str | None = None

    @property
    def values(self) -> dict[str, str]:
        return values_of(self.overrides)


@dataclass(frozen=True)
class Aggregation:
    """What `aggregate_sweep` found: the table, the jobs missing (with why, when a file is
    damaged), and notes on the sweep's own files."""

    table: pd.DataFrame
    missing: list[str]
    notes: list[str]


def values_of(overrides: list[str]) -> dict[str, str]:
    """`{key: value}` of override lines, the keys without `+` or `~`."""
    pairs = (line.partition("=") for line in overrides)
    return {key.lstrip("+~"): value for key, _, value in pairs}


def read_yaml(path: Path) -> DictConfig | ListConfig:
    """A YAML file Hydra wrote; Damaged when it is empty or cannot be read."""
    try:
        loaded = OmegaConf.load(path)
    except yaml.MarkedYAMLError as error:
        where = f" at line {error.problem_mark.line + 1}" if error.problem_mark else ""
        raise Damaged(f"{path.name} is damaged ({error.problem or error.context}{where})") from error
    except (OSError, UnicodeDecodeError, yaml.YAMLError, OmegaConfBaseException) as error:
        raise Damaged(f"{path.name} is damaged ({_first_line(error)})") from error
    if not loaded:
        raise Damaged(f"{path.name} is empty")
    return loaded


def read_summary(path: Path) -> dict[str, Any]:
    """A job's `summary.json`; Damaged when it is empty, cut short or not a JSON object."""
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Damaged(f"{path.name} is damaged ({_first_line(error)})") from error
    if not isinstance(summary, dict):
        raise Damaged(f"{path.name} is damaged (not a JSON object)")
    return summary


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def started_jobs(sweep_dir: Path) -> list[SweepJob]:
    """Every job that started, from the `.hydra/overrides.yaml` Hydra writes in its folder."""
    jobs = [_started_job(path) for path in sweep_dir.glob("*/.hydra/overrides.yaml")]
    return sorted(jobs, key=lambda job: (job.number, job.folder.name))


def _started_job(path: Path) -> SweepJob:
    folder = path.parents[1]
    number = int(folder.name) if folder.name.isdigit() else -1
    try:
        overrides = read_yaml(path)
        if not isinstance(overrides, ListConfig) or not all("=" in str(line) for line in overrides):
            raise Damaged(f"{path.name} is damaged (not a list of overrides)")
    except Damaged as damaged:
        return SweepJob(number, [], folder, f".hydra/{damaged}")
    return SweepJob(number, [str(line) for line in overrides], folder)


def planned_jobs(sweep_dir: Path) -> list[list[str]]:
    """The override list of every job a grid sweep planned, in Hydra's job order, from its
    `multirun.yaml`; none for a sweep that is not a grid (an Optuna study, an interval), and
    Damaged when the file cannot be read."""
    plan = sweep_dir / "multirun.yaml"
    if not plan.is_file():
        return []
    config = read_yaml(plan)
    hydra_cfg = config.get("hydra") if isinstance(config, DictConfig) else None
    if not isinstance(hydra_cfg, DictConfig) or "sweeper" not in hydra_cfg or "overrides" not in hydra_cfg:
        raise Damaged(f"{plan.name} is damaged (no hydra.sweeper or hydra.overrides)")
    if not str(hydra_cfg.sweeper.get("_target_", "")).endswith(GRID_SWEEPER):
        return []
    params = hydra_cfg.sweeper.get("params") or {}
    lines = [f"{key}={value}" for key, value in params.items()] + list(hydra_cfg.overrides.task)
    choices: dict[str, list[str]] = {}
    try:
        parsed = OverridesParser.create().parse_overrides(lines)
    except HydraException as error:
        raise Damaged(f"{plan.name} is damaged ({_first_line(error)})") from error
    for override in parsed:
        key = override.get_key_element()
        if not override.is_sweep_override():
            choices[key] = [f"{key}={override.get_value_element_as_str()}"]
        elif override.is_discrete_sweep():
            choices[key] = [f"{key}={value}" for value in override.sweep_string_iterator()]
        else:
            return []
    return [list(job) for job in itertools.product(*choices.values())]


def swept_keys(jobs: list[dict[str, str]]) -> list[str]:
    """The keys whose value differs between jobs, in the order they were given."""
    keys = list(dict.fromkeys(key for job in jobs for key in job))
    return [key for key in keys if len({job.get(key) for job in jobs}) > 1]


def job_objective(job: SweepJob, summary: dict[str, Any], name: str = "summary.json") -> float | None:
    """The objective the job returned to its sweeper (None when its configuration names none)."""
    config = read_yaml(job.folder / ".hydra" / "config.yaml")
    if not isinstance(config, DictConfig) or "objective" not in config:
        raise Damaged("config.yaml is damaged (no objective key)")
    path, target = config.get("objective"), config.get("objective_target")
    try:
        return None if path is None else objective_of(summary, str(path), target)
    except (UserError, TypeError) as error:
        raise Damaged(f"{name} has no objective ({error})") from error


def job_row(job: SweepJob, swept: list[str]) -> dict[str, Any]:
    """The row of a finished job: its swept values and metrics; Damaged when a file cannot be read."""
    path = result_file(job.folder)
    if path is None:
        raise Damaged("no result file")
    summary = read_summary(path)
    try:
        metrics = RESULT_FILES[path.name](summary)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        wrong = f"no {error} key" if isinstance(error, KeyError) else _first_line(error)
        raise Damaged(f"{path.name} is damaged ({wrong})") from error
    objective = job_objective(job, summary, path.name)
    return {
        "job": job.number,
        **{key: job.values.get(key) for key in swept},
        **metrics,
        **({} if objective is None else {"objective": objective}),
    }


def _missing_line(job: SweepJob, swept: list[str], problem: str | None = None) -> str:
    chosen = " ".join(f"{key}={job.values[key]}" for key in swept if key in job.values)
    return f"job {job.number}" + (f" ({chosen})" if chosen else "") + (f": {problem}" if problem else "")


def aggregate(sweep_dir: Path, plots: bool = True) -> tuple[pd.DataFrame, list[str]]:
    """Write `sweep.csv` and the sweep plots from the finished jobs' folders (their
    `.hydra/overrides.yaml` and `summary.json`); return the table and the jobs missing: those that
    started without finishing or whose files are damaged, and those of a grid sweep's
    `multirun.yaml` that never started."""
    found = aggregate_sweep(sweep_dir, plots)
    return found.table, found.missing


def aggregate_sweep(sweep_dir: Path, plots: bool = True, index_root: Path | None = None) -> Aggregation:
    """`aggregate`, with notes on the sweep's own files (a damaged `multirun.yaml`), and the
    sweep's `report.html`; with `index_root`, its `index.html` is rewritten to list the sweep.
    Every file is written through a temporary file, so a failed write (a full disk) keeps the
    `sweep.csv` there was; temporary files of killed writers are removed."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise UserError(f"no such folder: {sweep_dir}")
    started, notes = started_jobs(sweep_dir), []
    try:
        planned = planned_jobs(sweep_dir)
    except Damaged as damaged:
        planned = []
        notes.append(f"{damaged}: jobs it planned that never started are not named")
    if not started and not (sweep_dir / "multirun.yaml").is_file():
        raise UserError(
            f"{sweep_dir} has no multirun.yaml and no job folders: "
            "give the folder of a sweep (results/sweeps/<date_time>)"
        )
    ran = {frozenset(job.overrides) for job in started}
    unreadable = {job.number for job in started if job.problem is not None}
    never = [
        SweepJob(number, job, sweep_dir / str(number))
        for number, job in enumerate(planned)
        if frozenset(job) not in ran and number not in unreadable
    ]
    swept = swept_keys([job.values for job in [*started, *never] if job.problem is None])
    jobs = sorted([*started, *never], key=lambda job: job.number)
    rows, missing = _rows(jobs, {job.number for job in never}, swept)
    for folder in [sweep_dir, *(job.folder for job in started)]:
        remove_stale_temporaries(folder)
    table = _table(rows, swept)
    found = Aggregation(table, missing, notes)
    if rows:
        settings = settings_of(started, swept)
        write_csv(sweep_dir / "sweep.csv", table)
        if plots and swept:
            write_sweep_plots(sweep_dir, table, swept, settings.caption, settings.record)
        write_sweep_page(sweep_dir, found, jobs, swept, settings)
        if index_root is not None:
            write_index(index_root)
    return found


@dataclass(frozen=True)
class Settings:
    """What every job of a sweep shares: the scenario, task, protocol, replications and seed that
    are not swept (from a job's configuration), and the overrides common to all jobs."""

    fixed: list[tuple[str, str]]
    common: list[str]
    record: dict[str, Record] = field(default_factory=dict)
    """What the scenario's historical record says per issue (when no swept key changes it)."""

    @property
    def caption(self) -> str:
        fixed = ", ".join(f"{what} {value}" for what, value in self.fixed) or "none"
        return f"Fixed: {fixed}; overrides common to every job: {' '.join(self.common) or 'none'}"


def settings_of(jobs: list[SweepJob], swept: list[str]) -> Settings:
    """The settings every readable job shares."""
    readable = [job for job in jobs if job.problem is None and job.overrides]
    if not readable:
        return Settings([], [])
    common = [
        line
        for line in readable[0].overrides
        if all(line in job.overrides for job in readable[1:])
        and line.partition("=")[0].lstrip("+~") not in {*HIDDEN_OVERRIDES, *swept}
    ]
    return Settings(_fixed(readable, swept), common, _record(readable, swept))


def _fixed(jobs: list[SweepJob], swept: list[str]) -> list[tuple[str, str]]:
    """The scenario, task, protocol, replications and seed of a job's configuration, those not
    swept (a series scenario's `task=run` is its replay)."""
    for job in jobs:
        try:
            config = read_yaml(job.folder / ".hydra" / "config.yaml")
        except Damaged:
            continue
        if not isinstance(config, DictConfig):
            continue
        values = {
            "scenario": OmegaConf.select(config, "scenario.name"),
            "task": config.get("task"),
            "protocol": OmegaConf.select(config, "protocol.name"),
            "replications": config.get("replications"),
            "seed": config.get("seed"),
        }
        if values["task"] == "run" and (job.folder / "series.json").is_file():
            values["task"] = "replay"
        if values["task"] in WITHOUT_REPLICATIONS:
            values.pop("replications")
        return [(key, str(value)) for key, value in values.items() if value is not None and key not in swept]
    return []


def _record(jobs: list[SweepJob], swept: list[str]) -> dict[str, Record]:
    """The scenario's historical record per issue, from a job's configuration; none when a swept
    key changes the scenario's record or its name."""
    if any(key.startswith(("scenario.record", "scenario.name")) or key == "scenario" for key in swept):
        return {}
    for job in jobs:
        try:
            config = read_yaml(job.folder / ".hydra" / "config.yaml")
        except Damaged:
            continue
        entries = OmegaConf.select(config, "scenario.record") if isinstance(config, DictConfig) else None
        if not isinstance(entries, DictConfig):
            return {}
        return {
            str(issue): Record(bool(entry.get("agreed")), entry.get("low"), entry.get("high"))
            for issue, entry in entries.items()
            if isinstance(entry, DictConfig)
        }
    return {}


def sweep_overrides(sweep_dir: Path) -> list[str]:
    """The overrides the sweep was started with: its command line and its sweeper's parameters
    (an experiment's), from `multirun.yaml`; none when that file cannot be read."""
    try:
        config = read_yaml(sweep_dir / "multirun.yaml")
        lines = list(OmegaConf.select(config, "hydra.overrides.task", default=[]) or [])
        params = OmegaConf.select(config, "hydra.sweeper.params", default={}) or {}
    except (Damaged, OmegaConfBaseException):
        return []
    return [str(line) for line in lines] + [f"{key}={value}" for key, value in params.items()]


def values_text(values: list[str]) -> str:
    """A swept key's values in a few words: listed, or, when many and numeric (an Optuna study's
    trials), their number and range."""
    numbers = pd.to_numeric(pd.Series(values), errors="coerce")
    if numbers.isna().any():
        return ", ".join(values)
    if len(values) <= LISTED_VALUES:
        return ", ".join(
            f"{n:.4g}" if len(text) > LONG_NUMBER else text for text, n in zip(values, numbers, strict=True)
        )
    return f"{len(values)} values from {numbers.min():.4g} to {numbers.max():.4g}"


def _overrides_line(sweep_dir: Path) -> str:
    if not (sweep_dir / "multirun.yaml").is_file():
        return "not recorded (no multirun.yaml: the swept values are in each job's row)"
    return " ".join(sweep_overrides(sweep_dir)) or "none"


def sweep_info(
    sweep_dir: Path, found: Aggregation, jobs: list[SweepJob], swept: list[str], settings: Settings
) -> RunInfo:
    """What the sweep's report says ran, and the line the index shows for it."""
    values = {key: list(dict.fromkeys(job.values[key] for job in jobs if key in job.values)) for key in swept}
    over = "; ".join(f"{key} = {values_text(chosen)}" for key, chosen in values.items())
    fixed = dict(settings.fixed)
    headline = (
        f"{len(found.table)} jobs"
        + (f" over {over}" if over else "")
        + (f"; {len(found.missing)} missing" if found.missing else "")
    )
    ran = [
        ("sweep overrides", _overrides_line(sweep_dir)),
        *((f"swept: {key}", values_text(chosen)) for key, chosen in values.items()),
        *settings.fixed,
        ("overrides common to every job", " ".join(settings.common) or "none"),
        ("jobs finished", str(len(found.table))),
        ("jobs missing", str(len(found.missing))),
    ]
    best = optimum(sweep_dir)
    return RunInfo(
        title=f"Sweep over {', '.join(swept)}" if swept else "Sweep",
        scenario=str(fixed.get("scenario", "several")),
        task="sweep",
        headline=headline,
        ran=ran + ([("optimum", best.removeprefix("Optimum: "))] if best else []),
        created=_started(sweep_dir),
    )


def _started(sweep_dir: Path) -> str:
    """When the sweep started: the time of its `multirun.yaml`, else now."""
    plan = sweep_dir / "multirun.yaml"
    when = datetime.fromtimestamp(plan.stat().st_mtime) if plan.is_file() else datetime.now()
    return when.isoformat(timespec="seconds")


def write_sweep_page(
    sweep_dir: Path, found: Aggregation, jobs: list[SweepJob], swept: list[str], settings: Settings
) -> Path:
    """Write the sweep's `report.html`: what ran, the jobs missing, `sweep.csv` with a link to the
    report of each job that wrote one, and the sweep's figures."""
    links = {job.number: f"{job.folder.name}/{REPORT}" for job in jobs if (job.folder / REPORT).is_file()}
    page = SweepPage(found.table, found.missing, found.notes, links)
    return write_sweep_report(sweep_dir, sweep_info(sweep_dir, found, jobs, swept, settings), page)


def index_root_of(sweep_dir: Path, results: Path | None = None) -> Path | None:
    """The results folder whose `index.html` lists the sweep: `results` when the sweep lies under
    it, else the folder above `sweeps/` for a sweep in the default place; None otherwise."""
    resolved = Path(sweep_dir).resolve()
    if results is not None and Path(results).resolve() in resolved.parents:
        return Path(results)
    return resolved.parents[1] if resolved.parent.name == "sweeps" else None


def _rows(
    jobs: list[SweepJob], never_started: set[int], swept: list[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The rows of the finished jobs, and a line for every job missing or damaged."""
    rows, missing = [], []
    for job in jobs:
        if job.problem is not None:
            missing.append(_missing_line(job, swept, job.problem))
        elif job.number in never_started or result_file(job.folder) is None:
            missing.append(_missing_line(job, swept))
        else:
            try:
                rows.append(job_row(job, swept))
            except Damaged as damaged:
                missing.append(_missing_line(job, swept, str(damaged)))
    return rows, missing


def _table(rows: list[dict[str, Any]], swept: list[str]) -> pd.DataFrame:
    """The rows as a table, with each swept column numeric when all its values are numbers."""
    table = pd.DataFrame(rows)
    for key in swept if rows else []:
        converted = pd.to_numeric(table[key], errors="coerce")
        if converted.notna().all():
            table[key] = converted
    return table


def optimum(sweep_dir: Path) -> str | None:
    """What an Optuna study found (`optimization_results.yaml`), in one line; None for other sweeps."""
    path = Path(sweep_dir) / "optimization_results.yaml"
    if not path.is_file():
        return None
    try:
        results = OmegaConf.to_container(read_yaml(path))
    except Damaged as damaged:
        return f"Optimum: unknown, {damaged}"
    if not isinstance(results, dict) or not ({"best_params", "solutions"} & set(results)):
        return f"Optimum: unknown, {path.name} is damaged (no best_params)"
    if "best_params" not in results:
        return f"Optimum: {len(results.get('solutions') or [])} Pareto solutions in {path}"
    chosen = " ".join(f"{key}={value}" for key, value in results["best_params"].items())
    return f"Optimum: {chosen}, objective {results['best_value']:.4g} ({path})"


def unfinished_aggregation(error: OSError, sweep_dir: Path) -> str:
    """One line for an aggregation that could not write: what failed, what is kept, how to redo it."""
    return (
        f"{unwritable(error)}: {no_room_or_no_access(error)}, then run python -m sim.studies.sweep "
        f"{sweep_dir} (the finished jobs, and sweep.csv as it was, are kept)"
    )


def salvage(sweep_dir: Path) -> str:
    """Aggregate what a sweep stopped by an error finished, without plots; say in a few words
    what came of it."""
    try:
        found = aggregate_sweep(sweep_dir, plots=False)
    except UserError:
        return f"no job of {sweep_dir} finished"
    except OSError:
        return f"sweep.csv could not be written; later run python -m sim.studies.sweep {sweep_dir}"
    if found.table.empty:
        return f"no job of {sweep_dir} finished"
    return f"{len(found.table)} finished jobs are in {sweep_dir / 'sweep.csv'}"


def aggregated_line(found: Aggregation, sweep_dir: Path) -> str:
    """How many jobs went into `sweep.csv`; with none, that it was left as it was (or not written)."""
    if found.table.empty:
        return f"no finished job to aggregate: {sweep_dir / 'sweep.csv'} not written"
    return f"{len(found.table)} jobs aggregated into {sweep_dir / 'sweep.csv'}"


def print_aggregation(found: Aggregation, sweep_dir: Path, prefix: str = "") -> None:
    """Print the jobs missing, the notes on damaged files and an Optuna study's optimum."""
    for job in found.missing:
        print(f"{prefix}{job}")
    for note in found.notes:
        print(f"note: {note}")
    best = optimum(sweep_dir)
    if best:
        print(best)


class AggregateSweep(Callback):
    """Hydra callback: aggregate the sweep when the multirun ends; a write that fails (a full
    disk) ends in one line and exit status 2, keeping the jobs and the earlier `sweep.csv`."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        results = config.get("results")
        root = index_root_of(sweep_dir, None if results is None else Path(str(results)))
        try:
            found = aggregate_sweep(sweep_dir, plots=bool(config.get("plots", True)), index_root=root)
        except OSError as error:
            print(f"error: {unfinished_aggregation(error, sweep_dir)}", file=sys.stderr)
            sys.exit(EXIT_USER_ERROR)
        print(f"Sweep: {aggregated_line(found, sweep_dir)}")
        print_aggregation(found, sweep_dir, prefix="missing: ")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m sim.studies.sweep", description="Aggregate a (possibly interrupted) sweep."
    )
    parser.add_argument("sweep_dir", type=Path, help="the sweep's folder, results/sweeps/<date_time>")
    parser.add_argument("--no-plots", action="store_true", help="write sweep.csv only")
    args = parser.parse_args(argv)
    stop_cleanly_on_termination()
    try:
        found = aggregate_sweep(
            args.sweep_dir, plots=not args.no_plots, index_root=index_root_of(args.sweep_dir)
        )
    except UserError as error:
        _fail(str(error), EXIT_USER_ERROR)
    except OSError as error:
        _fail(unfinished_aggregation(error, args.sweep_dir), EXIT_USER_ERROR)
    except KeyboardInterrupt as error:
        _fail(f"interrupted; sweep.csv as it was is kept in {args.sweep_dir}", interrupted_status(error))
    print(aggregated_line(found, args.sweep_dir))
    if found.missing:
        print(f"{len(found.missing)} jobs missing:")
    print_aggregation(found, args.sweep_dir, prefix="  ")
    if found.missing:
        print("Run the sweep again for those values, or aggregate what is there.")


def _fail(message: str, status: int) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(status)


if __name__ == "__main__":
    main()
