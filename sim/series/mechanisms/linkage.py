"""Linkage: the issues of a package are adopted or postponed together.

Sources: Sebenius, "Negotiation arithmetic: adding and subtracting issues and parties" (1983);
Tollison & Willett, "An economic theory of mutually advantageous issue linkages" (1979). A package
the scenario declares (with its source and the round from which it holds) is agreed in a
replication only when every one of its issues on the round's agenda is; otherwise all of them are
postponed.
"""

from __future__ import annotations

import numpy as np

from sim.core.scenario import Scenario
from sim.series.mechanisms.base import Mechanism
from sim.series.spec import SeriesSpec


class Linkage(Mechanism):
    name = "linkage"
    parameter = None
    source = "Sebenius (1983); Tollison & Willett (1979)"

    def combine(
        self, spec: SeriesSpec, agreed: np.ndarray, scenario: Scenario, number: int, value: float
    ) -> np.ndarray:
        agenda = scenario.issue_names
        agreed = agreed.copy()
        for package in spec.packages:
            members = [agenda.index(issue) for issue in package.issues if issue in agenda]
            if package.from_round <= number and len(members) >= 2:
                together = agreed[:, members].all(axis=1)
                agreed[:, members] = together[:, None]
        return agreed
