"""What every between-round mechanism provides: a name, the free parameter it reads, its source,
and how it changes the actors before a round (`prepare`) or the outcome of a round (`combine`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from sim.core.scenario import Scenario
from sim.series.spec import SeriesSpec
from sim.series.state import Past, RoundState


class Mechanism:
    """A mechanism from the literature that changes a negotiation between rounds."""

    name: ClassVar[str] = ""
    parameter: ClassVar[str | None] = None
    """The free parameter it reads (declared with its range in the scenario), or None."""
    source: ClassVar[str] = ""

    def prepare(self, spec: SeriesSpec, state: RoundState, past: Sequence[Past], value: float) -> None:
        """Change the actors before the next round, from the rounds before it (nothing by default)."""

    def combine(
        self, spec: SeriesSpec, agreed: np.ndarray, scenario: Scenario, number: int, value: float
    ) -> np.ndarray:
        """Change which issues round `number` agrees (negotiations x the issues of its `scenario`);
        unchanged by default."""
        return agreed
