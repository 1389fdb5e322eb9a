"""What every protocol provides: a name, a configuration with its defaults and checks, and a step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from sim.core.limits import MAX_STEPS
from sim.core.scenario import Recognition, Scenario
from sim.errors import UserError
from sim.model.model import Talks


@dataclass
class ProtocolConfig:
    """Fields every protocol has; each protocol's own `Config` extends it with its parameters.

    A protocol's defaults live in its `Config` and its checks in `check`, which runs when the
    configuration becomes this object (`OmegaConf.to_object`, or `make_protocol`). Hydra stores
    each `Config` as the schema of `conf/protocol/<name>.yaml`, so a misspelled key or a value of
    the wrong type is rejected when the configuration is composed.
    """

    name: str = ""
    max_steps: int = 40
    """The deadline, in steps."""

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Raise UserError on a parameter out of range (each subclass adds its own)."""
        if not 1 <= self.max_steps <= MAX_STEPS:
            raise UserError(
                f"protocol.max_steps is {self.max_steps}: give a whole number of steps from 1 to "
                f"{MAX_STEPS} (MAX_STEPS)"
            )


class Protocol:
    """A bargaining protocol: who speaks when, and when an issue is settled.

    Subclasses set `name` and `Config` (a dataclass extending `ProtocolConfig`), read their
    parameters from `self.config`, and implement `step`, which advances every unfinished
    replication of the model by one step, reading the scenario's numbers from `model.parameters`
    (per replication in a batch of variants). A step sets `model.positions` (actors x issues, or
    replications x actors x issues where variants make them differ),
    `model.text` and `model.proposer` (the actor whose text is on the table, or -1 for the table
    itself), and closes issues with `model.close`.
    """

    name: ClassVar[str] = ""
    Config: ClassVar[type[ProtocolConfig]] = ProtocolConfig
    deterministic: ClassVar[bool] = False
    """Whether the protocol draws nothing at random, so that every replication of a negotiation
    is the same: a batch then runs one negotiation and repeats it (`sim.studies.batch`)."""
    divides_budgets: ClassVar[bool] = False
    """Whether the protocol handles division issues (shares of a budget that sum to one)."""

    def __init__(self, config: ProtocolConfig | None = None) -> None:
        self.config = config if config is not None else self.Config(name=self.name)
        self.max_steps = int(self.config.max_steps)

    def check(self, scenario: Scenario) -> None:
        """Raise UserError when the scenario needs what this protocol does not do."""
        divisions = scenario.divisions()
        if divisions and not self.divides_budgets:
            raise UserError(
                f"protocol {self.name} does not divide budgets, and issue '{next(iter(divisions))}' "
                "is a division: use protocol=alternating"
            )

    def setup(self, model: Talks) -> None:
        """Prepare per-run state once the actors exist (nothing by default)."""

    def step(self, model: Talks) -> None:
        raise NotImplementedError


def recognised(
    recognition: Recognition, count: int, step: int, draws: np.ndarray, cumulative_share: np.ndarray
) -> np.ndarray:
    """Which of `count` signatories proposes at `step` in each replication: in turn (`rotate`),
    uniformly at random, or with probability in proportion to capability (`cumulative_share`);
    `draws` holds each step's uniform draw per replication."""
    if recognition == Recognition.rotate:
        return np.full(len(draws[step - 1]), (step - 1) % count)
    draw = draws[step - 1]
    if recognition == Recognition.random:
        return np.minimum((draw * count).astype(int), count - 1)
    passed = sum(cumulative_share[..., k] <= draw for k in range(count))
    return np.minimum(passed, count - 1)
