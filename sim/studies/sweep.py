"""Aggregate a Hydra sweep: `sweep.csv` (one row per job) and its plots.

Runs by itself at the end of every multirun (a Hydra callback), under any sweeper: the table is
read from the job folders themselves, each holding `.hydra/overrides.yaml` (what it ran) and
`summary.json` (what it found), so the trials of an Optuna study aggregate as a grid does. A sweep
that was interrupted can be aggregated afterwards from what it finished:

    python -m sim.studies.sweep results/sweeps/<date_time>

which also names the jobs that are missing: those that started and did not finish, and, for a
grid sweep, those its `multirun.yaml` planned that never started. A job counts as finished when
its folder holds `summary.json`, which is written last and atomically.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from sim.errors import UserError
from sim.figures.study import write_sweep_plots
from sim.outputs.files import write_csv
from sim.studies.objective import objective_of


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


@dataclass(frozen=True)
class SweepJob:
    """A job of a sweep, from its folder: its number and the overrides it ran with."""

    number: int
    overrides: list[str]
    folder: Path

    @property
    def values(self) -> dict[str, str]:
        return values_of(self.overrides)


def values_of(overrides: list[str]) -> dict[str, str]:
    """`{key: value}` of override lines, the keys without `+` or `~`."""
    pairs = (line.partition("=") for line in overrides)
    return {key.lstrip("+~"): value for key, _, value in pairs}


def started_jobs(sweep_dir: Path) -> list[SweepJob]:
    """Every job that started, from the `.hydra/overrides.yaml` Hydra writes in its folder."""
    jobs = [
        SweepJob(
            int(path.parents[1].name) if path.parents[1].name.isdigit() else -1,
            [str(line) for line in OmegaConf.load(path)],
            path.parents[1],
        )
        for path in sweep_dir.glob("*/.hydra/overrides.yaml")
    ]
    return sorted(jobs, key=lambda job: (job.number, job.folder.name))


def planned_jobs(sweep_dir: Path) -> list[list[str]]:
    """The override list of every job a grid sweep planned, in Hydra's job order, from its
    `multirun.yaml`; none for a sweep that is not a grid (an Optuna study, an interval)."""
    plan = sweep_dir / "multirun.yaml"
    if not plan.is_file():
        return []
    hydra_cfg = OmegaConf.load(plan).hydra
    if not str(hydra_cfg.sweeper.get("_target_", "")).endswith(GRID_SWEEPER):
        return []
    params = hydra_cfg.sweeper.get("params") or {}
    lines = [f"{key}={value}" for key, value in params.items()] + list(hydra_cfg.overrides.task)
    choices: dict[str, list[str]] = {}
    for override in OverridesParser.create().parse_overrides(lines):
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
    config = OmegaConf.load(job.folder / ".hydra" / "config.yaml")
    assert isinstance(config, DictConfig)
    path, target = config.get("objective"), config.get("objective_target")
    return None if path is None else objective_of(summary, str(path), target)


def aggregate(sweep_dir: Path, plots: bool = True) -> tuple[pd.DataFrame, list[str]]:
    """Write `sweep.csv` and the sweep plots from the finished jobs' folders (their
    `.hydra/overrides.yaml` and `summary.json`); return the table and the jobs missing: those that
    started without finishing, and those of a grid sweep's `multirun.yaml` that never started."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise UserError(f"no such folder: {sweep_dir}")
    started, planned = started_jobs(sweep_dir), planned_jobs(sweep_dir)
    if not started and not (sweep_dir / "multirun.yaml").is_file():
        raise UserError(
            f"{sweep_dir} has no multirun.yaml and no job folders: "
            "give the folder of a sweep (results/sweeps/<date_time>)"
        )
    ran = {frozenset(job.overrides) for job in started}
    never = [
        SweepJob(number, job, sweep_dir / str(number))
        for number, job in enumerate(planned)
        if frozenset(job) not in ran
    ]
    never_started = {job.number for job in never}
    swept = swept_keys([job.values for job in [*started, *never]])
    rows, missing = [], []
    for job in sorted([*started, *never], key=lambda job: job.number):
        summary_path = job.folder / "summary.json"
        if job.number in never_started or not summary_path.is_file():
            chosen = " ".join(f"{key}={job.values[key]}" for key in swept if key in job.values)
            missing.append(f"job {job.number} ({chosen})")
            continue
        summary = json.loads(summary_path.read_text())
        objective = job_objective(job, summary)
        rows.append(
            {
                "job": job.number,
                **{key: job.values.get(key) for key in swept},
                **job_metrics(summary),
                **({} if objective is None else {"objective": objective}),
            }
        )
    table = pd.DataFrame(rows)
    if rows:
        for key in swept:
            converted = pd.to_numeric(table[key], errors="coerce")
            if converted.notna().all():
                table[key] = converted
        write_csv(sweep_dir / "sweep.csv", table)
        if plots and swept:
            write_sweep_plots(sweep_dir, table, swept)
    return table, missing


def optimum(sweep_dir: Path) -> str | None:
    """What an Optuna study found (`optimization_results.yaml`), in one line; None for other sweeps."""
    path = Path(sweep_dir) / "optimization_results.yaml"
    if not path.is_file():
        return None
    results = OmegaConf.to_container(OmegaConf.load(path))
    assert isinstance(results, dict)
    if "best_params" not in results:
        return f"Optimum: {len(results.get('solutions') or [])} Pareto solutions in {path}"
    chosen = " ".join(f"{key}={value}" for key, value in results["best_params"].items())
    return f"Optimum: {chosen}, objective {results['best_value']:.4g} ({path})"


class AggregateSweep(Callback):
    """Hydra callback: aggregate the sweep when the multirun ends."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        table, missing = aggregate(sweep_dir, plots=bool(config.get("plots", True)))
        print(f"Sweep: {len(table)} jobs aggregated into {sweep_dir / 'sweep.csv'}")
        for job in missing:
            print(f"missing: {job}")
        found = optimum(sweep_dir)
        if found:
            print(found)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m sim.studies.sweep", description="Aggregate a (possibly interrupted) sweep."
    )
    parser.add_argument("sweep_dir", type=Path, help="the sweep's folder, results/sweeps/<date_time>")
    parser.add_argument("--no-plots", action="store_true", help="write sweep.csv only")
    args = parser.parse_args(argv)
    try:
        table, missing = aggregate(args.sweep_dir, plots=not args.no_plots)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    print(f"{len(table)} jobs aggregated into {args.sweep_dir / 'sweep.csv'}")
    found = optimum(args.sweep_dir)
    if found:
        print(found)
    if missing:
        print(f"{len(missing)} jobs missing:")
        for job in missing:
            print(f"  {job}")
        print("Run the sweep again for those values, or aggregate what is there.")


if __name__ == "__main__":
    main()
