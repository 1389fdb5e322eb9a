"""A scenario from a plain mapping (a scenario file, as the setup layer reads it), with every check.

Every check that a user's scenario can fail lives here, so that a bad value ends the run before
any output is written; each message names the key and the fix.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import numpy as np

from sim.core.checks import RULES, check_patron_weight, check_some_salience, check_values
from sim.core.scenario import (
    Column,
    Decision,
    IssueKind,
    Recognition,
    Record,
    Role,
    Scenario,
    normalise_salience,
)
from sim.errors import UserError

REQUIRED_ACTOR_FIELDS = ("name", "role", "ideal", "salience", "capability", "reservation")


def _given(value: Any, where: str, parameter: str) -> float:
    """A value from the scenario file that must be a number (raises UserError)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UserError(f"{where} is {value!r}, not a number: {RULES[parameter].fix}")
    return float(value)


def _number(value: Any, where: str, parameter: str) -> float:
    """A number from the scenario file, checked against the parameter's rule (`sim.core.checks`)."""
    return float(check_values(_given(value, where, parameter), parameter, where))


def _require(mapping: Mapping[str, Any], key: str, where: str, fix: str) -> Any:
    if key not in mapping or mapping[key] is None or mapping[key] in ("???", ""):
        raise UserError(f"{where} has no '{key}': {fix}")
    return mapping[key]


def _issue_values(actor: str, kind: str, values: Mapping[str, Any], issues: list[str]) -> list[float]:
    unknown = [key for key in values if key not in issues]
    if unknown:
        raise UserError(
            f"actor '{actor}' has a {kind} for unknown issue '{unknown[0]}': "
            f"the issues are {', '.join(issues)}"
        )
    missing = [issue for issue in issues if issue not in values]
    if missing:
        raise UserError(
            f"actor '{actor}' has no {kind} for issue '{missing[0]}': "
            f"add scenario.actors.{actor}.{kind}.{missing[0]}"
        )
    return [_number(values[issue], f"scenario.actors.{actor}.{kind}.{issue}", kind) for issue in issues]


def _scale(value: Any, where: str) -> tuple[float, float]:
    """An issue's source scale: two different finite numbers, its values at 0 and 1 (raises UserError)."""
    if value is None:
        return (0.0, 1.0)
    ends = list(value) if isinstance(value, (list, tuple)) else []
    numbers = [float(end) for end in ends if isinstance(end, (int, float)) and not isinstance(end, bool)]
    finite = [number for number in numbers if math.isfinite(number)]
    if len(ends) != 2 or len(finite) != 2 or finite[0] == finite[1]:
        raise UserError(
            f"{where} is {value!r}: give two different finite numbers [low, high], "
            "the source's values at 0 and 1"
        )
    return (finite[0], finite[1])


def _marks(marks: Mapping[Any, Any], where: str) -> dict[float, str]:
    """An issue's labelled points: each at a number between 0 and 1 (raises UserError)."""
    points = {}
    for at, label in marks.items():
        try:
            point = float(at)
        except (TypeError, ValueError):
            point = math.nan
        if not 0.0 <= point <= 1.0:
            raise UserError(
                f"{where} has a mark at {str(at)!r}: give a point of the issue between 0 and 1, "
                "such as '0.55'"
            )
        points[point] = str(label)
    return points


def _record_bound(value: Any, where: str) -> float | None:
    """One end of a recorded outcome's range: null, or a number between 0 and 1 (raises UserError)."""
    return None if value is None else _number(value, where, "ideal")


def utility_exponent(value: Any) -> int:
    """The exponent p of the losses |x - x*|^p, checked (raises UserError)."""
    if isinstance(value, bool) or value not in (1, 2):
        raise UserError(f"scenario.utility_exponent is {value!r}: choose 1 (linear) or 2 (quadratic)")
    return int(value)


def build_scenario(cfg: Mapping[str, Any]) -> Scenario:
    """Validate a scenario given as issues and actors (raises UserError)."""
    fix_file = "add it to the scenario file"
    name = str(_require(cfg, "name", "the scenario", fix_file))
    issues_cfg = _require(cfg, "issues", f"scenario '{name}'", fix_file)
    actors_cfg = _require(cfg, "actors", f"scenario '{name}'", fix_file)
    if not issues_cfg:
        raise UserError(f"scenario '{name}' has no issues: list at least one under 'issues'")
    if not actors_cfg:
        raise UserError(f"scenario '{name}' has no actors: list at least one under 'actors'")

    actor_names = [str(key) for key in actors_cfg]
    issues: list[Column] = []
    division_recipients: dict[str, list[str]] = {}
    for key, spec in issues_cfg.items():
        where = f"issue '{key}'"
        kind = choice(IssueKind, spec.get("kind") or IssueKind.position, f"scenario.columns.{key}.kind")
        if kind == IssueKind.division:
            recipients = [str(r) for r in (spec.get("recipients") or actor_names)]
            unknown = [r for r in recipients if r not in actor_names]
            if unknown:
                raise UserError(
                    f"scenario.columns.{key}.recipients names '{unknown[0]}', not an actor: "
                    f"choose among {', '.join(actor_names)}"
                )
            division_recipients[str(key)] = recipients
            issues.extend(
                Column(
                    name=f"{key}.{r}",
                    low=f"nothing for {r}",
                    high=f"all of it for {r}",
                    description=str(spec.get("description") or ""),
                    division=str(key),
                )
                for r in recipients
            )
            continue
        issues.append(
            Column(
                name=str(key),
                low=str(_require(spec, "low", where, "label the end at 0 in words")),
                high=str(_require(spec, "high", where, "label the end at 1 in words")),
                description=str(spec.get("description") or ""),
                scale=_scale(spec.get("scale"), f"scenario.issues.{key}.scale"),
                marks=_marks(spec.get("marks") or {}, f"scenario.issues.{key}.marks"),
            )
        )
    positional = [str(key) for key in issues_cfg if str(key) not in division_recipients]
    issue_names = [str(key) for key in issues_cfg]

    rows: dict[str, list[Any]] = {
        key: []
        for key in (
            "display",
            "role",
            "ideal",
            "salience",
            "capability",
            "reservation",
            "concession",
            "patience",
            "client",
            "weight",
            "present",
            "strategy",
            "discount",
        )
    }
    for actor, spec in actors_cfg.items():
        where = f"actor '{actor}'"
        for key in REQUIRED_ACTOR_FIELDS:
            if key == "ideal" and not positional:
                continue
            _require(spec, key, where, f"add '{key}' to scenario.actors.{actor}")
        prefix = f"scenario.actors.{actor}"
        role = choice(Role, spec["role"], f"{prefix}.role")
        ideals = _issue_values(actor, "ideal", spec.get("ideal") or {}, positional)
        ideal_given = dict(zip(positional, ideals, strict=True))
        salience_given = dict(
            zip(
                issue_names,
                _issue_values(actor, "salience", spec["salience"], issue_names),
                strict=True,
            )
        )
        ideal = [
            (1.0 if column.name == f"{column.division}.{actor}" else 0.0)
            if column.division
            else ideal_given[column.name]
            for column in issues
        ]
        salience = [
            (salience_given[column.division] if column.name == f"{column.division}.{actor}" else 0.0)
            if column.division
            else salience_given[column.name]
            for column in issues
        ]
        strategy = str(spec.get("strategy") or "time_dependent")
        discount = _number(spec.get("discount", 1.0), f"{prefix}.discount", "discount")
        capability = _number(spec["capability"], f"{prefix}.capability", "capability")
        reservation = _number(spec["reservation"], f"{prefix}.reservation", "reservation")
        concession = _number(spec.get("concession", 1.0), f"{prefix}.concession", "concession")
        patience = spec.get("patience", 10)
        if isinstance(patience, bool) or not isinstance(patience, int):
            raise UserError(f"{prefix}.patience is {patience!r}: {RULES['patience'].fix}")
        check_values(patience, "patience", f"{prefix}.patience")
        client_name = spec.get("patron_of")
        weight = _given(spec.get("patron_weight", 0.0), f"{prefix}.patron_weight", "patron_weight")
        if client_name is None:
            client = -1
        else:
            if client_name not in actor_names:
                known = ", ".join(actor_names)
                raise UserError(f"{prefix}.patron_of is '{client_name}', not an actor: choose one of {known}")
            if client_name == actor:
                raise UserError(f"{prefix}.patron_of names the actor itself: name another actor")
            client = actor_names.index(client_name)
        weight = float(check_patron_weight(weight, client, f"{prefix}.patron_weight"))
        rows["display"].append(str(spec["name"]))
        rows["role"].append(role)
        rows["ideal"].append(ideal)
        rows["salience"].append(salience)
        rows["capability"].append(capability)
        rows["reservation"].append(reservation)
        rows["concession"].append(concession)
        rows["patience"].append(patience)
        rows["client"].append(client)
        rows["weight"].append(weight)
        rows["present"].append(bool(spec.get("present", True)))
        rows["strategy"].append(strategy)
        rows["discount"].append(discount)

    stated = np.array(rows["salience"], dtype=float)
    present = np.array(rows["present"], dtype=bool)
    check_some_salience(
        stated, present, lambda index: (f"scenario.actors.{actor_names[index[0]]}.salience", "")
    )
    normalised = normalise_salience(stated)

    exponent = utility_exponent(cfg.get("utility_exponent", 1))

    record: dict[str, Record] = {}
    for issue, spec in (cfg.get("record") or {}).items():
        if issue not in issue_names:
            raise UserError(
                f"scenario.record names unknown issue '{issue}': the issues are {', '.join(issue_names)}"
            )
        where = f"scenario.record.{issue}"
        low, high = (_record_bound(spec.get(end), f"{where}.{end}") for end in ("low", "high"))
        if low is not None and high is not None and low > high:
            raise UserError(f"{where}.low is {low:g}, above {where}.high {high:g}: give low <= high")
        record[str(issue)] = Record(
            agreed=bool(_require(spec, "agreed", where, "say true or false")),
            low=low,
            high=high,
            note=str(spec.get("note") or ""),
            disputed=str(spec.get("disputed") or ""),
        )

    decision = choice(Decision, cfg.get("decision") or Decision.unanimity, "scenario.decision")
    recognition = cfg.get("recognition")
    if recognition is not None:
        recognition = choice(Recognition, recognition, "scenario.recognition")

    roles = tuple(rows["role"])
    if not any(role == Role.signatory and here for role, here in zip(roles, present, strict=True)):
        raise UserError(
            f"scenario '{name}' has no signatory present: give at least one actor role 'signatory'"
        )

    labels = cfg.get("labels") or {}
    return Scenario(
        name=name,
        title=str(cfg.get("title") or name),
        columns=tuple(issues),
        actors=tuple(actor_names),
        display_names=tuple(rows["display"]),
        roles=roles,
        ideal=np.array(rows["ideal"], dtype=float),
        salience=normalised,
        capability=np.array(rows["capability"], dtype=float),
        reservation=np.array(rows["reservation"], dtype=float),
        concession=np.array(rows["concession"], dtype=float),
        patience=np.array(rows["patience"], dtype=int),
        client=np.array(rows["client"], dtype=int),
        patron_weight=np.array(rows["weight"], dtype=float),
        present=present,
        utility_exponent=exponent,
        record=record,
        source=str(cfg.get("source") or ""),
        stated_salience=stated,
        decision=decision,
        recognition=recognition,
        strategies=tuple(rows["strategy"]),
        discount=np.array(rows["discount"], dtype=float),
        labels={str(choice(Role, role, "scenario.labels")): str(label) for role, label in labels.items()},
        linked=linked_issues(cfg.get("linked"), issue_names),
    )


def linked_issues(value: Any, issues: list[str]) -> tuple[tuple[str, ...], ...]:
    """`scenario.linked`: groups of two or more issues that close together, each issue in one
    group at most (raises UserError)."""
    example = "e.g. scenario.linked=[[detainees,demining]]"
    if not value:
        return ()
    if isinstance(value, str) or not all(isinstance(group, (list, tuple)) for group in value):
        raise UserError(f"scenario.linked is {value!r}: give a list of groups of issues, {example}")
    seen: set[str] = set()
    groups = []
    for number, group in enumerate(value):
        names = [str(issue) for issue in group]
        unknown = [issue for issue in names if issue not in issues]
        if unknown:
            raise UserError(
                f"scenario.linked names unknown issue '{unknown[0]}': the issues are {', '.join(issues)}"
            )
        if len(set(names)) < 2:
            raise UserError(
                f"scenario.linked[{number}] is {names}: link two different issues or more, {example}"
            )
        twice = [issue for issue in names if issue in seen]
        if twice:
            raise UserError(
                f"issue '{twice[0]}' is in two groups of scenario.linked: merge them into one group"
            )
        seen.update(names)
        groups.append(tuple(dict.fromkeys(names)))
    return tuple(groups)


def choice[E: StrEnum](kind: type[E], value: Any, where: str) -> E:
    """`value` as a member of the enum `kind` (raises UserError naming the choices)."""
    try:
        return kind(str(value))
    except ValueError:
        raise UserError(
            f"{where} is '{value}': choose one of {', '.join(member.value for member in kind)}"
        ) from None
