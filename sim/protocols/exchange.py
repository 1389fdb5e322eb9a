"""Vote trading: the exchange model of Stokman and Van Oosten, round by round, as a protocol.

Sources: F. N. Stokman & R. Van Oosten (1994), "The exchange of voting positions: an
object-oriented model of policy networks", in Bueno de Mesquita & Stokman (eds.), European
Community Decision Making, Yale UP, 105-127; J. Dijkstra, M. A. L. M. Van Assen & F. N. Stokman
(2008), "Outcomes of collective decisions with externalities predicted", J. Theoretical Politics
20(4):415-441; decide (repository foarsitter/decide-exchange-model, release 2022.1.28), the
reference implementation, which `tests/test_exchange.py` pins this protocol to. The model itself
is `sim.protocols.exchange_model`.

Actors trade support across issues: an actor who cares little about one issue moves its vote
there toward a partner who cares much, in return for the partner's vote on an issue it cares
about. Each step is one round: every potential exchange between two actors with a stake in two
issues (a stated salience above 0 on both) is sized at the exchange rate (`rate`: `equal_gain`,
both gain the same; `random_rate`, a rate drawn uniformly between the two actors' indifference
rates, from the replication's random stream), the most profitable are realised first, and the
actors start the next round part of the way toward their votes (`salience_weight`,
`fixed_weight`). Positions are on decide's 0-100 scale inside the model and on [0, 1] outside.

The text on the table is the outcome of the votes: on each issue their capability-and-salience-
weighted mean (the compromise model, which is where the trading starts). When a round realises
no exchange, or at `max_steps` (decide's ten rounds), that text is the forecast
(`model.forecast`) and is put to the signatories, as at their deadline (tau = 1); it is agreed on
every issue where all of them accept it, and the talks end. Before that, each step records
whether each signatory would accept the running text at tau = 1 (`model.accepting`); those
answers bind nobody. Parties trade like everyone else but do not walk out: the running outcome
is not a proposal put to them. Under `equal_gain` nothing is drawn at random. In a batch of
variants, or under `random_rate`, every replication trades on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from sim.core import streams
from sim.core.build import choice
from sim.core.means import weighted_position
from sim.errors import UserError
from sim.model.model import TABLE, Talks
from sim.protocols.base import Protocol, ProtocolConfig
from sim.protocols.exchange_model import SCALE, Table, play_round

RATE_DRAW = 3
"""The purpose number of the random stream that draws random exchange rates."""
EXCHANGES_PER_ROUND = 2**32
"""Room for this many potential exchanges per round in the stream's step counter."""
INPUT_DIGITS = 10
"""Positions on 0-100 are rounded to this many decimals, so that a table's 10.0 stays 10.0."""


class Rate(StrEnum):
    """How an exchange divides its gain: equally (decide's default), or at a random rate."""

    equal_gain = "equal_gain"
    random_rate = "random_rate"


@dataclass
class ExchangeConfig(ProtocolConfig):
    name: str = "exchange"
    max_steps: int = 10
    """Rounds of exchanges at most (decide's default); the vote comes after the last."""
    rate: Rate = Rate.equal_gain
    """`equal_gain` or `random_rate`."""
    salience_weight: float = 0.4
    """How far, times (1 - salience), an actor who traded starts the next round toward its vote."""
    fixed_weight: float = 0.1
    """How far, besides, every actor who traded starts the next round toward its vote."""

    def check(self) -> None:
        super().check()
        self.rate = choice(Rate, self.rate, "protocol.rate")
        for key in ("salience_weight", "fixed_weight"):
            value = getattr(self, key)
            if not 0.0 <= value <= 1.0:
                raise UserError(f"protocol.{key} is {value:g}: give a share in [0, 1]")
        if self.salience_weight + self.fixed_weight > 1.0:
            raise UserError(
                f"protocol.salience_weight + protocol.fixed_weight is "
                f"{self.salience_weight + self.fixed_weight:g}: give two shares that sum to 1 or less"
            )


class VoteExchange(Protocol):
    """Rounds of vote trading move the actors' votes; the outcome of the last is put to a vote."""

    name = "exchange"
    Config = ExchangeConfig
    config: ExchangeConfig

    def setup(self, model: Talks) -> None:
        talks, numbers = model.negotiation, model.parameters
        drawn = self.config.rate == Rate.random_rate
        rows = model.n_replications if drawn or numbers.first is not None else 1
        shape = (rows, talks.n_actors, talks.n_columns)
        ideal = np.broadcast_to(numbers.ideal, shape)
        self.stated = np.broadcast_to(numbers.stated_salience, shape)
        self.capability = np.broadcast_to(numbers.capability, shape[:2])
        present = talks.present[:, None]
        self.weights = self.capability[..., None] * self.stated
        # A stake is a pull on the outcome: a salience so small that capability times salience
        # underflows to 0 pulls nothing, and trades nothing.
        self.stake = present & (self.weights > 0)
        self.ideal = np.where(present, ideal, np.nan)
        self.positions = np.round(ideal * SCALE, INPUT_DIGITS)
        """Each row's positions at the start of the coming round, on 0-100."""
        self.votes = self.positions.copy()
        self.settled = np.zeros(rows, dtype=bool)
        """Rows whose last round realised no exchange."""
        self.seeds = model.seeds if drawn else None

    def play(self, row: int, step: int) -> None:
        """One round of exchanges in one row."""
        table = Table(self.positions[row], self.stated[row], self.capability[row], self.stake[row])
        played = play_round(
            table, self.config.salience_weight, self.config.fixed_weight, self.draws(row, step)
        )
        self.votes[row] = played.votes
        self.positions[row] = played.next_positions
        self.settled[row] = not played.exchanges

    def draws(self, row: int, step: int) -> Callable[[int], float] | None:
        """The random rates' draws of a row's round: one uniform number per potential exchange."""
        if self.seeds is None:
            return None
        seed = self.seeds[row]
        return lambda number: float(streams.uniform(seed, step * EXCHANGES_PER_ROUND + number, RATE_DRAW))

    def step(self, model: Talks) -> None:
        active = ~model.finished
        rows_active = active if len(self.settled) > 1 else np.array([active.any()])
        for row in np.flatnonzero(rows_active & ~self.settled):
            self.play(int(row), model.steps)
        votes = np.where(self.stake, self.votes / SCALE, self.ideal)
        model.positions = votes.copy() if len(votes) > 1 else votes[0].copy()
        outcome = weighted_position(votes, self.weights, model.negotiation.present[:, None])
        model.proposer = np.full(model.n_replications, TABLE)
        model.text = np.where(model.open, outcome, model.text)
        model.accepting = np.stack(model.signatories.map("accepts", model.text, 1.0), axis=1)
        settled = self.settled if len(self.settled) > 1 else np.full(model.n_replications, self.settled[0])
        ending = active & (settled | (model.steps >= self.max_steps))
        if ending.any():
            model.forecast = np.where(ending[:, None], model.text, model.forecast)
            model.close(ending[:, None] & model.open & model.accepting.all(axis=1))
            model.finish(ending)
