"""A procedural fallback within a round: where the substantive text fails, a narrower one may pass.

Sources: Zartman & Berman, *The Practical Negotiator* (1982): negotiation moves from a formula to
its details, and a round can end with the formula agreed and the details left; Fisher,
"Fractionating conflict" (1964): a procedure instead of a settlement. The record's partial
outcomes are such texts (a working group's regulation without releases, R2 detainees; a concept
paper, R2 humanitarian; a statement without the punishment mechanism, R3 ceasefire monitoring).
Where an issue is not agreed, the same table negotiates a procedural text on it, whose stake is
the substantive one's times `fallback_stake`; a procedural agreement counts half (the record's
`partial`), so an issue's forecast is P(substantive) + P(procedural only) / 2.
"""

from __future__ import annotations

import dataclasses

from sim.series.mechanisms.base import Mechanism
from sim.series.state import RoundState


class ProceduralFallback(Mechanism):
    name = "fallback"
    parameter = "fallback_stake"
    source = "Zartman & Berman (1982); Fisher (1964)"

    @staticmethod
    def narrower(state: RoundState, value: float) -> RoundState:
        """The actors facing the procedural text: every stake times `value`."""
        return dataclasses.replace(state, stake=state.stake * value)
