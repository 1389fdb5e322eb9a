"""Variants in one batch: replication i of a batch of variants is a single run of variant i."""

from __future__ import annotations

import re

import numpy as np
import pytest

import sim
from sim.core.variants import Variants, variants_from_keys
from sim.errors import UserError
from sim.outputs.outcome import Outcome
from sim.protocols import PROTOCOLS
from sim.studies.batch import chunk_size, run_batch

COUNT = 50


def random_keys(scenario, count: int, seed: int) -> dict[str, np.ndarray]:
    """Random stated saliences (in [0, 1], as the eum protocol needs) and reservations of every actor."""
    rng = np.random.default_rng(seed)
    keys = {}
    for actor in scenario.actors:
        for issue in scenario.issue_names:
            keys[f"scenario.actors.{actor}.salience.{issue}"] = rng.uniform(0.0, 1.0, count)
        keys[f"scenario.actors.{actor}.reservation"] = rng.uniform(0.0, 0.8, count)
    return keys


def overrides(keys: dict[str, np.ndarray], i: int) -> list[str]:
    return [f"{key}={float(values[i])!r}" for key, values in keys.items()]


def assert_same(batch: Outcome, i: int, single: Outcome) -> None:
    """Replication i of `batch` and the one replication of `single` ended exactly alike."""
    assert batch.seeds[i] == single.seeds[0]
    np.testing.assert_array_equal(batch.agreed[i], single.agreed[0])
    np.testing.assert_array_equal(batch.value[i], single.value[0])
    np.testing.assert_array_equal(batch.agreed_step[i], single.agreed_step[0])
    assert batch.end_step[i] == single.end_step[0]
    np.testing.assert_array_equal(batch.utilities[i], single.utilities[0])
    np.testing.assert_array_equal(batch.walked_out_step[i], single.walked_out_step[0])
    np.testing.assert_array_equal(batch.forecast[i], single.forecast[0])


@pytest.fixture(scope="module")
def astana_variants() -> tuple[sim.Job, dict[str, np.ndarray], np.ndarray, list[sim.Job]]:
    """The astana7 job, COUNT variants of its saliences and reservations, their seeds, and each
    variant as a job of its own, composed from overrides as the command line composes them."""
    job = sim.load("astana7")
    keys = random_keys(job.scenario, COUNT, seed=7)
    seeds = 1000 + 3 * np.arange(COUNT)
    singles = [sim.load("astana7", *overrides(keys, i)) for i in range(COUNT)]
    return job, keys, seeds, singles


@pytest.mark.slow
@pytest.mark.parametrize("protocol", list(PROTOCOLS))
def test_each_variant_of_a_batch_equals_a_single_run_of_it(astana_variants, protocol):
    job, keys, seeds, singles = astana_variants
    protocol_cfg = sim.load("astana7", protocol=protocol).protocol
    result = sim.run_variants(job.replace(protocol=protocol_cfg), keys, seeds=seeds)
    assert len(result.replications) == COUNT
    np.testing.assert_array_equal(result.replications["seed"], seeds)
    for i, single in enumerate(singles):
        alone = sim.run(single.replace(protocol=protocol_cfg, seed=int(seeds[i]))).outcome
        assert_same(result.outcome, i, alone)
    assert len(np.unique(result.outcome.utilities, axis=0)) == COUNT, "the variants differ"


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
def test_a_few_variants_equal_single_runs(protocol):
    job = sim.load("astana7", protocol=protocol)
    keys = random_keys(job.scenario, 3, seed=1)
    result = sim.run_variants(job, keys)
    np.testing.assert_array_equal(result.outcome.seeds, job.seed + np.arange(3))
    for i in range(3):
        alone = sim.run("astana7", *overrides(keys, i), protocol=protocol, seed=job.seed + i).outcome
        assert_same(result.outcome, i, alone)


def test_every_parameter_varies_per_replication():
    """Ideal points, capabilities, concessions, patron weights (zero in some variants) and
    discounts too, with random recognition and a majority rule."""
    job = sim.load("astana7", "protocol.recognition=random", "scenario.decision=majority")
    scenario, count = job.scenario, 6
    rng = np.random.default_rng(3)
    keys: dict[str, np.ndarray] = {}
    for index, actor in enumerate(scenario.actors):
        for issue in scenario.issue_names:
            keys[f"scenario.actors.{actor}.ideal.{issue}"] = rng.uniform(0, 1, count)
        keys[f"scenario.actors.{actor}.capability"] = rng.uniform(0.1, 2, count)
        keys[f"scenario.actors.{actor}.concession"] = rng.uniform(0.3, 3, count)
        keys[f"scenario.actors.{actor}.discount"] = rng.uniform(0.5, 1, count)
        if scenario.client[index] >= 0:
            keys[f"scenario.actors.{actor}.patron_weight"] = np.where(
                rng.random(count) < 0.5, 0.0, rng.uniform(0, 1, count)
            )
    result = sim.run_variants(job, keys)
    for i in range(count):
        alone = sim.run(sim.load(None, *job.overrides, *overrides(keys, i), seed=i)).outcome
        assert_same(result.outcome, i, alone)


def test_closed_forms_per_variant():
    """Rubinstein's first offer, (1 - d2) / (1 - d1 d2), for a discount pair per variant."""
    d1, d2 = np.array([0.9, 0.9, 0.5, 0.99]), np.array([0.9, 0.8, 0.7, 0.95])
    result = sim.run_variants(
        "rubinstein", {"scenario.actors.p1.discount": d1, "scenario.actors.p2.discount": d2}
    )
    np.testing.assert_allclose(result.outcome.value[:, 0], (1 - d2) / (1 - d1 * d2), atol=1e-9)
    assert (result.outcome.agreed_step[:, 0] == 1).all()


def test_a_division_varies_by_its_salience_and_discounts():
    job = sim.load("baron_ferejohn")
    rng = np.random.default_rng(5)
    keys = {f"scenario.actors.m{i}.discount": rng.uniform(0.5, 1, 4) for i in range(1, 6)}
    keys["scenario.actors.m2.salience.budget"] = rng.uniform(0.2, 2, 4)
    result = sim.run_variants(job, keys, seeds=np.array([3, 1, 4, 1]))
    for i, seed in enumerate((3, 1, 4, 1)):
        assert_same(result.outcome, i, sim.run("baron_ferejohn", *overrides(keys, i), seed=seed).outcome)


def test_chunks_slice_the_variants_with_the_seeds(monkeypatch):
    job = sim.load("astana7")
    variants = variants_from_keys(job.scenario, random_keys(job.scenario, 150, seed=2))
    seeds = np.arange(150)
    whole = run_batch(job.scenario, job.protocol, seeds, variants=variants)
    monkeypatch.setattr(
        "sim.studies.batch.CELLS_PER_CHUNK", 64 * job.scenario.n_actors * job.scenario.n_columns
    )
    assert chunk_size(job.scenario) == 64
    chunked = run_batch(job.scenario, job.protocol, seeds, variants=variants)
    np.testing.assert_array_equal(whole.value, chunked.value)
    np.testing.assert_array_equal(whole.utilities, chunked.utilities)
    np.testing.assert_array_equal(whole.end_step, chunked.end_step)


def test_whole_arrays_and_keys_give_the_same_variants():
    job = sim.load("astana7")
    reservation = np.tile(job.scenario.reservation, (5, 1))
    reservation[:, job.scenario.index("iran")] = [0.1, 0.2, 0.3, 0.4, 0.5]
    by_array = sim.run_variants(job, Variants(reservation=reservation))
    by_key = sim.run_variants(job, {"scenario.actors.iran.reservation": [0.1, 0.2, 0.3, 0.4, 0.5]})
    np.testing.assert_array_equal(by_array.outcome.utilities, by_key.outcome.utilities)
    iran = job.scenario.index("iran")
    assert not np.array_equal(by_key.outcome.utilities[0, iran], by_key.outcome.utilities[4, iran])


def test_no_variant_keeps_the_scenario():
    job = sim.load("astana7")
    result = sim.run_variants(job, {"scenario.actors.iran.reservation": [0.55, 0.55]})
    plain = sim.run(job, replications=2)
    np.testing.assert_array_equal(result.outcome.value, plain.outcome.value)
    np.testing.assert_array_equal(result.outcome.utilities, plain.outcome.utilities)


# Bad variants: the one-line messages of the command line, naming the variant


def load_error(*typed: str) -> str:
    with pytest.raises(UserError) as error:
        sim.load("astana7", *typed)
    return str(error.value)


def variant_error(key: str, values: list[float], *typed: str) -> str:
    with pytest.raises(UserError) as error:
        sim.run_variants(sim.load("astana7", *typed), {key: values})
    return str(error.value)


def test_a_value_out_of_range_names_the_key_and_the_variant():
    message = variant_error("scenario.actors.turkey.reservation", [0.3] * 17 + [1.2])
    assert message == "scenario.actors.turkey.reservation is 1.2 in variant 17: give a number in [0, 1)"


@pytest.mark.parametrize(
    ("key", "good", "bad"),
    [
        ("scenario.actors.turkey.ideal.zones", 0.5, 1.5),
        ("scenario.actors.turkey.salience.detainees", 0.5, -0.5),
        ("scenario.actors.turkey.capability", 0.5, 0.0),
        ("scenario.actors.turkey.reservation", 0.5, 1.0),
        ("scenario.actors.turkey.concession", 0.5, -1.0),
        ("scenario.actors.turkey.discount", 0.5, 0.0),
        ("scenario.actors.turkey.patron_weight", 0.5, 1.5),
        ("scenario.actors.us.patron_weight", 0.0, 0.5),
        ("scenario.actors.iran.reservation", 0.5, float("nan")),
    ],
)
def test_variants_follow_the_rules_of_a_scenario_file(key, good, bad):
    single = load_error(f"{key}={bad}")
    batch = variant_error(key, [good, good, bad])
    shown = f"{bad:g}"
    assert batch == single.replace(f" is {shown}", f" is {shown} in variant 2", 1)


@pytest.mark.parametrize(
    "key",
    [
        "scenario.actors.turky.salience.detainees",
        "scenario.actors.turkey.salience.detaines",
        "scenario.actors.turkey.ideal.detaines",
    ],
)
def test_an_unknown_actor_or_issue_reads_as_on_the_command_line(key):
    assert variant_error(key, [0.5]) == load_error(f"{key}=0.5")


@pytest.mark.parametrize(
    ("key", "values", "message"),
    [
        (
            "scenario.actors.turkey.salince.detainees",
            [0.5],
            r"unknown key 'scenario\.actors\.turkey\.salince\.detainees': 'salince' is not in "
            r"scenario\.actors\.turkey; variants vary: ideal, salience, capability, .*",
        ),
        (
            "scenario.actors.us.present",
            [0.0],
            r"scenario\.actors\.us\.present cannot vary within one batch: .*",
        ),
        ("scenario.decision", [1.0], r"scenario\.decision cannot vary within one batch: .*"),
        (
            "scenario.actors.turkey.reservation.zones",
            [0.5],
            r"unknown key .*is one number, not one per issue",
        ),
        (
            "scenario.actors.turkey.salience",
            [0.5],
            r"unknown key .*: scenario\.actors\.turkey\.salience is one number per issue: give "
            r"scenario\.actors\.turkey\.salience\.ISSUE, ISSUE one of zones, detainees, demining",
        ),
        (
            "scenario.actors.turkey.reservation",
            ["a"],
            r".* is not a sequence of numbers: give one number per variant",
        ),
    ],
)
def test_keys_that_cannot_vary_are_one_line_errors(key, values, message):
    assert re.fullmatch(message, variant_error(key, values))


def test_every_key_gives_one_value_per_variant():
    with pytest.raises(UserError, match=r"^scenario\.actors\.iran\.reservation has 2 values and .* has 3: "):
        sim.run_variants(
            "astana7",
            {
                "scenario.actors.turkey.reservation": [0.1, 0.2, 0.3],
                "scenario.actors.iran.reservation": [0.1, 0.2],
            },
        )
    with pytest.raises(UserError, match=r"^no variants"):
        sim.run_variants("astana7", {})
    with pytest.raises(UserError, match=r"^seeds has shape \(2,\): give one whole number per variant \(3\)$"):
        sim.run_variants("astana7", {"scenario.actors.iran.reservation": [0.1, 0.2, 0.3]}, seeds=[1, 2])


def test_a_batch_of_variants_keeps_no_trace():
    job = sim.load("astana7")
    variants = Variants(reservation=np.tile(job.scenario.reservation, (2, 1)))
    with pytest.raises(UserError, match=r"^a batch of variants keeps no trace"):
        run_batch(job.scenario, job.protocol, np.arange(2), trace=True, variants=variants)
