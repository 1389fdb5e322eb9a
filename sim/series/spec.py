"""A series scenario: the actors of every round, the party codes of the record, the free parameters
of the mechanisms with their ranges, the events between rounds and the packages of linked issues.

It is the `series:` block of a scenario file (`conf/scenario/astana_series.yaml`) beside the usual
`issues` and `actors`, which hold every issue the series ever negotiates. Every check a user's
series block can fail lives here and raises a one-line UserError.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.core.scenario import Scenario
from sim.errors import UserError

EVENT_FIELDS = ("ideal", "salience")
"""What an event may set per issue; `reservation` it sets per actor."""


@dataclass(frozen=True)
class Parameter:
    """A free parameter of a mechanism: its stated value, the range calibration searches, and why."""

    name: str
    value: float
    low: float
    high: float
    reason: str = ""


@dataclass(frozen=True)
class Event:
    """Something that changed an actor before a round, from that round on, with its source."""

    round: int
    actor: str
    ideal: Mapping[str, float] = field(default_factory=dict)
    salience: Mapping[str, float] = field(default_factory=dict)
    reservation: float | None = None
    reason: str = ""
    source: str = ""


@dataclass(frozen=True)
class Package:
    """Issues adopted or postponed together from round `from_round` on (linkage)."""

    issues: tuple[str, ...]
    from_round: int
    reason: str = ""
    source: str = ""


@dataclass(frozen=True)
class SeriesSpec:
    """Everything a series adds to its base scenario (every actor, every issue of the series)."""

    base: Scenario
    codes: Mapping[str, str]
    """The record's party codes and the actors they name (RU -> russia)."""
    parameters: Mapping[str, Parameter]
    events: tuple[Event, ...] = ()
    packages: tuple[Package, ...] = ()
    notes: Mapping[int, str] = field(default_factory=dict)
    """Per round, what changed before it, in words, with its source."""
    record: str = ""
    """The default record of rounds (a path relative to the project)."""

    def values(self) -> dict[str, float]:
        return {name: p.value for name, p in self.parameters.items()}

    def events_until(self, number: int) -> list[Event]:
        """The events that happened before round `number` (or before an earlier round)."""
        return [event for event in self.events if event.round <= number]


def _float(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise UserError(f"{where} is {value!r}: give a finite number")
    return float(value)


def _round_number(value: Any, where: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise UserError(f"{where}: '{value}' is not a round number: give a whole number") from None
    if number < 1 or str(number) != str(value).strip():
        raise UserError(f"{where}: '{value}' is not a round number: give a whole number, 1 or more")
    return number


def build_series(cfg: Mapping[str, Any], base: Scenario) -> SeriesSpec:
    """The series block of a scenario file, checked against its base scenario (raises UserError)."""
    issues, actors = set(base.issue_names), set(base.actors)
    codes = {str(code): str(actor) for code, actor in (cfg.get("codes") or {}).items()}
    for code, actor in codes.items():
        if actor not in actors:
            raise UserError(
                f"scenario.series.codes.{code} is '{actor}', not an actor: "
                f"choose one of {', '.join(base.actors)}"
            )
    parameters = {}
    for name, spec in (cfg.get("parameters") or {}).items():
        where = f"scenario.series.parameters.{name}"
        value, low, high = (_float(spec.get(key), f"{where}.{key}") for key in ("value", "low", "high"))
        if not low <= value <= high:
            raise UserError(
                f"{where}.value is {value:g}, outside [{low:g}, {high:g}]: give a value in its range"
            )
        parameters[str(name)] = Parameter(str(name), value, low, high, str(spec.get("reason") or ""))
    events, notes = [], {}
    for key, spec in (cfg.get("rounds") or {}).items():
        number = _round_number(key, "scenario.series.rounds")
        notes[number] = str(spec.get("note") or "")
        for position, event in enumerate(spec.get("events") or []):
            where = f"scenario.series.rounds.{number}.events[{position}]"
            actor = str(event.get("actor"))
            if actor not in actors:
                raise UserError(f"{where}.actor is '{actor}': choose one of {', '.join(base.actors)}")
            changes: dict[str, dict[str, float]] = {}
            for kind in EVENT_FIELDS:
                changes[kind] = {}
                for issue, value in (event.get(kind) or {}).items():
                    if issue not in issues:
                        raise UserError(
                            f"{where}.{kind} names unknown issue '{issue}': "
                            f"the issues are {', '.join(base.issue_names)}"
                        )
                    number_value = _float(value, f"{where}.{kind}.{issue}")
                    if number_value < 0 or (kind == "ideal" and number_value > 1):
                        raise UserError(
                            f"{where}.{kind}.{issue} is {number_value:g}: give a number in [0, 1]"
                        )
                    changes[kind][str(issue)] = number_value
            reservation = event.get("reservation")
            if reservation is not None:
                reservation = _float(reservation, f"{where}.reservation")
                if not 0 <= reservation < 1:
                    raise UserError(f"{where}.reservation is {reservation:g}: give a number in [0, 1)")
            if not event.get("source"):
                raise UserError(f"{where} has no source: say where the change is reported")
            events.append(
                Event(
                    number,
                    actor,
                    changes["ideal"],
                    changes["salience"],
                    reservation,
                    str(event.get("reason") or ""),
                    str(event.get("source")),
                )
            )
    packages = []
    for position, spec in enumerate(cfg.get("packages") or []):
        where = f"scenario.series.packages[{position}]"
        members = tuple(str(issue) for issue in spec.get("issues") or ())
        unknown = [issue for issue in members if issue not in issues]
        if unknown or len(members) < 2:
            raise UserError(f"{where}.issues must name two or more issues of {', '.join(base.issue_names)}")
        packages.append(
            Package(
                members,
                _round_number(spec.get("from_round", 1), f"{where}.from_round"),
                str(spec.get("reason") or ""),
                str(spec.get("source") or ""),
            )
        )
    return SeriesSpec(
        base=base,
        codes=codes,
        parameters=parameters,
        events=tuple(sorted(events, key=lambda e: e.round)),
        packages=tuple(packages),
        notes=notes,
        record=str(cfg.get("record") or ""),
    )
