"""Shared fixtures: configurations composed the way the command line composes them."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from omegaconf import DictConfig

from sim import NegotiationModel
from sim.cli import execute
from sim.core.scenario import Scenario
from sim.protocols import ProtocolConfig
from sim.setup.compose import compose_config
from sim.setup.job import job_from_config

DATA = Path(__file__).resolve().parents[1] / "data"
"""The published tables the tests read, kept in the repository with their sources (data/README.md)."""


def compose(*overrides: str) -> DictConfig:
    return compose_config(list(overrides))


def build(cfg: DictConfig) -> tuple[Scenario, ProtocolConfig]:
    """The scenario and protocol configuration of a composed configuration."""
    job = job_from_config(cfg)
    return job.scenario, job.protocol


def run_and_write(cfg: DictConfig, folder: Path) -> dict[str, Any]:
    """Run a composed configuration and write its folder, as the command line does; the summary."""
    return execute(job_from_config(cfg), folder)


def make_model(
    *overrides: str, scenario: str = "astana7", seeds: Sequence[int] | int = 0, trace: bool = False
) -> NegotiationModel:
    """A model of `scenario` with the given overrides (Hydra syntax), not yet run."""
    talks, protocol = build(compose(f"scenario={scenario}", *overrides))
    return NegotiationModel(talks, protocol, seeds=np.atleast_1d(seeds), record_trace=trace)


@pytest.fixture
def astana_run():
    """One traced run of astana7 with seed 0."""
    return make_model(trace=True).run()


set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "astana-sim-hypothesis")
"""Hypothesis's caches (of the constants in the code) go to the system's temporary folder, not the
repository: no `.hypothesis` folder appears."""
settings.register_profile(
    "ci",
    max_examples=50,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "nightly",
    max_examples=2500,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
"""Hypothesis's profile: `ci` (default) is derandomized, so every run draws the same examples;
`nightly` (HYPOTHESIS_PROFILE=nightly) draws thousands per property, afresh each time. Neither
keeps a `.hypothesis` database."""
