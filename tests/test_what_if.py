"""What would it take (task=what_if): the smallest change of each parameter that flips an issue."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.cli import preflight
from sim.errors import UserError
from sim.setup.what_if import WhatIfTarget
from sim.studies.what_if import execute_what_if, knobs

FILES = ("what_if.csv", "what_if.json", "tornado.png", "pairs.png", "what_if_pairs.csv")


@pytest.fixture(scope="module")
def detainees(tmp_path_factory):
    """The study of astana7's detainees, with pairs, written to a folder: (summary, table, text)."""
    folder = tmp_path_factory.mktemp("what_if")
    job = sim.load("astana7", "what_if.issue=detainees", "what_if.pairs=true", task="what_if")
    summary, _, text = execute_what_if(job, folder)
    return folder, summary, pd.read_csv(folder / "what_if.csv"), text


def test_the_settings_reach_the_job():
    job = sim.load("astana7", "what_if.issue=detainees", "what_if.target=agreed", task="what_if")
    assert job.what_if is not None and job.what_if.issues == ("detainees",)
    assert job.what_if.target == WhatIfTarget.agreed and not job.what_if.pairs
    assert sim.load("astana7").what_if is None
    everything = sim.load("astana7", task="what_if").what_if
    assert everything is not None and everything.issues == ("zones", "detainees", "demining")


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            "what_if.issue=detainez",
            "what_if.issue is 'detainez', not an issue of 'astana7': choose one of zones",
        ),
        ("what_if.target=maybe", "what_if.target is 'maybe': choose one of agreed, failed"),
        ("what_if.tolerance=0.7", "what_if.tolerance is 0.7"),
    ],
)
def test_bad_what_if_settings_end_in_one_line_naming_the_fix(override, expected):
    with pytest.raises(UserError) as error:
        preflight(["scenario=astana7", "task=what_if", override])
    assert expected in str(error.value) and "\n" not in str(error.value)


def test_every_parameter_of_every_actor_and_the_protocol_is_searched():
    found = {knob.key: knob for knob in knobs(sim.load("astana7", task="what_if"))}
    for name in ("ideal.detainees", "salience.zones", "reservation", "capability", "concession", "present"):
        assert f"scenario.actors.turkey.{name}" in found
    assert "scenario.actors.turkey.patron_weight" in found
    assert "scenario.actors.us.patron_weight" not in found
    for setting in ("max_steps", "stall_steps", "observer_support", "recognition"):
        assert f"protocol.{setting}" in found
    assert found["protocol.max_steps"].integer and found["protocol.recognition"].choices


def test_what_if_finds_the_smallest_changes_that_close_detainees(detainees):
    folder, summary, table, text = detainees
    assert all((folder / name).is_file() for name in FILES)
    assert json.loads((folder / "what_if.json").read_text()) == json.loads(json.dumps(summary))
    entry = summary["issues"]["detainees"]
    assert entry["outcome"] == "failed" and entry["target"] == "agreed"
    first = entry["smallest"][0]
    assert first["key"] == "scenario.actors.turkey.ideal.detainees"
    assert first["threshold"] == pytest.approx(0.776, abs=0.005)
    assert "detainees would be agreed if Turkey's ideal point on it were 0.776 instead of 0.900" in text
    shown = table[table.verified]
    assert shown.relative_change.is_monotonic_increasing and (shown.probability >= 0.5).all()
    assert {"scenario.actors.iran.reservation", "scenario.actors.turkey.present"} <= set(shown.key)
    assert not shown.key.str.startswith("scenario.actors.russia").any()
    pairs = entry["pairs"]
    assert pairs["keys"] == [first["key"], entry["smallest"][1]["key"]]
    assert any(b is not None for _, b in pairs["frontier"])


def test_eum_runs_variants_of_ideal_points_and_capabilities_as_their_single_runs():
    keys = {
        "scenario.actors.turkey.ideal.detainees": [0.9, 0.45, 0.2],
        "scenario.actors.iran.capability": [0.9, 0.5, 0.9],
    }
    batch = sim.run_variants(sim.load("astana7", protocol="eum"), keys).replications
    for n in range(3):
        overrides = [f"{key}={values[n]}" for key, values in keys.items()]
        single = sim.run("astana7", *overrides, protocol="eum").replications
        assert batch.filter(like="agreed").iloc[n].tolist() == single.filter(like="agreed").iloc[0].tolist()
        assert batch.filter(like="value").iloc[n].tolist() == pytest.approx(
            single.filter(like="value").iloc[0].tolist(), nan_ok=True
        )


def test_what_if_under_eum_finds_changes_of_ideal_points(tmp_path):
    job = sim.load("astana7", "what_if.issue=detainees", task="what_if", protocol="eum")
    summary, _, _ = execute_what_if(job, tmp_path)
    keys = [row["key"] for row in summary["issues"]["detainees"]["smallest"]]
    assert "scenario.actors.turkey.ideal.detainees" in keys


@pytest.mark.slow
def test_each_reported_threshold_flips_the_outcome_as_an_override_and_a_value_short_of_it_does_not(detainees):
    _, summary, _, _ = detainees
    for row in summary["issues"]["detainees"]["smallest"]:
        value = str(row["threshold"]).lower()
        flipped = sim.run("astana7", f"{row['key']}={value}").summary["issues"]["detainees"]
        assert flipped["agreement_probability"] == 1, row["sentence"]
        if row["short"] is not None:
            short = sim.run("astana7", f"{row['key']}={row['short']!r}").summary["issues"]["detainees"]
            assert short["agreement_probability"] == 0, row["sentence"]


@pytest.mark.slow
def test_over_many_seeds_a_threshold_makes_it_agreed_in_at_least_half_the_runs(tmp_path):
    job = sim.load("astana7", "what_if.issue=zones", "what_if.target=failed", task="what_if", replications=6)
    summary, _, text = execute_what_if(job, tmp_path)
    row = summary["issues"]["zones"]["smallest"][0]
    assert "zones would fail in more than half the runs if" in text
    for value, failing in ((row["threshold"], True), (row["short"], False)):
        probability = sim.run("astana7", f"{row['key']}={value!r}", replications=6).summary["issues"]["zones"]
        assert (probability["agreement_probability"] < 0.5) == failing


@pytest.mark.slow
def test_a_bad_issue_on_the_command_line_exits_2_with_one_line_and_no_folder(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "scenario=astana7",
            "task=what_if",
            "what_if.issue=detainez",
            f"results={tmp_path}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().count("\n") == 0 and "what_if.issue is 'detainez'" in done.stderr
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").rglob("*"))


@pytest.mark.slow
def test_a_series_is_studied_round_by_round_on_the_issues_of_each_agenda(tmp_path):
    job = sim.load("astana_series", task="what_if", plots=False, **{"what_if.issue": "detainees"})
    summary, line, text = execute_what_if(job, tmp_path)
    assert sorted(summary["rounds"]) == [2, 3, 6, 7]
    for number, study in summary["rounds"].items():
        assert list(study["issues"]) == ["detainees"]
        stored = json.loads((tmp_path / f"round_{number}" / "what_if.json").read_text())
        assert stored["issues"]["detainees"]["changes_found"] == study["issues"]["detainees"]["changes_found"]
    stored_rounds = json.loads((tmp_path / "what_if.json").read_text())["rounds"]
    assert stored_rounds.keys() == {"2", "3", "6", "7"}
    assert "Round 7" in text and "round 2:" in line
