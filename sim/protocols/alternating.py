"""Multilateral alternating offers with a deadline, issue by issue.

Sources: Rubinstein (1982), "Perfect equilibrium in a bargaining model", for two players taking
turns; Baron & Ferejohn (1989), "Bargaining in legislatures", for a proposer recognised at random
with given probabilities; the stacked alternating offers protocol of Aydoğan et al. (2017) as
NegMAS implements it (SAOMechanism), for many parties answering one offer in turn.

Each step:
1. every actor states its position: the acceptable text nearest the other signatories' weighted
   ideal, given its concession curve (`Actor.demand`);
2. one signatory is recognised — `rotate` (in the scenario's order), `random` (uniform) or
   `capability` (probability proportional to capability, Baron–Ferejohn); unless set, the
   scenario's own rule, else `capability` — and its proposal (its position, unless its strategy
   proposes otherwise) becomes the text on every open issue; if no issue has closed for `stall_steps`
   steps, the mediator instead drafts the capability-and-salience-weighted mean of the
   signatories' positions;
3. observers endorse the texts they would accept; a text endorsed by observers holding a share
   S of the table's capability speeds each signatory's concession on it, as if time ran
   (1 + observer_support * S) times faster;
4. every signatory answers each open issue; an issue all signatories accept (more than half of
   them, when the scenario's decision rule is `majority`) is agreed at that text, and the others
   go on;
5. each party reviews the open texts and may walk out, which ends the talks on them.
The talks end when every issue is closed, a party walks out, or the deadline `max_steps` passes.
In a batch of variants the positions, recognition probabilities, draft weights and observers'
shares are worked out per replication.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.core import streams
from sim.core.build import choice
from sim.core.limits import MAX_STEPS
from sim.core.scenario import Decision, Recognition
from sim.errors import UserError
from sim.model.model import Talks
from sim.protocols.base import Protocol, ProtocolConfig, recognised

DEFAULT_RECOGNITION = Recognition.capability
"""Used unless the protocol's configuration or the scenario names another rule."""
RECOGNITION_DRAW = 1
"""The purpose number of the random stream that recognises proposers."""
PLANNED_CELLS = 1_000_000
"""Steps times rows times actors times columns of positions worked out at once: bounds the memory
they hold (and keeps the arrays of a batch of variants small enough to stay in cache)."""


@dataclass
class AlternatingConfig(ProtocolConfig):
    name: str = "alternating"
    max_steps: int = 40
    """Offers and replies in one round of talks."""
    recognition: Recognition | None = None
    """Who proposes; None: the scenario's rule, else capability."""
    stall_steps: int = 6
    """Steps without agreement before the mediator drafts a text."""
    observer_support: float = 1.0
    """How much observers' endorsement speeds concession."""

    def check(self) -> None:
        super().check()
        if self.recognition is not None:
            self.recognition = choice(Recognition, self.recognition, "protocol.recognition")
        if not 1 <= self.stall_steps <= MAX_STEPS:
            raise UserError(
                f"protocol.stall_steps is {self.stall_steps}: give a whole number of steps from 1 to "
                f"{MAX_STEPS} (MAX_STEPS)"
            )
        if not 0 <= self.observer_support < float("inf"):
            raise UserError(
                f"protocol.observer_support is {self.observer_support:g}: give a finite number, 0 or more"
            )


class AlternatingOffers(Protocol):
    """Signatories take turns proposing texts; each issue closes when all of them accept it."""

    name = "alternating"
    Config = AlternatingConfig
    divides_budgets = True
    config: AlternatingConfig

    def setup(self, model: Talks) -> None:
        self.recognition = self.config.recognition or model.negotiation.recognition or DEFAULT_RECOGNITION
        self.stall_steps = self.config.stall_steps
        self.observer_support = self.config.observer_support
        self.majority = model.negotiation.decision == Decision.majority
        self.signatories = list(model.signatories)
        self.proposing_per_replication = [
            (number, g) for number, g in enumerate(self.signatories) if g.strategy.proposes_per_replication
        ]
        self.positional = np.array([not column.division for column in model.negotiation.columns])
        self.signatory_rows = np.array([g.index for g in self.signatories])
        numbers = model.parameters
        capability = numbers.capability[..., self.signatory_rows]
        self.cumulative_share = np.cumsum(capability / capability.sum(axis=-1, keepdims=True), axis=-1)
        """Per replication where capabilities differ: the signatories' cumulative shares of capability."""
        self.draft_weights = numbers.weights()[..., self.signatory_rows, :]
        present_capability = sum(actor.capability for actor in model.actors if actor.present)
        self.support_share = {o.key: o.capability / present_capability for o in model.observers}
        self.steps_without_agreement = np.zeros(model.n_replications, dtype=int)
        steps = np.arange(1, self.max_steps + 1)
        self.recognition_draws = streams.uniform(model.seeds[None, :], steps[:, None], RECOGNITION_DRAW)
        rows = 1 if model.parameters.first is None else model.n_replications
        cells = rows * model.negotiation.n_actors * model.negotiation.n_columns
        self.block = max(1, PLANNED_CELLS // cells)
        """Steps whose positions are worked out together (all of them, unless variants make the
        positions differ between replications)."""
        self.plan(model, 1)

    def plan(self, model: Talks, first: int) -> None:
        """Work out each actor's position at steps `first`, `first` + 1, ..., a block at a time: it
        depends on time alone, so it is worked out before the steps run."""
        steps = np.arange(first, min(first + self.block, self.max_steps + 1))
        taus = (steps / self.max_steps)[:, None, None]
        demands = [
            actor.demand(taus)
            if actor.present
            else np.full((len(steps), 1, model.negotiation.n_columns), np.nan)
            for actor in model.actors
        ]
        self.planned_positions = np.stack(np.broadcast_arrays(*demands), axis=2)
        """Each actor's position at the planned steps, shape (steps, 1, actors, columns), or (steps,
        replications, actors, columns) where variants make positions differ."""
        self.planned_from = first
        self.per_replication = self.planned_positions.shape[1] > 1
        self.rows = (
            np.arange(model.n_replications) * model.negotiation.n_actors if self.per_replication else 0
        )
        """Where each replication's positions start among a step's positions, row by row."""

    def recognise(self, model: Talks) -> np.ndarray:
        """Which signatory proposes in each replication this step (an index into the signatories)."""
        return recognised(
            self.recognition,
            len(self.signatories),
            model.steps,
            self.recognition_draws,
            self.cumulative_share,
        )

    def step(self, model: Talks) -> None:
        tau = model.tau
        active = ~model.finished
        if model.steps >= self.planned_from + len(self.planned_positions):
            self.plan(model, model.steps)
        positions = self.planned_positions[model.steps - self.planned_from]
        model.positions = positions if self.per_replication else positions[0]

        speaker = self.recognise(model)
        text = positions.reshape(-1, positions.shape[-1]).take(
            self.rows + self.signatory_rows[speaker], axis=0
        )
        for number, signatory in self.proposing_per_replication:
            proposal = signatory.proposal(model.seeds, model.steps, tau)
            text = np.where((speaker == number)[:, None], proposal, text)
        model.proposer = self.signatory_rows[speaker]
        mediating = np.zeros(model.n_replications, dtype=bool)
        if model.mediator is not None:
            mediating = active & (self.steps_without_agreement >= self.stall_steps)
            if mediating.any():
                draft = model.mediator.draft(model.positions[..., self.signatory_rows, :], self.draft_weights)
                text = np.where(mediating[:, None] & self.positional, draft, text)
                model.proposer = np.where(mediating, model.mediator.index, model.proposer)
        model.text = np.where(model.open, text, model.text)

        hastened: np.ndarray | float = tau
        if self.observer_support > 0 and self.support_share:
            support = np.zeros_like(model.text)
            for observer in model.observers:
                support += self.support_share[observer.key] * observer.endorses(model.text, tau)
            hastened = tau * (1.0 + self.observer_support * support)

        model.accepting = np.stack(model.signatories.map("accepts", model.text, hastened), axis=1)
        if self.majority:
            decided = 2 * model.accepting.sum(axis=1) > len(self.signatories)
        else:
            decided = model.accepting.all(axis=1)
        agree = active[:, None] & model.open & decided
        model.close(agree)
        progress = agree.any(axis=1) | mediating
        self.steps_without_agreement = np.where(progress, 0, self.steps_without_agreement + 1)

        for party in model.parties:
            model.walk_out(party, party.review(model.text, model.open, ~model.finished))
