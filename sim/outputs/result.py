"""The one result type: what a run of any number of replications gives back (a single run is a
batch of one), from Python and from the command line alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd

from sim.outputs.outcome import Outcome
from sim.outputs.summary import summarize
from sim.outputs.tally import Tally
from sim.setup.job import Job


@dataclass
class Result:
    """The outcome of every replication of a job, its summary, and the trace when one was kept.

    `summary` is the dict written as `summary.json`; `replications` has one row per replication
    (`replications.csv`); `trace` is the tidy trace (`trace.csv`): kept for a single run, and for
    a batch when the job asks for it (`trace=true`), else None.
    """

    job: Job
    outcome: Outcome
    extra: dict[str, Any] = field(default_factory=dict)
    """Keys added to the summary by the caller (the path of an imported table)."""

    @cached_property
    def tally(self) -> Tally:
        """What the summary and the batch plots are made from (`sim.outputs.tally`)."""
        return Tally.of(self.outcome)

    @cached_property
    def summary(self) -> dict[str, Any]:
        return {**summarize(self.tally), **self.extra}

    @cached_property
    def replications(self) -> pd.DataFrame:
        return self.outcome.table()

    @property
    def trace(self) -> pd.DataFrame | None:
        return self.outcome.trace

    def __len__(self) -> int:
        return len(self.outcome)
