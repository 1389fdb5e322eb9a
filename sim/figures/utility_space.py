"""The outcome in utility space for the two actors who matter most: `utility_space.png`.

The two actors are the veto players whose acceptable ranges miss on the failed issue (the
summary's `why.at_deadline.apart`), or, when every issue closed, the two weightiest veto players
on the first issue (capability times salience). The figure places, in the plane of their
utilities over the positional issues, every text on the table (from the trace, the offers on the
open issues with the agreed values of the closed ones), the Pareto frontier of the two, the Nash
and Kalai–Smorodinsky points (`sim.analysis.solutions.IssueSpace`), their reservation values, and
the outcome.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.analysis.solutions import IssueSpace
from sim.core.scenario import Role, Scenario

FONT_SIZE = 8
FRONTIER_WEIGHTS = 25
STEP_COLOURS = "viridis"


@dataclass(frozen=True)
class Pair:
    """The two actors drawn, and why they were chosen."""

    first: int
    second: int
    reason: str


def draw_utility_space(summary: Mapping[str, Any], trace: pd.DataFrame | None, scenario: Scenario) -> Figure:
    """The texts, the frontier, Nash and Kalai–Smorodinsky, the reservations and the outcome."""
    fig = Figure(figsize=(6.8, 5.4), dpi=120, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    pair = choose_pair(summary, scenario)
    columns = [k for k, column in enumerate(scenario.columns) if not column.division]
    if pair is None or not columns:
        ax.set_axis_off()
        words = "no positional issue and two veto players to compare"
        ax.text(0.5, 0.5, words, ha="center", va="center", transform=ax.transAxes)
        return fig
    rows = np.array([pair.first, pair.second])
    space = IssueSpace(
        scenario.ideal[np.ix_(rows, columns)],
        scenario.salience[np.ix_(rows, columns)],
        scenario.reservation[rows],
        scenario.utility_exponent,
    )
    _draw_frontier(ax, space)
    _draw_texts(fig, ax, space, text_points(trace, scenario, columns))
    _draw_reservations(ax, space.reservation)
    _draw_solutions(ax, space)
    _draw_outcome(ax, summary, scenario, rows)
    names = [scenario.display_names[i] for i in rows]
    ax.set_xlabel(f"utility of {names[0]}", fontsize=FONT_SIZE + 1)
    ax.set_ylabel(f"utility of {names[1]}", fontsize=FONT_SIZE + 1)
    ax.tick_params(labelsize=FONT_SIZE)
    ax.grid(color="0.92", lw=0.8)
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(fontsize=FONT_SIZE, loc="lower left", framealpha=0.85)
    title = summary.get("title") or summary.get("scenario") or "negotiation"
    ax.set_title(f"{title}: the outcome in utility space\n{pair.reason}", fontsize=FONT_SIZE + 1, loc="left")
    return fig


def has_utility_space(summary: Mapping[str, Any], scenario: Scenario) -> bool:
    """Whether the scenario has a positional issue and two veto players to draw."""
    positional = any(not column.division for column in scenario.columns)
    return positional and choose_pair(summary, scenario) is not None


def choose_pair(summary: Mapping[str, Any], scenario: Scenario) -> Pair | None:
    """The two veto players apart on the failed issue, else the two weightiest on the first."""
    index = {actor: i for i, actor in enumerate(scenario.actors)}
    issues = summary.get("issues") or {}
    for name, issue in sorted(issues.items(), key=lambda item: item[1].get("agreement_probability", 1)):
        if issue.get("agreement_probability", 1) >= 1:
            break
        apart = ((issue.get("why") or {}).get("at_deadline") or {}).get("apart") or []
        actors = [index[a] for a in (apart[0]["actors"] if apart else []) if a in index]
        if len(actors) == 2:
            return Pair(actors[0], actors[1], f"the two veto players whose ranges miss on {name}")
    return _weightiest_veto_pair(scenario)


def _weightiest_veto_pair(scenario: Scenario) -> Pair | None:
    positional = [k for k, column in enumerate(scenario.columns) if not column.division]
    if not positional:
        return None
    k = positional[0]
    roles = np.array(scenario.roles)
    for wanted in ((Role.signatory,), (Role.signatory, Role.party)):
        chosen = np.flatnonzero(scenario.present & np.isin(roles, wanted))
        if len(chosen) >= 2:
            weight = scenario.capability[chosen] * scenario.salience[chosen, k]
            first, second = chosen[np.argsort(-weight, kind="stable")[:2]]
            issue = scenario.columns[k].name
            return Pair(int(first), int(second), f"the two weightiest veto players on {issue}")
    return None


def text_points(trace: pd.DataFrame | None, scenario: Scenario, columns: list[int]) -> pd.DataFrame:
    """Per step with an offer, the text on the table over `columns`: the offers on the open issues,
    the last offer or the agreed value on the others (a batch's trace: its first replication)."""
    names = [scenario.columns[k].name for k in columns]
    if trace is None or trace.empty:
        return pd.DataFrame(columns=["step", *names])
    rows = trace
    if "seed" in rows.columns:
        rows = rows[rows["seed"] == rows["seed"].iloc[0]]
    offers = rows[(rows["quantity"] == "offer") & rows["issue"].isin(names)]
    if offers.empty:
        return pd.DataFrame(columns=["step", *names])
    table = offers.pivot_table(index="step", columns="issue", values="value", aggfunc="last")
    table = table.reindex(columns=names).ffill()
    table = table.fillna(
        pd.Series({n: float(np.mean(scenario.ideal[:, k])) for n, k in zip(names, columns, strict=True)})
    )
    return table.reset_index()


def _draw_texts(fig: Figure, ax: Axes, space: IssueSpace, texts: pd.DataFrame) -> None:
    if texts.empty:
        return
    points = np.array([space.utility(row) for row in texts.drop(columns="step").to_numpy(dtype=float)])
    steps = texts["step"].to_numpy(dtype=float)
    norm = Normalize(steps.min(), max(steps.max(), steps.min() + 1))
    ax.plot(points[:, 0], points[:, 1], color="0.6", lw=0.7, zorder=2)
    dots = ax.scatter(
        points[:, 0],
        points[:, 1],
        c=steps,
        cmap=colormaps[STEP_COLOURS],
        norm=norm,
        s=24,
        edgecolors="black",
        linewidths=0.4,
        zorder=3,
        label="text on the table",
    )
    bar = fig.colorbar(dots, ax=ax, shrink=0.7, pad=0.02)
    bar.set_label("step of the text", fontsize=FONT_SIZE)
    bar.ax.tick_params(labelsize=FONT_SIZE)
    bar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def _draw_frontier(ax: Axes, space: IssueSpace) -> None:
    """The Pareto frontier of the two, traced by weighted utilitarian points (reservations at 0)."""
    full = IssueSpace(space.ideal, space.salience, np.zeros(2), space.exponent)
    points = []
    for weight in np.linspace(0.0, 1.0, FRONTIER_WEIGHTS):
        x = full.utilitarian(np.array([weight, 1.0 - weight]))
        if x is not None:
            points.append(full.utility(x))
    if points:
        frontier = np.unique(np.round(np.array(points), 9), axis=0)
        frontier = frontier[np.argsort(frontier[:, 0])]
        ax.plot(frontier[:, 0], frontier[:, 1], color="black", lw=1.6, zorder=2, label="Pareto frontier")


def _draw_reservations(ax: Axes, reservation: np.ndarray) -> None:
    ax.axvline(reservation[0], color="firebrick", ls=":", lw=1.2, zorder=1, label="reservation values")
    ax.axhline(reservation[1], color="firebrick", ls=":", lw=1.2, zorder=1)


def _draw_solutions(ax: Axes, space: IssueSpace) -> None:
    concepts = (("nash", "Nash", "D"), ("kalai_smorodinsky", "Kalai–Smorodinsky", "s"))
    for concept, label, marker in concepts:
        x = getattr(space, concept)()
        if x is None:
            continue
        u = space.utility(x)
        ax.plot(
            [u[0]],
            [u[1]],
            ls="none",
            marker=marker,
            ms=8,
            mfc="white",
            mec="black",
            mew=1.5,
            zorder=5,
            label=label,
        )


def _draw_outcome(ax: Axes, summary: Mapping[str, Any], scenario: Scenario, rows: np.ndarray) -> None:
    utilities = summary.get("utilities") or {}
    keys = [scenario.actors[i] for i in rows]
    if not all(key in utilities for key in keys):
        return
    u = [float(utilities[key]["mean"]) for key in keys]
    label = "outcome" if summary.get("replications", 1) == 1 else "outcome (mean utility)"
    ax.plot([u[0]], [u[1]], ls="none", marker="*", ms=16, mfc="gold", mec="black", zorder=6, label=label)
