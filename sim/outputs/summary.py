"""The `summary.json` of a run or a batch: agreement, values, utilities, reference points.

The format is a contract documented in the README: scripts and other tools read it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.analysis.reference import measure, reference_points
from sim.model.model import NOT_YET
from sim.outputs.outcome import Outcome
from sim.outputs.trace import TABLE


def summarize(outcome: Outcome, replication: int = 0) -> dict[str, Any]:
    """The outcome of one replication as the `summary.json` contract describes it."""
    talks = outcome.scenario
    r = replication
    names = np.array([*talks.actors, TABLE])
    issues: dict[str, Any] = {}
    for k, issue in enumerate(talks.columns):
        if issue.division:
            continue
        agreed = bool(outcome.agreed[r, k])
        value = float(outcome.value[r, k]) if agreed else None
        forecast = None if np.isnan(outcome.forecast[r, k]) else float(outcome.forecast[r, k])
        issues[issue.name] = {
            "agreed": agreed,
            "value": value,
            "step": int(outcome.agreed_step[r, k]) if agreed else None,
            "meaning": issue.describe(value) if value is not None else "no agreement",
            "forecast": forecast,
            "proposer": str(names[outcome.agreed_proposer[r, k]]) if agreed else None,
        }
        if issue.scale != (0.0, 1.0):
            issues[issue.name]["value_on_source_scale"] = None if value is None else issue.to_source(value)
            issues[issue.name]["forecast_on_source_scale"] = (
                None if forecast is None else issue.to_source(forecast)
            )
    for division, columns in talks.divisions().items():
        first = columns[0]
        agreed = bool(outcome.agreed[r, first])
        recipients = [talks.columns[k].name.removeprefix(f"{division}.") for k in columns]
        shares = {who: float(outcome.value[r, k]) for who, k in zip(recipients, columns, strict=True)}
        issues[division] = {
            "agreed": agreed,
            "value": shares if agreed else None,
            "step": int(outcome.agreed_step[r, first]) if agreed else None,
            "meaning": ", ".join(f"{who} {share:.3f}" for who, share in shares.items() if share > 0)
            if agreed
            else "no agreement",
            "forecast": None,
            "proposer": str(names[outcome.agreed_proposer[r, first]]) if agreed else None,
        }
    walked = outcome.walked_out_step[r]
    summary: dict[str, Any] = {
        "scenario": talks.name,
        "title": talks.title,
        "protocol": outcome.protocol,
        "seed": int(outcome.seeds[r]),
        "steps": int(outcome.end_step[r]),
        "issues": issues,
        "utilities": {actor: float(u) for actor, u in zip(talks.actors, outcome.utilities[r], strict=True)},
        "walked_out": [actor for actor, step in zip(talks.actors, walked, strict=True) if step != NOT_YET],
        "walked_out_step": {
            actor: int(step) for actor, step in zip(talks.actors, walked, strict=True) if step != NOT_YET
        },
        "issues_meta": {
            issue.name: {"low": issue.low, "high": issue.high, "description": issue.description}
            for issue in talks.columns
            if not issue.division
        },
        "actors": {
            actor: {
                "name": talks.display_names[i],
                "role": str(talks.roles[i]),
                "label": talks.role_label(i),
                "present": bool(talks.present[i]),
                "ideal": {
                    issue.name: float(talks.ideal[i, k])
                    for k, issue in enumerate(talks.columns)
                    if not issue.division
                },
                "reservation": float(talks.reservation[i]),
            }
            for i, actor in enumerate(talks.actors)
        },
    }

    summary["reference"] = reference_points(talks)
    summary.update(measure(talks, outcome.value[r], outcome.agreed[r], outcome.utilities[r]))
    if talks.record:
        checks = {
            name: talks.record[name].matches(issues[name]["agreed"], issues[name]["value"])
            for name in talks.record
        }
        summary["record"] = {"matches": all(checks.values()), "issues": checks}
    return summary


def expand_divisions(summary: dict[str, Any]) -> dict[str, Any]:
    """A copy of `summary` with each division's shares as issues of their own, as the trace has them."""
    issues: dict[str, Any] = {}
    meta = dict(summary["issues_meta"])
    for name, issue in summary["issues"].items():
        if not isinstance(issue["value"], dict) and not (issue["value"] is None and name not in meta):
            issues[name] = issue
            continue
        for who in (issue["value"] or {}) or [a for a in summary["actors"]]:
            share = None if issue["value"] is None else issue["value"][who]
            issues[f"{name}.{who}"] = {**issue, "value": share, "meaning": ""}
            meta[f"{name}.{who}"] = {
                "low": f"nothing for {who}",
                "high": f"all of it for {who}",
                "description": "",
            }
    return {**summary, "issues": issues, "issues_meta": meta}


Z_95 = 1.959963984540054


MEASURED_SAMPLE = 200
"""Replications (the first ones) over which a batch averages distance_to_nash and pareto_gap."""


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
    """Mean and its 95% normal interval."""
    samples = samples[~np.isnan(samples)]
    if samples.size == 0:
        return (np.nan, np.nan, np.nan)
    mean = float(samples.mean())
    half = Z_95 * float(samples.std(ddof=1)) / np.sqrt(samples.size) if samples.size > 1 else 0.0
    return mean, mean - half, mean + half


def _nullable(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def summarize_batch(batch: Outcome, base_seed: int) -> dict[str, Any]:
    """The `summary.json` of a batch: agreement probabilities with intervals, value distributions."""
    talks, n = batch.scenario, len(batch)
    low, high = wilson_interval(batch.agreed.sum(axis=0), n)
    issues: dict[str, Any] = {}
    for k, issue in enumerate(talks.columns):
        if issue.division:
            continue
        values = batch.value[batch.agreed[:, k], k]
        quantiles = np.quantile(values, [0.05, 0.25, 0.5, 0.75, 0.95]) if values.size else [np.nan] * 5
        issues[issue.name] = {
            "agreement_probability": float(batch.agreed[:, k].mean()),
            "interval": [float(low[k]), float(high[k])],
            "value": {
                "mean": _nullable(values.mean()) if values.size else None,
                "sd": _nullable(values.std(ddof=1)) if values.size > 1 else None,
                **{
                    name: _nullable(q)
                    for name, q in zip(("q05", "q25", "median", "q75", "q95"), quantiles, strict=True)
                },
            },
            "meaning_of_median": issue.describe(float(quantiles[2])) if values.size else "no agreement",
            "step_mean": _nullable(batch.agreed_step[batch.agreed[:, k], k].mean()) if values.size else None,
        }
        if issue.scale != (0.0, 1.0) and values.size:
            issues[issue.name]["median_on_source_scale"] = issue.to_source(float(quantiles[2]))
    for division, columns in talks.divisions().items():
        issues[division] = division_shares(batch, columns)
    utilities = {}
    for i, actor in enumerate(talks.actors):
        mean, lo, hi = mean_interval(batch.utilities[:, i])
        utilities[actor] = {"mean": mean, "interval": [lo, hi]}
    walked = batch.walked_out_step != NOT_YET
    summary: dict[str, Any] = {
        "scenario": talks.name,
        "title": talks.title,
        "protocol": batch.protocol,
        "seed": base_seed,
        "replications": n,
        "seeds": [int(batch.seeds[0]), int(batch.seeds[-1])],
        "steps_mean": float(batch.end_step.mean()),
        "issues": issues,
        "utilities": {actor: u["mean"] for actor, u in utilities.items()},
        "utility_intervals": {actor: u["interval"] for actor, u in utilities.items()},
        "walk_out_probability": {
            actor: float(walked[:, i].mean())
            for i, actor in enumerate(talks.actors)
            if talks.roles[i] == "party"
        },
    }
    summary["reference"] = reference_points(talks)
    sample = range(min(n, MEASURED_SAMPLE))
    measured = [measure(talks, batch.value[i], batch.agreed[i], batch.utilities[i]) for i in sample]
    for key in ("distance_to_nash", "pareto_gap"):
        values = np.array([m[key] for m in measured if m[key] is not None], dtype=float)
        summary[f"{key}_mean"] = _nullable(values.mean()) if values.size else None
    summary["measured_replications"] = len(measured)
    if talks.record:
        matches = np.ones(n, dtype=bool)
        for k, issue in enumerate(talks.column_names):
            if issue in talks.record:
                record = talks.record[issue]
                matches &= np.array(
                    [
                        record.matches(bool(a), v)
                        for a, v in zip(batch.agreed[:, k], batch.value[:, k], strict=True)
                    ]
                )
        summary["record_match_probability"] = float(matches.mean())
    return summary


def division_shares(batch: Outcome, columns: list[int]) -> dict[str, Any]:
    """How a division was split: the proposer's share, its coalition partners', the excluded."""
    agreed = batch.agreed[:, columns[0]]
    shares = batch.value[agreed][:, columns]
    recipients = [batch.scenario.columns[k].name.split(".", 1)[1] for k in columns]
    proposer = batch.agreed_proposer[agreed, columns[0]]
    proposer_column = np.array(
        [recipients.index(batch.scenario.actors[p]) if p >= 0 else -1 for p in proposer]
    )
    rows = np.arange(len(shares))
    is_proposer = np.zeros_like(shares, dtype=bool)
    is_proposer[rows[proposer_column >= 0], proposer_column[proposer_column >= 0]] = True
    low, high = wilson_interval(int(agreed.sum()), len(agreed))

    def stats(values: np.ndarray) -> dict[str, Any]:
        mean, lo, hi = mean_interval(values)
        return {
            "mean": _nullable(mean),
            "interval": [_nullable(lo), _nullable(hi)],
            "count": int(values.size),
        }

    return {
        "agreement_probability": float(agreed.mean()),
        "interval": [float(low), float(high)],
        "proposer_share": stats(shares[is_proposer]),
        "partner_share": stats(shares[~is_proposer & (shares > 0)]),
        "excluded_share": stats(shares[~is_proposer & (shares <= 0)]),
        "mean_share": {
            who: _nullable(shares[:, j].mean()) if len(shares) else None for j, who in enumerate(recipients)
        },
        "value": {"median": None},
        "meaning_of_median": "see proposer_share and partner_share",
        "step_mean": _nullable(batch.agreed_step[agreed, columns[0]].mean()) if agreed.any() else None,
    }
