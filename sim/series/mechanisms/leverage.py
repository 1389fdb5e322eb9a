"""Leverage: a guarantor whose important issue fails holds back its consent on the issues it
cares little about, which others want.

Sources: A. A. Stein, "The politics of linkage" (World Politics, 1980), on coercive linkage: a
party ties its concession on one issue to its gain on another; M. D. McGinnis, "Issue linkage
and the evolution of international cooperation" (J. Conflict Resolution, 1986); Sebenius,
"Negotiation arithmetic" (1983). Within a round, when the text on an issue f fails, every
signatory at the table withholds its signature from each agreed issue j it weighs at no more
than lambda times f (s_ij <= lambda s_if, stated saliences as of the round), lambda being
`leverage`. The record's postponed side texts (demining in rounds 5-7, while the zones or
detainees failed) are such hostages. A withheld issue is not agreed, procedurally or otherwise.
"""

from __future__ import annotations

import numpy as np

from sim.core.scenario import Role, Scenario
from sim.series.mechanisms.base import Mechanism
from sim.series.spec import SeriesSpec
from sim.series.state import RoundState, apply_events


def withheld(agreed: np.ndarray, salience: np.ndarray, signing: np.ndarray, share: float) -> np.ndarray:
    """Per negotiation (rows of `agreed`) and issue, whether a signing actor withholds consent:
    it weighs the issue at no more than `share` times an issue that failed."""
    failed_weight = np.where(~agreed[:, None, :], salience[None, signing, :], 0.0).max(axis=2)
    hostage = salience[None, signing, :] <= share * failed_weight[:, :, None]
    return agreed & (hostage & (failed_weight[:, :, None] > 0)).any(axis=1)


class Leverage(Mechanism):
    name = "leverage"
    parameter = "leverage"
    source = "Stein (1980); McGinnis (1986); Sebenius (1983)"

    def combine(
        self, spec: SeriesSpec, agreed: np.ndarray, scenario: Scenario, number: int, value: float
    ) -> np.ndarray:
        signing = np.array([role == Role.signatory for role in scenario.roles]) & scenario.present
        stated = RoundState.of(spec.base)
        apply_events(spec, stated, number)
        columns = [spec.base.issue_names.index(issue) for issue in scenario.issue_names]
        return agreed & ~withheld(agreed, stated.salience[:, columns], signing, value)
