"""Figures of a what-if study: `tornado.png`, and `pairs.png` with `what_if.pairs`.

The tornado plot (Howard 1988) has one panel per issue with a target: a bar per parameter, from
its value to the threshold that flips the issue, as a share of the parameter's range (left for a
decrease, right for an increase; a choice, such as an actor staying away, counts as the whole
range), the smallest at the top. `pairs.png` shows, per issue, P(agreed) on the grid of the two
parameters with the smallest changes, the frontier where it crosses one half, and their values.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.outputs.files import write_atomically

TORNADO_ROWS = 12
"""Parameters shown per issue."""
DOWN, UP, CHOICE = (0.23, 0.47, 0.75, 1.0), (0.9, 0.5, 0.13, 1.0), (0.55, 0.55, 0.55, 1.0)
FONT_SIZE = 8
DPI = 120
LABEL_WIDTH = 44
"""Characters per line of a parameter's label; longer labels take two lines."""


def write_what_if_plots(folder: Path, summary: Mapping[str, Any], rows: pd.DataFrame) -> list[Path]:
    """Write tornado.png, and pairs.png when the study has pairs; return their paths."""
    written = [folder / "tornado.png"]
    _save(draw_tornado(summary, rows), written[0])
    pairs = {issue: entry["pairs"] for issue, entry in summary["issues"].items() if entry.get("pairs")}
    if pairs:
        written.append(folder / "pairs.png")
        _save(draw_pairs(summary, pairs), written[1])
    return written


def _save(figure: Figure, path: Path) -> None:
    write_atomically(
        path, lambda stream: figure.savefig(stream, format="png", dpi=DPI, facecolor="white"), binary=True
    )


def draw_tornado(summary: Mapping[str, Any], rows: pd.DataFrame) -> Figure:
    """One panel per issue with a target: the smallest change of each parameter that flips it."""
    issues = [issue for issue, entry in summary["issues"].items() if entry.get("target")]
    shown = {issue: _tornado_rows(rows, issue) for issue in issues}
    heights = [0.9 + _row_height(frame) * max(1, len(frame)) for frame in shown.values()] or [1.2]
    fig = Figure(figsize=(9.5, 1.1 + sum(heights)), dpi=DPI)
    FigureCanvasAgg(fig)
    spec = fig.add_gridspec(
        len(heights),
        1,
        height_ratios=heights,
        left=0.36,
        right=0.97,
        top=1 - 0.75 / fig.get_figheight(),
        bottom=0.5 / fig.get_figheight(),
        hspace=0.9 / np.mean(heights),
    )
    if not issues:
        ax = fig.add_subplot(spec[0])
        ax.set_axis_off()
        ax.text(0.5, 0.5, "every issue is already as asked", ha="center", va="center", transform=ax.transAxes)
    for number, issue in enumerate(issues):
        _tornado_panel(fig.add_subplot(spec[number]), summary, issue, shown[issue])
    runs = summary["replications"]
    fig.suptitle(
        f"{summary['title']}: what would it take\nthe smallest change of each parameter that flips each issue"
        + (f" (in at least half of {runs} runs)" if runs > 1 else ""),
        fontsize=10,
    )
    fig.legend(
        handles=[
            Patch(color=DOWN, label="lower"),
            Patch(color=UP, label="higher"),
            Patch(color=CHOICE, label="a choice"),
        ],
        loc="upper left",
        bbox_to_anchor=(0.01, 0.995),
        fontsize=FONT_SIZE,
        frameon=False,
    )
    return fig


def _tornado_rows(rows: pd.DataFrame, issue: str) -> pd.DataFrame:
    mine = rows[(rows["issue"] == issue) & rows["verified"].astype(bool)]
    return mine.sort_values("relative_change", kind="stable").head(TORNADO_ROWS)


def _tornado_panel(ax: Axes, summary: Mapping[str, Any], issue: str, frame: pd.DataFrame) -> None:
    entry = summary["issues"][issue]
    ax.set_title(
        f"{issue}: {entry['outcome']} now; what would make it {_verb(entry['target'])}",
        loc="left",
        fontsize=9,
    )
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlim(-1.35, 1.35)
    ax.set_xticks([-1, -0.5, 0, 0.5, 1])
    ax.tick_params(labelsize=FONT_SIZE)
    ax.set_xlabel(
        "change, as a share of the parameter's range (left: lower, right: higher)", fontsize=FONT_SIZE
    )
    if frame.empty:
        ax.set_yticks([])
        ax.text(
            0.5,
            0.5,
            "no single change within the ranges flips it",
            ha="center",
            va="center",
            transform=ax.transAxes,
            fontsize=FONT_SIZE,
        )
        return
    y = np.arange(len(frame))
    signed = np.where(frame["direction"] == 0, 1.0, frame["direction"]) * frame["relative_change"]
    colours = [CHOICE if d == 0 else (UP if d > 0 else DOWN) for d in frame["direction"]]
    ax.barh(y, signed, color=colours, height=0.65, edgecolor="black", linewidth=0.4)
    for row, value, (_, line) in zip(y, signed, frame.iterrows(), strict=True):
        ax.annotate(
            _change_words(line),
            (value, row),
            xytext=(3 if value >= 0 else -3, 0),
            textcoords="offset points",
            ha="left" if value >= 0 else "right",
            va="center",
            fontsize=FONT_SIZE - 1,
        )
    ax.set_yticks(y, [_wrap(label) for label in frame["parameter"]], fontsize=FONT_SIZE)
    ax.set_ylim(len(frame) - 0.5, -0.5)
    ax.grid(axis="x", color="0.92")
    ax.set_axisbelow(True)


def _verb(target: str) -> str:
    return "fail" if target == "failed" else target


def _change_words(line: pd.Series) -> str:
    if str(line["key"]).endswith(".present"):
        return "stays away" if not _truth(line["threshold"]) else "comes"
    return f"{_value(line['baseline'])} → {_value(line['threshold'])}"


def _truth(value: Any) -> bool:
    return str(value).lower() == "true"


def _value(value: Any) -> str:
    if isinstance(value, (bool, np.bool_, str)):
        return str(value).lower()
    number = float(value)
    return f"{number:.0f}" if number.is_integer() and abs(number) >= 2 else f"{number:.3f}"


def draw_pairs(summary: Mapping[str, Any], pairs: Mapping[str, Mapping[str, Any]]) -> Figure:
    """Per issue, P(agreed) over the grid of its two parameters, the frontier and their values."""
    fig = Figure(figsize=(5.2 * len(pairs) + 0.6, 4.6), dpi=DPI)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(pairs), squeeze=False)[0]
    fig.subplots_adjust(left=0.1, right=0.9, top=0.8, bottom=0.14, wspace=0.45)
    image = None
    for ax, (issue, pair) in zip(axes, pairs.items(), strict=True):
        x, y = (np.asarray(values, dtype=float) for values in pair["values"])
        probability = np.asarray(pair["probability"], dtype=float)
        image = ax.pcolormesh(x, y, probability.T, cmap="RdYlGn", vmin=0, vmax=1, shading="nearest")
        if probability.min() < 0.5 <= probability.max():
            ax.contour(x, y, probability.T, levels=[0.5], colors="black", linewidths=1.5)
        ax.plot(*pair["baseline"], marker="o", ms=8, mfc="white", mec="black", ls="none", label="as stated")
        ax.set_xlabel(_wrap(pair["labels"][0]), fontsize=FONT_SIZE)
        ax.set_ylabel(_wrap(pair["labels"][1]), fontsize=FONT_SIZE)
        wanted = "fail" if pair["target"] == "failed" else "be agreed"
        ax.set_title(f"{issue}: where it would {wanted}", fontsize=9, loc="left")
        ax.tick_params(labelsize=FONT_SIZE)
        ax.legend(fontsize=FONT_SIZE - 1, loc="lower left")
    if image is not None:
        colourbar = fig.colorbar(image, ax=list(axes), fraction=0.04, pad=0.03)
        colourbar.set_label("P(agreed)", fontsize=FONT_SIZE)
    fig.suptitle(f"{summary['title']}: two parameters together\nblack line: P(agreed) = 1/2", fontsize=10)
    return fig


def _wrap(text: str) -> str:
    return textwrap.fill(text, LABEL_WIDTH, max_lines=2, placeholder="…")


def _row_height(frame: pd.DataFrame) -> float:
    """Inches per bar: room for two lines when a label wraps."""
    fits = frame.empty or frame["parameter"].str.len().max() <= LABEL_WIDTH
    return 0.24 if fits else 0.34
