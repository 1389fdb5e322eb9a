"""Behaviour and invariants of the negotiation model on astana7."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_model

from sim.outputs.outcome import Outcome
from sim.outputs.summary import summarize
from sim.outputs.trace import trace_frame
from sim.strategies.time_dependent import sublevel_interval

ISSUES = ("zones", "detainees", "demining")


def test_astana7_reproduces_round_seven_record_over_seeds_0_to_49():
    model = make_model(seeds=range(50)).run()
    zones, detainees, demining = (model.agreed[:, k] for k in range(3))
    assert np.mean(demining & ~detainees) >= 0.8
    record_zones = model.negotiation.record["zones"]
    kept = [record_zones.matches(bool(a), v) for a, v in zip(zones, model.agreed_value[:, 0], strict=True)]
    assert np.mean(kept) >= 0.8


def test_offers_and_positions_stay_in_range(astana_run):
    trace = trace_frame(astana_run)
    values = trace.loc[trace.quantity.isin(["offer", "position"]), "value"]
    assert len(values) > 0
    assert values.between(0.0, 1.0).all()


def test_aspirations_never_rise(astana_run):
    trace = trace_frame(astana_run)
    aspiration = trace[trace.quantity == "aspiration"].pivot(index="step", columns="actor", values="value")
    assert (aspiration.diff().dropna() <= 1e-12).all().all()
    reservations = {a.key: a.reservation for a in astana_run.actors}
    last = aspiration.iloc[-1]
    if astana_run.end_step[0] == astana_run.max_steps:
        assert last.to_dict() == pytest.approx(reservations)


def test_agreed_text_gives_every_veto_player_at_least_its_reservation():
    model = make_model(seeds=range(200)).run()
    utilities = model.final_utilities()
    for guarantor in model.signatories:
        assert (utilities[:, guarantor.index] >= guarantor.reservation - 1e-9).all()
        loss = guarantor.loss(np.nan_to_num(model.agreed_value))
        assert (loss[model.agreed] <= guarantor.disagreement_cost + 1e-9).all()
        client = guarantor.client
        if client is not None:
            weight = guarantor.patron_weight
            effective = (1 - weight) * loss + weight * client.loss(np.nan_to_num(model.agreed_value))
            budget = (1 - weight) * guarantor.disagreement_cost + weight * client.disagreement_cost
            assert (effective[model.agreed] <= budget + 1e-9).all()


def test_an_issue_closes_only_when_every_guarantor_accepts(astana_run):
    trace = trace_frame(astana_run)
    accepts = trace[trace.quantity == "accept"]
    summary = summarize(Outcome.of(astana_run))
    for issue, outcome in summary["issues"].items():
        at_issue = accepts[accepts.issue == issue]
        for step, rows in at_issue.groupby("step"):
            everyone = bool((rows.value == 1.0).all())
            assert everyone == (outcome["agreement_probability"] == 1 and outcome["step"]["mean"] == step)


def test_same_seed_same_numbers_and_batch_equals_single_runs():
    batch = make_model(seeds=range(10)).run()
    for seed in (0, 3, 9):
        single = make_model(seeds=seed).run()
        assert summarize(Outcome.of(single)) == summarize(Outcome.of(batch).select(seed))
    again = make_model(seeds=range(10)).run()
    np.testing.assert_array_equal(again.agreed_value, batch.agreed_value)


def test_guarantors_veto_and_their_absence_changes_the_outcome():
    with_iran = make_model(seeds=range(20)).run()
    without_iran = make_model("scenario.actors.iran.present=false", seeds=range(20)).run()
    assert not with_iran.agreed[:, 1].any()
    assert without_iran.agreed[:, 1].mean() > 0.5


def turkey_at_deadline(*overrides: str) -> tuple[np.ndarray, np.ndarray]:
    model = make_model("scenario.actors.turkey.reservation=0.1", *overrides)
    turkey = next(g for g in model.signatories if g.key == "turkey")
    return turkey.strategy.acceptable_interval(1.0)


def test_patron_weight_makes_a_guarantor_defend_its_client():
    free_low, free_high = turkey_at_deadline("scenario.actors.turkey.patron_weight=0.0")
    low, high = turkey_at_deadline("scenario.actors.turkey.patron_weight=0.4")
    heavy_low, _ = turkey_at_deadline("scenario.actors.turkey.patron_weight=1.0")
    assert (high - low <= free_high - free_low + 1e-12).all()
    detainees = 1
    assert free_low[detainees] < low[detainees] < heavy_low[detainees]


def test_a_party_walks_out_of_texts_below_its_reservation_and_ends_the_talks():
    model = make_model(
        "scenario.actors.opposition.reservation=0.95", "scenario.actors.opposition.patience=2", trace=True
    ).run()
    summary = summarize(Outcome.of(model))
    assert summary["walk_out_probability"] == {"government": 0.0, "opposition": 1.0}
    assert summary["walk_out_step"] == {"government": None, "opposition": 2}
    assert summary["steps"] == {"mean": 2, "min": 2, "max": 2}
    assert all((issue["step"]["max"] or 0) <= 2 for issue in summary["issues"].values())


def test_mediator_drafts_when_talks_stall_and_only_then():
    model = make_model("protocol.stall_steps=3", trace=True).run()
    trace = trace_frame(model)
    mediator_steps = sorted(trace[(trace.quantity == "offer") & (trace.actor == "un")].step.unique())
    assert mediator_steps
    absent = trace_frame(
        make_model("protocol.stall_steps=3", "scenario.actors.un.present=false", trace=True).run()
    )
    assert not (absent[absent.quantity == "offer"].actor == "un").any()


def test_observer_support_speeds_agreement():
    supported = make_model("protocol.observer_support=3.0", seeds=range(30)).run()
    unsupported = make_model("protocol.observer_support=0.0", seeds=range(30)).run()
    zones = 0
    assert supported.agreed_step[:, zones].mean() < unsupported.agreed_step[:, zones].mean()
    us_away = make_model("scenario.actors.us.present=false", seeds=range(30)).run()
    assert (
        us_away.agreed_step[:, zones].mean() > make_model(seeds=range(30)).run().agreed_step[:, zones].mean()
    )


@pytest.mark.parametrize("exponent", [1, 2])
def test_sublevel_interval_matches_brute_force(exponent):
    rng = np.random.default_rng(exponent)
    grid = np.linspace(0.0, 1.0, 20001)
    for _ in range(200):
        u, v = rng.random(2)
        a, b = rng.random(2) * rng.integers(0, 2, 2)
        theta = rng.random() * 0.3
        low, high = sublevel_interval(u, a, v, b, theta, exponent)
        inside = grid[a * np.abs(grid - u) ** exponent + b * np.abs(grid - v) ** exponent <= theta]
        if inside.size == 0:
            assert low > high or high - low < 1e-3
        else:
            assert low == pytest.approx(inside.min(), abs=1e-4)
            assert high == pytest.approx(inside.max(), abs=1e-4)


def test_recognition_rules():
    rotate = make_model("protocol.recognition=rotate", "protocol.stall_steps=100", trace=True).run()
    offers = trace_frame(rotate).query("quantity == 'offer'").drop_duplicates("step")
    order = [g.key for g in rotate.signatories]
    expected = [order[(step - 1) % len(order)] for step in offers.step]
    assert list(offers.actor) == expected
    capability = make_model("protocol.recognition=capability", "protocol.stall_steps=100", seeds=range(3000))
    capability.step()
    share = np.bincount(capability.proposer, minlength=len(capability.actors))
    weights = {g.index: g.capability for g in capability.signatories}
    total = sum(weights.values())
    for index, weight in weights.items():
        assert share[index] / 3000 == pytest.approx(weight / total, abs=0.03)
