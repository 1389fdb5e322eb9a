"""Ripeness: a mutually hurting stalemate makes no agreement costlier as failed rounds pass.

Source: I. W. Zartman, *Ripe for Resolution* (1989), and "Ripeness: the hurting stalemate and
beyond" (2000). The stalemate S before a round is the sum, over the earlier rounds and the issues
on their agendas, of what was not agreed (1 for no, 0.5 for partial); every actor's value of no
agreement (its reservation) falls to r (1 - rho)^S, rho being `ripeness`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.series.mechanisms.base import Mechanism
from sim.series.spec import SeriesSpec
from sim.series.state import Past, RoundState


def stalemate(past: Sequence[Past]) -> float:
    """What the earlier rounds left unagreed, summed over their agendas."""
    return float(sum(np.nansum(1.0 - round_.outcome) for round_ in past))


class Ripeness(Mechanism):
    name = "ripeness"
    parameter = "ripeness"
    source = "Zartman (1989, 2000)"

    def prepare(self, spec: SeriesSpec, state: RoundState, past: Sequence[Past], value: float) -> None:
        state.reservation = state.reservation * (1.0 - value) ** stalemate(past)
