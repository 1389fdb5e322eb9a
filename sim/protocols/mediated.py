"""A mediator's single negotiating text, revised toward the objectors until the veto players accept.

Source: H. Raiffa (1982), The Art and Science of Negotiation, Harvard UP, ch. 14 ("The Camp
David negotiations") and ch. 17: the one-text procedure, in which the mediator, not the
parties, writes the only text on the table, asks for criticism and redrafts it until no one can
be brought to improve it further.

Each step:
1. every actor states its position: the acceptable text nearest the other signatories' weighted
   ideal, given its concession curve (`Actor.demand`);
2. the mediator (the scenario's present mediator; without one, a neutral chair, proposer -1)
   puts its text on every open issue; the first text is the compromise of all present actors'
   ideal points, Σ c_i s_ik x*_ik / Σ c_i s_ik (`sim.protocols.compromise`);
3. every signatory answers each open issue at the time fraction t / T; an issue all of them
   accept is agreed at that text;
4. on every other issue the mediator revises the text toward the objecting signatories'
   positions, weighted by capability times stated salience: text += revision * (their weighted
   position - text); it is the text of the next step;
5. each party reviews the open texts and may walk out, which ends the talks on them.
The talks end when every issue is closed, a party walks out, or the deadline `max_steps` passes.
Nothing is drawn at random. In a batch of variants the texts, positions and weights are worked
out per replication.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.core.means import weighted_position
from sim.errors import UserError
from sim.model.model import TABLE, Talks
from sim.protocols.base import Protocol, ProtocolConfig


@dataclass
class MediatedConfig(ProtocolConfig):
    name: str = "mediated"
    max_steps: int = 40
    """Drafts and answers in one round of talks."""
    revision: float = 0.5
    """Share of the way the mediator moves a text toward the objectors, in (0, 1]."""

    def check(self) -> None:
        super().check()
        if not 0.0 < self.revision <= 1.0:
            raise UserError(
                f"protocol.revision is {self.revision:g}: give the share of the way toward the objectors, "
                "in (0, 1]"
            )


class SingleNegotiatingText(Protocol):
    """The mediator drafts one text per issue and moves it toward whoever objects."""

    name = "mediated"
    deterministic = True
    Config = MediatedConfig
    config: MediatedConfig

    def setup(self, model: Talks) -> None:
        numbers = model.parameters
        weights = numbers.weights()
        self.signatory_rows = np.array([g.index for g in model.signatories])
        self.signatory_weights = weights[..., self.signatory_rows, :]
        self.chair = model.mediator.index if model.mediator is not None else TABLE
        first = weighted_position(numbers.ideal, weights, model.negotiation.present[:, None])
        self.draft = np.broadcast_to(first, model.text.shape).copy()
        """The mediator's text for the coming step, per replication and issue."""

    def stated_positions(self, model: Talks, tau: float) -> np.ndarray:
        """Every present actor's position at tau (`Actor.demand`); NaN for the absent. Shape
        (actors, columns), or (replications, actors, columns) where variants make them differ."""
        demands = [
            actor.demand(tau) if actor.present else np.full_like(actor.ideal, np.nan)
            for actor in model.actors
        ]
        return np.stack(np.broadcast_arrays(*demands), axis=-2)

    def step(self, model: Talks) -> None:
        tau = model.tau
        active = ~model.finished
        model.positions = self.stated_positions(model, tau)
        model.proposer = np.full(model.n_replications, self.chair)
        model.text = np.where(model.open, self.draft, model.text)

        model.accepting = np.stack(model.signatories.map("accepts", model.text, tau), axis=1)
        model.close(active[:, None] & model.open & model.accepting.all(axis=1))

        objecting = ~model.accepting
        signatories = model.positions[..., self.signatory_rows, :]
        toward = weighted_position(signatories, self.signatory_weights, objecting)
        revise = model.open & objecting.any(axis=1)
        revision = self.config.revision
        self.draft = np.where(revise, model.text + revision * (toward - model.text), model.text)

        for party in model.parties:
            model.walk_out(party, party.review(model.text, model.open, ~model.finished))
