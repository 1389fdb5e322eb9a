"""Figures of one negotiation run: positions on each issue, utilities and aspirations, and the outcome.

`write_run_plots` draws four PNG files into a run directory from the run's summary (the
`summary.json` schema of one replication, its divisions expanded by
`sim.outputs.summary.expand_divisions`) and its tidy trace, the fourth the zone of possible
agreement (`sim.figures.zopa`), and, given the scenario, a fifth the outcome in utility space
(`sim.figures.utility_space`). Every actor keeps one colour (from the order of
`summary["actors"]`) and one line style (from its role) in all of them. With more than
`MAX_NAMED` actors, only the weightiest (capability times salience, from the scenario when it is
given) are named and coloured; the others are drawn thin and grey as "N others". Where the
scenario records the historical outcome of an issue, the figures mark it. Figures use
the object-oriented API with the Agg canvas, so drawing never touches pyplot's global state, and
are laid out in inches from measured text, which keeps each figure to a single rendering pass.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from sim.core.scenario import Record, Scenario
from sim.figures.utility_space import draw_utility_space, has_utility_space
from sim.figures.zopa import draw_zopa
from sim.outputs.files import write_atomically
from sim.outputs.trace import TABLE, TRACE_COLUMNS

DPI = 120
FONT_SIZE = 8
TITLE_SIZE = 9
SUPTITLE_SIZE = 11
ROLE_LINESTYLES = {"signatory": "-", "party": "--", "observer": ":", "mediator": "-."}
ROLE_MARKERS = {"signatory": "s", "party": "o", "observer": "^", "mediator": "v"}
RESERVATION_LINESTYLE = (0, (1, 3))
UNKNOWN_COLOUR = (0.5, 0.5, 0.5, 1.0)
LABEL_BOX = {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75}
MAX_OUTCOME_ROWS = 10
OUTCOME_ROW_HEIGHT = 0.22
MAX_NAMED = 12
OTHERS_COLOUR = (0.6, 0.6, 0.6, 1.0)
OTHERS_QUANTILES = (0.0, 0.1, 0.5, 0.9, 1.0)
RECORD_COLOUR = (0.2, 0.55, 0.2, 1.0)
END_WRAP = 20
END_LINES = 4

Colour = tuple[float, float, float, float]
Series = tuple[np.ndarray, np.ndarray]
Placement = tuple[str, float, int, bool]


@dataclass(frozen=True)
class ActorStyle:
    """How one actor is drawn: its colour, its role's line style and marker, and its labels."""

    key: str
    name: str
    role: str
    colour: Colour

    @property
    def linestyle(self) -> str:
        return ROLE_LINESTYLES.get(self.role, "-")

    @property
    def marker(self) -> str:
        return ROLE_MARKERS.get(self.role, "o")

    @property
    def label(self) -> str:
        return f"{self.name} ({self.role})"


@dataclass(frozen=True)
class Offers:
    """The texts on the table for one issue: step, value and proposer of each offer, by step."""

    steps: np.ndarray
    values: np.ndarray
    proposers: list[str]


@dataclass(frozen=True)
class RunData:
    """Everything the three figures read, extracted once from the summary and the trace."""

    title: str
    subtitle: str
    steps: int
    issues: list[str]
    outcomes: Mapping[str, Mapping[str, Any]]
    issue_ends: Mapping[str, tuple[str, str]]
    actors: dict[str, ActorStyle]
    ideals: dict[str, Mapping[str, float]]
    reservations: dict[str, float]
    walkouts: dict[str, int]
    nash: Mapping[str, float]
    positions: dict[tuple[str, str], Series]
    offers: dict[str, Offers]
    utility: dict[str, Series]
    aspiration: dict[str, Series]
    others: frozenset[str] = frozenset()
    record: Mapping[str, Record] = field(default_factory=dict)

    @property
    def named(self) -> list[str]:
        """The actors drawn in their own colour and named in legends, in the summary's order."""
        return [key for key in self.actors if key not in self.others]


@dataclass(frozen=True)
class Grid:
    """A grid of panels in inches: axes size, the margins around each column, and the gaps."""

    n_cols: int
    axes_width: float
    row_heights: Sequence[float]
    left: float
    right: float
    top: float
    bottom: float
    row_gap: float

    @property
    def width(self) -> float:
        return self.n_cols * (self.left + self.axes_width + self.right)

    @property
    def height(self) -> float:
        return self.top + sum(self.row_heights) + self.row_gap * (len(self.row_heights) - 1) + self.bottom


def write_run_plots(
    run_dir: Path, summary: dict, trace: pd.DataFrame, scenario: Scenario | None = None
) -> list[Path]:
    """Write positions.png, utilities.png, outcome.png and zopa.png into `run_dir`, and, given the
    scenario, utility_space.png; return their paths."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    run = extract_run_data(summary, trace, scenario)
    figures = {"positions.png": draw_positions, "utilities.png": draw_utilities, "outcome.png": draw_outcome}
    figures["zopa.png"] = lambda run: draw_zopa(
        summary, trace, {k: s.colour for k, s in run.actors.items()}, run.named
    )
    if scenario is not None and has_utility_space(summary, scenario):
        figures["utility_space.png"] = lambda run: draw_utility_space(summary, trace, scenario)
    for filename, draw in figures.items():
        _save(draw(run), run_dir / filename)
    return [run_dir / filename for filename in figures]


def _save(figure: Figure, path: Path) -> None:
    """Write a figure as PNG through a temporary file, so a stopped run leaves no half-written plot."""
    write_atomically(
        path,
        lambda stream: figure.savefig(
            stream, format="png", dpi=DPI, facecolor="white", pil_kwargs={"compress_level": 3}
        ),
        binary=True,
    )


def extract_run_data(
    summary: Mapping[str, Any], trace: pd.DataFrame | None, scenario: Scenario | None = None
) -> RunData:
    """Collect the series and metadata the figures need, tolerating an empty trace; the scenario,
    when given, ranks the actors by weight and gives the historical record."""
    rows = _checked_trace(trace)
    specs = summary.get("actors") or {}
    actor_keys = _ordered_unique([*specs, *rows["actor"].tolist()])
    issues = _ordered_unique(
        [*(summary.get("issues") or {}), *(issue for issue in rows["issue"].tolist() if issue != "all")]
    )
    ended = (summary.get("steps") or {}).get("max") or 0
    steps = max(int(ended), int(rows["step"].max()) if len(rows) else 0)
    meta = summary.get("issues_meta") or {}
    by_actor = {key: specs.get(key, {}) for key in actor_keys}
    others = _minor_actors(actor_keys, specs, scenario)
    return RunData(
        title=str(summary.get("title") or summary.get("scenario") or "negotiation"),
        subtitle=_subtitle(summary, steps),
        steps=steps,
        issues=issues,
        outcomes=_outcomes(summary.get("issues") or {}),
        issue_ends={issue: _issue_ends(meta.get(issue, {})) for issue in issues},
        actors=_actor_styles(actor_keys, specs, others),
        ideals={key: spec.get("ideal", {}) for key, spec in by_actor.items()},
        reservations={key: spec["reservation"] for key, spec in by_actor.items() if "reservation" in spec},
        walkouts=_walkout_steps(summary, rows),
        nash=(summary.get("reference") or {}).get("nash") or {},
        positions=_series(rows, "position"),
        offers=_offers(rows),
        utility={actor: series for (actor, _), series in _series(rows, "utility").items()},
        aspiration={actor: series for (actor, _), series in _series(rows, "aspiration").items()},
        others=others,
        record=record_marks(scenario),
    )


def record_marks(scenario: Scenario | None) -> dict[str, Record]:
    """Per issue the scenario's historical record speaks of, what it recorded."""
    return {} if scenario is None else dict(scenario.record)


def actor_weights(scenario: Scenario) -> dict[str, float]:
    """Each actor's capability times its mean stated salience: how much it weighs on the table."""
    salience = scenario.stated_salience if scenario.stated_salience.size else scenario.salience
    weight = np.asarray(scenario.capability, dtype=float) * salience.mean(axis=1)
    return {key: float(w) for key, w in zip(scenario.actors, weight, strict=True)}


def _minor_actors(
    keys: Sequence[str], specs: Mapping[str, Mapping[str, Any]], scenario: Scenario | None
) -> frozenset[str]:
    """The actors beyond the `MAX_NAMED` weightiest (by role and order without a scenario)."""
    actors = [key for key in keys if key != TABLE]
    if len(actors) <= MAX_NAMED:
        return frozenset()
    weights = actor_weights(scenario) if scenario is not None else {}
    roles = list(ROLE_LINESTYLES)

    def rank(item: tuple[int, str]) -> tuple[float, int, int]:
        number, key = item
        role = str(specs.get(key, {}).get("role") or "party")
        order = roles.index(role) if role in roles else len(roles)
        return (-weights.get(key, 0.0), order, number)

    ranked = [key for _, key in sorted(enumerate(actors), key=rank)]
    return frozenset(ranked[MAX_NAMED:])


def draw_positions(run: RunData) -> Figure:
    """One panel per issue: positions, offers on the table, ideal points and the agreement."""
    fig, renderer = _new_figure()
    n_cols = 1 if len(run.issues) <= 4 else 2
    n_rows = max(1, math.ceil(len(run.issues) / n_cols))
    tick_labels = [label for ends in run.issue_ends.values() for label in ends] + ["0.75"]
    grid = Grid(
        n_cols=n_cols,
        axes_width=6.0,
        row_heights=[1.9] * n_rows,
        left=0.45 + max(_text_width(renderer, label) for label in tick_labels),
        right=0.35,
        top=0.85,
        bottom=0.5,
        row_gap=0.5,
    )
    handles = [*_actor_handles(run), *_position_marker_handles(run)]
    axes = _keep_used(_layout(fig, renderer, grid, handles, "actors (line style = role)"), len(run.issues))
    for ax, issue in zip(axes, run.issues, strict=False):
        _draw_issue_panel(ax, run, issue)
    for ax in axes[: len(axes) - n_cols]:
        ax.tick_params(labelbottom=False)
    for ax in axes:
        ax.yaxis.set_label_coords(-(grid.left - 0.12) / grid.axes_width, 0.5)
    for ax in axes[-n_cols:]:
        ax.set_xlabel("step", fontsize=FONT_SIZE)
    _suptitle(fig, grid, f"{run.title}: positions on each issue\n{run.subtitle}")
    return fig


def draw_utilities(run: RunData) -> Figure:
    """Utility and aspiration of every actor over steps, with reservation values and walk-outs."""
    fig, renderer = _new_figure()
    grid = Grid(
        n_cols=1,
        axes_width=6.6,
        row_heights=[2.6, 2.6],
        left=0.45 + _text_width(renderer, "-0.00"),
        right=0.2,
        top=0.85,
        bottom=0.5,
        row_gap=0.45,
    )
    handles = _actor_handles(run)
    if run.reservations:
        handles.append(
            Line2D([], [], color="0.3", ls=RESERVATION_LINESTYLE, lw=1.2, label="reservation value")
        )
    if run.walkouts:
        handles.append(_walkout_handle())
    utility_ax, aspiration_ax = _layout(fig, renderer, grid, handles, "actors (line style = role)")
    aspiration_ax.sharex(utility_ax)
    _draw_actor_quantity(utility_ax, run, run.utility, "utility")
    _draw_actor_quantity(aspiration_ax, run, run.aspiration, "aspiration")
    utility_ax.tick_params(labelbottom=False)
    aspiration_ax.set_xlabel("step", fontsize=FONT_SIZE)
    _suptitle(fig, grid, f"{run.title}: utilities and aspirations\n{run.subtitle}")
    return fig


def draw_outcome(run: RunData) -> Figure:
    """Per issue, a strip with every actor's ideal point, the agreed value and the Nash reference."""
    fig, renderer = _new_figure()
    n_cols = 1 if len(run.issues) <= 4 else 2
    axes_width = 6.4
    placements = {issue: _place_outcome_labels(run, issue, renderer, axes_width) for issue in run.issues}
    rows = [_outcome_rows(run, issue, placements[issue]) for issue in run.issues] or [1]
    grid_rows = [max(rows[start : start + n_cols]) for start in range(0, len(rows), n_cols)]
    grid = Grid(
        n_cols=n_cols,
        axes_width=axes_width,
        row_heights=[0.2 + OUTCOME_ROW_HEIGHT * n for n in grid_rows],
        left=0.2,
        right=0.25,
        top=0.85,
        bottom=0.2 + _end_label_height(run),
        row_gap=0.5 + _end_label_height(run),
    )
    axes = _keep_used(_layout(fig, renderer, grid, _outcome_handles(run), "markers"), len(run.issues))
    for ax, issue in zip(axes, run.issues, strict=False):
        _draw_outcome_strip(ax, run, issue, placements[issue])
    _suptitle(fig, grid, f"{run.title}: outcome against each actor's ideal point\n{run.subtitle}")
    return fig


def _end_label_height(run: RunData) -> float:
    """Inches taken below an axis by the tallest issue-end label (lines of 8-point text)."""
    lines = max((label.count("\n") + 1 for ends in run.issue_ends.values() for label in ends), default=1)
    return 0.1 + lines * FONT_SIZE * 1.3 / 72


def _keep_used(axes: list[Axes], n_used: int) -> list[Axes]:
    """Remove the grid's spare cells; with nothing to show, keep one panel that says so."""
    if n_used == 0:
        axes[0].set_axis_off()
        _message(axes[0], "no issues")
        n_used = 1
    for ax in axes[n_used:]:
        ax.remove()
    return axes[:n_used]


def _draw_issue_panel(ax: Axes, run: RunData, issue: str) -> None:
    _style_axes(ax)
    _draw_others(ax, [run.positions.get((key, issue)) for key in run.others])
    for key in run.named:
        series = run.positions.get((key, issue))
        if series is not None:
            style = run.actors[key]
            ax.plot(*series, color=style.colour, ls=style.linestyle, lw=1.5, zorder=2)
            _mark_walkout(ax, run, key, series)
    _draw_offers(ax, run, issue)
    _draw_ideal_ticks(ax, run, issue)
    _draw_record_band(ax, run.record.get(issue), "y")
    outcome = run.outcomes.get(issue, {})
    record = _record_words(run, issue)
    if outcome.get("agreed"):
        _mark_agreement(ax, run, outcome)
        ax.set_title(
            f"{issue}: agreed at step {outcome.get('step')}{record}", loc="left", fontsize=TITLE_SIZE
        )
    else:
        ax.set_title(f"{issue}: not agreed{record}", loc="left", fontsize=TITLE_SIZE, color="darkred")
    _set_step_axis(ax, run.steps)
    _set_unit_axis(ax, "y", run.issue_ends[issue])
    ax.set_ylabel("position", fontsize=FONT_SIZE)
    if run.steps == 0:
        _message(ax, "no steps recorded")


def _draw_others(ax: Axes, series: Sequence[Series | None]) -> None:
    """The actors beyond the named ones, grouped: their full range, their 10–90% band and median."""
    lines = [line for line in series if line is not None and len(line[0])]
    if not lines:
        return
    steps = np.unique(np.concatenate([line[0] for line in lines]))
    table = np.full((len(steps), len(lines)), np.nan)
    for column, (when, values) in enumerate(lines):
        table[np.searchsorted(steps, when), column] = values
    counted = ~np.isnan(table).all(axis=1)
    steps, table = steps[counted].astype(float), table[counted]
    low, q10, median, q90, high = np.nanquantile(table, OTHERS_QUANTILES, axis=1)
    ax.fill_between(steps, low, high, color=OTHERS_COLOUR, alpha=0.18, lw=0, zorder=1)
    ax.fill_between(steps, q10, q90, color=OTHERS_COLOUR, alpha=0.35, lw=0, zorder=1)
    ax.plot(steps, median, color=OTHERS_COLOUR, lw=1.0, zorder=1)


def _draw_record_band(ax: Axes, record: Record | None, axis: str) -> None:
    """Shade the recorded band of an agreed issue (a line when it is a point)."""
    band = None if record is None else record.band
    if band is None:
        return
    low, high = band
    span = ax.axhspan if axis == "y" else ax.axvspan
    line = ax.axhline if axis == "y" else ax.axvline
    if high - low > 0.005:
        span(low, high, color=RECORD_COLOUR, alpha=0.13, lw=0, zorder=0)
    for end in {low, high}:
        line(end, color=RECORD_COLOUR, lw=1.0, ls="--", zorder=1)


def _record_words(run: RunData, issue: str) -> str:
    """What the record says of an issue, in a few words, after a separator; "" without a record."""
    record = run.record.get(issue)
    if record is None:
        return ""
    if record.band is None:
        return f" · record: {'agreed' if record.agreed else 'not agreed'}"
    return f" · record: agreed in {record.band[0]:.2f}–{record.band[1]:.2f}"


def _draw_offers(ax: Axes, run: RunData, issue: str) -> None:
    offers = run.offers.get(issue)
    if offers is None:
        return
    colours = [_colour_of(run, proposer) for proposer in offers.proposers]
    ax.plot(offers.steps, offers.values, color="0.45", lw=0.8, zorder=3)
    ax.scatter(
        offers.steps,
        offers.values,
        s=20,
        c=colours,
        edgecolors="black",
        linewidths=0.4,
        zorder=4,
        clip_on=False,
    )


def _draw_ideal_ticks(ax: Axes, run: RunData, issue: str) -> None:
    ideals = [(key, run.ideals[key][issue]) for key in run.actors if issue in run.ideals.get(key, {})]
    if not ideals:
        return
    segments = [[(1.01, value), (1.045, value)] for _, value in ideals]
    colours = [(*run.actors[key].colour[:3], 0.3 if key in run.others else 1.0) for key, _ in ideals]
    widths = [0.8 if key in run.others else 3.0 for key, _ in ideals]
    ticks = LineCollection(segments, colors=colours, linewidths=widths, transform=ax.get_yaxis_transform())
    ticks.set_clip_on(False)
    ax.add_collection(ticks, autolim=False)


def _mark_agreement(ax: Axes, run: RunData, outcome: Mapping[str, Any]) -> None:
    step, value = outcome.get("step"), outcome.get("value")
    if step is None or value is None:
        return
    ax.axvline(step, color="black", lw=1, alpha=0.7, zorder=1)
    ax.plot([step], [value], ls="none", marker="*", ms=14, mfc="gold", mec="black", zorder=6, clip_on=False)
    on_right = step <= 0.65 * max(run.steps, 1)
    ax.annotate(
        f"agreed at step {step}: {value:.2f}",
        xy=(step, 1.0),
        xycoords=ax.get_xaxis_transform(),
        xytext=(4 if on_right else -4, -2),
        textcoords="offset points",
        ha="left" if on_right else "right",
        va="top",
        fontsize=FONT_SIZE,
        bbox={**LABEL_BOX, "ec": "0.6"},
        zorder=7,
    )


def _draw_actor_quantity(
    ax: Axes, run: RunData, series_by_actor: Mapping[str, Series], quantity: str
) -> None:
    _style_axes(ax)
    named = run.named
    for key in named:
        if key in run.reservations:
            colour = run.actors[key].colour
            ax.axhline(run.reservations[key], color=colour, ls=RESERVATION_LINESTYLE, lw=1.1, zorder=1)
    _draw_others(ax, [series_by_actor.get(key) for key in run.others])
    few_walkouts = sum(key in run.walkouts for key in named) <= 5
    for key in named:
        series = series_by_actor.get(key)
        if series is not None:
            style = run.actors[key]
            ax.plot(*series, color=style.colour, ls=style.linestyle, lw=1.5, zorder=2)
            _mark_walkout(ax, run, key, series, label=few_walkouts)
    _set_step_axis(ax, run.steps)
    ax.set_ylabel(quantity, fontsize=FONT_SIZE)
    title = f"{quantity} of each actor (dotted lines: reservation values)"
    ax.set_title(title, loc="left", fontsize=TITLE_SIZE)
    if run.steps == 0:
        _message(ax, "no steps recorded")


def _mark_walkout(ax: Axes, run: RunData, key: str, series: Series, label: bool = False) -> None:
    """Put a cross where `key` walked out, if its series was still running then."""
    step = run.walkouts.get(key)
    steps, values = series
    if step is None or not len(steps) or steps[-1] < step - 1:
        return
    value = values[np.flatnonzero(steps <= step)[-1]] if steps[0] <= step else values[0]
    colour = run.actors[key].colour
    ax.plot([step], [value], ls="none", marker="X", ms=9, mfc=colour, mec="black", zorder=6, clip_on=False)
    if label:
        on_left = step > 0.7 * max(run.steps, 1)
        ax.annotate(
            f"{run.actors[key].name} walked out",
            xy=(step, value),
            xytext=(-7 if on_left else 7, 7),
            textcoords="offset points",
            ha="right" if on_left else "left",
            fontsize=FONT_SIZE - 1,
            color="0.15",
            bbox=LABEL_BOX,
            zorder=7,
        )


def _place_outcome_labels(
    run: RunData, issue: str, renderer: RendererAgg, axes_width: float
) -> list[Placement]:
    """Give each actor's ideal point a row of its strip so that labels on one row do not overlap.

    Returns (actor, ideal, row, label_on_left) for every actor with an ideal point on `issue`;
    a label goes left of its marker when it would not fit on the right.
    """
    ideals = sorted(
        ((key, float(run.ideals[key][issue])) for key in run.named if issue in run.ideals.get(key, {})),
        key=lambda item: item[1],
    )
    marker = 0.12 / axes_width
    spans = []
    for key, ideal in ideals:
        width = (_text_width(renderer, _outcome_label(run, key)) + 0.1) / axes_width
        if ideal + marker + width > 1.02:
            spans.append((ideal - marker - width, ideal + marker, True))
        else:
            spans.append((ideal - marker, ideal + marker + width, False))
    order = sorted(range(len(ideals)), key=lambda i: spans[i][0])
    rows = dict(zip(order, _stack_intervals([spans[i][:2] for i in order], MAX_OUTCOME_ROWS), strict=True))
    return [(key, ideal, rows[i], spans[i][2]) for i, (key, ideal) in enumerate(ideals)]


def _outcome_rows(run: RunData, issue: str, placements: Sequence[Placement]) -> int:
    actor_rows = 1 + max((row for _, _, row, _ in placements), default=0)
    return actor_rows + (1 if run.others else 0) + (1 if issue in run.nash else 0)


def _draw_other_ideals(ax: Axes, run: RunData, issue: str, row: int) -> None:
    """The other actors' ideal points as grey ticks on one row, labelled with their number."""
    values = [float(run.ideals[key][issue]) for key in run.others if issue in run.ideals.get(key, {})]
    ax.plot(values, [row] * len(values), ls="none", marker="|", ms=7, color=OTHERS_COLOUR, alpha=0.6)
    ax.annotate(
        f"{len(run.others)} others",
        xy=(0.005, row),
        xycoords=("axes fraction", "data"),
        va="center",
        fontsize=FONT_SIZE,
        color="0.3",
        bbox=LABEL_BOX,
        zorder=5,
    )


def _draw_outcome_strip(ax: Axes, run: RunData, issue: str, placements: Sequence[Placement]) -> None:
    for key, ideal, row, on_left in placements:
        style = run.actors[key]
        ax.plot(
            [ideal],
            [row],
            ls="none",
            marker=style.marker,
            ms=7,
            mec=style.colour,
            mew=1.5,
            mfc="white" if key in run.walkouts else style.colour,
            zorder=4,
        )
        _label_point(ax, _outcome_label(run, key), ideal, row, on_left)
    n_rows = _outcome_rows(run, issue, placements)
    if run.others:
        _draw_other_ideals(ax, run, issue, n_rows - (2 if issue in run.nash else 1))
    _draw_record_band(ax, run.record.get(issue), "x")
    record = _record_words(run, issue)
    if issue in run.nash:
        nash = float(run.nash[issue])
        ax.plot([nash], [n_rows - 1], ls="none", marker="D", ms=8, mfc="white", mec="black", mew=1.5)
        _label_point(ax, f"Nash {nash:.2f}", nash, n_rows - 1, nash > 0.85, fontweight="bold")
    outcome = run.outcomes.get(issue, {})
    if outcome.get("agreed") and outcome.get("value") is not None:
        value = float(outcome["value"])
        ax.axvline(value, color="black", lw=3, zorder=3)
        title = f"{issue}: agreed {value:.2f} at step {outcome.get('step')}{record}"
        ax.set_title(title, loc="left", fontsize=TITLE_SIZE)
    else:
        names = [run.actors[key].name if key in run.actors else key for key in outcome.get("blockers", [])]
        blocked = f", blocked by {' and '.join(names)}" if names else ""
        title = f"{issue}: no agreement{blocked}{record}"
        ax.set_title(title, loc="left", fontsize=TITLE_SIZE, color="darkred")
    ax.set_ylim(n_rows - 0.4, -0.6)
    ax.set_yticks([])
    ax.grid(axis="x", color="0.9", lw=0.8)
    ax.tick_params(labelsize=FONT_SIZE)
    _set_unit_axis(ax, "x", run.issue_ends[issue])


def _label_point(ax: Axes, text: str, x: float, y: float, on_left: bool, **font: Any) -> None:
    ax.annotate(
        text,
        xy=(x, y),
        xytext=(-6 if on_left else 6, 0),
        textcoords="offset points",
        ha="right" if on_left else "left",
        va="center",
        fontsize=FONT_SIZE,
        color="0.1",
        bbox=LABEL_BOX,
        zorder=5,
        **font,
    )


def _outcome_label(run: RunData, key: str) -> str:
    name = run.actors[key].name
    return f"{name} (left)" if key in run.walkouts else name


def _stack_intervals(intervals: Sequence[tuple[float, float]], max_rows: int) -> list[int]:
    """Give each interval (sorted by start) the first row where it fits, using at most `max_rows` rows."""
    row_ends: list[float] = []
    rows = []
    for start, end in intervals:
        row = next((i for i, last in enumerate(row_ends) if last <= start), None)
        if row is None and len(row_ends) < max_rows:
            row_ends.append(-math.inf)
            row = len(row_ends) - 1
        elif row is None:
            row = int(np.argmin(row_ends))
        row_ends[row] = max(row_ends[row], end)
        rows.append(row)
    return rows


def _set_step_axis(ax: Axes, steps: int) -> None:
    ax.set_xlim(0.5, max(steps, 1) + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 5, 10], integer=True, min_n_ticks=1))


def _set_unit_axis(ax: Axes, axis: str, ends: tuple[str, str]) -> None:
    """Label a 0-to-1 axis with numbers inside and the issue's end labels, in words, at 0 and 1."""
    low, high = ends
    if axis == "y":
        ax.set_ylim(-0.05, 1.05)
        ax.set_yticks([0, 0.5, 1], labels=[low, "0.5", high])
        ax.set_yticks([0.25, 0.75], minor=True)
        return
    ax.set_xlim(-0.02, 1.02)
    ax.set_xticks([0, 0.5, 1], labels=[low, "0.5", high])
    ax.set_xticks([0.25, 0.75], minor=True)
    low_label, _, high_label = ax.get_xticklabels()
    low_label.set_horizontalalignment("left")
    high_label.set_horizontalalignment("right")


def _style_axes(ax: Axes) -> None:
    ax.grid(color="0.92", lw=0.8)
    ax.tick_params(labelsize=FONT_SIZE)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _message(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=10, color="0.4")


def _actor_handles(run: RunData) -> list[Artist]:
    handles: list[Artist] = [
        Line2D([], [], color=style.colour, ls=style.linestyle, lw=1.8, label=style.label)
        for style in (run.actors[key] for key in run.named)
    ]
    if run.others:
        label = (
            f"{len(run.others)} others: median, 10–90% and range\n(the weightiest {len(handles)} are named)"
        )
        handles.append(
            Line2D([], [], color=OTHERS_COLOUR, lw=6, alpha=0.35, marker="_", mec="0.45", ms=14, label=label)
        )
    return handles


def _record_handle() -> Patch:
    return Patch(
        facecolor=(*RECORD_COLOUR[:3], 0.13), edgecolor=RECORD_COLOUR, ls="--", label="historical record"
    )


def _position_marker_handles(run: RunData) -> list[Artist]:
    handles: list[Artist] = []
    if run.offers:
        handles.append(
            Line2D(
                [],
                [],
                color="0.45",
                lw=0.8,
                marker="o",
                mfc="white",
                mec="black",
                ms=5,
                label="text on the table\n(dot colour = proposer)",
            )
        )
    if any(run.ideals.values()):
        handles.append(Line2D([], [], color="0.3", lw=3, label="ideal point (tick at right)"))
    if _any_agreed(run):
        handles.append(
            Line2D([], [], ls="none", marker="*", ms=12, mfc="gold", mec="black", label="agreement")
        )
    if run.walkouts:
        handles.append(_walkout_handle())
    if any(record.band for record in run.record.values()):
        handles.append(_record_handle())
    return handles


def _outcome_handles(run: RunData) -> list[Artist]:
    roles = {style.role for style in run.actors.values()}
    handles: list[Artist] = [
        Line2D([], [], ls="none", marker=marker, color="0.4", ms=6, label=f"{role} ideal point")
        for role, marker in ROLE_MARKERS.items()
        if role in roles
    ]
    if run.walkouts:
        handles.append(Line2D([], [], ls="none", marker="o", mfc="white", mec="0.4", label="walked out"))
    if _any_agreed(run):
        handles.append(Line2D([], [], color="black", lw=3, label="agreed value"))
    if run.nash:
        handles.append(_nash_handle())
    if any(record.band for record in run.record.values()):
        handles.append(_record_handle())
    return handles


def _nash_handle() -> Line2D:
    return Line2D([], [], ls="none", marker="D", mfc="white", mec="black", mew=1.5, label="Nash solution")


def _any_agreed(run: RunData) -> bool:
    return any(outcome.get("agreed") for outcome in run.outcomes.values())


def _walkout_handle() -> Line2D:
    return Line2D([], [], ls="none", marker="X", ms=8, mfc="0.6", mec="black", label="walked out")


def _new_figure() -> tuple[Figure, RendererAgg]:
    fig = Figure(dpi=DPI)
    canvas = FigureCanvasAgg(fig)
    return fig, canvas.get_renderer()


def _text_width(renderer: RendererAgg, text: str, size: float = FONT_SIZE) -> float:
    """Width in inches of `text` (the longest of its lines) at `size` points."""
    font = FontProperties(size=size)
    lines = text.split("\n")
    return max(renderer.get_text_width_height_descent(line, font, ismath=False)[0] for line in lines) / DPI


def _layout(
    fig: Figure, renderer: RendererAgg, grid: Grid, handles: Sequence[Artist], title: str
) -> list[Axes]:
    """Size the figure for `grid` plus a legend at its right, and return the grid's axes row by row."""
    legend_width, legend_height = _add_legend(fig, renderer, handles, title, grid.height - 0.3)
    width = grid.width + legend_width
    height = max(grid.height, legend_height + 0.3)
    fig.set_size_inches(width, height)
    if fig.legends:
        fig.legends[0].set_bbox_to_anchor((grid.width / width, 1 - 0.1 / height), transform=fig.transFigure)
    mean_height = float(np.mean(grid.row_heights))
    spec = fig.add_gridspec(
        len(grid.row_heights),
        grid.n_cols,
        height_ratios=grid.row_heights,
        left=grid.left / width,
        right=(grid.width - grid.right) / width,
        top=1 - grid.top / height,
        bottom=(height - grid.height + grid.bottom) / height,
        wspace=(grid.left + grid.right) / grid.axes_width,
        hspace=grid.row_gap / mean_height,
    )
    cells = [(row, col) for row in range(len(grid.row_heights)) for col in range(grid.n_cols)]
    return [fig.add_subplot(spec[row, col]) for row, col in cells]


def _add_legend(
    fig: Figure, renderer: RendererAgg, handles: Sequence[Artist], title: str, max_height: float
) -> tuple[float, float]:
    """Add a legend with as few columns as fit in `max_height` inches; return its width and height."""
    if not handles:
        return 0.0, 0.0
    for n_cols in range(1, len(handles) + 1):
        legend = Legend(
            fig,
            list(handles),
            [str(handle.get_label()) for handle in handles],
            loc="upper left",
            ncols=n_cols,
            fontsize=FONT_SIZE,
            title=title,
            title_fontsize=FONT_SIZE,
            frameon=False,
            handlelength=2.6,
            borderaxespad=0.0,
        )
        box = legend.get_window_extent(renderer)
        if box.height / DPI <= max_height or n_cols == len(handles):
            break
    fig.legends.append(legend)
    return box.width / DPI + 0.15, box.height / DPI


def _suptitle(fig: Figure, grid: Grid, text: str) -> None:
    width, height = fig.get_size_inches()
    fig.suptitle(text, x=grid.width / 2 / width, y=1 - 0.08 / height, va="top", fontsize=SUPTITLE_SIZE)


def _checked_trace(trace: pd.DataFrame | None) -> pd.DataFrame:
    if trace is None or len(trace) == 0:
        return pd.DataFrame({column: [] for column in TRACE_COLUMNS})
    missing = [column for column in TRACE_COLUMNS if column not in trace.columns]
    if missing:
        raise ValueError(f"the trace has no column {', '.join(missing)}: it needs {', '.join(TRACE_COLUMNS)}")
    return trace.sort_values("step", kind="stable")


def _series(rows: pd.DataFrame, quantity: str) -> dict[tuple[str, str], Series]:
    """Per (actor, issue), in order of first appearance, the steps and values of `quantity`."""
    selected = rows[rows["quantity"] == quantity]
    if selected.empty:
        return {}
    actor_codes, actors = pd.factorize(selected["actor"].astype(str))
    issue_codes, issues = pd.factorize(selected["issue"].astype(str))
    codes = actor_codes * max(len(issues), 1) + issue_codes
    order = np.argsort(codes, kind="stable")
    starts = np.flatnonzero(np.diff(codes[order], prepend=-1))
    steps = np.split(selected["step"].to_numpy()[order], starts[1:])
    values = np.split(selected["value"].to_numpy(dtype=float)[order], starts[1:])
    firsts = order[starts]
    keys = [(str(actors[actor_codes[i]]), str(issues[issue_codes[i]])) for i in firsts]
    by_key = dict(zip(keys, zip(steps, values, strict=True), strict=True))
    return {keys[n]: by_key[keys[n]] for n in np.argsort(firsts, kind="stable")}


def _offers(rows: pd.DataFrame) -> dict[str, Offers]:
    selected = rows[rows["quantity"] == "offer"]
    return {
        str(issue): Offers(
            steps=group["step"].to_numpy(),
            values=group["value"].to_numpy(dtype=float),
            proposers=group["actor"].astype(str).tolist(),
        )
        for issue, group in selected.groupby("issue", sort=False)
    }


def _outcomes(issues: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per issue, as one replication has it: whether it was agreed, the value and the step, and
    the blockers when any veto player blocked it."""
    outcomes = {}
    for name, issue in issues.items():
        step = (issue.get("step") or {}).get("mean")
        outcomes[name] = {
            "agreed": issue.get("agreement_probability") == 1,
            "value": (issue.get("value") or {}).get("median"),
            "step": None if step is None else round(step),
        }
        blockers = [a for a, share in ((issue.get("why") or {}).get("blocked") or {}).items() if share]
        if blockers:
            outcomes[name]["blockers"] = blockers
    return outcomes


def _walkout_steps(summary: Mapping[str, Any], rows: pd.DataFrame) -> dict[str, int]:
    """The step each walked-out actor left at, or its last step in the trace when the summary has none."""
    known = summary.get("walk_out_step") or {}
    steps = {}
    for actor, probability in (summary.get("walk_out_probability") or {}).items():
        if probability != 1:
            continue
        if known.get(actor) is not None:
            steps[actor] = round(known[actor])
            continue
        present = rows.loc[rows["actor"] == actor, "step"]
        if len(present):
            steps[actor] = int(present.max())
    return steps


TABLE_STYLE = {"name": "the table (no proposer)", "role": "table"}
"""How texts no actor proposed (a forecast, a neutral chair's draft) are labelled."""


def _actor_styles(
    keys: Sequence[str], specs: Mapping[str, Mapping[str, Any]], others: frozenset[str] = frozenset()
) -> dict[str, ActorStyle]:
    actors = [key for key in keys if key != TABLE]
    named = [key for key in actors if key not in others]
    colours = dict(zip(named, _palette(len(named)), strict=True))
    styles = {
        key: ActorStyle(
            key=key,
            name=str(specs.get(key, {}).get("name") or key),
            role=str(specs.get(key, {}).get("role") or "party"),
            colour=colours.get(key, OTHERS_COLOUR),
        )
        for key in actors
    }
    if TABLE in keys:
        styles[TABLE] = ActorStyle(key=TABLE, colour=(0.0, 0.0, 0.0, 1.0), **TABLE_STYLE)
    return styles


def _palette(n: int) -> list[Colour]:
    """`n` distinct colours: tab10 up to 10, tab20 without its greys (dark shades first) up to 18,
    then evenly from turbo; grey stays for the actors grouped as others."""
    if n <= 10:
        return [(*colour, 1.0) for colour in _listed("tab10")[:n]]
    if n <= 18:
        tab20 = [colour for number, colour in enumerate(_listed("tab20")) if number not in (14, 15)]
        return [(*colour, 1.0) for colour in [*tab20[0::2], *tab20[1::2]][:n]]
    return [tuple(colour) for colour in colormaps["turbo"](np.linspace(0.03, 0.97, n))]


def _colour_of(run: RunData, key: str) -> Colour:
    style = run.actors.get(key)
    return style.colour if style else UNKNOWN_COLOUR


def _issue_ends(meta: Mapping[str, str]) -> tuple[str, str]:
    return _wrap(str(meta.get("low", "0")), END_WRAP), _wrap(str(meta.get("high", "1")), END_WRAP)


def _subtitle(summary: Mapping[str, Any], steps: int) -> str:
    parts = [
        f"scenario {summary.get('scenario', '?')}",
        f"protocol {summary.get('protocol', '?')}",
        f"seed {summary.get('seed', '?')}",
        f"{steps} step{'' if steps == 1 else 's'}",
    ]
    return " · ".join(parts)


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width, max_lines=END_LINES, placeholder="…")) or text


def _ordered_unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(str(item) for item in items))


def _listed(name: str) -> list[tuple[float, float, float]]:
    """The colours of a listed (qualitative) Matplotlib colormap."""
    colormap = colormaps[name]
    assert isinstance(colormap, ListedColormap)
    rgba = colormap(np.arange(colormap.N))
    return [(float(r), float(g), float(b)) for r, g, b, _ in rgba]
