"""Learning: a failed round reveals where the others' limits lie, and demands move toward them.

Sources: Cross, *The Economics of Bargaining* (1969), on concession as learning about the
opponent; Chatterjee & Samuelson (1983) and Kennan & Wilson (1993, "Bargaining with private
information") on updating beliefs about the others' reservation values as offers are refused.
After each earlier round, on each issue of its agenda that was not agreed (fully), every actor at
the table moves its ideal point a share lambda (1 - outcome) of the way toward the capability-and-
salience-weighted ideal of the other signatories at the table, lambda being `learning`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.core.means import weighted_position
from sim.core.scenario import Role
from sim.series.mechanisms.base import Mechanism
from sim.series.spec import SeriesSpec
from sim.series.state import Past, RoundState


class Learning(Mechanism):
    name = "learning"
    parameter = "learning"
    source = "Cross (1969); Chatterjee & Samuelson (1983); Kennan & Wilson (1993)"

    def prepare(self, spec: SeriesSpec, state: RoundState, past: Sequence[Past], value: float) -> None:
        base = spec.base
        signatory = np.array([role == Role.signatory for role in base.roles])
        weights = base.capability[:, None] * state.salience
        for round_ in past:
            failed = round_.on_agenda & (np.nan_to_num(round_.outcome, nan=1.0) < 1.0)
            if not failed.any():
                continue
            shift = value * (1.0 - np.nan_to_num(round_.outcome, nan=1.0)) * failed
            moved = state.ideal.copy()
            for actor in np.flatnonzero(round_.present):
                others = round_.present & signatory
                others[actor] = False
                if not others.any():
                    continue
                target = weighted_position(state.ideal, weights, others[:, None])
                moved[actor] += shift * (target - state.ideal[actor])
            state.ideal = moved
