"""The library of between-round mechanisms, each switchable from `series.mechanisms`."""

from __future__ import annotations

from sim.series.mechanisms.base import Mechanism
from sim.series.mechanisms.deadline import SoftDeadline
from sim.series.mechanisms.fallback import ProceduralFallback
from sim.series.mechanisms.fractionation import Fractionation
from sim.series.mechanisms.learning import Learning
from sim.series.mechanisms.leverage import Leverage
from sim.series.mechanisms.linkage import Linkage
from sim.series.mechanisms.ripeness import Ripeness
from sim.series.mechanisms.status_quo import StatusQuo

MECHANISMS: dict[str, type[Mechanism]] = {
    cls.name: cls
    for cls in (
        SoftDeadline,
        StatusQuo,
        Ripeness,
        Learning,
        Fractionation,
        Linkage,
        Leverage,
        ProceduralFallback,
    )
}
"""In the order they act before a round."""

__all__ = ["MECHANISMS", "Mechanism"]
