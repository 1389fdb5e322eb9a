"""Run a job — any number of replications of one negotiation — and write its run folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.figures.run import write_run_plots
from sim.figures.study import write_batch_plots
from sim.outputs.files import remove_stale_temporaries, write_csv, write_json
from sim.outputs.outcome import Outcome
from sim.outputs.result import Result
from sim.outputs.summary import expand_divisions
from sim.outputs.text import format_table
from sim.setup.job import Job
from sim.studies.batch import run_batch


def simulate(job: Job, progress: bool | None = None) -> Result:
    """Run replications with seeds `seed`, `seed + 1`, ...; keep the trace of a single run, and
    of a batch when the job asks for it."""
    seeds = job.seed + np.arange(job.replications, dtype=np.int64)
    outcome = run_batch(
        job.scenario, job.protocol, seeds, trace=job.keeps_trace, progress=progress, workers=job.workers
    )
    return result_of(job, outcome)


def result_of(job: Job, outcome: Outcome) -> Result:
    """The job's `Result` from the outcome of its replications."""
    extra = {"path": job.scenario.source} if job.source is not None else {}
    return Result(job, outcome, extra)


def write_run(result: Result, folder: Path) -> Path:
    """Write the run folder: replications, trace, plots, and `summary.json` last, so that a folder
    holding it holds a complete run (and no temporary file left by an earlier, killed write)."""
    folder.mkdir(parents=True, exist_ok=True)
    summary = result.summary
    write_csv(folder / "replications.csv", result.replications)
    if result.trace is not None:
        write_csv(folder / "trace.csv", result.trace)
    if result.job.plots:
        if len(result) == 1 and result.trace is not None:
            write_run_plots(folder, expand_divisions(summary), result.trace, result.job.scenario)
        else:
            write_batch_plots(folder, summary, result.outcome)
    remove_stale_temporaries(folder)
    write_json(folder / "summary.json", summary)
    return folder


def report(result: Result) -> str:
    """The table printed after a run."""
    return format_table(result.summary)
