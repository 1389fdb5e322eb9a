"""What every strategy provides: a position, an answer to a text, and (optionally) a proposal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from sim.core.preferences import TOLERANCE, Preferences
from sim.core.scenario import Scenario


class Strategy:
    """An actor's rule of concession, bound to that actor's preferences.

    `demand(tau)` is the text the actor stands for at time fraction tau (tau may be an array of
    shape (steps, 1, 1), giving a row per step, then one per replication where the actor's numbers
    differ between replications, then the columns); `accepts(text, tau)` answers a text per issue
    column for every replication; `proposal(seeds, step, tau)` is what it puts on the table when
    recognised, by default its position. A strategy whose proposals differ between replications
    sets `proposes_per_replication`. `seat` tells it who else signs.
    """

    name: ClassVar[str] = ""
    proposes_per_replication: ClassVar[bool] = False

    def __init__(self, actor: Preferences) -> None:
        self.actor = actor
        self.signatories: list[Preferences] = []

    @classmethod
    def check(cls, scenario: Scenario, index: int) -> None:
        """Raise UserError when the scenario does not fit this strategy (nothing by default)."""

    def seat(self, signatories: Sequence[Preferences]) -> None:
        """Learn who signs (the present signatories, the actor itself among them if it signs); a
        list is kept as given, so that every actor of a table shares the model's one list."""
        self.signatories = signatories if isinstance(signatories, list) else list(signatories)

    def aspiration(self, tau: np.ndarray | float) -> np.ndarray | float:
        raise NotImplementedError

    def demand(self, tau: np.ndarray | float) -> np.ndarray:
        raise NotImplementedError

    def accepts(self, text: np.ndarray, tau: np.ndarray | float) -> np.ndarray:
        raise NotImplementedError

    def proposal(self, seeds: np.ndarray, step: int, tau: float) -> np.ndarray:
        """The text proposed in each replication (one row per seed)."""
        return np.broadcast_to(self.demand(tau), (len(seeds), self.actor.ideal.shape[-1]))

    def individually_rational(self, text: np.ndarray) -> np.ndarray:
        """Whether each column's text is no worse for the actor than no agreement on its issue."""
        actor = self.actor
        return actor.issue_total(actor.loss(text)) <= actor.disagreement_cost + TOLERANCE
