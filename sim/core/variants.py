"""Variants of a scenario's numbers, run side by side as the replications of one batch.

A `Variants` holds N parameter sets of one scenario, one array per parameter with a leading axis
of length N; replication i of a batch runs variant i with its own seed. They are checked by the
rules a scenario file's numbers follow (`sim.core.checks`), with messages that also name the
variant. `Parameters` is what the model reads: the scenario's arrays, with the leading axis of
variants on the parameters that vary.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from sim.core.checks import check_patron_weight, check_some_salience, check_values
from sim.core.scenario import Scenario, normalise_salience
from sim.errors import UserError

PER_COLUMN = ("ideal", "salience")
"""Parameters given per actor and issue column: shape (variants, actors, columns)."""
PER_ACTOR = ("capability", "reservation", "concession", "patron_weight", "discount")
"""Parameters given per actor: shape (variants, actors)."""
PARAMETERS = PER_COLUMN + PER_ACTOR
FIXED = ("name", "role", "patience", "patron_of", "present", "strategy")
"""An actor's keys that are the same in every replication of a batch."""


@dataclass(frozen=True, eq=False)
class Variants:
    """N variants of a scenario's numbers: each field None (the scenario's values in every
    variant) or an array with a leading axis of length N.

    `ideal` and `salience` have shape (N, actors, columns); `salience` holds saliences as stated
    (each actor's are normalised to sum to 1 per variant, as a scenario file's are). The others
    have shape (N, actors). `first` is the number of the first variant, so that the variants of
    a chunk of a batch are named by their number in the whole batch.
    """

    ideal: np.ndarray | None = None
    salience: np.ndarray | None = None
    capability: np.ndarray | None = None
    reservation: np.ndarray | None = None
    concession: np.ndarray | None = None
    patron_weight: np.ndarray | None = None
    discount: np.ndarray | None = None
    first: int = 0

    def __post_init__(self) -> None:
        lengths = set()
        for name in PARAMETERS:
            value = getattr(self, name)
            if value is None:
                continue
            array = np.ascontiguousarray(value, dtype=float)
            dimensions = 3 if name in PER_COLUMN else 2
            if array.ndim != dimensions:
                shape = "(variants, actors, columns)" if name in PER_COLUMN else "(variants, actors)"
                raise UserError(f"variants' {name} has shape {array.shape}: give an array of shape {shape}")
            object.__setattr__(self, name, array)
            lengths.add(len(array))
        if len(lengths) != 1 or 0 in lengths:
            raise UserError(
                "variants need at least one parameter, and the same number of variants (at least one) "
                f"in each: got {sorted(lengths) or 'none'}"
            )

    def __len__(self) -> int:
        return next(len(array) for array in self.given().values())

    def given(self) -> dict[str, np.ndarray]:
        """The parameters that the variants set, by name."""
        return {name: getattr(self, name) for name in PARAMETERS if getattr(self, name) is not None}

    def take(self, part: slice) -> Variants:
        """The variants in `part` (a slice of the variant axis), keeping their numbers."""
        start = part.indices(len(self))[0]
        arrays = {name: array[part] for name, array in self.given().items()}
        return Variants(**arrays, first=self.first + start)


@dataclass(frozen=True, eq=False)
class Parameters:
    """A scenario's numbers as the model reads them, for a batch of replications.

    Each array is the scenario's, or, where variants set it, has a leading axis with one row per
    replication: ideal points and saliences (normalised, and as stated) of shape (actors,
    columns) or (replications, actors, columns); the others (actors,) or (replications, actors).
    """

    ideal: np.ndarray
    salience: np.ndarray
    stated_salience: np.ndarray
    capability: np.ndarray
    reservation: np.ndarray
    concession: np.ndarray
    patron_weight: np.ndarray
    discount: np.ndarray
    first: int | None = None
    """The number of the variant in row 0; None when every replication has the scenario's numbers."""

    def weights(self) -> np.ndarray:
        """Capability times stated salience: how much each actor pulls a mean (`Scenario.weights`)."""
        return self.capability[..., None] * self.stated_salience

    def of_actor(self, name: str, index: int) -> Any:
        """Actor `index`'s value of parameter `name`: the scenario's (a float, or a row over the
        columns) where every replication has the same, else one row per replication, of shape
        (replications, 1) or (replications, columns), which broadcasts against the model's state."""
        values = getattr(self, name)
        if name in ("ideal", "salience", "stated_salience"):
            row = values[..., index, :]
            return row[0] if row.ndim == 2 and (row == row[0]).all() else row
        column = values[..., index]
        if column.ndim == 0:
            return float(column)
        return float(column[0]) if (column == column[0]).all() else column[:, None]

    def where(self, row: int) -> str:
        """Where replication `row`'s numbers come from, for a message: ' in variant N', or ''."""
        return "" if self.first is None else f" in variant {self.first + row}"


def parameters(scenario: Scenario, variants: Variants | None = None) -> Parameters:
    """The numbers the model reads: the scenario's, with the variants' where they are given
    (checked, raises UserError)."""
    if variants is None:
        return Parameters(
            ideal=scenario.ideal,
            salience=scenario.salience,
            stated_salience=scenario.stated_salience,
            capability=scenario.capability,
            reservation=scenario.reservation,
            concession=scenario.concession,
            patron_weight=scenario.patron_weight,
            discount=scenario.discount,
        )
    check_variants(scenario, variants)
    numbers = {name: getattr(scenario, name) for name in (*PER_ACTOR, "ideal")}
    numbers.update({name: values for name, values in variants.given().items() if name != "salience"})
    stated = variants.salience
    return Parameters(
        **numbers,
        salience=scenario.salience if stated is None else normalise_salience(stated),
        stated_salience=scenario.stated_salience if stated is None else stated,
        first=variants.first,
    )


def _key(scenario: Scenario, name: str, actor: int, column: int | None = None) -> str:
    key = f"scenario.actors.{scenario.actors[actor]}.{name}"
    return key if column is None else f"{key}.{scenario.columns[column].issue}"


def check_variants(scenario: Scenario, variants: Variants) -> None:
    """Every value of the variants follows the rule a scenario file's value follows (raises
    UserError naming the key and the variant); a division's columns keep their shape."""
    shape = (scenario.n_actors, scenario.n_columns)
    for name, values in variants.given().items():
        expected = shape if name in PER_COLUMN else shape[:1]
        if values.shape[1:] != expected:
            raise UserError(
                f"variants' {name} has shape {values.shape}: give ({len(values)}, "
                f"{', '.join(map(str, expected))}) for scenario '{scenario.name}'"
            )

        def where(index: tuple[int, ...], name: str = name) -> tuple[str, str]:
            return _key(scenario, name, *index[1:]), f" in variant {variants.first + index[0]}"

        if name == "patron_weight":
            check_patron_weight(values, scenario.client, where)
        else:
            check_values(values, name, where)
        if name == "salience":
            check_some_salience(values, scenario.present, _actor_place(scenario, variants.first))
    divisions = np.array([bool(column.division) for column in scenario.columns])
    for name, base in (("ideal", scenario.ideal), ("salience", scenario.stated_salience)):
        values = getattr(variants, name)
        if values is None or not divisions.any():
            continue
        fixed = divisions if name == "ideal" else divisions & (scenario.ideal == 0.0)
        changed = fixed & (values != base)
        if changed.any():
            variant, actor, column = np.argwhere(changed)[0]
            issue = scenario.columns[column].issue
            share = scenario.columns[column].name
            fix = (
                f"'{issue}' is a division, whose shares have no ideal point to vary"
                if name == "ideal"
                else f"an actor's salience on the division '{issue}' sits in its own share's column; "
                f"keep {share} at 0"
            )
            raise UserError(
                f"{_key(scenario, name, actor)} on {share} is {values[variant, actor, column]:g} "
                f"in variant {variants.first + variant}: {fix}"
            )


def variants_from_keys(scenario: Scenario, changes: Mapping[str, ArrayLike]) -> Variants:
    """Variants from override keys, each with one value per variant (raises UserError).

    Keys are those of the command line: `scenario.actors.A.ideal.I`, `scenario.actors.A.salience.I`
    (as stated), and `scenario.actors.A.P` for P in capability, reservation, concession,
    patron_weight and discount. What no key sets keeps the scenario's value.
    """
    if not changes:
        raise UserError(
            "no variants: give at least one key, such as scenario.actors.ACTOR.reservation, "
            "with one value per variant"
        )
    arrays: dict[str, np.ndarray] = {}
    count, counted_key = 0, ""
    for key, given in changes.items():
        name, actor, columns = _locate(scenario, str(key))
        values = np.asarray(given)
        if values.dtype.kind not in "iuf" or values.ndim != 1:
            raise UserError(f"{key} is not a sequence of numbers: give one number per variant")
        if not counted_key:
            count, counted_key = len(values), str(key)
        elif len(values) != count:
            raise UserError(
                f"{key} has {len(values)} values and {counted_key} has {count}: "
                "give every key one value per variant"
            )
        values = check_values(values, name, _variant_place(str(key)))
        if name not in arrays:
            base = scenario.stated_salience if name == "salience" else getattr(scenario, name)
            arrays[name] = np.repeat(base[None], count, axis=0)
        if columns is None:
            arrays[name][:, actor] = values
        else:
            arrays[name][:, actor, columns] = values[:, None]
    if count == 0:
        raise UserError("no variants: give each key at least one value")
    return Variants(**arrays)  # type: ignore[arg-type]


def _actor_place(scenario: Scenario, first: int) -> Callable[[tuple[int, ...]], tuple[str, str]]:
    """Where an actor's saliences stand: their key, and the variant (index: variant, actor)."""

    def place(index: tuple[int, ...]) -> tuple[str, str]:
        return _key(scenario, "salience", index[1]), f" in variant {first + index[0]}"

    return place


def _variant_place(key: str) -> Callable[[tuple[int, ...]], tuple[str, str]]:
    """Where a bad value of `key` stands: the key, and the variant it is in."""

    def place(index: tuple[int, ...]) -> tuple[str, str]:
        return key, f" in variant {index[0]}"

    return place


def _locate(scenario: Scenario, key: str) -> tuple[str, int, list[int] | None]:
    """The parameter, actor and issue columns an override key names (raises UserError)."""
    parts = key.split(".")
    if parts[:2] != ["scenario", "actors"] or len(parts) < 4:
        raise UserError(
            f"{key} cannot vary within one batch: variants vary scenario.actors.ACTOR.PARAMETER, "
            f"PARAMETER one of ideal.ISSUE, salience.ISSUE, {', '.join(PER_ACTOR)}"
        )
    actor, name = parts[2], parts[3]
    if actor not in scenario.actors:
        raise UserError(
            f"unknown key '{key}': '{actor}' is not in scenario.actors; it has: {', '.join(scenario.actors)}"
        )
    index = scenario.index(actor)
    prefix = f"scenario.actors.{actor}"
    if name in FIXED:
        raise UserError(
            f"{prefix}.{name} cannot vary within one batch: variants vary {', '.join(PARAMETERS)}; "
            "sweep it with -m"
        )
    if name not in PARAMETERS:
        raise UserError(
            f"unknown key '{key}': '{name}' is not in {prefix}; variants vary: {', '.join(PARAMETERS)}"
        )
    if name in PER_ACTOR:
        if len(parts) > 4:
            raise UserError(f"unknown key '{key}': {prefix}.{name} is one number, not one per issue")
        return name, index, None
    positional = [column.name for column in scenario.columns if not column.division]
    issues = positional if name == "ideal" else list(scenario.issue_names)
    if len(parts) == 4:
        raise UserError(
            f"unknown key '{key}': {prefix}.{name} is one number per issue: give "
            f"{prefix}.{name}.ISSUE, ISSUE one of {', '.join(issues)}"
        )
    if len(parts) != 5 or parts[4] not in issues:
        unknown = ".".join(parts[4:])
        raise UserError(
            f"unknown key '{key}': '{unknown}' is not in {prefix}.{name}; it has: {', '.join(issues)}"
        )
    issue = parts[4]
    columns = [
        k
        for k, column in enumerate(scenario.columns)
        if column.name == issue or column.name == f"{issue}.{actor}"
    ]
    return name, index, columns
