"""One round of a series, planned from what a forecast of it may know: the record of the rounds
before it, and its own attendance row and agenda (never its outcomes).

Without rows for the round, the agenda is every issue of the series not yet settled (last
recorded outcome other than yes) and the table is that of the last attendance row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from sim.core.scenario import Scenario
from sim.errors import UserError
from sim.series.mechanisms import MECHANISMS
from sim.series.mechanisms.fallback import ProceduralFallback
from sim.series.mechanisms.fractionation import last_outcome
from sim.series.record import Round, SeriesRecord, forecast_view
from sim.series.spec import SeriesSpec
from sim.series.state import RoundState, apply_events, history, present_mask, round_scenario


@dataclass(frozen=True)
class RoundPlan:
    """A round's negotiation and what it was built from."""

    number: int
    agenda: tuple[str, ...]
    """The issues of the agenda the series models."""
    unmodelled: tuple[str, ...]
    """Issues of the agenda the series does not model (reported, not forecast)."""
    present: np.ndarray
    scenario: Scenario
    state: RoundState
    fallback: Scenario | None = None
    """The procedural text's negotiation, where the substantive one fails (mechanism `fallback`)."""


def agenda_of(spec: SeriesSpec, earlier: Sequence[Round], target: Round | None) -> list[str]:
    """The round's agenda: the issues its rows name, else every issue not yet settled."""
    if target is not None and target.outcomes:
        return list(target.outcomes)
    issues = spec.base.issue_names
    last = last_outcome(history(spec, earlier), len(issues))
    return [issue for issue, value in zip(issues, last, strict=True) if value != 1.0]


def check_switches(switches: Mapping[str, bool], parameters: Mapping[str, float]) -> None:
    """Every switched-on mechanism must be known and have its parameter (raises UserError)."""
    for name, on in switches.items():
        if name not in MECHANISMS:
            raise UserError(
                f"series.mechanisms.{name}: unknown mechanism: choose among {', '.join(MECHANISMS)}"
            )
        parameter = MECHANISMS[name].parameter
        if on and parameter is not None and parameter not in parameters:
            raise UserError(
                f"mechanism {name} needs parameter '{parameter}': declare it under scenario.series.parameters"
            )


def prepare_state(
    spec: SeriesSpec,
    earlier: Sequence[Round],
    number: int,
    parameters: Mapping[str, float],
    switches: Mapping[str, bool],
) -> RoundState:
    """The actors as they come to round `number`: events, then each switched-on mechanism in turn."""
    state = RoundState.of(spec.base)
    apply_events(spec, state, number)
    past = history(spec, earlier)
    for name, mechanism in MECHANISMS.items():
        if switches.get(name, False):
            parameter = mechanism.parameter
            mechanism().prepare(spec, state, past, parameters[parameter] if parameter else 0.0)
    return state


def plan_round(
    spec: SeriesSpec,
    record: SeriesRecord,
    number: int,
    parameters: Mapping[str, float],
    switches: Mapping[str, bool],
) -> RoundPlan:
    """Plan round `number` from the rounds before it and its own attendance and agenda only."""
    earlier, target = forecast_view(record, number)
    agenda = agenda_of(spec, earlier, target)
    modelled = tuple(issue for issue in agenda if issue in spec.base.issue_names)
    unmodelled = tuple(issue for issue in agenda if issue not in spec.base.issue_names)
    if not modelled:
        raise UserError(
            f"round {number} has no issue the series models on its agenda ({', '.join(agenda) or 'none'}): "
            f"the series models {', '.join(spec.base.issue_names)}"
        )
    present = present_mask(spec, target, earlier)
    state = prepare_state(spec, earlier, number, parameters, switches)
    fallback = None
    if switches.get(ProceduralFallback.name, False):
        narrow = ProceduralFallback.narrower(state, parameters[ProceduralFallback.parameter])
        fallback = round_scenario(spec, narrow, modelled, present, number)
    scenario = round_scenario(spec, state, modelled, present, number)
    return RoundPlan(number, modelled, unmodelled, present, scenario, state, fallback)


def combine(
    spec: SeriesSpec,
    switches: Mapping[str, bool],
    parameters: Mapping[str, float],
    agreed: np.ndarray,
    plan: RoundPlan,
) -> np.ndarray:
    """A round's agreements after the switched-on mechanisms that act on outcomes (linkage, leverage)."""
    for name, mechanism in MECHANISMS.items():
        if switches.get(name, False):
            parameter = mechanism.parameter
            value = parameters[parameter] if parameter else 0.0
            agreed = mechanism().combine(spec, agreed, plan.scenario, plan.number, value)
    return agreed
