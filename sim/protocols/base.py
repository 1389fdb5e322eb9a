"""What every protocol provides: a name, a deadline and a step that moves the talks on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from sim.setup.schema import ProtocolConf
from sim.errors import UserError

if TYPE_CHECKING:
    from sim.model.model import NegotiationModel
    from sim.core.scenario import Scenario


class Protocol:
    """A bargaining protocol: who speaks when, and when an issue is settled.

    Subclasses set `name` and `Config` (a dataclass extending `ProtocolConf`: the schema Hydra
    checks `conf/protocol/<name>.yaml` against), read their parameters in `__init__`, and
    implement `step`, which advances every unfinished replication of the model by one step.
    A step sets `model.positions` (actors x issues), `model.text` and `model.proposer` (the
    actor whose text is on the table, or -1 for the table itself), and closes issues with
    `model.close`.
    """

    name: ClassVar[str] = ""
    Config: ClassVar[type[ProtocolConf]] = ProtocolConf
    divides_budgets: ClassVar[bool] = False
    """Whether the protocol handles division issues (shares of a budget that sum to one)."""

    def __init__(self, max_steps: int = 40, **_: Any) -> None:
        if int(max_steps) < 1:
            raise UserError(f"protocol.max_steps is {max_steps}: give a whole number of steps, 1 or more")
        self.max_steps = int(max_steps)

    def check(self, scenario: Scenario) -> None:
        """Raise UserError when the scenario needs what this protocol does not do."""
        divisions = scenario.divisions()
        if divisions and not self.divides_budgets:
            raise UserError(
                f"protocol {self.name} does not divide budgets, and issue '{next(iter(divisions))}' "
                "is a division: use protocol=alternating"
            )

    def setup(self, model: NegotiationModel) -> None:
        """Prepare per-run state once the actors exist (nothing by default)."""

    def step(self, model: NegotiationModel) -> None:
        raise NotImplementedError
