"""Plots of many negotiations: a batch of replications.

`agreement.png` holds the probability of agreement on each issue with its 95% interval and the
historical record, and the probability that each party walks out; `values.png` the agreed values
of each issue, on an axis zoomed to them, with the recorded band; `utilities.png` the spread of
each actor's utility over the replications (the weightiest `MAX_NAMED` when there are more) with
its reservation value; and, when the batch kept its trace, `utility_space.png`
(`sim.figures.utility_space`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.core.scenario import Record
from sim.figures.run import MAX_NAMED, RECORD_COLOUR, actor_weights, record_marks
from sim.figures.utility_space import draw_utility_space, has_utility_space
from sim.outputs.files import write_atomically
from sim.outputs.store import extremes, histogram, quantiles
from sim.outputs.summary import wilson_interval
from sim.outputs.tally import Tally, utility_of, value_of

DPI = 120
FONT_SIZE = 8
MAX_BINS = 30
RECORD_ALPHA = 0.15


def save_figure(figure: Figure, path: Path) -> Path:
    """Write a figure as PNG through a temporary file (`sim.outputs.files.write_atomically`)."""
    FigureCanvasAgg(figure)
    write_atomically(
        path, lambda stream: figure.savefig(stream, format="png", dpi=DPI, bbox_inches="tight"), binary=True
    )
    return path


def interval_spread(centre: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Error-bar lengths below and above `centre` for intervals `bounds` (rows of low, high)."""
    return np.maximum(0.0, np.stack([centre - bounds[:, 0], bounds[:, 1] - centre]))


def write_batch_plots(
    run_dir: Path, summary: dict[str, Any], batch: Tally, trace: pd.DataFrame | None = None
) -> list[Path]:
    """Write agreement.png, values.png, utilities.png and, with a trace, utility_space.png."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    record = record_marks(batch.scenario)
    paths = [
        save_figure(draw_agreement(summary, record), run_dir / "agreement.png"),
        save_figure(draw_values(summary, batch, record), run_dir / "values.png"),
        save_figure(draw_batch_utilities(summary, batch), run_dir / "utilities.png"),
    ]
    if trace is not None and has_utility_space(summary, batch.scenario):
        figure = draw_utility_space(summary, trace, batch.scenario)
        paths.append(save_figure(figure, run_dir / "utility_space.png"))
    return paths


def batch_title(summary: Mapping[str, Any]) -> str:
    return f"{summary['title']}: {summary['replications']} replications, protocol {summary['protocol']}"


def draw_agreement(summary: Mapping[str, Any], record: Mapping[str, Record]) -> Figure:
    """Probability of agreement per issue (95% interval, record marks) and of each walk-out."""
    issues = list(summary["issues"])
    parties = list(summary.get("walk_out_probability") or {})
    width = max(6.0, 1.6 + 1.1 * max(len(issues), len(parties)))
    figure = Figure(figsize=(width, 6.4 if parties else 3.8), layout="constrained")
    axes = figure.subplots(2 if parties else 1, 1, squeeze=False)[:, 0]
    _agreement_panel(axes[0], summary, issues, record)
    if parties:
        _walkout_panel(axes[1], summary, parties)
    figure.suptitle(textwrap.fill(batch_title(summary), 90), fontsize=10)
    return figure


def _agreement_panel(
    ax: Axes, summary: Mapping[str, Any], issues: Sequence[str], record: Mapping[str, Record]
) -> None:
    p = np.array([summary["issues"][i]["agreement_probability"] for i in issues])
    bounds = np.array([summary["issues"][i]["interval"] for i in issues]).reshape(-1, 2)
    _probability_points(ax, p, bounds, "tab:blue")
    for x, issue in enumerate(issues):
        mark = record.get(issue)
        if mark is not None:
            ax.plot(
                [x - 0.2], [1.0 if mark.agreed else 0.0], ls="none", marker=">", ms=9, color=RECORD_COLOUR
            )
    _category_axis(ax, issues)
    ax.set_ylabel("probability of agreement", fontsize=FONT_SIZE + 1)
    ax.set_title("agreement on each issue (bar: 95% interval)", loc="left", fontsize=9)
    handles = [Line2D([], [], color="tab:blue", marker="o", lw=2.5, label="probability, 95% interval")]
    if record:
        handles.append(
            Line2D([], [], ls="none", marker=">", ms=8, color=RECORD_COLOUR, label="record (1 agreed, 0 not)")
        )
    ax.legend(handles=handles, fontsize=FONT_SIZE, loc="upper left", bbox_to_anchor=(1.01, 1.0))


def _walkout_panel(ax: Axes, summary: Mapping[str, Any], parties: Sequence[str]) -> None:
    n = int(summary["replications"])
    p = np.array([float(summary["walk_out_probability"][a] or 0.0) for a in parties])
    low, high = wilson_interval(np.round(p * n).astype(int), n)
    _probability_points(ax, p, np.column_stack([low, high]), "tab:red")
    names = [_actor_name(summary, a) for a in parties]
    _category_axis(ax, names)
    ax.set_ylabel("probability of walking out", fontsize=FONT_SIZE + 1)
    ax.set_title("walk-outs of each party (bar: 95% interval)", loc="left", fontsize=9)


def _probability_points(ax: Axes, p: np.ndarray, bounds: np.ndarray, colour: str) -> None:
    x = np.arange(len(p))
    ax.errorbar(x, p, yerr=interval_spread(p, bounds), fmt="o", ms=7, color=colour, elinewidth=2.5, capsize=7)
    for xi, pi, (lo, hi) in zip(x, p, bounds, strict=True):
        words = f"{pi:.2f}" if hi - lo < 0.005 else f"{pi:.2f}\n({lo:.2f}–{hi:.2f})"
        ax.annotate(
            words, (xi, pi), xytext=(9, 0), textcoords="offset points", va="center", fontsize=FONT_SIZE
        )
    ax.set_ylim(-0.08, 1.08)
    ax.set_xlim(-0.5, len(p) - 0.2)
    ax.grid(axis="y", color="0.9")


def _category_axis(ax: Axes, labels: Sequence[str]) -> None:
    rotate = len(labels) > 6
    ax.set_xticks(
        np.arange(len(labels)),
        [textwrap.fill(label, 18) for label in labels],
        rotation=30 if rotate else 0,
        ha="right" if rotate else "center",
        fontsize=FONT_SIZE,
    )
    ax.tick_params(axis="y", labelsize=FONT_SIZE)


def draw_values(summary: Mapping[str, Any], batch: Tally, record: Mapping[str, Record]) -> Figure:
    """A histogram of the agreed values of each positional issue, zoomed to them and the record."""
    names = [issue.name for issue in batch.scenario.columns]
    positional = [issue for issue in summary["issues"] if issue in names]
    columns = max(1, min(3, len(positional)))
    rows = max(1, int(np.ceil(len(positional) / columns)))
    figure = Figure(figsize=(4.4 * columns, 3.4 * rows + 0.6), layout="constrained")
    meta = summary.get("issues_meta", {})
    for number, issue in enumerate(positional):
        k = names.index(issue)
        ax = figure.add_subplot(rows, columns, number + 1)
        column = batch.scenario.columns[k]
        ends = meta.get(issue) or {"low": column.low, "high": column.high}
        agreed = _values_panel(ax, batch, k, summary["issues"][issue]["value"], record.get(issue), ends)
        ax.set_title(f"{issue}: agreed in {agreed} of {batch.replications}", fontsize=9, loc="left")
    if not positional:
        figure.add_subplot().set_axis_off()
    figure.suptitle(textwrap.fill(f"Agreed values — {batch_title(summary)}", 90), fontsize=10)
    return figure


def _values_panel(
    ax: Axes,
    batch: Tally,
    column: int,
    value: Mapping[str, Any],
    record: Record | None,
    ends: Mapping[str, str],
) -> int:
    """Draw one issue's histogram of agreed values; return how many there are."""
    band = None if record is None else record.band
    name = value_of(column)
    count = batch.store.count(name)
    low, high = value_range(extremes(batch.store, name), band)
    if count:
        edges = bin_edges(count, (low, high), value["q75"] - value["q25"])
        ax.stairs(histogram(batch.store, name, edges), edges, fill=True, color="tab:green", alpha=0.8)
        ax.axvline(value["median"], color="black", ls="--", label=f"median {value['median']:.3f}")
    else:
        ax.text(0.5, 0.5, "never agreed", ha="center", va="center", transform=ax.transAxes)
    if band is not None:
        ax.axvspan(
            *band, color=RECORD_COLOUR, alpha=RECORD_ALPHA, lw=0, label=f"record {band[0]:.2f}–{band[1]:.2f}"
        )
    ax.set_xlim(low, high)
    ax.set_ylabel("replications", fontsize=FONT_SIZE)
    ax.tick_params(labelsize=FONT_SIZE)
    ax.set_xlabel(
        f"0 = {textwrap.fill(str(ends['low']), 44)}\n1 = {textwrap.fill(str(ends['high']), 44)}", fontsize=7
    )
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="upper left")
    return count


def bin_edges(count: int, span: tuple[float, float], spread: float) -> np.ndarray:
    """Histogram bins over `span` for `count` values of interquartile range `spread`: numpy's
    `auto` rule (the narrower of Freedman–Diaconis and Sturges), kept between 6 and `MAX_BINS`."""
    low, high = span
    sturges = (high - low) / (np.log2(count) + 1.0)
    diaconis = 2.0 * spread * count ** (-1 / 3)
    width = min(sturges, diaconis) if diaconis > 0 else sturges
    bins = int(np.ceil((high - low) / width)) if width > 0 else 1
    if bins > MAX_BINS or bins < 6:
        bins = min(MAX_BINS, max(5, int(np.sqrt(count))))
    return np.linspace(low, high, bins + 1)


def value_range(extent: tuple[float, float] | None, band: tuple[float, float] | None) -> tuple[float, float]:
    """The axis range of an issue's agreed values (their least and greatest) and its record: their
    span, padded, within [0, 1]."""
    points = [*(extent or ()), *(band or ())]
    if not points:
        return 0.0, 1.0
    low, high = min(points), max(points)
    pad = max(0.1 * (high - low), 0.01)
    return max(0.0, low - pad), min(1.0, high + pad)


BOX = {"whislo": 0.05, "q1": 0.25, "med": 0.5, "q3": 0.75, "whishi": 0.95}
"""What a box of `draw_batch_utilities` shows: the quantiles of its whiskers, box and line."""


def draw_batch_utilities(summary: Mapping[str, Any], batch: Tally) -> Figure:
    """Each actor's utility over the replications: box (quartiles), whiskers (5–95%), reservation."""
    scenario = batch.scenario
    actors = shown_actors(scenario)
    columns = [scenario.actors.index(a) for a in actors]
    figure = Figure(figsize=(max(5.5, 0.75 * len(actors) + 2.5), 4.2), layout="constrained")
    ax = figure.add_subplot()
    boxes = []
    for i in columns:
        found = quantiles(batch.store, utility_of(i), list(BOX.values())) or [np.nan] * len(BOX)
        boxes.append({**dict(zip(BOX, found, strict=True)), "fliers": []})
    ax.bxp(
        boxes,
        positions=np.arange(len(actors)),
        widths=0.55,
        showfliers=False,
        patch_artist=True,
        boxprops={"facecolor": (0.58, 0.4, 0.74, 0.5)},
        medianprops={"color": "black"},
    )
    reservation = [scenario.reservation[i] for i in columns]
    ax.scatter(np.arange(len(actors)), reservation, marker="_", s=500, color="red", zorder=3)
    _category_axis(ax, [scenario.display_names[i] for i in columns])
    ax.set_ylabel("utility of the outcome", fontsize=FONT_SIZE + 1)
    ax.grid(axis="y", color="0.9")
    handles = [
        Patch(facecolor=(0.58, 0.4, 0.74, 0.5), edgecolor="black", label="quartiles (line: median)"),
        Line2D([], [], color="black", label="whiskers: 5% to 95%"),
        Line2D([], [], ls="none", marker="_", ms=14, color="red", label="reservation value"),
    ]
    ax.legend(handles=handles, fontsize=FONT_SIZE, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    shown = (
        ""
        if len(actors) == len(scenario.actors)
        else f" (the {len(actors)} weightiest of {len(scenario.actors)})"
    )
    ax.set_title(f"utility of each actor over the replications{shown}", loc="left", fontsize=9)
    figure.suptitle(textwrap.fill(batch_title(summary), 90), fontsize=10)
    return figure


def shown_actors(scenario: Any) -> list[str]:
    """All actors, or the `MAX_NAMED` weightiest (capability times salience) in the scenario's order."""
    if len(scenario.actors) <= MAX_NAMED:
        return list(scenario.actors)
    weights = actor_weights(scenario)
    top = set(sorted(weights, key=lambda a: -weights[a])[:MAX_NAMED])
    return [a for a in scenario.actors if a in top]


def _actor_name(summary: Mapping[str, Any], actor: str) -> str:
    return str((summary.get("actors") or {}).get(actor, {}).get("name") or actor)
