"""The zone of possible agreement of one run, per issue: `zopa.png`.

Each panel shows, over the steps an issue was open, every veto player's acceptable range (a band
in its colour, from the summary's `why.by_step`, `sim.analysis.explain`), the zone they leave
(gold) or the gap between them (hatched), the texts on the table (from the trace: a dot where every
veto player accepted it, a cross where one rejected it), the agreement, and, at the right edge,
the ranges at the deadline. The title names the blockers of a failed issue. With more than
`MAX_NAMED` veto players, the named ones (by default the first) keep their colours and the others
are drawn as thin grey lines.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

Colour = tuple[float, float, float, float]

PANEL_WIDTH = 6.4
PANEL_HEIGHT = 2.3
PANEL_GAP = 0.75
FONT_SIZE = 8
ZONE_COLOUR = (1.0, 0.8, 0.0, 0.5)
GAP_HATCH = "////"
BAND_ALPHA = 0.07
MAX_NAMED = 12
OTHERS_COLOUR = (0.45, 0.45, 0.45, 1.0)


def zopa_issues(summary: Mapping[str, Any]) -> list[str]:
    """The issues whose summary holds veto players' ranges over the steps."""
    return [name for name, issue in summary["issues"].items() if (issue.get("why") or {}).get("by_step")]


def draw_zopa(
    summary: Mapping[str, Any],
    trace: pd.DataFrame | None,
    colours: Mapping[str, Colour] | None = None,
    named: Collection[str] | None = None,
) -> Figure:
    """One panel per issue: the veto players' ranges over the steps, the zone or gap, the texts;
    the veto players not in `named` (by default beyond the first `MAX_NAMED`) are drawn grey."""
    issues = zopa_issues(summary)
    colours = dict(colours or default_colours(summary))
    vetoes = list(
        dict.fromkeys(a for issue in issues for a in summary["issues"][issue]["why"]["by_step"]["ranges"])
    )
    shown = set(vetoes[:MAX_NAMED] if named is None else named)
    colours = {
        actor: OTHERS_COLOUR if actor in vetoes and actor not in shown else colour
        for actor, colour in colours.items()
    }
    handles = _legend(
        summary, [a for a in vetoes if a in shown], len(vetoes) - len(shown & set(vetoes)), colours
    )
    rows = max(1, len(issues))
    height = max(1.0 + (PANEL_HEIGHT + PANEL_GAP) * rows, 1.3 + 0.2 * len(handles))
    fig = Figure(figsize=(PANEL_WIDTH + 2.2, height), dpi=120, layout="constrained")
    canvas = FigureCanvasAgg(fig)
    axes = fig.subplots(rows, 1, squeeze=False)[:, 0]
    if not issues:
        axes[0].set_axis_off()
        axes[0].text(0.5, 0.5, "no ranges to show", ha="center", va="center", transform=axes[0].transAxes)
    for ax, issue in zip(axes, issues, strict=False):
        draw_issue(ax, summary, issue, _issue_rows(trace, issue), colours, shown)
    fig.suptitle(
        f"{summary.get('title', summary.get('scenario', ''))}: the zone of possible agreement\n"
        f"each {_veto_word(summary)}'s acceptable range, the texts on the table, and the zone or gap",
        fontsize=10,
    )
    legend = fig.legend(handles=handles, loc="outside right center", fontsize=FONT_SIZE, frameon=False)
    legend_width = legend.get_window_extent(canvas.get_renderer()).width / fig.dpi
    fig.set_figwidth(PANEL_WIDTH + 0.9 + legend_width)
    return fig


def draw_issue(
    ax: Axes,
    summary: Mapping[str, Any],
    issue: str,
    rows: pd.DataFrame,
    colours: Mapping[str, Colour],
    named: Collection[str] | None = None,
) -> None:
    """One issue's panel; veto players outside `named` (when given) as thin grey lines."""
    entry = summary["issues"][issue]
    by_step = entry["why"]["by_step"]
    steps = np.asarray(by_step["steps"], dtype=float)
    lows, highs = _bounds(by_step["ranges"], len(steps))
    others = [] if named is None else [actor for actor in lows if actor not in named]
    _other_ranges(ax, steps, [lows[a] for a in others], [highs[a] for a in others])
    for (actor, low), high in zip(lows.items(), highs.values(), strict=True):
        if actor in others:
            continue
        ax.fill_between(steps, low, high, step="mid", color=colours.get(actor), alpha=BAND_ALPHA, lw=0)
        ax.step(steps, low, where="mid", color=colours.get(actor), lw=1.2)
        ax.step(steps, high, where="mid", color=colours.get(actor), lw=1.2)
    _zone_and_gap(ax, steps, np.array(list(lows.values())), np.array(list(highs.values())))
    _texts(ax, rows, colours)
    _deadline_ranges(ax, entry["why"].get("at_deadline"), steps, colours)
    _outcome(ax, entry)
    ax.set_title(_title(summary, issue, entry), loc="left", fontsize=9)
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlim(0.5, (steps.max() if steps.size else 1) + 1.5)
    ax.set_ylabel("text", fontsize=FONT_SIZE)
    ax.set_xlabel("step", fontsize=FONT_SIZE)
    ax.tick_params(labelsize=FONT_SIZE)
    ax.grid(color="0.93", lw=0.6)


def _other_ranges(
    ax: Axes, steps: np.ndarray, lows: Sequence[np.ndarray], highs: Sequence[np.ndarray]
) -> None:
    """Of the unnamed veto players' ranges, the highest low end and the lowest high end: the
    ends that bind, as grey lines."""
    if not lows:
        return
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        binding = (np.nanmax(np.array(lows), axis=0), np.nanmin(np.array(highs), axis=0))
    for end in binding:
        ax.step(steps, end, where="mid", color=OTHERS_COLOUR, lw=1.2, zorder=1)


def _bounds(ranges: Mapping[str, Sequence[Sequence[float] | None]], count: int) -> tuple[dict, dict]:
    lows, highs = {}, {}
    for actor, values in ranges.items():
        lows[actor] = np.array([v[0] if v else np.nan for v in values], dtype=float).reshape(count)
        highs[actor] = np.array([v[1] if v else np.nan for v in values], dtype=float).reshape(count)
    return lows, highs


def _zone_and_gap(ax: Axes, steps: np.ndarray, lows: np.ndarray, highs: np.ndarray) -> None:
    """Shade the zone all ranges share (green), or the gap between the furthest apart (red)."""
    if not lows.size:
        return
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        top_low, bottom_high = np.nanmax(lows, axis=0), np.nanmin(highs, axis=0)
    meet = top_low <= bottom_high
    ax.fill_between(steps, top_low, bottom_high, where=meet, step="mid", color=ZONE_COLOUR, lw=0)
    ax.fill_between(
        steps,
        bottom_high,
        top_low,
        where=~meet,
        step="mid",
        facecolor="none",
        edgecolor="0.25",
        lw=0,
        hatch=GAP_HATCH,
    )


def _texts(ax: Axes, rows: pd.DataFrame, colours: Mapping[str, Colour]) -> None:
    """The texts on the table: a dot when every veto player accepted, a cross when one rejected."""
    offers = rows[rows["quantity"] == "offer"]
    if offers.empty:
        return
    answers = rows[rows["quantity"] == "accept"].groupby("step")["value"].min()
    accepted = answers.reindex(offers["step"]).fillna(1.0).to_numpy() > 0.5
    colour = [colours.get(str(actor), (0.2, 0.2, 0.2, 1.0)) for actor in offers["actor"]]
    x, y = offers["step"].to_numpy(), offers["value"].to_numpy()
    ax.plot(x, y, color="0.5", lw=0.7, zorder=3)
    ax.scatter(
        x[accepted],
        y[accepted],
        c=[colour[i] for i in np.flatnonzero(accepted)],
        s=22,
        edgecolors="black",
        linewidths=0.5,
        zorder=4,
    )
    ax.scatter(
        x[~accepted],
        y[~accepted],
        c=[colour[i] for i in np.flatnonzero(~accepted)],
        s=30,
        marker="X",
        edgecolors="black",
        linewidths=0.4,
        zorder=4,
    )


def _deadline_ranges(
    ax: Axes, deadline: Mapping[str, Any] | None, steps: np.ndarray, colours: Mapping[str, Colour]
) -> None:
    """At the right edge, each veto player's range at the deadline as a bar."""
    if not deadline:
        return
    x = (steps.max() if steps.size else 0) + 1.0
    ranges = [(a, r) for a, r in deadline["ranges"].items() if r]
    spacing = 0.18 if len(ranges) <= MAX_NAMED else 1.8 / len(ranges)
    offsets = [(number - (len(ranges) - 1) / 2) * spacing for number in range(len(ranges))]
    bars = LineCollection(
        [
            [(x + offset, low), (x + offset, high)]
            for offset, (_, (low, high)) in zip(offsets, ranges, strict=True)
        ],
        colors=[colours.get(actor, OTHERS_COLOUR) for actor, _ in ranges],
        linewidths=3 if len(ranges) <= MAX_NAMED else 0.6,
        capstyle="butt",
    )
    bars.set_clip_on(False)
    ax.add_collection(bars, autolim=False)
    ax.annotate(
        "deadline",
        (x, 1.03),
        ha="center",
        va="bottom",
        fontsize=FONT_SIZE - 1,
        color="0.3",
        annotation_clip=False,
    )


def _outcome(ax: Axes, entry: Mapping[str, Any]) -> None:
    if entry["agreement_probability"] != 1 or entry["value"]["median"] is None:
        return
    step, value = entry["step"]["mean"], entry["value"]["median"]
    ax.plot([step], [value], marker="*", ms=14, mfc="gold", mec="black", ls="none", zorder=6)


def _title(summary: Mapping[str, Any], issue: str, entry: Mapping[str, Any]) -> str:
    why = entry["why"]
    if entry["agreement_probability"] == 1:
        value, step = entry["value"]["median"], entry["step"]["mean"]
        return f"{issue}: agreed at {value:.3f} at step {step:g}"
    names = [_name(summary, actor) for actor, share in (why.get("blocked") or {}).items() if share]
    blockers = f", blocked by {' and '.join(names)}" if names else ""
    gap = (why.get("at_deadline") or {}).get("gap")
    apart = f"; at the deadline the ranges miss by {gap:.3f}" if gap else ""
    return f"{issue}: no agreement{blockers}{apart}"


def _issue_rows(trace: pd.DataFrame | None, issue: str) -> pd.DataFrame:
    if trace is None or trace.empty:
        return pd.DataFrame(columns=["step", "actor", "issue", "quantity", "value"])
    return trace[(trace["issue"] == issue) & trace["quantity"].isin(["offer", "accept"])]


def _legend(
    summary: Mapping[str, Any], vetoes: Sequence[str], others: int, colours: Mapping[str, Colour]
) -> list[Any]:
    handles: list[Any] = [
        Patch(
            facecolor=(*colours.get(actor, (0.5, 0.5, 0.5, 1.0))[:3], 0.35),
            edgecolor=colours.get(actor),
            label=f"{_name(summary, actor)}'s range",
        )
        for actor in vetoes
    ]
    if others:
        handles.append(
            Line2D(
                [],
                [],
                color=OTHERS_COLOUR,
                lw=0.8,
                label=f"{others} other veto players:\nthe ends of their ranges that bind",
            )
        )
    handles += [
        Patch(facecolor=ZONE_COLOUR, label="zone of possible agreement"),
        Patch(facecolor="none", edgecolor="0.25", hatch=GAP_HATCH, label="gap between the ranges"),
        Line2D([], [], ls="none", marker="o", mfc="0.6", mec="black", label="text accepted by all"),
        Line2D(
            [], [], ls="none", marker="X", mfc="0.6", mec="black", label="text rejected\n(colour: proposer)"
        ),
        Line2D([], [], ls="none", marker="*", ms=12, mfc="gold", mec="black", label="agreement"),
    ]
    return handles


def default_colours(summary: Mapping[str, Any]) -> dict[str, Colour]:
    """One colour per actor, in the summary's order, as the other run figures give them (tab10)."""
    actors = list(summary.get("actors") or {})
    palette = colormaps["tab10" if len(actors) <= 10 else "turbo"]
    count = max(len(actors), 1)
    colours = {}
    for i, actor in enumerate(actors):
        red, green, blue, alpha = palette(i if len(actors) <= 10 else 0.03 + 0.94 * i / count)
        colours[actor] = (float(red), float(green), float(blue), float(alpha))
    return colours


def _veto_word(summary: Mapping[str, Any]) -> str:
    labels = [
        info.get("label") or "signatory"
        for info in (summary.get("actors") or {}).values()
        if info.get("role") == "signatory"
    ]
    return labels[0] if labels else "signatory"


def _name(summary: Mapping[str, Any], actor: str) -> str:
    return str((summary.get("actors") or {}).get(actor, {}).get("name", actor))
