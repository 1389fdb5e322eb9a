"""The command line: composition, one-line errors, and whole runs in a subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import preflight
from sim.errors import UserError

REPO = Path(__file__).resolve().parents[1]


def run_sim(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            ["scenario.actors.turky.salience.detainees=0.8"],
            "'turky' is not in scenario.actors; it has: government",
        ),
        (
            ["scenario.actors.turkey.salience.detaineez=0.8"],
            "'detaineez' is not in scenario.actors.turkey.salience",
        ),
        (["scenario.actors.turkey.salience.detainees=-1"], "salience.detainees is -1"),
        (["scenario.actors.turkey.salience.detainees=abc"], "could not be converted to Float"),
        (["scenario.actors.turkey.ideal.zones=1.5"], "ideal.zones is 1.5, outside the allowed range"),
        (["scenario.actors.turkey.capability=0"], "capability is 0: give a positive number"),
        (["scenario.actors.turkey.patron_of=nobody"], "patron_of is 'nobody', not an actor"),
        (["protocol=haggling"], "unknown protocol 'haggling': choose one of alternating"),
        (["protocol.recognition=loudest"], "choose one of rotate, random, capability"),
        (["protocol.max_steps=0"], "protocol.max_steps is 0"),
        (["protocol.maxsteps=3"], "'maxsteps' is not in protocol; it has: name, max_steps"),
        (["seed=-1"], "seed is -1"),
    ],
)
def test_bad_overrides_end_in_one_line_naming_the_fix(overrides, expected):
    with pytest.raises(UserError) as error:
        preflight(["scenario=astana7", *overrides])
    message = str(error.value)
    assert expected in message
    assert "\n" not in message


def test_unknown_scenario_lists_the_known_ones():
    with pytest.raises(UserError, match=r"unknown scenario 'astana99': choose one of .*astana7"):
        preflight(["scenario=astana99"])


def test_multirun_values_are_checked_one_by_one():
    preflight(["-m", "scenario=astana7", "scenario.actors.turkey.salience.detainees=0.1,0.5"])
    with pytest.raises(UserError, match=r"salience\.detainees is -0\.5"):
        preflight(["-m", "scenario=astana7", "scenario.actors.turkey.salience.detainees=0.1,-0.5"])


def test_scenario_file_with_a_missing_field(tmp_path):
    original = (REPO / "conf" / "scenario" / "astana7.yaml").read_text()
    bad = re.sub(r"(?m)^    capability: 0\.60.*\n", "", original, count=1)
    assert bad != original
    (tmp_path / "scenario").mkdir()
    (tmp_path / "scenario" / "broken.yaml").write_text(bad.replace("name: astana7", "name: broken"))
    with pytest.raises(UserError) as error:
        preflight([f"hydra.searchpath=[file://{tmp_path}]", "scenario=broken"])
    assert "capability" in str(error.value) and "turkey" in str(error.value)
    assert "\n" not in str(error.value)


def test_a_run_writes_its_folder_and_prints_the_table(tmp_path):
    result = run_sim(
        "scenario=astana7",
        "seed=3",
        "scenario.actors.turkey.salience.detainees=0.8",
        "protocol.max_steps=60",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    folders = list((tmp_path / "results" / "astana7").iterdir())
    assert len(folders) == 1
    run = folders[0]
    assert str(run) in result.stdout
    assert "demining" in result.stdout and "utility" in result.stdout
    summary = json.loads((run / "summary.json").read_text())
    assert summary["scenario"] == "astana7" and summary["seed"] == 3 and summary["protocol"] == "alternating"
    assert set(summary["issues"]) == {"zones", "detainees", "demining"}
    assert summary["replications"] == 1 and summary["seeds"] == [3, 3]
    for issue in summary["issues"].values():
        assert set(issue) >= {"agreement_probability", "interval", "value", "step", "meaning", "forecast"}
        assert issue["agreement_probability"] in (0.0, 1.0)
    assert set(summary["utilities"]) == {
        "government",
        "opposition",
        "russia",
        "turkey",
        "iran",
        "un",
        "us",
        "jordan",
    }
    assert (
        set(summary["walk_out_probability"]) == set(summary["walk_out_step"]) == {"government", "opposition"}
    )
    trace = pd.read_csv(run / "trace.csv")
    assert list(trace.columns) == ["step", "actor", "issue", "quantity", "value"]
    assert set(trace.quantity) >= {"offer", "position", "aspiration"}
    for plot in ("positions.png", "utilities.png", "outcome.png"):
        assert (run / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    config = (run / ".hydra" / "config.yaml").read_text()
    assert "max_steps: 60" in config and "detainees: 0.8" in config


@pytest.mark.parametrize(
    "args",
    [
        ["scenario=astana7", "scenario.actors.turky.salience.detainees=0.8"],
        ["scenario=astana7", "scenario.actors.turkey.salience.detainees=-2"],
        ["scenario=astana7", "protocol=haggling"],
    ],
)
def test_a_bad_run_prints_one_line_and_leaves_no_folder(tmp_path, args):
    result = run_sim(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "results").exists()


def test_no_scenario_lists_the_scenarios_and_fails(tmp_path):
    result = run_sim(cwd=tmp_path)
    assert result.returncode != 0
    assert "astana7" in result.stderr and "scenario=" in result.stderr
    assert not (tmp_path / "results").exists()


def test_the_installed_wheel_finds_its_configuration_from_another_directory(tmp_path):
    wheel_dir = tmp_path / "wheel"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheel_dir),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    wheel = next(wheel_dir.glob("astana_sim-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "sim/conf/config.yaml" in names and "sim/conf/scenario/astana7.yaml" in names
    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = run_sim("scenario=astana7", "plots=false", "quiet=true", cwd=elsewhere, env=env)
    assert result.returncode == 0, result.stderr
    assert (
        str(target)
        in subprocess.run(
            [sys.executable, "-c", "import sim; print(sim.__file__)"],
            cwd=elsewhere,
            env=env,
            capture_output=True,
            text=True,
        ).stdout
    )
    assert (elsewhere / "results" / "astana7").is_dir()
