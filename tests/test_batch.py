"""Monte Carlo replications: one implementation for one run and for a batch, flat memory."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import build, compose, run_and_write

from sim import NegotiationModel
from sim.outputs.outcome import Outcome
from sim.outputs.summary import summarize, summarize_batch, wilson_interval
from sim.protocols import make_protocol
from sim.studies.batch import chunk_size, run_batch


def astana(*overrides: str):
    return build(compose("scenario=astana7", *overrides))


def test_replication_i_equals_a_single_run_with_its_seed():
    scenario, protocol_cfg = astana("protocol.recognition=random")
    seeds = 100 + np.arange(40)
    batch = run_batch(scenario, protocol_cfg, seeds)
    for i in (0, 7, 39):
        single = NegotiationModel(scenario, make_protocol(protocol_cfg), seeds=[int(seeds[i])]).run()
        assert summarize(batch, i) == summarize(Outcome.of(single))


def test_chunks_do_not_change_the_numbers(monkeypatch):
    scenario, protocol_cfg = astana()
    whole = run_batch(scenario, protocol_cfg, np.arange(300))
    monkeypatch.setattr("sim.studies.batch.CELLS_PER_CHUNK", 64 * scenario.n_actors * scenario.n_columns)
    assert chunk_size(scenario) == 64
    chunked = run_batch(scenario, protocol_cfg, np.arange(300))
    np.testing.assert_array_equal(whole.value, chunked.value)
    np.testing.assert_array_equal(whole.utilities, chunked.utilities)


def test_wilson_interval_closed_form():
    low, high = wilson_interval(np.array([0, 50, 100]), 100)
    assert low[0] == pytest.approx(0.0) and high[0] == pytest.approx(0.03699, abs=1e-4)
    assert low[1] == pytest.approx(0.40383, abs=1e-4) and high[1] == pytest.approx(0.59617, abs=1e-4)
    assert high[2] == pytest.approx(1.0)


def test_batch_summary_reports_probabilities_with_intervals():
    scenario, protocol_cfg = astana()
    batch = run_batch(scenario, protocol_cfg, np.arange(200))
    summary = summarize_batch(batch, 0)
    assert summary["replications"] == 200 and summary["seeds"] == [0, 199]
    for name, issue in summary["issues"].items():
        k = scenario.column_names.index(name)
        assert issue["agreement_probability"] == pytest.approx(batch.agreed[:, k].mean())
        low, high = issue["interval"]
        assert low <= issue["agreement_probability"] <= high
    assert summary["issues"]["detainees"]["agreement_probability"] == 0.0
    assert summary["issues"]["demining"]["value"]["median"] is not None
    assert summary["record_match_probability"] >= 0.8
    mean = summary["utilities"]["russia"]
    assert mean == pytest.approx(batch.utilities[:, scenario.index("russia")].mean())


def test_replications_run_writes_table_summary_and_plots(tmp_path):
    cfg = compose("scenario=astana7", "replications=120", "seed=5")
    summary = run_and_write(cfg, tmp_path)
    assert json.loads((tmp_path / "summary.json").read_text()) == summary
    table = (tmp_path / "replications.csv").read_text().splitlines()
    assert len(table) == 121 and table[0].startswith("seed,steps,zones.agreed")
    assert table[1].startswith("5,") and table[-1].startswith("124,")
    for plot in ("agreement.png", "values.png", "utilities.png"):
        assert (tmp_path / plot).stat().st_size > 5000
    assert not (tmp_path / "trace.csv").exists()


def test_full_trace_of_a_batch_only_when_asked(tmp_path):
    cfg = compose("scenario=astana7", "replications=3", "trace=true", "plots=false")
    run_and_write(cfg, tmp_path)
    header = (tmp_path / "trace.csv").read_text().splitlines()[0]
    assert header == "seed,step,actor,issue,quantity,value"
