"""The exchange protocol pinned to decide, the exchange model's reference implementation.

`tests/data/decide_<table>.json` holds decide's own results on the climate tables, written by
`benchmarks/decide_reference.py` in decide's environment, so that these tests run without it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import DATA, compose, make_model, run_and_write

from sim import NegotiationModel
from sim.core.build import build_scenario
from sim.core.means import weighted_position
from sim.core.scenario import Scenario
from sim.errors import UserError
from sim.protocols import make_protocol
from sim.protocols.exchange import INPUT_DIGITS, ExchangeConfig
from sim.protocols.exchange_model import SCALE, Market, Round, Table, play_round
from sim.tables.readers import read_table
from sim.tables.scenario import scenario_from_table

REFERENCE = Path(__file__).resolve().parent / "data"
TOLERANCE = 1e-6
"""On decide's 0-100 scale."""


@cache
def reference(name: str) -> dict[str, Any]:
    return json.loads((REFERENCE / f"decide_{name}.json").read_text())


@cache
def climate(name: str) -> Scenario:
    return scenario_from_table(read_table(DATA / "decide" / f"{name}.csv"))


def table_of(scenario: Scenario, positions: np.ndarray | None = None) -> Table:
    stake = scenario.present[:, None] & (scenario.stated_salience > 0)
    start = np.round(scenario.ideal * SCALE, INPUT_DIGITS) if positions is None else positions
    return Table(start, scenario.stated_salience, scenario.capability, stake)


@cache
def our_rounds(name: str) -> tuple[Round, ...]:
    """Ten rounds of our exchange model on the table, each from the positions the last one left."""
    scenario = climate(name)
    rounds, positions = [], None
    for _ in range(len(reference(name)["rounds"])):
        played = play_round(table_of(scenario, positions))
        rounds.append(played)
        positions = played.next_positions
    return tuple(rounds)


def named(scenario: Scenario, played: Round) -> list[tuple[str, str, str, str]]:
    return [
        (
            scenario.actors[e.first.actor],
            scenario.column_names[e.first.supply],
            scenario.actors[e.second.actor],
            scenario.column_names[e.second.supply],
        )
        for e in played.exchanges
    ]


CLIMATE_TABLES = [
    pytest.param("copenhagen", id="copenhagen"),
    pytest.param("cop21", id="cop21", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("name", CLIMATE_TABLES)
def test_every_round_realises_decides_exchanges_in_decides_order(name):
    scenario = climate(name)
    for number, (played, theirs) in enumerate(zip(our_rounds(name), reference(name)["rounds"], strict=True)):
        expected = [
            (e["first"]["actor"], e["first"]["supply"], e["second"]["actor"], e["second"]["supply"])
            for e in theirs["exchanges"]
        ]
        assert named(scenario, played) == expected, f"round {number + 1}"
        for ours, exchange in zip(played.exchanges, theirs["exchanges"], strict=True):
            for side, key in ((ours.first, "first"), (ours.second, "second")):
                assert side.position == pytest.approx(exchange[key]["position"], abs=TOLERANCE)
                assert side.vote == pytest.approx(exchange[key]["voting"], abs=TOLERANCE)
            assert ours.gain == pytest.approx(exchange["gain"], abs=TOLERANCE)


@pytest.mark.parametrize("name", CLIMATE_TABLES)
def test_every_round_ends_at_decides_outcome_and_positions(name):
    scenario = climate(name)
    stake = scenario.present[:, None] & (scenario.stated_salience > 0)
    for played, theirs in zip(our_rounds(name), reference(name)["rounds"], strict=True):
        outcome = [theirs["outcome"][issue] for issue in scenario.column_names]
        np.testing.assert_allclose(played.outcome, outcome, atol=TOLERANCE)
        for a, k in zip(*np.nonzero(stake), strict=True):
            expected = theirs["positions"][scenario.actors[a]][scenario.column_names[k]]
            assert played.next_positions[a, k] == pytest.approx(expected, abs=TOLERANCE)


def run_exchange(scenario: Scenario, seeds=(0,), **parameters: Any) -> NegotiationModel:
    protocol = make_protocol({"name": "exchange", **parameters})
    return NegotiationModel(scenario, protocol, seeds=seeds, record_trace=False).run()


def test_the_protocol_forecasts_decides_outcome_after_ten_rounds():
    name = "copenhagen"
    model = run_exchange(climate(name))
    final = reference(name)["rounds"][-1]["outcome"]
    expected = [final[issue] / SCALE for issue in climate(name).column_names]
    np.testing.assert_allclose(model.forecast[0], expected, atol=TOLERANCE / SCALE)
    assert model.end_step[0] == 10


@pytest.mark.parametrize("name", CLIMATE_TABLES)
def test_decides_random_tie_breaking_spreads_around_our_outcome(name):
    """decide by default breaks exact ties between exchanges at random: over its seeds the final
    outcome of each issue spreads by a few points. Ours, with ties in list order, lies within
    three standard deviations of decide's mean on every issue."""
    data = reference(name)
    scenario = climate(name)
    ours = our_rounds(name)[-1].outcome
    for k, issue in enumerate(scenario.column_names):
        spread = np.array(data["random_ties"]["outcome"][issue])
        assert len(spread) == data["random_ties"]["seeds"] >= 30
        assert abs(ours[k] - spread.mean()) <= 3 * spread.std(ddof=1), issue


def test_one_issue_is_no_market_and_the_forecast_is_the_compromise():
    alone = make_model("protocol=exchange", scenario="rubinstein").run()
    compromise = make_model("protocol=compromise", scenario="rubinstein").run()
    assert alone.end_step[0] == 1, "no exchange on one issue: the first round settles"
    np.testing.assert_allclose(alone.forecast, compromise.forecast, atol=1e-12)
    traded = run_exchange(climate("copenhagen"))
    start = NegotiationModel(climate("copenhagen"), make_protocol({"name": "compromise"}), record_trace=False)
    assert not np.allclose(traded.forecast, start.run().forecast, atol=0.01), "trading moves the outcome"


def test_an_exchange_makes_both_sides_gain_and_moves_toward_the_partner():
    scenario = climate("copenhagen")
    market = Market(table_of(scenario), random_rate=None)
    for exchange in market.open():
        if not exchange.allowed:
            continue
        first, second = exchange.first, exchange.second
        assert first.gain == pytest.approx(second.gain), "equal gain"
        assert first.gain > 0
        assert abs(first.vote - second.wanted) <= abs(first.position - second.wanted) + 1e-9
        assert abs(second.vote - first.wanted) <= abs(second.position - first.wanted) + 1e-9


def test_random_rates_lie_between_the_actors_limits_and_both_gain():
    scenario = climate("copenhagen")
    draws = np.random.default_rng(0).uniform(size=10_000)
    market = Market(table_of(scenario), random_rate=lambda number: float(draws[number]))
    salience = scenario.stated_salience
    rates = 0
    for exchange in market.open():
        first, second = exchange.first, exchange.second
        p, q = first.demand, first.supply
        limits = sorted(
            (
                salience[first.actor, p] / salience[first.actor, q],
                salience[second.actor, p] / salience[second.actor, q],
            )
        )
        assert limits[0] <= exchange.rate <= limits[1]
        if exchange.allowed:
            rates += 1
            assert first.gain > 0 and second.gain > 0
            assert exchange.gain == min(first.gain, second.gain)
    assert rates > 10


def test_random_rates_differ_between_seeds_and_a_batch_equals_single_runs():
    scenario = climate("copenhagen")
    batch = run_exchange(scenario, seeds=(1, 2), rate="random_rate", max_steps=3)
    singles = [run_exchange(scenario, seeds=(seed,), rate="random_rate", max_steps=3) for seed in (1, 2)]
    for row, single in enumerate(singles):
        np.testing.assert_array_equal(batch.forecast[row], single.forecast[0])
    assert not np.allclose(batch.forecast[0], batch.forecast[1])
    assert batch.positions.shape == (2, scenario.n_actors, scenario.n_columns)


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"rate": "equal"}, "protocol.rate is 'equal': choose one of equal_gain, random_rate"),
        ({"salience_weight": 1.5}, r"protocol.salience_weight is 1.5: give a share in \[0, 1\]"),
        ({"fixed_weight": -0.1}, r"protocol.fixed_weight is -0.1: give a share in \[0, 1\]"),
        ({"salience_weight": 0.7, "fixed_weight": 0.5}, "sum to 1 or less"),
    ],
)
def test_bad_parameters_end_in_one_line(parameters, message):
    with pytest.raises(UserError, match=message) as error:
        ExchangeConfig(**parameters)
    assert "\n" not in str(error.value)


def test_the_command_line_runs_exchange_on_an_imported_table(tmp_path):
    summary = run_and_write(
        compose(
            "scenario=table",
            f"scenario.path={DATA / 'decide' / 'copenhagen.csv'}",
            "protocol=exchange",
            "plots=false",
        ),
        tmp_path,
    )
    final = reference("copenhagen")["rounds"][-1]["outcome"]
    for issue, value in final.items():
        assert summary["issues"][issue]["forecast_on_source_scale"] == pytest.approx(value, abs=TOLERANCE)


def test_a_salience_whose_pull_underflows_to_zero_takes_no_part_in_the_trades():
    """Found by the nightly property run: capability 1e-100 times a subnormal salience is 0, and
    sizing a trade divided by that pull."""

    def actor(ideal: list[float], salience: list[float], capability: float) -> dict[str, Any]:
        return {
            "name": "A",
            "role": "signatory",
            "ideal": {f"issue{k}": x for k, x in enumerate(ideal)},
            "salience": {f"issue{k}": x for k, x in enumerate(salience)},
            "capability": capability,
            "reservation": 0.0,
        }

    spec = {
        "name": "underflow",
        "issues": {f"issue{k}": {"low": "none", "high": "all"} for k in range(3)},
        "actors": {
            "first": actor([0, 0, 0], [1, 0, 1], 1.0),
            "second": actor([1, 0, 1], [1, 0, 2.2e-311], 1e-100),
        },
    }
    tiny = build_scenario(spec)
    model = NegotiationModel(tiny, {"name": "exchange", "max_steps": 1}, seeds=[0]).run()
    outcome = weighted_position(tiny.ideal, tiny.capability[:, None] * tiny.salience, tiny.present[:, None])
    np.testing.assert_allclose(model.positions[1, 2], tiny.ideal[1, 2])
    np.testing.assert_allclose(model.agreed_value[0, 2], outcome[2], atol=TOLERANCE / SCALE)
