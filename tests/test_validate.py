"""Forecasts scored against recorded decisions: `python -m sim +scenario=table scenario.path=FILE
task=validate`."""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import compose, run_and_write

import sim.studies.validate
from sim import NegotiationModel
from sim.cli import preflight
from sim.errors import UserError
from sim.protocols import PROTOCOLS, make_protocol
from sim.setup.schema import Task
from sim.studies.validate import (
    PROCEDURAL,
    SOLUTIONS,
    Problem,
    forecast_table,
    paired_interval,
    problems_of,
    procedural_forecast,
    protocol_method,
    score,
    status_quo,
)
from sim.tables.readers import read_table
from sim.tables.scenario import TableOptions, scenario_from_table, select

DATA = Path(__file__).resolve().parents[1] / "data"
DEU3_DEV = DATA / "deu3" / "deu3_dev.csv"


PUBLISHED_MAE = 23.87
"""The compromise model's mean absolute error over the 116 issues of deu3_dev.csv with an outcome
(shared/data/README.md)."""

ACTORS = ("com", "de", "fr", "it", "uk")
HEADER = "\t".join(
    f'"{column}"'
    for column in (
        "prnrnmc",
        "prname",
        "isnr",
        "counvte",
        *(f"p{a}" for a in ACTORS),
        *(f"s{a}" for a in ACTORS),
    )
)
CAPABILITY = "\t" * 4 + "\t".join(['"4.1"', '"3.9"', '"2.8"', '"2.1"', '"2.6"']) + "\t" * 5


def deu3_file(tmp_path: Path, rows: list[tuple[str, str, list[str], list[str], str, str]]) -> Path:
    """A small DEU III table of the Commission and four member states: per row the issue id, the
    voting rule, positions, saliences, reference point and outcome (blank for unknown)."""
    lines = [f'{HEADER}\t"rp"\t"out"', f"{CAPABILITY}\t\t"]
    for number, (issue, rule, positions, saliences, reference, outcome) in enumerate(rows, start=1):
        fields = [
            str(number),
            '"test"',
            f'"{issue}"',
            f'"{rule}"',
            *positions,
            *saliences,
            reference,
            outcome,
        ]
        lines.append("\t".join(fields))
    path = tmp_path / "deu_small.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


SMALL_ROWS = [
    ("i1", "QMV", ["100", "0", "50", "50", "0"], ["80", "50", "50", "50", "50"], "0", "70"),
    ("i2", "Unan", ["100", "0", "100", "", "100"], ["50", "90", "30", "", "30"], "0", "0"),
    ("i3", "QMV", ["0", "100", "100", "40", ""], ["50", "50", "50", "50", ""], "", "80"),
    ("i4", "QMV", ["0", "100", "100", "40", ""], ["50", "50", "50", "50", ""], "", ""),
]
"""Four issues; i4 has no recorded outcome."""


def one_issue(tmp_path: Path, rule: str, positions: list[str], reference: str):
    table = read_table(deu3_file(tmp_path, [("x1", rule, positions, ["50"] * 5, reference, "50")]))
    issue_table = select(table, table.present[:, 0], [0])
    return scenario_from_table(issue_table), issue_table


def test_unanimity_keeps_the_status_quo_when_one_member_state_sits_on_it(tmp_path):
    scenario, table = one_issue(tmp_path, "Unan", ["100", "0", "100", "100", "100"], "0")
    forecast = procedural_forecast(scenario, table)
    assert forecast.value == 0.0 and forecast.status_quo


def test_a_blocking_minority_keeps_the_status_quo_under_qmv(tmp_path):
    scenario, table = one_issue(tmp_path, "QMV", ["100", "0", "0", "0", "0"], "0")
    forecast = procedural_forecast(scenario, table)
    assert forecast.value == 0.0 and forecast.status_quo, "116 votes at the status quo block a text"


def test_qmv_passes_the_compromise_without_a_blocking_minority(tmp_path):
    scenario, table = one_issue(tmp_path, "QMV", ["100", "0", "0", "", ""], "0")
    weights = scenario.weights()[:, 0]
    expected = float(weights @ scenario.ideal[:, 0] / weights.sum())
    forecast = procedural_forecast(scenario, table)
    assert forecast.value == pytest.approx(expected) and not forecast.status_quo


def test_a_text_between_is_the_nearest_one_that_passes(tmp_path):
    scenario, table = one_issue(tmp_path, "Unan", ["100", "40", "100", "100", "100"], "0")
    forecast = procedural_forecast(scenario, table)
    assert forecast.value == pytest.approx(0.8), "Germany at 40 accepts texts up to 80 over the status quo 0"
    assert not forecast.status_quo


def test_without_a_reference_point_the_procedural_forecast_is_the_compromise(tmp_path):
    scenario, table = one_issue(tmp_path, "Unan", ["100", "0", "100", "100", "100"], "")
    weights = scenario.weights()[:, 0]
    assert procedural_forecast(scenario, table).value == pytest.approx(
        float(weights @ scenario.ideal[:, 0] / weights.sum())
    )


def test_without_agreement_the_status_quo_stands_where_known(tmp_path):
    rows = [
        ("known", "QMV", ["100", "0", "", "", ""], ["50", "50", "", "", ""], "30", "60"),
        ("unknown", "QMV", ["100", "0", "", "", ""], ["50", "50", "", "", ""], "", "60"),
    ]
    table = read_table(deu3_file(tmp_path, rows))
    methods = {
        "alternating": protocol_method(PROTOCOLS["alternating"].Config(), seed=0),
        "nash": sim.studies.validate.solution_method("nash"),
    }
    predictions, status_quo = forecast_table(table, TableOptions(reservation=0.9), methods)
    assert predictions["alternating"].iloc[0] == 30.0 and predictions["nash"].iloc[0] == 30.0
    assert math.isnan(predictions["alternating"].iloc[1]) and math.isnan(predictions["nash"].iloc[1])
    scores = score(predictions, status_quo)
    assert scores["n_status_quo"] == {"alternating": 2, "nash": 2}
    assert scores["n_forecast"] == {"alternating": 1, "nash": 1}
    assert scores["mae"] == {"alternating": 30.0, "nash": 30.0}


def test_task_validate_writes_predictions_scores_and_plots(tmp_path):
    path = deu3_file(tmp_path, SMALL_ROWS)
    args = ["scenario=table", f"scenario.path={path}", "task=validate"]
    preflight(args)
    validation = run_and_write(compose(*args), tmp_path / "run")
    methods = [*PROTOCOLS, *SOLUTIONS, PROCEDURAL]
    predictions = pd.read_csv(tmp_path / "run" / "predictions.csv")
    assert list(predictions.columns) == ["issue", "observed", *methods]
    assert predictions["issue"].tolist() == ["i1", "i2", "i3"]
    assert predictions["observed"].tolist() == [70.0, 0.0, 80.0]
    assert ((predictions[methods] >= 0) & (predictions[methods] <= 100)).all().all(), "on the 0-100 scale"
    written = json.loads((tmp_path / "run" / "validation.json").read_text())
    assert written == validation
    assert written["n_issues"] == 3 and written["path"] == str(path.resolve())
    for key in ("mae", "median_ae", "n_forecast", "n_status_quo"):
        assert list(written[key]) == methods
    errors = (predictions[methods].sub(predictions["observed"], axis=0)).abs()
    for method in methods:
        assert written["mae"][method] == pytest.approx(errors[method].mean(), abs=1e-3), "CSV: 6 digits"
        assert written["n_forecast"][method] == 3
    assert "reference point" in written["no_agreement_rule"]
    for plot in ("predicted_vs_observed.png", "errors.png"):
        assert (tmp_path / "run" / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_validation_prints_methods_and_their_errors(tmp_path, capsys):
    path = deu3_file(tmp_path, SMALL_ROWS)
    run_and_write(
        compose("scenario=table", f"scenario.path={path}", "task=validate", "plots=false"), tmp_path
    )
    printed = capsys.readouterr().out
    header = next(line for line in printed.splitlines() if line.startswith("method"))
    assert header.split()[:2] == ["method", "MAE"]
    assert PROCEDURAL in printed and "Run folder:" in printed


def test_validation_needs_recorded_outcomes(tmp_path):
    copenhagen = DATA / "decide" / "copenhagen.csv"
    with pytest.raises(UserError, match="records no outcomes") as error:
        run_and_write(compose("scenario=table", f"scenario.path={copenhagen}", "task=validate"), tmp_path)
    assert "\n" not in str(error.value)
    with pytest.raises(UserError, match="scenario 'astana7' has none"):
        run_and_write(compose("scenario=astana7", "task=validate"), tmp_path)


def test_an_unknown_task_ends_in_one_line():
    tasks = ", ".join(Task)
    with pytest.raises(UserError, match=rf"^task is 'check': choose one of {tasks}$"):
        preflight(["scenario=astana7", "task=check"])


def test_the_compromise_reproduces_the_published_error_through_task_validate(tmp_path, monkeypatch):
    compromise_only = {"compromise": protocol_method(PROTOCOLS["compromise"].Config(), seed=0)}
    monkeypatch.setattr(sim.studies.validate, "forecasting_methods", lambda *_: compromise_only)
    args = ["scenario=table", f"scenario.path={DEU3_DEV}", "task=validate", "plots=false"]
    preflight(args)
    validation = run_and_write(compose(*args), tmp_path)
    assert validation["n_issues"] == 116 and validation["n_forecast"]["compromise"] == 116
    assert validation["mae"]["compromise"] == pytest.approx(PUBLISHED_MAE, abs=0.01)
    assert validation["n_status_quo"]["compromise"] == 0


@pytest.mark.slow
def test_every_method_on_deu3_dev(tmp_path):
    args = ["scenario=table", f"scenario.path={DEU3_DEV}", "task=validate"]
    preflight(args)
    validation = run_and_write(compose(*args), tmp_path)
    methods = [*PROTOCOLS, *SOLUTIONS, PROCEDURAL]
    assert list(validation["mae"]) == methods
    assert validation["n_issues"] == 116
    if "compromise" in PROTOCOLS:
        assert validation["mae"]["compromise"] == pytest.approx(PUBLISHED_MAE, abs=0.01)
    predictions = pd.read_csv(tmp_path / "predictions.csv")
    assert len(predictions) == 116 and list(predictions.columns) == ["issue", "observed", *methods]
    table = read_table(DEU3_DEV)
    known = ~np.isnan(table.outcome)
    assert predictions["observed"].tolist() == table.outcome[known].tolist()
    for method in methods:
        assert 0 < validation["mae"][method] < 100
        assert validation["median_ae"][method] <= 100
        assert validation["n_forecast"][method] <= 116
    versus = validation["difference_from_compromise"]
    assert list(versus) == [method for method in methods if method != "compromise"]
    for method, entry in versus.items():
        low, high = entry["interval"]
        assert low <= entry["mae_difference"] <= high, method
        assert entry["mae_difference"] == pytest.approx(
            validation["mae"][method] - validation["mae"]["compromise"], abs=1e-9
        )
    assert versus["exchange"] == {"mae_difference": 0.0, "interval": [0.0, 0.0], "n_issues": 116}, (
        "one issue has no second issue to trade on: exchange forecasts the compromise"
    )


def single_run_forecasts(problems: list[Problem], protocol: str) -> list[float]:
    """Each issue's forecast from a run of its own scenario alone, as validation ran before batching."""
    out = []
    for problem in problems:
        model = NegotiationModel(
            problem.scenario, make_protocol({"name": protocol}), seeds=[0], record_trace=False
        ).run()
        out.append(float(model.forecasts()[0, 0]))
    return out


@cache
def sample_of_deu3() -> list[Problem]:
    """Twelve DEU III issues: six with an actor present but silent (no salience), six without."""
    problems = [p for p in problems_of(read_table(DEU3_DEV), TableOptions()) if p.scenario is not None]
    silent = [p for p in problems if ((p.scenario.stated_salience[:, 0] <= 0) & p.scenario.present).any()]
    return silent[:6] + [p for p in problems if p not in silent][:6]


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
def test_the_batched_issues_give_the_numbers_of_each_issue_alone(protocol):
    problems = sample_of_deu3()
    batched = protocol_method(PROTOCOLS[protocol].Config(), seed=0)(problems)
    for forecast, alone, problem in zip(
        batched, single_run_forecasts(problems, protocol), problems, strict=True
    ):
        expected = status_quo(problem.table).value if math.isnan(alone) else alone
        assert forecast.value == pytest.approx(expected, abs=1e-12), problem.table.issues[0]


def test_differences_from_the_compromise_have_paired_bootstrap_intervals(tmp_path):
    path = deu3_file(tmp_path, SMALL_ROWS)
    validation = run_and_write(
        compose("scenario=table", f"scenario.path={path}", "task=validate", "plots=false"), tmp_path
    )
    versus = validation["difference_from_compromise"]
    assert "compromise" not in versus and set(versus) == set(validation["mae"]) - {"compromise"}
    for entry in versus.values():
        assert entry["n_issues"] == 3
        low, high = entry["interval"]
        assert (low is None and high is None) or low <= entry["mae_difference"] <= high


def test_a_paired_interval_is_a_point_when_every_difference_is_the_same():
    errors = np.array([3.0, 5.0, 8.0])
    assert paired_interval(errors, errors - 1.0, seed=0) == [1.0, 1.0]
    assert paired_interval(errors[:1], errors[:1], seed=0) == [None, None]
    low, high = paired_interval(
        np.array([1.0, 4.0, 2.0, 6.0, 3.0]), np.array([2.0, 2.0, 2.0, 2.0, 2.0]), seed=0
    )
    assert low < 1.2 < high
