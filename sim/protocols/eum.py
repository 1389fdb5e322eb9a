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
not a proposal put to them. Nothing is drawn at random.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import cast

import numpy as np

from sim.analysis.eum import Convention, eum_round, weighted_mean, weighted_median
from sim.core.build import choice
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


STATISTICS = {Statistic.median: weighted_median, Statistic.mean: weighted_mean}


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


class ExpectedUtilityChallenges(Protocol):
    """Rounds of challenges move the actors' positions; the settled weighted median is put to a vote."""

    name = "eum"
    Config = EumConfig
    config: EumConfig

    def setup(self, model: Talks) -> None:
        talks = model.negotiation
        stated = talks.stated_salience
        present = talks.present
        too_high = np.argwhere(present[:, None] & (stated > 1.0))
        if too_high.size:
            actor, issue = too_high[0]
            raise UserError(
                f"scenario.actors.{talks.actors[actor]}.salience.{talks.column_names[issue]} is "
                f"{stated[actor, issue]:g}: the eum protocol reads salience as a share of attention; "
                "give a number in [0, 1]"
            )
        self.capability = talks.capability
        self.salience = stated
        self.weights = talks.weights()
        self.positions = np.where(present[:, None], talks.ideal, np.nan)
        """Every actor's current position per issue: ideal points at the start, NaN for the absent."""
        self.players = [np.flatnonzero(present & (stated[:, k] > 0)) for k in range(talks.n_columns)]
        self.present_rows = np.flatnonzero(present)
        self.spans = np.array(
            [np.ptp(talks.ideal[rows, k]) if rows.size else 0.0 for k, rows in enumerate(self.players)]
        )
        self.settled = self.spans == 0

    def play_round(self, issue: int) -> None:
        rows = self.players[issue]
        before = self.positions[rows, issue]
        after = eum_round(
            before,
            self.capability[rows],
            self.salience[rows, issue],
            span=self.spans[issue],
            convention=cast(Convention, self.config.convention.value),
        )
        self.positions[rows, issue] = after
        self.settled[issue] = np.abs(after - before).max() <= self.config.tolerance * self.spans[issue]

    def current_forecast(self) -> np.ndarray:
        """The weighted median (or mean) of the players' positions per issue."""
        summarise = STATISTICS[self.config.statistic]
        everyone = self.present_rows
        return np.array(
            [
                summarise(self.positions[rows, issue], self.weights[rows, issue])
                if rows.size
                else summarise(self.positions[everyone, issue], np.zeros(everyone.size))
                for issue, rows in enumerate(self.players)
            ]
        )

    def step(self, model: Talks) -> None:
        active = ~model.finished
        for issue in np.flatnonzero(~self.settled):
            self.play_round(issue)
        model.positions = self.positions.copy()
        model.proposer = np.full(model.n_replications, TABLE)
        model.text = np.where(model.open, self.current_forecast(), model.text)
        model.accepting = np.stack(model.signatories.map("accepts", model.text, 1.0), axis=1)
        if self.settled.all() or model.steps >= self.max_steps:
            model.forecast = np.where(active[:, None], model.text, model.forecast)
            model.close(active[:, None] & model.open & model.accepting.all(axis=1))
            model.finish(active)
