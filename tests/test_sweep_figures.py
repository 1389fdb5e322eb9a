"""Sweep figures: every metric of sweep.csv drawn, intervals pooled honestly, series kept visible."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.core.scenario import Record
from sim.figures.sweep import figures_of, is_discrete, pooled_agreement, sweep_figures
from sim.outputs.summary import wilson_interval
from sim.studies.sweep import job_metrics

KEY = "scenario.actors.iran.reservation"
CAPTION = "Fixed: scenario astana7, task run; overrides common to every job: replications=3"


@pytest.fixture(scope="module")
def row() -> dict[str, object]:
    return job_metrics(sim.run("astana7", seed=0, replications=3).summary)


def sweep_table(row: dict[str, object], keys: dict[str, list[object]]) -> pd.DataFrame:
    """A sweep.csv of identical jobs over the grid of `keys` (so every series coincides)."""
    grid = pd.MultiIndex.from_product(list(keys.values()), names=list(keys)).to_frame(index=False)
    jobs = pd.DataFrame([row] * len(grid))
    return pd.concat([pd.DataFrame({"job": range(len(grid))}), grid, jobs], axis=1)


def test_every_metric_of_a_run_sweep_is_in_a_figure(row):
    table = sweep_table(row, {KEY: [0.3, 0.5]})
    drawn = {
        column for plan in figures_of(table, [KEY]).values() for p in plan.panels for column in p.columns
    }
    metrics = set(table.columns) - {"job", "replications", KEY}
    assert metrics - drawn == set()
    assert {"distance_to_nash", "pareto_gap", "record_match_probability"} <= drawn
    assert {"government.walk_out_probability", "detainees.value_mean", "zones.step_mean"} <= drawn


def test_every_sweep_figure_has_the_caption_of_the_fixed_settings(row):
    table = sweep_table(row, {KEY: [0.3, 0.5], "protocol": ["alternating", "mediated"]})
    figures = sweep_figures(table, [KEY, "protocol"], CAPTION)
    assert "heatmap.png" in figures and f"sweep_{KEY}_measures.png" in figures
    assert "sweep_protocol.png" in figures
    for name, figure in figures.items():
        assert any(CAPTION[:40] in text.get_text() for text in figure.texts), name


def test_a_discrete_key_is_drawn_without_joining_lines_and_coinciding_series_apart(row):
    table = sweep_table(row, {"protocol.max_steps": [10, 30, 60], "protocol": ["alternating", "mediated"]})
    figure = sweep_figures(table, ["protocol.max_steps", "protocol"])["sweep_protocol.max_steps.png"]
    axes = figure.axes[0]
    series = [line for line in axes.get_lines() if not line.get_label().startswith("_")]
    assert len(series) == 2
    assert all(line.get_linestyle() == "None" for line in axes.get_lines())
    first, second = (line.get_xdata() for line in series)
    assert np.all(np.asarray(first) < np.asarray(second))
    assert {line.get_marker() for line in series} == {"o", "s"}
    assert figure.legends, "the groups are named in a legend outside the panels"


def test_the_joining_rule():
    assert is_discrete(np.array([10.0, 30.0, 60.0]))
    assert is_discrete(np.array([0.1, 0.5, 0.9]))
    assert is_discrete(np.arange(1.0, 9.0))
    assert not is_discrete(np.linspace(0.05, 0.9, 8))


def test_a_category_pools_the_counts_of_its_jobs_into_one_wilson_interval():
    jobs = pd.DataFrame(
        {
            "replications": [20, 20],
            "x.agreement_probability": [0.5, 1.0],
            "x.interval_low": [0.299, 0.839],
            "x.interval_high": [0.701, 1.0],
        }
    )
    p, low, high = pooled_agreement(jobs, "x")
    expected = wilson_interval(30, 40)
    assert p == pytest.approx(0.75)
    assert (low, high) == pytest.approx((float(expected[0]), float(expected[1])))
    assert low != pytest.approx(jobs["x.interval_low"].mean())


def test_deterministic_jobs_pool_to_a_point():
    jobs = pd.DataFrame(
        {
            "replications": [20, 20],
            "x.agreement_probability": [0.0, 1.0],
            "x.interval_low": [0.0, 1.0],
            "x.interval_high": [0.0, 1.0],
        }
    )
    assert pooled_agreement(jobs, "x") == pytest.approx((0.5, 0.5, 0.5))


def test_a_study_over_two_continuous_keys_is_one_series_per_panel_and_a_scatter(row):
    rng = np.random.default_rng(0)
    table = pd.DataFrame([row] * 8)
    table.insert(0, "job", range(8))
    table.insert(1, KEY, rng.uniform(0.2, 0.6, 8))
    table.insert(2, "scenario.actors.turkey.reservation", rng.uniform(0.2, 0.6, 8))
    swept = [KEY, "scenario.actors.turkey.reservation"]
    figures = sweep_figures(table, swept, CAPTION)
    axes = figures[f"sweep_{KEY}.png"].axes[0]
    series = [line for line in axes.get_lines() if line.get_marker() == "o"]
    assert len(series) == 1 and len(series[0].get_xdata()) == 8
    assert all(line.get_linestyle() == "None" for line in axes.get_lines())
    texts = [text.get_text() for text in figures[f"sweep_{KEY}.png"].texts]
    assert any("differ in scenario.actors.turkey.reservation" in text.replace("\n", " ") for text in texts)
    assert figures["heatmap.png"].axes[0].collections, "the jobs' points, coloured by P(agreement)"


def test_the_record_is_marked_on_each_issues_agreement_and_value(row):
    table = sweep_table(row, {KEY: [0.3, 0.5]})
    record = {"zones": Record(True, 0.4, 0.7), "detainees": Record(False)}
    figures = sweep_figures(table, [KEY], CAPTION, record)
    zones, detainees, demining = figures[f"sweep_{KEY}.png"].axes[:3]
    dashed = {
        name: [line.get_ydata()[0] for line in axes.get_lines() if line.get_linestyle() == "--"]
        for name, axes in (("zones", zones), ("detainees", detainees), ("demining", demining))
    }
    assert dashed == {"zones": [1.0], "detainees": [0.0], "demining": []}
    value = figures[f"sweep_{KEY}_values.png"].axes[0]
    (band,) = value.patches
    assert band.get_y() == pytest.approx(0.4) and band.get_height() == pytest.approx(0.3)


def test_the_record_is_marked_across_each_issues_bars_of_a_category(row):
    table = sweep_table(row, {"protocol": ["alternating", "mediated"]})
    record = {"detainees": Record(False), "demining": Record(True)}
    axes = sweep_figures(table, ["protocol"], CAPTION, record)["sweep_protocol.png"].axes[0]
    (marks,) = [c for c in axes.collections if c.get_label() == "record (1 agreed, 0 not)"]
    heights = sorted({round(segment[0][1], 6) for segment in marks.get_segments()})
    assert heights == [0.0] and len(marks.get_segments()) == 2
    assert len([c for c in axes.collections if c.get_linestyle()[0][1] is not None]) >= 2
