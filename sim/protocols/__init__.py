"""The library of bargaining protocols, chosen by the `protocol` config group."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.errors import UserError
from sim.protocols.alternating import AlternatingOffers
from sim.protocols.base import Protocol, ProtocolConfig
from sim.protocols.compromise import Compromise
from sim.protocols.eum import ExpectedUtilityChallenges
from sim.protocols.exchange import VoteExchange
from sim.protocols.mediated import SingleNegotiatingText
from sim.protocols.package import PackageDeal

PROTOCOLS: dict[str, type[Protocol]] = {
    cls.name: cls
    for cls in (
        AlternatingOffers,
        SingleNegotiatingText,
        Compromise,
        ExpectedUtilityChallenges,
        PackageDeal,
        VoteExchange,
    )
}


def make_protocol(config: ProtocolConfig | Mapping[str, Any]) -> Protocol:
    """Build the protocol a configuration names: its `Config` object, or a mapping of its fields."""
    if isinstance(config, ProtocolConfig):
        name, params = config.name, None
    else:
        params = dict(config)
        name = str(params.get("name"))
    if name not in PROTOCOLS:
        raise UserError(f"unknown protocol '{name}': choose one of {', '.join(PROTOCOLS)}")
    protocol = PROTOCOLS[name]
    if params is None:
        return protocol(config)  # type: ignore[arg-type]
    unknown = sorted(set(params) - set(protocol.Config.__dataclass_fields__))
    if unknown:
        raise UserError(
            f"protocol {name} has no parameter '{unknown[0]}': it has "
            f"{', '.join(protocol.Config.__dataclass_fields__)}"
        )
    return protocol(protocol.Config(**params))
