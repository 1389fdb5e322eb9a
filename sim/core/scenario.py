"""A negotiation's data: issues, actors and their preferences, as validated NumPy arrays.

A `Scenario` is built from the composed Hydra configuration (`Scenario.from_config`) and is
what the model reads. Every check that a user's input can fail lives here, so that a bad value
ends the run before any output is written.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.errors import UserError

ROLES = ("party", "guarantor", "observer", "mediator")
ISSUE_KINDS = ("position", "division")
DECISION_RULES = ("unanimity", "majority")
RECOGNITION_RULES = ("rotate", "random", "capability")
"""Guarantors sign (they propose and must all accept); parties influence their patrons and may
walk out; observers lend or withhold support; the mediator drafts compromise texts."""

REQUIRED_ACTOR_FIELDS = ("name", "role", "ideal", "salience", "capability", "reservation")


@dataclass(frozen=True)
class Issue:
    """One issue: a position on [0, 1] whose ends are labelled in words."""

    name: str
    low: str
    high: str
    description: str = ""
    scale: tuple[float, float] = (0.0, 1.0)
    """The source's scale, for reporting a value back in the source's units."""
    marks: Mapping[float, str] = field(default_factory=dict)
    """Labelled points inside (0, 1), such as the status quo."""
    group: str = ""
    """For one recipient's share of a division (a budget among actors), the division's name."""

    @property
    def issue(self) -> str:
        """The issue this column belongs to: itself, or the division it is a share of."""
        return self.group or self.name

    def to_source(self, value: float) -> float:
        lo, hi = self.scale
        return lo + value * (hi - lo)

    def describe(self, value: float) -> str:
        """Say in words where `value` lies: the nearest labelled mark, or between two of them."""
        points = sorted({0.0: self.low, 1.0: self.high, **self.marks}.items())
        nearest, label = min(points, key=lambda item: abs(item[0] - value))
        if abs(nearest - value) <= 0.05:
            return label
        below = max((p for p in points if p[0] < value), key=lambda p: p[0])
        above = min((p for p in points if p[0] > value), key=lambda p: p[0])
        return f"between '{below[1]}' and '{above[1]}'"


@dataclass(frozen=True)
class Record:
    """What the historical record says about one issue, to check an outcome against."""

    agreed: bool
    low: float | None = None
    high: float | None = None
    note: str = ""

    def matches(self, agreed: bool, value: float | None) -> bool:
        if agreed != self.agreed:
            return False
        if not agreed or value is None:
            return True
        lo = -math.inf if self.low is None else self.low
        hi = math.inf if self.high is None else self.high
        return lo <= value <= hi


@dataclass(frozen=True, eq=False)
class Scenario:
    """Actors (rows) and issues (columns) of one negotiation."""

    name: str
    title: str
    issues: tuple[Issue, ...]
    actors: tuple[str, ...]
    display_names: tuple[str, ...]
    roles: tuple[str, ...]
    ideal: np.ndarray
    """Ideal points, shape (actors, issues), on [0, 1]."""
    salience: np.ndarray
    """Saliences, shape (actors, issues), each row normalised to sum to 1 (or all zero): the
    weights of an actor's own utility."""
    capability: np.ndarray
    reservation: np.ndarray
    concession: np.ndarray
    """Concession exponent beta of the aspiration curve: < 1 Boulware, > 1 Conceder."""
    patience: np.ndarray
    client: np.ndarray
    """Index of the actor whose utility a patron weighs, or -1."""
    patron_weight: np.ndarray
    present: np.ndarray
    utility_exponent: int = 1
    record: Mapping[str, Record] = field(default_factory=dict)
    source: str = ""
    stated_salience: np.ndarray | None = None
    """Saliences as the source states them, before normalising: the weights of capability-and-
    salience-weighted means across actors (the compromise, drafts, targets). Defaults to `salience`."""

    decision: str = "unanimity"
    """Which guarantors must accept a text: all of them, or more than half."""
    recognition: str | None = None
    """Who proposes, when the scenario's institution prescribes it (`rotate` puts the first first)."""
    strategies: tuple[str, ...] = ()
    """Each actor's strategy (a name in `sim.strategies.STRATEGIES`); time-dependent by default."""
    discount: np.ndarray | None = None
    """Each actor's discount factor per step, for the strategies that use one."""

    def __post_init__(self) -> None:
        if self.stated_salience is None:
            object.__setattr__(self, "stated_salience", self.salience)
        if not self.strategies:
            object.__setattr__(self, "strategies", ("time_dependent",) * self.n_actors)
        if self.discount is None:
            object.__setattr__(self, "discount", np.ones(self.n_actors))

    @property
    def issue_groups(self) -> tuple[str, ...]:
        """The issues as the user names them: a division's share columns count as one issue."""
        return tuple(dict.fromkeys(column.issue for column in self.issues))

    @property
    def n_groups(self) -> int:
        return len(self.issue_groups)

    def group_matrix(self) -> np.ndarray:
        """Columns (shape K) by issues (shape G): 1 where a column belongs to an issue."""
        groups = self.issue_groups
        matrix = np.zeros((self.n_issues, len(groups)))
        for k, column in enumerate(self.issues):
            matrix[k, groups.index(column.issue)] = 1.0
        return matrix

    def divisions(self) -> dict[str, list[int]]:
        """Each division's name and its share columns."""
        out: dict[str, list[int]] = {}
        for k, column in enumerate(self.issues):
            if column.group:
                out.setdefault(column.group, []).append(k)
        return out

    def weights(self) -> np.ndarray:
        """Capability times stated salience, shape (actors, issues): how much each actor pulls a mean."""
        return self.capability[:, None] * self.stated_salience

    @property
    def issue_names(self) -> tuple[str, ...]:
        return tuple(issue.name for issue in self.issues)

    @property
    def n_actors(self) -> int:
        return len(self.actors)

    @property
    def n_issues(self) -> int:
        return len(self.issues)

    @property
    def veto(self) -> np.ndarray:
        """The veto players: guarantors, who sign the texts."""
        return np.array([role == "guarantor" for role in self.roles])

    def index(self, actor: str) -> int:
        return self.actors.index(actor)

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> Scenario:
        """Validate a scenario configuration (a mapping, e.g. a resolved DictConfig).

        With a `path`, or with neither issues nor actors, the scenario is a published table
        (`sim.tables.scenario`).
        """
        if cfg.get("path") or not (cfg.get("issues") or cfg.get("actors")):
            from sim.tables.scenario import scenario_from_config

            return scenario_from_config(cfg)
        return _build(cfg)


def _number(value: Any, where: str, fix: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UserError(f"{where} is {value!r}, not a number: {fix}")
    number = float(value)
    if not math.isfinite(number):
        raise UserError(f"{where} is {value!r}, not a finite number: {fix}")
    return number


def _require(mapping: Mapping[str, Any], key: str, where: str, fix: str) -> Any:
    if key not in mapping or mapping[key] is None or mapping[key] in ("???", ""):
        raise UserError(f"{where} has no '{key}': {fix}")
    return mapping[key]


def _issue_values(
    actor: str, kind: str, values: Mapping[str, Any], issues: list[str], lo: float, hi: float | None
) -> list[float]:
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
    out = []
    for issue in issues:
        where = f"scenario.actors.{actor}.{kind}.{issue}"
        bound = f"between {lo:g} and {hi:g}" if hi is not None else f"at least {lo:g}"
        number = _number(values[issue], where, f"give a number {bound}")
        if number < lo or (hi is not None and number > hi):
            raise UserError(f"{where} is {number:g}, outside the allowed range: give a number {bound}")
        out.append(number)
    return out


def utility_exponent(value: Any) -> int:
    """The exponent p of the losses |x - x*|^p, checked (raises UserError)."""
    if isinstance(value, bool) or value not in (1, 2):
        raise UserError(f"scenario.utility_exponent is {value!r}: choose 1 (linear) or 2 (quadratic)")
    return int(value)


def _build(cfg: Mapping[str, Any]) -> Scenario:
    from sim.strategies import STRATEGIES

    fix_file = "add it to the scenario file"
    name = str(_require(cfg, "name", "the scenario", fix_file))
    issues_cfg = _require(cfg, "issues", f"scenario '{name}'", fix_file)
    actors_cfg = _require(cfg, "actors", f"scenario '{name}'", fix_file)
    if not issues_cfg:
        raise UserError(f"scenario '{name}' has no issues: list at least one under 'issues'")
    if not actors_cfg:
        raise UserError(f"scenario '{name}' has no actors: list at least one under 'actors'")

    actor_names = [str(key) for key in actors_cfg]
    issues: list[Issue] = []
    division_recipients: dict[str, list[str]] = {}
    for key, spec in issues_cfg.items():
        where = f"issue '{key}'"
        kind = str(spec.get("kind") or "position")
        if kind not in ISSUE_KINDS:
            raise UserError(f"scenario.issues.{key}.kind is '{kind}': choose one of {', '.join(ISSUE_KINDS)}")
        if kind == "division":
            recipients = [str(r) for r in (spec.get("recipients") or actor_names)]
            unknown = [r for r in recipients if r not in actor_names]
            if unknown:
                raise UserError(
                    f"scenario.issues.{key}.recipients names '{unknown[0]}', not an actor: "
                    f"choose among {', '.join(actor_names)}"
                )
            division_recipients[str(key)] = recipients
            issues.extend(
                Issue(
                    name=f"{key}.{r}",
                    low=f"nothing for {r}",
                    high=f"all of it for {r}",
                    description=str(spec.get("description") or ""),
                    group=str(key),
                )
                for r in recipients
            )
            continue
        scale = spec.get("scale") or (0.0, 1.0)
        issues.append(
            Issue(
                name=str(key),
                low=str(_require(spec, "low", where, "label the end at 0 in words")),
                high=str(_require(spec, "high", where, "label the end at 1 in words")),
                description=str(spec.get("description") or ""),
                scale=(float(scale[0]), float(scale[1])),
                marks={float(at): str(label) for at, label in (spec.get("marks") or {}).items()},
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
        role = str(spec["role"])
        if role not in ROLES:
            raise UserError(f"{prefix}.role is '{role}': choose one of {', '.join(ROLES)}")
        ideals = _issue_values(actor, "ideal", spec.get("ideal") or {}, positional, 0.0, 1.0)
        ideal_given = dict(zip(positional, ideals, strict=True))
        salience_given = dict(
            zip(
                issue_names,
                _issue_values(actor, "salience", spec["salience"], issue_names, 0.0, None),
                strict=True,
            )
        )
        ideal = [
            (1.0 if column.name == f"{column.group}.{actor}" else 0.0)
            if column.group
            else ideal_given[column.name]
            for column in issues
        ]
        salience = [
            (salience_given[column.group] if column.name == f"{column.group}.{actor}" else 0.0)
            if column.group
            else salience_given[column.name]
            for column in issues
        ]
        strategy = str(spec.get("strategy") or "time_dependent")
        if strategy not in STRATEGIES:
            raise UserError(f"{prefix}.strategy is '{strategy}': choose one of {', '.join(STRATEGIES)}")
        discount = _number(spec.get("discount", 1.0), f"{prefix}.discount", "give a number in (0, 1]")
        if not 0.0 < discount <= 1.0:
            raise UserError(f"{prefix}.discount is {discount:g}: give a number in (0, 1]")
        capability = _number(spec["capability"], f"{prefix}.capability", "give a positive number")
        if capability <= 0:
            raise UserError(f"{prefix}.capability is {capability:g}: give a positive number")
        reservation = _number(spec["reservation"], f"{prefix}.reservation", "give a number in [0, 1)")
        if not 0.0 <= reservation < 1.0:
            raise UserError(f"{prefix}.reservation is {reservation:g}: give a number in [0, 1)")
        concession = _number(spec.get("concession", 1.0), f"{prefix}.concession", "give a positive number")
        if concession <= 0:
            raise UserError(f"{prefix}.concession is {concession:g}: give a positive number")
        patience = spec.get("patience", 10)
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise UserError(f"{prefix}.patience is {patience!r}: give a whole number of steps, 1 or more")
        client_name = spec.get("patron_of")
        weight = _number(spec.get("patron_weight", 0.0), f"{prefix}.patron_weight", "give a number in [0, 1]")
        if client_name is None:
            client = -1
            if weight != 0.0:
                raise UserError(
                    f"{prefix}.patron_weight is {weight:g} but patron_of is unset: name the client"
                )
        else:
            if client_name not in actor_names:
                known = ", ".join(actor_names)
                raise UserError(f"{prefix}.patron_of is '{client_name}', not an actor: choose one of {known}")
            if client_name == actor:
                raise UserError(f"{prefix}.patron_of names the actor itself: name another actor")
            if not 0.0 <= weight <= 1.0:
                raise UserError(f"{prefix}.patron_weight is {weight:g}: give a number in [0, 1]")
            client = actor_names.index(client_name)
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
    totals = stated.sum(axis=1, keepdims=True)
    salience = np.divide(stated, totals, out=np.zeros_like(stated), where=totals > 0)

    exponent = utility_exponent(cfg.get("utility_exponent", 1))

    record: dict[str, Record] = {}
    for issue, spec in (cfg.get("record") or {}).items():
        if issue not in issue_names:
            raise UserError(
                f"scenario.record names unknown issue '{issue}': the issues are {', '.join(issue_names)}"
            )
        record[str(issue)] = Record(
            agreed=bool(_require(spec, "agreed", f"scenario.record.{issue}", "say true or false")),
            low=spec.get("low"),
            high=spec.get("high"),
            note=str(spec.get("note") or ""),
        )

    decision = str(cfg.get("decision") or "unanimity")
    if decision not in DECISION_RULES:
        raise UserError(f"scenario.decision is '{decision}': choose one of {', '.join(DECISION_RULES)}")
    recognition = cfg.get("recognition")
    if recognition is not None and recognition not in RECOGNITION_RULES:
        raise UserError(
            f"scenario.recognition is '{recognition}': choose one of {', '.join(RECOGNITION_RULES)}"
        )

    roles = tuple(rows["role"])
    present = np.array(rows["present"], dtype=bool)
    if not any(role == "guarantor" and here for role, here in zip(roles, present, strict=True)):
        raise UserError(
            f"scenario '{name}' has no guarantor present: give at least one actor role 'guarantor'"
        )

    scenario = Scenario(
        name=name,
        title=str(cfg.get("title") or name),
        issues=tuple(issues),
        actors=tuple(actor_names),
        display_names=tuple(rows["display"]),
        roles=roles,
        ideal=np.array(rows["ideal"], dtype=float),
        salience=salience,
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
    )
    for index, strategy in enumerate(scenario.strategies):
        STRATEGIES[strategy].check(scenario, index)
    return scenario


def weighted_position(
    values: np.ndarray, weights: np.ndarray, include: np.ndarray | bool = True
) -> np.ndarray:
    """The weighted mean of `values` over the actor axis (second to last), counting only `include`.

    `values`, `weights` and `include` broadcast to (..., actors, issues). Where the included
    actors' weights sum to zero, every included actor counts equally; where none is included,
    the result is NaN.
    """
    values, weights, include = np.broadcast_arrays(values, weights, include)
    counted = np.where(include, 1.0, 0.0)
    known = np.where(include, values, 0.0)
    weights = np.where(include, weights, 0.0)
    total, count = weights.sum(axis=-2), counted.sum(axis=-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        weighted = (weights * known).sum(axis=-2) / total
        plain = known.sum(axis=-2) / count
    return np.where(total > 0, weighted, plain)
