"""Axiomatic bargaining solutions: Nash, Kalai-Smorodinsky, utilitarian and egalitarian.

Two layers share one optimisation core.

The generic layer works on a bargaining problem given by a decision vector z in a box (optionally
also satisfying linear inequalities A z ≤ b) and a vector utility function u(z), one entry per
player, each concave in z, with a disagreement point d. Every solution is taken over the
individually rational part {u(z) ≥ d} of the feasible set and is returned as a `BargainingPoint`
(decision vector, utility vector), or None when that part is empty (for Nash: when no z gives
every player strictly more than d_i), because the bargaining problem is then undefined.

The issue-space layer, `IssueSpace`, is the simulation's spatial model: actor i with ideal point
x*_i in [0, 1]^K, saliences s_i and exponent p in {1, 2} has u_i(x) = 1 - Σ_k s_ik |x_k - x*_ik|^p
and disagreement value r_i (its reservation utility). It maps the issue space onto a decision
vector for the generic layer: for p = 2 the issue positions themselves; for p = 1 the lengths
travelled along the segments between consecutive ideal points of each issue, in which every
utility is affine, so that the non-smooth problem becomes a smooth one over a box and the
linear concepts become linear programmes.

Solvers: every concept but Nash is a concave programme "maximise w·u(z) + t subject to
u(z) ≥ a + t·b", solved by HiGHS when u is affine and by SLSQP otherwise. The Nash programme is
solved by SLSQP on its epigraph form, or, when u is affine, by Newton's method on its dual,
which gives the Nash gains, followed by the linear programme that finds the frontier point
along them.

References: J. F. Nash (1950), "The bargaining problem", Econometrica 18, 155-162;
E. Kalai and M. Smorodinsky (1975), "Other solutions to Nash's bargaining problem",
Econometrica 43, 513-518; E. Kalai (1977), "Nonsymmetric Nash solutions and replications of
2-person bargaining", Int. J. Game Theory 6, 129-133; A. E. Roth (1979), Axiomatic Models of
Bargaining, Springer; E. Kalai (1977), "Proportional solutions to bargaining situations:
interpersonal utility comparisons", Econometrica 45, 1623-1630; R. B. Myerson (1981),
"Utilitarianism, egalitarianism, and the timing effect in social choice problems",
Econometrica 49, 883-897; H. P. Benson (1978), "Existence of efficient solutions for vector
maximization problems", J. Optim. Theory Appl. 26, 569-580.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import linprog, minimize

FEASIBILITY_TOLERANCE = 1e-9
"""Slack allowed on utility constraints, and the gain below which a point counts as no gain."""

_SLSQP_OPTIONS = {"maxiter": 1000, "ftol": 1e-12}
_CONSTRAINT_VIOLATION_LIMIT = 1e-6

UtilityFunction = Callable[[np.ndarray], np.ndarray]
"""Maps a decision vector (m,) to the players' utilities (n,); each entry concave."""

LinearInequalities = tuple[ArrayLike, ArrayLike]
"""(A, b) for the constraints A z ≤ b on the decision vector z."""


class BargainingPoint(NamedTuple):
    """A solution: the decision vector and the utility vector it gives."""

    decision: np.ndarray
    utility: np.ndarray


@runtime_checkable
class DifferentiableUtility(Protocol):
    """A utility function that also gives its Jacobian, shape (n, m)."""

    def __call__(self, decision: np.ndarray) -> np.ndarray: ...

    def jacobian(self, decision: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class AffineUtility:
    """u(z) = offset + matrix @ z; problems with affine utilities are solved as linear programmes."""

    offset: np.ndarray
    matrix: np.ndarray

    def __call__(self, decision: np.ndarray) -> np.ndarray:
        return self.offset + self.matrix @ decision

    def jacobian(self, decision: np.ndarray) -> np.ndarray:
        return self.matrix


@dataclass(frozen=True)
class SmoothUtility:
    """A utility function paired with its analytic Jacobian."""

    value: UtilityFunction
    derivative: Callable[[np.ndarray], np.ndarray]

    def __call__(self, decision: np.ndarray) -> np.ndarray:
        return self.value(decision)

    def jacobian(self, decision: np.ndarray) -> np.ndarray:
        return self.derivative(decision)


@dataclass(frozen=True)
class _FeasibleSet:
    """The decision box, the optional linear inequalities, and the utility on them."""

    utility: UtilityFunction
    lower: np.ndarray
    upper: np.ndarray
    constraint_matrix: np.ndarray | None = None
    constraint_bound: np.ndarray | None = None
    n_players: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_players", len(self.values(self.centre)))

    @classmethod
    def build(
        cls, utility: UtilityFunction, bounds: ArrayLike, constraints: LinearInequalities | None
    ) -> _FeasibleSet:
        box = np.asarray(bounds, dtype=float).reshape(-1, 2)
        if np.any(box[:, 0] > box[:, 1]):
            raise ValueError("each bound must be a pair (low, high) with low ≤ high")
        matrix = bound = None
        if constraints is not None:
            matrix = np.atleast_2d(np.asarray(constraints[0], dtype=float))
            bound = np.atleast_1d(np.asarray(constraints[1], dtype=float))
        return cls(utility, box[:, 0].copy(), box[:, 1].copy(), matrix, bound)

    @property
    def dimension(self) -> int:
        return len(self.lower)

    @property
    def centre(self) -> np.ndarray:
        return (self.lower + self.upper) / 2

    @property
    def is_affine(self) -> bool:
        return isinstance(self.utility, AffineUtility)

    def values(self, decision: np.ndarray) -> np.ndarray:
        return np.atleast_1d(np.asarray(self.utility(decision), dtype=float))

    def jacobian(self, decision: np.ndarray) -> np.ndarray:
        """The utility Jacobian (n, m): analytic if the utility gives one, else forward differences."""
        if isinstance(self.utility, DifferentiableUtility):
            return np.asarray(self.utility.jacobian(decision), dtype=float).reshape(
                self.n_players, self.dimension
            )
        base = self.values(decision)
        columns = []
        for j in range(self.dimension):
            step = 1.49e-8 * max(1.0, abs(decision[j]))
            if decision[j] + step > self.upper[j]:
                step = -step
            shifted = decision.copy()
            shifted[j] += step
            columns.append((self.values(shifted) - base) / step)
        return np.column_stack(columns) if columns else np.zeros((len(base), 0))

    def box(self) -> list[tuple[float, float]]:
        return list(zip(self.lower.tolist(), self.upper.tolist(), strict=True))

    def linear_constraint_for_slsqp(self, extra: int) -> list[dict[str, Any]]:
        """A z ≤ b as an SLSQP inequality on (z, extra trailing variables)."""
        if self.constraint_matrix is None:
            return []
        matrix = self.constraint_matrix
        padded = np.hstack([matrix, np.zeros((len(matrix), extra))])
        return [
            {
                "type": "ineq",
                "fun": lambda v: self.constraint_bound - matrix @ v[: self.dimension],
                "jac": lambda v: -padded,
            }
        ]


def _maximise(
    feasible: _FeasibleSet,
    weights: np.ndarray,
    lower: np.ndarray,
    slope: np.ndarray,
    scalar_bounds: tuple[float | None, float | None],
    start: np.ndarray | None = None,
) -> tuple[np.ndarray, float] | None:
    """Maximise weights·u(z) + t subject to u(z) ≥ lower + slope·t, z feasible, t in scalar_bounds.

    Every concept except Nash is an instance of this concave programme. Returns (z, t), or None
    if it has no feasible point.
    """
    m = feasible.dimension
    if feasible.is_affine:
        return _maximise_linear(feasible, weights, lower, slope, scalar_bounds)
    z0 = feasible.centre if start is None else np.clip(start, feasible.lower, feasible.upper)
    gains = feasible.values(z0) - lower
    rising = slope > 0
    t0 = float(np.min(gains[rising] / slope[rising])) if rising.any() else 0.0
    t_low, t_high = scalar_bounds
    t0 = float(np.clip(t0, -np.inf if t_low is None else t_low, np.inf if t_high is None else t_high))

    def objective(v: np.ndarray) -> float:
        return -float(weights @ feasible.values(v[:m])) - v[m]

    def objective_gradient(v: np.ndarray) -> np.ndarray:
        return -np.append(weights @ feasible.jacobian(v[:m]), 1.0)

    constraints = [
        {
            "type": "ineq",
            "fun": lambda v: feasible.values(v[:m]) - lower - slope * v[m],
            "jac": lambda v: np.hstack([feasible.jacobian(v[:m]), -slope[:, None]]),
        },
        *feasible.linear_constraint_for_slsqp(extra=1),
    ]
    result = minimize(
        objective,
        np.append(z0, t0),
        jac=objective_gradient,
        bounds=[*feasible.box(), scalar_bounds],
        constraints=constraints,
        method="SLSQP",
        options=_SLSQP_OPTIONS,
    )
    if _violation(feasible, result.x[:m], lower + slope * result.x[m]) > _CONSTRAINT_VIOLATION_LIMIT:
        return None
    return result.x[:m], float(result.x[m])


def _maximise_linear(
    feasible: _FeasibleSet,
    weights: np.ndarray,
    lower: np.ndarray,
    slope: np.ndarray,
    scalar_bounds: tuple[float | None, float | None],
) -> tuple[np.ndarray, float] | None:
    """`_maximise` for affine utilities, as a linear programme solved by HiGHS."""
    assert isinstance(feasible.utility, AffineUtility)
    offset, matrix = feasible.utility.offset, feasible.utility.matrix
    cost = -np.append(weights @ matrix, 1.0)
    rows = np.hstack([-matrix, slope[:, None]])
    limits = offset - lower
    if feasible.constraint_matrix is not None:
        extra = np.hstack([feasible.constraint_matrix, np.zeros((len(feasible.constraint_matrix), 1))])
        rows = np.vstack([rows, extra])
        limits = np.concatenate([limits, feasible.constraint_bound])
    result = linprog(cost, A_ub=rows, b_ub=limits, bounds=[*feasible.box(), scalar_bounds], method="highs")
    if result.status == 2:
        return None
    if result.status != 0:
        raise RuntimeError(f"HiGHS failed on a bargaining programme: {result.message}")
    return result.x[: feasible.dimension], float(result.x[-1])


def _violation(feasible: _FeasibleSet, decision: np.ndarray, required: np.ndarray) -> float:
    """The largest shortfall of u(z) below `required` or of A z above b."""
    shortfall = float(np.max(required - feasible.values(decision), initial=0.0))
    if feasible.constraint_matrix is not None:
        excess = feasible.constraint_matrix @ decision - feasible.constraint_bound
        shortfall = max(shortfall, float(np.max(excess, initial=0.0)))
    return shortfall


def _largest_equal_gain(feasible: _FeasibleSet, disagreement: np.ndarray) -> tuple[np.ndarray, float]:
    """The max-min programme max_z min_i (u_i(z) - d_i): its maximiser and value."""
    n = feasible.n_players
    solution = _maximise(feasible, np.zeros(n), disagreement, np.ones(n), (None, None))
    if solution is None:
        raise RuntimeError("the max-min programme found no feasible point; check bounds and constraints")
    return solution


def _best_total(
    feasible: _FeasibleSet, weights: np.ndarray, floor: np.ndarray, start: np.ndarray
) -> BargainingPoint:
    """The point maximising Σ w_i u_i subject to u ≥ floor, or `start` (which meets the floor) if
    the solver finds none."""
    n = feasible.n_players
    solution = _maximise(feasible, weights, floor - FEASIBILITY_TOLERANCE, np.zeros(n), (0.0, 0.0), start)
    decision = start if solution is None else solution[0]
    return BargainingPoint(decision, feasible.values(decision))


def _setup(
    utility: UtilityFunction,
    bounds: ArrayLike,
    disagreement: ArrayLike,
    constraints: LinearInequalities | None,
) -> tuple[_FeasibleSet, np.ndarray]:
    feasible = _FeasibleSet.build(utility, bounds, constraints)
    d = np.atleast_1d(np.asarray(disagreement, dtype=float))
    if feasible.n_players == 0:
        raise ValueError("the utility function gives no players")
    if d.shape != (feasible.n_players,):
        raise ValueError(f"disagreement has {d.size} entries for {feasible.n_players} players")
    return feasible, d


def _player_weights(weights: ArrayLike | None, n: int, positive: bool = False) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=float)
    if positive and (w.shape != (n,) or np.any(w <= 0)):
        raise ValueError(f"bargaining powers must be {n} positive numbers")
    if w.shape != (n,) or np.any(w < 0) or not np.any(w > 0):
        raise ValueError(f"weights must be {n} non-negative numbers, not all zero")
    return w


def _nash_by_slsqp(
    feasible: _FeasibleSet, disagreement: np.ndarray, weights: np.ndarray, start: np.ndarray, gain: float
) -> np.ndarray:
    """Maximise Σ w_i φ(u_i(z) - d_i) by SLSQP from the max-min point, φ being log above a floor e
    and its second-order Taylor extension below, so that every trial point has a finite value.

    The optimality condition of the Nash point v* against the max-min point, whose gains are all
    at least `gain`, gives v*_i ≥ w_i·gain/Σw; with e below that bound, the concave function
    Σ w φ has the same maximiser as the Nash product.
    """
    if feasible.dimension == 0:
        return start
    floor = 0.5 * gain * weights.min() / weights.sum()

    def log_extended(v: np.ndarray) -> np.ndarray:
        below = np.minimum(v - floor, 0.0)
        return np.log(np.maximum(v, floor)) + below / floor - below**2 / (2 * floor**2)

    def log_extended_slope(v: np.ndarray) -> np.ndarray:
        return 1 / np.maximum(v, floor) - np.minimum(v - floor, 0.0) / floor**2

    def objective(z: np.ndarray) -> float:
        return -float(weights @ log_extended(feasible.values(z) - disagreement))

    def objective_gradient(z: np.ndarray) -> np.ndarray:
        return -(weights * log_extended_slope(feasible.values(z) - disagreement)) @ feasible.jacobian(z)

    result = minimize(
        objective,
        start,
        jac=objective_gradient,
        bounds=feasible.box() or None,
        constraints=feasible.linear_constraint_for_slsqp(extra=0),
        method="SLSQP",
        options=_SLSQP_OPTIONS,
    )
    if _violation(feasible, result.x, disagreement + floor) > _CONSTRAINT_VIOLATION_LIMIT:
        raise RuntimeError(f"SLSQP failed on the Nash programme: {result.message}")
    return result.x


def _box_barrier_response(
    price: np.ndarray, low: np.ndarray, width: np.ndarray, mu: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each coordinate, y maximising price·y + mu log(y - low) + mu log(low + width - y):
    the maximiser, the maximum, and the derivative of the maximiser with respect to the price."""
    beta = price * width / mu
    root = np.hypot(beta, 2.0)
    spread = np.where(beta > 0, 4.0 / (np.abs(beta) + root), root - beta)
    share, rest = 2.0 / (2.0 + spread), spread / (2.0 + spread)
    response = low + width * share
    value = price * response + mu * (np.log(width * share) + np.log(width * rest))
    slope = width**2 / mu * (share * rest) ** 2 / (share**2 + rest**2)
    return response, value, slope


def _nash_gains_by_dual(
    feasible: _FeasibleSet, disagreement: np.ndarray, weights: np.ndarray
) -> np.ndarray | None:
    """The gains u - d at the Nash point for affine u, from the dual of the Nash programme with a
    vanishing log-barrier mu on the box and the linear inequalities, by damped Newton steps
    (Boyd & Vandenberghe 2004, Convex Optimization, ch. 5 and 11).

    With slacks s = q + R y (the players' gains, then b - A z) and their weights c (the shares
    w / Σw, then mu), the dual is min over prices p > 0 of Σ_k (p_k q_k - c_k log p_k) +
    Σ_j ψ_j((Rᵀp)_j), ψ_j the value of the box-barrier problem in y_j: one variable per player
    and inequality, whatever the number of decision variables. The gains are then the shares
    divided by the prices. Returns None if Newton's method fails, as when the inequalities leave
    no interior.
    """
    assert isinstance(feasible.utility, AffineUtility)
    movable = feasible.upper > feasible.lower
    base = np.where(movable, 0.0, feasible.lower)
    low = feasible.lower[movable]
    width = feasible.upper[movable] - low
    rows = feasible.utility.matrix[:, movable]
    offsets = feasible.values(base) - disagreement
    if feasible.constraint_matrix is not None:
        rows = np.vstack([rows, -feasible.constraint_matrix[:, movable]])
        offsets = np.concatenate([offsets, feasible.constraint_bound - feasible.constraint_matrix @ base])
    shares = weights / weights.sum()
    n_inequalities = len(rows) - len(shares)
    mu = 0.1
    prices = np.ones(len(rows))

    def dual(prices: np.ndarray) -> float:
        box_value = _box_barrier_response(rows.T @ prices, low, width, mu)[1].sum()
        return float(prices @ offsets - row_weights @ np.log(prices) + box_value)

    while mu >= 1e-10:
        row_weights = np.concatenate([shares, np.full(n_inequalities, mu)])
        for _ in range(200):
            response, _value, slope = _box_barrier_response(rows.T @ prices, low, width, mu)
            gradient = offsets + rows @ response - row_weights / prices
            curvature = (rows * slope) @ rows.T
            curvature[np.diag_indices_from(curvature)] += row_weights / prices**2
            try:
                step = -np.linalg.solve(curvature, gradient)
            except np.linalg.LinAlgError:  # a degenerate problem: the general solver takes it
                return None
            decrement = -float(gradient @ step)
            if not np.isfinite(decrement):
                return None
            falling = step < 0
            with np.errstate(over="ignore"):  # a vanishing step allows an infinite one: capped at 1
                size = min(1.0, 0.99 * float(np.min(-prices[falling] / step[falling], initial=np.inf)))
            if decrement <= 1e-10 and size == 1.0:
                prices = prices + step
                break
            current = dual(prices)
            while dual(prices + size * step) > current - 0.01 * size * decrement and size > 1e-12:
                size /= 2
            prices = prices + size * step
        else:
            return None
        mu /= 10
    return shares / prices[: len(shares)]


def _frontier_along(
    feasible: _FeasibleSet,
    origin: np.ndarray,
    direction: np.ndarray,
    start: np.ndarray,
    limit: float | None = None,
) -> BargainingPoint:
    """A point with u ≥ origin + t·direction for the largest t (up to `limit`), then improved to the
    largest total utility that leaves nobody worse off, so that it is Pareto-efficient even where
    the frontier has flat parts."""
    n = feasible.n_players
    floor = origin - FEASIBILITY_TOLERANCE
    solution = _maximise(feasible, np.zeros(n), floor, direction, (0.0, limit), start)
    reached = start if solution is None else solution[0]
    return _best_total(feasible, np.ones(n), feasible.values(reached), reached)


def nash_solution(
    utility: UtilityFunction,
    bounds: ArrayLike,
    disagreement: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    constraints: LinearInequalities | None = None,
) -> BargainingPoint | None:
    """The (weighted) Nash bargaining solution: argmax Σ w_i log(u_i - d_i) over u > d.

    Nash (1950); with positive bargaining powers w (equal by default), Kalai (1977) and Roth
    (1979). Returns None when no feasible point gives every player strictly more than d_i.
    """
    feasible, d = _setup(utility, bounds, disagreement, constraints)
    w = _player_weights(weights, feasible.n_players, positive=True)
    start, gain = _largest_equal_gain(feasible, d)
    if gain <= FEASIBILITY_TOLERANCE:
        return None
    if feasible.is_affine:
        gains = _nash_gains_by_dual(feasible, d, w)
        if gains is not None:
            return _frontier_along(feasible, d, gains, start)
    decision = _nash_by_slsqp(feasible, d, w, start, gain)
    return BargainingPoint(decision, feasible.values(decision))


def kalai_smorodinsky(
    utility: UtilityFunction,
    bounds: ArrayLike,
    disagreement: ArrayLike,
    *,
    constraints: LinearInequalities | None = None,
) -> BargainingPoint | None:
    """The Kalai-Smorodinsky solution (Kalai & Smorodinsky 1975).

    The largest λ with u ≥ d + λ(U - d) feasible, U_i being i's best utility subject to u ≥ d;
    among the points reaching λ, the one of largest total utility, so that on a set whose
    frontier is not strictly Pareto the point returned is still Pareto-efficient. Returns None
    when no feasible point has u ≥ d.
    """
    feasible, d = _setup(utility, bounds, disagreement, constraints)
    n = feasible.n_players
    start, gain = _largest_equal_gain(feasible, d)
    if gain < -FEASIBILITY_TOLERANCE:
        return None
    floor = d - FEASIBILITY_TOLERANCE
    ideal = np.empty(n)
    for i in range(n):
        best = _maximise(feasible, np.eye(n)[i], floor, np.zeros(n), (0.0, 0.0), start)
        ideal[i] = feasible.values(start)[i] if best is None else feasible.values(best[0])[i]
    return _frontier_along(feasible, d, np.maximum(ideal - d, 0.0), start, limit=1.0)


def utilitarian(
    utility: UtilityFunction,
    bounds: ArrayLike,
    disagreement: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    constraints: LinearInequalities | None = None,
) -> BargainingPoint | None:
    """The utilitarian solution: argmax Σ w_i u_i over u ≥ d (equal weights by default).

    The classical sum-of-utilities rule as a bargaining solution (Myerson 1981). When the
    maximiser is not unique any maximiser may be returned. Returns None when no feasible point
    has u ≥ d.
    """
    feasible, d = _setup(utility, bounds, disagreement, constraints)
    start, gain = _largest_equal_gain(feasible, d)
    if gain < -FEASIBILITY_TOLERANCE:
        return None
    return _best_total(feasible, _player_weights(weights, feasible.n_players), d, start)


def egalitarian(
    utility: UtilityFunction,
    bounds: ArrayLike,
    disagreement: ArrayLike,
    *,
    constraints: LinearInequalities | None = None,
) -> BargainingPoint | None:
    """The egalitarian solution: argmax min_i (u_i - d_i) (Kalai 1977, proportional solutions).

    Among the points reaching the max-min gain, the one of largest total utility, so that the
    point returned is Pareto-efficient. Returns None when no feasible point has u ≥ d.
    """
    feasible, d = _setup(utility, bounds, disagreement, constraints)
    start, gain = _largest_equal_gain(feasible, d)
    if gain < -FEASIBILITY_TOLERANCE:
        return None
    return _best_total(feasible, np.ones(feasible.n_players), feasible.values(start), start)


def pareto_gap(
    utility: UtilityFunction,
    bounds: ArrayLike,
    reference: ArrayLike,
    *,
    start: ArrayLike | None = None,
    constraints: LinearInequalities | None = None,
) -> float:
    """The largest t ≥ 0 such that some feasible z has u_i(z) ≥ reference_i + t for every i.

    Zero means that no feasible point improves every player strictly: the reference utility
    vector is weakly Pareto-efficient; `is_pareto_efficient` tests the strong sense. `start` is an
    optional feasible decision vector to start the search from.
    """
    feasible, floor = _setup(utility, bounds, reference, constraints)
    n = feasible.n_players
    z0 = None if start is None else np.asarray(start, dtype=float)
    solution = _maximise(feasible, np.zeros(n), floor, np.ones(n), (0.0, None), z0)
    return 0.0 if solution is None else max(0.0, solution[1])


def is_pareto_efficient(
    utility: UtilityFunction,
    bounds: ArrayLike,
    reference: ArrayLike,
    tol: float = 1e-6,
    *,
    start: ArrayLike | None = None,
    constraints: LinearInequalities | None = None,
) -> bool:
    """Whether the reference utility vector is strongly Pareto-efficient, to within `tol`.

    Benson's (1978) test: the largest total gain Σ_i (u_i(z) - reference_i) over feasible z with
    u(z) ≥ reference is at most `tol`. `start` is an optional feasible decision vector, ideally
    one that attains the reference.
    """
    feasible, floor = _setup(utility, bounds, reference, constraints)
    n = feasible.n_players
    z0 = None if start is None else np.asarray(start, dtype=float)
    solution = _maximise(feasible, np.ones(n), floor, np.zeros(n), (0.0, 0.0), z0)
    if solution is None:
        return True
    return float(np.sum(feasible.values(solution[0]) - floor)) <= tol


@dataclass(frozen=True)
class _Parametrisation:
    """The stakeholders' utilities on a decision vector z in a box, with x = origin + embedding @ z.

    Decision variable j moves the issue of column j of the embedding, counting from anchor[j].
    """

    origin: np.ndarray
    embedding: np.ndarray
    anchor: np.ndarray
    bounds: np.ndarray
    utility: UtilityFunction

    def position(self, decision: np.ndarray) -> np.ndarray:
        return np.clip(self.origin + self.embedding @ decision, 0.0, 1.0)

    def decision(self, x: np.ndarray) -> np.ndarray:
        """The decision vector of the point nearest x in the box, which every actor likes at least as much."""
        issue_of = np.argmax(self.embedding, axis=0)
        return np.clip(x[issue_of] - self.anchor, self.bounds[:, 0], self.bounds[:, 1])


class IssueSpace:
    """Bargaining on the simulation's continuous issue space [0, 1]^K.

    Actor i has u_i(x) = 1 - Σ_k s_ik |x_k - x*_ik|^p and disagreement value r_i. Every
    solution returns a point x in [0, 1]^K, or None when it is undefined (no point gives every
    actor at least r_i; for Nash, strictly more than r_i).

    Only the stakeholders, actors with some positive salience, enter the optimisation: an actor
    indifferent to every issue has utility 1 everywhere, so it only decides whether a solution
    exists (1 > r_i for Nash, 1 ≥ r_i for the others), and left in it would pin the egalitarian
    solution and the Pareto gap. An issue no actor cares about is set to the mean of the ideal
    points on it, since every value there is equally good.
    """

    def __init__(
        self, ideal: ArrayLike, salience: ArrayLike, reservation: ArrayLike, exponent: int = 1
    ) -> None:
        self.ideal = np.atleast_2d(np.asarray(ideal, dtype=float))
        self.salience = np.atleast_2d(np.asarray(salience, dtype=float))
        self.reservation = np.atleast_1d(np.asarray(reservation, dtype=float))
        self.exponent = exponent
        n, k = self.ideal.shape
        if self.salience.shape != (n, k) or self.reservation.shape != (n,):
            raise ValueError(
                f"ideal is {self.ideal.shape}, salience {self.salience.shape} and reservation "
                f"{self.reservation.shape}: give (actors, issues), (actors, issues) and (actors,)"
            )
        if np.any(self.ideal < 0) or np.any(self.ideal > 1):
            raise ValueError("ideal points must lie in [0, 1]")
        if np.any(self.salience < 0):
            raise ValueError("saliences must be non-negative")
        if exponent not in (1, 2):
            raise ValueError(f"exponent is {exponent!r}: choose 1 or 2")
        self.stakeholders = self.salience.sum(axis=1) > 0
        self._chart = self._segments() if exponent == 1 else self._positions()

    @classmethod
    def from_scenario(cls, scenario: Any, present_only: bool = True) -> IssueSpace:
        """The issue space of a `sim.core.scenario.Scenario`, by default among the actors present."""
        rows = np.asarray(scenario.present, dtype=bool) if present_only else slice(None)
        return cls(
            scenario.ideal[rows],
            scenario.salience[rows],
            scenario.reservation[rows],
            scenario.utility_exponent,
        )

    @property
    def n_actors(self) -> int:
        return self.ideal.shape[0]

    @property
    def n_issues(self) -> int:
        return self.ideal.shape[1]

    def utility(self, x: ArrayLike) -> np.ndarray:
        """Every actor's utility at the point x, shape (actors,)."""
        distance = np.abs(np.asarray(x, dtype=float)[None, :] - self.ideal) ** self.exponent
        return 1.0 - np.sum(self.salience * distance, axis=1)

    def nash(self, weights: ArrayLike | None = None) -> np.ndarray | None:
        """The (weighted) Nash bargaining point (Nash 1950; Kalai 1977; Roth 1979), or None.

        `weights` are the bargaining powers of all actors (equal by default).
        """
        return self._point(nash_solution, strict=True, weights=self._stakeholder_weights(weights))

    def kalai_smorodinsky(self) -> np.ndarray | None:
        """The Kalai-Smorodinsky point (Kalai & Smorodinsky 1975), or None."""
        return self._point(kalai_smorodinsky)

    def utilitarian(self, weights: ArrayLike | None = None) -> np.ndarray | None:
        """A point maximising the (weighted) total utility over u ≥ r (Myerson 1981), or None."""
        return self._point(utilitarian, weights=self._stakeholder_weights(weights))

    def egalitarian(self) -> np.ndarray | None:
        """The point maximising min_i (u_i - r_i), made Pareto-efficient (Kalai 1977), or None."""
        return self._point(egalitarian)

    def pareto_gap(self, x: ArrayLike) -> float:
        """The largest t ≥ 0 such that some y in [0, 1]^K has u_i(y) ≥ u_i(x) + t for every stakeholder.

        A linear programme for p = 1, a convex programme for p = 2. Zero means x is weakly
        Pareto-efficient (see `is_pareto_efficient` for the strong sense).
        """
        point = np.asarray(x, dtype=float)
        return self.gap_above(self.utility(point), start=point)

    def gap_above(self, utilities: ArrayLike, start: ArrayLike | None = None) -> float:
        """The largest t ≥ 0 such that some y in [0, 1]^K gives every stakeholder at least its entry
        of `utilities` (one per actor) plus t: how far an outcome's utilities lie inside the frontier."""
        if not self.stakeholders.any():
            return 0.0
        chart = self._chart
        reference = np.asarray(utilities, dtype=float)[self.stakeholders]
        decision = None if start is None else chart.decision(np.asarray(start, dtype=float))
        return pareto_gap(chart.utility, chart.bounds, reference, start=decision)

    def is_pareto_efficient(self, x: ArrayLike, tol: float = 1e-6) -> bool:
        """Whether no y in [0, 1]^K leaves every actor at least as well off as x and gains more
        than `tol` in total utility (strong Pareto efficiency, Benson's test)."""
        point = np.asarray(x, dtype=float)
        if not self.stakeholders.any():
            return True
        chart = self._chart
        reference = self.utility(point)[self.stakeholders]
        return is_pareto_efficient(chart.utility, chart.bounds, reference, tol, start=chart.decision(point))

    def _point(
        self, solution: Callable[..., BargainingPoint | None], strict: bool = False, **options: Any
    ) -> np.ndarray | None:
        indifferent_reservation = self.reservation[~self.stakeholders]
        if np.any(indifferent_reservation >= 1.0 if strict else indifferent_reservation > 1.0):
            return None
        chart = self._chart
        if not self.stakeholders.any():
            return chart.position(np.zeros(0))
        found = solution(chart.utility, chart.bounds, self.reservation[self.stakeholders], **options)
        return None if found is None else chart.position(found.decision)

    def _stakeholder_weights(self, weights: ArrayLike | None) -> np.ndarray | None:
        if weights is None:
            return None
        per_actor = np.asarray(weights, dtype=float)
        if per_actor.shape != (self.n_actors,):
            raise ValueError(f"weights have shape {per_actor.shape}: give one per actor, ({self.n_actors},)")
        return per_actor[self.stakeholders]

    def _caring(self, issue: int) -> np.ndarray:
        return self.salience[:, issue] > 0

    def _resting_position(self, issue: int) -> float:
        caring = self._caring(issue)
        return float(self.ideal[caring, issue].min() if caring.any() else self.ideal[:, issue].mean())

    def _positions(self) -> _Parametrisation:
        """p = 2: the decision vector is x on the issues whose caring actors disagree, each issue
        confined to the span of those actors' ideals, where every efficient point lies."""
        spans = [self.ideal[self._caring(k), k] for k in range(self.n_issues)]
        free = [k for k, span in enumerate(spans) if span.size and span.max() > span.min()]
        origin = np.array([self._resting_position(k) for k in range(self.n_issues)])
        origin[free] = 0.0
        embedding = np.zeros((self.n_issues, len(free)))
        embedding[free, range(len(free))] = 1.0
        bounds = np.array([[spans[k].min(), spans[k].max()] for k in free]).reshape(-1, 2)
        ideal, salience = self.ideal[self.stakeholders], self.salience[self.stakeholders]

        def value(z: np.ndarray) -> np.ndarray:
            return 1.0 - np.sum(salience * (origin + embedding @ z - ideal) ** 2, axis=1)

        def derivative(z: np.ndarray) -> np.ndarray:
            return -2.0 * (salience * (origin + embedding @ z - ideal)) @ embedding

        return _Parametrisation(
            origin, embedding, np.zeros(len(free)), bounds, SmoothUtility(value, derivative)
        )

    def _segments(self) -> _Parametrisation:
        """p = 1: on each issue, the decision variables are the distances travelled along the gaps
        between consecutive distinct ideals of the actors who care, from the lowest one.

        With E_ik = Σ_{gaps above x*_ik} y + Σ_{gaps below x*_ik} (gap - y) ≥ |x_k - x*_ik| (equal when
        the gaps are filled in order, which leaves every actor at least as well off), each utility
        1 - Σ_k s_ik E_ik is affine in y, so that every concept keeps its optimum.
        """
        ideal, salience = self.ideal[self.stakeholders], self.salience[self.stakeholders]
        origin = np.array([self._resting_position(k) for k in range(self.n_issues)])
        issue_of: list[int] = []
        anchors: list[float] = []
        gap_lengths: list[float] = []
        slopes: list[np.ndarray] = []
        offset = np.ones(len(ideal))
        for k in range(self.n_issues):
            caring = salience[:, k] > 0
            for low, high in itertools.pairwise(np.unique(ideal[caring, k])):
                below = caring & (ideal[:, k] >= high)
                above = caring & (ideal[:, k] <= low)
                issue_of.append(k)
                anchors.append(low)
                gap_lengths.append(high - low)
                slopes.append(np.where(below, salience[:, k], 0.0) - np.where(above, salience[:, k], 0.0))
                offset -= np.where(below, salience[:, k] * (high - low), 0.0)
        embedding = np.zeros((self.n_issues, len(issue_of)))
        embedding[issue_of, range(len(issue_of))] = 1.0
        matrix = np.column_stack(slopes) if slopes else np.zeros((len(ideal), 0))
        bounds = np.column_stack([np.zeros(len(gap_lengths)), gap_lengths]).reshape(-1, 2)
        utility = AffineUtility(offset, matrix)
        return _Parametrisation(origin, embedding, np.array(anchors), bounds, utility)


__all__ = [
    "FEASIBILITY_TOLERANCE",
    "AffineUtility",
    "BargainingPoint",
    "DifferentiableUtility",
    "IssueSpace",
    "LinearInequalities",
    "SmoothUtility",
    "UtilityFunction",
    "egalitarian",
    "is_pareto_efficient",
    "kalai_smorodinsky",
    "nash_solution",
    "pareto_gap",
    "utilitarian",
]
