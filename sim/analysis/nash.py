"""The Nash bargaining package of the bargainers, for the package protocol (`sim.protocols.package`).

Source: J. F. Nash (1950), "The bargaining problem", Econometrica 18:155-162; with bargaining
powers, E. Kalai (1977), "Nonsymmetric Nash solutions and replications of 2-person bargaining",
Int. J. Game Theory 6:129-133.

Bargainer i has u_i(x) = 1 - Σ_k s_ik |x_k - x*_ik|^p and reservation r_i. The Nash package
maximises Σ_i log(u_i(x) - r_i) over x in [0, 1]^K; it exists when some package gives every
bargainer strictly more than r_i, which the max-min programme (`most_equal_gain`, a linear
programme for p = 1) decides. On several issues it is found by SLSQP from the max-min package
(`nash_package`); on one issue, for many problems at once, by bisection on the derivative of the
log-sum, which decreases in x (`one_issue_nash`). `tests/test_package.py` pins both to
`sim.analysis.solutions.IssueSpace`.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog, minimize

LEAST_GAIN = 1e-9
"""A package must give every bargainer more than this above its reservation for it to exist."""
SLSQP_OPTIONS = {"maxiter": 500, "ftol": 1e-13}
BISECTIONS = 64
"""Halvings (and ternary cuts) of the issue's span on one issue: far below any tolerance."""


def most_equal_gain(
    ideal: np.ndarray, salience: np.ndarray, reservation: np.ndarray
) -> tuple[np.ndarray, float] | None:
    """The package that gives the least-gaining bargainer the most (linear losses): a linear
    programme in the positions x and the distances t_ik >= |x_k - x*_ik|. Returns the package and
    that least gain over the reservation, or None when the programme fails."""
    n, k = ideal.shape
    cares = salience > 0
    pairs = np.argwhere(cares)
    m = len(pairs)
    # variables: x (k), t (m), g (1); maximise g
    cost = np.zeros(k + m + 1)
    cost[-1] = -1.0
    rows, bounds = [], []
    for number, (i, j) in enumerate(pairs):
        for sign in (1.0, -1.0):
            row = np.zeros(k + m + 1)
            row[j], row[k + number] = sign, -1.0
            rows.append(row)
            bounds.append(sign * ideal[i, j])
    for i in range(n):
        row = np.zeros(k + m + 1)
        row[k + np.flatnonzero(pairs[:, 0] == i)] = salience[i, pairs[pairs[:, 0] == i, 1]]
        row[-1] = 1.0
        rows.append(row)
        bounds.append(1.0 - reservation[i])
    limits = [(0.0, 1.0)] * k + [(0.0, 1.0)] * m + [(None, None)]
    solved = linprog(cost, A_ub=np.array(rows), b_ub=np.array(bounds), bounds=limits, method="highs")
    if solved.status != 0:
        return None
    return solved.x[:k], float(solved.x[-1])


def nash_package(
    ideal: np.ndarray, salience: np.ndarray, reservation: np.ndarray, exponent: int = 1
) -> np.ndarray | None:
    """The Nash bargaining package: argmax Σ_i log(1 - r_i - Σ_k s_ik |x_k - x*_ik|^p) over x in
    [0, 1]^K, among the bargainers (rows); None when no package gives each of them strictly more
    than its reservation r_i. An issue no bargainer cares about is set to the mean of their ideals."""
    n, k = ideal.shape
    if n == 0 or np.any(reservation >= 1.0 - LEAST_GAIN):
        return None
    if k == 0:
        return np.empty(0)
    caring = (salience > 0).any(axis=0)
    resting = ideal.mean(axis=0)
    active = salience[:, caring] > 0
    stakeholders = active.any(axis=1)
    point = resting.copy()
    if not caring.any() or not stakeholders.any():
        return point
    sub_ideal = ideal[np.ix_(stakeholders, caring)]
    sub_salience = salience[np.ix_(stakeholders, caring)]
    sub_reservation = reservation[stakeholders]
    start = most_equal_gain(sub_ideal, sub_salience, sub_reservation)
    if start is not None and exponent == 2:
        start = _most_equal_gain_quadratic(sub_ideal, sub_salience, sub_reservation, start[0])
    if start is None or start[1] <= LEAST_GAIN:
        return None
    solve = _nash_linear if exponent == 1 else _nash_quadratic
    point[caring] = solve(sub_ideal, sub_salience, sub_reservation, start[0])
    return point


def _nash_linear(
    ideal: np.ndarray, salience: np.ndarray, reservation: np.ndarray, start: np.ndarray
) -> np.ndarray:
    """Nash for linear losses, by SLSQP on the positions and the distances t_ik >= |x_k - x*_ik|."""
    n, k = ideal.shape
    budget = 1.0 - reservation

    def gains(z: np.ndarray) -> np.ndarray:
        return budget - (salience * z[k:].reshape(n, k)).sum(axis=1)

    def objective(z: np.ndarray) -> float:
        return -float(np.log(np.maximum(gains(z), 1e-300)).sum())

    def gradient(z: np.ndarray) -> np.ndarray:
        grad = np.zeros_like(z)
        grad[k:] = (salience / np.maximum(gains(z), 1e-300)[:, None]).ravel()
        return grad

    identity = np.eye(k)
    picks = np.repeat(identity[None, :, :], n, axis=0).reshape(n * k, k)
    above = np.hstack([-picks, np.eye(n * k)])
    below = np.hstack([picks, np.eye(n * k)])
    flat = ideal.ravel()
    constraints = [
        {"type": "ineq", "fun": lambda z: above @ z + flat, "jac": lambda z: above},
        {"type": "ineq", "fun": lambda z: below @ z - flat, "jac": lambda z: below},
        {
            "type": "ineq",
            "fun": lambda z: gains(z) - LEAST_GAIN,
            "jac": lambda z: _gain_jacobian(salience, k),
        },
    ]
    z0 = np.concatenate([start, np.abs(start[None, :] - ideal).ravel()])
    bounds = [(0.0, 1.0)] * (k + n * k)
    solved = minimize(
        objective,
        z0,
        jac=gradient,
        bounds=bounds,
        constraints=constraints,
        method="SLSQP",
        options=SLSQP_OPTIONS,
    )
    return np.clip(solved.x[:k], 0.0, 1.0)


def _gain_jacobian(salience: np.ndarray, k: int) -> np.ndarray:
    n = salience.shape[0]
    jacobian = np.zeros((n, k + n * k))
    for i in range(n):
        jacobian[i, k + i * k : k + (i + 1) * k] = -salience[i]
    return jacobian


def _most_equal_gain_quadratic(
    ideal: np.ndarray, salience: np.ndarray, reservation: np.ndarray, start: np.ndarray
) -> tuple[np.ndarray, float]:
    """The package that gives the least-gaining bargainer the most under quadratic losses, by
    SLSQP on the positions and that least gain."""
    k = ideal.shape[1]
    budget = 1.0 - reservation

    def gains(z: np.ndarray) -> np.ndarray:
        return budget - (salience * (z[:k][None, :] - ideal) ** 2).sum(axis=1)

    def jacobian(z: np.ndarray) -> np.ndarray:
        return np.hstack([-2.0 * salience * (z[:k][None, :] - ideal), -np.ones((len(ideal), 1))])

    constraints = [{"type": "ineq", "fun": lambda z: gains(z) - z[k], "jac": jacobian}]
    z0 = np.append(start, gains(np.append(start, 0.0)).min())
    solved = minimize(
        lambda z: -z[k],
        z0,
        jac=lambda z: np.append(np.zeros(k), -1.0),
        bounds=[(0.0, 1.0)] * k + [(None, None)],
        constraints=constraints,
        method="SLSQP",
        options=SLSQP_OPTIONS,
    )
    x = np.clip(solved.x[:k], 0.0, 1.0)
    return x, float(gains(np.append(x, 0.0)).min())


def _nash_quadratic(
    ideal: np.ndarray, salience: np.ndarray, reservation: np.ndarray, start: np.ndarray
) -> np.ndarray:
    """Nash for quadratic losses, by SLSQP on the positions."""
    budget = 1.0 - reservation

    def gains(x: np.ndarray) -> np.ndarray:
        return budget - (salience * (x[None, :] - ideal) ** 2).sum(axis=1)

    def objective(x: np.ndarray) -> float:
        return -float(np.log(np.maximum(gains(x), 1e-300)).sum())

    def gradient(x: np.ndarray) -> np.ndarray:
        slope = 2.0 * salience * (x[None, :] - ideal)
        return (slope / np.maximum(gains(x), 1e-300)[:, None]).sum(axis=0)

    constraints = [
        {
            "type": "ineq",
            "fun": lambda x: gains(x) - LEAST_GAIN,
            "jac": lambda x: -2.0 * salience * (x[None, :] - ideal),
        }
    ]
    bounds = [(0.0, 1.0)] * ideal.shape[1]
    solved = minimize(
        objective,
        start,
        jac=gradient,
        bounds=bounds,
        constraints=constraints,
        method="SLSQP",
        options=SLSQP_OPTIONS,
    )
    return np.clip(solved.x, 0.0, 1.0)


def one_issue_packages(
    ideal: np.ndarray, salience: np.ndarray, reservation: np.ndarray, exponent: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """`nash_package` for many one-issue problems at once (rows of shape (problems, bargainers)):
    each row's Nash point, and whether it exists."""
    stake = salience > 0
    point, gain = one_issue_nash(ideal, stake, reservation, np.ones_like(ideal), exponent)
    resting = ideal.mean(axis=1) if ideal.shape[1] else np.full(len(ideal), np.nan)
    exists = (ideal.shape[1] > 0) & (reservation < 1.0 - LEAST_GAIN).all(axis=1) & (gain > LEAST_GAIN)
    return np.where(stake.any(axis=1), point, resting), exists


def one_issue_nash(
    ideal: np.ndarray, stake: np.ndarray, reservation: np.ndarray, weights: np.ndarray, exponent: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Per row of one-issue problems (shape (problems, actors)): the weighted Nash point among the
    stakeholders, and the largest least gain max_x min_i (u_i(x) - r_i) that decides whether it
    exists (above `LEAST_GAIN`). Rows without a stakeholder give NaN and an infinite gain."""
    low = np.where(stake, ideal, np.inf).min(axis=1)
    high = np.where(stake, ideal, -np.inf).max(axis=1)
    anyone = stake.any(axis=1)
    low, high = np.where(anyone, low, 0.0), np.where(anyone, high, 0.0)
    reach = np.maximum(1.0 - reservation, 0.0) ** (1.0 / exponent)
    lo = np.maximum(np.where(stake, ideal - reach, -np.inf).max(axis=1), low)
    hi = np.minimum(np.where(stake, ideal + reach, np.inf).min(axis=1), high)
    for _ in range(BISECTIONS):
        middle = 0.5 * (lo + hi)
        gap = middle[:, None] - ideal
        room = np.where(stake, np.maximum(1.0 - reservation - np.abs(gap) ** exponent, 1e-300), 1.0)
        slope = exponent * np.abs(gap) ** (exponent - 1) * np.sign(-gap)
        rising = np.where(stake, weights * slope / room, 0.0).sum(axis=1) > 0
        lo, hi = np.where(rising, middle, lo), np.where(rising, hi, middle)
    point = np.where(anyone, 0.5 * (lo + hi), np.nan)
    return point, least_gain(ideal, stake, reservation, exponent)[1]


def least_gain(
    ideal: np.ndarray, stake: np.ndarray, reservation: np.ndarray, exponent: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Per row of one-issue problems: the point that maximises the least gain min_i (1 - |x - x_i|^p
    - r_i) over the stakeholders, by ternary search (the least gain is concave in x), and that
    gain; NaN and an infinite gain where nobody has a stake."""
    low = np.where(stake, ideal, np.inf).min(axis=1)
    high = np.where(stake, ideal, -np.inf).max(axis=1)
    anyone = stake.any(axis=1)
    low, high = np.where(anyone, low, 0.0), np.where(anyone, high, 0.0)

    def least(x: np.ndarray) -> np.ndarray:
        gains = np.where(stake, 1.0 - reservation - np.abs(x[:, None] - ideal) ** exponent, np.inf)
        return gains.min(axis=1)

    for _ in range(BISECTIONS):
        a, b = low + (high - low) / 3.0, high - (high - low) / 3.0
        better_left = least(a) >= least(b)
        high, low = np.where(better_left, b, high), np.where(better_left, low, a)
    point = 0.5 * (low + high)
    return np.where(anyone, point, np.nan), np.where(anyone, least(point), np.inf)
