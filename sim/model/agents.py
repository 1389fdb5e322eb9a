"""The actors at the table, one Mesa agent each; their role decides how they behave.

Every actor holds its preferences (`sim.core.preferences`: ideal point, saliences, capability,
reservation, and the utility on them) and a strategy (`sim.strategies`) that decides its
position, its answers and its proposals: by default time-dependent concession, under which a
patron also weighs its client (in Astana, Russia and Iran the government, Turkey the
opposition) — how a party sways talks it does not sign. The model runs many replications in
lockstep, so a decision is an array with one row per replication (shape (replications, issues))
or, where it does not depend on the replication, one value per issue. In a batch of variants
(`sim.core.variants`) an actor's numbers may differ between replications: they then hold one
row per replication too.

Roles are generic (`sim.core.scenario.Role`); a scenario may label them in its own words
(`labels`: the signatories of Astana are its guarantors).
"""

from __future__ import annotations

from typing import ClassVar

import mesa
import numpy as np

from sim.core.means import weighted_position
from sim.core.preferences import TOLERANCE, Preferences
from sim.core.scenario import Role, Scenario
from sim.core.variants import Parameters
from sim.strategies.base import Strategy


class Actor(mesa.Agent, Preferences):
    """A delegation at the table: preferences, a strategy of concession and, for a patron, a client."""

    role: ClassVar[Role]

    def __init__(
        self,
        model: mesa.Model,
        scenario: Scenario,
        index: int,
        strategy: type[Strategy],
        numbers: Parameters | None = None,
    ) -> None:
        super().__init__(model, scenario, index, numbers)  # type: ignore[call-arg, arg-type]  # mesa.Agent passes them on
        self.strategy = strategy(self)

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

    def proposal(self, seeds: np.ndarray, step: int, tau: float) -> np.ndarray:
        """What the actor puts on the table when recognised, per replication."""
        return self.strategy.proposal(seeds, step, tau)


class Signatory(Actor):
    """A veto player (Russia, Turkey, Iran in Astana): proposes texts and must accept every agreed one."""

    role = Role.signatory


class Party(Actor):
    """A party to the conflict: signs nothing, sways its patron, and walks out of talks that stay bad.

    After each step the party compares the texts on the open issues with no agreement on them;
    when they cost it more for `patience` steps running, it walks out, which ends the talks on
    every issue still open.
    """

    role = Role.party
    unhappy_steps: np.ndarray | int = 0
    """Steps running, per replication, in which the open texts cost more than no agreement."""

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

    role = Role.observer

    def endorses(self, text: np.ndarray, tau: float) -> np.ndarray:
        return self.accepts(text, tau)


class Mediator(Observer):
    """The mediator (the UN envoy): when talks stall, drafts a compromise of the signatories' positions."""

    role = Role.mediator

    def draft(self, positions: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """The capability-and-salience-weighted mean of the signatories' positions, per issue."""
        return weighted_position(positions, weights)


ROLE_CLASSES: dict[Role, type[Actor]] = {cls.role: cls for cls in (Signatory, Party, Observer, Mediator)}
