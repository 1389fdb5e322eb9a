"""An actor's stated interests and the utility arithmetic on them, with no behaviour attached.

Utility. Actor i's loss on issue k from a text x is s_ik |x - x*_ik|^p; an issue left without
agreement costs it (1 - r_i) / K, an equal share of the value it puts on no agreement at all.
So u_i = 1 - sum of losses, no agreement anywhere gives exactly r_i, and salience decides how far
an actor can give way on each issue: far on the issues it cares little about, little on the rest.
A division's share columns count as one issue.

Strategies (`sim.strategies`) decide on these preferences; the Mesa agents (`sim.model.agents`)
carry them to the table. In a batch of variants (`sim.core.variants`) a parameter that differs
between replications holds one row per replication (shape (replications, 1), or (replications,
columns) for ideal points and saliences), so that every formula broadcasts against the model's
state of shape (replications, columns).
"""

from __future__ import annotations

import numpy as np

from sim.core.scenario import Scenario
from sim.core.variants import Parameters, parameters

TOLERANCE = 1e-12
"""How far a loss may exceed a bound and still count as within it (rounding)."""


class Preferences:
    """What one actor of a scenario wants: ideal points, saliences, capability, reservation.

    The numbers come from `numbers` (a batch's `Parameters`), else from the scenario. `client`
    (the actor whose utility a patron weighs) and `target` (where the actor concedes toward) are
    set when the actors take their seats at the table.
    """

    def __init__(self, scenario: Scenario, index: int, numbers: Parameters | None = None) -> None:
        numbers = numbers if numbers is not None else parameters(scenario)
        self.index = index
        self.key = scenario.actors[index]
        self.display_name = scenario.display_names[index]
        self.ideal = numbers.of_actor("ideal", index)
        self.salience = numbers.of_actor("salience", index)
        self.capability = numbers.of_actor("capability", index)
        self.reservation = numbers.of_actor("reservation", index)
        self.beta = numbers.of_actor("concession", index)
        """Concession exponent of the aspiration curve: < 1 Boulware, > 1 Conceder."""
        self.discount = numbers.of_actor("discount", index)
        self.patron_weight = numbers.of_actor("patron_weight", index)
        self.exponent = scenario.utility_exponent
        self.present = bool(scenario.present[index])
        self.patience = int(scenario.patience[index])
        """Steps of unwelcome texts a party bears before it walks out."""
        self.n_issues = scenario.n_issues
        self.disagreement_cost = (1.0 - self.reservation) / scenario.n_issues
        """What an issue left without agreement costs this actor."""
        matrix = scenario.issue_matrix()
        self._issue_matrix = matrix if scenario.n_issues < scenario.n_columns else None
        self.column_cost = self.disagreement_cost / matrix.sum(axis=0)[matrix.argmax(axis=1)]
        """The cost of no agreement spread over an issue's columns (one column unless a division)."""
        self.divisions = scenario.divisions()
        self.client: Preferences | None = None
        self.target = np.array(self.ideal, copy=True)
        """Where this actor concedes toward: the weighted ideal of the other signatories."""

    def loss(self, text: np.ndarray) -> np.ndarray:
        """Loss per issue column from `text` (any shape ending in issue columns)."""
        distance = np.abs(text - self.ideal)
        return self.salience * (distance if self.exponent == 1 else distance**self.exponent)

    def issue_total(self, per_column: np.ndarray) -> np.ndarray:
        """Each column's value summed over the columns of its issue (a division's shares count as one)."""
        if self._issue_matrix is None:
            return per_column
        return (per_column @ self._issue_matrix) @ self._issue_matrix.T

    def utility(self, values: np.ndarray, agreed: np.ndarray) -> np.ndarray:
        """Utility of an outcome: `values` where `agreed`, no agreement elsewhere."""
        cost = np.where(agreed, self.loss(values), self.column_cost)
        return 1.0 - cost.sum(axis=-1)
