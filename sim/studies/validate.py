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

import math
import sys
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.analysis.solutions import IssueSpace
from sim.core.means import weighted_position
from sim.core.scenario import Scenario
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


Method = Callable[[Scenario, Table], Forecast]
"""A forecasting method: from an issue's one-issue scenario and one-issue table to a forecast."""


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
    """What `validation.json` holds: the job, the scores per method, and the methods."""
    return {
        "scenario": job.scenario.name,
        "title": job.scenario.title,
        "path": job.scenario.source,
        "seed": job.seed,
        "n_issues": len(predictions),
        **score(predictions, status_quo),
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
    methods[PROCEDURAL] = procedural_forecast
    return methods


def protocol_method(protocol_cfg: ProtocolConfig, seed: int) -> Method:
    """Run the protocol on the issue; its prediction is the summary's `forecast`
    (`NegotiationModel.forecasts`: the protocol's forecast, else the agreed value)."""
    make_protocol(protocol_cfg)

    def forecast(scenario: Scenario, table: Table) -> Forecast:
        model = Talks(scenario, make_protocol(protocol_cfg), seeds=[seed], record_trace=False)
        value = float(model.run().forecasts()[0, 0])
        return status_quo(table) if math.isnan(value) else Forecast(value)

    return forecast


def solution_method(name: str) -> Method:
    """The bargaining solution `name` of `IssueSpace` among the actors present."""

    def forecast(scenario: Scenario, table: Table) -> Forecast:
        space = IssueSpace.from_scenario(scenario)
        if name in ("nash", "utilitarian"):
            point = getattr(space, name)(scenario.weights()[scenario.present, 0])
        else:
            point = getattr(space, name)()
        return status_quo(table) if point is None else Forecast(float(point[0]))

    return forecast


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


def forecast_table(
    table: Table, options: TableOptions, methods: Mapping[str, Method]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per issue with an outcome: the observed value and each method's forecast, on the source scale;
    and where each method's forecast is the status quo."""
    rows, status_rows = [], []
    for k in map(int, np.flatnonzero(~np.isnan(table.outcome))):
        issue_table = select(table, table.present[:, k], [k])
        low, high = table.scale[k]
        row: dict[str, Any] = {"issue": table.issues[k], "observed": float(table.outcome[k])}
        status: dict[str, bool] = {}
        actors_with_weight = issue_table.present[:, 0] & (np.nan_to_num(issue_table.capability) > 0)
        scenario = scenario_from_table(issue_table, options) if actors_with_weight.any() else None
        for name, method in methods.items():
            forecast = Forecast(None) if scenario is None else method(scenario, issue_table)
            row[name] = math.nan if forecast.value is None else low + forecast.value * (high - low)
            status[name] = forecast.status_quo
        rows.append(row)
        status_rows.append(status)
    return pd.DataFrame(rows), pd.DataFrame(status_rows, columns=list(methods))


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
    """The printed table: methods by mean absolute error."""
    mae = validation["mae"]
    order = _by_error(mae)
    width = max(len(name) for name in order)
    lines = [
        f"{validation['title']}: forecasts of {validation['n_issues']} recorded outcomes, errors on the "
        "source scale",
        "",
        f"{'method':<{width}} {'MAE':>7} {'median':>7} {'issues':>7} {'status quo':>11}",
    ]
    for name in order:
        lines.append(
            f"{name:<{width}} {_number(mae[name]):>7} {_number(validation['median_ae'][name]):>7} "
            f"{validation['n_forecast'][name]:>7} {validation['n_status_quo'][name]:>11}"
        )
    lines.append("")
    lines.append(f"No agreement: {NO_AGREEMENT_RULE}.")
    return "\n".join(lines)


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
