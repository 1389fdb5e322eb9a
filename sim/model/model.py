"""The negotiation as a Mesa model: actors at a table, texts on the issues, a protocol that runs steps.

One model runs a batch of independent replications in lockstep (one for an interactive run,
thousands for a Monte Carlo study): every array of state has one row per replication, and the
replication with seed s gives the same numbers whether it runs alone or in a batch. Replications
may also differ in the scenario's numbers (`variants`, `sim.core.variants`): replication i then
runs variant i, and gives the numbers of a single run of that variant with its seed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

import mesa
import numpy as np

from sim.core.means import weighted_position
from sim.core.scenario import Scenario
from sim.core.variants import Variants, parameters
from sim.model.agents import ROLE_CLASSES, Actor, Mediator, Observer, Party, Signatory
from sim.strategies import STRATEGIES

NOT_YET = -1
TABLE = -1
"""The proposer index of a text no actor proposed (a forecast, a neutral chair's draft)."""

logging.getLogger("MESA").setLevel(logging.WARNING)
"""Mesa logs every step at INFO; under Hydra's logging that would flood the console."""


class BargainingRules(Protocol):
    """What the model needs of a bargaining protocol (`sim.protocols`): a deadline and a step."""

    @property
    def name(self) -> str: ...

    @property
    def max_steps(self) -> int: ...

    def setup(self, model: Talks) -> None: ...

    def step(self, model: Talks) -> None: ...


class Talks(mesa.Model):
    """Multilateral talks, issue by issue, under a bargaining protocol, for a batch of seeds
    (and, with `variants`, one variant of the scenario's numbers per seed)."""

    def __init__(
        self,
        negotiation: Scenario,
        protocol: BargainingRules,
        seeds: Sequence[int] | np.ndarray | int = 0,
        record_trace: bool = True,
        variants: Variants | None = None,
    ) -> None:
        seeds = np.atleast_1d(np.asarray(seeds, dtype=np.int64))
        if variants is not None and len(variants) != len(seeds):
            raise ValueError(f"{len(variants)} variants for {len(seeds)} seeds: give one seed per variant")
        super().__init__(rng=int(seeds[0]))
        self.negotiation = negotiation
        self.protocol = protocol
        self.seeds = seeds
        self.n_replications = len(seeds)
        self.parameters = parameters(negotiation, variants)
        """The scenario's numbers, with one row per replication where variants set them."""
        self.linked = negotiation.linked_columns()
        """The columns of each group of linked issues: they close together or not at all."""
        replications, issues = self.n_replications, negotiation.n_columns

        self.text = np.full((replications, issues), np.nan)
        """The text on the table on each issue: the last one proposed or agreed."""
        self.open = np.ones((replications, issues), dtype=bool)
        self.agreed = np.zeros((replications, issues), dtype=bool)
        self.agreed_value = np.full((replications, issues), np.nan)
        self.agreed_step = np.full((replications, issues), NOT_YET)
        self.agreed_proposer = np.full((replications, issues), NOT_YET)
        """Who proposed each agreed text (an actor index, or -1 for the table)."""
        self.forecast = np.full((replications, issues), np.nan)
        """A forecasting protocol's predicted outcome per issue; where it stays NaN, the agreed value."""
        self.finished = np.zeros(replications, dtype=bool)
        self.end_step = np.full(replications, NOT_YET)
        self.walked_out_step = np.full((replications, negotiation.n_actors), NOT_YET)
        self.proposer = np.full(replications, NOT_YET)
        self.positions = np.full((negotiation.n_actors, issues), np.nan)
        """Each actor's position on each issue this step (NaN for absent actors); shape (actors,
        issues), or (replications, actors, issues) where variants make positions differ."""

        self.actors: list[Actor] = [
            ROLE_CLASSES[role](
                self, negotiation, index, STRATEGIES[negotiation.strategies[index]], self.parameters
            )
            for index, role in enumerate(negotiation.roles)
        ]
        for actor in self.actors:
            client = int(negotiation.client[actor.index])
            actor.client = self.actors[client] if client >= 0 else None
        present = self.agents.select(lambda agent: agent.present)
        self.signatories = present.select(agent_type=Signatory)
        """The veto players present: every agreed text needs their acceptance."""
        self.parties = present.select(agent_type=Party)
        self.observers = present.select(agent_type=Observer)
        mediators = present.select(agent_type=Mediator)
        self.mediator: Mediator | None = next(iter(mediators), None)
        seated = list(self.signatories)
        for actor in self.actors:
            actor.strategy.seat(seated)
        self.accepting = np.zeros((replications, len(self.signatories), issues), dtype=bool)
        """Each present signatory's answer this step, per replication and issue."""
        self.last_answer = np.ones((replications, len(self.signatories), issues), dtype=bool)
        """Each present signatory's answer to the last text on each issue while its replication ran
        (True where no text was put): who blocked a failed issue, without a trace."""
        self._set_targets()
        protocol.setup(self)

        self.recorder = (
            mesa.DataCollector(
                model_reporters={
                    "active": lambda m: ~m.finished_before_step,
                    "proposer": lambda m: m.proposer,
                    "offer": lambda m: np.where(m.open_before_step, m.text, np.nan),
                    "position": lambda m: m.positions,
                    "accept": lambda m: m.accepting,
                    "text": lambda m: m.text,
                    "adopted": lambda m: m.agreed | m.open,
                }
            )
            if record_trace
            else None
        )
        """Per step, the raw state; `sim.outputs.trace_frame` turns it into the tidy trace."""
        self.finished_before_step = self.finished.copy()
        self.open_before_step = self.open.copy()

    def _set_targets(self) -> None:
        """Each actor concedes toward the capability-and-salience-weighted ideal of the other signatories."""
        weights = self.parameters.weights()
        signatory = np.zeros(len(self.actors), dtype=bool)
        signatory[[g.index for g in self.signatories]] = True
        for actor in self.actors:
            others = signatory.copy()
            others[actor.index] = False
            if others.any():
                actor.target = weighted_position(self.parameters.ideal, weights, others[:, None])

    # Time

    @property
    def max_steps(self) -> int:
        return self.protocol.max_steps

    @property
    def tau(self) -> float:
        """The time fraction t / T of the current step."""
        return self.steps / self.max_steps

    # The step

    def step(self) -> None:
        self.finished_before_step = self.finished.copy()
        self.open_before_step = self.open.copy()
        self.protocol.step(self)
        if self.steps >= self.max_steps:
            self.finish(~self.finished)
        self._keep_answers()
        if self.recorder is not None:
            self.recorder.collect(self)
        self.running = not self.finished.all()

    def _keep_answers(self) -> None:
        """Keep the answers to this step's texts where the replication ran and the issue was open."""
        answered = ~self.finished_before_step[:, None] & self.open_before_step & ~np.isnan(self.text)
        self.last_answer = np.where(answered[:, None, :], self.accepting, self.last_answer)

    def run(self) -> Talks:
        """Run every replication to its end: all issues closed, a walk-out, or the deadline."""
        while self.running:
            self.step()
        return self

    # Changes of state the protocols use

    def close(self, agree: np.ndarray) -> None:
        """Record agreement on the (replication, issue) cells of `agree` at the current text; an
        issue linked to others is agreed only with all of them."""
        agree = agree & self.open
        for columns in self.linked:
            agree[:, columns] = agree[:, columns] & agree[:, columns].all(axis=1, keepdims=True)
        if not agree.any():
            return
        self.agreed |= agree
        self.agreed_value = np.where(agree, self.text, self.agreed_value)
        self.agreed_step = np.where(agree, self.steps, self.agreed_step)
        self.agreed_proposer = np.where(agree, self.proposer[:, None], self.agreed_proposer)
        self.open &= ~agree
        self.finish(~self.finished & ~self.open.any(axis=1))

    def walk_out(self, party: Actor, leaving: np.ndarray) -> None:
        """A party leaves: the talks end on every issue still open."""
        leaving = leaving & ~self.finished
        if not leaving.any():
            return
        self.walked_out_step[leaving, party.index] = self.steps
        self.open[leaving] = False
        self.finish(leaving)

    def finish(self, ending: np.ndarray) -> None:
        """End the talks in the replications of `ending`, at this step."""
        if not ending.any():
            return
        self.end_step = np.where(ending & ~self.finished, self.steps, self.end_step)
        self.finished |= ending

    # What the model reports

    def forecasts(self) -> np.ndarray:
        """The predicted outcome per replication and issue: the protocol's forecast, else the agreed value."""
        return np.where(np.isnan(self.forecast), self.agreed_value, self.forecast)

    def current_utility(self, actor: Actor) -> np.ndarray:
        """Each replication's utility for `actor` if the texts on the table were adopted now; once
        its talks have ended, the utility of their outcome."""
        adopted = (self.agreed | (self.open & ~self.finished[:, None])) & ~np.isnan(self.text)
        return actor.utility(np.nan_to_num(self.text), adopted)

    def final_utilities(self) -> np.ndarray:
        """Utility of the outcome for every replication and actor, shape (replications, actors)."""
        values = np.nan_to_num(self.agreed_value)
        return np.stack([actor.utility(values, self.agreed) for actor in self.actors], axis=1)
