"""The rules a scenario's numbers follow, checked on whole arrays at once.

One rule per parameter: `sim.core.build` checks one scenario's numbers with it, one value at a
time, and `sim.core.variants` checks many variants of them, one array at a time. A value that
breaks its rule raises a one-line `UserError` naming the key, the value and the fix.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from sim.core.limits import MAX_STEPS
from sim.errors import UserError


@dataclass(frozen=True)
class Rule:
    """An interval of allowed values, and the fix to tell a user whose value leaves it."""

    low: float
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    fix: str = ""
    outside: bool = False
    """Whether the message says the value is outside the allowed range (per-issue values)."""

    def allows(self, values: np.ndarray) -> np.ndarray:
        above = values > self.low if self.low_open else values >= self.low
        below = values < self.high if self.high_open else values <= self.high
        return above & below


MAX_FLOAT_INTEGER = int(np.finfo(float).max)
"""The largest integer a float holds; past it an integer is read as infinite."""
MAX_MAGNITUDE = 1e100
"""The largest salience or capability: sums and products of them stay finite (a capability of
1e308 would overflow the table's total to inf). Both are relative, so any scale fits within it."""
MIN_CAPABILITY = 1e-100
"""The smallest capability: products with saliences stay clear of the subnormal numbers, whose
lost precision changes outcomes (capabilities near 1e-320 move the results)."""

RULES: dict[str, Rule] = {
    "ideal": Rule(0.0, 1.0, fix="give a number between 0 and 1", outside=True),
    "salience": Rule(0.0, MAX_MAGNITUDE, fix=f"give a number from 0 to {MAX_MAGNITUDE:g}", outside=True),
    "capability": Rule(
        MIN_CAPABILITY,
        MAX_MAGNITUDE,
        fix=f"give a positive number, from {MIN_CAPABILITY:g} to {MAX_MAGNITUDE:g}",
    ),
    "reservation": Rule(0.0, 1.0, high_open=True, fix="give a number in [0, 1)"),
    "concession": Rule(0.0, low_open=True, fix="give a positive number"),
    "patron_weight": Rule(0.0, 1.0, fix="give a number in [0, 1]"),
    "discount": Rule(0.0, 1.0, low_open=True, fix="give a number in (0, 1]"),
    "patience": Rule(1, MAX_STEPS, fix=f"give a whole number of steps from 1 to {MAX_STEPS} (MAX_STEPS)"),
}
"""Each numeric parameter of an actor and the values it may take."""

Where = Callable[[tuple[int, ...]], tuple[str, str]]
"""Names the value at an index of a checked array: its key, and where it sits beyond the key
(such as ' in variant 17'), or ''."""


def _where(where: Where | str) -> Where:
    return where if callable(where) else lambda _: (where, "")


def _first(bad: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(bad)[0])


def check_finite(values: ArrayLike, parameter: str, where: Where | str) -> np.ndarray:
    """`values` as floats, every one finite (raises UserError naming the first that is not; an
    integer past the largest float counts as infinite)."""
    try:
        array = np.asarray(values, dtype=float)
    except OverflowError:
        array = np.asarray(_floats(values), dtype=float)
    finite = np.isfinite(array)
    if not finite.all():
        index = _first(~finite)
        key, context = _where(where)(index)
        raise UserError(f"{key} is {array[index]:g}{context}, not a finite number: {RULES[parameter].fix}")
    return array


def _floats(values: ArrayLike) -> Any:
    """`values` with every integer too large for a float as an infinity of its sign."""
    if isinstance(values, list | tuple):
        return [_floats(value) for value in values]
    if isinstance(values, int) and abs(values) > MAX_FLOAT_INTEGER:
        return math.inf if values > 0 else -math.inf
    return values


def check_values(values: ArrayLike, parameter: str, where: Where | str) -> np.ndarray:
    """`values` as floats, every one finite and allowed by the parameter's rule (raises UserError
    naming the first that is not)."""
    rule = RULES[parameter]
    array = check_finite(values, parameter, where)
    allowed = rule.allows(array)
    if not allowed.all():
        index = _first(~allowed)
        key, context = _where(where)(index)
        outside = ", outside the allowed range" if rule.outside else ""
        raise UserError(f"{key} is {array[index]:g}{context}{outside}: {rule.fix}")
    return array


def check_patron_weight(values: ArrayLike, client: ArrayLike, where: Where | str) -> np.ndarray:
    """Patron weights as floats: zero where the actor has no client (`client` < 0), else in [0, 1]
    (raises UserError naming the first that is not)."""
    array = check_finite(values, "patron_weight", where)
    orphan = (array != 0.0) & (np.asarray(client) < 0)
    if orphan.any():
        index = _first(orphan)
        key, context = _where(where)(index)
        raise UserError(f"{key} is {array[index]:g}{context} but patron_of is unset: name the client")
    return check_values(array, "patron_weight", where)


def check_some_salience(stated: ArrayLike, present: ArrayLike, where: Where | str) -> None:
    """Every present actor gives some issue a salience above 0: with none, its utility ignores
    every text (raises UserError naming the first actor, `where` called with its index as
    (variant, actor) or (actor,))."""
    array = np.asarray(stated, dtype=float)
    silent = ~(array > 0).any(axis=-1) & np.asarray(present, dtype=bool)
    if silent.any():
        index = _first(silent)
        key, context = _where(where)(index)
        raise UserError(
            f"{key} is 0 on every issue{context}: give at least one issue a salience above 0 "
            "(or set present=false to leave the actor out)"
        )


def whole_number(value: Any, key: str, least: int) -> int:
    """A setting that must be a whole number of at least `least` (raises UserError naming `key`)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise UserError(f"{key} is {value!r}: give a whole number, {least} or more")
    return int(value)
