"""The command line: `python -m sim scenario=NAME [overrides]`, single runs and Hydra sweeps.

A single run goes straight to Hydra, which composes the configuration once, before it creates any
folder; `sim.setup.job_from_config` then checks it, and a mistake removes the run folder again.
A sweep, or a command line that names no scenario, is checked whole first (`preflight`). Every
mistake a user can make ends with one line naming the problem and its fix, exit status 2, and
nothing written.

Run and sweep folders are taken by creating them (`${new_folder:...}` in `conf/config.yaml`), so
no two runs share one; an empty path, or a results location that cannot hold them, is refused
before anything runs. A write that fails (a full disk) ends in one line too, a stopped run
(Ctrl-C, SIGTERM) removes what it wrote, and a sweep keeps its finished jobs and aggregates them.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn, cast

import hydra
import yaml
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.errors import UserError
from sim.outputs.files import (
    NewFolders,
    interrupted_status,
    no_room_or_no_access,
    remove_written_since,
    stop_cleanly_on_termination,
    unwritable,
)
from sim.outputs.report import run_info, write_index, write_report
from sim.outputs.text import one_line
from sim.setup.catalog import config_dir
from sim.setup.compose import explain, normalise, uncomposable, unreadable_file
from sim.setup.job import Job, job_from_config, jobs_of
from sim.setup.schema import Task, register_configs
from sim.studies.objective import check_objective, objective_line, objective_value
from sim.studies.run import report, run_into
from sim.studies.sensitivity import execute_sensitivity
from sim.studies.series import execute_series
from sim.studies.sweep import RESULT_FILES, salvage
from sim.studies.validate import format_scores, validate, validation_line, write_validation
from sim.studies.what_if import execute_what_if

EXIT_USER_ERROR = 2
STARTED = time.time() - 1.0
"""When this program started (a second early, for coarse file times): files written since are its own."""
EMPTY_PATH_FIXES = {
    "results": "give the folder for run folders, such as results=results",
    "hydra.run.dir": "give a folder, or leave it out for results/<scenario>/<date_time>",
    "hydra.sweep.dir": "give a folder, or leave it out for results/sweeps/<date_time>",
    "hydra.sweep.subdir": "give a name per job, or leave it out for the job's number",
}
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
    for job in jobs_of(argv):
        check_objective(job)


def run_task(cfg: DictConfig) -> float | None:
    """Hydra's task: run the configured job and write its folder; return its objective (None
    without one), the number a sweeper such as Optuna's optimises."""
    hydra_cfg = HydraConfig.get()
    output_dir = Path(hydra_cfg.runtime.output_dir)
    multirun = hydra_cfg.mode == RunMode.MULTIRUN
    typed = tuple(map(str, cast(list, OmegaConf.to_container(hydra_cfg.overrides.task, resolve=False))))
    job_line = f"[job {hydra_cfg.job.num}] {' '.join(typed)}" if multirun else None
    try:
        job = job_from_config(cfg, overrides=typed)
        check_objective(job)
        return objective_value(job, execute(job, output_dir, job_line))
    except UserError as error:
        remove_unfinished(output_dir)
        fail(str(error))
    except OSError as error:
        remove_unfinished(output_dir)
        kept = f"; {salvage(Path(hydra_cfg.sweep.dir))}" if multirun else ""
        fail(f"{unwritable(error)}: {no_room_or_no_access(error)}{kept}")
    except KeyboardInterrupt as error:
        if not multirun:
            remove_unfinished(output_dir)
            fail(stopped(error), interrupted_status(error))
        aggregate = f"aggregate the finished jobs with python -m sim.studies.sweep {hydra_cfg.sweep.dir}"
        fail(f"{stopped(error)}; {aggregate}", interrupted_status(error))


def fail(message: str, status: int = EXIT_USER_ERROR) -> NoReturn:
    """End the program with one line on stderr."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(status)


def execute(job: Job, output_dir: Path, job_line: str | None = None) -> dict[str, Any]:
    """Run a job, write its folder and print its table (or, in a sweep, one line); return what
    it wrote as `summary.json` (or `validation.json`)."""
    if job.task == Task.validate:
        summary, predictions = validate(job)
        write_validation(summary, predictions, output_dir, job.plots)
        line, table = validation_line(summary), format_scores(summary)
    elif job.task == Task.what_if:
        summary, line, table = execute_what_if(job, output_dir)
    elif job.task == Task.sensitivity:
        summary, line, table = execute_sensitivity(job, output_dir)
    elif job.series is not None:
        summary, line, table = execute_series(job, output_dir)
    else:
        summary = run_into(job, output_dir)
        line, table = one_line(summary), report(summary)
    value = objective_value(job, summary)
    if value is not None:
        shown = objective_line(job, value)
        line, table = f"{line}; {shown}", f"{table}\n\n{shown[0].upper()}{shown[1:]}"
    write_report(output_dir, run_info(job, line), table)
    if job_line is None and Path(job.results).resolve() in Path(output_dir).resolve().parents:
        write_index(Path(job.results))
    if job_line is not None:
        print(f"{job_line}: {line}")
    else:
        print(output_dir if job.quiet else f"{table}\n\nRun folder: {output_dir}")
    return summary


def remove_unfinished(output_dir: Path) -> None:
    """Remove what this program wrote into a run folder without a summary, the folder if that
    leaves it empty, and the folders above it that it leaves empty; files that were there before
    the program started stay (a run folder given as `hydra.run.dir=.` is the user's folder)."""
    output_dir = Path(output_dir).absolute()
    finished = any(
        (output_dir / name).is_file() and (output_dir / name).stat().st_mtime >= STARTED
        for name in RESULT_FILES
    )
    if finished or not output_dir.is_dir():
        return
    working = Path.cwd()
    protected = {working, *working.parents}
    remove_written_since(output_dir, STARTED, keep=output_dir in protected)
    if output_dir.is_dir():
        return
    for parent in list(output_dir.parents)[:2]:
        if parent in protected:
            break
        try:
            parent.rmdir()
        except OSError:
            break


def check_paths(overrides: Sequence[str]) -> None:
    """Refuse an empty folder for results or Hydra's run and sweep folders, which would write at
    the root of the file system or into the working directory."""
    for override in overrides:
        key, _, value = override.partition("=")
        key = key.lstrip("+~")
        if key in EMPTY_PATH_FIXES and not value.strip().strip("'\"").strip():
            raise UserError(f"{key} is empty: {EMPTY_PATH_FIXES[key]}")


def names_a_scenario(argv: Sequence[str]) -> bool:
    return any(arg.lstrip("+~").split("=", 1)[0] in ("scenario", "experiment") for arg in argv)


def main() -> None:
    """Run Hydra on the command line, with every user mistake reported in one line."""
    register_configs()
    argv = normalise(sys.argv[1:])
    sys.argv[1:] = argv
    overrides = [arg for arg in argv if not arg.startswith("-")]
    runs = not any(arg.split("=")[0] in HYDRA_FLAGS_WITHOUT_RUN for arg in argv)
    try:
        if runs:
            check_paths(overrides)
            if is_multirun(argv) or not names_a_scenario(argv):
                preflight(argv)
    except UserError as error:
        fail(str(error))
    folders = NewFolders(create=runs)
    OmegaConf.register_new_resolver("new_folder", folders, use_cache=True, replace=True)
    stop_cleanly_on_termination()
    os.environ.setdefault("HYDRA_FULL_ERROR", "1")
    try:
        hydra.main(config_path=str(config_dir()), config_name="config", version_base="1.3")(run_task)()
    except (HydraException, OmegaConfBaseException) as error:
        fail(str(user_error_in(error) or explain(error, overrides)))
    except (yaml.YAMLError, ValueError, OverflowError) as error:
        if folders.created:
            raise
        clean_up(folders.created, multirun=is_multirun(argv), salvaging=False)
        fail(
            unreadable_file(error)
            if isinstance(error, yaml.YAMLError | UnicodeDecodeError)
            else uncomposable(error)
        )
    except OSError as error:
        if error.errno is None and not folders.created:
            fail(uncomposable(error))
        kept = clean_up(folders.created, multirun=is_multirun(argv), salvaging=True)
        fail(f"{unwritable(error)}: {no_room_or_no_access(error)}{kept}")
    except KeyboardInterrupt as error:
        kept = clean_up(folders.created, multirun=is_multirun(argv), salvaging=False)
        fail(f"{stopped(error)}{kept}", interrupted_status(error))


def user_error_in(error: BaseException) -> UserError | None:
    """The UserError behind an error Hydra or OmegaConf raised (from a resolver), if any."""
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, UserError):
        cause = cause.__cause__ or cause.__context__
    return cause


def stopped(error: KeyboardInterrupt) -> str:
    """What stopped the program: Ctrl-C or a signal."""
    return str(error) or "interrupted (Ctrl-C)"


def clean_up(created: list[Path], multirun: bool, salvaging: bool) -> str:
    """After a failure outside a job's task (while Hydra set up a folder): remove a single run's
    unfinished folder; for a sweep, aggregate what finished (`salvaging`) or say how to. Return
    the words to add to the error's line."""
    if not multirun:
        for folder in created:
            remove_unfinished(folder)
        return ""
    if not created:
        return ""
    if salvaging:
        return f"; {salvage(created[0])}"
    return f"; aggregate the finished jobs with python -m sim.studies.sweep {created[0]}"


def is_multirun(argv: Sequence[str]) -> bool:
    return any(arg in ("-m", "--multirun") for arg in argv)
