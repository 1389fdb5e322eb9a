"""Rubinstein's subgame-perfect strategy for two players who alternate offers with discounting.

Source: Rubinstein (1982), "Perfect equilibrium in a bargaining model", Econometrica 50(1).
With discount factors d_i and d_j, the player who proposes takes V_i = (1 - d_j) / (1 - d_i d_j)
of the surplus and offers the other d_j V_j, exactly what the other would get by refusing and
proposing next; each answers yes to any offer worth at least that. So the first offer is
accepted: player 1's share (1 - d_2) / (1 - d_1 d_2), 0.5263 with d = 0.9 and 0.9.
On one issue the surplus is utility: the offer is the text that leaves the other exactly its due.
"""

from __future__ import annotations

import numpy as np

from sim.core.preferences import Preferences
from sim.core.scenario import Role, Scenario
from sim.errors import UserError
from sim.strategies.base import Strategy

TOLERANCE = 1e-9


class SubgamePerfect(Strategy):
    name = "subgame_perfect"

    @classmethod
    def check(cls, scenario: Scenario, index: int) -> None:
        signatories = [
            i for i, role in enumerate(scenario.roles) if role == Role.signatory and scenario.present[i]
        ]
        actor = scenario.actors[index]
        if len(signatories) != 2 or index not in signatories:
            raise UserError(
                f"scenario.actors.{actor}.strategy is subgame_perfect, which needs exactly two signatories "
                "alternating (Rubinstein): use time_dependent for more"
            )
        if scenario.n_issues != 1:
            raise UserError(
                f"scenario.actors.{actor}.strategy is subgame_perfect, which needs exactly one issue: "
                "use time_dependent for several"
            )
        if all(scenario.discount[i] >= 1.0 for i in signatories):
            raise UserError(
                f"scenario.actors.{actor}.strategy is subgame_perfect, and both players' discount is 1: "
                "Rubinstein's split needs at least one below 1 (give one of them a discount such as 0.99)"
            )

    @property
    def other(self) -> Preferences:
        """The other signatory."""
        return next(g for g in self.signatories if g is not self.actor)

    def share_as_proposer(self) -> float | np.ndarray:
        return proposer_share(self.actor.discount, self.other.discount)

    def aspiration(self, tau: np.ndarray | float) -> np.ndarray | float:
        share = self.share_as_proposer()
        return np.full(np.broadcast_shapes(np.shape(tau), np.shape(share)), share)

    def demand(self, tau: np.ndarray | float) -> np.ndarray:
        """The text that gives the other player exactly the discounted value of its own turn."""
        actor, other = self.actor, self.other
        due = other.discount * proposer_share(other.discount, actor.discount)
        if actor.divisions:
            total = other.salience.sum(axis=-1, keepdims=True)
            text = np.where(other.ideal == 1.0, 1.0 - (1.0 - due) / total, 0.0)
            text = np.where(actor.ideal == 1.0, 1.0 - text.sum(axis=-1, keepdims=True), text)
        else:
            distance = ((1.0 - due) / np.maximum(other.salience, 1e-300)) ** (1.0 / other.exponent)
            text = other.ideal + np.sign(actor.ideal - other.ideal) * np.minimum(
                distance, np.abs(actor.ideal - other.ideal)
            )
        return np.broadcast_to(text, np.broadcast_shapes(np.shape(tau), text.shape))

    def accepts(self, text: np.ndarray, tau: np.ndarray | float) -> np.ndarray:
        """Yes to any text worth at least what refusing and proposing next is worth today."""
        actor = self.actor
        worth = 1.0 - actor.issue_total(actor.loss(text))
        due = actor.discount * self.share_as_proposer()
        return (worth >= due - TOLERANCE) & self.individually_rational(text)


def proposer_share(
    own_discount: float | np.ndarray, other_discount: float | np.ndarray
) -> float | np.ndarray:
    """The proposer's subgame-perfect share of the surplus: (1 - d_other) / (1 - d_own d_other)."""
    return (1.0 - other_discount) / (1.0 - own_discount * other_discount)
