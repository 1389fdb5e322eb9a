"""Per-replication values in memory or on disk, and their statistics read back in blocks
(`sim.outputs.store`); a batch's tally gathered chunk by chunk (`sim.outputs.tally`); and a run
written into its folder chunk by chunk (`sim.studies.run.run_into`), which must give the same
files as the same run held whole."""

from __future__ import annotations

import json
import resource

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import sim
from sim.outputs import store as store_module
from sim.outputs.files import temporary_files
from sim.outputs.store import FileStore, MemoryStore, extremes, histogram, mean, quantiles, sd
from sim.outputs.summary import summarize
from sim.outputs.tally import Tally
from sim.studies.batch import run_batch
from sim.studies.run import run_into, simulate, write_run

PROBABILITIES = [0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0, 0.333]

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 37 values and ranges sorted from 50 values on: every path of the selection runs."""
    monkeypatch.setattr(store_module, "BLOCK", 37)
    monkeypatch.setattr(store_module, "SORTED_AT_MOST", 50)


def stored(values: np.ndarray, parts: int = 3) -> MemoryStore:
    store = MemoryStore()
    for part in np.array_split(values, parts):
        store.add("x", part)
    return store


@pytest.mark.usefixtures("small_blocks")
@given(arrays(np.float64, st.integers(1, 400), elements=finite))
def test_quantiles_are_numpys_exactly(values):
    assert quantiles(stored(values), "x", PROBABILITIES) == np.quantile(values, PROBABILITIES).tolist()


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize(
    "values",
    [
        np.zeros(500),
        np.r_[np.full(300, 0.25), np.full(300, -0.0), np.full(300, 0.0)],
        np.r_[np.arange(200) * 1e-310, -np.arange(200) * 1e-310],
        np.linspace(-1e300, 1e300, 333),
    ],
    ids=["all equal", "ties and signed zeros", "subnormal", "huge"],
)
def test_quantiles_of_ties_and_extreme_values(values):
    assert quantiles(stored(values), "x", PROBABILITIES) == np.quantile(values, PROBABILITIES).tolist()


def test_a_quantity_without_values_has_no_statistics():
    store = MemoryStore()
    store.add("x", np.empty(0))
    assert quantiles(store, "x", [0.5]) is None and mean(store, "x") is None and extremes(store, "x") is None
    assert sd(store, "y") is None and store.count("y") == 0


@pytest.mark.usefixtures("small_blocks")
def test_statistics_match_numpy_and_do_not_depend_on_how_values_were_added(tmp_path):
    values = np.random.default_rng(3).normal(0.4, 0.2, 1000)
    whole, parts = stored(values, 1), stored(values, 17)
    edges = np.linspace(-1, 2, 31)
    with FileStore(tmp_path) as on_disk:
        for part in np.array_split(values, 5):
            on_disk.add("x", part)
        found = [
            (mean(s, "x"), sd(s, "x"), extremes(s, "x"), quantiles(s, "x", PROBABILITIES))
            for s in (whole, parts, on_disk)
        ]
        counts = histogram(on_disk, "x", edges)
    assert found[0] == found[1] == found[2]
    centre, spread, ends, _ = found[0]
    assert centre == pytest.approx(values.mean(), rel=1e-12)
    assert spread == pytest.approx(values.std(ddof=1), rel=1e-12)
    assert ends == (values.min(), values.max())
    np.testing.assert_array_equal(counts, np.histogram(values, edges)[0])


@pytest.fixture
def few_open_files():
    """A process that may open 64 files at once, for the test."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))
    yield 64
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_file_store_holds_more_quantities_than_a_process_may_open_files(tmp_path, few_open_files):
    with FileStore(tmp_path) as store:
        for chunk in range(2):
            for number in range(2 * few_open_files):
                store.add(str(number), np.full(2, float(number + chunk)))
        assert [block.tolist() for block in store.blocks("7")] == [[7.0, 7.0, 8.0, 8.0]]
    assert not list(tmp_path.iterdir())


def test_a_file_store_leaves_no_file(tmp_path):
    with FileStore(tmp_path) as store:
        store.add("a", np.arange(10.0))
        store.add("b", np.arange(3.0))
        assert len(temporary_files(tmp_path)) == 2
        assert next(iter(store.blocks("a"))).tolist() == list(range(10))
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("protocol", ["alternating", "mediated", "package"])
def test_a_tally_gathered_chunk_by_chunk_summarizes_as_the_whole_batch(protocol):
    talks = sim.load("astana7", protocol=protocol)
    outcome = run_batch(talks.scenario, talks.protocol, np.arange(300))
    tally = Tally(outcome.scenario, outcome.protocol)
    for part in np.array_split(np.arange(300), [1, 7, 150, 151]):
        tally.add(outcome.select(part))
    assert summarize(tally) == summarize(outcome)


def test_the_tally_of_a_division_summarizes_as_the_whole_batch():
    talks = sim.load("baron_ferejohn")
    outcome = run_batch(talks.scenario, talks.protocol, np.arange(120))
    tally = Tally(outcome.scenario, outcome.protocol)
    for part in np.array_split(np.arange(120), 4):
        tally.add(outcome.select(part))
    summary = summarize(tally)
    assert summary == summarize(outcome)
    assert any("mean_share" in issue for issue in summary["issues"].values())


@pytest.mark.parametrize("replications", [1, 20_000])
def test_a_run_written_chunk_by_chunk_gives_the_files_of_the_run_held_whole(tmp_path, replications):
    talks = sim.load("astana7", seed=11, replications=replications, plots=False)
    streamed = run_into(talks, tmp_path / "streamed")
    held = write_run(simulate(talks), tmp_path / "held")
    for name in ("replications.csv", "summary.json"):
        assert (tmp_path / "streamed" / name).read_bytes() == (held / name).read_bytes()
    assert json.loads((held / "summary.json").read_text()) == json.loads(json.dumps(streamed))
    assert sorted(p.name for p in (tmp_path / "streamed").iterdir()) == sorted(p.name for p in held.iterdir())
