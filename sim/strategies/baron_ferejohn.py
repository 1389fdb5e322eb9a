"""Baron and Ferejohn's stationary strategy for dividing a budget by majority, closed rule.

Source: Baron & Ferejohn (1989), "Bargaining in legislatures", American Political Science
Review 83(4). Each of n members is recognised with probability 1/n; a member's value of the game
is 1/n, so a responder accepts any share worth at least d/n, its discounted continuation value.
The proposer buys the cheapest majority: n // 2 partners chosen at random, each offered exactly
d/n, and keeps the rest: 1 - d (n - 1) / (2n) for odd n (0.64 with n = 5, d = 0.9; partners 0.18).
"""

from __future__ import annotations

import numpy as np

from sim.core import streams
from sim.core.preferences import Preferences
from sim.core.scenario import Scenario
from sim.errors import UserError
from sim.strategies.base import Strategy

TOLERANCE = 1e-9
PARTNER_DRAW = 1000
"""Purpose numbers of the random streams that choose partners (one per actor above this)."""


class BaronFerejohn(Strategy):
    name = "baron_ferejohn"
    proposes_per_replication = True

    @classmethod
    def check(cls, scenario: Scenario, index: int) -> None:
        actor = scenario.actors[index]
        divisions = scenario.divisions()
        if scenario.decision != "majority" or len(divisions) != 1 or scenario.n_issues != 1:
            raise UserError(
                f"scenario.actors.{actor}.strategy is baron_ferejohn, which needs one division issue decided "
                "by majority (scenario.decision: majority): use time_dependent otherwise"
            )

    def members(self) -> list[Preferences]:
        return self.signatories

    def continuation(self, member: Preferences) -> float | np.ndarray:
        return member.discount / len(self.members())

    def aspiration(self, tau: np.ndarray | float) -> np.ndarray | float:
        return np.full_like(np.asarray(tau, dtype=float), 1.0 / len(self.members()))

    def own_column(self, member: Preferences) -> int:
        """The division column holding `member`'s share (the same in every replication)."""
        columns = next(iter(self.actor.divisions.values()))
        return columns[int(np.argmax(np.atleast_2d(member.ideal)[0, columns]))]

    def _offer(self, partners: np.ndarray) -> np.ndarray:
        """Shares per column for each row of `partners` (replications x members, bool)."""
        text = np.zeros((len(partners), self.actor.ideal.shape[-1]))
        for position, member in enumerate(self.members()):
            if member is not self.actor:
                offered = np.where(partners[:, position, None], self.continuation(member), 0.0)
                text[:, self.own_column(member)] = offered[:, 0]
        own = self.own_column(self.actor)
        text[:, own] = 1.0 - text.sum(axis=1)
        return text

    def demand(self, tau: np.ndarray | float) -> np.ndarray:
        """The expected offer: the proposer's share, and the rest spread evenly over the others."""
        members = self.members()
        columns = next(iter(self.actor.divisions.values()))
        others = [np.asarray(self.continuation(m)) for m in members if m is not self.actor]
        shares = np.sort(np.stack(np.broadcast_arrays(*others)), axis=0) if others else np.zeros(0)
        kept = 1.0 - shares[: len(members) // 2].sum(axis=0)
        text = np.zeros(np.broadcast_shapes(kept.shape, self.actor.ideal.shape))
        text[..., columns] = (1.0 - kept) / max(len(columns) - 1, 1)
        own = self.own_column(self.actor)
        text[..., own : own + 1] = kept
        return np.broadcast_to(text, np.broadcast_shapes(np.shape(tau), text.shape))

    def proposal(self, seeds: np.ndarray, step: int, tau: float) -> np.ndarray:
        """Offer d/n to n // 2 others drawn at random in each replication, keep the rest."""
        members = self.members()
        draws = np.stack(
            [
                streams.uniform(seeds, step, PARTNER_DRAW + m.index)
                if m is not self.actor
                else np.full(len(seeds), np.inf)
                for m in members
            ],
            axis=1,
        )
        ranks = np.argsort(np.argsort(draws, axis=1), axis=1)
        partners = ranks < len(members) // 2
        return self._offer(partners)

    def accepts(self, text: np.ndarray, tau: np.ndarray | float) -> np.ndarray:
        """Yes to any share worth at least the discounted value of the game."""
        actor = self.actor
        worth = 1.0 - actor.issue_total(actor.loss(text))
        total = actor.salience.sum(axis=-1, keepdims=True)
        return (worth >= 1.0 - total * (1.0 - self.continuation(actor)) - TOLERANCE) & (
            self.individually_rational(text)
        )
