"""Monte Carlo replications: many negotiations with derived seeds, summaries only, memory flat.

Replication i runs with seed `seed + i` through the same `NegotiationModel` as a single run, in
chunks of replications run in lockstep; each chunk leaves only its outcome arrays behind.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.model.model import NOT_YET, NegotiationModel
from sim.outputs.summary import Outcome, trace_frame
from sim.protocols import make_protocol
from sim.analysis.reference import measure, reference_points
from sim.core.scenario import Scenario

Z_95 = 1.959963984540054
MEASURED_SAMPLE = 200
"""Replications (the first ones) over which a batch averages distance_to_nash and pareto_gap."""
CELLS_PER_CHUNK = 200_000
"""Replications per chunk times actors times issues: bounds the memory a chunk holds."""


@dataclass
class BatchOutcome(Outcome):
    """The outcome of every replication of a batch, and its trace when one was asked for."""

    trace: pd.DataFrame | None = None

    def table(self) -> pd.DataFrame:
        """One row per replication: seed, steps, per issue agreed/value/step, per actor utility."""
        talks = self.scenario
        columns: dict[str, Any] = {"seed": self.seeds, "steps": self.end_step}
        for k, issue in enumerate(talks.issue_names):
            columns[f"{issue}.agreed"] = self.agreed[:, k]
            columns[f"{issue}.value"] = self.value[:, k]
            columns[f"{issue}.step"] = np.where(self.agreed[:, k], self.agreed_step[:, k], np.nan)
            columns[f"{issue}.forecast"] = self.forecast[:, k]
        for i, actor in enumerate(talks.actors):
            columns[f"{actor}.utility"] = self.utilities[:, i]
        for i, actor in enumerate(talks.actors):
            if talks.roles[i] == "party":
                columns[f"{actor}.walked_out"] = self.walked_out_step[:, i] != NOT_YET
        return pd.DataFrame(columns)


def chunk_size(scenario: Scenario) -> int:
    return int(np.clip(CELLS_PER_CHUNK // (scenario.n_actors * scenario.n_issues), 64, 8192))


def run_batch(
    scenario: Scenario,
    protocol_cfg: Mapping[str, Any],
    seeds: np.ndarray,
    *,
    trace: bool = False,
    progress: bool | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> BatchOutcome:
    """Run one negotiation per seed; keep outcomes (and the trace only when asked)."""
    seeds = np.asarray(seeds, dtype=np.int64)
    n, size = len(seeds), chunk_size(scenario)
    agreed = np.zeros((n, scenario.n_issues), dtype=bool)
    value = np.full((n, scenario.n_issues), np.nan)
    agreed_step = np.full((n, scenario.n_issues), NOT_YET, dtype=np.int32)
    utilities = np.zeros((n, scenario.n_actors))
    walked = np.full((n, scenario.n_actors), NOT_YET, dtype=np.int32)
    end_step = np.zeros(n, dtype=np.int32)
    forecast = np.full((n, scenario.n_issues), np.nan)
    proposer = np.full((n, scenario.n_issues), NOT_YET, dtype=np.int32)
    traces: list[pd.DataFrame] = []
    protocol_name = str(protocol_cfg.get("name"))
    bar = _progress_bar(n, progress)
    for start in range(0, n, size):
        part = slice(start, min(start + size, n))
        model = NegotiationModel(scenario, make_protocol(protocol_cfg), seeds[part], record_trace=trace).run()
        agreed[part], value[part], agreed_step[part] = model.agreed, model.agreed_value, model.agreed_step
        utilities[part] = model.final_utilities()
        walked[part], end_step[part] = model.walked_out_step, model.end_step
        forecast[part], proposer[part] = model.forecasts(), model.agreed_proposer
        if trace:
            frame = trace_frame(model)
            if "seed" not in frame:
                frame.insert(0, "seed", seeds[part][0])
            traces.append(frame)
        if bar is not None:
            bar.update(part.stop - part.start)
        if on_chunk is not None:
            on_chunk(part.stop)
    if bar is not None:
        bar.close()
    return BatchOutcome(
        scenario,
        protocol_name,
        seeds,
        agreed,
        value,
        agreed_step,
        utilities,
        walked,
        end_step,
        forecast,
        proposer,
        pd.concat(traces, ignore_index=True) if traces else None,
    )


def _progress_bar(total: int, progress: bool | None) -> Any:
    show = sys.stderr.isatty() if progress is None else progress
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="negotiation", desc="replications", file=sys.stderr)


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


def summarize_batch(batch: BatchOutcome, base_seed: int) -> dict[str, Any]:
    """The `summary.json` of a batch: agreement probabilities with intervals, value distributions."""
    talks, n = batch.scenario, len(batch)
    low, high = wilson_interval(batch.agreed.sum(axis=0), n)
    issues: dict[str, Any] = {}
    for k, issue in enumerate(talks.issues):
        if issue.group:
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
        for k, issue in enumerate(talks.issue_names):
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


def division_shares(batch: BatchOutcome, columns: list[int]) -> dict[str, Any]:
    """How a division was split: the proposer's share, its coalition partners', the excluded."""
    agreed = batch.agreed[:, columns[0]]
    shares = batch.value[agreed][:, columns]
    recipients = [batch.scenario.issues[k].name.split(".", 1)[1] for k in columns]
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


def format_batch_table(summary: dict[str, Any]) -> str:
    lines = [
        f"{summary['title']} — protocol {summary['protocol']}, {summary['replications']} replications "
        f"(seeds {summary['seeds'][0]}–{summary['seeds'][1]})",
        "",
    ]
    lines.append(
        f"{'issue':<12} {'P(agreed)':>9} {'95% interval':>15} {'median value':>13}  meaning of the median"
    )
    for name, issue in summary["issues"].items():
        lo, hi = issue["interval"]
        median = issue["value"]["median"]
        shown = "-" if median is None else f"{median:.3f}"
        if issue.get("median_on_source_scale") is not None:
            shown = f"{median:.3f} ({issue['median_on_source_scale']:.4g})"
        lines.append(
            f"{name:<12} {issue['agreement_probability']:>9.3f} {f'[{lo:.3f}, {hi:.3f}]':>15} "
            f"{shown:>13}  {issue['meaning_of_median']}"
        )
        if "proposer_share" in issue:
            for role in ("proposer", "partner", "excluded"):
                share = issue[f"{role}_share"]
                if share["count"]:
                    lo, hi = share["interval"]
                    lines.append(f"{'':<12} mean {role} share {share['mean']:.4f} [{lo:.4f}, {hi:.4f}]")
    lines += ["", f"{'actor':<12} {'mean utility':>12} {'95% interval':>17}"]
    for actor, mean in summary["utilities"].items():
        lo, hi = summary["utility_intervals"][actor]
        lines.append(f"{actor:<12} {mean:>12.3f} {f'[{lo:.3f}, {hi:.3f}]':>17}")
    if summary["walk_out_probability"]:
        walks = ", ".join(f"{a} {p:.3f}" for a, p in summary["walk_out_probability"].items())
        lines += ["", f"walk-out probability: {walks}"]
    if "record_match_probability" in summary:
        lines.append(f"runs matching the historical record: {summary['record_match_probability']:.3f}")
    return "\n".join(lines)
