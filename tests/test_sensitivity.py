"""Sensitivity and robustness (task=sensitivity): Sobol and Morris indices of every parameter, and
the share of perturbed scenarios that reproduce the record."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from SALib.analyze import sobol as sobol_analysis
from SALib.sample import sobol

import sim
from sim.cli import preflight
from sim.errors import UserError
from sim.protocols import PROTOCOLS
from sim.setup.sensitivity import Grouping, SensitivityMethod
from sim.studies.sensitivity import (
    block_seeds,
    describe,
    execute_sensitivity,
    interval,
    saltelli_points,
    sobol_indices,
    varied_parameters,
    why_skipped,
)
from sim.studies.what_if import Knob

ROOT = Path(__file__).resolve().parents[1]
ISSUES = ("zones", "detainees", "demining")


@pytest.fixture(scope="module")
def astana7(tmp_path_factory):
    """A small Sobol study of astana7 written to a folder: (folder, summary, table, text)."""
    folder = tmp_path_factory.mktemp("sensitivity")
    job = sim.load(
        "astana7",
        "sensitivity.samples=128",
        "sensitivity.scenarios=200",
        "sensitivity.robustness=[0.01,0.25]",
        task="sensitivity",
    )
    summary, _, text = execute_sensitivity(job, folder)
    return folder, summary, pd.read_csv(folder / "sensitivity.csv"), text


def test_the_settings_reach_the_job():
    settings = sim.load("astana7", task="sensitivity").sensitivity
    assert settings is not None and settings.method == SensitivityMethod.sobol
    assert settings.samples == 1024 and settings.spread == 0.25 and settings.robustness == (0.1, 0.25)
    assert settings.groups == Grouping.none
    morris = sim.load("astana7", "sensitivity.method=morris", "sensitivity.groups=actor", task="sensitivity")
    assert morris.sensitivity is not None and morris.sensitivity.method == SensitivityMethod.morris
    assert morris.sensitivity.groups == Grouping.actor
    assert sim.load("astana7").sensitivity is None


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            "sensitivity.samples=1000",
            "sensitivity.samples is 1000: Sobol's sequence needs a power of 2, such as 512",
        ),
        ("sensitivity.spread=0", "sensitivity.spread is 0: give a share of each value in (0, 1]"),
        ("sensitivity.robustness=[0.1,2]", "sensitivity.robustness is 2: give a share"),
        (
            "sensitivity.robustness=0.1",
            "sensitivity.robustness is 0.1: give a list of spreads, such as [0.1,0.25]",
        ),
        ("sensitivity.levels=3", "sensitivity.levels is 3: Morris' grid needs an even number"),
        ("sensitivity.scenarios=0", "sensitivity.scenarios is 0: give a whole number, 1 or more"),
    ],
)
def test_bad_sensitivity_settings_end_in_one_line_naming_the_fix(override, expected):
    with pytest.raises(UserError) as error:
        preflight(["scenario=astana7", "task=sensitivity", override])
    assert expected in str(error.value) and "\n" not in str(error.value)


def test_a_series_is_studied_round_by_round_against_each_rounds_record(tmp_path):
    job = sim.load(
        "astana_series",
        "sensitivity.samples=2",
        "sensitivity.scenarios=5",
        "sensitivity.robustness=[0.1]",
        task="sensitivity",
        plots=False,
    )
    summary, _, text = execute_sensitivity(job, tmp_path)
    assert list(summary["rounds"]) == [1, 2, 3, 4, 5, 6, 7]
    assert all((tmp_path / f"round_{n}" / "sensitivity.json").is_file() for n in range(1, 8))
    seventh = summary["rounds"][7]["robustness"]
    assert seventh["record"]["political_process"] == "agreed"
    assert seventh["record"]["de_escalation_zones"] == "not agreed"
    assert set(json.loads((tmp_path / "robustness.json").read_text())["rounds"]) == {
        str(n) for n in range(1, 8)
    }
    table = pd.read_csv(tmp_path / "sensitivity.csv")
    assert table.columns[0] == "round" and set(table["round"]) <= set(range(1, 8))
    assert "Round 7\nSensitivity — " in text


@pytest.mark.parametrize("groups", [None, ["x", "y", "x", "z", "y"]])
def test_the_points_are_salibs_saltelli_sample(groups):
    spec = {"num_vars": 5, "names": list("abcde"), "bounds": [[0, 1], [1, 3], [0, 0.5], [2, 4], [0, 1]]}
    if groups:
        spec["groups"] = groups
    expected = sobol.sample(dict(spec), 32, calc_second_order=False, seed=7)
    assert np.array_equal(saltelli_points(spec, 32, 7), expected)


def test_the_indices_and_their_intervals_are_salibs():
    spec = {"num_vars": 4, "names": list("abcd"), "bounds": [[0, 1]] * 4, "groups": ["x", "y", "x", "z"]}
    points = saltelli_points(spec, 64, 1)
    values = points[:, 0] ** 2 + 3 * points[:, 1] + points[:, 0] * points[:, 3]
    expected = sobol_analysis.analyze(spec, values, calc_second_order=False, seed=np.random.default_rng(9))
    found = sobol_indices(values, 3, np.random.default_rng(9))
    for name in ("S1", "S1_conf", "ST", "ST_conf"):
        assert found[name] == pytest.approx(expected[name], rel=1e-12, abs=1e-12), name
    assert found["ST"][1] > 0.5 > found["ST"][0]


def test_each_parameter_varies_within_the_spread_of_its_value_clipped_to_its_range():
    assert interval(Knob("k", "", 0.4, 0.0, 1.0), 0.25) == pytest.approx((0.3, 0.5))
    assert interval(Knob("k", "", 0.9, 0.0, 1.0), 0.25) == pytest.approx((0.675, 1.0))
    assert interval(Knob("k", "", 0.0, 0.0, 2.0), 0.25) == pytest.approx((0.0, 0.5))
    varied = {v.knob.key: v for v in varied_parameters(sim.load("astana7", task="sensitivity"), 0.25)}
    assert len(varied) == 75
    assert not any(key.endswith(".present") or key.startswith("protocol.") for key in varied)
    assert varied["scenario.actors.iran.reservation"].low == pytest.approx(0.4125)


def test_the_points_of_one_base_sample_share_their_seeds():
    job = sim.load("astana7", task="sensitivity", seed=5, replications=2)
    assert block_seeds(job, 0, 2, 3).tolist() == [5, 6, 5, 6, 5, 6, 7, 8, 7, 8, 7, 8]
    assert block_seeds(job, 1, 2, 2).tolist() == [7, 8, 7, 8]


def test_an_outcome_that_changes_in_a_handful_of_points_gets_no_indices():
    job = sim.load("astana7", task="sensitivity")
    values = np.ones(1000)
    values[:3] = 0.0
    assert "fewer than 1% of the points" in str(why_skipped(describe(job, "zones.agreed", values), None))
    values[:30] = 0.0
    assert why_skipped(describe(job, "zones.agreed", values), None) is None
    assert "agreed in fewer than 50%" in str(why_skipped(describe(job, "zones.value", values), 0.3))


def test_the_study_writes_indices_figures_and_the_records_robustness(astana7):
    folder, summary, table, text = astana7
    assert all(
        (folder / name).is_file() for name in ("sensitivity.csv", "sensitivity.json", "robustness.json")
    )
    assert all((folder / f"sensitivity_{issue}.png").is_file() for issue in ISSUES)
    assert json.loads((folder / "sensitivity.json").read_text()) == json.loads(json.dumps(summary))
    assert list(table.columns[-4:]) == ["S1", "S1_conf", "ST", "ST_conf"]
    assert summary["runs"] == 128 * 77 + 400
    zones = table[table.metric == "zones.value"].set_index("factor")
    assert len(zones) == 75 and zones["rank"].tolist() == list(range(1, 76))
    ideal = zones.index.str.contains(r"\.ideal\.zones$")
    assert zones.loc[ideal, "ST"].sum() > 0.6 > zones.loc[~ideal, "ST"].clip(lower=0).max()
    assert zones.loc["scenario.actors.iran.ideal.demining", "ST"] < 0.05
    assert summary["metrics"]["zones.agreed"]["skipped"] == "the same in every run"
    assert "zones: value (mean" in text and "1. " in text


def test_the_record_holds_for_tiny_perturbations_and_breaks_for_large_ones(astana7):
    folder, summary, _, text = astana7
    checked = json.loads((folder / "robustness.json").read_text())
    assert checked == summary["robustness"] and checked["baseline"] is True
    tiny, large = checked["spreads"]
    assert tiny["share"] == 1.0 and 0.0 < large["share"] < 1.0
    assert large["interval"][0] < large["share"] < large["interval"][1]
    assert large["share"] == min(large["issues"].values()) == large["issues"]["detainees"]
    assert f"±25%: {large['reproduce']} of 200 perturbed scenarios reproduce it" in text


def test_morris_groups_by_actor(tmp_path):
    job = sim.load(
        "astana7",
        "sensitivity.method=morris",
        "sensitivity.samples=10",
        "sensitivity.groups=actor",
        "sensitivity.robustness=[]",
        task="sensitivity",
    )
    summary, _, text = execute_sensitivity(job, tmp_path)
    table = pd.read_csv(tmp_path / "sensitivity.csv")
    assert set(table.factor) == {"government", "opposition", "russia", "turkey", "iran", "un", "us", "jordan"}
    assert {"mu_star", "mu_star_conf", "sigma"} <= set(table.columns)
    assert summary["runs"] == 10 * 9 and "Morris elementary effects" in text
    assert "no perturbations asked: sensitivity.robustness=[]" in text
    detainees = table[table.metric == "detainees.agreed"]
    assert detainees.iloc[0].factor in {"turkey", "iran"}


def test_a_table_without_a_record_is_studied_and_says_so(tmp_path):
    job = sim.load(
        "table",
        f"scenario.path={ROOT / 'data/bdm/ExampleActors_EC.csv'}",
        "sensitivity.samples=8",
        task="sensitivity",
    )
    summary, _, text = execute_sensitivity(job, tmp_path)
    assert summary["robustness"] == {"record": None, "spreads": []}
    assert "the scenario has no record to reproduce" in text
    assert len(summary["parameters"]) == 40 and (tmp_path / "sensitivity.csv").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("protocol", list(PROTOCOLS))
def test_every_protocol_runs_a_small_study(protocol, tmp_path):
    job = sim.load(
        "astana7",
        "sensitivity.samples=2",
        "sensitivity.scenarios=5",
        "sensitivity.robustness=[0.25]",
        task="sensitivity",
        protocol=protocol,
    )
    summary, _, _ = execute_sensitivity(job, tmp_path)
    assert summary["protocol"] == protocol and summary["robustness"]["spreads"]
    assert any(entry["top"] for entry in summary["metrics"].values())


@pytest.mark.slow
def test_bad_samples_on_the_command_line_exit_2_with_one_line_and_no_folder(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "scenario=astana7",
            "task=sensitivity",
            "sensitivity.samples=100",
            f"results={tmp_path}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().count("\n") == 0 and "sensitivity.samples is 100" in done.stderr
    assert not any(tmp_path.rglob("*"))
