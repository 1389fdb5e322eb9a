"""The dashboard: watch a negotiation step by step in the browser (Mesa's SolaraViz).

    solara run sim/app.py

Choose a scenario (the named ones and the published tables under `data/`) and a protocol; move
each actor's ideal point, salience, reservation and capability; step, play or reset; the figures
are the run folder's own (`positions.png`, `utilities.png`, `outcome.png`) drawn from the live
model, beside the table of issues with the Nash bargaining point; "Write this run" writes the
run's folder under `results/`, as `python -m sim` would.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz

from sim.api import NegotiationModel, load
from sim.core.build import normalise_salience
from sim.core.scenario import Scenario
from sim.figures.run import draw_outcome, draw_positions, draw_utilities, extract_run_data
from sim.outputs.outcome import Outcome
from sim.outputs.result import Result
from sim.outputs.summary import expand_divisions
from sim.outputs.trace import trace_frame
from sim.protocols import PROTOCOLS
from sim.setup.catalog import scenarios
from sim.setup.job import Job
from sim.studies.run import write_run

PROJECT = Path(__file__).resolve().parents[1]
TABLES = ("data/decide", "data/bdm", "data/ktab")
"""Folders whose tables the dashboard offers (DEU III's hundreds of issues are left to `task=validate`)."""
SLIDER_ACTORS = 12
"""At most this many actors get sliders (the most capable); the rest keep their numbers."""
SLIDER_ISSUES = 6
"""At most this many issues get sliders per actor."""
SEPARATOR = "|"


def choices() -> list[str]:
    """The scenarios the dashboard offers: every named single negotiation, then every table."""
    named = [name for name in scenarios() if name not in ("table", "astana_series")]
    tables = sorted(
        str(path.relative_to(PROJECT)) for folder in TABLES for path in (PROJECT / folder).glob("*.csv")
    )
    return named + tables


@cache
def base_job(choice: str, protocol: str) -> Job:
    """The job of a choice: a named scenario, or a table (`scenario=table scenario.path=...`)."""
    if choice.endswith(".csv"):
        return load("table", f"scenario.path={PROJECT / choice}", protocol=protocol, plots=True)
    return load(choice, protocol=protocol, plots=True)


def slider_key(actor: str, quantity: str, issue: str = "") -> str:
    return SEPARATOR.join(part for part in (actor, quantity, issue) if part)


def sliders(scenario: Scenario) -> dict[str, dict[str, Any]]:
    """Mesa user parameters: per actor (the most capable first) its ideal and salience per issue,
    its reservation and capability."""
    order = np.argsort(-scenario.capability, kind="stable")[:SLIDER_ACTORS]
    columns = [k for k, column in enumerate(scenario.columns) if not column.division][:SLIDER_ISSUES]
    params: dict[str, dict[str, Any]] = {}
    for i in sorted(order):
        actor, name = scenario.actors[i], scenario.display_names[i]
        for k in columns:
            issue = scenario.columns[k].name
            for quantity, values in (("ideal", scenario.ideal), ("salience", scenario.stated_salience)):
                params[slider_key(actor, quantity, issue)] = _slider(
                    f"{name}: {quantity} on {issue}", values[i, k], 1.0
                )
        params[slider_key(actor, "reservation")] = _slider(
            f"{name}: reservation", scenario.reservation[i], 0.99
        )
        params[slider_key(actor, "capability")] = _slider(f"{name}: capability", scenario.capability[i], 1.0)
    return params


def _slider(label: str, value: float, high: float) -> dict[str, Any]:
    return {
        "type": "SliderFloat",
        "label": label,
        "value": round(float(value), 2),
        "min": 0.0,
        "max": high,
        "step": 0.01,
    }


def with_numbers(scenario: Scenario, numbers: Mapping[str, float]) -> Scenario:
    """The scenario with the sliders' numbers (keys `actor|quantity[|issue]`)."""
    ideal, stated = scenario.ideal.copy(), scenario.stated_salience.copy()
    reservation, capability = scenario.reservation.copy(), scenario.capability.copy()
    issues = [column.name for column in scenario.columns]
    for key, value in numbers.items():
        actor, quantity, *issue = key.split(SEPARATOR)
        i = scenario.index(actor)
        if quantity == "ideal":
            ideal[i, issues.index(issue[0])] = value
        elif quantity == "salience":
            stated[i, issues.index(issue[0])] = value
        elif quantity == "reservation":
            reservation[i] = value
        elif quantity == "capability":
            capability[i] = value
    return dataclasses.replace(
        scenario,
        ideal=ideal,
        stated_salience=stated,
        salience=normalise_salience(stated),
        reservation=reservation,
        capability=capability,
    )


class DashboardModel(NegotiationModel):
    """The negotiation of the dashboard: a choice of scenario, a protocol, a seed and the sliders.

    Mesa's reset passes a `scenario` of its own (`mesa.experimental.scenarios`); the negotiation
    is named by `negotiation` instead, and that keyword is ignored.
    """

    def __init__(
        self,
        negotiation: str = "astana7",
        protocol: str = "alternating",
        rng: int | None = 0,
        scenario: Any = None,
        **numbers: float,
    ) -> None:
        job = base_job(negotiation, protocol)
        self.job = dataclasses.replace(job, scenario=with_numbers(job.scenario, numbers), seed=int(rng or 0))
        super().__init__(self.job.scenario, protocol=job.protocol, rng=self.job.seed)

    def result(self) -> Result:
        """The run so far, as `sim.run` returns a finished one."""
        outcome = dataclasses.replace(Outcome.of(self), trace=trace_frame(self))
        return Result(self.job, outcome)

    def write(self, root: Path) -> Path:
        """Write the run's folder under `root/<scenario>/<date_time>/`; return it."""
        stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S-%f")
        folder = Path(root) / self.job.scenario.name / stamp
        folder.mkdir(parents=True, exist_ok=False)
        return write_run(self.result(), folder)


def run_figures(model: DashboardModel) -> dict[str, Figure]:
    result = model.result()
    run = extract_run_data(expand_divisions(result.summary), result.trace, result.job.scenario)
    return {"positions": draw_positions(run), "utilities": draw_utilities(run), "outcome": draw_outcome(run)}


def issue_table(model: DashboardModel) -> pd.DataFrame:
    """Per issue: agreed or not, the value and step, the text on the table and the Nash point."""
    summary = model.result().summary
    nash = summary["reference"].get("nash") or {}
    rows = []
    for issue, outcome in summary["issues"].items():
        agreed = outcome["agreement_probability"] == 1
        rows.append(
            {
                "issue": issue,
                "agreed": "yes" if agreed else "not yet" if model.running else "no",
                "value": f"{outcome['value']['median']:.3f}" if agreed else "",
                "step": f"{outcome['step']['mean']:.0f}" if agreed else "",
                "Nash point": f"{nash[issue]:.3f}" if nash.get(issue) is not None else "",
            }
        )
    return pd.DataFrame(rows)


def Figures(model: DashboardModel) -> solara.Element:
    with solara.Column() as column:
        for figure in run_figures(model).values():
            solara.FigureMatplotlib(figure, format="png")
    return column


def Issues(model: DashboardModel) -> solara.Element:
    written = solara.use_reactive("")

    def write() -> None:
        written.set(str(model.write(PROJECT / "results")))

    with solara.Column() as column:
        table = issue_table(model)
        agreed = ", ".join(table.loc[table["agreed"] == "yes", "issue"]) or "none"
        solara.Markdown(
            f"**{model.job.scenario.title}**, step {model.steps} of {model.max_steps}. Agreed: {agreed}."
        )
        solara.DataFrame(table, items_per_page=20)
        solara.Button("Write this run", on_click=write, color="primary")
        if written.value:
            solara.Text(f"Written: {written.value}")
    return column


chosen_scenario = solara.reactive("astana7")
chosen_protocol = solara.reactive("alternating")


@solara.component
def Page() -> None:
    choice, protocol = chosen_scenario.value, chosen_protocol.value
    with solara.Sidebar():
        solara.Select("scenario", values=choices(), value=chosen_scenario)
        solara.Select("protocol", values=list(PROTOCOLS), value=chosen_protocol)
    model = DashboardModel(choice, protocol)
    params: dict[str, Any] = {
        "negotiation": choice,
        "protocol": protocol,
        "rng": {"type": "SliderInt", "label": "seed", "value": 0, "min": 0, "max": 999, "step": 1},
    }
    params |= sliders(model.job.scenario)
    SolaraViz(
        model,
        components=[(Issues, 0), (Figures, 0)],
        model_params=params,
        name="astana-sim",
    ).key(f"{choice}-{protocol}")
