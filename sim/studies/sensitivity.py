"""Sensitivity and robustness: how much each parameter moves each outcome, and how robust the record is.

The parameters are those task=what_if changes one at a time (`sim.studies.what_if.knobs`) that
a batch of variants can set: every present actor's ideal points and stated saliences per issue,
reservation, capability, concession exponent and weight on its client. Each varies uniformly
within `sensitivity.spread` of its value (of its range where its value is 0), clipped to its
range. Presence and the protocol's settings stay fixed: a batch of variants cannot change them.

Global sensitivity: with `sensitivity.method=sobol`, first-order and total Sobol indices (Sobol
2001, "Global sensitivity indices for nonlinear mathematical models and their Monte Carlo
estimates", Math. Comput. Simul. 55) from Saltelli's sampling scheme on a scrambled Sobol
sequence (Saltelli 2002, Comput. Phys. Commun. 145; estimators of Saltelli et al. 2010, Comput.
Phys. Commun. 181), N(D + 2) runs for N base samples and D factors, with bootstrap confidence
intervals; with `morris`, elementary effects (Morris 1991, Technometrics 33(2)) summarised by
mu* and sigma (Campolongo, Cariboni and Saltelli 2007, Environ. Model. Softw. 22(10)), N(D + 1)
runs for N trajectories. SALib samples and analyses; the runs are one batch of variants
(`sim.core.variants`). `sensitivity.groups` makes each actor's parameters, or each kind of
parameter, one factor (SALib's groups). Every point runs `replications` times, and all points
built from one base sample (one trajectory) share their seeds: base sample b runs seeds
seed + b·R, ..., seed + b·R + R - 1 for R replications (common random numbers).

The outcomes: per issue, agreement (the share of a point's runs that agree) and value (the
agreed value, else the protocol's forecast; runs with neither count at the mean of the others,
and an issue agreed in fewer than half of all runs gets no value indices); per present actor,
utility and walking out. An outcome that differs from its most common value in fewer than 1% of
the points has no indices.

For a series of rounds, each round of its record is a study of its own, in `round_<n>/`: the
negotiation at the table as the series plans it (its events, and the mechanisms that prepare the
actors, applied at the series' parameter values), with that round's recorded outcomes as its
record. The mechanisms that act on outcomes (linkage, leverage, the procedural fallback) and the
series' uncertainty draws stay out: the study is of the table's negotiation.

Robustness of the record: for each spread of `sensitivity.robustness`, `sensitivity.scenarios`
scenarios with every parameter drawn uniformly within that spread, together; a scenario
reproduces the record when, for every issue the record speaks of, more than half its runs match
it (agreed or not, and the agreed value within the recorded band). The share, with its Wilson
95% interval, and the share per issue.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analysis
from SALib.sample import morris as morris_sampling
from SALib.util import scale_samples
from scipy.stats import binomtest, norm, qmc

from sim.core.variants import variants_from_keys
from sim.errors import UserError
from sim.figures.sensitivity import write_sensitivity_plots
from sim.model.model import NOT_YET
from sim.outputs.files import write_csv, write_json
from sim.outputs.outcome import Outcome
from sim.outputs.tally import record_matches
from sim.setup.job import Job
from sim.setup.sensitivity import Grouping, SensitivityJob, SensitivityMethod
from sim.studies.batch import run_batch
from sim.studies.series import round_negotiations
from sim.studies.what_if import CELLS_PER_CALL, VARIANT, Knob, knobs

RARE = 0.01
"""A metric that differs from its most common value in fewer than this share of the points gets
no indices: a handful of rare events is no estimate of a share of the variance."""
VALUE_AGREEMENT = 0.5
"""An issue agreed in fewer than this share of all runs gets no value indices."""
CONFIDENCE = 0.95
RESAMPLES = 100
"""Bootstrap resamples of the confidence intervals (SALib's default)."""
KIND_WORDS = {
    "ideal": "ideal points",
    "salience": "saliences",
    "reservation": "reservations",
    "capability": "capabilities",
    "concession": "concession exponents",
    "patron_weight": "weights on clients",
}
METRIC_WORDS = {"agreed": "agreement", "value": "value", "utility": "utility", "walked_out": "walking out"}
SOBOL_COLUMNS = ("S1", "S1_conf", "ST", "ST_conf")
MORRIS_COLUMNS = ("mu_star", "mu_star_conf", "sigma", "mu")


@dataclass(frozen=True)
class Varied:
    """One parameter and the interval it varies in."""

    knob: Knob
    low: float
    high: float

    @property
    def label(self) -> str:
        return self.knob.label.format(issue=self.knob.issue)


@dataclass(frozen=True)
class Factor:
    """What SALib varies: one parameter, or a group of them that moves as one."""

    name: str
    label: str
    members: tuple[Varied, ...]


@dataclass
class Sensitivity:
    """What a sensitivity study found."""

    job: Job
    varied: list[Varied]
    factors: list[Factor]
    indices: dict[str, pd.DataFrame]
    """Per metric, one row per factor with its indices (SOBOL_COLUMNS or MORRIS_COLUMNS)."""
    described: dict[str, dict[str, Any]]
    """Per metric: its kind, subject, mean and standard deviation over the points."""
    skipped: dict[str, str]
    """Metrics without indices, and why."""
    robustness: dict[str, Any]
    runs: int
    seconds: float
    phases: dict[str, float]
    """Seconds spent on the design's runs, SALib's analysis, and the robustness check."""


# The parameters


def interval(knob: Knob, spread: float) -> tuple[float, float]:
    """Where `knob` varies: within `spread` of its value (of its range where the value is 0), in its range."""
    value = float(knob.baseline)
    half = spread * (abs(value) if value else knob.width)
    return max(knob.low, value - half), min(knob.high, value + half)


def varied_parameters(job: Job, spread: float) -> list[Varied]:
    """Every parameter a batch of variants can set, with its interval."""
    found = []
    for knob in knobs(job):
        if knob.kind == VARIANT:
            low, high = interval(knob, spread)
            if high > low:
                found.append(Varied(knob, low, high))
    return found


def fixed_parameters(job: Job) -> list[str]:
    """The parameters that stay fixed: presence and the protocol's settings."""
    return [knob.key for knob in knobs(job) if knob.kind != VARIANT]


def factors(job: Job, varied: Sequence[Varied], grouping: Grouping) -> list[Factor]:
    """The factors SALib varies: each parameter, or the parameters grouped by actor or by kind."""
    if grouping == Grouping.none:
        return [Factor(v.knob.key, v.label, (v,)) for v in varied]
    scenario = job.scenario
    groups: dict[str, list[Varied]] = {}
    for v in varied:
        actor, kind = v.knob.key.split(".")[2:4]
        groups.setdefault(actor if grouping == Grouping.actor else kind, []).append(v)
    names = dict(zip(scenario.actors, scenario.display_names, strict=True))
    return [
        Factor(
            name,
            f"{names[name]}'s parameters" if grouping == Grouping.actor else KIND_WORDS.get(name, name),
            tuple(members),
        )
        for name, members in groups.items()
    ]


def problem(varied: Sequence[Varied], found: Sequence[Factor]) -> dict[str, Any]:
    """SALib's problem: the parameters, their bounds and (when grouped) their groups."""
    spec: dict[str, Any] = {
        "num_vars": len(varied),
        "names": [v.knob.key for v in varied],
        "bounds": [[v.low, v.high] for v in varied],
    }
    if any(len(f.members) > 1 for f in found):
        group = {v.knob.key: f.name for f in found for v in f.members}
        spec["groups"] = [group[v.knob.key] for v in varied]
    return spec


# The points and their runs


@dataclass(frozen=True, eq=False)
class Design:
    """The points a study runs, block by block: a base sample of Saltelli's scheme (Sobol), or a
    trajectory (Morris). The points of a block share their seeds."""

    spec: dict[str, Any]
    per_block: int
    blocks: int
    source: np.ndarray
    """Sobol: the base sequence on the unit cube, one row per block; Morris: every point."""
    sobol: bool

    def __len__(self) -> int:
        return self.blocks * self.per_block

    def points(self, first: int, last: int) -> np.ndarray:
        """The points of blocks first to last - 1."""
        if self.sobol:
            return saltelli_rows(self.spec, self.source[first:last])
        return self.source[first * self.per_block : last * self.per_block]


def design(spec: dict[str, Any], settings: SensitivityJob, seed: int) -> Design:
    """The points to run: Saltelli's scheme on a scrambled Sobol sequence, or Morris' trajectories
    (SALib's samplers)."""
    count = len(pd.unique(np.array(spec.get("groups") or spec["names"])))
    if settings.method == SensitivityMethod.sobol:
        return Design(spec, count + 2, settings.samples, sobol_base(spec, settings.samples, seed), True)
    points = morris_sampling.sample(spec, settings.samples, num_levels=settings.levels, seed=seed)
    return Design(spec, count + 1, settings.samples, np.asarray(points), False)


def sobol_base(spec: dict[str, Any], samples: int, seed: int) -> np.ndarray:
    """The base sequence of `SALib.sample.sobol.sample`: A and B side by side, one row per base sample."""
    return np.asarray(qmc.Sobol(d=2 * spec["num_vars"], scramble=True, seed=seed).random(samples))


def saltelli_rows(spec: dict[str, Any], base: np.ndarray) -> np.ndarray:
    """The points of base samples `base`, as `SALib.sample.sobol.sample(..., calc_second_order=False)`
    makes them but with whole arrays instead of its loop over every point and parameter (Saltelli
    2002, 2010): per base sample, A, then A with each factor's columns taken from B, then B."""
    names = spec["names"]
    groups = np.array(spec.get("groups") or names)
    members = np.array([groups == name for name in pd.unique(groups)])
    a, b = base[:, None, : len(names)], base[:, None, len(names) :]
    points = np.concatenate([a, np.where(members[None], b, a), b], axis=1).reshape(-1, len(names))
    return np.asarray(scale_samples(points, dict(spec)))


def saltelli_points(spec: dict[str, Any], samples: int, seed: int) -> np.ndarray:
    """Every point of `SALib.sample.sobol.sample(spec, samples, calc_second_order=False, seed=seed)`."""
    return saltelli_rows(spec, sobol_base(spec, samples, seed))


def block_seeds(job: Job, first: int, last: int, per_block: int) -> np.ndarray:
    """The seeds of every run of blocks first to last - 1, point by point: block b runs seeds
    seed + b·R, ..., seed + b·R + R - 1."""
    runs = job.replications
    blocks = np.repeat(np.arange(first, last), per_block)
    return (job.seed + blocks[:, None] * runs + np.arange(runs)[None, :]).reshape(-1)


def points_per_call(job: Job) -> int:
    """Points run in one batch of variants (bounds their memory)."""
    scenario = job.scenario
    return max(1, CELLS_PER_CALL // (job.replications * scenario.n_actors * scenario.n_columns))


def design_parts(job: Job, chosen: Design) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The design's points and their seeds, in parts of whole blocks."""
    step = max(1, points_per_call(job) // chosen.per_block)
    for first in range(0, chosen.blocks, step):
        last = min(chosen.blocks, first + step)
        yield chosen.points(first, last), block_seeds(job, first, last, chosen.per_block)


def outcomes(
    job: Job, varied: Sequence[Varied], parts: Iterable[tuple[np.ndarray, np.ndarray]]
) -> Iterator[Outcome]:
    """Run every point of every part `job.replications` times with its seeds: one batch of
    variants per part."""
    runs = job.replications
    for points, seeds in parts:
        keys = {v.knob.key: np.repeat(points[:, j], runs) for j, v in enumerate(varied)}
        changes = variants_from_keys(job.scenario, keys)
        yield run_batch(
            job.scenario, job.protocol, seeds, variants=changes, progress=False, workers=job.workers
        )


def issue_columns(job: Job) -> dict[str, int]:
    """Each issue's first column."""
    columns = job.scenario.columns
    return {
        issue: next(k for k, c in enumerate(columns) if c.issue == issue)
        for issue in job.scenario.issue_names
    }


def outcome_metrics(job: Job, ended: Outcome) -> dict[str, np.ndarray]:
    """Every outcome of every run: per issue agreement and value, per present actor utility and
    walking out."""
    scenario = job.scenario
    found: dict[str, np.ndarray] = {}
    for issue, k in issue_columns(job).items():
        found[f"{issue}.agreed"] = ended.agreed[:, k].astype(float)
        if not scenario.columns[k].division:
            found[f"{issue}.value"] = np.where(ended.agreed[:, k], ended.value[:, k], ended.forecast[:, k])
    for i, actor in enumerate(scenario.actors):
        if scenario.present[i]:
            found[f"{actor}.utility"] = ended.utilities[:, i]
            found[f"{actor}.walked_out"] = (ended.walked_out_step[:, i] != NOT_YET).astype(float)
    return found


def point_metrics(
    job: Job, varied: Sequence[Varied], parts: Iterable[tuple[np.ndarray, np.ndarray]]
) -> dict[str, np.ndarray]:
    """Every outcome per point: the mean over its runs (NaN where none of them has a value)."""
    found: dict[str, list[np.ndarray]] = {}
    runs = job.replications
    for ended in outcomes(job, varied, parts):
        for name, values in outcome_metrics(job, ended).items():
            per_point = values.reshape(-1, runs)
            defined = ~np.isnan(per_point)
            total = np.where(defined, per_point, 0.0).sum(axis=1)
            count = defined.sum(axis=1)
            found.setdefault(name, []).append(np.where(count > 0, total / np.maximum(count, 1), np.nan))
    return {name: np.concatenate(values) for name, values in found.items()}


# The analysis


def describe(job: Job, name: str, values: np.ndarray) -> dict[str, Any]:
    """A metric's kind, subject (issue or actor), mean, spread and the share of points without a value."""
    subject, kind = name.rsplit(".", 1)
    defined = values[~np.isnan(values)]
    return {
        "kind": kind,
        "subject": subject,
        "label": _metric_label(job, subject, kind),
        "mean": float(defined.mean()) if defined.size else None,
        "std": float(defined.std()) if defined.size else None,
        "undefined": float(np.isnan(values).mean()),
        "changed": _changed(defined),
    }


def _changed(values: np.ndarray) -> float:
    """The share of points whose value differs from the most common one."""
    if not values.size:
        return 0.0
    _, counts = np.unique(values, return_counts=True)
    return 1.0 - float(counts.max()) / values.size


def _metric_label(job: Job, subject: str, kind: str) -> str:
    if kind in ("utility", "walked_out"):
        name = job.scenario.display_names[job.scenario.actors.index(subject)]
        return f"{name}'s {METRIC_WORDS[kind]}"
    return f"{subject}: {METRIC_WORDS[kind]}"


def why_skipped(described: dict[str, Any], agreement: float | None) -> str | None:
    """Why a metric gets no indices, or None when it gets them."""
    if described["kind"] == "value" and (agreement is None or agreement < VALUE_AGREEMENT):
        return f"agreed in fewer than {VALUE_AGREEMENT:.0%} of the runs"
    if not described["std"]:
        return "the same in every run"
    if described["changed"] < RARE:
        return f"it changes in fewer than {RARE:.0%} of the points, too few to estimate them"
    return None


def analyse(chosen: Design, settings: SensitivityJob, values: np.ndarray, seed: int) -> pd.DataFrame:
    """The indices of one metric, one row per factor: Sobol's (`sobol_indices`), or Morris' (SALib)."""
    filled = np.where(np.isnan(values), np.nanmean(values), values)
    rng = np.random.default_rng(seed)
    if settings.method == SensitivityMethod.sobol:
        found: Mapping[str, Any] = sobol_indices(filled, chosen.per_block - 2, rng)
        columns: Sequence[str] = SOBOL_COLUMNS
    else:
        found = morris_analysis.analyze(
            chosen.spec,
            chosen.source,
            filled,
            num_resamples=RESAMPLES,
            conf_level=CONFIDENCE,
            num_levels=settings.levels,
            seed=rng,
        )
        columns = MORRIS_COLUMNS
    return pd.DataFrame({column: np.asarray(found[column], dtype=float) for column in columns})


def sobol_indices(values: np.ndarray, count: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """First-order and total indices of `count` factors with their bootstrap intervals: the numbers
    of `SALib.analyze.sobol.analyze(..., calc_second_order=False, seed=rng)` (the estimators of
    Saltelli et al. 2010, normalised by the sample variance, with its resamples), each resample's
    A, B and variance computed once for every factor instead of once per factor."""
    y = (values - values.mean()) / values.std()
    blocks = y.reshape(-1, count + 2)
    a, b, crossed = blocks[:, 0], blocks[:, -1], blocks[:, 1:-1]
    samples = len(blocks)
    r = rng.integers(samples, size=(samples, RESAMPLES))
    z = norm.ppf(0.5 + CONFIDENCE / 2)
    a_r, b_r = a[r], b[r]
    both, both_r = np.r_[a, b], np.r_[a_r, b_r]
    variance, variance_r = _variance(both), _variance(both_r)
    spread = np.ptp(both_r)
    found = {name: np.zeros(count) for name in SOBOL_COLUMNS}
    for j in range(count):
        column, column_r = crossed[:, j], crossed[r, j]
        found["S1"][j] = _share_of(np.mean(b * (column - a)), variance)
        found["ST"][j] = _share_of(0.5 * np.mean((a - column) ** 2), variance)
        if spread != 0.0:
            first = _share_of(np.mean(b_r * (column_r - a_r), axis=0), variance_r)
            total = _share_of(0.5 * np.mean((a_r - column_r) ** 2, axis=0), variance_r)
            found["S1_conf"][j] = z * np.std(first, ddof=1)
            found["ST_conf"][j] = z * np.std(total, ddof=1)
    return found


def _variance(y: np.ndarray) -> np.ndarray | None:
    """The variance per column, or None where SALib reads the outputs as constant."""
    return None if np.ptp(y) <= np.finfo(float).eps else np.asarray(np.var(y, axis=0))


def _share_of(part: Any, variance: np.ndarray | None) -> Any:
    """`part` as a share of `variance`, 0 where the variance is (nearly) 0, as SALib divides."""
    if variance is None:
        return np.zeros(np.shape(part))
    return np.divide(
        part, variance, out=np.zeros_like(variance, dtype=float), where=variance > np.finfo(float).eps
    )


def ranking_column(settings: SensitivityJob) -> str:
    """The index the factors are ranked by: the total index, or mu*."""
    return "ST" if settings.method == SensitivityMethod.sobol else "mu_star"


# Robustness of the record


def robustness(job: Job, settings: SensitivityJob) -> dict[str, Any]:
    """Per spread, the share of jointly perturbed scenarios that reproduce the record."""
    record = job.scenario.record
    if not record:
        return {"record": None, "spreads": []}
    baseline = reproduced(job, run_batch(job.scenario, job.protocol, job.seed + np.arange(job.replications)))
    found = []
    for spread in settings.robustness:
        varied = varied_parameters(job, spread)
        rng = np.random.default_rng([job.seed, round(spread * 1e6)])
        points = rng.uniform(
            [v.low for v in varied], [v.high for v in varied], (settings.scenarios, len(varied))
        )
        step = points_per_call(job)
        parts = (
            (points[first : first + step], block_seeds(job, first, min(first + step, len(points)), 1))
            for first in range(0, len(points), step)
        )
        matching: dict[str, list[np.ndarray]] = {name: [] for name in record}
        for ended in outcomes(job, varied, parts):
            for name, share in issue_shares(job, ended).items():
                matching[name].append(share)
        shares = {name: np.concatenate(parts) for name, parts in matching.items()}
        every = np.logical_and.reduce([share > 0.5 for share in shares.values()])
        count = int(every.sum())
        low, high = binomtest(count, settings.scenarios).proportion_ci(CONFIDENCE, method="wilson")
        found.append(
            {
                "spread": spread,
                "scenarios": settings.scenarios,
                "reproduce": count,
                "share": count / settings.scenarios,
                "interval": [float(low), float(high)],
                "issues": {name: float((share > 0.5).mean()) for name, share in shares.items()},
            }
        )
    return {"record": record_words(job), "baseline": baseline, "spreads": found}


def issue_shares(job: Job, ended: Outcome) -> dict[str, np.ndarray]:
    """Per issue of the record, the share of each scenario's runs that match it."""
    return {
        name: matches.reshape(-1, job.replications).mean(axis=1)
        for name, matches in record_matches(ended).items()
    }


def reproduced(job: Job, ended: Outcome) -> bool:
    """Whether more than half the runs of one scenario match the record on every issue."""
    return all(bool(share[0] > 0.5) for share in issue_shares(job, ended).values())


def record_words(job: Job) -> dict[str, str]:
    """The record per issue in words: agreed (within its band) or not agreed."""
    words = {}
    for name, record in job.scenario.record.items():
        band = ""
        if record.agreed and (record.low is not None or record.high is not None):
            low = "" if record.low is None else f"{record.low:g}"
            high = "" if record.high is None else f"{record.high:g}"
            band = f" in [{low or '-inf'}, {high or 'inf'}]"
        words[name] = ("agreed" if record.agreed else "not agreed") + band
    return words


# The study


def run_sensitivity(job: Job) -> Sensitivity:
    """Vary every parameter, measure each one's indices for every outcome, and check the record."""
    settings = job.sensitivity
    if settings is None:
        raise UserError("task=sensitivity needs its settings: compose the job with task=sensitivity")
    started = time.perf_counter()
    varied = varied_parameters(job, settings.spread)
    if not varied:
        raise UserError(f"scenario '{job.scenario.name}' has no parameter a batch of variants can vary")
    found = factors(job, varied, settings.groups)
    if len(found) < 2:
        raise UserError(
            f"sensitivity.groups={settings.groups} leaves one factor: use sensitivity.groups=none"
        )
    spec = problem(varied, found)
    chosen = design(spec, settings, job.seed)
    metrics = point_metrics(job, varied, design_parts(job, chosen))
    phases = {"runs": time.perf_counter() - started}
    described = {name: describe(job, name, values) for name, values in metrics.items()}
    indices, skipped = {}, {}
    for name, values in metrics.items():
        agreement = described.get(f"{described[name]['subject']}.agreed", {}).get("mean")
        reason = why_skipped(described[name], agreement)
        if reason is None:
            indices[name] = analyse(chosen, settings, values, job.seed)
        else:
            skipped[name] = reason
    phases["analysis"] = time.perf_counter() - started - phases["runs"]
    checked = robustness(job, settings)
    seconds = time.perf_counter() - started
    phases["robustness"] = seconds - phases["runs"] - phases["analysis"]
    perturbed = sum(entry["scenarios"] for entry in checked["spreads"])
    runs = (len(chosen) + perturbed) * job.replications
    return Sensitivity(job, varied, found, indices, described, skipped, checked, runs, seconds, phases)


# What it found, in files and words


def table(result: Sensitivity) -> pd.DataFrame:
    """One row per metric and factor, ranked within each metric: `sensitivity.csv`."""
    settings = result.job.sensitivity
    assert settings is not None
    by = ranking_column(settings)
    frames = []
    for name, found in result.indices.items():
        described = result.described[name]
        frame = found.copy()
        frame.insert(0, "metric", name)
        frame.insert(1, "outcome", described["kind"])
        frame.insert(2, "subject", described["subject"])
        frame.insert(3, "factor", [f.name for f in result.factors])
        frame.insert(4, "parameter", [f.label for f in result.factors])
        frame.insert(
            5, "low", [f.members[0].low if len(f.members) == 1 else math.nan for f in result.factors]
        )
        frame.insert(
            6, "high", [f.members[0].high if len(f.members) == 1 else math.nan for f in result.factors]
        )
        frame.insert(
            7,
            "baseline",
            [float(f.members[0].knob.baseline) if len(f.members) == 1 else math.nan for f in result.factors],
        )
        frame = frame.sort_values(by, ascending=False, kind="stable")
        frame.insert(1, "rank", np.arange(1, len(frame) + 1))
        frames.append(frame)
    columns = ["metric", "rank", "outcome", "subject", "factor", "parameter", "low", "high", "baseline"]
    names = SOBOL_COLUMNS if settings.method == SensitivityMethod.sobol else MORRIS_COLUMNS
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*columns, *names])


def summary_of(result: Sensitivity, rows: pd.DataFrame) -> dict[str, Any]:
    """`sensitivity.json`: the settings, the parameters, and per metric its top factors."""
    job, settings = result.job, result.job.sensitivity
    assert settings is not None
    metrics = {}
    for name, described in result.described.items():
        mine = rows[rows["metric"] == name].head(settings.top)
        top = mine.drop(columns=["metric", "outcome", "subject"]).to_dict(orient="records")
        metrics[name] = {**described, "skipped": result.skipped.get(name), "top": _plain(top)}
    return {
        **job.heading,
        "settings": {
            "method": str(settings.method),
            "samples": settings.samples,
            "spread": settings.spread,
            "groups": str(settings.groups),
            "robustness": list(settings.robustness),
            "scenarios": settings.scenarios,
            "levels": settings.levels,
            "top": settings.top,
            "confidence": CONFIDENCE,
        },
        "ranked_by": ranking_column(settings),
        "parameters": [
            {
                "key": v.knob.key,
                "label": v.label,
                "baseline": float(v.knob.baseline),
                "low": v.low,
                "high": v.high,
            }
            for v in result.varied
        ],
        "factors": len(result.factors),
        "fixed": fixed_parameters(job),
        "metrics": metrics,
        "robustness": result.robustness,
        "runs": result.runs,
        "seconds": round(result.seconds, 3),
        "phases": {name: round(value, 3) for name, value in result.phases.items()},
    }


def _plain(value: Any) -> Any:
    """NaN as null, for JSON."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return _plain(value.item())
    return value


def sensitivity_text(summary: dict[str, Any], brief: bool = False) -> str:
    """The printed report: per issue the factors that move it most, then (unless `brief`) the
    actors' utilities and walk-outs, then the record's robustness."""
    settings = summary["settings"]
    sobol = settings["method"] == "sobol"
    method = (
        f"Sobol indices (Saltelli 2010), {settings['samples']:,} base samples"
        if sobol
        else f"Morris elementary effects (Campolongo 2007), {settings['samples']:,} trajectories"
    )
    grouped = (
        "" if settings["groups"] == "none" else f" in {summary['factors']} groups by {settings['groups']}"
    )
    lines = [
        f"Sensitivity — {summary['title']}: protocol {summary['protocol']}, {method}",
        f"{len(summary['parameters'])} parameters{grouped} within ±{settings['spread']:.0%} of their values; "
        f"{summary['runs']:,} runs in {summary['seconds']:.1f} s",
    ]
    by = summary["ranked_by"]
    for entry in summary["metrics"].values():
        if entry["kind"] not in ("agreed", "value"):
            continue
        lines += ["", _metric_line(entry)]
        lines += [f"  {row['rank']}. {row['parameter']}: {_indices(row, sobol)}" for row in entry["top"]]
    others = [entry for entry in summary["metrics"].values() if entry["kind"] in ("utility", "walked_out")]
    shown = [entry for entry in others if entry["top"]]
    if shown and not brief:
        lines += ["", f"Utilities and walk-outs: the factor with the largest {by}"]
        lines += [
            f"  {entry['label']}: {entry['top'][0]['parameter']} ({_indices(entry['top'][0], sobol)})"
            for entry in shown
        ]
    lines += ["", *robustness_lines(summary["robustness"])]
    return "\n".join(lines)


def _metric_line(entry: dict[str, Any]) -> str:
    if entry["kind"] == "agreed":
        state = f"agreed in {entry['mean']:.1%} of the runs"
    else:
        state = (
            f"mean {entry['mean']:.3f}, sd {entry['std']:.3f}" if entry["mean"] is not None else "no value"
        )
    if entry["skipped"]:
        return f"{entry['label']} ({state}): no indices, {entry['skipped']}"
    return f"{entry['label']} ({state}):"


def _indices(row: dict[str, Any], sobol: bool) -> str:
    def number(key: str) -> str:
        value = row.get(key)
        return "n/a" if value is None else f"{value:.2f}"

    if sobol:
        return f"ST {number('ST')} ± {number('ST_conf')}, S1 {number('S1')} ± {number('S1_conf')}"
    return f"mu* {number('mu_star')} ± {number('mu_star_conf')}, sigma {number('sigma')}"


def robustness_lines(checked: dict[str, Any]) -> list[str]:
    """The robustness of the record in words."""
    if checked["record"] is None:
        return ["Robustness: the scenario has no record to reproduce"]
    record = ", ".join(f"{name} {words}" for name, words in checked["record"].items())
    given = "reproduces it" if checked["baseline"] else "does not reproduce it"
    lines = [f"Robustness of the record ({record}); the scenario as given {given}"]
    lines[0] += ":" if checked["spreads"] else " (no perturbations asked: sensitivity.robustness=[])"
    for entry in checked["spreads"]:
        low, high = entry["interval"]
        lines.append(
            f"  ±{entry['spread']:.0%}: {entry['reproduce']:,} of {entry['scenarios']:,} perturbed scenarios "
            f"reproduce it ({entry['share']:.0%}, 95% CI {low:.0%}–{high:.0%})"
        )
    return lines


def write_sensitivity(result: Sensitivity, folder: Path) -> tuple[dict[str, Any], pd.DataFrame]:
    """Write `sensitivity.csv`, `robustness.json`, the figures and `sensitivity.json` (last);
    return what `sensitivity.json` and `sensitivity.csv` hold."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = table(result)
    summary = _plain(summary_of(result, rows))
    write_csv(folder / "sensitivity.csv", rows)
    write_json(folder / "robustness.json", summary["robustness"])
    if result.job.plots:
        write_sensitivity_plots(folder, summary, rows, figure_names(result.job.scenario.issue_names))
    write_json(folder / "sensitivity.json", summary)
    return summary, rows


def figure_names(issues: Sequence[str]) -> dict[str, str]:
    """Each issue's figure: `sensitivity_<issue>.png`, its name safe for any file system."""
    return {issue: f"sensitivity_{re.sub(r'[^A-Za-z0-9_.-]', '_', issue)}.png" for issue in issues}


def execute_sensitivity(job: Job, folder: Path) -> tuple[dict[str, Any], str, str]:
    """Run the study and write its folder (for a series, one study per round, each in `round_<n>/`);
    return what it wrote, a one-line summary and the report."""
    if job.series is not None:
        return execute_rounds(job, folder)
    summary, _ = write_sensitivity(run_sensitivity(job), folder)
    return summary, one_line(summary), sensitivity_text(summary)


def execute_rounds(job: Job, folder: Path) -> tuple[dict[str, Any], str, str]:
    """One study per round of a series; `sensitivity.csv` and `robustness.json` gather the rounds'."""
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    rounds, frames = {}, []
    for number, round_job in round_negotiations(job):
        summary, rows = write_sensitivity(run_sensitivity(round_job), folder / f"round_{number}")
        rounds[number] = summary
        frames.append(pd.concat([pd.DataFrame({"round": [number] * len(rows)}), rows], axis=1))
    write_csv(folder / "sensitivity.csv", pd.concat(frames, ignore_index=True))
    write_json(folder / "robustness.json", {"rounds": {n: r["robustness"] for n, r in rounds.items()}})
    summary = {
        "scenario": job.scenario.name,
        "title": job.scenario.title,
        "protocol": job.protocol.name,
        "rounds": rounds,
        "runs": sum(r["runs"] for r in rounds.values()),
        "seconds": round(time.perf_counter() - started, 3),
    }
    write_json(folder / "sensitivity.json", summary)
    text = "\n\n".join(f"Round {n}\n{sensitivity_text(r, brief=True)}" for n, r in rounds.items())
    lines = [f"round {n}: {one_line(r).removeprefix('sensitivity: ')}" for n, r in rounds.items()]
    return summary, f"sensitivity per round ({len(rounds)} rounds)", f"{text}\n\n" + "\n".join(lines)


def one_line(summary: dict[str, Any]) -> str:
    """The study in one line: per issue, the factor that moves its agreement most."""
    tops = [
        f"{entry['subject']}: {entry['top'][0]['parameter']}"
        for entry in summary["metrics"].values()
        if entry["kind"] == "agreed" and entry["top"]
    ]
    shares = [f"±{e['spread']:.0%} {e['share']:.0%}" for e in summary["robustness"]["spreads"]]
    record = f"; record reproduced {', '.join(shares)}" if shares else ""
    return f"sensitivity: top factor per issue: {', '.join(tops) or 'none'}{record}"
