"""Tests of the run figures: four valid PNG files for a full run, a tiny run and an empty one."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.figures.run import extract_run_data, write_run_plots
from sim.figures.study import write_batch_plots
from sim.outputs.summary import expand_divisions

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FIGURES = ("positions.png", "utilities.png", "outcome.png", "zopa.png")
TRACE_COLUMNS = ["step", "actor", "issue", "quantity", "value"]

ASTANA_ACTORS = {
    "government": ("Government of Syria", "party", {"zones": 0.1, "detainees": 0.2, "demining": 0.7}, 0.35),
    "opposition": ("Armed opposition", "party", {"zones": 0.9, "detainees": 0.95, "demining": 0.6}, 0.4),
    "russia": ("Russia", "signatory", {"zones": 0.3, "detainees": 0.35, "demining": 0.8}, 0.3),
    "turkey": ("Turkey", "signatory", {"zones": 0.75, "detainees": 0.8, "demining": 0.65}, 0.3),
    "iran": ("Iran", "signatory", {"zones": 0.2, "detainees": 0.25, "demining": 0.7}, 0.3),
    "un": ("UN Special Envoy", "mediator", {"zones": 0.5, "detainees": 0.6, "demining": 0.9}, 0.1),
    "us": ("United States", "observer", {"zones": 0.7, "detainees": 0.85, "demining": 0.75}, 0.2),
    "jordan": ("Jordan", "observer", {"zones": 0.6, "detainees": 0.7, "demining": 0.8}, 0.2),
}
ISSUES_META = {
    "zones": {"low": "government retakes all zones", "high": "de-escalation zones held by opposition"},
    "detainees": {"low": "no release", "high": "all detainees released"},
    "demining": {"low": "none", "high": "full demining of cultural heritage sites"},
}
AGREEMENTS = {"zones": (5, 0.42), "detainees": (None, None), "demining": (12, 0.74)}
PROPOSERS = ("russia", "turkey", "iran", "un")
WALKOUT = ("opposition", 9)


def issue_summary(step: int | None, value: float | None) -> dict:
    """One issue of a single run's summary: agreed at `step` on `value`, or not agreed (None)."""
    quantiles = ("mean", "q05", "q25", "median", "q75", "q95")
    return {
        "agreement_probability": float(step is not None),
        "value": {"sd": None, **dict.fromkeys(quantiles, value)},
        "step": {"mean": step, "min": step, "max": step},
    }


def make_run(steps: int = 20) -> tuple[dict, pd.DataFrame]:
    """A synthetic Astana-like run: 8 actors, 3 issues, two agreements, one walk-out."""
    rng = np.random.default_rng(7)
    leaver, left_at = WALKOUT
    rows = []
    for step in range(1, steps + 1):
        present = [actor for actor in ASTANA_ACTORS if not (actor == leaver and step > left_at)]
        proposer = PROPOSERS[step % len(PROPOSERS)]
        for issue, (agreed_step, agreed_value) in AGREEMENTS.items():
            if agreed_step is not None and step > agreed_step:
                continue
            target = agreed_value if agreed_value is not None else 0.55
            progress = step / (agreed_step or steps)
            for actor in present:
                ideal = ASTANA_ACTORS[actor][2][issue]
                position = ideal + (target - ideal) * progress * 0.8 + rng.normal(0, 0.01)
                rows.append((step, actor, issue, "position", float(np.clip(position, 0, 1))))
            proposer_ideal = ASTANA_ACTORS[proposer][2][issue]
            offer = proposer_ideal + (target - proposer_ideal) * progress
            rows.append((step, proposer, issue, "offer", float(offer)))
            rows.extend((step, actor, issue, "accept", float(step == agreed_step)) for actor in present)
        for actor in present:
            reservation = ASTANA_ACTORS[actor][3]
            rows.append((step, actor, "all", "aspiration", 1 - (1 - reservation) * step / (steps + 5)))
            rows.append((step, actor, "all", "utility", 0.4 + 0.4 * rng.random() * step / steps))
    trace = pd.DataFrame(rows, columns=TRACE_COLUMNS)
    summary = {
        "scenario": "astana_2017",
        "title": "Astana talks, January to May 2017",
        "protocol": "single_text",
        "seed": 42,
        "replications": 1,
        "steps": {"mean": steps, "min": steps, "max": steps},
        "issues": {issue: issue_summary(step, value) for issue, (step, value) in AGREEMENTS.items()},
        "issues_meta": ISSUES_META,
        "actors": {
            key: {"name": name, "role": role, "ideal": ideal, "reservation": reservation}
            for key, (name, role, ideal, reservation) in ASTANA_ACTORS.items()
        },
        "utilities": {key: {"mean": 0.6, "interval": [0.6, 0.6], "sd": None} for key in ASTANA_ACTORS},
        "walk_out_probability": {"government": 0.0, leaver: 1.0},
        "walk_out_step": {"government": None, leaver: left_at},
        "reference": {"nash": {"zones": 0.45, "detainees": 0.58, "demining": 0.76}},
    }
    return summary, trace


def png_size(path: Path) -> tuple[int, int]:
    """Width and height in pixels from a PNG's IHDR chunk, after checking the magic bytes."""
    header = path.read_bytes()[:24]
    assert header[:8] == PNG_MAGIC, f"{path.name} is not a PNG"
    return struct.unpack(">II", header[16:24])


def assert_figures(paths: list[Path], run_dir: Path) -> None:
    assert [path.name for path in paths] == list(FIGURES)
    for path in paths:
        assert path.parent == run_dir
        assert path.is_file()
        assert path.stat().st_size > 5_000
        width, height = png_size(path)
        assert 400 <= width <= 4000
        assert 150 <= height <= 6000


def test_full_run_writes_three_pngs(tmp_path: Path) -> None:
    summary, trace = make_run()
    paths = write_run_plots(tmp_path, summary, trace)
    assert_figures(paths, tmp_path)


def test_one_actor_one_issue(tmp_path: Path) -> None:
    summary = {
        "scenario": "solo",
        "title": "One actor",
        "protocol": "single_text",
        "seed": 1,
        "replications": 1,
        "steps": {"mean": 3, "min": 3, "max": 3},
        "issues": {"zones": issue_summary(2, 0.3)},
        "issues_meta": {"zones": {"low": "none", "high": "all"}},
        "actors": {
            "russia": {"name": "Russia", "role": "signatory", "ideal": {"zones": 0.3}, "reservation": 0.2}
        },
        "utilities": {"russia": {"mean": 1.0, "interval": [1.0, 1.0], "sd": None}},
        "walk_out_probability": {},
        "walk_out_step": {},
    }
    rows = [(step, "russia", "zones", quantity, 0.3) for step in (1, 2) for quantity in ("offer", "position")]
    rows += [(step, "russia", "all", kind, 1.0) for step in (1, 2, 3) for kind in ("utility", "aspiration")]
    trace = pd.DataFrame(rows, columns=TRACE_COLUMNS)
    assert_figures(write_run_plots(tmp_path, summary, trace), tmp_path)


def test_empty_trace_does_not_crash(tmp_path: Path) -> None:
    summary, _ = make_run()
    summary.update(steps={"mean": 0, "min": 0, "max": 0}, walk_out_probability={}, walk_out_step={})
    summary["issues"] = {issue: issue_summary(None, None) for issue in summary["issues"]}
    assert_figures(write_run_plots(tmp_path, summary, pd.DataFrame(columns=TRACE_COLUMNS)), tmp_path)


def test_trace_without_columns_counts_as_empty() -> None:
    summary, _ = make_run()
    run = extract_run_data(summary, pd.DataFrame())
    assert run.steps == 20
    assert not run.positions and not run.offers and not run.utility


def test_walkout_step_falls_back_to_last_step_in_trace() -> None:
    summary, trace = make_run(steps=10)
    summary["walk_out_step"]["opposition"] = 7
    assert extract_run_data(summary, trace).walkouts == {"opposition": 7}
    summary["walk_out_step"]["opposition"] = None
    assert extract_run_data(summary, trace).walkouts == {"opposition": 9}


def test_the_outcome_of_each_issue_is_read_from_the_summary() -> None:
    summary, trace = make_run()
    outcomes = extract_run_data(summary, trace).outcomes
    assert outcomes["zones"] == {"agreed": True, "value": 0.42, "step": 5}
    assert outcomes["detainees"] == {"agreed": False, "value": None, "step": None}


def test_a_division_is_drawn_as_one_issue_per_recipient() -> None:
    result = sim.run("baron_ferejohn", seed=3)
    run = extract_run_data(expand_divisions(result.summary), result.trace)
    assert run.issues == [f"budget.m{i}" for i in range(1, 6)]
    shares = {issue: outcome["value"] for issue, outcome in run.outcomes.items()}
    assert sorted(shares.values()) == pytest.approx([0.0, 0.0, 0.18, 0.18, 0.64])
    assert all(outcome["agreed"] and outcome["step"] == 1 for outcome in run.outcomes.values())


def test_trace_missing_a_column_is_refused(tmp_path: Path) -> None:
    summary, trace = make_run(steps=3)
    with pytest.raises(ValueError, match="quantity"):
        write_run_plots(tmp_path, summary, trace.drop(columns="quantity"))
    assert not list(tmp_path.iterdir())


def test_colours_follow_actor_order_and_roles_set_line_styles() -> None:
    summary, trace = make_run(steps=3)
    actors = extract_run_data(summary, trace).actors
    assert list(actors) == list(ASTANA_ACTORS)
    assert len({style.colour for style in actors.values()}) == len(ASTANA_ACTORS)
    assert actors["russia"].linestyle == "-" and actors["government"].linestyle == "--"
    assert actors["us"].linestyle == ":"


def test_a_run_with_its_scenario_adds_the_utility_space(tmp_path: Path) -> None:
    result = sim.run("astana7")
    paths = write_run_plots(tmp_path, expand_divisions(result.summary), result.trace, result.job.scenario)
    assert [path.name for path in paths] == [*FIGURES, "utility_space.png"]
    assert png_size(tmp_path / "utility_space.png")[0] >= 600


@pytest.mark.slow
def test_a_batch_writes_its_four_figures(tmp_path: Path) -> None:
    result = sim.run("astana7", replications=30, trace=True)
    paths = write_batch_plots(tmp_path, result.summary, result.tally, result.trace)
    names = ["agreement.png", "values.png", "utilities.png", "utility_space.png"]
    assert [path.name for path in paths] == names
    assert all(png_size(path)[1] >= 300 for path in paths)


def test_without_a_scenario_the_first_actors_by_role_are_named() -> None:
    summary, trace = make_run(steps=3)
    extra = {f"a{i}": {"name": f"Actor {i}", "role": "observer", "ideal": {"zones": 0.5}} for i in range(20)}
    summary["actors"] = {**summary["actors"], **extra}
    run = extract_run_data(summary, trace)
    assert len(run.named) == 12
    assert {"russia", "turkey", "iran", "government", "opposition"} <= set(run.named)
    assert all(run.actors[key].colour == (0.6, 0.6, 0.6, 1.0) for key in run.others)


def test_series_follow_each_actor_and_issue_in_trace_order() -> None:
    summary, trace = make_run(steps=12)
    positions = extract_run_data(summary, trace).positions
    rows = trace[trace["quantity"] == "position"]
    expected = rows.groupby(["actor", "issue"], sort=False)
    assert list(positions) == [key for key, _ in expected]
    for key, group in expected:
        assert positions[key][0].tolist() == group["step"].tolist()
        assert positions[key][1] == pytest.approx(group["value"].to_numpy())
