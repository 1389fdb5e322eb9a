"""Each protocol's own behaviour, pinned: compromise, mediated single text, expected-utility challenges.

The invariants every protocol keeps are in test_protocol_invariants.py.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest
from conftest import make_model

from sim import NegotiationModel
from sim.analysis.eum import eum_forecast
from sim.cli import preflight
from sim.core.scenario import Column, Role, Scenario
from sim.errors import UserError
from sim.outputs.outcome import Outcome
from sim.outputs.summary import summarize
from sim.protocols import make_protocol
from sim.studies.synthetic import random_scenario
from sim.tables.readers import read_table

EC_TABLE = Path(__file__).resolve().parents[1] / "data" / "bdm" / "ExampleActors_EC.csv"
EC_FORECAST = 9.363755476470846
"""The EC example's forecast under sim.analysis.eum's default convention, on the 1-10 scale (sim/eum.py)."""

ASTANA7_TABLE = {
    # from conf/scenario/astana7.yaml: capability, then (salience, ideal) on zones, detainees, demining
    "government": (0.40, (0.45, 0.35), (0.40, 0.05), (0.15, 0.75)),
    "opposition": (0.20, (0.40, 0.85), (0.45, 0.95), (0.15, 0.70)),
    "russia": (1.00, (0.50, 0.55), (0.25, 0.30), (0.25, 0.80)),
    "turkey": (0.60, (0.35, 0.70), (0.50, 0.90), (0.15, 0.70)),
    "iran": (0.50, (0.45, 0.45), (0.40, 0.10), (0.15, 0.70)),
    "un": (0.30, (0.35, 0.80), (0.40, 0.85), (0.25, 0.85)),
    "us": (0.50, (0.40, 0.75), (0.35, 0.80), (0.25, 0.80)),
    "jordan": (0.15, (0.50, 0.70), (0.25, 0.60), (0.25, 0.80)),
}
ASTANA7_ISSUES = ("zones", "detainees", "demining")
ASTANA7_COMPROMISE = {
    issue: sum(c * row[k][0] * row[k][1] for c, *row in ASTANA7_TABLE.values())
    / sum(c * row[k][0] for c, *row in ASTANA7_TABLE.values())
    for k, issue in enumerate(ASTANA7_ISSUES)
}
"""Σ c_i s_ik x*_ik / Σ c_i s_ik;
zones 0.94075 / 1.575, detainees 0.723 / 1.3325, demining 0.57525 / 0.7425."""


def run_protocol(scenario: Scenario, name: str, seeds: int | list[int] = 0, **params) -> NegotiationModel:
    return NegotiationModel(
        scenario, make_protocol({"name": name, **params}), seeds=np.atleast_1d(seeds)
    ).run()


def one_issue(scenario: Scenario, issue: int) -> Scenario:
    """Only issue `issue` of `scenario`, with saliences normalised again (stated saliences kept)."""
    stated = scenario.stated_salience[:, [issue]]
    return dataclasses.replace(
        scenario,
        columns=(scenario.columns[issue],),
        ideal=scenario.ideal[:, [issue]],
        salience=np.where(stated > 0, 1.0, 0.0),
        stated_salience=stated,
    )


def two_actors(guarantor_ideal: float, observer_ideal: float, observer_capability: float) -> Scenario:
    """One issue: a guarantor and a strong observer, who pulls the compromise away from it."""
    return Scenario(
        name="two",
        title="A guarantor and an observer",
        columns=(Column("issue", "low", "high"),),
        actors=("guarantor", "observer"),
        display_names=("Guarantor", "Observer"),
        roles=(Role.signatory, Role.observer),
        ideal=np.array([[guarantor_ideal], [observer_ideal]]),
        salience=np.ones((2, 1)),
        capability=np.array([1.0, observer_capability]),
        reservation=np.array([0.5, 0.5]),
        concession=np.array([1.0, 1.0]),
        patience=np.array([10, 10]),
        client=np.array([-1, -1]),
        patron_weight=np.zeros(2),
        present=np.ones(2, dtype=bool),
    )


# Compromise


def test_compromise_is_the_weighted_mean_of_the_ideal_points_on_astana7():
    model = make_model("protocol=compromise").run()
    summary = summarize(Outcome.of(model))
    assert summary["steps"]["max"] == 1
    assert list(ASTANA7_COMPROMISE.values()) == pytest.approx([0.597302, 0.542589, 0.774747], abs=1e-6)
    for k, (issue, expected) in enumerate(ASTANA7_COMPROMISE.items()):
        assert model.forecast[0, k] == pytest.approx(expected, abs=1e-12)
        assert summary["issues"][issue]["forecast"]["median"] == pytest.approx(expected, abs=1e-12)
    assert summary["issues"]["zones"]["value"]["median"] == pytest.approx(ASTANA7_COMPROMISE["zones"])
    assert summary["issues"]["demining"]["value"]["median"] == pytest.approx(ASTANA7_COMPROMISE["demining"])
    assert summary["issues"]["detainees"]["agreement_probability"] == 0
    assert summary["record"]["match_probability"] == 1


def test_compromise_leaves_out_the_absent_and_is_put_to_the_guarantors_at_their_deadline():
    model = make_model("protocol=compromise", "scenario.actors.us.present=false").run()
    talks = model.negotiation
    weights = talks.weights()[talks.present]
    expected = (weights * talks.ideal[talks.present]).sum(axis=0) / weights.sum(axis=0)
    np.testing.assert_allclose(model.forecast[0], expected, atol=1e-12)
    for g, guarantor in enumerate(model.signatories):
        np.testing.assert_array_equal(model.accepting[:, g], guarantor.accepts(model.forecast, 1.0))


# Mediated single negotiating text


def test_mediators_first_text_is_the_weighted_mean_of_the_ideal_points():
    model = make_model("protocol=mediated")
    model.step()
    np.testing.assert_allclose(model.text[0], list(ASTANA7_COMPROMISE.values()), atol=1e-12)
    assert model.proposer[0] == model.negotiation.index("un")
    chaired = make_model("protocol=mediated", "scenario.actors.un.present=false")
    chaired.step()
    assert chaired.proposer[0] == -1
    talks = chaired.negotiation
    weights = talks.weights()[talks.present]
    expected = (weights * talks.ideal[talks.present]).sum(axis=0) / weights.sum(axis=0)
    np.testing.assert_allclose(chaired.text[0], expected, atol=1e-12)


def test_mediator_revises_each_text_half_way_toward_the_objecting_guarantors():
    model = make_model("protocol=mediated")
    weights = model.negotiation.weights()
    model.step()
    revisions = 0
    while model.running:
        text, accepting, positions = model.text[0].copy(), model.accepting[0].copy(), model.positions.copy()
        model.step()
        for k in np.flatnonzero(model.open_before_step[0]):
            objectors = [
                g.index for g, accepts in zip(model.signatories, accepting[:, k], strict=True) if not accepts
            ]
            pull = sum(weights[i, k] * positions[i, k] for i in objectors) / sum(
                weights[i, k] for i in objectors
            )
            assert model.text[0, k] == pytest.approx(text[k] + 0.5 * (pull - text[k]), abs=1e-12)
            assert abs(model.text[0, k] - pull) == pytest.approx(0.5 * abs(text[k] - pull), abs=1e-12)
            revisions += 1
    assert revisions > 40


def test_text_moves_monotonically_toward_a_lone_objector_until_it_accepts():
    model = NegotiationModel(two_actors(0.2, 0.9, 4.0), make_protocol({"name": "mediated", "max_steps": 40}))
    texts, answers = [], []
    while model.running:
        model.step()
        texts.append(model.text[0, 0])
        answers.append(bool(model.accepting[0, 0, 0]))
    assert texts[0] == pytest.approx((0.2 + 4.0 * 0.9) / 5.0)
    assert answers[-1] and not any(answers[:-1])
    assert len(texts) > 2
    assert all(later < earlier for earlier, later in itertools.pairwise(texts))
    guarantor = model.actors[0]
    assert guarantor.accepts(model.agreed_value, 1.0).all()


def test_mediated_astana7_agrees_on_demining_and_zones_not_on_detainees():
    model = make_model("protocol=mediated", seeds=[0, 5]).run()
    outcome = Outcome.of(model)
    summary = summarize(outcome.select(0))
    issues = summary["issues"]
    assert issues["demining"]["agreement_probability"] == 1 and issues["demining"]["step"]["mean"] == 5
    assert issues["demining"]["value"]["median"] == pytest.approx(0.7589, abs=1e-4)
    assert issues["detainees"]["agreement_probability"] == 0
    assert issues["zones"]["agreement_probability"] == 1 and issues["zones"]["step"]["mean"] == 19
    assert issues["zones"]["value"]["median"] == pytest.approx(0.5588, abs=1e-4)
    assert summary["record"]["match_probability"] == 1
    assert {**summarize(outcome.select(1)), "seed": 0, "seeds": [0, 0]} == summary
    both = summarize(outcome)["issues"]["zones"]
    assert both["value"]["sd"] == 0 and both["step"] == {"mean": 19, "min": 19, "max": 19}


@pytest.mark.parametrize("revision", [0.0, -0.5, 1.5])
def test_mediated_revision_must_be_a_share(revision):
    with pytest.raises(UserError, match=r"^protocol\.revision is"):
        make_protocol({"name": "mediated", "revision": revision})


# Expected-utility challenges


@pytest.mark.parametrize("statistic", ["median", "mean"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_eum_forecast_on_one_issue_equals_sim_eum(seed, statistic):
    talks = one_issue(random_scenario(12, 3, seed), seed - 1)
    model = run_protocol(talks, "eum", statistic=statistic, max_steps=60)
    players = talks.present & (talks.stated_salience[:, 0] > 0)
    history, forecast = eum_forecast(
        talks.ideal[players, 0],
        talks.capability[players],
        talks.stated_salience[players, 0],
        rounds=60,
        statistic=statistic,
    )
    assert model.forecast[0, 0] == forecast
    np.testing.assert_array_equal(model.positions[players, 0], history[-1])
    assert model.end_step[0] == len(history) - 1 or len(history) == 1


def ec_scenario(reservation: float) -> Scenario:
    """The BDM EC example: one issue on 1-10 rescaled to [0, 1]; every member state a veto player."""
    table = read_table(EC_TABLE)
    n = len(table.actors)
    return Scenario(
        name="ec",
        title="BDM EC example",
        columns=(Column("ec", "1 on the source scale", "10 on the source scale", scale=table.scale[0]),),
        actors=table.actors,
        display_names=table.display_names,
        roles=(Role.signatory,) * n,
        ideal=table.unit_positions(),
        salience=np.where(table.salience > 0, 1.0, 0.0),
        capability=table.capability.copy(),
        reservation=np.full(n, reservation),
        concession=np.ones(n),
        patience=np.full(n, 10),
        client=np.full(n, -1),
        patron_weight=np.zeros(n),
        present=np.ones(n, dtype=bool),
        stated_salience=table.salience.copy(),
    )


def test_eum_on_the_ec_example_forecasts_the_published_figure():
    model = run_protocol(ec_scenario(reservation=0.3), "eum")
    issue = summarize(Outcome.of(model))["issues"]["ec"]
    assert issue["forecast_on_source_scale"] == pytest.approx(EC_FORECAST, abs=1e-8)
    assert model.end_step[0] == 111
    assert issue["agreement_probability"] == 1 and issue["value"]["median"] == issue["forecast"]["median"]
    assert issue["value_on_source_scale"] == issue["forecast_on_source_scale"]
    mean = run_protocol(ec_scenario(reservation=0.3), "eum", statistic="mean")
    assert summarize(Outcome.of(mean))["issues"]["ec"]["forecast_on_source_scale"] == pytest.approx(
        9.3637513434, abs=1e-8
    )


def test_eum_forecast_on_the_ec_example_is_vetoed_by_the_members_at_4_under_unanimity():
    model = run_protocol(ec_scenario(reservation=0.5), "eum")
    assert not model.agreed[0, 0]
    vetoes = [
        g.key for g, accepts in zip(model.signatories, model.accepting[0, :, 0], strict=True) if not accepts
    ]
    assert vetoes == ["Netherlands", "Luxembourg", "Germany", "Denmark"]


def test_eum_astana7_settles_and_agrees_on_zones_and_demining():
    model = make_model("protocol=eum").run()
    summary = summarize(Outcome.of(model))
    issues = summary["issues"]
    assert summary["steps"]["max"] == 5
    for issue, value in (("zones", 0.55), ("demining", 0.80)):
        assert issues[issue]["agreement_probability"] == 1
        assert issues[issue]["value"]["median"] == pytest.approx(value)
    assert issues["detainees"]["agreement_probability"] == 0
    assert issues["detainees"]["forecast"]["median"] == pytest.approx(0.80)
    assert summary["record"]["match_probability"] == 1


def test_eum_where_everyone_holds_one_position_settles_at_once():
    talks = one_issue(random_scenario(12, 3, 4), 0)
    talks = dataclasses.replace(talks, ideal=np.full_like(talks.ideal, 0.4))
    model = run_protocol(talks, "eum")
    assert model.end_step[0] == 1
    assert model.forecast[0, 0] == 0.4
    np.testing.assert_array_equal(model.positions, 0.4)


def test_eum_rejects_a_bad_statistic_and_a_salience_above_one():
    with pytest.raises(UserError, match=r"^protocol\.statistic is 'mode': choose one of median, mean$"):
        preflight(["scenario=astana7", "protocol=eum", "protocol.statistic=mode"])
    with pytest.raises(UserError, match=r"^protocol\.convention is"):
        make_protocol({"name": "eum", "convention": "bdm1985"})
    with pytest.raises(UserError, match=r"^scenario\.actors\.turkey\.salience\.detainees is 2: "):
        make_model("protocol=eum", "scenario.actors.turkey.salience.detainees=2")
