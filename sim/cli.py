"""The command line: `python -m sim scenario=NAME [overrides]`, single runs and Hydra sweeps.

A single run goes straight to Hydra, which composes the configuration once, before it creates any
folder; `sim.setup.job_from_config` then checks it, and a mistake removes the run folder again.
A sweep, or a command line that names no scenario, is checked whole first (`preflight`). Every
mistake a user can make ends with one line naming the problem and its fix, exit status 2, and
nothing written.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from sim.errors import UserError
from sim.outputs.text import one_line
from sim.setup.catalog import config_dir
from sim.setup.compose import compose_config, explain, normalise, sweep_jobs
from sim.setup.job import Job, job_from_config
from sim.setup.schema import Task, register_configs
from sim.studies.objective import check_objective, objective_line, objective_value
from sim.studies.run import report, simulate, write_run
from sim.studies.series import execute_series
from sim.studies.validate import format_scores, validate, validation_line, write_validation

EXIT_USER_ERROR = 2
HYDRA_FLAGS_WITHOUT_RUN = {
    "--help",
    "-h",
    "--hydra-help",
    "--info",
    "-i",
    "--cfg",
    "-c",
    "--shell-completion",
    "-sc",
}


def preflight(argv: Sequence[str]) -> None:
    """Compose and check what the command line asks for; raise UserError on a mistake."""
    multirun = any(arg in ("-m", "--multirun") for arg in argv)
    overrides = [arg for arg in argv if not arg.startswith("-")]
    for overrides_of_job in sweep_jobs(overrides) if multirun else [overrides]:
        check_objective(job_from_config(compose_config(overrides_of_job)))


def run_task(cfg: DictConfig) -> float | None:
    """Hydra's task: run the configured job and write its folder; return its objective (None
    without one), the number a sweeper such as Optuna's optimises."""
    hydra_cfg = HydraConfig.get()
    output_dir = Path(hydra_cfg.runtime.output_dir)
    job_line = None
    if hydra_cfg.mode == RunMode.MULTIRUN:
        job_line = f"[job {hydra_cfg.job.num}] {' '.join(hydra_cfg.overrides.task)}"
    try:
        job = job_from_config(cfg, overrides=tuple(hydra_cfg.overrides.task))
        check_objective(job)
        return objective_value(job, execute(job, output_dir, job_line))
    except UserError as error:
        remove_unfinished(output_dir)
        print(f"error: {error}", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)


def execute(job: Job, output_dir: Path, job_line: str | None = None) -> dict[str, Any]:
    """Run a job, write its folder and print its table (or, in a sweep, one line); return what
    it wrote as `summary.json` (or `validation.json`)."""
    if job.task == Task.validate:
        summary, predictions = validate(job)
        write_validation(summary, predictions, output_dir, job.plots)
        line, table = validation_line(summary), format_scores(summary)
    elif job.series is not None:
        summary, line, table = execute_series(job, output_dir)
    else:
        result = simulate(job)
        write_run(result, output_dir)
        summary, line, table = result.summary, one_line(result.summary), report(result)
    value = objective_value(job, summary)
    if value is not None:
        shown = objective_line(job, value)
        line, table = f"{line}; {shown}", f"{table}\n\n{shown[0].upper()}{shown[1:]}"
    if job_line is not None:
        print(f"{job_line}: {line}")
    else:
        print(output_dir if job.quiet else f"{table}\n\nRun folder: {output_dir}")
    return summary


def remove_unfinished(output_dir: Path) -> None:
    """Remove a run folder without a summary, and the folders above it that it leaves empty."""
    finished = any((output_dir / name).exists() for name in ("summary.json", "validation.json"))
    if not output_dir.is_dir() or finished:
        return
    shutil.rmtree(output_dir, ignore_errors=True)
    for parent in list(output_dir.parents)[:2]:
        try:
            parent.rmdir()
        except OSError:
            break


def names_a_scenario(argv: Sequence[str]) -> bool:
    return any(arg.lstrip("+~").split("=", 1)[0] in ("scenario", "experiment") for arg in argv)


def main() -> None:
    """Run Hydra on the command line, with every user mistake reported in one line."""
    register_configs()
    argv = normalise(sys.argv[1:])
    sys.argv[1:] = argv
    overrides = [arg for arg in argv if not arg.startswith("-")]
    if not any(arg.split("=")[0] in HYDRA_FLAGS_WITHOUT_RUN for arg in argv):
        multirun = any(arg in ("-m", "--multirun") for arg in argv)
        try:
            if multirun or not names_a_scenario(argv):
                preflight(argv)
        except UserError as error:
            print(f"error: {error}", file=sys.stderr)
            sys.exit(EXIT_USER_ERROR)
    os.environ.setdefault("HYDRA_FULL_ERROR", "1")
    try:
        hydra.main(config_path=str(config_dir()), config_name="config", version_base="1.3")(run_task)()
    except (HydraException, OmegaConfBaseException) as error:
        print(f"error: {explain(error, overrides)}", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)
