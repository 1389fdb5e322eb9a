"""Plots of many negotiations: a batch of replications."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sim.outputs.files import write_atomically

DPI = 120


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


def _short(label: str, width: int = 28) -> str:
    return textwrap.shorten(label, width=width, placeholder="…")


def write_batch_plots(run_dir: Path, summary: dict[str, Any], batch: Any) -> list[Path]:
    """`agreement.png` (probabilities with 95% intervals), `values.png` (agreed values), `utilities.png`."""
    issues = list(summary["issues"])
    title = f"{summary['title']}: {summary['replications']} replications, protocol {summary['protocol']}"

    figure = Figure(figsize=(1.6 + 1.2 * len(issues), 4))
    axes = figure.add_subplot()
    p = np.array([summary["issues"][i]["agreement_probability"] for i in issues])
    intervals = np.array([summary["issues"][i]["interval"] for i in issues])
    x = np.arange(len(issues))
    axes.bar(x, p, color="tab:blue", alpha=0.75)
    axes.errorbar(x, p, yerr=interval_spread(p, intervals), fmt="none", ecolor="black", capsize=6)
    for xi, pi in zip(x, p, strict=True):
        axes.annotate(f"{pi:.2f}", (xi, min(pi + 0.04, 1.02)), ha="center", fontsize=9)
    axes.set_xticks(
        x, issues, rotation=30 if len(issues) > 6 else 0, ha="right" if len(issues) > 6 else "center"
    )
    axes.set_ylim(0, 1.1)
    axes.set_ylabel("probability of agreement (95% interval)")
    axes.set_title(textwrap.fill(title, 60), fontsize=10)
    paths = [save_figure(figure, run_dir / "agreement.png")]

    names = [issue.name for issue in batch.scenario.columns]
    positional = [issue for issue in issues if issue in names]
    columns = max(1, min(3, len(positional)))
    rows = max(1, int(np.ceil(len(positional) / columns)))
    figure = Figure(figsize=(4.2 * columns, 3.2 * rows + 0.6))
    meta = summary.get("issues_meta", {})
    for number, issue in enumerate(positional):
        k = names.index(issue)
        axes = figure.add_subplot(rows, columns, number + 1)
        values = batch.value[batch.agreed[:, k], k]
        if values.size:
            axes.hist(values, bins=list(np.linspace(0, 1, 41)), color="tab:green", alpha=0.8)
            median = float(np.median(values))
            axes.axvline(median, color="black", linestyle="--", label=f"median {median:.3f}")
            axes.legend(fontsize=8, loc="upper left")
        else:
            axes.text(0.5, 0.5, "never agreed", ha="center", va="center", transform=axes.transAxes)
        axes.set_xlim(0, 1)
        axes.set_title(f"{issue}: agreed in {values.size} of {len(batch)}", fontsize=10)
        axes.set_ylabel("replications")
        ends = meta.get(issue, batch.scenario.columns[k].__dict__)
        axes.set_xlabel(f"0 = {_short(ends['low'])}\n1 = {_short(ends['high'])}", fontsize=8)
    figure.suptitle(textwrap.fill(f"Agreed values — {title}", 90), fontsize=10)
    figure.tight_layout()
    paths.append(save_figure(figure, run_dir / "values.png"))

    actors = list(summary["utilities"])
    figure = Figure(figsize=(max(5, 0.8 * len(actors) + 2), 4))
    axes = figure.add_subplot()
    means = np.array([summary["utilities"][a]["mean"] for a in actors])
    bounds = np.array([summary["utilities"][a]["interval"] for a in actors])
    x = np.arange(len(actors))
    axes.bar(x, means, color="tab:purple", alpha=0.7, label="mean utility (95% interval)")
    axes.errorbar(x, means, yerr=interval_spread(means, bounds), fmt="none", ecolor="black", capsize=4)
    reservation = [batch.scenario.reservation[batch.scenario.actors.index(a)] for a in actors]
    axes.scatter(x, reservation, marker="_", s=400, color="red", label="reservation", zorder=3)
    axes.set_xticks(
        x, actors, rotation=45 if len(actors) > 6 else 0, ha="right" if len(actors) > 6 else "center"
    )
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("utility of the outcome")
    axes.set_title(textwrap.fill(title, 70), fontsize=10)
    axes.legend(fontsize=8, loc="lower right")
    paths.append(save_figure(figure, run_dir / "utilities.png"))
    return paths
