"""The `summary.json` of a run of any number of replications (a single run is a batch of one).

The format is a contract documented in the README: scripts and other tools read it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.analysis.reference import measure, reference_points
from sim.outputs.outcome import Outcome
from sim.outputs.store import Store, extremes, mean, quantiles, sd
from sim.outputs.tally import (
    END_STEP,
    Tally,
    forecast_of,
    recipients,
    share_of,
    split_of,
    step_of,
    utility_of,
    value_of,
    walk_out_of,
)
from sim.outputs.trace import TABLE
from sim.protocols import PROTOCOLS

Z_95 = 1.959963984540054

SHARE_KINDS = ("proposer", "partner", "excluded")
QUANTILES = {"q05": 0.05, "q25": 0.25, "median": 0.5, "q75": 0.75, "q95": 0.95}
NO_VALUES: dict[str, float | None] = {"mean": None, "sd": None, **dict.fromkeys(QUANTILES)}
"""The statistics of a quantity without values."""


def wilson_interval(successes: np.ndarray | int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The 95% Wilson score interval of a binomial proportion (Wilson 1927)."""
    p = np.asarray(successes, dtype=float) / n
    centre = (p + Z_95**2 / (2 * n)) / (1 + Z_95**2 / n)
    half = Z_95 * np.sqrt(p * (1 - p) / n + Z_95**2 / (4 * n**2)) / (1 + Z_95**2 / n)
    successes = np.asarray(successes)
    low = np.where(successes == 0, 0.0, np.clip(centre - half, 0, 1))
    high = np.where(successes == n, 1.0, np.clip(centre + half, 0, 1))
    return low, high


def value_stats(store: Store, name: str) -> dict[str, float | None]:
    """Mean, sd and quantiles of a quantity's values (all null when none; sd null below two)."""
    centre = mean(store, name)
    if centre is None:
        return dict(NO_VALUES)
    found = quantiles(store, name, list(QUANTILES.values())) or []
    return {"mean": centre, "sd": sd(store, name, centre), **dict(zip(QUANTILES, found, strict=True))}


def step_stats(store: Store, name: str) -> dict[str, float | int | None]:
    """Mean, min and max of steps (nulls when there are none)."""
    ends = extremes(store, name)
    if ends is None:
        return {"mean": None, "min": None, "max": None}
    return {"mean": mean(store, name), "min": int(ends[0]), "max": int(ends[1])}


def proposer_shares(tally: Tally, column: int) -> dict[str, float]:
    """For the runs that agreed on `column`: the share whose text each proposer (or the table) wrote."""
    agreed = int(tally.agreed[column])
    if not agreed:
        return {}
    names = [*tally.scenario.actors, TABLE]
    counts = tally.proposers[column]
    return {name: float(count / agreed) for name, count in zip(names, counts, strict=True) if count}


def positional_issue(tally: Tally, k: int, low: float, high: float) -> dict[str, Any]:
    """The summary of position issue `k`: agreement, agreed values, steps, forecast, proposers."""
    issue, store = tally.scenario.columns[k], tally.store
    value = value_stats(store, value_of(k))
    median = quantiles(store, forecast_of(k), [0.5])
    forecast = {"mean": mean(store, forecast_of(k)), "median": None if median is None else median[0]}
    summary: dict[str, Any] = {
        "agreement_probability": float(tally.agreed[k] / tally.replications),
        "interval": [low, high],
        "value": value,
        "meaning": "no agreement" if value["median"] is None else issue.describe(value["median"]),
        "step": step_stats(store, step_of(k)),
        "forecast": forecast,
        "proposer": proposer_shares(tally, k),
    }
    if issue.scale != (0.0, 1.0):
        for key, centre in (("value", value["median"]), ("forecast", forecast["median"])):
            summary[f"{key}_on_source_scale"] = None if centre is None else issue.to_source(centre)
    return summary


def mean_interval(store: Store, name: str) -> tuple[float | None, list[float], float | None]:
    """A quantity's mean, its 95% normal interval (of width zero for one value) and its sd; a
    mean of None and an interval of NaN when it has no values."""
    centre = mean(store, name)
    if centre is None:
        return None, [np.nan, np.nan], None
    spread = sd(store, name, centre)
    half = 0.0 if spread is None else Z_95 * spread / np.sqrt(store.count(name))
    return centre, [centre - half, centre + half], spread


def share_stats(store: Store, name: str) -> dict[str, Any]:
    """Mean share, its 95% normal interval, and how many shares it is over."""
    centre, interval, _ = mean_interval(store, name)
    if centre is None:
        return {"mean": None, "interval": [None, None], "count": 0}
    return {"mean": centre, "interval": interval, "count": store.count(name)}


def division_issue(
    tally: Tally, division: str, columns: list[int], low: float, high: float
) -> dict[str, Any]:
    """The summary of a division: agreement, steps, proposers, and how it was split (the
    proposer's share, its coalition partners', the excluded, and each recipient's mean share)."""
    first, store = columns[0], tally.store
    mean_share = {who: mean(store, share_of(division, who)) for who in recipients(tally.scenario, columns)}
    meaning = ", ".join(f"{who} {share:.3f}" for who, share in mean_share.items() if share)
    return {
        "agreement_probability": float(tally.agreed[first] / tally.replications),
        "interval": [low, high],
        "value": dict(NO_VALUES),
        "meaning": meaning if tally.agreed[first] else "no agreement",
        "step": step_stats(store, step_of(first)),
        "forecast": {"mean": None, "median": None},
        "proposer": proposer_shares(tally, first),
        **{f"{kind}_share": share_stats(store, split_of(division, kind)) for kind in SHARE_KINDS},
        "mean_share": mean_share,
    }


def summarize(source: Outcome | Tally) -> dict[str, Any]:
    """The `summary.json` of a batch (of one or more replications), from its outcome or its tally,
    as the README describes it."""
    tally = Tally.of(source) if isinstance(source, Outcome) else source
    talks, n, store = tally.scenario, tally.replications, tally.store
    deterministic = PROTOCOLS[tally.protocol].deterministic if tally.protocol in PROTOCOLS else False
    low, high = wilson_interval(tally.agreed, n)
    if deterministic:
        low = high = tally.agreed / n
    issues: dict[str, Any] = {}
    divisions = talks.divisions()
    for k, column in enumerate(talks.columns):
        if column.division:
            if column.division not in issues:
                columns = divisions[column.division]
                issues[column.division] = division_issue(tally, column.division, columns, low[k], high[k])
            continue
        issues[column.name] = positional_issue(tally, k, float(low[k]), float(high[k]))
    for name, reasons in tally.explained().items():
        issues[name]["why"] = reasons
    utilities = {}
    for i, actor in enumerate(talks.actors):
        centre, interval, spread = mean_interval(store, utility_of(i))
        utilities[actor] = {"mean": np.nan if centre is None else centre, "interval": interval, "sd": spread}
    parties = [i for i in range(talks.n_actors) if talks.roles[i] == "party"]
    summary: dict[str, Any] = {
        "scenario": talks.name,
        "title": talks.title,
        "protocol": tally.protocol,
        "seed": tally.seeds[0],
        "replications": n,
        "deterministic": deterministic,
        "seeds": tally.seeds,
        "steps": step_stats(store, END_STEP),
        "issues": issues,
        "utilities": utilities,
        "walk_out_probability": {talks.actors[i]: float(tally.walked[i] / n) for i in parties},
        "walk_out_step": {talks.actors[i]: mean(store, walk_out_of(i)) for i in parties},
        "issues_meta": {
            column.name: {"low": column.low, "high": column.high, "description": column.description}
            for column in talks.columns
            if not column.division
        },
        "actors": {
            actor: {
                "name": talks.display_names[i],
                "role": str(talks.roles[i]),
                "label": talks.role_label(i),
                "present": bool(talks.present[i]),
                "ideal": {
                    column.name: float(talks.ideal[i, k])
                    for k, column in enumerate(talks.columns)
                    if not column.division
                },
                "reservation": float(talks.reservation[i]),
            }
            for i, actor in enumerate(talks.actors)
        },
        "reference": reference_points(talks),
    }
    head = tally.head
    measured = (
        []
        if head is None
        else [measure(talks, head.value[i], head.agreed[i], head.utilities[i]) for i in range(len(head))]
    )
    for key in ("distance_to_nash", "pareto_gap"):
        values = np.array([m[key] for m in measured if m[key] is not None], dtype=float)
        summary[key] = float(values.mean()) if values.size else None
    summary["measured_replications"] = len(measured)
    if talks.record:
        record: dict[str, Any] = {
            "match_probability": tally.matched.get("", 0) / n,
            "issues": {name: tally.matched.get(name, 0) / n for name in talks.record},
        }
        notes = {name: rec.note for name, rec in talks.record.items() if rec.note}
        if notes:
            record["note"] = notes
        disputed = {
            name: {"account": "agreed" if rec.agreed else "not agreed", "other_account": rec.disputed}
            for name, rec in talks.record.items()
            if rec.disputed
        }
        if disputed:
            record["disputed"] = disputed
        summary["record"] = record
    return summary


def expand_divisions(summary: dict[str, Any]) -> dict[str, Any]:
    """A copy of `summary` with each division's mean shares as issues of their own (the share as
    the value's mean and median), as the trace has them: what the run plots draw."""
    issues: dict[str, Any] = {}
    meta = dict(summary["issues_meta"])
    for name, issue in summary["issues"].items():
        if "mean_share" not in issue:
            issues[name] = issue
            continue
        for who, share in issue["mean_share"].items():
            issues[f"{name}.{who}"] = {
                key: issue[key]
                for key in ("agreement_probability", "interval", "step", "forecast", "proposer")
            } | {"value": {**issue["value"], "mean": share, "median": share}, "meaning": ""}
            meta[f"{name}.{who}"] = {
                "low": f"nothing for {who}",
                "high": f"all of it for {who}",
                "description": "",
            }
    return {**summary, "issues": issues, "issues_meta": meta}
