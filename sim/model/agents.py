"""The actors at the table, one Mesa agent each; their role decides how they behave.

Every actor holds its preferences (ideal point, saliences, capability, reservation) and one rule
of concession; the model runs many replications in lockstep, so a decision is an array with one
row per replication (shape (replications, issues)) or, where it does not depend on the
replication, one value per issue.

Utility. Actor i's loss on issue k from a text x is s_ik |x - x*_ik|^p; an issue left without
agreement costs it (1 - r_i) / K, an equal share of the value it puts on no agreement at all.
So u_i = 1 - sum of losses, no agreement anywhere gives exactly r_i, and salience decides how far
an actor can give way on each issue: far on the issues it cares little about, little on the rest.

Decisions. An actor's strategy (`sim/strategies/`) decides its position, its answers and its
proposals: by default time-dependent concession, under which a patron also weighs its client
(Russia and Iran the government, Turkey the opposition) — how a party sways talks it does not sign.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import mesa
import numpy as np

from sim.core.scenario import weighted_position

if TYPE_CHECKING:
    from sim.model.model import NegotiationModel

TOLERANCE = 1e-12


class Actor(mesa.Agent):
    """A delegation at the table: preferences, a strategy of concession and, for a patron, a client."""

    role: ClassVar[str] = "actor"
    model: NegotiationModel

    def __init__(self, model: NegotiationModel, index: int) -> None:
        super().__init__(model)
        from sim.strategies import STRATEGIES

        talks = model.negotiation
        self.index = index
        self.key = talks.actors[index]
        self.display_name = talks.display_names[index]
        self.ideal = talks.ideal[index]
        self.salience = talks.salience[index]
        self.capability = float(talks.capability[index])
        self.reservation = float(talks.reservation[index])
        self.beta = float(talks.concession[index])
        self.discount = float(talks.discount[index])
        self.patron_weight = float(talks.patron_weight[index])
        self.exponent = talks.utility_exponent
        self.present = bool(talks.present[index])
        self.n_groups = talks.n_groups
        self.disagreement_cost = (1.0 - self.reservation) / talks.n_groups
        """What an issue left without agreement costs this actor."""
        groups = talks.group_matrix()
        self._groups = groups if talks.n_groups < talks.n_issues else None
        self.column_cost = self.disagreement_cost / groups.sum(axis=0)[groups.argmax(axis=1)]
        """The cost of no agreement spread over an issue's columns (one column unless a division)."""
        self.divisions = talks.divisions()
        self.client: Actor | None = None
        self.target = self.ideal.copy()
        """Where this actor concedes toward: the weighted ideal of the other signatories."""
        self.strategy = STRATEGIES[talks.strategies[index]](self)

    # Preferences

    def loss(self, text: np.ndarray) -> np.ndarray:
        """Loss per issue column from `text` (any shape ending in issue columns)."""
        distance = np.abs(text - self.ideal)
        return self.salience * (distance if self.exponent == 1 else distance**self.exponent)

    def group_total(self, per_column: np.ndarray) -> np.ndarray:
        """Each column's value summed over the columns of its issue (a division's shares count as one)."""
        if self._groups is None:
            return per_column
        return (per_column @ self._groups) @ self._groups.T

    def utility(self, values: np.ndarray, agreed: np.ndarray) -> np.ndarray:
        """Utility of an outcome: `values` where `agreed`, no agreement elsewhere."""
        cost = np.where(agreed, self.loss(values), self.column_cost)
        return 1.0 - cost.sum(axis=-1)

    # Decisions, as the actor's strategy makes them

    def aspiration(self, tau: np.ndarray | float) -> np.ndarray | float:
        """The utility the actor still holds out for at time fraction tau."""
        return self.strategy.aspiration(tau)

    def accepts(self, text: np.ndarray, tau: np.ndarray | float) -> np.ndarray:
        """Whether each issue's text is good enough at time fraction tau."""
        return self.strategy.accepts(text, tau)

    def demand(self, tau: np.ndarray | float) -> np.ndarray:
        """The text this actor stands for at tau."""
        return self.strategy.demand(tau)

    def proposal(self) -> np.ndarray:
        """What the actor puts on the table when recognised, per replication."""
        return self.strategy.proposal(self.model)


class Guarantor(Actor):
    """A signatory (Russia, Turkey, Iran in Astana): proposes texts and must accept every agreed one."""

    role = "guarantor"


class Party(Actor):
    """A party to the conflict: signs nothing, sways its patron, and walks out of talks that stay bad.

    After each step the party compares the texts on the open issues with no agreement on them;
    when they cost it more for `patience` steps running, it walks out, which ends the talks on
    every issue still open.
    """

    role = "party"

    def __init__(self, model: NegotiationModel, index: int) -> None:
        super().__init__(model, index)
        self.patience = int(model.negotiation.patience[index])
        self.unhappy_steps = np.zeros(model.n_replications, dtype=int)

    def review(self, text: np.ndarray, open_issues: np.ndarray, active: np.ndarray) -> np.ndarray:
        """Count the steps the open texts stay below no agreement; return where the party walks out."""
        loss = np.where(open_issues, self.loss(text), 0.0).sum(axis=1)
        cost = (open_issues * self.column_cost).sum(axis=1)
        unhappy = active & open_issues.any(axis=1) & (loss > cost + TOLERANCE)
        self.unhappy_steps = np.where(unhappy, self.unhappy_steps + 1, 0)
        return self.unhappy_steps >= self.patience


class Observer(Actor):
    """An observer (the US, Jordan): endorses the texts it can live with, or withholds support.

    An endorsed text carries the weight of the endorsing observers' capability; the protocol lets
    that support speed the signatories' concession on that text (see the protocol's docstring).
    """

    role = "observer"

    def endorses(self, text: np.ndarray, tau: float) -> np.ndarray:
        return self.accepts(text, tau)


class Mediator(Observer):
    """The mediator (the UN envoy): when talks stall, drafts a compromise of the signatories' positions."""

    role = "mediator"

    def draft(self, positions: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """The capability-and-salience-weighted mean of the signatories' positions, per issue."""
        return weighted_position(positions, weights)


ROLE_CLASSES: dict[str, type[Actor]] = {cls.role: cls for cls in (Guarantor, Party, Observer, Mediator)}
