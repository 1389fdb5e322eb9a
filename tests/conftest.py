"""Shared fixtures: compose configurations the way the command line does."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from sim.cli import _compose, build
from sim.setup.schema import register_configs
from sim.model.model import NegotiationModel
from sim.protocols import make_protocol

register_configs()


def compose(*overrides: str):
    return _compose(list(overrides))


def make_model(
    *overrides: str, scenario: str = "astana7", seeds: Sequence[int] | int = 0, trace: bool = False
) -> NegotiationModel:
    """A model of `scenario` with the given overrides (Hydra syntax), not yet run."""
    talks, protocol_cfg = build(compose(f"+scenario={scenario}", *overrides))
    return NegotiationModel(
        talks, make_protocol(protocol_cfg), seeds=np.atleast_1d(seeds), record_trace=trace
    )


@pytest.fixture
def astana_run():
    """One traced run of astana7 with seed 0."""
    return make_model(trace=True).run()
