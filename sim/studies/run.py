"""Run a job — any number of replications of one negotiation — and write its run folder.

`simulate` keeps every replication's outcome in memory (`sim.run`); `run_into` writes a run folder
chunk by chunk as the replications are done (the command line), so that its memory stays flat
however many replications it runs: `replications.csv` grows on disk, and the summary and plots
come from a `Tally` whose per-replication values wait on disk beside it.
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from sim.core.limits import check_limits
from sim.figures.run import write_run_plots
from sim.figures.study import write_batch_plots
from sim.outputs.files import CSV_FLOATS, remove_stale_temporaries, write_atomically, write_csv, write_json
from sim.outputs.outcome import Outcome
from sim.outputs.result import Result
from sim.outputs.store import FileStore, MemoryStore
from sim.outputs.summary import expand_divisions, summarize
from sim.outputs.tally import Tally
from sim.outputs.text import format_table
from sim.setup.job import Job
from sim.studies.batch import chunk_size, outcome_chunks, run_batch


def simulate(job: Job, progress: bool | None = None) -> Result:
    """Run replications with seeds `seed`, `seed + 1`, ... and keep them all in memory; keep the
    trace of a single run, and of a batch when the job asks for it."""
    check_limits(job.size.held())
    seeds = job.seed + np.arange(job.replications, dtype=np.int64)
    outcome = run_batch(
        job.scenario, job.protocol, seeds, trace=job.keeps_trace, progress=progress, workers=job.workers
    )
    return result_of(job, outcome)


def result_of(job: Job, outcome: Outcome) -> Result:
    """The job's `Result` from the outcome of its replications."""
    return Result(job, outcome, extra(job))


def extra(job: Job) -> dict[str, Any]:
    """What a job's summary adds to its replications': the path of an imported table."""
    return {"path": job.scenario.source} if job.source is not None else {}


def write_run(result: Result, folder: Path) -> Path:
    """Write the run folder of a result held in memory: replications, trace, plots, and
    `summary.json` last, so that a folder holding it holds a complete run."""
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / "replications.csv", result.replications)
    write_rest(folder, result.job, result.summary, result.tally, result.trace)
    seal(folder, result.summary)
    return folder


def run_into(job: Job, folder: Path, progress: bool | None = None) -> dict[str, Any]:
    """Run a job into its run folder chunk by chunk, holding one chunk at a time (and a batch's
    trace, when it keeps one); the same files and numbers as `write_run(simulate(job))`. Return
    the summary. A batch of more than one chunk keeps its summary's values on disk until the
    summary is written."""
    folder.mkdir(parents=True, exist_ok=True)
    traces: list[pd.DataFrame] = []
    one_chunk = job.replications <= chunk_size(job.scenario)
    with closing(MemoryStore() if one_chunk else FileStore(folder)) as store:
        tally = Tally(job.scenario, job.protocol.name, store)

        def write_rows(stream: IO[str]) -> None:
            seeds = range(job.seed, job.seed + job.replications)
            chunks = outcome_chunks(
                job.scenario,
                job.protocol,
                seeds,
                trace=job.keeps_trace,
                progress=progress,
                workers=job.workers,
            )
            for number, outcome in enumerate(chunks):
                tally.add(outcome)
                outcome.table().to_csv(stream, index=False, header=number == 0, float_format=CSV_FLOATS)
                if outcome.trace is not None:
                    traces.append(outcome.trace)

        write_atomically(folder / "replications.csv", write_rows)
        summary = {**summarize(tally), **extra(job)}
        trace = pd.concat(traces, ignore_index=True) if traces else None
        write_rest(folder, job, summary, tally, trace)
    seal(folder, summary)
    return summary


def write_rest(
    folder: Path, job: Job, summary: dict[str, Any], tally: Tally, trace: pd.DataFrame | None
) -> None:
    """After `replications.csv`: the trace and the plots."""
    if trace is not None:
        write_csv(folder / "trace.csv", trace)
    if job.plots:
        if tally.replications == 1 and trace is not None:
            write_run_plots(folder, expand_divisions(summary), trace, job.scenario)
        else:
            write_batch_plots(folder, summary, tally, trace)


def seal(folder: Path, summary: dict[str, Any]) -> None:
    """Write `summary.json`, last and with no temporary file left by an earlier, killed write: a
    folder holding it holds a complete run."""
    remove_stale_temporaries(folder)
    write_json(folder / "summary.json", summary)


def report(summary: dict[str, Any]) -> str:
    """The table printed after a run."""
    return format_table(summary)
