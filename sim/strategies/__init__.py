"""The library of negotiator strategies, chosen per actor by `scenario.actors.A.strategy`."""

from __future__ import annotations

from enum import StrEnum

from sim.strategies.baron_ferejohn import BaronFerejohn
from sim.strategies.base import Strategy
from sim.strategies.subgame_perfect import SubgamePerfect
from sim.strategies.time_dependent import TimeDependent


class StrategyName(StrEnum):
    """The strategies an actor can follow (one module each in this package)."""

    time_dependent = "time_dependent"
    subgame_perfect = "subgame_perfect"
    baron_ferejohn = "baron_ferejohn"


STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls for cls in (TimeDependent, SubgamePerfect, BaronFerejohn)
}
