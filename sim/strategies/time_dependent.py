"""Time-dependent concession: Boulware and Conceder tactics.

Source: Faratin, Sierra & Jennings (1998), "Negotiation decision functions for autonomous agents",
Robotics and Autonomous Systems 24(3–4); the aspiration negotiators of NegMAS follow it too.
At time fraction tau = t / T the actor accepts a text whose loss on an issue is at most
phi(tau) = tau^(1/beta) times what no agreement on that issue costs it (beta < 1 Boulware,
beta > 1 Conceder); its aspiration 1 - phi (1 - r) falls from 1 to r and never rises. A patron
also applies the test to its effective utility (1 - alpha) u_patron + alpha u_client. Its position
is the acceptable text nearest the other signatories' weighted ideal point; on a division it keeps
the share its aspiration allows and splits the rest equally. Every number may hold one row per
replication (a batch of variants), and tau any shape that broadcasts against the columns.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from sim.core.preferences import TOLERANCE
from sim.strategies.base import Strategy


def sublevel_interval(
    u: ArrayLike, a: ArrayLike, v: ArrayLike, b: ArrayLike, theta: ArrayLike, p: int
) -> tuple[np.ndarray, np.ndarray]:
    """The interval {x : a|x - u|^p + b|x - v|^p <= theta}, elementwise, clipped to [0, 1].

    Returns (low, high); low > high where the set is empty. Closed forms for p = 1 (a piecewise
    linear loss with kinks at u and v) and p = 2 (a parabola). The arguments broadcast: what
    depends on u, a, v and b alone is worked out at their shape, before theta widens it (theta
    may hold a row per step).
    """
    u, a, v, b, theta = (np.asarray(x, dtype=float) for x in (u, a, v, b, theta))
    total = a + b
    safe_total = np.where(total > 0, total, 1.0)
    # A weight near zero makes a half-width or a crossing infinite: the clip to [0, 1] below reads
    # that as "every text", which it is.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if p == 2:
            centre = np.where(total > 0, (a * u + b * v) / safe_total, u)
            floor = np.where(total > 0, a * b / safe_total * (u - v) ** 2, 0.0)
            half = np.sqrt(np.maximum(theta - floor, 0.0) / safe_total)
            low, high = centre - half, centre + half
            empty = theta < floor - TOLERANCE
        else:
            left, right = np.minimum(u, v), np.maximum(u, v)
            ordered = u <= v
            w_left = np.where(ordered, a, b)
            w_right = np.where(ordered, b, a)
            gap = right - left
            at_left, at_right = w_right * gap, w_left * gap
            slope_inside = w_left - w_right
            safe_slope = np.where(slope_inside != 0, slope_inside, 1.0)
            past_left = theta - at_left
            inside = left + past_left / safe_slope
            high = np.where(theta >= at_right, right + (theta - at_right) / safe_total, inside)
            low = np.where(theta >= at_left, left - past_left / safe_total, inside)
            empty = theta < np.minimum(at_left, at_right) - TOLERANCE
        low = np.where(empty, np.inf, np.clip(low, 0.0, 1.0))
        high = np.where(empty, -np.inf, np.clip(high, 0.0, 1.0))
        everything = total <= 0
        if everything.any():
            np.copyto(low, 0.0, where=everything)
            np.copyto(high, 1.0, where=everything)
    return low, high


class TimeDependent(Strategy):
    name = "time_dependent"

    def concession(self, tau: np.ndarray | float) -> np.ndarray | float:
        """How much of the way to its reservation the actor has gone at time fraction tau.

        `np.power` even on plain numbers: NumPy's array power may differ from the scalar one in
        the last bit, and a replication must give the same numbers alone as in a batch.
        """
        return np.power(np.minimum(tau, 1.0), 1.0 / self.actor.beta)

    def aspiration(self, tau: np.ndarray | float) -> np.ndarray | float:
        return 1.0 - self.concession(tau) * (1.0 - self.actor.reservation)

    def accepts(self, text: np.ndarray, tau: np.ndarray | float) -> np.ndarray:
        actor = self.actor
        phi = self.concession(tau)
        own = actor.issue_total(actor.loss(text))
        ok = own <= phi * actor.disagreement_cost + TOLERANCE
        client = actor.client
        if client is not None and np.any(actor.patron_weight > 0):
            weight = actor.patron_weight
            effective = (1 - weight) * own + weight * client.issue_total(client.loss(text))
            budget = (1 - weight) * actor.disagreement_cost + weight * client.disagreement_cost
            ok &= effective <= phi * budget + TOLERANCE
        return ok

    def acceptable_interval(self, tau: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """Per issue, the texts the actor would accept at tau: [low, high], empty where low > high."""
        actor = self.actor
        phi = self.concession(tau)
        low, high = sublevel_interval(
            actor.ideal, actor.salience, actor.ideal, 0.0, phi * actor.disagreement_cost, actor.exponent
        )
        client = actor.client
        if client is not None and np.any(actor.patron_weight > 0):
            weight = actor.patron_weight
            budget = (1 - weight) * actor.disagreement_cost + weight * client.disagreement_cost
            eff_low, eff_high = sublevel_interval(
                actor.ideal,
                (1 - weight) * actor.salience,
                client.ideal,
                weight * client.salience,
                phi * budget,
                actor.exponent,
            )
            narrow_low, narrow_high = np.maximum(low, eff_low), np.minimum(high, eff_high)
            both = (weight > 0) & (narrow_low <= narrow_high)
            low = np.where(both, narrow_low, low)
            high = np.where(both, narrow_high, high)
        return low, high

    def demand(self, tau: np.ndarray | float) -> np.ndarray:
        actor = self.actor
        low, high = self.acceptable_interval(tau)
        position = np.where(low <= high, np.clip(actor.target, low, high), actor.ideal)
        for columns in actor.divisions.values():
            position = split_division(position, columns, actor.ideal)
        return position


def split_division(position: np.ndarray, columns: list[int], ideal: np.ndarray) -> np.ndarray:
    """Make a division's columns sum to one: keep the actor's own share, split the rest equally."""
    position = np.array(position, dtype=float, copy=True)
    own = [k for k in columns if np.all(ideal[..., k] == 1.0)]
    others = [k for k in columns if k not in own]
    if own and others:
        keep = position[..., own[0]]
        position[..., others] = ((1.0 - keep) / len(others))[..., None]
    else:
        position[..., columns] = 1.0 / len(columns)
    return position
