"""The dashboard (`sim/app.py`), rendered headlessly with solara: controls, sliders, live figures."""

from __future__ import annotations

import json

import ipyvuetify as v
import ipywidgets as w
import pytest
import solara

import sim
from sim.app import DashboardModel, Page, choices, sliders


@solara.component
def Dashboard() -> None:
    with solara.AppLayout():
        Page()


def texts(rc) -> str:
    """The page's widget tree as text (Markdown blocks sit in the grid layout's items, which
    the finder does not enter)."""
    return repr(rc.find().widget)


def steps_per_click(rc, steps: int) -> None:
    """Mesa's render interval: how many steps one press of Step runs (one redraw)."""
    rc.find(v.Slider, label="Render Interval (steps)").widget.v_model = steps


def press(rc, label: str, times: int = 1) -> None:
    for _ in range(times):
        rc.find(v.Btn, children=[label]).widget.click()


def test_step_moves_the_talks_and_redraws_the_figures():
    _, rc = solara.render(Dashboard(), handle_error=False)
    assert "step 0 of 40" in texts(rc)
    press(rc, "Step")
    assert "step 1 of 40" in texts(rc)
    assert len(rc.find(w.Image).widgets) == 3  # positions, utilities, outcome
    steps_per_click(rc, 39)
    press(rc, "Step")
    assert "Agreed: zones, demining." in texts(rc)  # astana7: detainees fails


def test_a_slider_changes_the_negotiation_after_reset():
    _, rc = solara.render(Dashboard(), handle_error=False)
    slider = rc.find(v.Slider, label="Iran: ideal on detainees").widget
    assert slider.v_model == pytest.approx(0.1)
    slider.v_model = 0.6
    press(rc, "Reset")
    steps_per_click(rc, 40)
    press(rc, "Step")
    assert "Agreed: zones, detainees, demining." in texts(rc)


def test_every_choice_builds_and_every_slider_names_a_number():
    assert {"astana7", "data/decide/copenhagen.csv", "data/bdm/ExampleActors_EC.csv"} <= set(choices())
    model = DashboardModel("data/decide/copenhagen.csv", "mediated")
    params = sliders(model.job.scenario)
    assert params and all(p["min"] <= p["value"] <= p["max"] for p in params.values())
    changed = DashboardModel(
        "astana7", "alternating", 0, **{"turkey|reservation": 0.2, "iran|capability": 0.9}
    )
    scenario = changed.job.scenario
    assert scenario.reservation[scenario.index("turkey")] == 0.2
    assert scenario.capability[scenario.index("iran")] == 0.9


def test_write_this_run_writes_what_the_command_line_would(tmp_path):
    model = DashboardModel("astana7", "alternating", 3)
    model.run()
    folder = model.write(tmp_path)
    expected = sim.run("astana7", seed=3)
    written = json.loads((folder / "summary.json").read_text())
    assert written == json.loads(json.dumps(expected.summary))
    sim.write(expected, tmp_path / "api")
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in (tmp_path / "api").iterdir())
