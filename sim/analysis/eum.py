"""Bueno de Mesquita's expected-utility (challenge) model for one issue, vectorised over actors
(and, with `eum_rounds`, over a batch of problems solved side by side).

Sources: B. Bueno de Mesquita (1994), "Political forecasting: an expected utility method", in
Bueno de Mesquita & Stokman (eds.), European Community Decision Making, Yale UP (BDM 1994);
J. B. Scholz, G. J. Calbert & G. A. Smith (2011), "Unravelling Bueno De Mesquita's group decision
model", J. Theoretical Politics 23(4):510-531 (Scholz et al.).

One round, for positions x, capabilities c, saliences s ∈ [0, 1], weights w = c·s, and d a range (that of
the initial positions in `eum_forecast`); every distance is divided by d, so any scale works and results
keep the input scale:

1. Risk exponents (Scholz et al. §5, after BDM 1994): with every r = 1, actor j's exposure is
   S_j = Σ_{i≠j} EU(i challenges j); R_j = (2S_j - max S - min S)/(max S - min S) and
   r_j = (1 - R_j/3)/(1 + R_j/3) ∈ [0.5, 2]; equal exposures give r = 1. BDM compares S_j over the
   positions j could hold; Scholz et al. compare it across actors, as here.
2. P(i beats j) = Σ_k w_k(|x_k - x_j| - |x_k - x_i|)₊ / Σ_k w_k|x_i - x_j|   (docs/domain.md §4).
3. U_s = 2 - 4(½ - ½δ)^r, U_f = 2 - 4(½ + ½δ)^r, U_sq = 2 - 4(½)^r, δ = |x_i - x_j|/d.
4. EU(i challenges j) = s_j[P·U_s + (1 - P)U_f] + (1 - s_j)U_s - U_sq. With Q = T = 1 the weighted
   median (reported by `weighted_median`) enters only through U_b and U_w, whose weight 1 - Q is 0.
5. Receiver i judges each j with x_j ≠ x_i from its own view (both EUs with r_i): a = EU(i challenges j),
   b = EU(j challenges i). b > a > 0: confrontation, i moves to x_j; a < 0 < b, b > |a|: compromise,
   x_i += (x_j - x_i)|a/b|; a < 0 < b, b ≤ |a|: capitulation, i moves to x_j.
6. i adopts the credible offer closest to its current position, the least change (BDM 1994 and Scholz
   et al., as the replication below notes); ties go to the larger b, then to the earlier actor.

``convention="scholz_code"`` reproduces Scholz et al.'s program as recovered by the replication
github.com/jmckib/bdm-scholz-expected-utility-model (commit e9d86fe, "Perfect replication of bdm-scholz
results up to 10 rounds"): P's denominator is the sum of |votes| over every voter and every ordered pair
of actors, votes use the voter's exponent, w_k(δ_kj^r_k - δ_ki^r_k), and offers are taken by kind
(confrontation, then compromise, then capitulation), the compromise chosen being the one minimising
(|a|x_i + |b|x_j)/(|a| + |b|), which favours low positions over the least change. Its capitulation test
reads ``b < abs(b)`` and never fires; here capitulation fires, which changes nothing in those 10 rounds.

EC example (ExampleActors_EC.csv; positions 4-10, so d = 6; initial weighted median 7, mean 7.390).
The replication prints, and ``scholz_code`` reproduces to 1e-12 for its 10 rounds: r = 1.406 0.754
0.509 1.406 1.047 1.047 1.965 0.500 2.000 1.112 (table order); round 1: Belgium 7 -> 8.4159 (compromise
with France), Luxembourg 4 -> 7, Ireland 7 -> 4, median 8.4159, mean 7.461; then Belgium swings between
France and the Netherlands with Luxembourg and Ireland trailing it, and nothing settles (round 10:
median 7, mean 7.242; 1000 rounds: median 7, mean 7.374).
The default convention differs in the three places named above, all deliberate: P as in domain.md (with
the pooled denominator every P is below 0.02, so the challenger nearly always expects to lose), votes
risk-neutral, and the least change taken. Hence other exponents (1.153 0.923 0.500 1.153 1.024 1.024
2.000 0.615 1.518 1.376) and another round 1: Netherlands, Germany and Luxembourg -> 7, France and Italy
10 -> 9.3638 (compromise with Denmark), Belgium, Ireland and Greece 7 -> 10 (Belgium's offers at 4 and
10 are equally near; the tie goes to the stronger threat, France's), Denmark 4 -> 4.4485. The weighted
median is 9.3638 from round 2 on; the positions settle after 111 rounds, all within 1e-4 of 9.3638
(forecast: median 9.3638, mean 9.3638).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sim.errors import UserError

Array = NDArray[np.float64]
Convention = Literal["domain", "scholz_code"]
TIE = 1e-12
"""Expected utilities, and moves as a fraction of the range, closer than this count as equal."""


def weighted_median(values: ArrayLike, weights: ArrayLike) -> float:
    """The value where the cumulative weight reaches half the total (midpoint on an exact tie).

    All-zero weights count every value equally.
    """
    return float(weighted_medians(np.asarray(values, float), np.asarray(weights, float)))


def weighted_medians(values: Array, weights: Array) -> Array:
    """`weighted_median` of every row (the last axis holds the values) of `values` and `weights`."""
    values, weights = np.ascontiguousarray(values), np.ascontiguousarray(weights)
    w = np.where(weights.sum(axis=-1, keepdims=True) <= 0, 1.0, weights)
    order = np.argsort(values, axis=-1, kind="stable")
    x = np.take_along_axis(values, order, axis=-1)
    cumulative = np.cumsum(np.take_along_axis(w, order, axis=-1), axis=-1)
    half = cumulative[..., -1:] / 2
    lower = (cumulative < half * (1 - 1e-12)).sum(axis=-1, keepdims=True)
    upper = np.minimum((cumulative <= half * (1 + 1e-12)).sum(axis=-1, keepdims=True), x.shape[-1] - 1)
    return ((np.take_along_axis(x, lower, axis=-1) + np.take_along_axis(x, upper, axis=-1)) / 2)[..., 0]


def weighted_mean(values: ArrayLike, weights: ArrayLike) -> float:
    """Σ w·x / Σ w, the compromise model's outcome; all-zero weights count every value equally."""
    return float(weighted_means(np.asarray(values, float), np.asarray(weights, float)))


def weighted_means(values: Array, weights: Array) -> Array:
    """`weighted_mean` of every row (the last axis holds the values) of `values` and `weights`.

    The rows are made contiguous first: NumPy sums a row pairwise or in order depending on the
    layout in memory, and a problem must give the same numbers whichever batch it is part of.
    """
    values, weights = np.ascontiguousarray(values), np.ascontiguousarray(weights)
    total = weights.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        weighted = (values * weights).sum(axis=-1) / total
    return np.where(total > 0, weighted, values.mean(axis=-1))


def challenge_utilities(distance: ArrayLike, risk: ArrayLike = 1.0) -> tuple[Array, Array, Array]:
    """U_success, U_failure and U_status_quo for distances δ ∈ [0, 1] and risk exponents r (broadcast)."""
    delta, r = np.asarray(distance, float), np.asarray(risk, float)
    success = 2 - 4 * (0.5 - 0.5 * delta) ** r
    failure = 2 - 4 * (0.5 + 0.5 * delta) ** r
    return success, failure, np.broadcast_to(2 - 4 * 0.5**r, success.shape)


def win_probability(
    positions: ArrayLike,
    capability: ArrayLike,
    salience: ArrayLike,
    *,
    risk: ArrayLike = 1.0,
    span: float | None = None,
    convention: Convention = "domain",
) -> Array:
    """P[i, j], the probability that i beats j; `risk` is used only by the scholz_code votes."""
    x, c, s = _validated(positions, capability, salience)
    delta = _distances(x, span)
    return _win_probability(delta, c * s, np.broadcast_to(np.asarray(risk, float), x.shape), convention)


def expected_utility(
    positions: ArrayLike,
    capability: ArrayLike,
    salience: ArrayLike,
    *,
    risk: ArrayLike = 1.0,
    span: float | None = None,
    convention: Convention = "domain",
) -> Array:
    """EU[i, j] of i challenging j (Q = T = 1), judged with i's risk exponent."""
    x, c, s = _validated(positions, capability, salience)
    delta = _distances(x, span)
    return _expected_utility(delta, c, s, np.broadcast_to(np.asarray(risk, float), x.shape), convention)


def risk_exponents(
    positions: ArrayLike,
    capability: ArrayLike,
    salience: ArrayLike,
    *,
    span: float | None = None,
    convention: Convention = "domain",
) -> Array:
    """Each actor's risk exponent r ∈ [0.5, 2] from its exposure to challenges (Scholz et al. §5)."""
    x, c, s = _validated(positions, capability, salience)
    delta = _distances(x, span)
    return _risk_exponents(delta, s, _win_probability(delta, c * s, np.ones(x.shape), convention))


def eum_round(
    positions: ArrayLike,
    capability: ArrayLike,
    salience: ArrayLike,
    *,
    risk: ArrayLike | None = None,
    span: float | None = None,
    convention: Convention = "domain",
) -> Array:
    """Positions after one round of challenges and offers; `risk=None` computes the exponents.

    `span` is the d that distances are divided by (default: the range of `positions`).
    """
    x, c, s = _validated(positions, capability, salience)
    delta = _distances(x, span)
    if not delta.any():
        return x.copy()
    if risk is not None:
        risk = np.broadcast_to(np.asarray(risk, float), x.shape)
        if not np.all(np.isfinite(risk) & (risk > 0)):
            raise UserError("risk exponents must be positive and finite; pass e.g. risk=1.0 or risk=None")
    return _round(x, c, s, delta, risk, convention)


def eum_rounds(
    positions: Array, capability: Array, salience: Array, span: Array, *, convention: Convention = "domain"
) -> Array:
    """`eum_round` for a batch of problems at once, one per row: the last axis holds the players
    (every one with a salience above zero), and each row's distances are divided by its `span`,
    which must be positive and at least the range of its positions. Rows are made contiguous, as
    in `weighted_means`, so that a problem's numbers do not depend on its batch."""
    x, c, s = (np.ascontiguousarray(a, dtype=float) for a in (positions, capability, salience))
    delta = np.abs(x[..., :, None] - x[..., None, :]) / span[..., None, None]
    return _round(x, c, s, delta, None, convention)


def _round(x: Array, c: Array, s: Array, delta: Array, risk: Array | None, convention: Convention) -> Array:
    """Steps 1-6 above for every row: the risk exponents (unless given), then challenges and offers.
    Under the domain convention P does not depend on the exponents, so it is worked out once."""
    weight = c * s
    neutral = None
    if risk is None or convention == "domain":
        neutral = _win_probability(delta, weight, np.ones(x.shape), convention)
    if risk is None:
        assert neutral is not None
        r = _risk_exponents(delta, s, neutral)
    else:
        r = risk
    if convention == "domain" and neutral is not None:
        probability = neutral
    else:
        probability = _win_probability(delta, weight, r, convention)
    return _move(x, s, delta, r, probability, convention)


def _risk_exponents(delta: Array, salience: Array, neutral: Array) -> Array:
    """Risk exponents from the exposures S_j, per row of a batch, given P with every r = 1."""
    utilities = challenge_utilities(delta, np.ones(salience.shape)[..., :, None])
    eu = _challenge_value(neutral, salience[..., None, :], *utilities)
    exposure = eu.sum(axis=-2) - np.diagonal(eu, axis1=-2, axis2=-1)
    high, low = exposure.max(axis=-1, keepdims=True), exposure.min(axis=-1, keepdims=True)
    level = high - low <= 1e-12 * np.maximum(1.0, np.abs(high))
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = (2 * exposure - high - low) / (high - low)
    return np.where(level, 1.0, (1 - relative / 3) / (1 + relative / 3))


def _expected_utility(
    delta: Array, capability: Array, salience: Array, risk: Array, convention: Convention
) -> Array:
    utilities = challenge_utilities(delta, risk[..., :, None])
    probability = _win_probability(delta, capability * salience, risk, convention)
    return _challenge_value(probability, salience[..., None, :], *utilities)


def _move(x: Array, s: Array, delta: Array, r: Array, probability: Array, convention: Convention) -> Array:
    """Each actor's position after the challenges and offers of one round (steps 3-6 above), per row."""
    utilities = challenge_utilities(delta, r[..., :, None])
    own = _challenge_value(probability, s[..., None, :], *utilities)
    other = _challenge_value(np.swapaxes(probability, -1, -2), s[..., :, None], *utilities)
    here = x[..., :, None]
    apart = here != x[..., None, :]
    confrontation = apart & (other > own + TIE) & (own > TIE)
    yielding = apart & (own < -TIE) & (other > TIE)
    compromise = yielding & (other > -own + TIE)
    credible = confrontation | yielding
    target = np.broadcast_to(x[..., None, :], own.shape)
    ratio = np.divide(-own, other, out=np.ones_like(own), where=compromise)
    offer = np.where(compromise, here + (target - here) * ratio, target)
    move = np.abs(offer - here)
    if convention == "scholz_code":
        kind = np.select([confrontation, compromise, credible], [0, 1, 2], default=3)
        favoured = np.abs(own) * here + np.abs(other) * target
        favoured = np.divide(favoured, np.abs(own) + np.abs(other), out=move.copy(), where=compromise)
        key = np.where(kind == kind.min(axis=-1, keepdims=True), np.where(compromise, favoured, move), np.inf)
        choice = np.where(credible, key, np.inf).argmin(axis=-1)
    else:
        nearest_move = np.where(credible, move, np.inf).min(axis=-1, keepdims=True)
        spread = (x.max(axis=-1) - x.min(axis=-1))[..., None, None]
        nearest = credible & (move <= nearest_move + TIE * spread)
        choice = np.where(nearest, other, -np.inf).argmax(axis=-1)
    chosen = np.take_along_axis(offer, choice[..., None], axis=-1)[..., 0]
    return np.where(credible.any(axis=-1), chosen, x)


def eum_forecast(
    positions: ArrayLike,
    capability: ArrayLike,
    salience: ArrayLike,
    *,
    rounds: int = 200,
    tol: float = 1e-6,
    span: float | None = None,
    convention: Convention = "domain",
    statistic: Literal["median", "mean"] = "median",
) -> tuple[Array, float]:
    """Rounds until no position moves by more than tol·d, or `rounds` have been played.

    d is `span`, by default the range of the initial positions. Returns the history, shape
    (rounds played + 1, actors), and the c·s-weighted median (or mean) of the last positions.
    """
    if statistic not in ("median", "mean"):
        raise UserError(f"unknown statistic {statistic!r}; use 'median' or 'mean'")
    x, c, s = _validated(positions, capability, salience)
    span = float(x.max() - x.min()) if span is None else float(span)
    history = [x]
    for _ in range(rounds if span > 0 else 0):
        history.append(eum_round(history[-1], c, s, span=span, convention=convention))
        if np.abs(history[-1] - history[-2]).max() <= tol * span:
            break
    final = history[-1]
    forecast = weighted_median(final, c * s) if statistic == "median" else weighted_mean(final, c * s)
    return np.vstack(history), forecast


def _challenge_value(
    probability: Array, target_salience: Array, success: Array, failure: Array, status_quo: Array
) -> Array:
    expected = probability * success + (1 - probability) * failure
    return target_salience * expected + (1 - target_salience) * success - status_quo


def _win_probability(delta: Array, weight: Array, risk: Array, convention: Convention) -> Array:
    if convention not in ("domain", "scholz_code"):
        raise UserError(f"unknown convention {convention!r}; use 'domain' or 'scholz_code'")
    far = delta ** risk[..., :, None] if convention == "scholz_code" else delta
    votes = far[..., :, None, :] - far[..., :, :, None]
    votes *= weight[..., :, None, None]
    if convention == "scholz_code":
        total = np.abs(votes).sum(axis=(-3, -2, -1))[..., None, None] * np.ones_like(delta)
    else:
        total = weight.sum(axis=-1)[..., None, None] * delta
    support = np.clip(votes, 0, None, out=votes).sum(axis=-3)
    return np.divide(support, total, out=np.zeros_like(support), where=total > 0)


def _distances(x: Array, span: float | None) -> Array:
    spread = float(x.max() - x.min())
    d = spread if span is None else float(span)
    if not np.isfinite(d) or d < spread * (1 - 1e-12):
        raise UserError(f"span {d} is smaller than the range of positions {spread}; omit span or widen it")
    return np.abs(x[:, None] - x[None, :]) / d if d > 0 else np.zeros((len(x), len(x)))


def _validated(positions: ArrayLike, capability: ArrayLike, salience: ArrayLike) -> tuple[Array, ...]:
    x, c, s = (np.asarray(a, dtype=float) for a in (positions, capability, salience))
    if x.ndim != 1 or x.size == 0 or c.shape != x.shape or s.shape != x.shape:
        raise UserError("positions, capability and salience must be 1-D arrays of one length, one per actor")
    if not (np.isfinite(x).all() and np.isfinite(c).all() and np.isfinite(s).all()):
        raise UserError("positions, capability and salience must be finite numbers; fill in missing values")
    if (c < 0).any() or (s < 0).any() or (s > 1).any():
        raise UserError("capability must be >= 0 and salience in [0, 1]; rescale a 0-100 salience by 1/100")
    return x, c, s
