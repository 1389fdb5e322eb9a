"""A series of rounds: replay the record, forecast a round, backtest every round, calibrate.

Each round is one negotiation (`run_batch`) of its agenda among the actors at the table, built by
`sim.series.rounds.plan_round` from the record of the rounds before it and the mechanisms between
rounds. The stated positions and limits are read from news reports, so each round runs over
`draws` draws of the ideal points and reservations within the stated `uncertainty` (the same
draws in every round and for every parameter set: common random numbers), each with `seeds`
negotiations; the probability of agreement on an issue is the share of those negotiations that
agree on it.

Scores: the Brier score (Brier 1950), with a recorded `yes` = 1, `no` = 0, `partial` = 0.5;
rolling-origin evaluation (Tashman 2000): round N is forecast from the rounds before N only,
against persistence (the issue's last outcome, 0.5 for an issue never seen), the base rate so far
(the mean of every earlier outcome) and 0.5.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy.optimize import differential_evolution

from sim.core.scenario import Record, Scenario
from sim.errors import UserError
from sim.figures.series import write_backtest_plot, write_timeline_plot
from sim.outputs.files import remove_stale_temporaries, write_atomically, write_csv, write_json
from sim.outputs.outcome import Outcome
from sim.outputs.tally import Tally
from sim.series.mechanisms import MECHANISMS
from sim.series.record import SeriesRecord
from sim.series.rounds import RoundPlan, combine, plan_round
from sim.series.state import MAX_RESERVATION
from sim.setup.job import Job
from sim.setup.series import SeriesJob
from sim.studies.batch import run_batch

DRAW_STREAM = 7_919
"""Added to the job's seed for the stream of position draws."""
GOOD_SETS = 3
"""Parameter sets, best first, whose forecasts make up a forecast's interval."""
GOOD_MARGIN = 0.01
"""A parameter set is good when its Brier score is within this of the best one's."""
Z95 = 1.959964


@dataclass(frozen=True)
class RoundForecast:
    """Per issue of a round's agenda: probability of agreement, its interval, the mean agreed value."""

    number: int
    agenda: tuple[str, ...]
    p: np.ndarray
    low: np.ndarray
    high: np.ndarray
    value: np.ndarray
    unmodelled: tuple[str, ...] = ()
    present: tuple[str, ...] = ()
    table: Outcome | None = field(default=None, compare=False)
    """The negotiation at the table with the stated numbers (the first draw), before the
    mechanisms: what explains each issue."""

    def issues(self) -> dict[str, dict[str, Any]]:
        why = Tally.of(self.table).explained() if self.table is not None else {}
        return {
            issue: {
                "p_agree": round(float(self.p[k]), 4),
                "interval": [round(float(self.low[k]), 4), round(float(self.high[k]), 4)],
                "agreed_value": None if math.isnan(self.value[k]) else round(float(self.value[k]), 4),
                "why": why.get(issue),
            }
            for k, issue in enumerate(self.agenda)
        }


@dataclass
class Calibration:
    """The parameters fitted to some rounds of a record, and how well they fit."""

    rounds: list[int]
    best: dict[str, float]
    loss: float
    stated_loss: float
    good: list[dict[str, float]] = field(default_factory=list)
    evaluations: int = 0
    seconds: float = 0.0
    free: list[str] = field(default_factory=list)
    """The parameters fitted; the others keep their stated values."""

    def report(self, spec_ranges: Mapping[str, tuple[float, float]]) -> dict[str, Any]:
        return {
            "rounds": self.rounds,
            "brier_fitted": round(self.loss, 4),
            "brier_stated": round(self.stated_loss, 4),
            "parameters": {
                name: {"value": round(self.best[name], 4), "range": list(spec_ranges[name])}
                for name in self.free
            },
            "fixed": {name: value for name, value in self.best.items() if name not in self.free},
            "good_sets": [{k: round(s[k], 4) for k in self.free} for s in self.good],
            "evaluations": self.evaluations,
            "seconds": round(self.seconds, 2),
        }


def wilson(p: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The 95% Wilson interval of proportions p out of n."""
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * np.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def deviates(series: SeriesJob, seed: int, draws: int) -> np.ndarray:
    """Standard normal deviates, draws x actors x (issues + 1): of each ideal point, and last of
    the reservation; fixed by the seed, and zero in the first draw (the stated values)."""
    base = series.spec.base
    rng = np.random.default_rng(seed + DRAW_STREAM)
    out = rng.standard_normal((draws, base.n_actors, base.n_issues + 1))
    out[0] = 0.0
    return out


def simulate(
    job: Job, plan: RoundPlan, parameters: Mapping[str, float], draws: int, switches: Mapping[str, bool]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Outcome]:
    """Per negotiation ((draws x seeds) x agenda issues): the level agreed (1 substantive, 0.5
    procedural only, 0 none), whether the substantive text was agreed, and its value; and the
    first draw's negotiations at the table. Only an issue whose substantive text failed at the
    table may close procedurally; one the mechanisms postpone or withhold (linkage, leverage)
    does not close at all."""
    sigma = parameters["uncertainty"]
    series = job.series
    assert series is not None
    noise = deviates(series, job.seed, draws)
    columns = [series.spec.base.issue_names.index(issue) for issue in plan.agenda]
    seeds = job.seed + np.arange(series.seeds, dtype=np.int64)

    def drawn(scenario: Scenario, d: int) -> Scenario:
        ideal = np.clip(scenario.ideal + sigma * noise[d][:, columns], 0.0, 1.0)
        reservation = np.clip(scenario.reservation + sigma * noise[d][:, -1], 0.0, MAX_RESERVATION)
        return dataclasses.replace(scenario, ideal=ideal, reservation=reservation)

    levels, agreed, values = [], [], []
    first = run_batch(drawn(plan.scenario, 0), job.protocol, seeds, progress=False)
    for d in range(draws):
        outcome = first if d == 0 else run_batch(drawn(plan.scenario, d), job.protocol, seeds, progress=False)
        together = combine(series.spec, switches, parameters, outcome.agreed, plan)
        level = together.astype(float)
        if plan.fallback is not None and not outcome.agreed.all():
            narrow = run_batch(drawn(plan.fallback, d), job.protocol, seeds, progress=False)
            level += 0.5 * (~outcome.agreed & narrow.agreed)
        levels.append(level)
        agreed.append(together)
        values.append(np.where(together, outcome.value, np.nan))
    return np.concatenate(levels), np.concatenate(agreed), np.concatenate(values), first


def forecast_round(
    job: Job,
    record: SeriesRecord,
    number: int,
    parameters: Mapping[str, float],
    draws: int,
    switches: Mapping[str, bool] | None = None,
    cache: dict[Any, RoundForecast] | None = None,
) -> RoundForecast:
    """Round `number` forecast from the rounds before it (and its attendance and agenda) only.

    `cache`, shared by the calls of one study on one record, keeps forecasts already made: a
    round's forecast depends only on the rounds before it, the parameters and the switches."""
    series = job.series
    assert series is not None
    switches = series.switches if switches is None else switches
    key = (number, tuple(sorted(parameters.items())), tuple(sorted(switches.items())), draws)
    if cache is not None and key in cache:
        return cache[key]
    forecast = _forecast_round(job, record, number, parameters, draws, switches)
    if cache is not None:
        cache[key] = forecast
    return forecast


def _forecast_round(
    job: Job,
    record: SeriesRecord,
    number: int,
    parameters: Mapping[str, float],
    draws: int,
    switches: Mapping[str, bool],
) -> RoundForecast:
    series = job.series
    assert series is not None
    plan = plan_round(series.spec, record, number, parameters, switches)
    levels, agreed, values, table = simulate(job, plan, parameters, draws, switches)
    p = levels.mean(axis=0)
    low, high = wilson(p, draws)
    count = agreed.sum(axis=0)
    total = np.where(agreed, np.nan_to_num(values), 0.0).sum(axis=0)
    value = np.divide(total, count, out=np.full(len(plan.agenda), np.nan), where=count > 0)
    present = tuple(a for a, here in zip(series.spec.base.actors, plan.present, strict=True) if here)
    return RoundForecast(number, plan.agenda, p, low, high, value, plan.unmodelled, present, table)


def recorded(record: SeriesRecord, number: int, agenda: Sequence[str]) -> np.ndarray:
    """Round `number`'s recorded outcomes on `agenda` (NaN where the record has none)."""
    outcomes = record.rounds[number].outcomes if number in record.rounds else {}
    return np.array([outcomes.get(issue, np.nan) for issue in agenda], dtype=float)


def brier(p: np.ndarray, outcome: np.ndarray) -> float:
    """The mean Brier score over the issues with a recorded outcome (NaN if none)."""
    known = ~np.isnan(outcome)
    return float(np.mean((p[known] - outcome[known]) ** 2)) if known.any() else float("nan")


# Calibration


def free_parameters(series: SeriesJob) -> list[str]:
    """The parameters calibration fits: the uncertainty, and those of the switched-on mechanisms."""
    if series.fit is not None:
        return list(series.fit)
    names = ["uncertainty"]
    for name, mechanism in MECHANISMS.items():
        parameter = mechanism.parameter
        if series.switches.get(name) and parameter is not None and parameter not in names:
            names.append(parameter)
    return names


def fit_loss(
    job: Job,
    record: SeriesRecord,
    rounds: Sequence[int],
    parameters: Mapping[str, float],
    draws: int,
    cache: dict[Any, RoundForecast] | None = None,
) -> float:
    """The mean Brier score over the issues of `rounds`, each round forecast from the rounds before it."""
    scores = []
    for number in rounds:
        forecast = forecast_round(job, record, number, parameters, draws, cache=cache)
        outcome = recorded(record, number, forecast.agenda)
        known = ~np.isnan(outcome)
        scores.extend(((forecast.p - outcome) ** 2)[known])
    return float(np.mean(scores)) if scores else float("nan")


def calibrate(
    job: Job, record: SeriesRecord, rounds: Sequence[int], cache: dict[Any, RoundForecast] | None = None
) -> Calibration:
    """Fit the free parameters to the record of `rounds` by differential evolution (Storn & Price
    1997, SciPy), within their declared ranges; keep the good parameter sets.

    The objective is the mean Brier score plus the stated values as a prior: `series.prior`
    pseudo-observations, each costing the squared distance from the stated value in units of the
    parameter's range (a maximum a posteriori fit: few rounds cannot pull a parameter far)."""
    series = job.series
    assert series is not None
    cache = {} if cache is None else cache
    stated = series.spec.values()
    modelled = set(series.spec.base.issue_names)
    rounds = [n for n in rounds if n in record.rounds and modelled & set(record.rounds[n].outcomes)]
    if not rounds:
        return Calibration([], dict(stated), float("nan"), float("nan"), [dict(stated)])
    stated_loss = fit_loss(job, record, rounds, stated, series.fit_draws, cache)
    names = free_parameters(series)
    spans = np.array([series.spec.parameters[n].high - series.spec.parameters[n].low for n in names])
    centre = np.array([stated[n] for n in names])
    items = sum(len(modelled & set(record.rounds[n].outcomes)) for n in rounds)
    bounds = [(series.spec.parameters[n].low, series.spec.parameters[n].high) for n in names]
    tried: list[tuple[float, float, dict[str, float]]] = [(stated_loss, stated_loss, dict(stated))]

    def objective(theta: np.ndarray) -> float:
        parameters = {**stated, **dict(zip(names, map(float, theta), strict=True))}
        score = fit_loss(job, record, rounds, parameters, series.fit_draws, cache)
        penalty = (
            series.prior * float(np.sum(((theta - centre) / np.where(spans > 0, spans, 1.0)) ** 2)) / items
        )
        tried.append((score + penalty, score, parameters))
        return score + penalty

    start = time.perf_counter()
    differential_evolution(
        objective,
        bounds,
        x0=centre,
        popsize=series.popsize,
        maxiter=series.maxiter,
        seed=job.seed,
        polish=False,
        tol=0.0,
        init="latinhypercube",
    )
    tried.sort(key=lambda item: item[0])
    best_objective, best_loss, best = tried[0]
    good = [p for value, _, p in tried if value <= best_objective + GOOD_MARGIN][:GOOD_SETS]
    return Calibration(
        list(rounds), best, best_loss, stated_loss, good, len(tried) - 1, time.perf_counter() - start, names
    )


def ranges(series: SeriesJob) -> dict[str, tuple[float, float]]:
    return {name: (p.low, p.high) for name, p in series.spec.parameters.items()}


def forecast_with(
    job: Job,
    record: SeriesRecord,
    number: int,
    fit: Calibration,
    cache: dict[Any, RoundForecast] | None = None,
) -> RoundForecast:
    """The forecast under the best parameter set, its interval widened over the good sets."""
    series = job.series
    assert series is not None
    best = forecast_round(job, record, number, fit.best, series.draws, cache=cache)
    low, high = best.low.copy(), best.high.copy()
    for parameters in fit.good[1:]:
        other = forecast_round(job, record, number, parameters, series.draws, cache=cache)
        low, high = np.minimum(low, other.low), np.maximum(high, other.high)
    return dataclasses.replace(best, low=low, high=high)


def fit_before(
    job: Job, record: SeriesRecord, number: int, cache: dict[Any, RoundForecast] | None = None
) -> Calibration:
    """The calibration a forecast of round `number` uses: on the rounds before it, or the stated values."""
    series = job.series
    assert series is not None
    earlier = [n for n in record.numbers if n < number]
    if series.calibrate and earlier:
        return calibrate(job, record, earlier, cache)
    stated = series.spec.values()
    return Calibration([], dict(stated), float("nan"), float("nan"), [dict(stated)])


# Replay


def reproduced(p: float, outcome: float) -> bool:
    """Whether most simulated negotiations match the record: p > 0.5 for yes, p < 0.5 for no, and
    within 0.25 of 0.5 for a partial agreement."""
    if math.isnan(outcome):
        return False
    return abs(p - outcome) < (0.25 if outcome == 0.5 else 0.5)


def replay(job: Job) -> tuple[pd.DataFrame, list[RoundForecast]]:
    """Every round of the record, each from the record of the rounds before it, at the scenario's
    parameter values: per round and issue the recorded outcome and the simulated probability."""
    series = job.series
    assert series is not None
    rows, forecasts = [], []
    modelled = set(series.spec.base.issue_names)
    for number in series.record.numbers:
        if not modelled & set(series.record.rounds[number].outcomes):
            continue
        forecast = forecast_round(job, series.record, number, series.spec.values(), series.draws)
        forecasts.append(forecast)
        outcome = recorded(series.record, number, forecast.agenda)
        for k, issue in enumerate(forecast.agenda):
            rows.append(
                {
                    "round": number,
                    "issue": issue,
                    "recorded": outcome[k],
                    "p_agree": forecast.p[k],
                    "low": forecast.low[k],
                    "high": forecast.high[k],
                    "agreed_value": forecast.value[k],
                    "reproduced": reproduced(float(forecast.p[k]), float(outcome[k])),
                }
            )
    return pd.DataFrame(rows), forecasts


def replay_summary(job: Job, table: pd.DataFrame) -> dict[str, Any]:
    series = job.series
    assert series is not None
    per_issue = {
        issue: {"reproduced": int(part["reproduced"].sum()), "rounds": len(part)}
        for issue, part in table.groupby("issue", sort=False)
    }
    missed = table[~table["reproduced"]]
    return {
        "scenario": series.spec.base.name,
        "record": series.record.path,
        "unknown_codes": series.record.unknown_codes(series.spec.codes),
        "parameters": series.spec.values(),
        "mechanisms": dict(series.switches),
        "draws": series.draws,
        "seeds_per_draw": series.seeds,
        "reproduced": f"{int(table['reproduced'].sum())} of {len(table)}",
        "issues": per_issue,
        "not_reproduced": [
            f"round {r.round} {r.issue}: recorded {r.recorded:g}, simulated P(agree) {r.p_agree:.2f}"
            for r in missed.itertuples()
        ],
        "brier": round(float(np.mean((table["p_agree"] - table["recorded"]) ** 2)), 4),
    }


def round_file(job: Job, forecast: RoundForecast) -> dict[str, Any]:
    series = job.series
    assert series is not None
    round_ = series.record.rounds.get(forecast.number)
    issues = forecast.issues()
    if round_ is not None:
        for issue in forecast.agenda:
            value = round_.outcomes.get(issue)
            issues[issue]["recorded"] = value if value is None or not math.isnan(value) else None
    return {
        "round": forecast.number,
        "dates": [round_.start, round_.end] if round_ is not None else None,
        "present": list(forecast.present),
        "agenda": list(forecast.agenda),
        "unmodelled": list(forecast.unmodelled),
        "note": series.spec.notes.get(forecast.number, ""),
        "events": [
            {"actor": e.actor, "ideal": dict(e.ideal), "reason": e.reason, "source": e.source}
            for e in series.spec.events
            if e.round == forecast.number
        ],
        "issues": issues,
    }


PARTIAL = "recorded as a partial (procedural) outcome: the substantive text was not agreed"


def round_negotiations(job: Job) -> Iterator[tuple[int, Job]]:
    """Each round of a series' record on a modelled issue, as a job of one negotiation: the round's
    negotiation at the table as the series plans it (events, and the mechanisms that prepare the
    actors, at the stated values), with its recorded outcomes as the record; a partial
    (procedural) outcome counts as the substantive text not agreed. The mechanisms that act on
    outcomes (linkage, leverage, the procedural fallback) and the uncertainty draws stay out."""
    series = job.series
    assert series is not None
    modelled = set(series.spec.base.issue_names)
    for number in series.record.numbers:
        outcomes = series.record.rounds[number].outcomes
        if not modelled & set(outcomes):
            continue
        plan = plan_round(series.spec, series.record, number, series.spec.values(), series.switches)
        record = {
            issue: Record(outcomes[issue] == 1.0, note=PARTIAL if outcomes[issue] == 0.5 else "")
            for issue in plan.agenda
            if issue in outcomes and not math.isnan(outcomes[issue])
        }
        yield number, job.replace(scenario=dataclasses.replace(plan.scenario, record=record), series=None)


def write_replay(job: Job, folder: Path) -> dict[str, Any]:
    table, forecasts = replay(job)
    summary = replay_summary(job, table)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rounds").mkdir(exist_ok=True)
    for forecast in forecasts:
        write_json(folder / "rounds" / f"round_{forecast.number}.json", round_file(job, forecast))
    write_csv(folder / "series.csv", table)
    if job.plots:
        assert job.series is not None
        write_timeline_plot(
            folder, table, list(dict.fromkeys(table["issue"])), f"{job.scenario.title}: replay"
        )
    remove_stale_temporaries(folder)
    write_json(folder / "series.json", summary)
    return summary


def replay_text(summary: dict[str, Any], table: pd.DataFrame | None = None) -> str:
    lines = [
        f"Replay of {summary['record']}: {summary['reproduced']} issue-rounds reproduced in most negotiations"
    ]
    for issue, entry in summary["issues"].items():
        lines.append(f"  {issue:<22} {entry['reproduced']} of {entry['rounds']}")
    if summary["not_reproduced"]:
        lines.append("Not reproduced:")
        lines.extend(f"  {line}" for line in summary["not_reproduced"])
    if summary["unknown_codes"]:
        lines.append(
            f"Party codes not in the scenario (accepted, not modelled): {', '.join(summary['unknown_codes'])}"
        )
    lines.append(f"Brier score of the replay: {summary['brier']:.3f}")
    return "\n".join(lines)


# Forecast


def forecast_file(job: Job, number: int) -> dict[str, Any]:
    """`forecast.json` of round `number`: calibrated on the rounds before it, never on its outcomes."""
    series = job.series
    assert series is not None
    cache: dict[Any, RoundForecast] = {}
    fit = fit_before(job, series.record, number, cache)
    forecast = forecast_with(job, series.record, number, fit, cache)
    out = round_file(job, forecast)
    for entry in out["issues"].values():
        entry.pop("recorded", None)
    out["calibration"] = fit.report(ranges(series)) | {"calibrated": bool(fit.rounds)}
    outcome = recorded(series.record, number, forecast.agenda)
    if not np.isnan(outcome).all():
        out["recorded"] = {
            issue: float(o) for issue, o in zip(forecast.agenda, outcome, strict=True) if not math.isnan(o)
        }
        out["brier"] = round(brier(forecast.p, outcome), 4)
    out["unknown_codes"] = series.record.unknown_codes(series.spec.codes)
    return out


def forecast_text(out: dict[str, Any]) -> str:
    lines = [f"Round {out['round']}: probability of agreement per issue (95% interval)"]
    for issue, entry in out["issues"].items():
        lo, hi = entry["interval"]
        lines.append(f"  {issue:<22} {entry['p_agree']:.2f}  [{lo:.2f}, {hi:.2f}]")
    if out["unmodelled"]:
        lines.append(f"Not modelled: {', '.join(out['unmodelled'])}")
    fit = out["calibration"]
    if fit["calibrated"]:
        lines.append(
            f"Calibrated on rounds {', '.join(map(str, fit['rounds']))}: Brier {fit['brier_fitted']:.3f} "
            f"(stated values {fit['brier_stated']:.3f})"
        )
    if "brier" in out:
        lines.append(f"Brier score against the record of round {out['round']}: {out['brier']:.3f}")
    return "\n".join(lines)


# Backtest


def baselines(record: SeriesRecord, number: int, agenda: Sequence[str]) -> dict[str, np.ndarray]:
    """Persistence (the issue's last outcome, 0.5 if never seen), the base rate so far, and 0.5."""
    earlier = record.before(number)
    last: dict[str, float] = {}
    every: list[float] = []
    for round_ in earlier:
        last.update(round_.outcomes)
        every.extend(round_.outcomes.values())
    rate = float(np.mean(every)) if every else 0.5
    return {
        "persistence": np.array([last.get(issue, 0.5) for issue in agenda]),
        "base_rate": np.full(len(agenda), rate),
        "half": np.full(len(agenda), 0.5),
    }


def backtest(job: Job, first: int = 3) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Forecast every round from `first` on from the rounds before it; score the model, the model
    with each mechanism switched off (at the same fitted parameters) and the baselines."""
    series = job.series
    assert series is not None
    record = series.record
    modelled = set(series.spec.base.issue_names)
    numbers = [n for n in record.numbers if n >= first and modelled & set(record.rounds[n].outcomes)]
    if not numbers:
        raise UserError(f"{record.path}: a backtest needs outcomes of round {first} or later")
    switched_on = [name for name, on in series.switches.items() if on]
    rows, fits = [], {}
    cache: dict[Any, RoundForecast] = {}
    start = time.perf_counter()
    for number in numbers:
        fit = fit_before(job, record, number, cache)
        fits[number] = fit.report(ranges(series))
        forecast = forecast_with(job, record, number, fit, cache)
        outcome = recorded(record, number, forecast.agenda)
        columns = {"model": forecast.p} | baselines(record, number, forecast.agenda)
        for name in switched_on:
            off = dict(series.switches) | {name: False}
            columns[f"without_{name}"] = forecast_round(
                job, record, number, fit.best, series.draws, off, cache
            ).p
        for k, issue in enumerate(forecast.agenda):
            if math.isnan(outcome[k]):
                continue
            row = {
                "round": number,
                "issue": issue,
                "recorded": outcome[k],
                "low": forecast.low[k],
                "high": forecast.high[k],
            }
            rows.append(row | {name: float(values[k]) for name, values in columns.items()})
    table = pd.DataFrame(rows)
    forecasters = ["model", "persistence", "base_rate", "half"] + [f"without_{name}" for name in switched_on]
    overall = {name: round(float(((table[name] - table["recorded"]) ** 2).mean()), 4) for name in forecasters}
    scores: dict[str, dict[str, Any]] = {
        name: {
            "overall": overall[name],
            "per_round": {
                int(str(r)): round(float(((part[name] - part["recorded"]) ** 2).mean()), 4)
                for r, part in table.groupby("round")
            },
        }
        for name in forecasters
    }
    for name in forecasters:
        table[f"brier_{name}"] = (table[name] - table["recorded"]) ** 2
    summary = {
        "record": record.path,
        "rounds": numbers,
        "issue_rounds": len(table),
        "brier": scores,
        "beats_all_baselines": all(
            overall["model"] < overall[b] for b in ("persistence", "base_rate", "half")
        ),
        "calibrations": fits,
        "mechanisms": dict(series.switches),
        "seconds": round(time.perf_counter() - start, 2),
    }
    return table, summary


def write_backtest(job: Job, folder: Path) -> dict[str, Any]:
    table, summary = backtest(job)
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / "backtest.csv", table)
    if job.plots:
        names = ["model", "persistence", "base_rate", "half"]
        per_round = pd.DataFrame(
            {"round": summary["rounds"]}
            | {name: [summary["brier"][name]["per_round"][r] for r in summary["rounds"]] for name in names}
        )
        write_backtest_plot(folder, per_round, f"{job.scenario.title}: backtest")
    remove_stale_temporaries(folder)
    write_json(folder / "backtest.json", summary)
    return summary


def backtest_text(summary: dict[str, Any]) -> str:
    rounds = summary["rounds"]
    head = f"{'forecaster':<26}" + "".join(f"{'R' + str(r):>8}" for r in rounds) + f"{'all':>8}"
    lines = [
        "Backtest: Brier score per round, each forecast from the rounds before it (lower is better)",
        head,
    ]
    for name, score in summary["brier"].items():
        cells = "".join(f"{score['per_round'][r]:>8.3f}" for r in rounds)
        lines.append(f"{name:<26}{cells}{score['overall']:>8.3f}")
    verdict = "beats" if summary["beats_all_baselines"] else "does not beat"
    lines.append(f"The model {verdict} all three baselines over rounds {rounds[0]}-{rounds[-1]}.")
    return "\n".join(lines)


# Calibration


def fitted_scenario(job: Job, fit: Calibration) -> dict[str, Any]:
    """The scenario file with the fitted parameter values, named `<name>_fitted`."""
    series = job.series
    assert series is not None
    cfg = json.loads(json.dumps(series.scenario_cfg))
    block = dict(cfg["series"])
    block["parameters"] = {
        name: dict(spec) | {"value": round(fit.best.get(name, spec["value"]), 4)}
        for name, spec in block["parameters"].items()
    }
    name = f"{cfg['name']}_fitted"
    return (
        {"defaults": ["scenario_schema", "_self_"]}
        | cfg
        | {
            "name": name,
            "title": f"{cfg.get('title', name)} (fitted to rounds {fit.rounds[0]}-{fit.rounds[-1]})",
            "series": block,
        }
    )


def write_calibration(job: Job, folder: Path) -> dict[str, Any]:
    series = job.series
    assert series is not None
    fit = calibrate(job, series.record, series.record.numbers)
    if not fit.rounds:
        raise UserError(f"{series.record.path}: no round with outcomes to calibrate on")
    report = fit.report(ranges(series)) | {"stated": series.spec.values(), "free": free_parameters(series)}
    folder.mkdir(parents=True, exist_ok=True)
    fitted = fitted_scenario(job, fit)
    (folder / "scenario").mkdir(exist_ok=True)
    path = folder / "scenario" / f"{fitted['name']}.yaml"
    header = (
        f"# {series.spec.base.name} with its free parameters fitted to rounds "
        f"{fit.rounds[0]}-{fit.rounds[-1]} of {series.record.path} (task=calibrate).\n"
        f"# Use it with: python -m sim hydra.searchpath=[file://{folder.resolve()}] "
        f"scenario={fitted['name']}\n"
    )
    write_atomically(
        path,
        lambda stream: stream.write(header + yaml.safe_dump(fitted, sort_keys=False, allow_unicode=True)),
    )
    report["fitted_scenario"] = str(path)
    remove_stale_temporaries(folder)
    write_json(folder / "calibration.json", report)
    return report


def calibration_text(report: dict[str, Any]) -> str:
    lines = [
        f"Calibrated on rounds {', '.join(map(str, report['rounds']))} "
        f"({report['evaluations']} evaluations, {report['seconds']:.1f} s)"
    ]
    for name, entry in report["parameters"].items():
        lo, hi = entry["range"]
        lines.append(
            f"  {name:<14} {entry['value']:.3f}  in [{lo:g}, {hi:g}]  (stated {report['stated'][name]:g})"
        )
    lines.append(
        f"Brier score: fitted {report['brier_fitted']:.3f}, stated values {report['brier_stated']:.3f}"
    )
    lines.append(f"Fitted scenario: {report['fitted_scenario']}")
    return "\n".join(lines)


def execute_series(job: Job, folder: Path) -> tuple[dict[str, Any], str, str]:
    """Run a series task (replay by default) and write its folder; return what it wrote last, a
    one-line summary and the table to print."""
    series = job.series
    assert series is not None
    if job.task.value == "forecast":
        out = forecast_file(job, series.next)
        folder.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(folder)
        write_json(folder / "forecast.json", out)
        text = forecast_text(out)
        return out, text.splitlines()[0], text
    if job.task.value == "backtest":
        summary = write_backtest(job, folder)
        scores = summary["brier"]
        line = f"model {scores['model']['overall']:.3f}, persistence {scores['persistence']['overall']:.3f}"
        return summary, f"backtest Brier: {line}", backtest_text(summary)
    if job.task.value == "calibrate":
        report = write_calibration(job, folder)
        return report, f"calibrated Brier {report['brier_fitted']:.3f}", calibration_text(report)
    summary = write_replay(job, folder)
    return summary, f"replay: {summary['reproduced']} reproduced", replay_text(summary)
