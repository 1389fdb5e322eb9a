"""Sweeps: the aggregate table and plots, an interrupted sweep, and the launchers."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.studies.sweep import job_metrics
from sim.studies.sweep import main as aggregate_main


def sweep(tmp_path: Path, *args: str) -> Path:
    result = subprocess.run(
        [sys.executable, "-m", "sim", "-m", "scenario=astana7", "replications=30", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    folders = list((tmp_path / "results" / "sweeps").iterdir())
    assert len(folders) == 1
    return folders[0]


@pytest.mark.slow
def test_sweep_writes_one_folder_per_job_a_table_and_plots(tmp_path):
    folder = sweep(
        tmp_path,
        "scenario.actors.turkey.salience.detainees=0.1,0.9",
        "scenario.actors.iran.reservation=0.3,0.5",
    )
    table = pd.read_csv(folder / "sweep.csv")
    assert len(table) == 4
    assert {
        "scenario.actors.turkey.salience.detainees",
        "scenario.actors.iran.reservation",
        "detainees.agreement_probability",
        "detainees.interval_low",
        "russia.utility",
    } <= set(table.columns)
    low_salience = table[table["scenario.actors.turkey.salience.detainees"] == 0.1]
    high_salience = table[table["scenario.actors.turkey.salience.detainees"] == 0.9]
    assert (
        low_salience["detainees.agreement_probability"].min()
        > high_salience["detainees.agreement_probability"].max()
    )
    for job in range(4):
        assert (folder / str(job) / "summary.json").is_file()
    assert (folder / "heatmap.png").is_file()
    assert (folder / "sweep_scenario.actors.iran.reservation.png").is_file()


@pytest.mark.slow
def test_an_interrupted_sweep_aggregates_what_finished_and_names_the_rest(tmp_path, capsys):
    folder = sweep(tmp_path, "scenario.actors.turkey.salience.detainees=0.1,0.5,0.9", "plots=false")
    before = (folder / "1" / "summary.json").read_bytes()
    shutil.rmtree(folder / "2")
    (folder / "0" / "summary.json").unlink()
    (folder / "sweep.csv").unlink()
    aggregate_main([str(folder), "--no-plots"])
    printed = capsys.readouterr().out
    assert "2 jobs missing" in printed
    assert "job 0 (scenario.actors.turkey.salience.detainees=0.1" in printed
    assert "job 2 (scenario.actors.turkey.salience.detainees=0.9" in printed
    assert len(pd.read_csv(folder / "sweep.csv")) == 1
    assert (folder / "1" / "summary.json").read_bytes() == before


def test_aggregating_a_folder_that_is_not_a_sweep_fails_with_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        aggregate_main([str(tmp_path)])
    assert exit_.value.code == 2
    assert "has no multirun.yaml" in capsys.readouterr().err


def test_a_job_gives_the_same_row_with_one_replication_or_several():
    single = sim.run("astana7", protocol="mediated", seed=2)
    one = job_metrics(single.summary)
    three = job_metrics(sim.run("astana7", protocol="mediated", seed=2, replications=3).summary)
    assert set(one) == set(three)
    assert (one["replications"], three["replications"]) == (1, 3)
    wilson = {key for key in one if key.endswith((".interval_low", ".interval_high"))}
    for key in set(one) - wilson - {"replications"}:
        assert one[key] == pytest.approx(three[key], nan_ok=True), key
    # mediated is deterministic: its interval is the point itself, however many replications
    assert one["detainees.interval_high"] == three["detainees.interval_high"] == 0.0
    zones = single.outcome.scenario.column_names.index("zones")
    assert one["zones.value_mean"] == single.outcome.value[0, zones]
    assert one["zones.step_mean"] == single.outcome.agreed_step[0, zones]
    assert one["russia.utility_low"] == one["russia.utility"] == one["russia.utility_high"]
    assert one["record_match_probability"] == 1.0


LAUNCHERS = [
    ("joblib", "hydra_plugins.hydra_joblib_launcher"),
    ("submitit_local", "hydra_plugins.hydra_submitit_launcher"),
]


@pytest.mark.slow
def test_the_same_sweep_gives_identical_numbers_under_every_launcher(tmp_path):
    values = "scenario.actors.turkey.salience.detainees=0.25,0.3"
    tables = {}
    for launcher, module in [("basic", None), *LAUNCHERS]:
        assert module is None or importlib.util.find_spec(module) is not None, (
            f"{launcher} launcher not installed: pip install -e '.[parallel,cluster]'"
        )
        where = tmp_path / launcher
        where.mkdir()
        folder = sweep(
            where,
            values,
            "protocol.recognition=random",
            "plots=false",
            *([] if launcher == "basic" else [f"hydra/launcher={launcher}"]),
        )
        tables[launcher] = pd.read_csv(folder / "sweep.csv").drop(columns=["job"])
    for launcher in ("joblib", "submitit_local"):
        pd.testing.assert_frame_equal(tables["basic"], tables[launcher])


SIM = [sys.executable, "-m", "sim"]


def fake_job(folder: Path, overrides: list[str], task: str, result: str, content: dict[str, object]) -> None:
    """A finished job's folder, as a sweep's job writes it: what it ran, and its result file."""
    (folder / ".hydra").mkdir(parents=True)
    (folder / ".hydra" / "overrides.yaml").write_text("".join(f"- {line}\n" for line in overrides))
    config = {"scenario": {"name": "astana_series"}, "task": task, "seed": 0, "objective": None}
    (folder / ".hydra" / "config.yaml").write_text(json.dumps(config))
    (folder / result).write_text(json.dumps(content))


def replay(reproduced: int) -> dict[str, object]:
    """A `series.json` as a replay writes it."""
    return {
        "reproduced": f"{reproduced} of 22",
        "issues": {"detainees": {"reproduced": 1, "rounds": 4}, "demining": {"reproduced": 3, "rounds": 4}},
        "brier": 0.1,
    }


def test_a_sweep_of_series_jobs_reads_their_series_json(tmp_path, capsys):
    folder = tmp_path / "sweeps" / "2026-01-01_00-00-00"
    for job, (seed, reproduced) in enumerate([(0, 17), (1, 18)]):
        overrides = ["scenario=astana_series", "task=replay", f"seed={seed}", "results=elsewhere"]
        fake_job(folder / str(job), overrides, "replay", "series.json", replay(reproduced))
    aggregate_main([str(folder)])
    assert "missing" not in capsys.readouterr().out
    table = pd.read_csv(folder / "sweep.csv")
    assert table["reproduced"].tolist() == [17, 18]
    assert table["issue_rounds"].tolist() == [22, 22]
    assert table["detainees.reproduced_share"].tolist() == [0.25, 0.25]
    assert (folder / "sweep_seed.png").is_file() and (folder / "sweep_seed_measures.png").is_file()
    page = (folder / "report.html").read_text()
    assert "<td>scenario=astana_series task=replay</td>" in page and "<td>0, 1</td>" in page
    assert "sweeps/2026-01-01_00-00-00/report.html" in (tmp_path / "index.html").read_text()


def test_a_job_without_its_result_file_is_missing_and_a_validation_sweep_reads_validation_json(
    tmp_path, capsys
):
    folder = tmp_path / "2026-01-01_00-00-00"
    for job, error in enumerate([3.0, None]):
        validation = {"n_issues": 10, "mae": {"nash": error, "compromise": 2.0}}
        fake_job(folder / str(job), [f"seed={job}"], "validate", "validation.json", validation)
    fake_job(folder / "2", ["seed=2"], "validate", "predictions.csv", {})
    aggregate_main([str(folder), "--no-plots"])
    assert "job 2 (seed=2)" in capsys.readouterr().out
    table = pd.read_csv(folder / "sweep.csv")
    assert table["nash.mae"].tolist()[0] == 3.0 and np.isnan(table["nash.mae"].tolist()[1])
    assert table["compromise.mae"].tolist() == [2.0, 2.0]
    assert not (tmp_path / "index.html").exists()


def test_a_sweep_of_sensitivity_studies_reads_the_robustness_of_each(tmp_path):
    folder = tmp_path / "2026-01-01_00-00-00"
    for job, share in enumerate([0.93, 0.91]):
        spreads = [{"spread": 0.1, "share": share}, {"spread": 0.25, "share": share - 0.3}]
        study = {"runs": 2564, "robustness": {"spreads": spreads}}
        fake_job(folder / str(job), [f"seed={job}"], "sensitivity", "sensitivity.json", study)
    aggregate_main([str(folder), "--no-plots"])
    table = pd.read_csv(folder / "sweep.csv")
    assert table["robustness_0.1.share"].tolist() == [0.93, 0.91]
    assert table["robustness_0.25.share"].tolist() == pytest.approx([0.63, 0.61])


@pytest.mark.slow
def test_a_hydra_sweep_over_a_series_scenario_aggregates_every_job(tmp_path):
    result = subprocess.run(
        [*SIM, "-m", "scenario=astana_series", "task=replay", "seed=0,1", "series.draws=2", "series.seeds=1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "missing" not in result.stdout
    folder = next((tmp_path / "results" / "sweeps").iterdir())
    table = pd.read_csv(folder / "sweep.csv")
    assert table["seed"].tolist() == [0, 1]
    for job in range(2):
        written = json.loads((folder / str(job) / "series.json").read_text())
        assert table.loc[job, "brier"] == pytest.approx(written["brier"])
        assert f"{table.loc[job, 'reproduced']} of {table.loc[job, 'issue_rounds']}" == written["reproduced"]
    assert (folder / "report.html").is_file()
