"""Each strategy's exact behaviour, pinned on small cases."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_model

from sim.errors import UserError


def actor(model, key):
    return next(a for a in model.actors if a.key == key)


def test_time_dependent_aspiration_runs_from_one_to_reservation_boulware_slower():
    model = make_model("scenario.actors.russia.concession=0.5", "scenario.actors.turkey.concession=2.0")
    taus = np.linspace(0, 1, 11)
    boulware, conceder = actor(model, "russia"), actor(model, "turkey")
    for a in (boulware, conceder):
        curve = a.aspiration(taus)
        assert curve[0] == pytest.approx(1.0) and curve[-1] == pytest.approx(a.reservation)
        assert (np.diff(curve) <= 0).all()
    halfway_drop = [(1 - a.aspiration(0.5)) / (1 - a.reservation) for a in (boulware, conceder)]
    assert halfway_drop[0] == pytest.approx(0.25) and halfway_drop[1] == pytest.approx(0.5**0.5)


def test_time_dependent_accepts_exactly_within_its_loss_budget():
    model = make_model("scenario.actors.iran.patron_weight=0.0")
    iran = actor(model, "iran")
    detainees = 1
    budget = iran.disagreement_cost / iran.salience[detainees]
    text = iran.ideal.copy()
    text[detainees] = iran.ideal[detainees] + budget * 0.999
    assert iran.accepts(text[None, :], 1.0)[0, detainees]
    text[detainees] = iran.ideal[detainees] + budget * 1.001
    assert not iran.accepts(text[None, :], 1.0)[0, detainees]
    assert not iran.accepts(text[None, :], 0.5)[0, detainees]


def test_subgame_perfect_offers_and_answers():
    model = make_model(scenario="rubinstein")
    p1, p2 = actor(model, "p1"), actor(model, "p2")
    share = (1 - 0.9) / (1 - 0.81)
    assert p1.demand(0.1)[0] == pytest.approx(share)
    assert p2.demand(0.1)[0] == pytest.approx(1 - share)
    assert p2.accepts(np.array([[share]]), 0.0)[0, 0]
    assert not p2.accepts(np.array([[share + 1e-3]]), 0.0)[0, 0]
    assert p1.accepts(np.array([[0.9 * share]]), 0.0)[0, 0]
    assert not p1.accepts(np.array([[0.9 * share - 1e-3]]), 0.0)[0, 0]


def test_subgame_perfect_needs_two_signatories():
    with pytest.raises(UserError, match="needs exactly two signatories"):
        make_model("scenario.actors.russia.strategy=subgame_perfect")


def test_baron_ferejohn_buys_the_cheapest_majority():
    model = make_model(scenario="baron_ferejohn", seeds=range(50))
    proposer = actor(model, "m1")
    model.steps = 1
    offers = proposer.proposal(model.seeds, model.steps, model.tau)
    assert offers.shape == (50, 5)
    np.testing.assert_allclose(offers.sum(axis=1), 1.0)
    np.testing.assert_allclose(offers[:, 0], 0.64)
    assert ((offers[:, 1:] > 0).sum(axis=1) == 2).all()
    assert len({tuple(row) for row in offers.round(6)}) > 1
    member = actor(model, "m2")
    assert member.accepts(np.array([[0.64, 0.18, 0.18, 0.0, 0.0]]), 0.0)[0].all()
    assert not member.accepts(np.array([[0.66, 0.17, 0.17, 0.0, 0.0]]), 0.0)[0].any()


def test_baron_ferejohn_needs_a_majority_division():
    with pytest.raises(UserError, match="needs one division issue decided by majority"):
        make_model("scenario.decision=unanimity", scenario="baron_ferejohn")
