"""Aggregate a Hydra sweep: `sweep.csv` (one row per job) and its plots.

Runs by itself at the end of every multirun (a Hydra callback), under any sweeper: the table is
read from the job folders themselves, each holding `.hydra/overrides.yaml` (what it ran) and
`summary.json` (what it found), so the trials of an Optuna study aggregate as a grid does. A sweep
that was interrupted can be aggregated afterwards from what it finished:

    python -m sim.studies.sweep results/sweeps/<date_time>

which also names the jobs that are missing: those that started and did not finish, and, for a
grid sweep, those its `multirun.yaml` planned that never started. A job counts as finished when
its folder holds `summary.json`, which is written last and atomically. A job whose files are
damaged (an empty or cut-short `summary.json` or `.hydra/*.yaml`) is named with what is wrong, a
damaged `multirun.yaml` is noted, and the rest is aggregated.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import dataclass
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


def job_objective(job: SweepJob, summary: dict[str, Any]) -> float | None:
    """The objective the job returned to its sweeper (None when its configuration names none)."""
    config = read_yaml(job.folder / ".hydra" / "config.yaml")
    if not isinstance(config, DictConfig) or "objective" not in config:
        raise Damaged("config.yaml is damaged (no objective key)")
    path, target = config.get("objective"), config.get("objective_target")
    try:
        return None if path is None else objective_of(summary, str(path), target)
    except (UserError, TypeError) as error:
        raise Damaged(f"summary.json has no objective ({error})") from error


def job_row(job: SweepJob, swept: list[str]) -> dict[str, Any]:
    """The row of a finished job: its swept values and metrics; Damaged when a file cannot be read."""
    summary = read_summary(job.folder / "summary.json")
    try:
        metrics = job_metrics(summary)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        wrong = f"no {error} key" if isinstance(error, KeyError) else _first_line(error)
        raise Damaged(f"summary.json is damaged ({wrong})") from error
    objective = job_objective(job, summary)
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


def aggregate_sweep(sweep_dir: Path, plots: bool = True) -> Aggregation:
    """`aggregate`, with notes on the sweep's own files (a damaged `multirun.yaml`). Every file is
    written through a temporary file, so a failed write (a full disk) keeps the `sweep.csv` there
    was; temporary files of killed writers are removed."""
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
    if rows:
        write_csv(sweep_dir / "sweep.csv", table)
        if plots and swept:
            write_sweep_plots(sweep_dir, table, swept)
    return Aggregation(table, missing, notes)


def _rows(
    jobs: list[SweepJob], never_started: set[int], swept: list[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The rows of the finished jobs, and a line for every job missing or damaged."""
    rows, missing = [], []
    for job in jobs:
        if job.problem is not None:
            missing.append(_missing_line(job, swept, job.problem))
        elif job.number in never_started or not (job.folder / "summary.json").is_file():
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
        try:
            found = aggregate_sweep(sweep_dir, plots=bool(config.get("plots", True)))
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
        found = aggregate_sweep(args.sweep_dir, plots=not args.no_plots)
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
