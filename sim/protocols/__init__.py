"""The library of bargaining protocols, chosen by the `protocol` config group."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.errors import UserError
from sim.protocols.alternating import AlternatingOffers
from sim.protocols.base import Protocol
from sim.protocols.compromise import Compromise
from sim.protocols.eum import ExpectedUtilityChallenges
from sim.protocols.mediated import SingleNegotiatingText

PROTOCOLS: dict[str, type[Protocol]] = {
    cls.name: cls for cls in (AlternatingOffers, SingleNegotiatingText, Compromise, ExpectedUtilityChallenges)
}


def make_protocol(cfg: Mapping[str, Any]) -> Protocol:
    """Build the protocol a configuration names, with its parameters."""
    params = dict(cfg)
    name = params.pop("name", None)
    if name not in PROTOCOLS:
        raise UserError(f"unknown protocol '{name}': choose one of {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name](**params)
