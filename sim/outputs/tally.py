"""What a batch's summary and figures are made from, gathered chunk by chunk so that memory stays flat.

A `Tally` takes the outcome of each chunk of replications in turn (`add`) and keeps counts (of
agreements, proposers, walk-outs, blockers, matches with the record), the first
`MEASURED_SAMPLE` replications (for the distances to the solution concepts, and a single run's
trace), and each per-replication quantity the summary describes by its mean, spread and quantiles
in a `Store` (`sim.outputs.store`): in memory, or on disk beside the run's files.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from sim.analysis.explain import Ending, Shares, blocked_counts, explain, walked_out_counts
from sim.core.scenario import Role, Scenario
from sim.model.model import NOT_YET
from sim.outputs.outcome import PER_REPLICATION, Outcome
from sim.outputs.store import MemoryStore, Store

MEASURED_SAMPLE = 200
"""Replications (the first ones) over which distance_to_nash and pareto_gap are averaged."""


def value_of(column: int) -> str:
    """The store's name for the agreed values of a positional issue column."""
    return f"value {column}"


def forecast_of(column: int) -> str:
    return f"forecast {column}"


def step_of(column: int) -> str:
    """The steps at which a column was agreed."""
    return f"step {column}"


def utility_of(actor: int) -> str:
    return f"utility {actor}"


def walk_out_of(actor: int) -> str:
    """The steps at which a party walked out."""
    return f"walk-out {actor}"


def share_of(division: str, recipient: str) -> str:
    """A recipient's shares of a division's agreed splits."""
    return f"share {division} to {recipient}"


def split_of(division: str, kind: str) -> str:
    """The proposer's, its coalition partners' or the excluded shares of a division's agreed splits."""
    return f"split {division} {kind}"


END_STEP = "end step"


@dataclass
class Tally:
    """Counts, the first replications, and a store of per-replication quantities of a batch."""

    scenario: Scenario
    protocol: str
    store: Store = field(default_factory=MemoryStore)
    replications: int = 0
    seeds: list[int] = field(default_factory=list)
    """The first and the last seed."""
    agreed: np.ndarray = field(init=False)
    """Per column, the replications that agreed there."""
    proposers: np.ndarray = field(init=False)
    """Per column and proposer (the last is the table), the agreed replications whose text it wrote."""
    walked: np.ndarray = field(init=False)
    """Per actor, the replications it walked out of."""
    walked_open: np.ndarray = field(init=False)
    """Per party and column, the replications it walked out of with the column open."""
    blocked: np.ndarray = field(init=False)
    """Per veto player and column, the failed replications whose last text it rejected."""
    matched: dict[str, int] = field(default_factory=dict)
    """Per issue of the record, the replications matching it; under "", those matching all of it."""
    head: Outcome | None = None
    """The first `MEASURED_SAMPLE` replications (with a single run's trace)."""

    def __post_init__(self) -> None:
        talks = self.scenario
        vetoes = int((talks.signatories & talks.present).sum())
        parties = sum(role == Role.party for role in talks.roles)
        self.agreed = np.zeros(talks.n_columns, dtype=np.int64)
        self.proposers = np.zeros((talks.n_columns, talks.n_actors + 1), dtype=np.int64)
        self.walked = np.zeros(talks.n_actors, dtype=np.int64)
        self.walked_open = np.zeros((parties, talks.n_columns), dtype=np.int64)
        self.blocked = np.zeros((vetoes, talks.n_columns), dtype=np.int64)

    @classmethod
    def of(cls, outcome: Outcome, store: Store | None = None) -> Tally:
        """The tally of an outcome held whole."""
        tally = cls(outcome.scenario, outcome.protocol, MemoryStore() if store is None else store)
        tally.add(outcome)
        return tally

    def add(self, chunk: Outcome) -> None:
        """Count in the replications of one more chunk, in order."""
        if not len(chunk):
            return
        self.replications += len(chunk)
        self.seeds = [int(self.seeds[0] if self.seeds else chunk.seeds[0]), int(chunk.seeds[-1])]
        self._keep_head(chunk)
        self._count(chunk)
        self._store(chunk)

    def _keep_head(self, chunk: Outcome) -> None:
        kept = 0 if self.head is None else len(self.head)
        if kept >= MEASURED_SAMPLE:
            return
        taken = replace(chunk, trace=None).select(np.arange(min(len(chunk), MEASURED_SAMPLE - kept)))
        if self.head is None:
            self.head = replace(taken, trace=chunk.trace) if len(chunk) == 1 else taken
        else:
            self.head = _joined(self.head, taken)

    def _count(self, chunk: Outcome) -> None:
        ending = _ending(chunk)
        self.agreed += chunk.agreed.sum(axis=0)
        table = self.scenario.n_actors
        for k in range(self.scenario.n_columns):
            proposers = chunk.agreed_proposer[chunk.agreed[:, k], k]
            self.proposers[k] += np.bincount(np.where(proposers < 0, table, proposers), minlength=table + 1)
        self.walked += (chunk.walked_out_step != NOT_YET).sum(axis=0)
        self.walked_open += walked_out_counts(self.scenario, ending)
        self.blocked += blocked_counts(ending)
        matches = record_matches(chunk)
        for name, match in matches.items():
            self.matched[name] = self.matched.get(name, 0) + int(match.sum())
        if matches:
            every = np.logical_and.reduce(list(matches.values()))
            self.matched[""] = self.matched.get("", 0) + int(every.sum())

    def _store(self, chunk: Outcome) -> None:
        talks, store = self.scenario, self.store
        for k, column in enumerate(talks.columns):
            agreed = chunk.agreed[:, k]
            store.add(step_of(k), chunk.agreed_step[agreed, k])
            if not column.division:
                store.add(value_of(k), chunk.value[agreed, k])
                forecasts = chunk.forecast[:, k]
                store.add(forecast_of(k), forecasts[~np.isnan(forecasts)])
        for division, columns in talks.divisions().items():
            self._store_division(chunk, division, columns)
        for i in range(talks.n_actors):
            utilities = chunk.utilities[:, i]
            store.add(utility_of(i), utilities[~np.isnan(utilities)])
            if talks.roles[i] == Role.party:
                steps = chunk.walked_out_step[:, i]
                store.add(walk_out_of(i), steps[steps != NOT_YET])
        store.add(END_STEP, chunk.end_step)

    def _store_division(self, chunk: Outcome, division: str, columns: list[int]) -> None:
        """The agreed splits of a division: each recipient's share, and the proposer's, its
        coalition partners' and the excluded shares."""
        agreed = chunk.agreed[:, columns[0]]
        shares = chunk.value[agreed][:, columns]
        names = recipients(self.scenario, columns)
        for j, who in enumerate(names):
            self.store.add(share_of(division, who), shares[:, j])
        # Each actor's column among the recipients, and -1 for the table (proposer -1) and for
        # an actor that receives nothing.
        column_of = np.array([names.index(a) if a in names else -1 for a in self.scenario.actors] + [-1])
        own = column_of[chunk.agreed_proposer[agreed, columns[0]]]
        is_proposer = np.zeros_like(shares, dtype=bool)
        rows = np.arange(len(shares))
        is_proposer[rows[own >= 0], own[own >= 0]] = True
        self.store.add(split_of(division, "proposer"), shares[is_proposer])
        self.store.add(split_of(division, "partner"), shares[~is_proposer & (shares > 0)])
        self.store.add(split_of(division, "excluded"), shares[~is_proposer & (shares <= 0)])

    def shares(self) -> Shares:
        """The walk-out and blocking shares the explanation reports."""
        n = max(self.replications, 1)
        return Shares(self.walked_open / n, self.blocked / n)

    def explained(self) -> dict[str, dict[str, Any]]:
        """Per issue, why it closed or failed (`sim.analysis.explain`)."""
        single = self.single()
        trace = None if self.head is None else self.head.trace
        return explain(self.scenario, self.protocol, self.shares(), single, trace)

    def single(self) -> Ending | None:
        """The ending of a run of one replication, else None."""
        return _ending(self.head) if self.head is not None and self.replications == 1 else None


def recipients(scenario: Scenario, columns: list[int]) -> list[str]:
    """The recipients of a division, from its columns' names (`division.recipient`)."""
    return [scenario.columns[k].name.split(".", 1)[1] for k in columns]


def record_matches(outcome: Outcome) -> dict[str, np.ndarray]:
    """Per issue the record speaks of, whether each replication matches it."""
    talks = outcome.scenario
    matches = {}
    for name, record in talks.record.items():
        k = next(k for k, column in enumerate(talks.columns) if column.issue == name)
        values = None if talks.columns[k].division else outcome.value[:, k]
        matches[name] = record.matches(outcome.agreed[:, k], values)
    return matches


def _ending(outcome: Outcome) -> Ending:
    return Ending(
        outcome.seeds,
        outcome.agreed,
        outcome.value,
        outcome.agreed_step,
        outcome.walked_out_step,
        outcome.last_answer,
    )


def _joined(first: Outcome, second: Outcome) -> Outcome:
    """Two outcomes' replications, one after the other (without a trace)."""
    rows = {name: np.concatenate([getattr(first, name), getattr(second, name)]) for name in PER_REPLICATION}
    return Outcome(first.scenario, first.protocol, trace=None, **rows)
