"""Published negotiation tables as scenarios: `python -m sim +scenario=table scenario.path=FILE`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import build, compose, run_and_write

from sim.cli import preflight
from sim.errors import UserError
from sim.outputs.text import format_table
from sim.tables.readers import read_table
from sim.tables.scenario import TableOptions, scenario_from_table

DATA = Path(__file__).resolve().parents[1] / "data"


DECIDE_LABELLED = (
    "'#A'\t'A'\t'Actor A'\t''\n"
    "'#A'\t'B'\t'Actor B'\t''\n"
    "'#A'\t'C'\t'Actor C'\t''\n"
    "'#P'\t'X'\t'Issue X'\t''\n"
    "'#M'\t'X'\t0\t'none'\n"
    "'#M'\t'X'\t50\t'half'\n"
    "'#M'\t'X'\t200\t'all'\n"
    "'#P'\t'Y'\t'Issue Y'\t''\n"
    "'#D'\t'A'\t'X'\t150\t0.5\t0.6\n"
    "'#D'\t'A'\t'Y'\t20\t1.0\t0.6\n"
    "'#D'\t'B'\t'X'\t50\t0.25\t0.2\n"
)
"""Two issues, X on 0-200 with labelled points and Y on 0-100; B has no stake in Y, C in nothing."""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def table_args(path: Path | str, *overrides: str) -> list[str]:
    return ["scenario=table", f"scenario.path={path}", "plots=false", *overrides]


def run_in_process(args: list[str], output_dir: Path) -> dict:
    """What `python -m sim ARGS` does, without the subprocess: preflight, then the run."""
    preflight(args)
    return run_and_write(compose(*args), output_dir)


def run_sim(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_positions_saliences_and_capabilities_from_a_small_table(tmp_path):
    scenario = scenario_from_table(read_table(write(tmp_path, "small.csv", DECIDE_LABELLED)))
    assert scenario.name == "small" and scenario.actors == ("A", "B", "C")
    assert scenario.present.tolist() == [True, True, False]
    assert scenario.capability.tolist() == pytest.approx([0.75, 0.25, 0.0])
    assert scenario.stated_salience.tolist() == [[0.5, 1.0], [0.25, 0.0], [0.0, 0.0]]
    np.testing.assert_allclose(scenario.salience, [[1 / 3, 2 / 3], [1.0, 0.0], [0.0, 0.0]])
    assert scenario.ideal[0].tolist() == [0.75, 0.2]
    assert scenario.ideal[1, 0] == 0.25
    assert scenario.ideal[1, 1] == pytest.approx(0.2), "absent from Y: Y's weighted mean"
    weighted_mean_x = (0.75 * 0.5 * 0.75 + 0.25 * 0.25 * 0.25) / (0.75 * 0.5 + 0.25 * 0.25)
    assert scenario.ideal[2, 0] == pytest.approx(weighted_mean_x)
    assert scenario.roles == ("signatory", "signatory", "observer"), "C has no capability: not a signatory"


def test_issue_labels_come_from_the_source(tmp_path):
    scenario = scenario_from_table(read_table(write(tmp_path, "small.csv", DECIDE_LABELLED)))
    x, y = scenario.columns
    assert (x.low, x.high, dict(x.marks), x.scale) == ("0: none", "200: all", {0.25: "half"}, (0.0, 200.0))
    assert (y.low, y.high, dict(y.marks), y.scale) == ("0", "100", {}, (0.0, 100.0))
    assert x.description == "Issue X"
    assert x.to_source(0.75) == 150.0


def test_the_reference_point_is_marked_as_the_status_quo(tmp_path):
    header = '"prnrnmc"\t"prname"\t"isnr"\t"counvte"\t"pcom"\t"pat"\t"scom"\t"sat"\t"rp"\t"out"\n'
    rows = '\t\t\t\t"4.1"\t"0.48"\t\t\t\t\n3\t"x"\t"x1"\t"QMV"\t100\t20\t50\t80\t30\t90\n'
    scenario = scenario_from_table(read_table(write(tmp_path, "deu.tsv", header + rows)))
    assert dict(scenario.columns[0].marks) == {0.3: "the reference point (status quo)"}
    assert scenario.columns[0].description == "x (x1)"


@pytest.mark.parametrize(
    ("signatories", "guarantors"),
    [(None, ["A", "B"]), (1, ["A"]), (5, ["A", "B"]), (["B"], ["B"]), ("B", ["B"])],
)
def test_who_signs(tmp_path, signatories, guarantors):
    table = read_table(write(tmp_path, "small.csv", DECIDE_LABELLED))
    scenario = scenario_from_table(table, TableOptions(signatories=signatories))
    assert [a for a, r in zip(scenario.actors, scenario.roles, strict=True) if r == "signatory"] == guarantors


def test_options_apply_to_every_actor(tmp_path):
    path = write(tmp_path, "small.csv", DECIDE_LABELLED)
    scenario, _ = build(compose(*table_args(path, "scenario.reservation=0.3", "scenario.concession=0.5")))
    assert scenario.reservation.tolist() == [0.3] * 3 and scenario.concession.tolist() == [0.5] * 3
    assert scenario.source == str(path.resolve())


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            "scenario.signatories=[A,Z]",
            "scenario.signatories names 'Z', not an actor of 'small': choose among A",
        ),
        ("scenario.signatories=[C]", "scenario.signatories names no actor present"),
        ("scenario.signatories=0", "scenario.signatories is 0: give 1 or more"),
        ("scenario.reservation=1", "scenario.reservation is 1: give a number in [0, 1)"),
        ("scenario.concession=0", "scenario.concession is 0: give a positive number"),
        ("scenario.reservation=lots", "could not be converted to Float"),
    ],
)
def test_bad_options_end_in_one_line(tmp_path, override, expected):
    path = write(tmp_path, "small.csv", DECIDE_LABELLED)
    with pytest.raises(UserError) as error:
        preflight(table_args(path, override))
    assert expected in str(error.value) and "\n" not in str(error.value)


BAD_FILES = {
    "missing file": (None, "no such file: "),
    "malformed file": ("'#A'\t'A'\n'#D'\t'A'\n", "line 2: '#D' row has 2 fields, expected 6"),
    "unknown format": ("name,age\nalice,3\n", "cannot tell the format from the content; supported: decide"),
    "no path": (None, "has no table to import and no issues: set scenario.path=FILE"),
}


def bad_args(tmp_path: Path, case: str) -> list[str]:
    text, _ = BAD_FILES[case]
    if case == "no path":
        return ["scenario=table"]
    path = tmp_path / "absent.csv" if text is None else write(tmp_path, "bad.csv", text)
    return [f"scenario.path={path}", "scenario=table"]


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_table_ends_in_one_line_through_preflight(tmp_path, case):
    with pytest.raises(UserError) as error:
        preflight(bad_args(tmp_path, case))
    assert BAD_FILES[case][1] in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_table_exits_2_and_leaves_no_folder(tmp_path, case):
    result = run_sim(*bad_args(tmp_path, case), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert BAD_FILES[case][1] in result.stderr
    assert not (tmp_path / "results").exists()


TABLES = {
    "decide/copenhagen.csv": ("copenhagen", (0.0, 100.0)),
    "ktab/SOE-Policy.csv": ("SOE-Policy", (0.0, 100.0)),
    "ktab/SOE-Pol-Comp.csv": ("SOE-Pol-Comp", (0.0, 100.0)),
    "bdm/ExampleActors_EC.csv": ("ExampleActors_EC", (1.0, 10.0)),
    "deu3/deu3_dev.csv": ("deu3_dev", (0.0, 100.0)),
}


@pytest.mark.parametrize("relative", list(TABLES))
@pytest.mark.parametrize("protocol", ["alternating", "compromise"])
def test_every_format_runs_end_to_end_on_the_source_scale(tmp_path, relative, protocol):
    name, (low, high) = TABLES[relative]
    summary = run_in_process(table_args(DATA / relative, f"protocol={protocol}"), tmp_path / "run")
    assert summary["scenario"] == name and summary["protocol"] == protocol
    assert summary["path"] == str((DATA / relative).resolve())
    table = read_table(DATA / relative)
    assert list(summary["issues"]) == list(table.issues)
    agreed = [issue for issue in summary["issues"].values() if issue["agreement_probability"] == 1]
    assert agreed
    for issue in agreed:
        value = issue["value"]["median"]
        assert issue["value_on_source_scale"] == pytest.approx(low + value * (high - low))
        assert low <= issue["value_on_source_scale"] <= high
    for issue in summary["issues"].values():
        forecast = issue["forecast"]["median"]
        if forecast is not None:
            assert issue["forecast_on_source_scale"] == pytest.approx(low + forecast * (high - low))
        else:
            assert issue["forecast_on_source_scale"] is None
    written = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert written["path"] == summary["path"]
    assert (tmp_path / "run" / "trace.csv").is_file()


def test_the_compromise_on_the_bdm_table_is_the_weighted_mean_on_its_scale(tmp_path):
    summary = run_in_process(table_args(DATA / "bdm/ExampleActors_EC.csv", "protocol=compromise"), tmp_path)
    table = read_table(DATA / "bdm/ExampleActors_EC.csv")
    weights = table.capability * table.salience[:, 0]
    expected = float(weights @ table.positions[:, 0] / weights.sum())
    assert summary["issues"]["ExampleActors_EC"]["forecast_on_source_scale"] == pytest.approx(expected)


def test_the_printed_table_shows_the_source_scale(tmp_path):
    summary = run_in_process(table_args(DATA / "bdm/ExampleActors_EC.csv"), tmp_path)
    printed = format_table(summary)
    header = next(line for line in printed.splitlines() if line.startswith("issue"))
    assert "source" in header.split()
    value = summary["issues"]["ExampleActors_EC"]["value_on_source_scale"]
    assert f"{value:.4g}" in printed


def test_the_run_folder_is_named_after_the_file_and_the_path_is_relative_to_the_start(tmp_path):
    source = DATA / "decide" / "copenhagen.csv"
    relative = os.path.relpath(source, tmp_path)
    result = run_sim("scenario=table", f"scenario.path={relative}", "protocol.max_steps=30", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    folders = list((tmp_path / "results" / "copenhagen").iterdir())
    assert len(folders) == 1
    run = folders[0]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["path"] == str(source.resolve())
    assert summary["title"] == "copenhagen (decide table)"
    for plot in ("positions.png", "utilities.png", "outcome.png"):
        assert (run / plot).is_file()
    assert "source" in result.stdout and "Newtreaty" in result.stdout
    assert f"scenario.path={relative}" in (run / ".hydra" / "overrides.yaml").read_text()
