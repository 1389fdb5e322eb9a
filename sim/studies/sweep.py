"""Aggregate a Hydra sweep: `sweep.csv` (one row per job) and its plots.

Runs by itself at the end of every multirun (a Hydra callback). A sweep that was interrupted
can be aggregated afterwards from what it finished:

    python -m sim.studies.sweep results/sweeps/<date_time>

which also names the jobs that are missing. A job counts as finished when its folder holds
`summary.json`, which is written last and atomically.
"""

from __future__ import annotations

import argparse
import json
import sys
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
from sim.outputs.summary import wilson_interval


def job_metrics(summary: dict[str, Any]) -> dict[str, Any]:
    """The outcome metrics of one job, flat, from its summary (a batch or a single run)."""
    row: dict[str, Any] = {}
    batch = "replications" in summary
    n = summary.get("replications", 1)
    row["replications"] = n
    row["steps_mean"] = summary["steps_mean"] if batch else summary["steps"]
    for issue, outcome in summary["issues"].items():
        if batch:
            p, (low, high) = outcome["agreement_probability"], outcome["interval"]
            value, step = outcome["value"]["mean"], outcome["step_mean"]
        else:
            p = float(outcome["agreed"])
            low, high = (float(x) for x in wilson_interval(int(outcome["agreed"]), 1))
            value, step = outcome["value"], outcome["step"]
        row[f"{issue}.agreement_probability"] = p
        row[f"{issue}.interval_low"], row[f"{issue}.interval_high"] = low, high
        row[f"{issue}.value_mean"] = np.nan if value is None else value
        row[f"{issue}.step_mean"] = np.nan if step is None else step
    for actor, utility in summary["utilities"].items():
        low, high = summary["utility_intervals"][actor] if batch else (utility, utility)
        row[f"{actor}.utility"], row[f"{actor}.utility_low"], row[f"{actor}.utility_high"] = (
            utility,
            low,
            high,
        )
    walk_outs = summary.get("walk_out_probability") or {
        actor: float(actor in summary["walked_out"])
        for actor, info in summary.get("actors", {}).items()
        if info["role"] == "party"
    }
    for actor, p in walk_outs.items():
        row[f"{actor}.walk_out_probability"] = p
    for key in ("distance_to_nash", "pareto_gap"):
        value = summary.get(f"{key}_mean") if batch else summary.get(key)
        row[key] = np.nan if value is None else value
    if "record_match_probability" in summary:
        row["record_match_probability"] = summary["record_match_probability"]
    elif "record" in summary:
        row["record_match_probability"] = float(summary["record"]["matches"])
    return row


def planned_jobs(sweep_dir: Path) -> list[list[str]]:
    """The override list of every job the sweep was started with, in Hydra's job order."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    plan = sweep_dir / "multirun.yaml"
    if not plan.is_file():
        raise UserError(
            f"{sweep_dir} has no multirun.yaml: give the folder of a sweep (results/sweeps/<date_time>)"
        )
    hydra_cfg = OmegaConf.load(plan).hydra
    params = hydra_cfg.sweeper.get("params") or {}
    lines = [f"{key}={value}" for key, value in params.items()] + list(hydra_cfg.overrides.task)
    parsed = OverridesParser.create().parse_overrides(lines)
    return BasicSweeper.split_arguments(parsed, None)[0]


def swept_keys(jobs: list[list[str]]) -> list[str]:
    keys = [line.split("=", 1)[0].lstrip("+~") for line in jobs[0]] if jobs else []
    return [key for position, key in enumerate(keys) if len({job[position] for job in jobs}) > 1]


def aggregate(sweep_dir: Path, plots: bool = True) -> tuple[pd.DataFrame, list[str]]:
    """Write `sweep.csv` and the sweep plots from the finished jobs; return the table and the missing jobs."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise UserError(f"no such folder: {sweep_dir}")
    jobs = planned_jobs(sweep_dir)
    swept = swept_keys(jobs)
    rows, missing = [], []
    for number, overrides in enumerate(jobs):
        summary_path = sweep_dir / str(number) / "summary.json"
        values = dict(line.split("=", 1) for line in overrides)
        if not summary_path.is_file():
            chosen = [line for line in overrides if line.split("=", 1)[0].lstrip("+~") in swept]
            missing.append(f"job {number} ({' '.join(chosen)})")
            continue
        summary = json.loads(summary_path.read_text())
        rows.append(
            {
                "job": number,
                **{key: values[key] for key in values if key.lstrip("+~") in swept},
                **job_metrics(summary),
            }
        )
    table = pd.DataFrame(rows)
    if rows:
        table.columns = [c.lstrip("+~") for c in table.columns]
        for key in swept:
            converted = pd.to_numeric(table[key], errors="coerce")
            if converted.notna().all():
                table[key] = converted
        write_csv(sweep_dir / "sweep.csv", table)
        if plots and swept:
            write_sweep_plots(sweep_dir, table, swept)
    return table, missing


class AggregateSweep(Callback):
    """Hydra callback: aggregate the sweep when the multirun ends."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        table, missing = aggregate(sweep_dir, plots=bool(config.get("plots", True)))
        print(f"Sweep: {len(table)} jobs aggregated into {sweep_dir / 'sweep.csv'}")
        for job in missing:
            print(f"missing: {job}")


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
    if missing:
        print(f"{len(missing)} jobs missing:")
        for job in missing:
            print(f"  {job}")
        print("Run the sweep again for those values, or aggregate what is there.")


if __name__ == "__main__":
    main()
