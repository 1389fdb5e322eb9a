"""The package protocol: texts on every open issue at once, accepted on the whole package."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import build, compose, make_model

import sim
from sim.analysis.reference import reference_points
from sim.analysis.solutions import IssueSpace
from sim.core.scenario import Role, Scenario
from sim.core.variants import Variants
from sim.errors import UserError
from sim.model.model import Talks
from sim.outputs.why import issue_reason, package_line
from sim.protocols import make_protocol
from sim.protocols.package import PackageConfig, nash_package
from sim.studies.synthetic import random_scenario

SEEDS = list(range(20))


def bargainers(scenario: Scenario) -> np.ndarray:
    return scenario.present & np.isin(np.array(scenario.roles), (Role.signatory, Role.party))


def test_astana7_agrees_on_detainees_in_a_package_where_the_nash_point_shows_one_exists():
    scenario = build(compose("scenario=astana7"))[0]
    nash = reference_points(scenario)["nash"]
    assert nash is not None and nash["detainees"] == pytest.approx(0.467, abs=0.001)
    issue_by_issue = make_model(seeds=SEEDS).run()
    package = make_model("protocol=package", seeds=SEEDS).run()
    detainees = scenario.column_names.index("detainees")
    assert not issue_by_issue.agreed[:, detainees].any(), "issue by issue, detainees never close"
    assert package.protocol.package_exists.all(), "the protocol says a package exists"
    assert package.agreed.all(), "every issue, detainees included, in every seed"
    assert (package.agreed_step == package.agreed_step[:, :1]).all(), "all at once"
    utilities = package.final_utilities()[:, bargainers(scenario)]
    assert (utilities >= scenario.reservation[bargainers(scenario)] - 1e-9).all()
    assert (package.walked_out_step < 0).all()
    assert abs(np.median(package.agreed_value[:, detainees]) - nash["detainees"]) < 0.1


def test_a_package_pays_a_signatory_on_other_issues_for_a_text_it_would_refuse_alone():
    model = make_model("protocol=package").run()
    detainees = model.negotiation.column_names.index("detainees")
    refusing = [g for g in model.signatories if not g.accepts(model.agreed_value, 1.0)[0, detainees]]
    assert refusing, "some guarantor accepts on detainees a text worse than no agreement there"
    for guarantor in refusing:
        assert model.final_utilities()[0, guarantor.index] >= guarantor.reservation


def test_where_no_package_beats_no_agreement_the_protocol_says_so_and_nothing_is_agreed():
    model = make_model(
        "protocol=package", "scenario.actors.turkey.reservation=0.95", "scenario.actors.iran.reservation=0.9"
    ).run()
    assert not model.protocol.package_exists.any()
    assert not model.agreed.any()


@pytest.mark.parametrize("exponent", [1, 2])
def test_the_nash_package_is_the_nash_bargaining_solution(exponent):
    for seed in range(15):
        scenario = random_scenario(10, 3, seed)
        rows = bargainers(scenario)
        space = IssueSpace(
            scenario.ideal[rows], scenario.salience[rows], scenario.reservation[rows], exponent
        )
        expected = space.nash()
        ours = nash_package(
            scenario.ideal[rows], scenario.salience[rows], scenario.reservation[rows], exponent
        )
        assert (expected is None) == (ours is None), seed
        if expected is not None:
            np.testing.assert_allclose(space.utility(ours), space.utility(expected), atol=1e-6)


def test_a_majority_agrees_a_division_one_member_refuses():
    members = [f"scenario.actors.m{i}.strategy=time_dependent" for i in range(1, 6)]
    holdout = "scenario.actors.m5.reservation=0.9"
    model = make_model(
        "protocol=package", *members, holdout, scenario="baron_ferejohn", seeds=range(10)
    ).run()
    assert model.agreed.all()
    np.testing.assert_allclose(model.agreed_value.sum(axis=1), 1.0)
    assert not model.accepting[:, -1, 0].any(), "m5 refuses every package it is offered"
    unanimity = make_model(
        "protocol=package", *members, holdout, "scenario.decision=unanimity", scenario="baron_ferejohn"
    ).run()
    assert not unanimity.agreed.any()


def test_each_variant_seeks_its_own_package():
    scenario = build(compose("scenario=astana7"))[0]
    reservation = np.stack([scenario.reservation, scenario.reservation])
    reservation[1, [scenario.index("turkey"), scenario.index("iran")]] = (0.95, 0.9)
    model = Talks(
        scenario,
        make_protocol({"name": "package"}),
        seeds=[0, 0],
        variants=Variants(reservation=reservation),
        record_trace=False,
    ).run()
    assert model.protocol.package_exists.tolist() == [True, False]
    assert model.agreed[0].all() and not model.agreed[1].any()


def test_bad_recognition_ends_in_one_line():
    with pytest.raises(UserError, match=r"protocol.recognition is 'loudest': choose one of rotate") as error:
        PackageConfig(recognition="loudest")
    assert "\n" not in str(error.value)


def test_the_run_says_detainees_closed_as_part_of_a_package():
    summary = sim.run("astana7", protocol="package").summary
    line = issue_reason(summary, summary["issues"]["detainees"])
    assert line.startswith("agreed at") and "as part of a package" in line
    assert summary["reference"]["nash"]["detainees"] == pytest.approx(0.47, abs=0.01)


def test_the_run_says_whether_a_package_exists():
    exists = sim.run("astana7", protocol="package").summary
    line = package_line(exists)
    assert line.startswith("A package exists") and "detainees 0.467" in line
    high = ["scenario.actors.iran.reservation=0.95", "scenario.actors.turkey.reservation=0.95"]
    none = sim.run("astana7", *high, protocol="package").summary
    assert package_line(none).startswith("No package exists")
    assert all(issue["agreement_probability"] == 0 for issue in none["issues"].values())
