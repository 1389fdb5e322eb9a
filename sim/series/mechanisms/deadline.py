"""The soft deadline of a round in a series: no actor concedes all the way in one round.

Sources: Roth, Murnighan & Schoumaker, "The deadline effect in bargaining: some experimental
evidence" (AER 1988): concessions cluster at the real deadline; Faratin, Sierra & Jennings (1998):
a time-dependent tactic concedes to its reservation only at its own deadline. The end of a round
that another round will follow is no real deadline (the next round was set at every round's
close: R3, R5, R7 of the record), so an actor gives only a share c of its room to no agreement
in one round: what no agreement costs it is multiplied by c, `round_concession`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sim.series.mechanisms.base import Mechanism
from sim.series.spec import SeriesSpec
from sim.series.state import Past, RoundState


class SoftDeadline(Mechanism):
    name = "soft_deadline"
    parameter = "round_concession"
    source = "Roth, Murnighan & Schoumaker (1988); Faratin, Sierra & Jennings (1998)"

    def prepare(self, spec: SeriesSpec, state: RoundState, past: Sequence[Past], value: float) -> None:
        state.cost *= value
