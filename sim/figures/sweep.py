"""Plots of a parameter sweep: every metric of `sweep.csv` against each swept key, and a heatmap of
the agreement probabilities when two keys are swept.

Per swept key, up to four figures: `sweep_<key>.png` (per issue, the probability of agreement, or
for a series the share of rounds reproduced), `sweep_<key>_values.png` (per issue, the mean agreed
value and the mean step of agreement), `sweep_<key>_actors.png` (per actor, the mean utility and
the probability of walking out) and `sweep_<key>_measures.png` (every other metric: steps,
record match, distance to Nash, Pareto gap, objective, Brier score, ...). One panel per issue or
actor, so lines never hide one another; jobs that differ in the other swept keys are drawn side by
side, each with its own colour and marker, slightly apart. A key is drawn as markers with their
intervals and no joining lines when it is discrete: its values are integers, or fewer than
`JOINED_FROM`; otherwise thin lines join the markers. A categorical key (such as the protocol)
gets bars of the agreement probability per issue, its Wilson interval recomputed from the counts
pooled over the jobs that share the category. Under every figure, a caption gives the settings
common to all jobs.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.core.scenario import Record
from sim.figures.study import interval_spread, save_figure
from sim.outputs.summary import wilson_interval

JOINED_FROM = 6
"""A numeric key with at least this many values, not all integers, is drawn with joining lines."""
GROUP_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")
METRIC_MARKERS = ("o", "x", "s", "^")
SPREAD = 0.012
"""How far apart (as a share of the key's range) the markers of neighbouring series sit."""
PANEL_COLUMNS = 4
CATEGORIES_LEVEL = 4
"""More categories than this have their labels turned."""
BOUNDED = (-0.04, 1.04)
MARGIN = 0.08
"""Room left and right of a numeric key's values, as a share of their range."""
NEVER_AGREED = "never agreed in any job"
NOT_METRICS = {"job", "replications"}
MEASURE_NAMES = {
    "steps_mean": "mean step the talks ended",
    "record_match_probability": "P(matches the record)",
    "distance_to_nash": "RMS distance to the Nash point",
    "pareto_gap": "Pareto gap",
    "objective": "objective",
    "brier": "Brier score (lower is better)",
    "reproduced": "issue-rounds reproduced",
    "issue_rounds": "issue-rounds recorded",
    "brier_fitted": "Brier score, fitted",
    "brier_stated": "Brier score, stated values",
    "n_issues": "issues scored",
}
PROBABILITIES = {"record_match_probability"}
RECORD_COLOUR = "forestgreen"


@dataclass(frozen=True)
class Metric:
    """A column of `sweep.csv`, with its interval's columns when it has one."""

    column: str
    label: str
    low: str | None = None
    high: str | None = None
    probability: bool = False
    unit: bool = False
    """Drawn on [0, 1] when its values lie there (a utility)."""


@dataclass(frozen=True)
class Panel:
    """One axes: its title, and the metrics it draws (each against the swept key)."""

    title: str
    metrics: tuple[Metric, ...]
    empty: str = "no value in any job"
    """What the panel says when no job has a value."""
    issue: str | None = None
    shows: str = ""
    """For an issue's panel, what of its outcome it draws: `agreement` or `value` (which the
    historical record marks), else empty."""

    @property
    def probability(self) -> bool:
        return all(metric.probability for metric in self.metrics)

    @property
    def columns(self) -> list[str]:
        """The columns of `sweep.csv` the panel draws."""
        return [c for m in self.metrics for c in (m.column, m.low, m.high) if c is not None]

    def unit(self, table: pd.DataFrame) -> bool:
        """Whether the panel is drawn on [0, 1]: probabilities, and utilities that lie there."""
        if self.probability:
            return True
        if not all(metric.unit or metric.probability for metric in self.metrics):
            return False
        values = table[[c for c in self.columns if c in table]].to_numpy(float)
        values = values[~np.isnan(values)]
        return values.size > 0 and bool(np.all((values >= 0) & (values <= 1)))


@dataclass(frozen=True)
class Group:
    """The jobs that share the values of the keys not on the x axis."""

    label: str
    table: pd.DataFrame


def write_sweep_plots(
    sweep_dir: Path,
    table: pd.DataFrame,
    swept: list[str],
    caption: str = "",
    record: Mapping[str, Record] | None = None,
) -> list[Path]:
    """Every metric against each swept key; a heatmap of the agreement probabilities when two keys
    are swept. `caption` (the settings common to all jobs) goes under every figure; `record` (what
    the scenario's historical record says per issue) is marked on the issues' panels."""
    figures = sweep_figures(table, swept, caption, record or {})
    return [save_figure(figure, sweep_dir / name) for name, figure in figures.items()]


def sweep_figures(
    table: pd.DataFrame,
    swept: Sequence[str],
    caption: str = "",
    record: Mapping[str, Record] | None = None,
) -> dict[str, Figure]:
    """The figures of `write_sweep_plots`, by file name."""
    issues = _prefixes(table, ".agreement_probability")
    figures = {}
    for key in swept:
        planned = figures_of(table, swept)
        if axis_of(table, key).categories and issues:
            figures[f"sweep_{_file_part(key)}.png"] = _categories(
                table, key, swept, issues, caption, record or {}
            )
            planned.pop("", None)
        for suffix, plan in planned.items():
            figure = _panels_figure(table, key, swept, plan, caption, record or {})
            figures[f"sweep_{_file_part(key)}{suffix}.png"] = figure
    if len(swept) == 2 and issues:
        figures["heatmap.png"] = _heatmap(table, list(swept), issues, caption)
    return figures


@dataclass(frozen=True)
class Plan:
    """A figure of panels: its title, its panels, and how many panels a row holds."""

    title: str
    panels: list[Panel]
    columns: int = PANEL_COLUMNS


def figures_of(table: pd.DataFrame, swept: Sequence[str]) -> dict[str, Plan]:
    """The figures a table calls for, by file suffix; every metric column of the table is in one."""
    issues = _prefixes(table, ".agreement_probability")
    reproduced = _prefixes(table, ".reproduced_share")
    agreement = (
        [_issue_agreement(issue) for issue in issues]
        + [_issue_reproduced(issue) for issue in reproduced]
        + [_issue_forecast(issue) for issue in _prefixes(table, ".p_agree")]
    )
    plans = {
        "": Plan("Rounds reproduced per issue" if reproduced else "Agreement per issue", agreement),
        "_values": Plan(
            "Agreed values (top) and steps (bottom) per issue",
            [_issue_mean(issue, "value_mean", "mean agreed value") for issue in issues]
            + [_issue_mean(issue, "step_mean", "mean step agreed") for issue in issues],
            len(issues) if len(issues) <= PANEL_COLUMNS else PANEL_COLUMNS,
        ),
        "_actors": Plan(
            "Utility and walk-outs per actor",
            [_actor(table, actor) for actor in _prefixes(table, ".utility")],
        ),
    }
    claimed = {column for plan in plans.values() for panel in plan.panels for column in panel.columns}
    plans["_measures"] = Plan("Measures of the outcome", _measures(table, claimed | set(swept)))
    return {suffix: plan for suffix, plan in plans.items() if plan.panels}


def _issue_mean(issue: str, statistic: str, label: str) -> Panel:
    metric = Metric(f"{issue}.{statistic}", label, unit=statistic == "value_mean")
    shows = "value" if statistic == "value_mean" else ""
    return Panel(f"{issue}: {label}", (metric,), NEVER_AGREED, issue, shows)


def _issue_agreement(issue: str) -> Panel:
    metric = Metric(
        f"{issue}.agreement_probability",
        "P(agreement)",
        f"{issue}.interval_low",
        f"{issue}.interval_high",
        probability=True,
    )
    return Panel(f"{issue}: P(agreement), 95% interval", (metric,), issue=issue, shows="agreement")


def _issue_forecast(issue: str) -> Panel:
    metric = Metric(
        f"{issue}.p_agree", "P(agreement)", f"{issue}.p_agree_low", f"{issue}.p_agree_high", probability=True
    )
    return Panel(f"{issue}: forecast P(agreement), interval", (metric,))


def _issue_reproduced(issue: str) -> Panel:
    metric = Metric(f"{issue}.reproduced_share", "share of rounds reproduced", probability=True)
    return Panel(f"{issue}: share of its rounds reproduced", (metric,))


def _actor(table: pd.DataFrame, actor: str) -> Panel:
    utility = Metric(
        f"{actor}.utility",
        "mean utility (95% interval)",
        f"{actor}.utility_low",
        f"{actor}.utility_high",
        unit=True,
    )
    walk_out = Metric(f"{actor}.walk_out_probability", "P(walks out)", probability=True)
    return Panel(actor, (utility, walk_out) if walk_out.column in table else (utility,))


def _measures(table: pd.DataFrame, claimed: set[str]) -> list[Panel]:
    """A panel for every numeric column no other figure draws."""
    panels = []
    for column in table.columns:
        if column in claimed or column in NOT_METRICS or column.endswith(("_low", "_high")):
            continue
        values = pd.to_numeric(table[column], errors="coerce")
        if values.isna().all():
            continue
        name = MEASURE_NAMES.get(column, column)
        probability = column in PROBABILITIES or column.endswith(("_probability", "_share", ".p_agreed"))
        panels.append(Panel(name, (Metric(column, name, probability=probability),)))
    return panels


def _prefixes(table: pd.DataFrame, suffix: str) -> list[str]:
    return [c.removesuffix(suffix) for c in table.columns if c.endswith(suffix)]


def _file_part(key: str) -> str:
    return key.replace("/", "_")


def grouping_keys(table: pd.DataFrame, key: str, swept: Sequence[str]) -> tuple[list[str], list[str]]:
    """The other swept keys that split the jobs into series (categorical or discrete ones), and
    those that do not (continuous ones, such as an Optuna study's: a series per trial would hold
    one point)."""
    others = [other for other in swept if other != key]
    grouped = [other for other in others if not axis_of(table, other).continuous]
    return grouped, [other for other in others if other not in grouped]


def groups_of(table: pd.DataFrame, key: str, swept: Sequence[str]) -> list[Group]:
    """The jobs grouped by the values of the other discrete swept keys, each group sorted along `key`."""
    others, _ = grouping_keys(table, key, swept)
    if not others:
        return [Group("", table)]
    groups = []
    for values, part in table.groupby(others, dropna=False, sort=True):
        chosen = values if isinstance(values, tuple) else (values,)
        label = ", ".join(f"{_short(o)}={v}" for o, v in zip(others, chosen, strict=True))
        groups.append(Group(label, part))
    return groups


def _short(key: str) -> str:
    return ".".join(key.split(".")[-2:])


@dataclass(frozen=True)
class Axis:
    """Where each value of the swept key sits on the x axis, the tick labels of a categorical key
    (else none), whether the key is discrete (integers, or fewer than `JOINED_FROM` values), and
    whether other continuous keys vary between its jobs too."""

    where: dict[Any, float]
    categories: list[str]
    discrete: bool
    mixed: bool = False

    @property
    def continuous(self) -> bool:
        return not self.discrete

    @property
    def joined(self) -> bool:
        """Whether thin lines join the markers: a continuous key whose jobs differ in nothing else."""
        return self.continuous and not self.mixed

    @property
    def step(self) -> float:
        """The room for the series drawn at one value."""
        if self.categories:
            return 0.8
        span = max(self.where.values()) - min(self.where.values())
        return SPREAD * (span or 1.0)


def axis_of(table: pd.DataFrame, key: str) -> Axis:
    """The x axis of `key`: categories in the order of the jobs, or its numeric values."""
    numeric = pd.to_numeric(table[key], errors="coerce")
    if numeric.isna().any():
        categories = list(dict.fromkeys(table[key]))
        return Axis(
            {value: float(i) for i, value in enumerate(categories)}, [str(c) for c in categories], True
        )
    values = numeric.to_numpy(float)
    return Axis({value: float(value) for value in table[key].unique()}, [], is_discrete(values))


def is_discrete(values: np.ndarray) -> bool:
    """Integer values, or fewer than `JOINED_FROM` of them."""
    distinct = np.unique(values[~np.isnan(values)])
    return len(distinct) < JOINED_FROM or bool(np.all(distinct == np.round(distinct)))


def _panels_figure(
    table: pd.DataFrame,
    key: str,
    swept: Sequence[str],
    plan: Plan,
    caption: str,
    record: Mapping[str, Record],
) -> Figure:
    panels = plan.panels
    columns = min(plan.columns, len(panels))
    rows = math.ceil(len(panels) / columns)
    figure = Figure(figsize=(3.6 * columns + 2.4, 2.9 * rows + 0.8), layout="constrained")
    grid = figure.subplots(rows, columns, squeeze=False)
    axis = axis_of(table, key)
    groups = groups_of(table, key, swept)
    _, mixed = grouping_keys(table, key, swept)
    if mixed:
        axis = Axis(axis.where, axis.categories, axis.discrete, mixed=True)
        caption = "; ".join(part for part in (caption, f"the jobs differ in {', '.join(mixed)} too") if part)
    handles: dict[str, Any] = {}
    several = any(len(panel.metrics) > 1 for panel in panels)
    for axes, panel in zip(grid.flat, panels, strict=False):
        handles |= _draw_panel(axes, panel, groups, key, axis, several)
        handles |= _mark_record(axes, panel, record.get(panel.issue or ""))
        _label_axes(axes, panel, key, axis, panel.unit(table))
    for axes in grid.flat[len(panels) :]:
        axes.set_axis_off()
    figure.suptitle(f"{plan.title} against {key}", fontsize=11)
    _finish(figure, handles, caption)
    return figure


def _mark_record(axes: Any, panel: Panel, mark: Record | None) -> dict[str, Any]:
    """The historical record on an issue's panel: a dashed line at 1 (agreed) or 0 (not) on its
    agreement, the recorded band on its agreed value; return the legend's handle."""
    if mark is None:
        return {}
    if panel.shows == "agreement":
        line = axes.axhline(1.0 if mark.agreed else 0.0, color=RECORD_COLOUR, linestyle="--", linewidth=1.2)
        return {"record (1 agreed, 0 not)": line}
    if panel.shows == "value" and mark.band is not None:
        return {"recorded band": axes.axhspan(*mark.band, color=RECORD_COLOUR, alpha=0.12, linewidth=0)}
    return {}


def _draw_panel(
    axes: Any, panel: Panel, groups: list[Group], key: str, axis: Axis, several: bool
) -> dict[str, Any]:
    """Draw every metric of the panel for every group, each series a little apart; return the
    legend's handles by label. With `several` metrics per panel in the figure, the marker tells
    the metric and the colour the group; else both tell the group."""
    count = len(panel.metrics) * len(groups)
    step = axis.step / count if axis.categories else axis.step
    handles: dict[str, Any] = {}
    for m, metric in enumerate(panel.metrics):
        for g, group in enumerate(groups):
            series = m * len(groups) + g
            offset = (series - (count - 1) / 2) * step
            label = "; ".join(
                ([metric.label] if several else []) + ([group.label] if len(groups) > 1 else [])
            )
            handle = _draw_series(axes, metric, group.table, key, axis, offset, _style(m, g, several), label)
            if label and handle is not None:
                handles.setdefault(label, handle)
    return handles


def _style(metric: int, group: int, several: bool) -> dict[str, Any]:
    markers = METRIC_MARKERS if several else GROUP_MARKERS
    return {"color": f"C{group % 10}", "marker": markers[(metric if several else group) % len(markers)]}


def _draw_series(
    axes: Any,
    metric: Metric,
    part: pd.DataFrame,
    key: str,
    axis: Axis,
    offset: float,
    style: dict[str, Any],
    label: str,
) -> Any:
    """One series: markers with their intervals, joined by a thin line on a continuous axis."""
    if metric.column not in part:
        return None
    part = part.assign(_x=part[key].map(axis.where)).sort_values("_x")
    x = part["_x"].to_numpy(float) + offset
    y = pd.to_numeric(part[metric.column], errors="coerce").to_numpy(float)
    if np.isnan(y).all():
        return None
    if axis.joined:
        axes.plot(x, y, color=style["color"], linewidth=0.8, alpha=0.45)
    if metric.low is not None and metric.high is not None and metric.low in part:
        bounds = part[[metric.low, metric.high]].to_numpy(float)
        spread = np.nan_to_num(interval_spread(y, bounds))
        axes.errorbar(x, y, yerr=spread, fmt="none", ecolor=style["color"], elinewidth=0.9, capsize=2)
    filled = style["marker"] != "x"
    return axes.plot(
        x,
        y,
        linestyle="none",
        marker=style["marker"],
        markersize=5,
        color=style["color"],
        markerfacecolor=style["color"] if filled else "none",
        label=label,
    )[0]


def _label_axes(axes: Any, panel: Panel, key: str, axis: Axis, unit: bool) -> None:
    axes.set_title(textwrap.fill(panel.title, 42), fontsize=9)
    axes.set_xlabel(_short(key), fontsize=8)
    axes.tick_params(labelsize=7)
    axes.grid(alpha=0.3)
    if not axes.get_lines():
        axes.text(0.5, 0.5, panel.empty, transform=axes.transAxes, ha="center", va="center", fontsize=8)
    if unit:
        axes.set_ylim(*BOUNDED)
    elif axes.get_ylim()[0] > 0:
        axes.set_ylim(0, axes.get_ylim()[1] * 1.05)
    if axis.categories:
        turned = len(axis.categories) > CATEGORIES_LEVEL
        axes.set_xticks(
            list(axis.where.values()),
            axis.categories,
            rotation=30 if turned else 0,
            ha="right" if turned else "center",
        )
    elif axis.discrete:
        axes.set_xticks(sorted(axis.where.values()))
    low, high = min(axis.where.values()), max(axis.where.values())
    margin = 0.5 if axis.categories else MARGIN * ((high - low) or 1.0)
    axes.set_xlim(low - margin, high + margin)


def _finish(figure: Figure, handles: dict[str, Any], caption: str) -> None:
    """The legend outside the panels, and the caption under them."""
    if len(handles) > 1:
        figure.legend(list(handles.values()), list(handles), loc="outside right upper", fontsize=7)
    if caption:
        width = int(figure.get_figwidth() * 13)
        figure.text(0.01, 0.0, textwrap.fill(caption, width), ha="left", va="top", fontsize=8, color="#333")


def pooled_agreement(part: pd.DataFrame, issue: str) -> tuple[float, float, float]:
    """P(agreement) on `issue` over the jobs in `part`, pooled from their counts (successes =
    p × replications), with the Wilson interval of the pooled counts; the point itself when every
    job's interval is (a deterministic protocol's)."""
    p = part[f"{issue}.agreement_probability"].to_numpy(float)
    n = part["replications"].to_numpy(float)
    successes, total = float(np.round(p * n).sum()), int(n.sum())
    pooled = successes / total
    low, high = part[f"{issue}.interval_low"].to_numpy(float), part[f"{issue}.interval_high"].to_numpy(float)
    if np.allclose(low, p) and np.allclose(high, p):
        return pooled, pooled, pooled
    bounds = wilson_interval(int(successes), total)
    return pooled, float(bounds[0]), float(bounds[1])


def _categories(
    table: pd.DataFrame,
    key: str,
    swept: Sequence[str],
    issues: list[str],
    caption: str,
    record: Mapping[str, Record],
) -> Figure:
    """Bars of the agreement probability per issue for each value of a categorical key, with the
    historical record as a dashed line across each issue's bars."""
    categories = list(dict.fromkeys(table[key]))
    figure = Figure(
        figsize=(max(7.0, 1.1 * len(categories) * max(1, len(issues)) / 1.5), 4.6), layout="constrained"
    )
    axes = figure.add_subplot()
    width = 0.8 / max(len(issues), 1)
    x = np.arange(len(categories))
    first_recorded = next((issue for issue in issues if issue in record), None)
    for k, issue in enumerate(issues):
        pooled = np.array([pooled_agreement(table[table[key] == c], issue) for c in categories])
        offset = x + (k - (len(issues) - 1) / 2) * width
        axes.bar(offset, pooled[:, 0], width=width, label=issue, color=f"C{k}", alpha=0.8)
        axes.errorbar(
            offset,
            pooled[:, 0],
            yerr=interval_spread(pooled[:, 0], pooled[:, 1:]),
            fmt="none",
            ecolor="black",
            capsize=3,
        )
        for xi, (share, _, high) in zip(offset, pooled, strict=True):
            axes.annotate(f"{share:.2f}", (xi, high + 0.015), ha="center", va="bottom", fontsize=7)
        mark = record.get(issue)
        if mark is not None:
            axes.hlines(
                np.full(len(offset), 1.0 if mark.agreed else 0.0),
                offset - width / 2,
                offset + width / 2,
                colors=RECORD_COLOUR,
                linestyles="--",
                linewidth=1.6,
                label="record (1 agreed, 0 not)" if issue == first_recorded else "_nolegend_",
            )
    axes.set_xticks(x, [str(c) for c in categories])
    axes.set_ylim(0, 1.12)
    axes.set_ylabel("probability of agreement (95% interval)")
    axes.set_xlabel(key)
    axes.grid(axis="y", alpha=0.3)
    others = [other for other in swept if other != key]
    pooled_note = f"each bar pools the jobs over {', '.join(others)}" if others else ""
    figure.suptitle(f"Agreement per issue by {key}", fontsize=11)
    handles, labels = axes.get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside right upper", fontsize=8, title="issue")
    _finish(figure, {}, "; ".join(part for part in (caption, pooled_note) if part))
    return figure


def _heatmap(table: pd.DataFrame, swept: list[str], issues: list[str], caption: str) -> Figure:
    """P(agreement) per issue over the grid of the two swept keys; over the jobs' points, as a
    scatter, when either key is continuous (an Optuna study's)."""
    rows_key, columns_key = swept
    figure = Figure(figsize=(4.6 * len(issues), 4.4), layout="constrained")
    continuous = axis_of(table, rows_key).continuous or axis_of(table, columns_key).continuous
    for k, issue in enumerate(issues):
        axes = figure.add_subplot(1, len(issues), k + 1)
        if continuous:
            _scatter(figure, axes, table, swept, issue)
            continue
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
    _finish(figure, {}, caption)
    return figure


def _scatter(figure: Figure, axes: Any, table: pd.DataFrame, swept: list[str], issue: str) -> None:
    """Each job at its two values, coloured by its P(agreement) on `issue`."""
    rows_key, columns_key = swept
    across, up = axis_of(table, columns_key), axis_of(table, rows_key)
    points = axes.scatter(
        table[columns_key].map(across.where).to_numpy(float),
        table[rows_key].map(up.where).to_numpy(float),
        c=table[f"{issue}.agreement_probability"].to_numpy(float),
        vmin=0,
        vmax=1,
        cmap="viridis",
        edgecolors="black",
        linewidths=0.4,
    )
    if across.categories:
        axes.set_xticks(list(across.where.values()), across.categories, fontsize=8)
    if up.categories:
        axes.set_yticks(list(up.where.values()), up.categories, fontsize=8)
    axes.set_xlabel(columns_key, fontsize=8)
    axes.set_ylabel(rows_key, fontsize=8)
    axes.set_title(f"P(agreement on {issue})", fontsize=10)
    figure.colorbar(points, ax=axes, fraction=0.046)
