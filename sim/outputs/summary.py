"""The `summary.json` of a run of any number of replications (a single run is a batch of one).

The format is a contract documented in the README: scripts and other tools read it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.analysis.explain import Ending, explain
from sim.analysis.reference import measure, reference_points
from sim.model.model import NOT_YET
from sim.outputs.outcome import Outcome
from sim.outputs.trace import TABLE
from sim.protocols import PROTOCOLS

Z_95 = 1.959963984540054

MEASURED_SAMPLE = 200
"""Replications (the first ones) over which distance_to_nash and pareto_gap are averaged."""

QUANTILES = {"q05": 0.05, "q25": 0.25, "median": 0.5, "q75": 0.75, "q95": 0.95}


def wilson_interval(successes: np.ndarray | int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The 95% Wilson score interval of a binomial proportion (Wilson 1927)."""
    p = np.asarray(successes, dtype=float) / n
    centre = (p + Z_95**2 / (2 * n)) / (1 + Z_95**2 / n)
    half = Z_95 * np.sqrt(p * (1 - p) / n + Z_95**2 / (4 * n**2)) / (1 + Z_95**2 / n)
    successes = np.asarray(successes)
    low = np.where(successes == 0, 0.0, np.clip(centre - half, 0, 1))
    high = np.where(successes == n, 1.0, np.clip(centre + half, 0, 1))
    return low, high


def mean_interval(samples: np.ndarray) -> tuple[float, float, float]:
    """Mean and its 95% normal interval (of width zero for one sample)."""
    samples = samples[~np.isnan(samples)]
    if samples.size == 0:
        return (np.nan, np.nan, np.nan)
    mean = float(samples.mean())
    half = Z_95 * float(samples.std(ddof=1)) / np.sqrt(samples.size) if samples.size > 1 else 0.0
    return mean, mean - half, mean + half


def _nullable(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def value_stats(values: np.ndarray) -> dict[str, float | None]:
    """Mean, sd and quantiles of the agreed values (all null when none; sd null below two)."""
    if not values.size:
        return {"mean": None, "sd": None, **dict.fromkeys(QUANTILES)}
    quantiles = np.quantile(values, list(QUANTILES.values()))
    return {
        "mean": float(values.mean()),
        "sd": float(values.std(ddof=1)) if values.size > 1 else None,
        **{name: float(q) for name, q in zip(QUANTILES, quantiles, strict=True)},
    }


def step_stats(steps: np.ndarray) -> dict[str, float | int | None]:
    """Mean, min and max of steps (nulls when there are none)."""
    if not steps.size:
        return {"mean": None, "min": None, "max": None}
    return {"mean": float(steps.mean()), "min": int(steps.min()), "max": int(steps.max())}


def proposer_shares(outcome: Outcome, column: int) -> dict[str, float]:
    """For the runs that agreed on `column`: the share whose text each proposer (or the table) wrote."""
    agreed = outcome.agreed[:, column]
    if not agreed.any():
        return {}
    names = [*outcome.scenario.actors, TABLE]
    proposers = outcome.agreed_proposer[agreed, column]
    counts = np.bincount(np.where(proposers < 0, len(names) - 1, proposers), minlength=len(names))
    return {name: float(count / agreed.sum()) for name, count in zip(names, counts, strict=True) if count}


def positional_issue(outcome: Outcome, k: int, low: float, high: float) -> dict[str, Any]:
    """The summary of position issue `k`: agreement, agreed values, steps, forecast, proposers."""
    issue = outcome.scenario.columns[k]
    agreed = outcome.agreed[:, k]
    value = value_stats(outcome.value[agreed, k])
    forecasts = outcome.forecast[:, k][~np.isnan(outcome.forecast[:, k])]
    forecast = {
        "mean": float(forecasts.mean()) if forecasts.size else None,
        "median": float(np.median(forecasts)) if forecasts.size else None,
    }
    summary: dict[str, Any] = {
        "agreement_probability": float(agreed.mean()),
        "interval": [low, high],
        "value": value,
        "meaning": "no agreement" if value["median"] is None else issue.describe(value["median"]),
        "step": step_stats(outcome.agreed_step[agreed, k]),
        "forecast": forecast,
        "proposer": proposer_shares(outcome, k),
    }
    if issue.scale != (0.0, 1.0):
        for key, median in (("value", value["median"]), ("forecast", forecast["median"])):
            summary[f"{key}_on_source_scale"] = None if median is None else issue.to_source(median)
    return summary


def share_stats(shares: np.ndarray) -> dict[str, Any]:
    """Mean share, its 95% interval, and how many shares it is over."""
    mean, lo, hi = mean_interval(shares)
    return {"mean": _nullable(mean), "interval": [_nullable(lo), _nullable(hi)], "count": int(shares.size)}


def division_issue(outcome: Outcome, columns: list[int], low: float, high: float) -> dict[str, Any]:
    """The summary of a division: agreement, steps, proposers, and how it was split (the
    proposer's share, its coalition partners', the excluded, and each recipient's mean share)."""
    first = columns[0]
    agreed = outcome.agreed[:, first]
    shares = outcome.value[agreed][:, columns]
    recipients = [outcome.scenario.columns[k].name.split(".", 1)[1] for k in columns]
    proposer = outcome.agreed_proposer[agreed, first]
    proposer_column = np.array(
        [recipients.index(outcome.scenario.actors[p]) if p >= 0 else -1 for p in proposer], dtype=int
    )
    rows = np.arange(len(shares))
    is_proposer = np.zeros_like(shares, dtype=bool)
    is_proposer[rows[proposer_column >= 0], proposer_column[proposer_column >= 0]] = True
    mean_share = {
        who: _nullable(shares[:, j].mean()) if len(shares) else None for j, who in enumerate(recipients)
    }

    meaning = ", ".join(f"{who} {share:.3f}" for who, share in mean_share.items() if share)
    return {
        "agreement_probability": float(agreed.mean()),
        "interval": [low, high],
        "value": value_stats(np.array([])),
        "meaning": meaning if agreed.any() else "no agreement",
        "step": step_stats(outcome.agreed_step[agreed, first]),
        "forecast": {"mean": None, "median": None},
        "proposer": proposer_shares(outcome, first),
        "proposer_share": share_stats(shares[is_proposer]),
        "partner_share": share_stats(shares[~is_proposer & (shares > 0)]),
        "excluded_share": share_stats(shares[~is_proposer & (shares <= 0)]),
        "mean_share": mean_share,
    }


def record_matches(outcome: Outcome) -> dict[str, np.ndarray]:
    """Per issue the record speaks of, whether each replication matches it."""
    talks = outcome.scenario
    matches = {}
    for name, record in talks.record.items():
        k = next(k for k, column in enumerate(talks.columns) if column.issue == name)
        division = bool(talks.columns[k].division)
        matches[name] = np.array(
            [
                record.matches(bool(a), None if division or not a else float(v))
                for a, v in zip(outcome.agreed[:, k], outcome.value[:, k], strict=True)
            ],
            dtype=bool,
        )
    return matches


def explained(outcome: Outcome) -> dict[str, dict[str, Any]]:
    """Per issue, why it closed or failed (`sim.analysis.explain`): the veto players' ranges and
    the zone between them, and, from the trace when one was kept, who blocked."""
    ending = Ending(
        outcome.seeds,
        outcome.agreed,
        outcome.value,
        outcome.agreed_step,
        outcome.walked_out_step,
        outcome.last_answer,
    )
    return explain(outcome.scenario, outcome.protocol, ending, outcome.trace)


def summarize(outcome: Outcome) -> dict[str, Any]:
    """The `summary.json` of the replications of `outcome` (one or more), as the README describes it."""
    talks, n = outcome.scenario, len(outcome)
    deterministic = PROTOCOLS[outcome.protocol].deterministic if outcome.protocol in PROTOCOLS else False
    low, high = wilson_interval(outcome.agreed.sum(axis=0), n)
    if deterministic:
        low = high = outcome.agreed.mean(axis=0)
    issues: dict[str, Any] = {}
    divisions = talks.divisions()
    for k, column in enumerate(talks.columns):
        if column.division:
            if column.division not in issues:
                issues[column.division] = division_issue(
                    outcome, divisions[column.division], float(low[k]), float(high[k])
                )
            continue
        issues[column.name] = positional_issue(outcome, k, float(low[k]), float(high[k]))
    for name, why in explained(outcome).items():
        issues[name]["why"] = why
    utilities = {}
    for i, actor in enumerate(talks.actors):
        mean, lo, hi = mean_interval(outcome.utilities[:, i])
        sd = float(outcome.utilities[:, i].std(ddof=1)) if n > 1 else None
        utilities[actor] = {"mean": mean, "interval": [float(lo), float(hi)], "sd": sd}
    parties = [i for i in range(talks.n_actors) if talks.roles[i] == "party"]
    walked = outcome.walked_out_step != NOT_YET
    summary: dict[str, Any] = {
        "scenario": talks.name,
        "title": talks.title,
        "protocol": outcome.protocol,
        "seed": int(outcome.seeds[0]),
        "replications": n,
        "deterministic": deterministic,
        "seeds": [int(outcome.seeds[0]), int(outcome.seeds[-1])],
        "steps": step_stats(outcome.end_step),
        "issues": issues,
        "utilities": utilities,
        "walk_out_probability": {talks.actors[i]: float(walked[:, i].mean()) for i in parties},
        "walk_out_step": {
            talks.actors[i]: step_stats(outcome.walked_out_step[walked[:, i], i])["mean"] for i in parties
        },
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
    sample = range(min(n, MEASURED_SAMPLE))
    measured = [measure(talks, outcome.value[i], outcome.agreed[i], outcome.utilities[i]) for i in sample]
    for key in ("distance_to_nash", "pareto_gap"):
        values = np.array([m[key] for m in measured if m[key] is not None], dtype=float)
        summary[key] = float(values.mean()) if values.size else None
    summary["measured_replications"] = len(measured)
    if talks.record:
        matches = record_matches(outcome)
        record: dict[str, Any] = {
            "match_probability": float(np.logical_and.reduce(list(matches.values())).mean()),
            "issues": {name: float(match.mean()) for name, match in matches.items()},
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
