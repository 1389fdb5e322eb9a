"""Figures of a sensitivity study: `sensitivity_<issue>.png`, one per issue.

Each has a panel for the issue's agreement and one for its value: the factors with the largest
total Sobol index (Sobol 2001), each with its first-order and total index and their 95%
confidence intervals; or, with Morris' method, the largest mu* with its interval, and sigma
(Campolongo et al. 2007). An outcome without indices says why.
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

from sim.outputs.files import write_atomically

FIRST, TOTAL = (0.23, 0.47, 0.75, 1.0), (0.9, 0.5, 0.13, 1.0)
LABEL_WIDTH = 34
"""Characters per line of a factor's label, which wraps onto at most two lines."""
DPI = 120
FONT_SIZE = 8


def write_sensitivity_plots(
    folder: Path, summary: Mapping[str, Any], rows: pd.DataFrame, names: Mapping[str, str]
) -> list[Path]:
    """Write one figure per issue, named by `names`; return their paths."""
    written = []
    for issue, name in names.items():
        path = folder / name
        figure = draw_issue(summary, rows, issue)
        write_atomically(
            path,
            lambda stream, f=figure: f.savefig(stream, format="png", dpi=DPI, facecolor="white"),
            binary=True,
        )
        written.append(path)
    return written


def draw_issue(summary: Mapping[str, Any], rows: pd.DataFrame, issue: str) -> Figure:
    """The panels of one issue: its agreement and, when it has one, its value."""
    metrics = [f"{issue}.{kind}" for kind in ("agreed", "value") if f"{issue}.{kind}" in summary["metrics"]]
    top = summary["settings"]["top"]
    heights = [0.5 + 0.42 * min(top, int((rows["metric"] == metric).sum())) for metric in metrics]
    fig = Figure(figsize=(8.5, 1.2 + sum(heights)), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(metrics), 1, squeeze=False, height_ratios=heights)[:, 0]
    for ax, metric in zip(axes, metrics, strict=True):
        _panel(ax, summary, rows[rows["metric"] == metric].head(top), metric)
    settings = summary["settings"]
    method = "Sobol indices" if settings["method"] == "sobol" else "Morris elementary effects"
    fig.suptitle(
        f"{summary['title']}: {issue}\n{method}, every parameter within ±{settings['spread']:.0%} "
        f"(protocol {summary['protocol']})",
        fontsize=10,
    )
    return fig


def _panel(ax: Axes, summary: Mapping[str, Any], rows: pd.DataFrame, metric: str) -> None:
    entry = summary["metrics"][metric]
    ax.set_title(entry["label"], fontsize=9, loc="left")
    ax.tick_params(labelsize=FONT_SIZE)
    if rows.empty:
        ax.set_axis_off()
        reason = entry.get("skipped") or "no indices"
        ax.text(
            0.5, 0.5, f"no indices: {reason}", ha="center", va="center", transform=ax.transAxes, fontsize=9
        )
        return
    labels = [textwrap.shorten(str(label), 2 * LABEL_WIDTH, placeholder="…") for label in rows["parameter"]]
    labels = ["\n".join(textwrap.wrap(label, LABEL_WIDTH)) for label in labels]
    y = np.arange(len(rows))
    if summary["settings"]["method"] == "sobol":
        pairs = (("S1", "first order S1", FIRST, -0.2), ("ST", "total ST", TOTAL, 0.2))
        ax.set_xlabel("Sobol index (share of the variance), with its 95% interval", fontsize=FONT_SIZE)
    else:
        pairs = (("mu_star", "mu*", TOTAL, -0.2), ("sigma", "sigma", FIRST, 0.2))
        ax.set_xlabel(
            "elementary effect: the change over the factor's interval (mu* with its 95% interval; sigma)",
            fontsize=FONT_SIZE,
        )
    for column, words, color, shift in pairs:
        values = rows[column].to_numpy(dtype=float)
        error = rows.get(f"{column}_conf")
        xerr = None if error is None else np.nan_to_num(error.to_numpy(dtype=float))
        ax.barh(y + shift, values, height=0.38, color=color, label=words, xerr=xerr, capsize=2, ecolor="0.3")
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.axvline(0, color="0.4", linewidth=0.8)
    ax.legend(fontsize=FONT_SIZE, loc="lower right")
