"""Linked issues (`scenario.linked`): they close together or not at all, under any protocol."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import build, compose, make_model

import sim
from sim.cli import preflight
from sim.errors import UserError
from sim.protocols import PROTOCOLS

SEEDS = list(range(10))
DETAINEES_DEMINING = "scenario.linked=[[detainees,demining]]"


def columns(model, *names: str) -> list[int]:
    return [model.negotiation.column_names.index(name) for name in names]


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
def test_linked_issues_close_together_or_not_at_all(protocol):
    model = make_model(f"protocol={protocol}", DETAINEES_DEMINING, seeds=SEEDS).run()
    pair = columns(model, "detainees", "demining")
    agreed = model.agreed[:, pair]
    assert (agreed[:, 0] == agreed[:, 1]).all()
    both = agreed.all(axis=1)
    steps = model.agreed_step[:, pair]
    assert (steps[both, 0] == steps[both, 1]).all()


def test_linking_a_failing_issue_takes_the_other_down_with_it():
    alone = make_model(seeds=SEEDS).run()
    linked = make_model(DETAINEES_DEMINING, seeds=SEEDS).run()
    detainees, demining = columns(alone, "detainees", "demining")
    assert alone.agreed[:, demining].all() and not alone.agreed[:, detainees].any()
    assert not linked.agreed[:, [detainees, demining]].any()
    zones = columns(alone, "zones")[0]
    np.testing.assert_array_equal(linked.agreed[:, zones], alone.agreed[:, zones])


def test_two_issues_that_close_apart_close_together_when_linked():
    alone = make_model(seeds=SEEDS).run()
    linked = make_model("scenario.linked=[[zones,demining]]", seeds=SEEDS).run()
    zones, demining = columns(alone, "zones", "demining")
    assert (alone.agreed_step[:, zones] != alone.agreed_step[:, demining]).any()
    assert linked.agreed[:, [zones, demining]].all()
    np.testing.assert_array_equal(linked.agreed_step[:, zones], linked.agreed_step[:, demining])


def test_the_scenario_keeps_the_groups_in_the_order_given():
    scenario = build(compose("scenario=astana7", "scenario.linked=[[demining,detainees]]"))[0]
    assert scenario.linked == (("demining", "detainees"),)
    assert scenario.linked_columns() == [[1, 2]]


@pytest.mark.parametrize(
    ("linked", "message"),
    [
        (
            "[[detainees,demnig]]",
            "scenario.linked names unknown issue 'demnig': the issues are zones, detainees, demining",
        ),
        ("[[detainees]]", r"scenario.linked\[0\] is \['detainees'\]: link two different issues or more"),
        ("[[detainees,detainees]]", "link two different issues or more"),
        ("[[zones,detainees],[detainees,demining]]", "issue 'detainees' is in two groups of scenario.linked"),
    ],
)
def test_a_bad_group_ends_in_one_line(linked, message):
    with pytest.raises(UserError, match=message) as error:
        preflight(["scenario=astana7", f"scenario.linked={linked}"])
        build(compose("scenario=astana7", f"scenario.linked={linked}"))
    assert "\n" not in str(error.value)


def test_a_tables_issues_can_be_linked_and_a_wrong_group_is_refused():
    path = "scenario.path=data/decide/copenhagen.csv"
    job = sim.load("table", path, "scenario.linked=[[Newtreaty,Control]]", protocol="mediated")
    assert job.scenario.linked == (("Newtreaty", "Control"),)
    result = sim.run(job, replications=30)
    first, second = (job.scenario.issue_names.index(name) for name in ("Newtreaty", "Control"))
    assert (result.outcome.agreed[:, first] == result.outcome.agreed[:, second]).all()
    with pytest.raises(UserError, match=r"scenario\.linked names unknown issue 'zones'"):
        sim.load("table", path, "scenario.linked=[[zones,Control]]")
