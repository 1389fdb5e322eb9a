"""Objectives for sweepers, sweeps over intervals checked before they run, and Optuna's sweeper."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import DATA
from hydra.errors import MissingConfigException
from omegaconf import OmegaConf

import sim
from sim.cli import preflight
from sim.errors import UserError
from sim.setup.compose import compose_config, explain, sweep_jobs
from sim.setup.job import job_from_config
from sim.studies.objective import expected_summary, metric, objective_of
from sim.studies.sweep import aggregate

SALIENCE = "scenario.actors.turkey.salience.detainees"
DETAINEES = "issues.detainees.agreement_probability"
SUMMARY = {"issues": {"detainees": {"agreement_probability": 0.25, "interval": [0.1, 0.4], "value": None}}}


def test_an_objective_is_walked_key_by_key():
    assert metric(SUMMARY, DETAINEES) == 0.25
    assert metric(SUMMARY, "issues.detainees.interval.1") == 0.4
    assert metric(SUMMARY, "issues.detainees.value") is None
    assert objective_of(SUMMARY, DETAINEES, 0.5) == pytest.approx(0.25)
    assert math.isnan(objective_of(SUMMARY, "issues.detainees.value", 0.5))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("issues.detainez.agreement_probability", "'detainez' is not in issues; it has: detainees"),
        ("issues.detainees", "is not a number: continue the path with one of agreement_probability"),
        ("issues.detainees.interval.2", "'2' is not in issues.detainees.interval"),
    ],
)
def test_a_bad_objective_names_what_is_there(path, expected):
    with pytest.raises(UserError) as error:
        metric(SUMMARY, path)
    assert expected in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("replications", [1, 50])
def test_the_expected_summary_has_the_keys_a_run_writes(replications):
    job = job_from_config(compose_config(["scenario=astana7", f"replications={replications}"]))
    expected = expected_summary(job)
    assert expected is not None and metric(expected, DETAINEES) is not None
    assert set(expected) == set(sim.run(job).summary)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["objective=issues.detainez.agreement_probability"], "'detainez' is not in issues"),
        (["objective=issues..agreement_probability"], "give a dotted path into summary.json"),
        (["-m", f"{SALIENCE}=0.1,0.2", "objective=issues.detainees"], "is not a number"),
    ],
)
def test_a_bad_objective_is_found_before_anything_runs(overrides, expected):
    with pytest.raises(UserError, match=expected):
        preflight(["scenario=astana7", *overrides])


def test_a_validation_objective_is_checked_against_validation_json():
    table = ["scenario=table", f"scenario.path={DATA / 'deu3' / 'deu3_dev.csv'}", "task=validate"]
    preflight([*table, "objective=mae.compromise"])
    with pytest.raises(UserError, match=r"'compromize' is not in mae; it has: alternating, "):
        preflight([*table, "objective=mae.compromize"])


def test_intervals_and_choices_are_checked_at_each_end_and_value():
    jobs = sweep_jobs(
        ["scenario=astana7", f"{SALIENCE}=interval(0.1, 0.9)", "protocol=choice(alternating,eum)"]
    )
    assert {job[1] for job in jobs} == {f"{SALIENCE}=0.1", f"{SALIENCE}=0.9"}
    assert {job[2] for job in jobs} == {"protocol=alternating", "protocol=eum"}
    logs = sweep_jobs(["scenario=astana7", "scenario.actors.iran.capability=tag(log, interval(0.01, 1))"])
    assert [job[1] for job in logs] == [
        "scenario.actors.iran.capability=0.01",
        "scenario.actors.iran.capability=1.0",
    ]
    preflight(["-m", "scenario=astana7", f"{SALIENCE}=interval(0.1, 0.9)", f"objective={DETAINEES}"])
    with pytest.raises(UserError, match=r"salience\.detainees is -0\.5"):
        preflight(["-m", "scenario=astana7", f"{SALIENCE}=interval(0.1, -0.5)"])


def test_the_optuna_experiment_passes_the_preflight():
    preflight(["-m", "+experiment=turkey_detainees_optuna"])
    cfg = compose_config(["+experiment=turkey_detainees_optuna", "hydra/sweeper=optuna"], with_hydra=True)
    assert cfg.objective == DETAINEES and cfg.objective_target == 0.5
    assert cfg.hydra.sweeper.params[SALIENCE].startswith("interval(")


def test_an_optuna_study_without_an_objective_is_refused_before_any_trial():
    with pytest.raises(UserError, match=r"objective is null: set objective=<a dotted path"):
        preflight(["-m", "+experiment=turkey_detainees_optuna", "objective=null"])


def test_a_small_optuna_study_runs_its_trials_and_reports_the_optimum(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "-m",
            "scenario=astana7",
            "hydra/sweeper=optuna",
            "hydra.sweeper.n_trials=3",
            "hydra.sweeper.sampler.seed=0",
            f"{SALIENCE}=interval(0.1, 0.9)",
            f"objective={DETAINEES}",
            "objective_target=0.5",
            "replications=10",
            "plots=false",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (folder,) = (tmp_path / "results" / "sweeps").iterdir()
    for job in range(3):
        assert (folder / str(job) / "summary.json").is_file()
    table = pd.read_csv(folder / "sweep.csv")
    assert len(table) == 3 and table[SALIENCE].between(0.1, 0.9).all()
    assert (table["objective"] == (table["detainees.agreement_probability"] - 0.5).abs()).all()
    best = OmegaConf.load(folder / "optimization_results.yaml")
    assert best.best_value == table["objective"].min()
    assert (table[SALIENCE] - best.best_params[SALIENCE]).abs().min() < 1e-5
    assert "Optimum: scenario.actors.turkey.salience.detainees=" in result.stdout
    assert not (folder / "multirun.yaml").exists()
    (folder / "1" / "summary.json").unlink()
    table, missing = aggregate(folder, plots=False)
    assert len(table) == 2 and missing == [f"job 1 ({SALIENCE}={best_params_value(folder, 1)})"]


def best_params_value(folder: Path, job: int) -> str:
    overrides = OmegaConf.load(folder / str(job) / ".hydra" / "overrides.yaml")
    return next(line.split("=", 1)[1] for line in overrides if line.startswith(SALIENCE))


def test_an_interval_under_the_basic_sweeper_ends_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "sim", "-m", "scenario=astana7", f"{SALIENCE}=interval(0.1, 0.9)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert (
        "the basic sweeper cannot sweep interval(...)" in result.stderr
        and "hydra/sweeper=optuna" in result.stderr
    )
    assert not (tmp_path / "results").exists()


def test_a_missing_sweeper_names_its_extra():
    missing = MissingConfigException("not found", missing_cfg_file="hydra/sweeper/optuna")
    assert explain(missing, []) == "sweeper 'optuna' is not installed: pip install 'astana-sim[optuna]'"
