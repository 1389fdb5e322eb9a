"""Fractionation: an issue that failed returns as a narrower, procedural text.

Source: R. Fisher, "Fractionating conflict" (1964), in *International Conflict and Behavioral
Science*: a conflict split into smaller, procedural steps (a working group instead of releases)
fits inside every veto player's acceptable range. When an issue's last round on the agenda did
not agree it fully, it returns with less at stake: the cost of a text's distance from every
actor's ideal is multiplied by phi^(1 - outcome), phi being `fractionation`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.series.mechanisms.base import Mechanism
from sim.series.spec import SeriesSpec
from sim.series.state import Past, RoundState


def last_outcome(past: Sequence[Past], n_issues: int) -> np.ndarray:
    """Per issue, the outcome of the last round that had it on its agenda (NaN if none)."""
    last = np.full(n_issues, np.nan)
    for round_ in past:
        last = np.where(round_.on_agenda, round_.outcome, last)
    return last


class Fractionation(Mechanism):
    name = "fractionation"
    parameter = "fractionation"
    source = "Fisher (1964)"

    def prepare(self, spec: SeriesSpec, state: RoundState, past: Sequence[Past], value: float) -> None:
        unmet = 1.0 - np.nan_to_num(last_outcome(past, state.stake.shape[1]), nan=1.0)
        state.stake *= (value**unmet)[None, :]
