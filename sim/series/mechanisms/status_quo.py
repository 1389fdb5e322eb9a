"""Status quo: an agreed text stays in force, so no agreement on its issue costs less afterwards.

Sources: the reference point (`rp`) of the DEU III data set, the status quo that no decision leaves
in place (Thomson, Stokman, Achen & König, *The European Union Decides*, 2006); Tsebelis, *Veto
Players* (2002), on the status quo as the reversion point. Once an issue has been agreed (a
partial agreement counts half), what no agreement on it costs every actor is multiplied by
1 - (1 - gamma) a, where a is the highest level agreed so far and gamma (`status_quo`) the share of
the stalemate's cost that remains while the earlier text holds: a further step on an issue
already settled is less pressing than the first.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.series.mechanisms.base import Mechanism
from sim.series.spec import SeriesSpec
from sim.series.state import Past, RoundState


def agreed_level(past: Sequence[Past], n_issues: int) -> np.ndarray:
    """Per issue, the highest level agreed so far (1 yes, 0.5 partial, 0 never)."""
    level = np.zeros(n_issues)
    for round_ in past:
        level = np.fmax(level, np.nan_to_num(round_.outcome, nan=0.0))
    return level


class StatusQuo(Mechanism):
    name = "status_quo"
    parameter = "status_quo"
    source = "Thomson, Stokman, Achen & König (2006); Tsebelis (2002)"

    def prepare(self, spec: SeriesSpec, state: RoundState, past: Sequence[Past], value: float) -> None:
        level = agreed_level(past, state.cost.shape[1])
        state.cost *= (1.0 - (1.0 - value) * level)[None, :]
