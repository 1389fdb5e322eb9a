"""The series scenario, the round negotiations built from it, and each between-round mechanism."""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import pytest

from sim.core.preferences import Preferences
from sim.core.scenario import Role
from sim.errors import UserError
from sim.series.mechanisms import MECHANISMS
from sim.series.mechanisms.leverage import Leverage
from sim.series.mechanisms.linkage import Linkage
from sim.series.rounds import plan_round, prepare_state
from sim.series.state import round_scenario
from sim.setup.compose import compose_config
from sim.setup.job import job_from_config
from sim.studies.series import forecast_round


def series_job(*overrides: str):
    return job_from_config(compose_config(["scenario=astana_series", *overrides]))


@pytest.fixture(scope="module")
def job():
    return series_job()


def only(name: str | None) -> dict[str, bool]:
    return {mechanism: mechanism == name for mechanism in MECHANISMS}


def state_before(job, number: int, name: str | None, **values: float):
    series = job.series
    parameters = series.spec.values() | values
    return prepare_state(series.spec, series.record.before(number), number, parameters, only(name))


def test_the_series_scenario_holds_every_issue_of_the_record(job):
    series = job.series
    assert set(series.record.issues()) <= set(job.scenario.issue_names)
    assert set(series.spec.codes.values()) == set(job.scenario.actors)
    for parameter in series.spec.parameters.values():
        assert parameter.low <= parameter.value <= parameter.high and parameter.reason


def test_each_round_negotiates_its_agenda_among_those_present(job):
    series = job.series
    plan = plan_round(series.spec, series.record, 3, series.spec.values(), series.switches)
    assert plan.scenario.column_names == ("ceasefire_monitoring", "detainees", "demining")
    present = dict(zip(job.scenario.actors, plan.present, strict=True))
    assert not present["opposition"] and present["jordan"] and present["russia"]
    plan = plan_round(series.spec, series.record, 4, series.spec.values(), series.switches)
    assert not dict(zip(job.scenario.actors, plan.present, strict=True))["opposition"]  # walked out


def test_the_next_round_takes_the_unsettled_issues_and_the_last_table(job):
    series = job.series
    plan = plan_round(series.spec, series.record, 8, series.spec.values(), series.switches)
    assert set(plan.agenda) == {"de_escalation_zones", "detainees", "demining", "humanitarian"}
    assert plan.present.all()


def test_events_change_the_actors_from_their_round_on(job):
    zones = job.scenario.issue_names.index("de_escalation_zones")
    turkey, government = job.scenario.index("turkey"), job.scenario.index("government")
    assert state_before(job, 5, None).ideal[turkey, zones] == pytest.approx(0.70)
    assert state_before(job, 6, None).ideal[turkey, zones] == pytest.approx(0.60)
    assert state_before(job, 7, None).ideal[government, zones] == pytest.approx(0.20)
    assert state_before(job, 8, None).ideal[turkey, zones] == pytest.approx(0.60)


def test_stakes_and_costs_fold_exactly_into_the_models_utility(job):
    """At the deadline an actor accepts x on issue k iff s_k g_k |x - x*_k| <= (1 - r) m_k / K."""
    series = job.series
    state = state_before(job, 6, None)
    rng = np.random.default_rng(1)
    state.stake = rng.uniform(0.5, 1.0, state.stake.shape)
    state.cost = rng.uniform(0.6, 1.0, state.cost.shape)
    agenda = ("de_escalation_zones", "detainees", "demining")
    columns = [job.scenario.issue_names.index(issue) for issue in agenda]
    plan_scenario = round_scenario(series.spec, state, agenda, np.ones(job.scenario.n_actors, dtype=bool), 6)
    texts = rng.uniform(0, 1, (200, len(agenda)))
    for i in range(job.scenario.n_actors):
        actor = Preferences(plan_scenario, i)
        if actor.reservation in (0.0, 0.99):
            continue
        shares = state.salience[i, columns] / state.salience[i, columns].sum()
        model = actor.loss(texts) <= actor.disagreement_cost + 1e-12
        intended = shares * state.stake[i, columns] * np.abs(texts - state.ideal[i, columns]) <= (
            (1 - state.reservation[i]) * state.cost[i, columns] / len(agenda) + 1e-12
        )
        assert (model == intended).all()


def test_soft_deadline_scales_every_cost_of_no_agreement(job):
    assert np.allclose(state_before(job, 1, "soft_deadline", round_concession=0.4).cost, 0.4)


def test_status_quo_lowers_the_cost_of_no_agreement_on_what_was_agreed(job):
    issues = job.scenario.issue_names
    cost = state_before(job, 2, "status_quo", status_quo=0.3).cost
    for issue in ("ceasefire_monitoring", "humanitarian", "political_process"):  # agreed in round 1
        assert np.allclose(cost[:, issues.index(issue)], 0.3)
    assert np.allclose(cost[:, issues.index("detainees")], 1.0)
    cost = state_before(job, 3, "status_quo", status_quo=0.3).cost
    assert np.allclose(cost[:, issues.index("detainees")], 1 - 0.7 * 0.5)  # partial in round 2


def test_ripeness_lowers_reservations_with_each_unagreed_item(job):
    r = job.scenario.reservation
    assert np.allclose(state_before(job, 2, "ripeness", ripeness=0.1).reservation, r)
    assert np.allclose(state_before(job, 3, "ripeness", ripeness=0.1).reservation, r * 0.9**1.0)
    assert np.allclose(state_before(job, 4, "ripeness", ripeness=0.1).reservation, r * 0.9**2.5)


def test_learning_moves_demands_toward_the_other_guarantors_after_a_failure(job):
    scenario = job.scenario
    detainees, ceasefire = (
        scenario.issue_names.index("detainees"),
        scenario.issue_names.index("ceasefire_monitoring"),
    )
    before, after = state_before(job, 2, None), state_before(job, 3, "learning", learning=0.4)
    turkey, russia, iran = (scenario.index(a) for a in ("turkey", "russia", "iran"))
    weights = scenario.capability * before.salience[:, detainees]
    target = (
        weights[russia] * before.ideal[russia, detainees] + weights[iran] * before.ideal[iran, detainees]
    ) / (weights[russia] + weights[iran])
    expected = before.ideal[turkey, detainees] + 0.4 * 0.5 * (target - before.ideal[turkey, detainees])
    assert after.ideal[turkey, detainees] == pytest.approx(expected)
    assert np.allclose(after.ideal[:, ceasefire], before.ideal[:, ceasefire])  # agreed in round 2
    jordan = scenario.index("jordan")  # not at the table in round 2: learns nothing there
    assert after.ideal[jordan, detainees] == before.ideal[jordan, detainees]


def test_fractionation_narrows_the_stake_of_what_failed_last_time(job):
    issues = job.scenario.issue_names
    stake = state_before(job, 6, "fractionation", fractionation=0.6).stake
    assert np.allclose(stake[:, issues.index("detainees")], 0.6**0.5)  # partial in round 3
    assert np.allclose(stake[:, issues.index("demining")], 0.6)  # failed in round 5
    assert np.allclose(stake[:, issues.index("political_process")], 1.0)  # agreed in round 1


def round_six(job):
    """Round 6's negotiation: zones, ceasefire monitoring, detainees and demining, everyone present."""
    series = job.series
    return plan_round(series.spec, series.record, 6, series.spec.values(), series.switches).scenario


def test_linkage_adopts_or_postpones_a_package_together(job):
    scenario = round_six(job)
    assert scenario.issue_names == ("de_escalation_zones", "ceasefire_monitoring", "detainees", "demining")
    agreed = np.array([[True, False, True, True], [True, True, False, True], [False, True, True, False]])
    linked = Linkage().combine(job.series.spec, agreed, scenario, 6, 0.0)
    # from round 6 on, ceasefire monitoring and the zones go together
    assert linked.tolist() == [
        [False, False, True, True],
        [True, True, False, True],
        [False, False, True, False],
    ]
    # detainees and demining are linked from round 7 only
    assert (Linkage().combine(job.series.spec, agreed, scenario, 5, 0.0)[:, 2:] == agreed[:, 2:]).all()


def test_leverage_withholds_what_a_guarantor_weighs_little_when_its_issue_fails(job):
    """Turkey weighs detainees most in round 6; when detainees fails it withholds demining, which it
    weighs at 0.2 / 0.5 of detainees, and keeps the zones and the ceasefire (0.7 of detainees)."""
    scenario = round_six(job)
    agreed = np.array([[True, True, False, True], [True, True, True, True]])
    held = Leverage().combine(job.series.spec, agreed, scenario, 6, 0.5)
    assert held.tolist() == [[True, True, False, False], [True, True, True, True]]
    assert (Leverage().combine(job.series.spec, agreed, scenario, 6, 0.3) == agreed).all()
    # weighed at 0.7 of detainees, the zones go too once the share reaches 0.7
    assert Leverage().combine(job.series.spec, agreed, scenario, 6, 0.71).tolist()[0] == [False] * 4
    # absent guarantors withhold nothing; Russia weighs demining as much as detainees and keeps it
    russia_only = np.isin(scenario.actors, ["russia", "government", "opposition", "un", "us", "jordan"])
    away = dataclasses.replace(scenario, present=scenario.present & russia_only)
    assert (Leverage().combine(job.series.spec, agreed, away, 6, 0.5) == agreed).all()


@pytest.mark.parametrize("name", list(MECHANISMS))
def test_every_mechanism_is_cited_declared_and_keeps_the_actors_valid(job, name):
    """The generic suite: each mechanism names its source, reads a declared parameter, keeps every
    actor's numbers in range before every round, and only ever postpones agreements."""
    mechanism = MECHANISMS[name]
    assert mechanism.name == name and mechanism.source
    doc = sys.modules[mechanism.__module__].__doc__ or ""
    assert "Source" in doc and all(
        cited.split(",")[0].split(" (")[0] in doc for cited in mechanism.source.split("; ")
    )
    assert mechanism.parameter is None or mechanism.parameter in job.series.spec.parameters
    series = job.series
    rng = np.random.default_rng(3)
    declared = series.spec.parameters.get(mechanism.parameter or "")
    values = (declared.low, declared.value, declared.high) if declared else (0.0,)
    for number in [*series.record.numbers, series.record.numbers[-1] + 1]:
        for value in values:
            state = state_before(job, number, name, **({mechanism.parameter: value} if declared else {}))
            assert ((state.ideal >= 0) & (state.ideal <= 1)).all()
            assert ((state.reservation >= 0) & (state.reservation < 1)).all()
            assert (state.stake > 0).all() and (state.cost > 0).all()
    scenario = round_six(job)
    agreed = rng.random((50, scenario.n_issues)) < 0.6
    for value in values:
        combined = mechanism().combine(series.spec, agreed, scenario, 7, value)
        assert combined.shape == agreed.shape and not (combined & ~agreed).any()


def test_mechanisms_move_outcomes_the_way_their_sources_say(job):
    """Ripeness makes a stalled issue likelier to close; a held status quo makes a settled one less likely."""
    series = job.series
    record = series.record
    base = series.spec.values()
    switches = only("soft_deadline") | {"ripeness": True}
    low = forecast_round(job, record, 7, base | {"ripeness": 0.0}, 6, switches)
    high = forecast_round(job, record, 7, base | {"ripeness": 0.2}, 6, switches)
    assert high.p.sum() > low.p.sum()
    switches = only("soft_deadline") | {"status_quo": True}
    held = forecast_round(job, record, 5, base | {"status_quo": 0.2}, 6, switches)
    fresh = forecast_round(job, record, 5, base | {"status_quo": 1.0}, 6, switches)
    zones = held.agenda.index("de_escalation_zones")
    assert held.p[zones] < fresh.p[zones]


def test_a_round_without_a_guarantor_is_a_one_line_error(job, tmp_path):
    path = tmp_path / "rounds.csv"
    path.write_text(
        "round,start_date,end_date,issue,outcome,agreed,parties_for,parties_against,source\n"
        '1,a,b,attendance,"x",n/a,SYGOV;SYOPP,,http://x\n'
        "1,a,b,detainees,x,no,,,http://x\n"
    )
    bad = series_job(f"series.record={path}")
    with pytest.raises(UserError, match="round 1: no signatory"):
        plan_round(bad.series.spec, bad.series.record, 1, bad.series.spec.values(), bad.series.switches)


def test_signatories_sign_in_every_round_scenario(job):
    series = job.series
    for number in series.record.numbers:
        plan = plan_round(series.spec, series.record, number, series.spec.values(), series.switches)
        signing = [role == Role.signatory for role in plan.scenario.roles]
        assert (np.array(signing) & plan.present).sum() == 3


def test_a_procedural_fallback_turns_failures_into_half_agreements(job):
    """Where the substantive text fails, a narrower one may pass and counts half: the forecast
    rises, never above the substantive agreement plus half of the rest."""
    series = job.series
    parameters = series.spec.values() | {"fallback_stake": 0.3}
    base = only("soft_deadline")
    plan = plan_round(series.spec, series.record, 3, parameters, base | {"fallback": True})
    assert plan.fallback is not None
    assert np.allclose(plan.fallback.ideal, plan.scenario.ideal)
    without = forecast_round(job, series.record, 3, parameters, 6, base)
    with_fallback = forecast_round(job, series.record, 3, parameters, 6, base | {"fallback": True})
    assert (with_fallback.p >= without.p - 1e-12).all() and with_fallback.p.sum() > without.p.sum()
    assert (with_fallback.p <= without.p + 0.5 * (1 - without.p) + 1e-12).all()
