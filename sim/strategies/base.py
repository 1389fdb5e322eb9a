"""What every strategy provides: a position, an answer to a text, and (optionally) a proposal."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

if TYPE_CHECKING:
    from sim.model.agents import Actor
    from sim.model.model import NegotiationModel
    from sim.core.scenario import Scenario


class Strategy:
    """An actor's rule of concession, bound to that actor.

    `demand(tau)` is the text the actor stands for at time fraction tau (tau may be an array of
    shape (steps, 1), giving a row per step); `accepts(text, tau)` answers a text per issue column
    for every replication; `proposal(model)` is what it puts on the table when recognised, by
    default its position. A strategy whose proposals differ between replications sets
    `proposes_per_replication`.
    """

    name: ClassVar[str] = ""
    proposes_per_replication: ClassVar[bool] = False

    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    @classmethod
    def check(cls, scenario: Scenario, index: int) -> None:
        """Raise UserError when the scenario does not fit this strategy (nothing by default)."""

    def aspiration(self, tau: np.ndarray | float) -> np.ndarray | float:
        raise NotImplementedError

    def demand(self, tau: np.ndarray | float) -> np.ndarray:
        raise NotImplementedError

    def accepts(self, text: np.ndarray, tau: np.ndarray | float) -> np.ndarray:
        raise NotImplementedError

    def proposal(self, model: NegotiationModel) -> np.ndarray:
        return np.broadcast_to(self.demand(model.tau), model.text.shape)

    def individually_rational(self, text: np.ndarray) -> np.ndarray:
        """Whether each column's text is no worse for the actor than no agreement on its issue."""
        actor = self.actor
        return actor.group_total(actor.loss(text)) <= actor.disagreement_cost + 1e-12
