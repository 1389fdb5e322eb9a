"""A negotiation's data: issues, actors and their preferences, as validated NumPy arrays.

A `Scenario` is what the model reads. It is built, with every check a user's input can fail,
from a scenario file (`sim.core.build`) or from a published table (`sim.tables.scenario`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

import numpy as np


class Role(StrEnum):
    """What an actor does at the table. Signatories are the veto players: they propose texts and
    must accept every agreed one; parties sign nothing, sway their patrons and may walk out;
    observers lend or withhold support; the mediator drafts compromise texts. A scenario may
    label a role in its own words (`Scenario.labels`: Astana's signatories are its guarantors)."""

    signatory = "signatory"
    party = "party"
    observer = "observer"
    mediator = "mediator"


class IssueKind(StrEnum):
    """A position on [0, 1], or a budget divided among actors (shares summing to one)."""

    position = "position"
    division = "division"


class Decision(StrEnum):
    """Which signatories must accept a text: all of them, or more than half."""

    unanimity = "unanimity"
    majority = "majority"


class Recognition(StrEnum):
    """Who proposes: in turn (`rotate`), uniformly at random, or with probability proportional to
    capability (Baron–Ferejohn)."""

    rotate = "rotate"
    random = "random"
    capability = "capability"


def normalise_salience(stated: np.ndarray) -> np.ndarray:
    """Saliences as an actor's utility weighs them: each actor's stated saliences (the last axis)
    divided by their sum, or all zero where they sum to zero."""
    totals = stated.sum(axis=-1, keepdims=True)
    return np.divide(stated, totals, out=np.zeros_like(stated), where=totals > 0)


@dataclass(frozen=True)
class Column:
    """One column of the issue space: a position on [0, 1] whose ends are labelled in words.

    A position issue is one column; a division (a budget among actors) is one column per
    recipient's share, each naming its division. Users name issues; the model's arrays have
    one entry per column.
    """

    name: str
    low: str
    high: str
    description: str = ""
    scale: tuple[float, float] = (0.0, 1.0)
    """The source's scale, for reporting a value back in the source's units."""
    marks: Mapping[float, str] = field(default_factory=dict)
    """Labelled points inside (0, 1), such as the status quo."""
    division: str = ""
    """For one recipient's share of a division (a budget among actors), the division's name."""

    @property
    def issue(self) -> str:
        """The issue this column belongs to: itself, or the division it is a share of."""
        return self.division or self.name

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
    disputed: str = ""
    """Where the sources disagree on this issue: the other account, with its source."""

    @property
    def band(self) -> tuple[float, float] | None:
        """The recorded range of an agreed issue on [0, 1], or None when the record gives none."""
        if not self.agreed or (self.low is None and self.high is None):
            return None
        return (0.0 if self.low is None else self.low, 1.0 if self.high is None else self.high)

    def matches(self, agreed: np.ndarray | bool, value: np.ndarray | float | None) -> np.ndarray:
        """Whether outcomes (arrays, or one) match the record: agreed or not as recorded, and an
        agreed value (None for a division) within the recorded band."""
        agreed = np.asarray(agreed, dtype=bool)
        inside: np.ndarray | bool = True
        if value is not None:
            lo = -math.inf if self.low is None else self.low
            hi = math.inf if self.high is None else self.high
            inside = (lo <= np.asarray(value)) & (np.asarray(value) <= hi)
        return (agreed == self.agreed) & (~agreed | inside)


@dataclass(frozen=True, eq=False)
class Scenario:
    """Actors (rows) and issues (columns) of one negotiation."""

    name: str
    title: str
    columns: tuple[Column, ...]
    actors: tuple[str, ...]
    display_names: tuple[str, ...]
    roles: tuple[Role, ...]
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
    stated_salience: np.ndarray = field(default_factory=lambda: np.empty(0))
    """Saliences as the source states them, before normalising: the weights of capability-and-
    salience-weighted means across actors (the compromise, drafts, targets). Defaults to `salience`."""

    decision: Decision = Decision.unanimity
    """Which signatories must accept a text: all of them, or more than half."""
    recognition: Recognition | None = None
    """Who proposes, when the scenario's institution prescribes it (`rotate` puts the first first)."""
    strategies: tuple[str, ...] = ()
    """Each actor's strategy (a name in `sim.strategies.STRATEGIES`); time-dependent by default."""
    discount: np.ndarray = field(default_factory=lambda: np.empty(0))
    """Each actor's discount factor per step, for the strategies that use one."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """The scenario's own words for the generic roles (Astana: signatory -> guarantor)."""
    linked: tuple[tuple[str, ...], ...] = ()
    """Groups of issues that close together or not at all (`scenario.linked`)."""

    def __post_init__(self) -> None:
        if self.stated_salience.size == 0:
            object.__setattr__(self, "stated_salience", self.salience)
        if not self.strategies:
            object.__setattr__(self, "strategies", ("time_dependent",) * self.n_actors)
        if self.discount.size == 0:
            object.__setattr__(self, "discount", np.ones(self.n_actors))

    @property
    def issue_names(self) -> tuple[str, ...]:
        """The issues as the user names them: a division's share columns count as one issue."""
        return tuple(dict.fromkeys(column.issue for column in self.columns))

    @property
    def n_issues(self) -> int:
        return len(self.issue_names)

    def issue_matrix(self) -> np.ndarray:
        """Columns (shape K) by issues (shape G): 1 where a column belongs to an issue."""
        issues = self.issue_names
        matrix = np.zeros((self.n_columns, len(issues)))
        for k, column in enumerate(self.columns):
            matrix[k, issues.index(column.issue)] = 1.0
        return matrix

    def divisions(self) -> dict[str, list[int]]:
        """Each division's name and its share columns."""
        out: dict[str, list[int]] = {}
        for k, column in enumerate(self.columns):
            if column.division:
                out.setdefault(column.division, []).append(k)
        return out

    def linked_columns(self) -> list[list[int]]:
        """The columns of each group of linked issues (a division's with all its share columns)."""
        return [
            [k for k, column in enumerate(self.columns) if column.issue in group] for group in self.linked
        ]

    def weights(self) -> np.ndarray:
        """Capability times stated salience, shape (actors, columns): how much each actor pulls a mean."""
        return self.capability[:, None] * self.stated_salience

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def n_actors(self) -> int:
        return len(self.actors)

    @property
    def n_columns(self) -> int:
        return len(self.columns)

    @cached_property
    def signatories(self) -> np.ndarray:
        """The veto players, who sign the texts (a mask over the actors, present or not; read-only)."""
        mask = np.array([role == Role.signatory for role in self.roles], dtype=bool)
        mask.setflags(write=False)
        return mask

    def role_label(self, index: int) -> str:
        """Actor `index`'s role in the scenario's own words (`labels`), else the generic name."""
        role = self.roles[index]
        return self.labels.get(role, role)

    def index(self, actor: str) -> int:
        return self.actors.index(actor)
