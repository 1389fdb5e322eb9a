"""Plots of a series of rounds: the timeline of a replay, and the scores of a backtest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.figures.study import save_figure

FORECASTER_LABELS = {
    "model": "model",
    "persistence": "persistence",
    "base_rate": "base rate so far",
    "half": "0.5",
}


def write_timeline_plot(folder: Path, table: pd.DataFrame, issues: list[str], title: str) -> Path:
    """`timeline.png`: per issue, the recorded outcome of each round (1 yes, 0.5 partial, 0 no)
    against the simulated probability of agreement with its interval."""
    columns = 2
    rows = int(np.ceil(len(issues) / columns))
    figure = Figure(figsize=(10, 2.4 * rows + 0.8), layout="constrained")
    rounds = sorted(table["round"].unique())
    for number, issue in enumerate(issues):
        axes = figure.add_subplot(rows, columns, number + 1)
        part = table[table["issue"] == issue].sort_values("round")
        if len(part):
            spread = np.stack([part["p_agree"] - part["low"], part["high"] - part["p_agree"]])
            axes.errorbar(
                part["round"],
                part["p_agree"],
                yerr=np.maximum(spread, 0),
                fmt="o",
                color="tab:blue",
                capsize=4,
                label="simulated P(agree), 95% interval",
            )
            axes.scatter(
                part["round"],
                part["recorded"],
                marker="s",
                s=70,
                facecolors="none",
                edgecolors="black",
                linewidths=1.5,
                label="record (1 yes, 0.5 partial, 0 no)",
                zorder=3,
            )
        axes.set_title(issue, fontsize=10)
        axes.set_xticks(rounds)
        axes.set_xlim(min(rounds) - 0.5, max(rounds) + 0.5)
        axes.set_ylim(-0.08, 1.08)
        axes.grid(alpha=0.3)
        if number == 0:
            axes.legend(fontsize=7, loc="lower left")
    figure.suptitle(title, fontsize=11)
    figure.supxlabel("round")
    return save_figure(figure, folder / "timeline.png")


def write_backtest_plot(folder: Path, scores: pd.DataFrame, title: str) -> Path:
    """`backtest.png`: the Brier score per round of the model and of each baseline (lower is better)."""
    figure = Figure(figsize=(11, 4.6), layout="constrained")
    axes = figure.add_subplot()
    forecasters = [c for c in scores.columns if c != "round"]
    width = 0.8 / len(forecasters)
    x = np.arange(len(scores))
    for position, name in enumerate(forecasters):
        label = FORECASTER_LABELS.get(name, name)
        axes.bar(x + (position - (len(forecasters) - 1) / 2) * width, scores[name], width, label=label)
    axes.set_xticks(x, [str(r) for r in scores["round"]])
    axes.set_xlabel("round forecast (from the rounds before it)")
    axes.set_ylabel("Brier score (lower is better)")
    axes.set_title(title, fontsize=10)
    axes.legend(fontsize=7, ncols=3)
    axes.grid(axis="y", alpha=0.3)
    return save_figure(figure, folder / "backtest.png")
