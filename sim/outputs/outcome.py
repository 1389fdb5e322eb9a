"""How each replication of a batch ended, as arrays: what summaries and tables are made from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.core.scenario import Scenario
from sim.model.model import NOT_YET, Talks

PER_REPLICATION = (
    "seeds",
    "agreed",
    "value",
    "agreed_step",
    "utilities",
    "walked_out_step",
    "end_step",
    "forecast",
    "agreed_proposer",
    "last_answer",
)
"""The fields of an `Outcome` with one row per replication."""


@dataclass
class Outcome:
    """How each replication ended, one row each: what summaries and tables are made from."""

    scenario: Scenario
    protocol: str
    seeds: np.ndarray
    agreed: np.ndarray
    value: np.ndarray
    agreed_step: np.ndarray
    utilities: np.ndarray
    walked_out_step: np.ndarray
    end_step: np.ndarray
    forecast: np.ndarray
    agreed_proposer: np.ndarray
    last_answer: np.ndarray
    """(replications, veto players, columns): each veto player's answer to the last text there."""
    trace: pd.DataFrame | None = None
    """The tidy trace (`sim.outputs.trace`), when it was kept."""

    @classmethod
    def of(cls, model: Talks, trace: pd.DataFrame | None = None) -> Outcome:
        """How the replications of a model that has run ended (with their trace, when given)."""
        return cls(
            model.negotiation,
            model.protocol.name,
            model.seeds,
            model.agreed,
            model.agreed_value,
            model.agreed_step,
            model.final_utilities(),
            model.walked_out_step,
            model.end_step,
            model.forecasts(),
            model.agreed_proposer,
            model.last_answer,
            trace,
        )

    def __len__(self) -> int:
        return len(self.seeds)

    def select(self, indices: int | Sequence[int] | np.ndarray) -> Outcome:
        """The outcome of the replications `indices` (an index or several), in that order.

        A batch's trace (with its `seed` column) keeps the rows of the selected seeds, without
        that column when one replication is selected, as a single run's trace; a trace without
        seeds is kept only when every replication is selected.
        """
        rows = np.atleast_1d(np.asarray(indices, dtype=np.int64))
        seeds = self.seeds[rows]
        trace = self.trace
        if trace is not None and "seed" in trace:
            trace = trace[trace["seed"].isin(seeds)].reset_index(drop=True)
            if len(rows) == 1:
                trace = trace.drop(columns="seed")
        elif trace is not None and sorted(rows.tolist()) != list(range(len(self))):
            trace = None
        kept = {name: getattr(self, name)[rows] for name in PER_REPLICATION}
        return Outcome(self.scenario, self.protocol, trace=trace, **kept)

    def table(self) -> pd.DataFrame:
        """One row per replication: seed, steps, per issue agreed/value/step, per actor utility."""
        talks = self.scenario
        columns: dict[str, Any] = {"seed": self.seeds, "steps": self.end_step}
        for k, issue in enumerate(talks.column_names):
            columns[f"{issue}.agreed"] = self.agreed[:, k]
            columns[f"{issue}.value"] = self.value[:, k]
            columns[f"{issue}.step"] = np.where(self.agreed[:, k], self.agreed_step[:, k], np.nan)
            columns[f"{issue}.forecast"] = self.forecast[:, k]
        for i, actor in enumerate(talks.actors):
            columns[f"{actor}.utility"] = self.utilities[:, i]
        for i, actor in enumerate(talks.actors):
            if talks.roles[i] == "party":
                columns[f"{actor}.walked_out"] = self.walked_out_step[:, i] != NOT_YET
        return pd.DataFrame(columns)
