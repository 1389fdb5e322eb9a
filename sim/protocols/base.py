"""What every protocol provides: a name, a deadline and a step that moves the talks on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from sim.model import NegotiationModel


class Protocol:
    """A bargaining protocol: who speaks when, and when an issue is settled.

    Subclasses set `name`, read their parameters from the configuration in `__init__`, and
    implement `step`, which advances every unfinished replication of the model by one step.
    """

    name: ClassVar[str] = ""

    def __init__(self, max_steps: int = 40, **_: Any) -> None:
        self.max_steps = int(max_steps)

    def setup(self, model: NegotiationModel) -> None:
        """Prepare per-run state once the actors exist (nothing by default)."""

    def step(self, model: NegotiationModel) -> None:
        raise NotImplementedError
