"""Every figure keeps its words: no text drawn outside the canvas, no label cut with "…"."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.text import Text

from sim.api import load, run
from sim.figures import series as series_figures
from sim.figures.run import (
    MAX_NAMED,
    draw_outcome,
    draw_positions,
    draw_utilities,
    extract_run_data,
    record_marks,
)
from sim.figures.study import draw_agreement, draw_batch_utilities, draw_values
from sim.figures.utility_space import choose_pair, draw_utility_space
from sim.figures.what_if import draw_tornado
from sim.figures.zopa import draw_zopa
from sim.outputs.result import Result
from sim.outputs.summary import expand_divisions, summarize
from sim.studies.batch import run_batch
from sim.studies.synthetic import random_scenario

TOLERANCE = 1.0
"""Pixels a text may reach past the canvas (anti-aliasing)."""


def texts_outside(figure: Figure) -> list[str]:
    """The visible texts whose rendered extent leaves the figure's canvas."""
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    box = figure.bbox
    outside = []
    for text in visible_texts(figure):
        extent = text.get_window_extent(renderer)
        if (
            extent.x0 < box.x0 - TOLERANCE
            or extent.y0 < box.y0 - TOLERANCE
            or extent.x1 > box.x1 + TOLERANCE
            or extent.y1 > box.y1 + TOLERANCE
        ):
            outside.append(f"{text.get_text()!r} at {np.round(extent.extents).tolist()}")
    return outside


def visible_texts(figure: Figure) -> list[Text]:
    """The texts drawn: visible, not empty, and no label of a tick beyond its axis's limits."""
    hidden = {id(label) for label in undrawn_tick_labels(figure)}
    found = figure.findobj(lambda artist: isinstance(artist, Text))
    return [t for t in found if t.get_visible() and t.get_text().strip() and id(t) not in hidden]


def undrawn_tick_labels(figure: Figure) -> list[Text]:
    labels = []
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
                if not low - 1e-9 <= tick.get_loc() <= high + 1e-9:
                    labels += [tick.label1, tick.label2]
    return labels


def shortened(figure: Figure) -> list[str]:
    """Texts cut short with an ellipsis."""
    return [text.get_text() for text in visible_texts(figure) if "…" in text.get_text()]


def legend_entries(figure: Figure) -> int:
    legends = [*figure.legends, *(ax.get_legend() for ax in figure.axes)]
    return sum(len(legend.get_texts()) for legend in legends if isinstance(legend, Legend))


def assert_legible(figure: Figure) -> None:
    assert texts_outside(figure) == []
    assert shortened(figure) == []


@pytest.fixture(scope="module")
def single() -> Result:
    return run(load("astana7"))


@pytest.fixture(scope="module")
def batch() -> Result:
    return run(load("astana7", "replications=40", "trace=true"))


@pytest.mark.parametrize("draw", [draw_positions, draw_utilities, draw_outcome])
def test_single_run_figures_keep_their_labels(single: Result, draw: Callable[[Any], Figure]) -> None:
    summary = expand_divisions(single.summary)
    figure = draw(extract_run_data(summary, single.trace, single.job.scenario))
    assert_legible(figure)


def test_issue_ends_and_actor_names_are_written_in_full(single: Result) -> None:
    summary = expand_divisions(single.summary)
    figure = draw_positions(extract_run_data(summary, single.trace, single.job.scenario))
    words = " ".join(" ".join(text.get_text().split()) for text in visible_texts(figure))
    assert "zones extended, with foreign monitors on every line" in words
    assert "United Nations (Special Envoy)" in words


def test_run_figures_mark_the_historical_record(single: Result) -> None:
    summary = expand_divisions(single.summary)
    data = extract_run_data(summary, single.trace, single.job.scenario)
    assert data.record["zones"].band == (0.4, 0.7)
    for draw in (draw_positions, draw_outcome):
        titles = [text.get_text() for text in visible_texts(draw(data))]
        assert any("record: agreed in 0.40–0.70" in title for title in titles)
        assert any("record: not agreed" in title for title in titles)


def test_zopa_keeps_its_labels(single: Result) -> None:
    assert_legible(draw_zopa(expand_divisions(single.summary), single.trace))


def test_utility_space_of_the_failed_issue(single: Result) -> None:
    scenario = single.job.scenario
    pair = choose_pair(single.summary, scenario)
    assert pair is not None
    assert {scenario.actors[pair.first], scenario.actors[pair.second]} == {"turkey", "iran"}
    figure = draw_utility_space(single.summary, single.trace, scenario)
    assert_legible(figure)
    labels = set(figure.axes[0].get_legend_handles_labels()[1])
    assert {"Pareto frontier", "Nash", "Kalai–Smorodinsky", "text on the table", "outcome"} <= labels


def test_batch_figures_keep_their_labels(batch: Result) -> None:
    record = record_marks(batch.job.scenario)
    for figure in (
        draw_agreement(batch.summary, record),
        draw_values(batch.summary, batch.tally, record),
        draw_batch_utilities(batch.summary, batch.tally),
        draw_utility_space(batch.summary, batch.outcome.trace, batch.job.scenario),
    ):
        assert_legible(figure)


def test_agreement_figure_shows_walk_outs_and_the_record(batch: Result) -> None:
    figure = draw_agreement(batch.summary, record_marks(batch.job.scenario))
    words = [text.get_text() for text in visible_texts(figure)]
    assert any("walk-outs" in word for word in words)
    assert any("record" in word for word in words)
    assert "Syrian government" in words


def test_values_axis_zooms_to_the_agreed_values(batch: Result) -> None:
    figure = draw_values(batch.summary, batch.tally, record_marks(batch.job.scenario))
    zones, _, demining = figure.axes
    assert zones.get_xlim()[1] - zones.get_xlim()[0] < 0.5
    assert demining.get_xlim()[1] - demining.get_xlim()[0] < 0.2
    assert zones.get_xlim()[0] <= 0.4 and zones.get_xlim()[1] >= 0.7


def test_batch_utilities_show_the_spread_not_the_mean(batch: Result) -> None:
    figure = draw_batch_utilities(batch.summary, batch.tally)
    ax = figure.axes[0]
    assert len(ax.patches) == len(batch.job.scenario.actors)


def test_many_actors_are_grouped() -> None:
    scenario = random_scenario(60, 2, seed=3)
    outcome = run_batch(scenario, {"name": "alternating", "max_steps": 15}, np.arange(1), trace=True)
    summary = expand_divisions(summarize(outcome))
    data = extract_run_data(summary, outcome.trace, scenario)
    assert len(data.named) == MAX_NAMED
    assert len(data.others) == 60 - MAX_NAMED
    colours = {key: style.colour for key, style in data.actors.items()}
    zopa = draw_zopa(summary, outcome.trace, colours, data.named)
    for figure in (draw_positions(data), draw_utilities(data), draw_outcome(data), zopa):
        assert_legible(figure)
        assert legend_entries(figure) <= MAX_NAMED + 8


def test_tornado_keeps_its_labels() -> None:
    summary = {
        "title": "Astana talks on Syria, round 7",
        "replications": 1,
        "issues": {"detainees": {"outcome": "failed", "target": "agreed"}},
    }
    rows = pd.DataFrame(
        {
            "issue": ["detainees"] * 3,
            "verified": [True] * 3,
            "relative_change": [0.1, 0.4, 1.0],
            "direction": [1, -1, 0],
            "key": ["iran.reservation", "turkey.ideal.detainees", "jordan.present"],
            "baseline": [0.55, 0.8, True],
            "threshold": [0.6, 0.5, False],
            "parameter": [
                "Iran's reservation",
                "United Nations (Special Envoy)'s salience on detainees",
                "Jordan's presence",
            ],
        }
    )
    assert_legible(draw_tornado(summary, rows))


def test_series_timeline_keeps_its_labels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[Figure] = []
    monkeypatch.setattr(series_figures, "save_figure", lambda figure, path: drawn.append(figure) or path)
    table = pd.DataFrame(
        {
            "round": [1, 2, 3, 1, 2, 3],
            "issue": ["ceasefire"] * 3 + ["detainees"] * 3,
            "p_agree": [0.8, 0.6, 0.9, 0.1, 0.2, 0.3],
            "low": [0.7, 0.5, 0.8, 0.05, 0.1, 0.2],
            "high": [0.9, 0.7, 0.95, 0.2, 0.3, 0.4],
            "recorded": [1, 0.5, 1, 0, 0, 0.5],
        }
    )
    series_figures.write_timeline_plot(tmp_path, table, ["ceasefire", "detainees"], "Astana rounds 1 to 3")
    assert_legible(drawn[0])
