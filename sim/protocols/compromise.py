"""The compromise model: the capability-and-salience-weighted mean of the ideal points, in one shot.

Sources: C. H. Achen (2006), "Evaluating political decision-making models", in Thomson, Stokman,
Achen & König (eds.), The European Union Decides, Cambridge UP, ch. 10; F. N. Stokman and the
decide exchange model (repository foarsitter/decide-exchange-model), whose "Nash" formula it is.

On issue k the text is

    x_k = Σ_i c_i s_ik x*_ik / Σ_i c_i s_ik

over the present actors, with c_i s_ik = `Scenario.weights()` (capability times stated salience);
it minimises Σ_i c_i s_ik (x - x*_ik)², and is the benchmark every forecasting protocol is
compared with. Where no present actor cares about an issue (every weight zero) the text is the
plain mean of their ideal points. The text is the forecast (`model.forecast`); it is put once to
the signatories, as at their deadline (tau = 1), and is agreed on every issue where all of them
accept it. The talks end after step 1. In a batch of variants the text is worked out per replication.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.core.means import weighted_position
from sim.model.model import TABLE, Talks
from sim.protocols.base import Protocol, ProtocolConfig


@dataclass
class CompromiseConfig(ProtocolConfig):
    name: str = "compromise"
    max_steps: int = 1
    """One step: the text is put to the signatories once, as at their deadline."""


class Compromise(Protocol):
    """One text per issue, the weighted mean of the ideal points, accepted or not in one step."""

    name = "compromise"
    deterministic = True
    Config = CompromiseConfig

    def setup(self, model: Talks) -> None:
        numbers = model.parameters
        present = model.negotiation.present[:, None]
        self.ideals = np.where(present, numbers.ideal, np.nan)
        self.text = weighted_position(numbers.ideal, numbers.weights(), present)

    def step(self, model: Talks) -> None:
        active = ~model.finished
        model.positions = self.ideals.copy()
        model.proposer = np.full(model.n_replications, TABLE)
        model.text = np.where(model.open, self.text, model.text)
        model.forecast = np.where(active[:, None], self.text, model.forecast)
        model.accepting = np.stack(model.signatories.map("accepts", model.text, 1.0), axis=1)
        model.close(active[:, None] & model.open & model.accepting.all(axis=1))
        model.finish(active)
