"""Plots of a parameter sweep: each metric against each swept key, and a heatmap of two."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.figures.study import interval_spread, save_figure


def write_sweep_plots(sweep_dir: Path, table: pd.DataFrame, swept: list[str]) -> list[Path]:
    """Each metric against each swept parameter with 95% intervals; a heatmap when two are swept."""
    issues = [
        c.removesuffix(".agreement_probability")
        for c in table.columns
        if c.endswith(".agreement_probability")
    ]
    actors = [c.removesuffix(".utility") for c in table.columns if c.endswith(".utility")]
    paths = []
    for parameter in swept:
        if pd.to_numeric(table[parameter], errors="coerce").isna().any():
            paths.append(_categories(sweep_dir, table, parameter, issues))
            continue
        others = [p for p in swept if p != parameter]
        groups = table.groupby(others, dropna=False) if others else [((), table)]
        figure = Figure(figsize=(15, 13))
        panels = figure.subplots(4, 1)
        palette = [f"C{i % 10}" for i in range(max(len(issues), len(actors)))]
        for number, (key, group) in enumerate(groups):
            group = group.sort_values(parameter)
            style = ("-", "--", ":", "-.")[number % 4]
            x = _numeric(group[parameter])
            suffix = (
                ""
                if not others
                else " ("
                + ", ".join(
                    f"{o.split('.')[-1]}={v}"
                    for o, v in zip(others, key if isinstance(key, tuple) else (key,), strict=True)
                )
                + ")"
            )
            for k, issue in enumerate(issues):
                colour = palette[k]
                label = f"{issue}{suffix}"
                _band(
                    panels[0],
                    x,
                    group,
                    f"{issue}.agreement_probability",
                    f"{issue}.interval",
                    colour,
                    style,
                    label,
                )
                for panel, column in ((panels[1], "value_mean"), (panels[3], "step_mean")):
                    values = group[f"{issue}.{column}"].to_numpy(float)
                    panel.plot(x, values, marker="o", color=colour, linestyle=style, label=label)
            for k, actor in enumerate(actors):
                _band(
                    panels[2],
                    x,
                    group,
                    f"{actor}.utility",
                    f"{actor}.utility",
                    palette[k],
                    style,
                    f"{actor}{suffix}",
                )
        labels = (
            "probability of agreement (95% interval)",
            "mean agreed value",
            "mean utility (95% interval)",
            "mean step of agreement",
        )
        for axes, label in zip(panels, labels, strict=True):
            axes.set_xlabel(parameter, fontsize=8)
            axes.set_ylabel(label)
            if axes is not panels[3]:
                axes.set_ylim(-0.02, 1.05)
            axes.grid(alpha=0.3)
            axes.legend(
                fontsize=7, ncol=1 + (len(axes.get_lines()) > 8), loc="center left", bbox_to_anchor=(1.0, 0.5)
            )
        figure.suptitle(f"Sweep over {parameter}", fontsize=11)
        figure.tight_layout()
        paths.append(save_figure(figure, sweep_dir / f"sweep_{parameter.replace('/', '_')}.png"))
    if len(swept) == 2:
        paths.append(_heatmap(sweep_dir, table, swept, issues))
    return paths


def _band(
    axes: Any,
    x: np.ndarray,
    group: pd.DataFrame,
    mean: str,
    interval: str,
    colour: str,
    style: str,
    label: str,
) -> None:
    """A line of `mean` with its 95% band from the columns `<interval>_low` and `<interval>_high`."""
    axes.plot(x, group[mean].to_numpy(float), marker="o", color=colour, linestyle=style, label=label)
    axes.fill_between(
        x,
        group[f"{interval}_low"].to_numpy(float),
        group[f"{interval}_high"].to_numpy(float),
        color=colour,
        alpha=0.12,
    )


def _categories(sweep_dir: Path, table: pd.DataFrame, parameter: str, issues: list[str]) -> Path:
    """A categorical sweep (such as the protocol): agreement per issue and distance to Nash, per value."""
    groups = table.groupby(parameter, sort=False)
    labels = [str(key) for key, _ in groups]
    figure = Figure(figsize=(max(8, 1.6 * len(labels) * max(1, len(issues)) / 2), 4.4))
    left, right = figure.subplots(1, 2, gridspec_kw={"width_ratios": [3, 1.4]})
    width = 0.8 / max(len(issues), 1)
    x = np.arange(len(labels))
    for k, issue in enumerate(issues):
        p = np.array([g[f"{issue}.agreement_probability"].mean() for _, g in groups])
        low = np.array([g[f"{issue}.interval_low"].mean() for _, g in groups])
        high = np.array([g[f"{issue}.interval_high"].mean() for _, g in groups])
        offset = x + (k - (len(issues) - 1) / 2) * width
        left.bar(offset, p, width=width, label=issue, color=f"C{k}", alpha=0.8)
        left.errorbar(
            offset,
            p,
            yerr=interval_spread(p, np.stack([low, high], axis=1)),
            fmt="none",
            ecolor="black",
            capsize=3,
        )
    left.set_xticks(x, labels)
    left.set_ylim(0, 1.1)
    left.set_ylabel("probability of agreement (95% interval)")
    left.set_xlabel(parameter)
    left.legend(fontsize=8, ncol=min(len(issues), 4), loc="upper left")
    if "distance_to_nash" in table:
        distance = np.array([g["distance_to_nash"].mean() for _, g in groups])
        right.bar(x, np.nan_to_num(distance), color="tab:gray")
        for xi, d in zip(x, distance, strict=True):
            right.annotate(
                "none agreed" if np.isnan(d) else f"{d:.3f}",
                (xi, np.nan_to_num(d)),
                ha="center",
                va="bottom",
                fontsize=8,
            )
        right.set_xticks(x, labels, rotation=30, ha="right")
        right.set_ylabel("RMS distance to the Nash point")
        right.set_title("distance to Nash (agreed issues)", fontsize=10)
    figure.suptitle(f"Outcomes by {parameter}", fontsize=11)
    figure.tight_layout()
    return save_figure(figure, sweep_dir / f"sweep_{parameter.replace('/', '_')}.png")


def _numeric(column: pd.Series) -> np.ndarray:
    converted = pd.to_numeric(column, errors="coerce")
    if converted.notna().all():
        return converted.to_numpy(float)
    return np.arange(len(column))


def _heatmap(sweep_dir: Path, table: pd.DataFrame, swept: list[str], issues: list[str]) -> Path:
    rows_key, columns_key = swept
    figure = Figure(figsize=(4.6 * len(issues), 4.2))
    for k, issue in enumerate(issues):
        axes = figure.add_subplot(1, len(issues), k + 1)
        grid = table.pivot_table(index=rows_key, columns=columns_key, values=f"{issue}.agreement_probability")
        image = axes.imshow(
            grid.to_numpy(float), vmin=0, vmax=1, cmap="viridis", origin="lower", aspect="auto"
        )
        axes.set_xticks(range(grid.shape[1]), [str(c) for c in grid.columns], fontsize=8)
        axes.set_yticks(range(grid.shape[0]), [str(r) for r in grid.index], fontsize=8)
        for (i, j), p in np.ndenumerate(grid.to_numpy(float)):
            axes.text(
                j, i, f"{p:.2f}", ha="center", va="center", fontsize=7, color="white" if p < 0.5 else "black"
            )
        axes.set_xlabel(columns_key, fontsize=8)
        axes.set_ylabel(rows_key, fontsize=8)
        axes.set_title(f"P(agreement on {issue})", fontsize=10)
        figure.colorbar(image, ax=axes, fraction=0.046)
    figure.tight_layout()
    return save_figure(figure, sweep_dir / "heatmap.png")
