"""The actors as they come to one round: the base scenario, changed by the events before the round
and by the between-round mechanisms, and the round's negotiation built from it.

A round's negotiation is a `Scenario` of the round's agenda among the actors at the table. The
mechanisms change two things the base scenario keeps per actor alone, per actor and issue: the
`stake` (how much a text's distance from the ideal costs on that issue) and the `cost` of no
agreement on it. Both fold exactly into the model's utility (`sim.core.preferences`): an actor
accepts a text on issue k when s_k g_k |x - x*_k| <= phi (1 - r) m_k / K, which is the model's own
test with weights w_k = s_k g_k / m_k normalised to sum to one and a reservation
r' = 1 - (1 - r) / sum(w) (clipped to [0, 0.99] where the sum is too small).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.core.scenario import Role, Scenario
from sim.errors import UserError
from sim.series.record import Round
from sim.series.spec import SeriesSpec

MAX_RESERVATION = 0.99


@dataclass(frozen=True)
class Past:
    """A round the record holds: its number, outcomes per issue of the series (NaN off the agenda)
    and who was at the table."""

    number: int
    outcome: np.ndarray
    present: np.ndarray

    @property
    def on_agenda(self) -> np.ndarray:
        return ~np.isnan(self.outcome)


@dataclass
class RoundState:
    """Per actor and issue of the series, what a round's negotiation is built from."""

    ideal: np.ndarray
    salience: np.ndarray
    """Stated saliences (not normalised)."""
    reservation: np.ndarray
    stake: np.ndarray
    """How much distance from the ideal costs, relative to the base scenario (1: unchanged)."""
    cost: np.ndarray
    """How much no agreement costs, relative to the base scenario (1: unchanged)."""

    @classmethod
    def of(cls, base: Scenario) -> RoundState:
        shape = base.ideal.shape
        stated = base.stated_salience if base.stated_salience is not None else base.salience
        return cls(
            base.ideal.copy(),
            np.array(stated, dtype=float, copy=True),
            base.reservation.copy(),
            np.ones(shape),
            np.ones(shape),
        )


def present_mask(spec: SeriesSpec, round_: Round | None, earlier: Sequence[Round]) -> np.ndarray:
    """Who sits at the table: the actors whose codes the round's attendance row lists and does not
    list as away; without such a row, those of the last round that has one; else everyone."""
    source = round_ if round_ is not None and round_.has_attendance else None
    if source is None:
        source = next((r for r in reversed(earlier) if r.has_attendance), None)
    actors = spec.base.actors
    if source is None:
        return np.ones(len(actors), dtype=bool)
    here = {spec.codes[code] for code in source.present() if code in spec.codes}
    return np.array([actor in here for actor in actors])


def history(spec: SeriesSpec, rounds: Sequence[Round]) -> list[Past]:
    """The rounds of a record as the mechanisms read them; issues the series does not model are left out."""
    issues = spec.base.issue_names
    out = []
    for position, round_ in enumerate(rounds):
        outcome = np.full(len(issues), np.nan)
        for issue, value in round_.outcomes.items():
            if issue in issues:
                outcome[issues.index(issue)] = value
        out.append(Past(round_.number, outcome, present_mask(spec, round_, rounds[:position])))
    return out


def apply_events(spec: SeriesSpec, state: RoundState, number: int) -> None:
    """The changes the scenario records before round `number` and every earlier round, in order."""
    base = spec.base
    for event in spec.events_until(number):
        row = base.index(event.actor)
        for issue, value in event.ideal.items():
            state.ideal[row, base.issue_names.index(issue)] = value
        for issue, value in event.salience.items():
            state.salience[row, base.issue_names.index(issue)] = value
        if event.reservation is not None:
            state.reservation[row] = event.reservation


def round_scenario(
    spec: SeriesSpec, state: RoundState, agenda: Sequence[str], present: np.ndarray, number: int
) -> Scenario:
    """The negotiation of round `number`: its agenda among the actors present (raises UserError when
    no signatory is at the table)."""
    base = spec.base
    if base.n_columns != base.n_issues:
        raise UserError(f"scenario '{base.name}': a series negotiates position issues only, not divisions")
    columns = [base.issue_names.index(issue) for issue in agenda]
    if not any(role == Role.signatory and here for role, here in zip(base.roles, present, strict=True)):
        raise UserError(
            f"round {number}: no signatory of scenario '{base.name}' attends: check the attendance row"
        )
    stated = state.salience[:, columns]
    totals = stated.sum(axis=1, keepdims=True)
    shares = np.divide(stated, totals, out=np.zeros_like(stated), where=totals > 0)
    weights = shares * state.stake[:, columns] / state.cost[:, columns]
    total = weights.sum(axis=1)
    salience = np.divide(weights, total[:, None], out=np.zeros_like(weights), where=total[:, None] > 0)
    reservation = np.where(
        total > 0,
        np.clip(1.0 - (1.0 - state.reservation) / np.where(total > 0, total, 1.0), 0.0, MAX_RESERVATION),
        state.reservation,
    )
    return dataclasses.replace(
        base,
        name=f"{base.name}_round_{number}",
        title=f"{base.title}: round {number}",
        columns=tuple(base.columns[k] for k in columns),
        ideal=np.clip(state.ideal[:, columns], 0.0, 1.0),
        salience=salience,
        stated_salience=weights,
        reservation=reservation,
        present=present.copy(),
        record={},
    )
