"""Forecasts scored against recorded decisions: `python -m sim +scenario=table scenario.path=FILE
task=validate`.

Every issue of the table with a recorded outcome (DEU III's `out`) is forecast as its own
one-issue negotiation among the actors with a position on it (in DEU III each row is its own
proposal with its own actors): stated saliences weight the means across actors, while each
actor's utility uses its normalised salience, 1 on the only issue. The methods:

- every protocol in `sim.protocols.PROTOCOLS`, with the parameters of `conf/protocol/<name>.yaml`
  (the protocol chosen on the command line with its overrides); its prediction is the summary's
  `forecast`: the protocol's own forecast, else the agreed value;
- the bargaining solutions of `sim.analysis.solutions.IssueSpace` over the actors' reservations: `nash`
  (bargaining powers capability x stated salience; Kalai 1977), `kalai_smorodinsky`,
  `utilitarian` (weights capability x stated salience; Myerson 1981) and `egalitarian`;
- `procedural`: the compromise model's text if it can pass the Council under the issue's voting
  rule against the status quo, else the passable text nearest it (`procedural_forecast`).

No agreement: where a method reaches no agreement (a protocol closes no text, a solution is
undefined), the status quo stands, and the forecast is the issue's reference point (DEU III
`rp`) when the table gives one; otherwise the method makes no forecast on that issue.
`n_status_quo` counts how often the rule applied, `n_forecast` the issues a method forecast;
its errors are taken over those issues.

Outputs, in the run folder: `predictions.csv` (issue, observed, one column per method, on the
source scale), `validation.json` (`n_issues`, and per method `mae`, `median_ae`, `n_forecast`,
`n_status_quo`), `predicted_vs_observed.png` and `errors.png`.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from sim.analysis import one_issue
from sim.core.means import weighted_position
from sim.core.scenario import Scenario
from sim.core.variants import Variants
from sim.errors import UserError
from sim.figures.study import save_figure
from sim.model.model import Talks
from sim.outputs.files import write_csv, write_json
from sim.protocols import PROTOCOLS, ProtocolConfig, make_protocol
from sim.setup.job import Job
from sim.tables.readers import Table
from sim.tables.scenario import TableOptions, scenario_from_table, select

NO_AGREEMENT_RULE = (
    "where a method reaches no agreement, the status quo stands: the forecast is the issue's reference "
    "point (DEU III rp) when known; otherwise the method makes no forecast on that issue"
)
SOLUTIONS: dict[str, str] = {
    "nash": "Nash bargaining solution, powers capability x stated salience (Nash 1950; Kalai 1977)",
    "kalai_smorodinsky": "Kalai-Smorodinsky solution (Kalai & Smorodinsky 1975)",
    "utilitarian": "largest total utility, weights capability x stated salience (Myerson 1981)",
    "egalitarian": "largest equal gain over the reservation, made efficient (Kalai 1977)",
}
PROCEDURAL = "procedural"
PROCEDURAL_DESCRIPTION = (
    "the compromise if the Council can pass it against the status quo under the issue's voting rule "
    "(unanimity: every member state; QMV: 260 of 352 votes, Treaty of Nice weights), else the passable "
    "text nearest it"
)
COUNCIL_VOTES: dict[str, int] = {
    **dict.fromkeys(("de", "fr", "it", "uk"), 29),
    **dict.fromkeys(("es", "pl"), 27),
    "ro": 14,
    "nl": 13,
    **dict.fromkeys(("be", "cz", "el", "hu", "pt"), 12),
    **dict.fromkeys(("at", "bu", "se"), 10),
    **dict.fromkeys(("cr", "dk", "ie", "lt", "sk", "fi"), 7),
    **dict.fromkeys(("cy", "ee", "lv", "lu", "si"), 4),
    "mt": 3,
}
"""Member states' votes in the Council under qualified majority, DEU III codes: Protocol (No 36)
on transitional provisions, Art. 3(3) (Treaty of Nice weights), as amended by the 2012 Act of
Accession of Croatia, Art. 20: 352 votes in all."""
QUALIFIED_MAJORITY = 260
"""Votes a qualified majority needs out of 352 (same sources)."""
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Forecast:
    """One method's prediction on one issue, on the unit scale; None where it makes none."""

    value: float | None
    status_quo: bool = False
    """True where the method reached no agreement and the status quo stands."""


@dataclass(frozen=True)
class Problem:
    """One issue with a recorded outcome, as its own one-issue negotiation."""

    table: Table
    """The issue's one-issue table: the actors with a position on it."""
    scenario: Scenario | None
    """Its scenario; None where no actor has both a position and a capability."""


Method = Callable[[Sequence[Problem]], list[Forecast]]
"""A forecasting method: from the issues' one-issue problems to a forecast of each."""
BOOTSTRAP_RESAMPLES = 9999
RESAMPLE_BLOCK = 256
"""Bootstrap resamples whose errors are gathered at once (memory: this x issues x 16 bytes)."""
BASELINE = "compromise"
"""The method every other is compared with (Achen 2006: the one published comparisons find hard to beat)."""


def validate(job: Job) -> tuple[dict[str, Any], pd.DataFrame]:
    """Forecast every issue with a recorded outcome by every method; the scores and predictions."""
    if job.source is None:
        raise UserError(
            f"task=validate needs a table with recorded outcomes; scenario '{job.scenario.name}' has none"
        )
    methods = forecasting_methods(job.protocol, job.seed)
    predictions, status_quo = forecast_table(job.source.table, job.source.options, methods)
    return validation_summary(job, methods, predictions, status_quo), predictions


def validation_summary(
    job: Job, methods: Mapping[str, Method], predictions: pd.DataFrame, status_quo: pd.DataFrame
) -> dict[str, Any]:
    """What `validation.json` holds: the job, the scores per method, the differences from the
    compromise model with their intervals, and the methods."""
    return {
        "scenario": job.scenario.name,
        "title": job.scenario.title,
        "path": job.scenario.source,
        "seed": job.seed,
        "n_issues": len(predictions),
        **score(predictions, status_quo),
        "difference_from_compromise": differences(predictions, job.seed),
        "no_agreement_rule": NO_AGREEMENT_RULE,
        "methods": describe_methods(methods),
    }


def expected_validation(job: Job) -> dict[str, Any]:
    """The keys `validation.json` will hold for the job, with no issue forecast yet."""
    methods = forecasting_methods(job.protocol, job.seed)
    predictions = pd.DataFrame(columns=["issue", "observed", *methods], dtype=float)
    return validation_summary(job, methods, predictions, pd.DataFrame(columns=list(methods), dtype=bool))


def write_validation(
    validation: dict[str, Any], predictions: pd.DataFrame, folder: Path, plots: bool
) -> Path:
    """Write `predictions.csv`, the plots and `validation.json` (last) into the run folder."""
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / "predictions.csv", predictions)
    if plots:
        write_validation_plots(folder, predictions, validation)
    write_json(folder / "validation.json", validation)
    return folder


def validation_line(validation: dict[str, Any]) -> str:
    """The one line a sweep prints for a validation job."""
    best = _by_error(validation["mae"])[0]
    return f"best {best} MAE {_number(validation['mae'][best])} over {validation['n_issues']} issues"


def forecasting_methods(chosen_protocol: ProtocolConfig, seed: int) -> dict[str, Method]:
    """Every protocol (the chosen one with its overrides), every bargaining solution, and `procedural`."""
    methods: dict[str, Method] = {}
    for name, protocol in PROTOCOLS.items():
        config = chosen_protocol if chosen_protocol.name == name else protocol.Config()
        methods[name] = protocol_method(config, seed)
    for name in SOLUTIONS:
        methods[name] = solution_method(name)
    methods[PROCEDURAL] = procedural_method
    return methods


def protocol_method(protocol_cfg: ProtocolConfig, seed: int) -> Method:
    """Run the protocol on every issue; its prediction is the summary's `forecast`
    (`Talks.forecasts`: the protocol's forecast, else the agreed value).

    The issues run as the variants of a few batches (`sim.core.variants`), one per number of
    actors, each issue's variant its actors' positions, saliences and capabilities: the numbers
    of a single run of the issue's own scenario with the job's seed. Actors absent from an issue
    are left out. An actor present with no salience there (a blank in DEU III) cannot be a
    variant's actor (`sim.core.variants` requires some salience); under the protocols of
    `IDLE_WHEN_SILENT` it does nothing and is left out too, under the others its issue runs alone."""
    make_protocol(protocol_cfg)
    idle = protocol_cfg.name in IDLE_WHEN_SILENT

    def forecast(problems: Sequence[Problem]) -> list[Forecast]:
        values = [math.nan] * len(problems)
        batches: dict[int, list[tuple[int, Scenario]]] = {}
        for i, problem in enumerate(problems):
            if problem.scenario is None:
                continue
            actors = taking_part(problem.scenario, idle)
            if actors is None:
                model = Talks(problem.scenario, make_protocol(protocol_cfg), seeds=[seed], record_trace=False)
                values[i] = float(model.run().forecasts()[0, 0])
            else:
                scenario = keep_actors(problem.scenario, actors)
                batches.setdefault(scenario.n_actors, []).append((i, scenario))
        for members in batches.values():
            scenarios = [scenario for _, scenario in members]
            model = Talks(
                scenarios[0],
                make_protocol(protocol_cfg),
                seeds=[seed] * len(members),
                record_trace=False,
                variants=variants_of(scenarios),
            )
            for (i, _), value in zip(members, model.run().forecasts()[:, 0].tolist(), strict=True):
                values[i] = value
        return [
            Forecast(None)
            if problem.scenario is None
            else status_quo(problem.table)
            if math.isnan(value)
            else Forecast(value)
            for problem, value in zip(problems, values, strict=True)
        ]

    return forecast


IDLE_WHEN_SILENT = frozenset({"compromise", "mediated", "eum", "exchange"})
"""Protocols in which an actor with no salience on the only issue does nothing: its weight in every
mean is 0, it accepts every text and never proposes one (where someone else has a salience)."""


def taking_part(scenario: Scenario, idle: bool) -> np.ndarray | None:
    """The actors a batch keeps: those present, without the silent ones where they are idle;
    None where the issue must run alone (silent actors who act, or nobody but silent ones)."""
    present = scenario.present
    silent = present & ~(scenario.stated_salience[:, 0] > 0)
    if not silent.any():
        return present
    if idle and (present & ~silent).any():
        return present & ~silent
    return None


def keep_actors(scenario: Scenario, keep: np.ndarray) -> Scenario:
    """The scenario with only the actors `keep` (a mask); no patron keeps a client."""
    rows = np.flatnonzero(keep)
    changes: dict[str, Any] = {}
    for field in dataclasses.fields(scenario):
        value = getattr(scenario, field.name)
        if isinstance(value, np.ndarray) and value.ndim and value.shape[0] == scenario.n_actors:
            changes[field.name] = value[rows]
        elif isinstance(value, tuple) and len(value) == scenario.n_actors and field.name != "columns":
            changes[field.name] = tuple(value[i] for i in rows)
    changes["client"] = np.full(len(rows), -1)
    changes["patron_weight"] = np.zeros(len(rows))
    return dataclasses.replace(scenario, **changes)


def variants_of(scenarios: Sequence[Scenario]) -> Variants:
    """The numbers of one-issue scenarios with the same number of actors, one variant each."""
    return Variants(
        ideal=np.stack([scenario.ideal for scenario in scenarios]),
        salience=np.stack([scenario.stated_salience for scenario in scenarios]),
        capability=np.stack([scenario.capability for scenario in scenarios]),
    )


def solution_method(name: str) -> Method:
    """The bargaining solution `name` among the actors present, on every issue at once
    (`sim.analysis.one_issue`, the one-issue forms of `sim.analysis.solutions.IssueSpace`)."""

    def forecast(problems: Sequence[Problem]) -> list[Forecast]:
        forecasts = [Forecast(None)] * len(problems)
        solved = [i for i, problem in enumerate(problems) if problem.scenario is not None]
        if not solved:
            return forecasts
        ideal, stake, reservation, weights, present = padded([problems[i].scenario for i in solved])
        exponent = problems[solved[0]].scenario.utility_exponent  # type: ignore[union-attr]
        if name in ("nash", "utilitarian"):
            points = getattr(one_issue, name)(ideal, stake, reservation, weights, exponent, present)
        else:
            points = getattr(one_issue, name)(ideal, stake, reservation, exponent, present)
        for i, point in zip(solved, points.tolist(), strict=True):
            forecasts[i] = status_quo(problems[i].table) if math.isnan(point) else Forecast(point)
        return forecasts

    return forecast


def padded(scenarios: Sequence[Scenario | None]) -> tuple[np.ndarray, ...]:
    """One-issue scenarios as rows padded to the largest: ideal points (NaN where absent), who has
    a stake, reservations, weights (capability x stated salience) and who is present."""
    width = max(scenario.n_actors for scenario in scenarios if scenario is not None)
    shape = (len(scenarios), width)
    ideal, reservation, weights = np.full(shape, np.nan), np.zeros(shape), np.zeros(shape)
    stake, present = np.zeros(shape, dtype=bool), np.zeros(shape, dtype=bool)
    for row, scenario in enumerate(scenarios):
        assert scenario is not None
        n = scenario.n_actors
        present[row, :n] = scenario.present
        ideal[row, :n] = np.where(scenario.present, scenario.ideal[:, 0], np.nan)
        stake[row, :n] = scenario.present & (scenario.salience[:, 0] > 0)
        reservation[row, :n] = scenario.reservation
        weights[row, :n] = scenario.weights()[:, 0]
    return ideal, stake, reservation, weights, present


def procedural_method(problems: Sequence[Problem]) -> list[Forecast]:
    """`procedural_forecast` on every issue."""
    return [
        Forecast(None) if problem.scenario is None else procedural_forecast(problem.scenario, problem.table)
        for problem in problems
    ]


def status_quo(table: Table) -> Forecast:
    """The forecast where no agreement is reached: the reference point, when known."""
    reference = float(table.reference[0])
    if math.isnan(reference):
        return Forecast(None, status_quo=True)
    low, high = table.scale[0]
    return Forecast((reference - low) / (high - low), status_quo=True)


def compromise(scenario: Scenario) -> float:
    """The capability-and-salience-weighted mean of the present actors' ideal points on the issue
    (the compromise model; Achen 2006), or their plain mean where no one has a weight."""
    return float(weighted_position(scenario.ideal, scenario.weights(), scenario.present[:, None])[0])


def procedural_forecast(scenario: Scenario, table: Table) -> Forecast:
    """The compromise, held to what the Council can pass against the status quo.

    Tsebelis & Garrett (2000), "Legislative politics in the European Union", European Union
    Politics 1(1):9-36, and Steunenberg (1994), "Decision making under different institutional
    arrangements", J. Institutional and Theoretical Economics 150(4):642-669: under the Council's
    voting rule, a text replaces the status quo q only if enough member states prefer it. A
    member state at x_i weakly prefers a text t to q when |t - x_i| <= |q - x_i|. Under
    unanimity every member state with a position must; under QMV, states holding a qualified
    majority of the votes (`COUNCIL_VOTES`, `QUALIFIED_MAJORITY`). A member state without a
    position on the issue goes along (unanimity: its abstention does not block, Art. 238(4)
    TFEU). The bargaining among the actors (the compromise model) proposes the text; if it
    cannot pass, the forecast is the passable text nearest it, which may be q itself (q always
    passes). The passable texts form closed intervals whose ends are ends of the member states'
    intervals [x_i - |q - x_i|, x_i + |q - x_i|] or of [0, 1], so the nearest one is among those
    ends. Where q or the voting rule is unknown, or the table names no member states, the
    forecast is the compromise.
    """
    proposal = compromise(scenario)
    rule = table.voting_rule[0]
    low, high = table.scale[0]
    reference = (float(table.reference[0]) - low) / (high - low)
    members = np.array([actor in COUNCIL_VOTES for actor in scenario.actors])
    if math.isnan(reference) or rule not in ("QMV", "Unan") or not members.any():
        return Forecast(proposal)
    ideal = scenario.ideal[members, 0]
    reach = np.abs(reference - ideal)
    votes = np.array([COUNCIL_VOTES[actor] for actor in np.array(scenario.actors)[members]], dtype=float)
    going_along = sum(votes_of for actor, votes_of in COUNCIL_VOTES.items() if actor not in scenario.actors)

    def passes(text: np.ndarray) -> np.ndarray:
        approve = np.abs(text[:, None] - ideal[None, :]) <= reach[None, :] + TOLERANCE
        if rule == "Unan":
            return approve.all(axis=1)
        return approve @ votes + going_along >= QUALIFIED_MAJORITY

    if passes(np.array([proposal]))[0]:
        return Forecast(proposal)
    ends = np.clip(np.concatenate([[reference, 0.0, 1.0], ideal - reach, ideal + reach]), 0.0, 1.0)
    passable = ends[passes(ends)]
    nearest = float(passable[np.argmin(np.abs(passable - proposal))])
    return Forecast(nearest, status_quo=abs(nearest - reference) <= TOLERANCE)


def problems_of(table: Table, options: TableOptions) -> list[Problem]:
    """Each issue with a recorded outcome as its own one-issue negotiation among the actors with a
    position on it."""
    problems = []
    for k in map(int, np.flatnonzero(~np.isnan(table.outcome))):
        issue_table = select(table, table.present[:, k], [k])
        with_weight = issue_table.present[:, 0] & (np.nan_to_num(issue_table.capability) > 0)
        scenario = scenario_from_table(issue_table, options) if with_weight.any() else None
        problems.append(Problem(issue_table, scenario))
    return problems


def forecast_table(
    table: Table, options: TableOptions, methods: Mapping[str, Method]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per issue with an outcome: the observed value and each method's forecast, on the source scale;
    and where each method's forecast is the status quo."""
    problems = problems_of(table, options)
    rows: list[dict[str, Any]] = [
        {"issue": problem.table.issues[0], "observed": float(problem.table.outcome[0])}
        for problem in problems
    ]
    status_rows: list[dict[str, bool]] = [{} for _ in problems]
    for name, method in methods.items():
        for problem, row, status, forecast in zip(problems, rows, status_rows, method(problems), strict=True):
            low, high = problem.table.scale[0]
            row[name] = math.nan if forecast.value is None else low + forecast.value * (high - low)
            status[name] = forecast.status_quo
    columns = ["issue", "observed", *methods]
    return pd.DataFrame(rows, columns=columns), pd.DataFrame(status_rows, columns=list(methods))


def score(predictions: pd.DataFrame, status_quo: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per method: mean and median absolute error over the issues it forecast, how many it
    forecast, and on how many the status quo stood."""
    methods = [column for column in predictions.columns if column not in ("issue", "observed")]
    errors = predictions[methods].sub(predictions["observed"], axis=0).abs()
    return {
        "mae": {name: _finite_or_none(errors[name].mean()) for name in methods},
        "median_ae": {name: _finite_or_none(errors[name].median()) for name in methods},
        "n_forecast": {name: int(errors[name].notna().sum()) for name in methods},
        "n_status_quo": {name: int(status_quo[name].sum()) for name in methods},
    }


def differences(predictions: pd.DataFrame, seed: int) -> dict[str, dict[str, Any]]:
    """Per method: its mean absolute error minus the compromise model's, over the issues both
    forecast, with the 95% paired bootstrap interval of that difference (BCa; Efron 1987;
    `scipy.stats.bootstrap`, resampling issues)."""
    methods = [column for column in predictions.columns if column not in ("issue", "observed")]
    if BASELINE not in methods:
        return {}
    errors = predictions[methods].sub(predictions["observed"], axis=0).abs()
    out: dict[str, dict[str, Any]] = {}
    for name in methods:
        if name == BASELINE:
            continue
        both = errors[[name, BASELINE]].dropna()
        ours, theirs = both[name].to_numpy(), both[BASELINE].to_numpy()
        out[name] = {
            "mae_difference": _finite_or_none(float(np.mean(ours - theirs))) if len(both) else None,
            "interval": paired_interval(ours, theirs, seed),
            "n_issues": len(both),
        }
    return out


def paired_interval(errors: np.ndarray, baseline: np.ndarray, seed: int) -> list[float | None]:
    """The 95% BCa bootstrap interval of mean(errors) - mean(baseline), resampling the issues in
    pairs; a single value where every difference is the same, none below two issues."""
    if len(errors) < 2:
        return [None, None]
    gaps = errors - baseline
    if np.ptp(gaps) == 0:
        return [float(gaps[0]), float(gaps[0])]
    result = stats.bootstrap(
        (np.arange(len(errors), dtype=np.min_scalar_type(len(errors) - 1)),),
        lambda issues, axis: _mean_difference(errors, baseline, issues),
        vectorized=True,
        n_resamples=BOOTSTRAP_RESAMPLES,
        confidence_level=0.95,
        method="BCa",
        rng=np.random.default_rng(seed),
    )
    low, high = result.confidence_interval
    return [_finite_or_none(float(low)), _finite_or_none(float(high))]


def _mean_difference(errors: np.ndarray, baseline: np.ndarray, issues: np.ndarray) -> np.ndarray:
    """mean(errors) - mean(baseline) over each row of resampled issue numbers (the last axis),
    `RESAMPLE_BLOCK` rows at a time, so that no resample of the errors is held whole.

    Resampling the issue numbers and taking both errors at them is how `scipy.stats.bootstrap`
    pairs two samples (`paired=True`); it draws the same numbers, and each row's means are
    taken alone, so the intervals are those of the paired call. The issue numbers come in the
    smallest integer type that holds them, so that the resamples scipy keeps are small too."""
    rows = issues.reshape(-1, issues.shape[-1])
    out = np.empty(len(rows))
    for start in range(0, len(rows), RESAMPLE_BLOCK):
        block = rows[start : start + RESAMPLE_BLOCK]
        out[start : start + len(block)] = np.mean(errors[block], axis=-1) - np.mean(baseline[block], axis=-1)
    return out.reshape(issues.shape[:-1])


def describe_methods(methods: Mapping[str, Method]) -> dict[str, str]:
    """One line per method, with its source."""
    descriptions = {}
    for name in methods:
        if name in PROTOCOLS:
            doc = sys.modules[PROTOCOLS[name].__module__].__doc__ or ""
            descriptions[name] = f"protocol {name}: {doc.strip().splitlines()[0] if doc.strip() else name}"
        elif name in SOLUTIONS:
            descriptions[name] = SOLUTIONS[name]
        else:
            descriptions[name] = PROCEDURAL_DESCRIPTION
    return descriptions


def format_scores(validation: Mapping[str, Any]) -> str:
    """The printed table: methods by mean absolute error, each with its difference from the
    compromise model and that difference's 95% paired bootstrap interval."""
    mae = validation["mae"]
    order = _by_error(mae)
    width = max(len(name) for name in order)
    versus = validation.get("difference_from_compromise", {})
    lines = [
        f"{validation['title']}: forecasts of {validation['n_issues']} recorded outcomes, errors on the "
        "source scale",
        "",
        f"{'method':<{width}} {'MAE':>7} {'median':>7} {'issues':>7} {'status quo':>11}  "
        f"{'- ' + BASELINE + ' [95% interval]'}",
    ]
    for name in order:
        lines.append(
            f"{name:<{width}} {_number(mae[name]):>7} {_number(validation['median_ae'][name]):>7} "
            f"{validation['n_forecast'][name]:>7} {validation['n_status_quo'][name]:>11}  "
            f"{_difference(versus.get(name))}".rstrip()
        )
    lines.append("")
    lines.append(
        f"No agreement: {NO_AGREEMENT_RULE}. Intervals: paired bootstrap over the issues both methods "
        f"forecast (BCa, {BOOTSTRAP_RESAMPLES} resamples); an interval that straddles 0 is no difference."
    )
    return "\n".join(lines)


def _difference(entry: Mapping[str, Any] | None) -> str:
    if entry is None or entry["mae_difference"] is None:
        return ""
    low, high = entry["interval"]
    interval = "" if low is None else f" [{low:+.2f}, {high:+.2f}]"
    return f"{entry['mae_difference']:+.2f}{interval}"


def write_validation_plots(
    output_dir: Path, predictions: pd.DataFrame, validation: Mapping[str, Any]
) -> list[Path]:
    """`predicted_vs_observed.png` (one scatter panel per method, with the diagonal) and
    `errors.png` (the distribution of absolute errors per method, best first)."""
    mae = validation["mae"]
    methods = _by_error(mae)
    values = predictions[["observed", *methods]].to_numpy(dtype=float)
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    margin = 0.04 * (high - low or 1.0)
    limits = (low - margin, high + margin)

    columns = min(4, len(methods))
    rows = math.ceil(len(methods) / columns)
    figure = Figure(figsize=(2.6 * columns, 2.6 * rows + 0.5))
    for number, name in enumerate(methods):
        axes = figure.add_subplot(rows, columns, number + 1)
        axes.plot(limits, limits, color="grey", linewidth=0.8, linestyle="--")
        axes.scatter(predictions["observed"], predictions[name], s=10, alpha=0.6, color="tab:blue")
        axes.set_xlim(limits)
        axes.set_ylim(limits)
        axes.set_aspect("equal")
        axes.set_title(f"{name}\nMAE {_number(mae[name])}, n = {validation['n_forecast'][name]}", fontsize=8)
        axes.tick_params(labelsize=7)
        if number % columns == 0:
            axes.set_ylabel("predicted", fontsize=8)
        if number >= len(methods) - columns:
            axes.set_xlabel("observed", fontsize=8)
    figure.suptitle(textwrap.fill(f"{validation['title']}: predicted against observed", 80), fontsize=10)
    figure.tight_layout()
    paths = [save_figure(figure, output_dir / "predicted_vs_observed.png")]

    errors = [
        (predictions[name] - predictions["observed"]).abs().dropna().to_numpy() for name in reversed(methods)
    ]
    figure = Figure(figsize=(7, 0.9 + 0.38 * len(methods)))
    axes = figure.add_subplot()
    axes.boxplot(
        errors,
        orientation="horizontal",
        showmeans=True,
        widths=0.6,
        meanprops={
            "marker": "D",
            "markerfacecolor": "tab:red",
            "markeredgecolor": "tab:red",
            "markersize": 4,
        },
    )
    axes.set_yticks(range(1, len(methods) + 1), list(reversed(methods)), fontsize=8)
    axes.set_xlabel("absolute error on the source scale (box: quartiles; diamond: mean)", fontsize=8)
    axes.tick_params(axis="x", labelsize=7)
    axes.set_title(textwrap.fill(f"{validation['title']}: errors per method, best first", 80), fontsize=10)
    figure.tight_layout()
    paths.append(save_figure(figure, output_dir / "errors.png"))
    return paths


def _by_error(mae: Mapping[str, float | None]) -> list[str]:
    """Methods from the smallest mean absolute error to the largest; those with none last."""

    def error(name: str) -> float:
        value = mae[name]
        return math.inf if value is None else value

    return sorted(mae, key=error)


def _finite_or_none(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
