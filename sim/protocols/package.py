"""Package deals: every text covers all the open issues, and is accepted on the whole package.

Sources: J. K. Sebenius (1983), "Negotiation arithmetic: adding and subtracting issues and
parties", International Organization 37(2):281-316, on linking issues so that a deal none would
take issue by issue becomes one all prefer to no agreement (logrolling); H. Raiffa (1982), The Art
and Science of Negotiation, Harvard UP, ch. 11 and 16, on trading across issues in a package;
J. F. Nash (1950), "The bargaining problem", Econometrica 18:155-162, for the package the
proposals seek; Baron & Ferejohn (1989) for who proposes, as in `alternating`.

The bargainers are the present signatories and parties. Their Nash bargaining package maximises
Σ_i log(u_i(x) - r_i) over the positional issues, every bargainer's gain over its reservation
(`nash_package`); it exists when some package gives every bargainer strictly more than no
agreement (`most_equal_gain` above 0), even where no text on one issue alone does. A division
is shared equally in it. Where no such package exists the proposals seek the compromise (the
capability-and-salience-weighted mean of the ideal points) instead, and the protocol's
`package_exists` is False.

Each step:
1. every actor states its package: from its ideal point toward the Nash package, as far as its
   concession allows (the share φ of the way: τ^(1/β) under time-dependent concession, else
   (1 - aspiration) / (1 - r) from its strategy; by the deadline, all the way);
2. one signatory is recognised (`rotate`, `random` or `capability`; unless set, the scenario's
   rule, else `capability`), and its package becomes the text on every open issue at once;
3. every signatory answers the package as a whole: it accepts when the package's loss over the
   open issues is at most φ times what no agreement on them costs it, and, for a patron, the same
   on its effective utility (its client's loss weighted by α); the package is agreed when all of
   them accept (more than half under `scenario.decision: majority`), every open issue at once;
4. each party reviews the open texts and may walk out, which ends the talks on them.
The talks end when the package is agreed, a party walks out, or the deadline `max_steps` passes.
Because the package is judged whole, a signatory may accept a text on one issue that is worse for
it than no agreement there, paid for on the others. In a batch of variants the packages, answers
and recognition probabilities are worked out per replication.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.analysis.nash import nash_package, one_issue_packages
from sim.core import streams
from sim.core.build import choice
from sim.core.means import weighted_position
from sim.core.preferences import TOLERANCE
from sim.core.scenario import Decision, Recognition, Role
from sim.model.agents import Actor
from sim.model.model import Talks
from sim.protocols.base import Protocol, ProtocolConfig, recognised
from sim.strategies.time_dependent import TimeDependent

DEFAULT_RECOGNITION = Recognition.capability
RECOGNITION_DRAW = 1
"""The purpose number of the random stream that recognises proposers (as in `alternating`)."""


@dataclass
class PackageConfig(ProtocolConfig):
    name: str = "package"
    max_steps: int = 40
    """Package proposals and answers in one round of talks."""
    recognition: Recognition | None = None
    """Who proposes; None: the scenario's rule, else capability."""

    def check(self) -> None:
        super().check()
        if self.recognition is not None:
            self.recognition = choice(Recognition, self.recognition, "protocol.recognition")


class PackageDeal(Protocol):
    """Signatories take turns proposing packages of every open issue, judged as a whole."""

    name = "package"
    Config = PackageConfig
    divides_budgets = True
    packages = True
    """Texts are accepted on the package's utility, not issue by issue."""
    config: PackageConfig

    def setup(self, model: Talks) -> None:
        talks, numbers = model.negotiation, model.parameters
        self.recognition = self.config.recognition or talks.recognition or DEFAULT_RECOGNITION
        self.majority = talks.decision == Decision.majority
        self.signatories: list[Actor] = list(model.signatories)
        self.signatory_rows = np.array([g.index for g in self.signatories])
        capability = numbers.capability[..., self.signatory_rows]
        self.cumulative_share = np.cumsum(capability / capability.sum(axis=-1, keepdims=True), axis=-1)
        steps = np.arange(1, self.max_steps + 1)
        self.recognition_draws = streams.uniform(model.seeds[None, :], steps[:, None], RECOGNITION_DRAW)
        self.target, self.package_exists = targets(model)
        """The package the proposals seek, per row (one, or one per replication with variants), and
        whether a package every bargainer prefers to no agreement exists there."""
        shape = (len(self.target), talks.n_actors, talks.n_columns)
        self.ideal = np.broadcast_to(numbers.ideal, shape)
        self.salience = np.broadcast_to(numbers.salience, shape)
        self.cost = np.stack(
            [np.broadcast_to(a.column_cost, (shape[0], shape[2])) for a in model.actors], axis=1
        )
        """What no agreement costs each actor on each column, per row."""
        self.present = talks.present
        self.client = talks.client
        self.patron_weight = np.broadcast_to(numbers.patron_weight, shape[:2])
        self.concession = np.broadcast_to(numbers.concession, shape[:2])
        self.time_dependent = all(name == TimeDependent.name for name in talks.strategies)

    def shares(self, model: Talks) -> np.ndarray:
        """Each present actor's concession φ at this step (0 for the absent), shape (rows, actors):
        τ^(1/β) under time-dependent concession, else from the actor's strategy's aspiration."""
        if self.time_dependent:
            tau = np.full(self.concession.shape, min(model.tau, 1.0))
            return np.where(self.present, np.power(tau, 1.0 / self.concession), 0.0)
        shares = np.zeros((len(self.target), model.negotiation.n_actors))
        for actor in model.actors:
            if actor.present:
                shares[:, actor.index] = np.reshape(concession(actor, model.tau), -1)
        return shares

    def positions(self, shares: np.ndarray) -> np.ndarray:
        """Every present actor's package at concession `shares`, NaN for the absent: shape (rows,
        actors, columns)."""
        packages = self.ideal + shares[..., None] * (self.target[:, None, :] - self.ideal)
        return np.where(self.present[:, None], packages, np.nan)

    def answers(self, model: Talks, shares: np.ndarray) -> np.ndarray:
        """Whether each signatory accepts the text on the open columns as one package, shape
        (replications, signatories): on its own utility and, for a patron, on its effective one."""
        distance = np.abs(model.text[:, None, :] - self.ideal)
        losses = self.salience * (distance if model.negotiation.utility_exponent == 1 else distance**2)
        open_columns = model.open[:, None, :]
        loss = np.where(open_columns, losses, 0.0).sum(axis=-1)
        cost = (open_columns * self.cost).sum(axis=-1)
        ok = loss <= shares * cost + TOLERANCE
        rows = self.signatory_rows
        clients = self.client[rows]
        weight = np.where(clients >= 0, self.patron_weight[:, rows], 0.0)
        effective = (1 - weight) * loss[:, rows] + weight * loss[:, clients]
        budget = (1 - weight) * cost[:, rows] + weight * cost[:, clients]
        patrons = ok[:, rows] & ((weight <= 0) | (effective <= shares[:, rows] * budget + TOLERANCE))
        return np.broadcast_to(patrons, (model.n_replications, len(rows)))

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
        active = ~model.finished
        shares = self.shares(model)
        positions = self.positions(shares)
        model.positions = positions[0] if len(positions) == 1 else positions
        speaker = self.recognise(model)
        rows = np.arange(model.n_replications) if len(positions) > 1 else 0
        model.proposer = self.signatory_rows[speaker]
        model.text = np.where(model.open, positions[rows, model.proposer], model.text)
        answers = self.answers(model, shares)
        model.accepting = np.repeat(answers[:, :, None], model.negotiation.n_columns, axis=2)
        decided = 2 * answers.sum(axis=1) > len(self.signatories) if self.majority else answers.all(axis=1)
        model.close(active[:, None] & model.open & decided[:, None])
        for party in model.parties:
            model.walk_out(party, party.review(model.text, model.open, ~model.finished))


def concession(actor: Actor, tau: float) -> np.ndarray:
    """The share φ of the way from the actor's ideal to no agreement that it has gone at tau, from
    its strategy's aspiration: 1 - φ (1 - r)."""
    room = np.maximum(1.0 - actor.reservation, TOLERANCE)
    return np.clip((1.0 - actor.aspiration(tau)) / room, 0.0, 1.0)


def targets(model: Talks) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the package the proposals seek (the Nash package, else the compromise), and
    whether a package every bargainer prefers to no agreement exists."""
    talks, numbers = model.negotiation, model.parameters
    rows = model.n_replications if numbers.first is not None else 1
    shape = (rows, talks.n_actors, talks.n_columns)
    ideal = np.broadcast_to(numbers.ideal, shape)
    salience = np.broadcast_to(numbers.salience, shape)
    compromise = weighted_position(ideal, np.broadcast_to(numbers.weights(), shape), talks.present[:, None])
    bargainers = talks.present & np.isin(np.array(talks.roles), (Role.signatory, Role.party))
    positional = np.array([not column.division for column in talks.columns])
    shared = equal_shares(model)
    distance = np.abs(shared[~positional] - ideal[..., ~positional]) ** talks.utility_exponent
    fixed = (salience[..., ~positional] * distance).sum(axis=-1)
    reservation = (np.broadcast_to(numbers.reservation, shape[:2]) + fixed)[:, bargainers]
    ideal, salience = ideal[:, bargainers][..., positional], salience[:, bargainers][..., positional]
    packages = np.where(positional, compromise, shared)
    if positional.sum() == 1:
        point, exists = one_issue_packages(
            ideal[..., 0], salience[..., 0], reservation, talks.utility_exponent
        )
        packages[exists, np.flatnonzero(positional)[0]] = point[exists]
        return packages, exists
    exists = np.zeros(rows, dtype=bool)
    for row in range(rows):
        nash = nash_package(ideal[row], salience[row], reservation[row], talks.utility_exponent)
        if nash is not None:
            packages[row, positional] = nash
            exists[row] = True
    return packages, exists


def equal_shares(model: Talks) -> np.ndarray:
    """Per column: a division's equal share for each recipient; NaN on positional columns."""
    shares = np.full(model.negotiation.n_columns, np.nan)
    for columns in model.negotiation.divisions().values():
        shares[columns] = 1.0 / len(columns)
    return shares
