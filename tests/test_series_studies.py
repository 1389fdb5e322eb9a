"""Replay, forecast, backtest and calibration of a series, and the command line around them."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.core.build import build_scenario
from sim.protocols.alternating import AlternatingConfig
from sim.series.record import Round, SeriesRecord
from sim.series.spec import build_series
from sim.setup.compose import compose_config
from sim.setup.job import Job, job_from_config
from sim.setup.series import SeriesJob
from sim.studies.series import backtest, baselines, calibrate, forecast_file, forecast_round, reproduced

REPO = Path(__file__).resolve().parents[1]
RECORD = REPO / "data" / "astana" / "rounds_1_7.csv"
QUICK = ("series.draws=4", "series.fit_draws=2", "series.popsize=1", "series.maxiter=0")


def series_job(*overrides: str) -> Job:
    return job_from_config(compose_config(["scenario=astana_series", *overrides]))


def run_sim(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def with_outcomes_changed(tmp_path: Path, number: int) -> Path:
    """A copy of the record with every outcome of round `number` turned around."""
    flip = {"yes": "no", "no": "yes", "partial": "yes"}
    lines = RECORD.read_text().splitlines(keepends=True)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in csv.reader(lines):
        if row[0] == str(number) and row[5] in flip:
            row[5] = flip[row[5]]
        writer.writerow(row)
    path = tmp_path / "changed.csv"
    path.write_text(out.getvalue())
    return path


def test_a_forecast_does_not_move_when_the_rounds_own_outcomes_change(tmp_path):
    """Round 6 forecast (calibrated on rounds 1-5) from the record and from one whose round-6
    outcomes are all turned around: the same forecast; only the Brier score differs."""
    changed = with_outcomes_changed(tmp_path, 6)
    honest = forecast_file(series_job(*QUICK, "series.next=6"), 6)
    other = forecast_file(series_job(*QUICK, "series.next=6", f"series.record={changed}"), 6)
    assert honest["issues"] == other["issues"]
    assert honest["calibration"]["parameters"] == other["calibration"]["parameters"]
    assert honest["recorded"] != other["recorded"]


def test_a_forecast_of_the_next_round_uses_every_earlier_round(tmp_path):
    out = forecast_file(series_job(*QUICK), 8)
    assert out["round"] == 8 and set(out["issues"]) == {
        "de_escalation_zones",
        "detainees",
        "demining",
        "humanitarian",
    }
    assert out["calibration"]["rounds"] == [1, 2, 3, 4, 5, 6, 7] and "brier" not in out
    for entry in out["issues"].values():
        low, high = entry["interval"]
        assert 0 <= low <= entry["p_agree"] <= high <= 1


def test_baselines_use_only_the_rounds_before():
    record = series_job().series.record
    base = baselines(record, 6, ("de_escalation_zones", "detainees", "political_process"))
    assert base["persistence"].tolist() == [0.0, 0.5, 1.0]
    earlier = [v for r in record.before(6) for v in r.outcomes.values()]
    assert base["base_rate"][0] == pytest.approx(np.mean(earlier))
    assert base["half"].tolist() == [0.5, 0.5, 0.5]


def test_a_backtest_scores_every_round_from_the_third():
    table, summary = backtest(series_job(*QUICK))
    assert summary["rounds"] == [3, 4, 5, 6, 7] and summary["issue_rounds"] == len(table) == 16
    for name in ("model", "persistence", "base_rate", "half", "without_ripeness", "without_linkage"):
        score = summary["brier"][name]
        assert 0 <= score["overall"] <= 1 and set(score["per_round"]) == {3, 4, 5, 6, 7}
    assert summary["calibrations"][3]["rounds"] == [1, 2]  # round 3 fitted on rounds 1-2 only
    # the baselines follow from the record alone: 3.75 / 16 for persistence, 11 x 0.25 / 16 for 0.5
    assert summary["brier"]["persistence"]["overall"] == pytest.approx(3.75 / 16, abs=1e-4)
    assert summary["brier"]["half"]["overall"] == pytest.approx(11 * 0.25 / 16, abs=1e-4)


def test_an_issue_round_is_reproduced_when_most_negotiations_match_the_record():
    assert reproduced(0.6, 1.0) and not reproduced(0.4, 1.0)
    assert reproduced(0.2, 0.0) and not reproduced(0.7, 0.0)
    assert (
        reproduced(0.5, 0.5)
        and reproduced(0.7, 0.5)
        and not reproduced(0.8, 0.5)
        and not reproduced(0.1, 0.5)
    )


TRUTH = {"uncertainty": 0.1, "round_concession": 0.45, "ripeness": 0.12}


def toy_job(record: SeriesRecord, stated: dict[str, float], fit: tuple[str, ...]) -> Job:
    """A small series (three guarantors, two issues) whose free parameters are stated at `stated`."""

    def actor(a: float, b: float, r: float) -> dict:
        return {
            "name": "x",
            "role": "signatory",
            "ideal": {"a": a, "b": b},
            "salience": {"a": 0.6, "b": 0.4},
            "capability": 1.0,
            "reservation": r,
        }

    ranges = {"uncertainty": (0.02, 0.3), "round_concession": (0.1, 1.0), "ripeness": (0.0, 0.3)}
    cfg = {
        "name": "toy",
        "issues": {"a": {"low": "0", "high": "1"}, "b": {"low": "0", "high": "1"}},
        "actors": {"p": actor(0.2, 0.3, 0.6), "q": actor(0.8, 0.6, 0.6), "s": actor(0.5, 0.9, 0.5)},
        "series": {
            "codes": {"P": "p", "Q": "q", "S": "s"},
            "parameters": {
                name: {"value": stated[name], "low": low, "high": high}
                for name, (low, high) in ranges.items()
            },
        },
    }
    base = build_scenario(cfg)
    switches = dict.fromkeys(("status_quo", "learning", "fractionation", "linkage"), False)
    switches |= {"soft_deadline": True, "ripeness": True}
    spec = build_series(cfg["series"], base)
    series = SeriesJob(spec, record, 9, 8, 1, True, 8, 10, 5, switches, fit, cfg, prior=0.0)
    return Job(scenario=base, protocol=AlternatingConfig(max_steps=3), series=series)


AGENDAS = [("a", "b"), ("a",), ("a", "b"), ("b",), ("a", "b"), ("a",), ("b",), ("a", "b")]


def toy_record(outcomes: list[list[float]]) -> SeriesRecord:
    rounds = {}
    for n, agenda in enumerate(AGENDAS, start=1):
        values = outcomes[n - 1] if n <= len(outcomes) else [0.0] * len(agenda)
        rounds[n] = Round(n, "", "", (), (), dict(zip(agenda, values, strict=True)))
    return SeriesRecord("synthetic", rounds)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "wrong"), [("round_concession", 0.8), ("ripeness", 0.02)])
def test_calibration_recovers_the_parameter_that_generated_a_record(name, wrong):
    """A record generated by the model itself (each round's outcome its probability of agreement,
    given the generated rounds before it) is fitted back to the generating value, from a stated
    value far from it."""
    outcomes: list[list[float]] = []
    for number in range(1, len(AGENDAS) + 1):
        job = toy_job(toy_record(outcomes), TRUTH, (name,))
        outcomes.append(list(forecast_round(job, job.series.record, number, TRUTH, 8).p))
    assert len({round(v, 3) for row in outcomes for v in row}) > 4  # the record is informative
    job = toy_job(toy_record(outcomes), TRUTH | {name: wrong}, (name,))
    fit = calibrate(job, job.series.record, list(range(1, len(AGENDAS) + 1)))
    assert fit.stated_loss > 0.01 and fit.loss < 1e-3
    assert fit.best[name] == pytest.approx(TRUTH[name], abs=0.04)


@pytest.mark.slow
def test_replay_writes_its_folder_and_says_where_it_misses(tmp_path):
    result = run_sim("scenario=astana_series", "series.draws=4", f"results={tmp_path}", cwd=REPO)
    assert result.returncode == 0, result.stderr
    folder = next((tmp_path / "astana_series").iterdir())
    names = {p.name for p in folder.iterdir()}
    assert {"series.csv", "series.json", "timeline.png", "rounds"} <= names
    summary = json.loads((folder / "series.json").read_text())
    assert summary["unknown_codes"] == ["PYD/SDF"]
    assert "Replay of" in result.stdout and "PYD/SDF" in result.stdout
    assert len(list((folder / "rounds").iterdir())) == 7
    political = json.loads((folder / "rounds" / "round_7.json").read_text())["issues"]["political_process"]
    why = political["why"]
    assert why["at_deadline"]["gap"] > 0 and not why["at_deadline"]["zone"]
    assert set(why["blocked"]) == {"russia", "turkey", "iran"} and max(why["blocked"].values()) > 0


@pytest.mark.slow
def test_forecast_and_calibrate_write_their_files(tmp_path):
    result = run_sim(
        "scenario=astana_series", "task=forecast", "series.next=7", *QUICK, f"results={tmp_path}", cwd=REPO
    )
    assert result.returncode == 0, result.stderr
    folder = next((tmp_path / "astana_series").iterdir())
    out = json.loads((folder / "forecast.json").read_text())
    assert out["round"] == 7 and "brier" in out and set(out["issues"]) == set(out["recorded"])
    result = run_sim(
        "scenario=astana_series", "task=calibrate", *QUICK, f"results={tmp_path / 'c'}", cwd=REPO
    )
    assert result.returncode == 0, result.stderr
    folder = next((tmp_path / "c" / "astana_series").iterdir())
    fitted = folder / "scenario" / "astana_series_fitted.yaml"
    assert fitted.is_file() and json.loads((folder / "calibration.json").read_text())["rounds"] == list(
        range(1, 8)
    )
    again = run_sim(
        f"hydra.searchpath=[file://{folder}]",
        "scenario=astana_series_fitted",
        "task=forecast",
        "series.calibrate=false",
        "series.draws=2",
        f"results={tmp_path / 'f'}",
        cwd=REPO,
    )
    assert again.returncode == 0, again.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["scenario=astana_series", "task=forecast", "series.next=12"],
            "series.next is 12, but the record ends at round 7",
        ),
        (["scenario=astana7", "task=replay"], "task=replay needs a series of rounds"),
        (
            ["scenario=astana_series", "series.record=nowhere.csv"],
            "series record 'nowhere.csv' does not exist",
        ),
        (["scenario=astana_series", "series.mechanisms.luck=true"], "luck"),
        (["scenario=astana_series", "series.fit=[charm]"], "series.fit names 'charm', not a parameter"),
    ],
)
def test_bad_series_input_is_one_line_with_status_2_and_no_folder(tmp_path, args, expected):
    result = run_sim(*args, f"results={tmp_path}", cwd=REPO)
    assert result.returncode == 2
    assert expected in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not any(tmp_path.rglob("*.json"))


def test_a_malformed_record_names_file_and_line_from_the_command_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(RECORD.read_text().replace(",partial,", ",perhaps,", 1))
    result = run_sim("scenario=astana_series", f"series.record={bad}", f"results={tmp_path / 'r'}", cwd=REPO)
    assert result.returncode == 2 and f"{bad}:" in result.stderr and "perhaps" in result.stderr
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").rglob("*"))


def test_the_forecast_is_the_same_for_the_same_seed():
    job = series_job()
    series = job.series
    one = forecast_round(job, series.record, 7, series.spec.values(), 4)
    two = forecast_round(dataclasses.replace(job), series.record, 7, series.spec.values(), 4)
    assert np.array_equal(one.p, two.p)


def test_issues_the_series_does_not_model_are_reported_not_forecast(tmp_path):
    path = tmp_path / "rounds.csv"
    path.write_text(
        RECORD.read_text()
        + '8,2017-12-21,2017-12-22,attendance,"came",n/a,RU;TR;IR;SYGOV;SYOPP;UN;KZ,,http://x\n'
        + "8,2017-12-21,2017-12-22,constitutional_committee,talks,partial,RU,,http://x\n"
        + "8,2017-12-21,2017-12-22,detainees,talks,yes,RU;TR;IR,,http://x\n"
    )
    out = forecast_file(
        series_job(*QUICK, "series.calibrate=false", f"series.record={path}", "series.next=8"), 8
    )
    assert list(out["issues"]) == ["detainees"] and out["unmodelled"] == ["constitutional_committee"]
    assert out["unknown_codes"] == ["KZ", "PYD/SDF"] and out["recorded"] == {"detainees": 1.0}
    assert "jordan" not in out["present"]
