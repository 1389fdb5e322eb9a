"""Bueno de Mesquita's expected-utility challenges, issue by issue, as a protocol.

Sources: B. Bueno de Mesquita (1994), "Political forecasting: an expected utility method", in
Bueno de Mesquita & Stokman (eds.), European Community Decision Making, Yale UP; J. B. Scholz,
G. J. Calbert & G. A. Smith (2011), "Unravelling Bueno De Mesquita's group decision model",
J. Theoretical Politics 23(4):510-531. The model itself is `sim.analysis.eum`; this module runs it.

On each issue the players are the present actors with a stated salience above zero; they start
at their ideal points. Each step plays one round of `sim.analysis.eum.eum_round` on every issue not yet
settled (challenges, then each actor takes the credible offer nearest its position), with
distances divided by the range d of the players' ideal points, as `sim.analysis.eum.eum_forecast` does;
an issue settles when no position moves by more than `tolerance` * d, at once where every player
holds the same position (d = 0). The text on the table is the capability-and-salience-weighted
median (`statistic: mean`, the mean) of the players' current positions: the forecast if the
issue were decided now. When every issue has settled, or at `max_steps`, that text is the
forecast (`model.forecast`) and is put to the signatories, as at their deadline (tau = 1); it is
agreed on every issue where all of them accept it, and the talks end. Before that, each step
records (`model.accepting`) whether each signatory would accept the running text at tau = 1; those
answers bind nobody. Where no present actor
cares about an issue, its forecast is the plain median (or mean) of their ideal points.

Stated saliences are BDM's shares of attention and must lie in [0, 1]. Parties move their
positions in the challenges like everyone else but do not walk out: the running forecast is
not a proposal put to them. Nothing is drawn at random. In a batch of variants every replication
plays its own challenges, settles when its own positions do, and ends then; the problems of all
replications and issues with the same players are solved together (`sim.analysis.eum.eum_rounds`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import cast

import numpy as np

from sim.analysis.eum import Convention, eum_rounds, weighted_means, weighted_medians
from sim.core.build import choice
from sim.core.scenario import Scenario
from sim.errors import UserError
from sim.model.model import TABLE, Talks
from sim.protocols.base import Protocol, ProtocolConfig


class Statistic(StrEnum):
    """How the players' positions make one forecast: the weighted median or the weighted mean."""

    median = "median"
    mean = "mean"


class ConventionName(StrEnum):
    """Which reading of the model (`sim.analysis.eum`): the published formulas, or Scholz et al.'s code."""

    domain = "domain"
    scholz_code = "scholz_code"


STATISTICS = {Statistic.median: weighted_medians, Statistic.mean: weighted_means}
CELLS_PER_BLOCK = 1_000_000
"""Problems times players cubed: bounds the memory of one block of challenges (the votes of every
player on every pair)."""


@dataclass
class EumConfig(ProtocolConfig):
    name: str = "eum"
    max_steps: int = 200
    """Rounds of challenges at most; the vote comes when positions settle."""
    statistic: Statistic = Statistic.median
    """The capability-and-salience-weighted forecast."""
    tolerance: float = 1e-6
    """Positions have settled when none moves more than this share of their range."""
    convention: ConventionName = ConventionName.domain
    """`domain` follows the formulas as published; `scholz_code` Scholz et al.'s program."""

    def check(self) -> None:
        super().check()
        self.statistic = choice(Statistic, self.statistic, "protocol.statistic")
        self.convention = choice(ConventionName, self.convention, "protocol.convention")
        if not 0 <= self.tolerance < float("inf"):
            raise UserError(
                f"protocol.tolerance is {self.tolerance:g}: "
                "give 0 or more (a share of the range of positions)"
            )


def check_shares(scenario: Scenario, stated: np.ndarray, where: Callable[[int], str]) -> None:
    """The eum protocol reads a present actor's stated salience as a share of attention, in [0, 1];
    `stated` has one row per replication (raises UserError naming the first out of range, and
    `where` its row)."""
    too_high = np.argwhere(scenario.present[:, None] & (stated > 1.0))
    if too_high.size:
        row, actor, issue = too_high[0]
        raise UserError(
            f"scenario.actors.{scenario.actors[actor]}.salience.{scenario.column_names[issue]} is "
            f"{stated[row, actor, issue]:g}{where(row)}: the eum protocol reads salience as a "
            "share of attention; give a number in [0, 1]"
        )


class ExpectedUtilityChallenges(Protocol):
    """Rounds of challenges move the actors' positions; the settled weighted median is put to a vote."""

    name = "eum"
    deterministic = True
    Config = EumConfig
    config: EumConfig

    def check(self, scenario: Scenario) -> None:
        super().check(scenario)
        check_shares(scenario, scenario.stated_salience[None], lambda _: "")

    def setup(self, model: Talks) -> None:
        talks, numbers = model.negotiation, model.parameters
        stated = numbers.stated_salience
        rows = _rows(stated, numbers.ideal, numbers.capability)
        shape = (rows, talks.n_actors, talks.n_columns)
        stated = np.broadcast_to(stated, shape)
        present = talks.present[:, None]
        check_shares(talks, stated, numbers.where)
        ideal = np.broadcast_to(numbers.ideal, shape)
        self.capability = np.broadcast_to(numbers.capability, shape[:2])
        self.salience = stated
        self.weights = np.broadcast_to(numbers.weights(), shape)
        self.positions = np.where(present, ideal, np.nan)
        """Every actor's current position per row and issue: ideal points at the start, NaN for the absent."""
        players = present & (stated > 0)
        counted = players.any(axis=1)
        high = np.where(players, ideal, -np.inf).max(axis=1)
        low = np.where(players, ideal, np.inf).min(axis=1)
        self.spans = np.where(counted, high - low, 0.0)
        """The range d of the players' ideal points, per row and issue."""
        self.settled = self.spans == 0
        members = np.where(counted[:, None, :], players, present)
        self.players = _groups(np.moveaxis(players, 1, 2).reshape(-1, talks.n_actors))
        """The (row, issue) problems, flattened, grouped by their players."""
        self.members = _groups(np.moveaxis(members, 1, 2).reshape(-1, talks.n_actors))
        """The same, grouped by the actors each forecast counts: the players, or every present
        actor where nobody cares about the issue."""

    def play_round(self) -> None:
        """One round of challenges on every problem not yet settled."""
        columns = self.spans.shape[1]
        unsettled = ~self.settled.reshape(-1)
        for problems, actors in self.players:
            pending = problems[unsettled[problems]]
            if not pending.size:
                continue
            block = max(1, CELLS_PER_BLOCK // actors.size**3)
            for start in range(0, pending.size, block):
                row, issue = np.divmod(pending[start : start + block], columns)
                cells = (row[:, None], actors, issue[:, None])
                before = self.positions[cells]
                span = self.spans[row, issue]
                after = eum_rounds(
                    before,
                    self.capability[row[:, None], actors],
                    self.salience[cells],
                    span,
                    convention=cast(Convention, self.config.convention.value),
                )
                self.positions[cells] = after
                self.settled[row, issue] = np.abs(after - before).max(axis=1) <= self.config.tolerance * span

    def current_forecast(self) -> np.ndarray:
        """The weighted median (or mean) of the players' positions, per row and issue."""
        summarise = STATISTICS[self.config.statistic]
        positions = np.moveaxis(self.positions, 1, 2).reshape(-1, self.positions.shape[1])
        weights = np.moveaxis(self.weights, 1, 2).reshape(positions.shape)
        forecast = np.empty(positions.shape[0])
        for problems, actors in self.members:
            forecast[problems] = summarise(positions[problems][:, actors], weights[problems][:, actors])
        return forecast.reshape(self.spans.shape)

    def step(self, model: Talks) -> None:
        active = ~model.finished
        self.play_round()
        model.positions = self.positions.copy() if len(self.positions) > 1 else self.positions[0].copy()
        model.proposer = np.full(model.n_replications, TABLE)
        model.text = np.where(model.open, self.current_forecast(), model.text)
        model.accepting = np.stack(model.signatories.map("accepts", model.text, 1.0), axis=1)
        ending = active & (self.settled.all(axis=1) | (model.steps >= self.max_steps))
        if ending.any():
            model.forecast = np.where(ending[:, None], model.text, model.forecast)
            model.close(ending[:, None] & model.open & model.accepting.all(axis=1))
            model.finish(ending)


def _rows(stated: np.ndarray, ideal: np.ndarray, capability: np.ndarray) -> int:
    """Rows of the challenges: one per replication where variants set any of the numbers they
    read (saliences, ideal points, capabilities), else one for all."""
    leading = [len(a) for a, axes in ((stated, 3), (ideal, 3), (capability, 2)) if a.ndim == axes]
    return max(leading, default=1)


def _groups(masks: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The rows of `masks` (problems by actors) grouped by the actors they count: per group, its
    rows and its actors."""
    patterns, inverse = np.unique(masks, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    return [(np.flatnonzero(inverse == g), np.flatnonzero(pattern)) for g, pattern in enumerate(patterns)]
