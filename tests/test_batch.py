"""Monte Carlo replications: one implementation for one run and for a batch, flat memory."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from conftest import build, compose, run_and_write

import sim
import sim.studies.batch as batch_module
from sim import NegotiationModel
from sim.core.variants import Variants
from sim.errors import UserError
from sim.outputs.outcome import Outcome
from sim.outputs.summary import summarize, wilson_interval
from sim.protocols import PROTOCOLS, make_protocol
from sim.studies.batch import chunk_size, run_batch


def astana(*overrides: str):
    return build(compose("scenario=astana7", *overrides))


def test_replication_i_equals_a_single_run_with_its_seed():
    scenario, protocol_cfg = astana("protocol.recognition=random")
    seeds = 100 + np.arange(40)
    batch = run_batch(scenario, protocol_cfg, seeds)
    for i in (0, 7, 39):
        single = NegotiationModel(scenario, make_protocol(protocol_cfg), seeds=[int(seeds[i])]).run()
        assert summarize(batch.select(i)) == summarize(Outcome.of(single))


def test_chunks_do_not_change_the_numbers(monkeypatch):
    scenario, protocol_cfg = astana()
    whole = run_batch(scenario, protocol_cfg, np.arange(300))
    monkeypatch.setattr("sim.studies.batch.CELLS_PER_CHUNK", 64 * scenario.n_actors * scenario.n_columns)
    assert chunk_size(scenario) == 64
    chunked = run_batch(scenario, protocol_cfg, np.arange(300))
    np.testing.assert_array_equal(whole.value, chunked.value)
    np.testing.assert_array_equal(whole.utilities, chunked.utilities)


@pytest.mark.parametrize("trace", [False, True])
def test_chunks_run_in_processes_give_the_same_numbers_and_trace(monkeypatch, trace):
    scenario, protocol_cfg = astana("protocol.recognition=random")
    monkeypatch.setattr("sim.studies.batch.CELLS_PER_CHUNK", 64 * scenario.n_actors * scenario.n_columns)
    seeds = 5 + np.arange(200)
    alone = run_batch(scenario, protocol_cfg, seeds, trace=trace)
    pooled = run_batch(scenario, protocol_cfg, seeds, trace=trace, workers=2)
    for name in batch_module.ARRAYS:
        np.testing.assert_array_equal(getattr(alone, name), getattr(pooled, name))
        assert getattr(pooled, name).dtype == batch_module.ARRAYS[name]
    if trace:
        assert alone.trace is not None and alone.trace.equals(pooled.trace)
        assert sorted(set(pooled.trace["seed"])) == seeds.tolist()


def test_variants_run_in_processes_give_each_variant_its_numbers(monkeypatch):
    scenario, protocol_cfg = astana()
    monkeypatch.setattr("sim.studies.batch.CELLS_PER_CHUNK", 64 * scenario.n_actors * scenario.n_columns)
    reservation = np.tile(scenario.reservation, (150, 1))
    reservation[:, scenario.actors.index("iran")] = np.linspace(0.0, 0.6, 150)
    changes = Variants(reservation=reservation)
    alone = run_batch(scenario, protocol_cfg, np.arange(150), variants=changes)
    pooled = run_batch(scenario, protocol_cfg, np.arange(150), variants=changes, workers=3)
    np.testing.assert_array_equal(alone.agreed, pooled.agreed)
    np.testing.assert_array_equal(alone.value, pooled.value)
    assert 0 < pooled.agreed[:, scenario.column_names.index("detainees")].mean() < 1


def test_workers_out_of_range_are_refused_and_zero_means_every_core():
    assert sim.load("astana7", workers=0).workers == len(os.sched_getaffinity(0))
    with pytest.raises(
        UserError, match=r"workers is -1: give 0 \(one per core\) or a whole number from 1 to 256"
    ):
        sim.load("astana7", workers=-1)


def test_wilson_interval_closed_form():
    low, high = wilson_interval(np.array([0, 50, 100]), 100)
    assert low[0] == pytest.approx(0.0) and high[0] == pytest.approx(0.03699, abs=1e-4)
    assert low[1] == pytest.approx(0.40383, abs=1e-4) and high[1] == pytest.approx(0.59617, abs=1e-4)
    assert high[2] == pytest.approx(1.0)


def test_batch_summary_reports_probabilities_with_intervals():
    scenario, protocol_cfg = astana()
    batch = run_batch(scenario, protocol_cfg, np.arange(200))
    summary = summarize(batch)
    assert summary["replications"] == 200 and summary["seeds"] == [0, 199] and summary["seed"] == 0
    for name, issue in summary["issues"].items():
        k = scenario.column_names.index(name)
        assert issue["agreement_probability"] == pytest.approx(batch.agreed[:, k].mean())
        low, high = issue["interval"]
        assert low <= issue["agreement_probability"] <= high
    assert summary["issues"]["detainees"]["agreement_probability"] == 0.0
    assert summary["issues"]["demining"]["value"]["median"] is not None
    assert summary["record"]["match_probability"] >= 0.8
    assert summary["record"]["issues"]["demining"] >= summary["record"]["match_probability"]
    russia = batch.utilities[:, scenario.index("russia")]
    utility = summary["utilities"]["russia"]
    assert utility["mean"] == pytest.approx(russia.mean()) and utility["sd"] == pytest.approx(
        russia.std(ddof=1)
    )
    low, high = utility["interval"]
    assert low < utility["mean"] < high
    assert summary["steps"]["min"] <= summary["steps"]["mean"] <= summary["steps"]["max"]
    assert summary["steps"]["mean"] == pytest.approx(batch.end_step.mean())
    assert summary["measured_replications"] == 200


def test_select_gives_the_outcome_of_a_subset_of_replications():
    scenario, protocol_cfg = astana()
    batch = run_batch(scenario, protocol_cfg, np.arange(10, 16), trace=True)
    subset = batch.select([4, 1])
    assert list(subset.seeds) == [14, 11] and len(subset) == 2
    np.testing.assert_array_equal(subset.value, batch.value[[4, 1]])
    np.testing.assert_array_equal(subset.end_step, batch.end_step[[4, 1]])
    assert set(subset.trace["seed"]) == {11, 14}
    one = batch.select(2)
    assert len(one) == 1 and "seed" not in one.trace and len(one.trace) == (batch.trace["seed"] == 12).sum()


def keys(tree: object) -> object:
    """The keys of a nested summary, recursively, with every leaf replaced by its kind; a
    `proposer` mapping, keyed by whoever proposed the agreed texts, counts as one leaf."""
    if isinstance(tree, dict):
        return {key: "shares" if key == "proposer" else keys(value) for key, value in tree.items()}
    return "list" if isinstance(tree, list) else "leaf"


@pytest.mark.parametrize("scenario", ["astana7", "baron_ferejohn"])
def test_a_single_run_and_a_batch_of_one_share_the_schema_of_a_batch(scenario):
    talks, protocol_cfg = build(compose(f"scenario={scenario}"))
    single = summarize(Outcome.of(NegotiationModel(talks, make_protocol(protocol_cfg), seeds=[3]).run()))
    batch = run_batch(talks, protocol_cfg, np.arange(3, 23))
    assert keys(single) == keys(summarize(batch.select(0))) == keys(summarize(batch))
    assert single == summarize(batch.select(0))


def test_the_summary_of_one_replication_is_its_own_numbers():
    scenario, protocol_cfg = astana(
        "scenario.actors.opposition.reservation=0.95", "scenario.actors.opposition.patience=2"
    )
    outcome = run_batch(scenario, protocol_cfg, [4])
    summary = summarize(outcome)
    assert summary["replications"] == 1 and summary["seeds"] == [4, 4]
    assert summary["steps"] == {"mean": 2.0, "min": 2, "max": 2}
    for k, name in enumerate(scenario.column_names):
        issue = summary["issues"][name]
        agreed = bool(outcome.agreed[0, k])
        assert issue["agreement_probability"] == float(agreed)
        assert issue["interval"] == pytest.approx([float(x) for x in wilson_interval(int(agreed), 1)])
        value = float(outcome.value[0, k]) if agreed else None
        assert issue["value"] == {
            "mean": value,
            "sd": None,
            "q05": value,
            "q25": value,
            "median": value,
            "q75": value,
            "q95": value,
        }
        step = int(outcome.agreed_step[0, k]) if agreed else None
        assert issue["step"] == {"mean": step, "min": step, "max": step}
    for i, actor in enumerate(scenario.actors):
        u = float(outcome.utilities[0, i])
        assert summary["utilities"][actor] == {"mean": u, "interval": [u, u], "sd": None}
    assert summary["walk_out_probability"] == {"government": 0.0, "opposition": 1.0}
    assert summary["walk_out_step"] == {"government": None, "opposition": 2.0}


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


@pytest.mark.parametrize("protocol", [name for name, cls in PROTOCOLS.items() if cls.deterministic])
def test_a_deterministic_protocol_runs_once_and_repeats_what_every_seed_would_give(protocol, monkeypatch):
    job = sim.load("astana7", protocol=protocol)
    every_seed = run_batch(job.scenario, job.protocol, np.arange(6), trace=True)  # the full path
    runs = []
    original = batch_module.Talks

    def counting(*args, **kwargs):
        runs.append(len(args[2]))
        return original(*args, **kwargs)

    monkeypatch.setattr(batch_module, "Talks", counting)
    once = run_batch(job.scenario, job.protocol, np.arange(6))
    assert runs == [1]
    for name in ("agreed", "value", "agreed_step", "utilities", "end_step", "forecast"):
        np.testing.assert_array_equal(getattr(once, name), getattr(every_seed, name))
    summary = sim.run(job, replications=50).summary
    assert summary["deterministic"] is True
    for issue in summary["issues"].values():
        low, high = issue["interval"]
        assert low == high == issue["agreement_probability"]
