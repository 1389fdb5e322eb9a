"""Why each issue closed or failed: the veto players' acceptable ranges, the zone of possible
agreement between them, and who blocked the last texts.

A veto player (a present signatory) accepts a text on an issue when its loss there is at most the
share φ of what no agreement costs it (`sim.strategies.time_dependent`); for a patron, also on its
effective utility. So at concession φ it accepts an interval of texts, which `sublevel_interval`
gives in closed form. The zone of possible agreement (ZOPA; Walton & McKersie 1965, Raiffa 1982,
*The Art and Science of Negotiation*, ch. 4) is the set of texts enough veto players accept: all of
them under unanimity, more than half under a majority rule. When it is empty, the ranges miss by a
gap: the least widening, on both sides of every range, that would make enough of them meet, twice
over (under unanimity, the highest lower end minus the lowest upper end).

At the deadline every veto player has conceded all the way (φ = 1): its range is then the texts
no worse for it than no agreement, which the scenario's numbers alone decide. At an earlier step
φ comes from the trace, whose aspirations are 1 - φ (1 - r). Texts the observers endorse may be
accepted ahead of that pace (the alternating protocol's `observer_support`): an agreed text outside
the zone at its step says so. Blockers are the veto players that rejected the last text on an
issue before the talks ended, read from the trace's answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.core.preferences import Preferences
from sim.core.scenario import Decision, Role, Scenario
from sim.strategies.time_dependent import TimeDependent

AT_THE_DEADLINE = frozenset({"compromise", "eum", "exchange"})
"""Protocols that put their text to the signatories as at their deadline (φ = 1), whatever the step."""
HONOURS_MAJORITY = frozenset({"alternating"})
"""Protocols that agree by a majority of the signatories when the scenario's decision rule says so."""
INSIDE = 1e-9
"""How far a text may lie outside a range and still count as inside it (rounding)."""
SEARCH_TOLERANCE = 1e-9
"""`gap` takes the exact least widening over the points whose widening is this close to it."""
CHUNK = 1 << 22
"""Entries of the largest (points or veto players) x veto players array `gap` and `apart` build at once."""


@dataclass(frozen=True)
class Ranges:
    """Each veto player's acceptable interval per issue column: NaN where its strategy has none."""

    actors: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray
    """Shape (veto players, columns); low > high where a veto player accepts nothing."""

    def of(self, column: int) -> dict[str, list[float] | None]:
        """Each veto player's range on `column` as [low, high] (None when empty or unknown)."""
        return {
            actor: _interval(self.low[i, column], self.high[i, column]) for i, actor in enumerate(self.actors)
        }


def veto_players(scenario: Scenario) -> list[int]:
    """The present signatories: the actors whose acceptance a text needs."""
    return [i for i in range(scenario.n_actors) if scenario.signatories[i] and scenario.present[i]]


def needed(scenario: Scenario, protocol: str, count: int) -> int:
    """How many of `count` veto players must accept a text under the scenario's rule."""
    if scenario.decision == Decision.majority and protocol in HONOURS_MAJORITY:
        return count // 2 + 1
    return count


def seated(scenario: Scenario) -> list[Preferences]:
    """Every actor's preferences, each patron linked to its client."""
    actors = [Preferences(scenario, i) for i in range(scenario.n_actors)]
    for actor in actors:
        client = int(scenario.client[actor.index])
        actor.client = actors[client] if client >= 0 else None
    return actors


def acceptable_ranges(scenario: Scenario, concession: np.ndarray | float = 1.0) -> Ranges:
    """Each veto player's acceptable texts per column at concession φ: one φ for all, one per veto
    player (shape (veto players,)), or one per step and veto player (shape (steps, veto players),
    giving ranges of shape (steps, veto players, columns)). 1 is the deadline. NaN for a strategy
    other than time-dependent concession."""
    rows = veto_players(scenario)
    actors = seated(scenario)
    phi = np.asarray(concession, dtype=float)
    phi = np.broadcast_to(phi, (*phi.shape[:-1], len(rows)) if phi.ndim else (len(rows),))
    low = np.full((*phi.shape, scenario.n_columns), np.nan)
    high = np.full_like(low, np.nan)
    for row, index in enumerate(rows):
        if scenario.strategies[index] != TimeDependent.name:
            continue
        actor = actors[index]
        tau = np.power(np.clip(phi[..., row], 0.0, 1.0), actor.beta)[..., None]
        low[..., row, :], high[..., row, :] = TimeDependent(actor).acceptable_interval(tau)
        unknown = np.isnan(phi[..., row])
        low[unknown, row], high[unknown, row] = np.nan, np.nan
    return Ranges(tuple(scenario.actors[i] for i in rows), low, high)


def zone(low: np.ndarray, high: np.ndarray, enough: int) -> list[list[float]]:
    """The segments of [0, 1] that at least `enough` of the intervals [low, high] cover."""
    known = ~np.isnan(low) & ~np.isnan(high) & (low <= high)
    if enough < 1 or known.sum() < enough:
        return []
    events = sorted([(float(a), 0) for a in low[known]] + [(float(b), 1) for b in high[known]])
    segments, covering, start = [], 0, 0.0
    for point, kind in events:
        if kind == 0:
            covering += 1
            if covering == enough:
                start = point
        else:
            if covering == enough:
                segments.append([start, point])
            covering -= 1
    return segments


def gap(low: np.ndarray, high: np.ndarray, enough: int) -> float | None:
    """How far apart the ranges are: twice the least widening of every range that makes `enough`
    of them meet (under unanimity, the highest lower end minus the lowest upper end); 0 when they
    meet, None when fewer than `enough` ranges are known.

    The least widening is the least, over the points p, of the `enough`-th smallest distance from p
    to a range; it is reached at a low end, a high end or a midpoint between a low end and a high
    end. It is found by bisection on the widening, and then taken exactly over the points within
    `SEARCH_TOLERANCE` of it (`_near_optimal_points`)."""
    known = ~np.isnan(low) & ~np.isnan(high) & (low <= high)
    if enough < 1 or known.sum() < enough:
        return None
    lows, highs = low[known], high[known]
    if _covered(lows, highs, 0.0, enough):
        return 0.0
    points = _near_optimal_points(lows, highs, _least_widening(lows, highs, enough))
    return float(2 * _widening_at(lows, highs, points, enough).min())


def _covered(lows: np.ndarray, highs: np.ndarray, widening: float, enough: int) -> bool:
    """Whether some point lies in at least `enough` of the ranges widened by `widening` on each side."""
    starts, ends = np.sort(lows - widening), np.sort(highs + widening)
    inside = np.searchsorted(starts, starts, side="right") - np.searchsorted(ends, starts, side="left")
    return bool(inside.max() >= enough)


def _least_widening(lows: np.ndarray, highs: np.ndarray, enough: int) -> float:
    """The least widening that makes `enough` ranges meet, by bisection (from above, to rounding)."""
    below, above = 0.0, float(lows.max() - highs.min())
    for _ in range(200):
        middle = 0.5 * (below + above)
        if not below < middle < above:
            break
        if _covered(lows, highs, middle, enough):
            above = middle
        else:
            below = middle
    return above


def _near_optimal_points(lows: np.ndarray, highs: np.ndarray, widening: float) -> np.ndarray:
    """The midpoints (low + high) / 2 of the pairs of ends 2·`widening` apart, and the ends near them,
    to within `SEARCH_TOLERANCE`: where the least widening is reached."""
    low_values, high_values = np.unique(lows), np.unique(highs)
    target = low_values - 2 * widening
    first = np.searchsorted(high_values, target - SEARCH_TOLERANCE, side="left")
    last = np.searchsorted(high_values, target + SEARCH_TOLERANCE, side="right")
    counts = last - first
    which = np.repeat(np.arange(len(low_values)), counts)
    partner = np.arange(counts.sum()) + np.repeat(first - (np.cumsum(counts) - counts), counts)
    midpoints = np.unique((low_values[which] + high_values[partner]) / 2)
    ends = np.unique(np.concatenate([lows, highs]))
    near = np.searchsorted(midpoints, ends - SEARCH_TOLERANCE, side="left") < np.searchsorted(
        midpoints, ends + SEARCH_TOLERANCE, side="right"
    )
    return np.concatenate([ends[near], midpoints])


def _widening_at(lows: np.ndarray, highs: np.ndarray, points: np.ndarray, enough: int) -> np.ndarray:
    """At each point, the `enough`-th smallest distance to a range, a block of points at a time."""
    size = max(1, CHUNK // max(len(lows), 1))
    out = []
    for start in range(0, len(points), size):
        block = points[start : start + size]
        distance = np.maximum(
            0.0, np.maximum(lows[None, :] - block[:, None], block[:, None] - highs[None, :])
        )
        out.append(np.partition(distance, enough - 1, axis=1)[:, enough - 1])
    return np.concatenate(out)


def apart(ranges: Ranges, column: int) -> list[dict[str, Any]]:
    """The pairs of veto players whose ranges on `column` do not overlap, and by how much: the
    widest gap first, pairs in order of their first and then second veto player among equals."""
    low, high = ranges.low[:, column], ranges.high[:, column]
    rows = np.flatnonzero(~np.isnan(low) & ~np.isnan(high) & (low <= high))
    first, second, gaps = _apart_pairs(low[rows], high[rows])
    order = np.argsort(-gaps, kind="stable")
    return [
        {"actors": [ranges.actors[rows[i]], ranges.actors[rows[j]]], "gap": float(distance)}
        for i, j, distance in zip(
            first[order].tolist(), second[order].tolist(), gaps[order].tolist(), strict=True
        )
    ]


def _apart_pairs(low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs i < j of the ranges [low, high] more than `INSIDE` apart, in order, and their gaps."""
    n = len(low)
    size = max(1, CHUNK // max(n, 1))
    firsts, seconds, gaps = [np.zeros(0, dtype=int)], [np.zeros(0, dtype=int)], [np.zeros(0)]
    for start in range(0, n, size):
        i = np.arange(start, min(start + size, n))[:, None]
        distance = np.maximum(low[i] - high[None, :], low[None, :] - high[i])
        first, second = np.nonzero((distance > INSIDE) & (np.arange(n)[None, :] > i))
        firsts.append(first + start)
        seconds.append(second)
        gaps.append(distance[first, second])
    return np.concatenate(firsts), np.concatenate(seconds), np.concatenate(gaps)


def zone_report(ranges: Ranges, column: int, enough: int) -> dict[str, Any]:
    """The ranges on `column`, the zone they leave, their gap and the pairs that do not overlap."""
    low, high = ranges.low[:, column], ranges.high[:, column]
    return {
        "ranges": ranges.of(column),
        "zone": zone(low, high, enough),
        "gap": gap(low, high, enough),
        "apart": apart(ranges, column),
    }


def position_in(segments: Sequence[Sequence[float]], text: float) -> float | None:
    """Where `text` lies in the zone segment that holds it: 0 at its low end, 1 at its high end."""
    for low, high in segments:
        if low - INSIDE <= text <= high + INSIDE:
            return 0.5 if high - low <= INSIDE else float(np.clip((text - low) / (high - low), 0.0, 1.0))
    return None


@dataclass(frozen=True)
class Ending:
    """How each replication ended, as the outcome arrays say: what the explanation reads."""

    seeds: np.ndarray
    agreed: np.ndarray
    """(replications, columns)."""
    value: np.ndarray
    agreed_step: np.ndarray
    walked_out_step: np.ndarray
    """(replications, actors): the step each party left at, or -1."""
    last_answer: np.ndarray
    """(replications, veto players, columns): each veto player's answer to the last text there."""


@dataclass(frozen=True)
class Shares:
    """Over a batch's replications: per party and column, the share that ended with the party
    walking out while the issue was open; per veto player and column, the share in which the issue
    failed and the veto player rejected the last text there."""

    walked_out: np.ndarray
    """(parties, columns)."""
    blocked: np.ndarray
    """(veto players, columns)."""


def walked_out_counts(scenario: Scenario, ending: Ending) -> np.ndarray:
    """Per party and column, how many replications ended with the party walking out while the
    issue was open."""
    parties = [i for i, role in enumerate(scenario.roles) if role == Role.party]
    left = ending.walked_out_step[:, parties] >= 0
    return (left[:, :, None] & ~ending.agreed[:, None, :]).sum(axis=0)


def blocked_counts(ending: Ending) -> np.ndarray:
    """Per veto player and column, how many replications failed there with the veto player
    rejecting the last text."""
    return (~ending.last_answer & ~ending.agreed[:, None, :]).sum(axis=0)


def explain(
    scenario: Scenario,
    protocol: str,
    shares: Shares,
    single: Ending | None = None,
    trace: pd.DataFrame | None = None,
) -> dict[str, dict[str, Any]]:
    """Per issue (a division by its name), why it closed or failed; see the module's docstring.
    `single` is the ending of a run of one replication, and `trace` its trace, when there is one.

    Keys: `at_deadline` (ranges, zone, gap, apart: the veto players at φ = 1; None for a
    division), `at_close` (one agreed replication with its trace: the same at the step it closed,
    with the text, where it lay in the zone and who accepted it ahead of pace; else None),
    `blocked` (per veto player, the share of replications in which the issue failed and it
    rejected the last text), `streak` (per veto player, for one
    replication with its trace: how many texts in a row it rejected at the end; else None
    values), `walked_out` (per party, the share of replications that ended with it walking out
    while the issue was open), and `by_step` (one replication with its trace: each veto player's
    range at every step the issue was open; else None).
    """
    deadline = acceptable_ranges(scenario)
    enough = needed(scenario, protocol, len(deadline.actors))
    if single is None or trace is None:
        single, trace = None, None
    answers = None if single is None or trace is None else last_answers(trace, single.seeds)
    by_step = {} if trace is None else ranges_by_step(scenario, protocol, trace)
    parties = [scenario.actors[i] for i, role in enumerate(scenario.roles) if role == Role.party]
    issues: dict[str, dict[str, Any]] = {}
    for k, column in enumerate(scenario.columns):
        name = column.issue
        if name in issues:
            continue
        division = bool(column.division)
        why: dict[str, Any] = {
            "at_deadline": None if division else zone_report(deadline, k, enough),
            "at_close": None,
            "blocked": {actor: float(shares.blocked[j, k]) for j, actor in enumerate(deadline.actors)},
            "streak": dict.fromkeys(deadline.actors),
            "walked_out": {actor: float(shares.walked_out[j, k]) for j, actor in enumerate(parties)},
            "by_step": by_step.get(name),
        }
        if single is not None and answers is not None and trace is not None:
            why["streak"] = streaks(scenario, single, answers, k)
            if single.agreed[0, k] and not division:
                why["at_close"] = at_close(scenario, protocol, single, trace, k, enough)
        issues[name] = why
    return issues


ANSWER_KEYS = ["seed", "issue", "actor"]


def last_answers(trace: pd.DataFrame, seeds: np.ndarray) -> pd.DataFrame:
    """Per replication (by seed), issue column and veto player: its answer to the last text put
    on the column (`accept`, 1 or 0) and how many texts in a row it had rejected by then (`streak`).
    A trace without a seed column is the trace of the one replication with `seeds[0]`."""
    rows = trace.loc[
        trace["quantity"] == "accept", [c for c in (*ANSWER_KEYS, "step", "value") if c in trace]
    ]
    if "seed" not in rows:
        rows = rows.assign(seed=int(seeds[0]))
    rows = rows.sort_values([*ANSWER_KEYS, "step"], kind="stable")
    order = rows.groupby(ANSWER_KEYS, sort=False).cumcount()
    rows = rows.assign(accepted_at=np.where(rows["value"].to_numpy() > 0.5, order.to_numpy(), -1))
    groups = rows.groupby(ANSWER_KEYS, sort=False)
    frame = pd.DataFrame(
        {
            "accept": groups["value"].last(),
            "streak": groups.size() - 1 - groups["accepted_at"].max(),
        }
    )
    return frame.reset_index()


def streaks(scenario: Scenario, ending: Ending, answers: pd.DataFrame, column: int) -> dict[str, int | None]:
    """Per veto player, for one replication whose issue on `column` failed: how many texts in a
    row it had rejected at the end (0 if it accepted the last one)."""
    vetoes = [scenario.actors[i] for i in veto_players(scenario)]
    issue = scenario.columns[column].name
    mine = (
        answers[(answers["issue"] == issue) & (answers["accept"] < 0.5)]
        if not ending.agreed[0, column]
        else answers[:0]
    )
    streak = dict(zip(mine["actor"], mine["streak"], strict=True))
    return {actor: int(streak.get(actor, 0)) for actor in vetoes}


def concession_at(scenario: Scenario, trace: pd.DataFrame, steps: np.ndarray) -> np.ndarray:
    """Each veto player's concession φ at `steps`, shape (steps, veto players), from its
    aspiration in the trace, 1 - φ (1 - r); NaN where the trace has none."""
    vetoes = veto_players(scenario)
    rows = trace[trace["quantity"] == "aspiration"]
    at = pd.Index(steps).get_indexer(pd.Index(rows["step"]))
    who = pd.Index([scenario.actors[i] for i in vetoes]).get_indexer(pd.Index(rows["actor"]))
    kept = (at >= 0) & (who >= 0)
    aspiration = np.full((len(steps), len(vetoes)), np.nan)
    aspiration[at[kept], who[kept]] = rows["value"].to_numpy(dtype=float)[kept]
    return (1.0 - aspiration) / (1.0 - scenario.reservation[vetoes])


def at_close(
    scenario: Scenario, protocol: str, ending: Ending, trace: pd.DataFrame, column: int, enough: int
) -> dict[str, Any]:
    """The zone at the step `column` closed in the one replication, and where its text lay in it."""
    step = int(ending.agreed_step[0, column])
    text = float(ending.value[0, column])
    phi = 1.0 if protocol in AT_THE_DEADLINE else concession_at(scenario, trace, np.array([step]))[0]
    ranges = acceptable_ranges(scenario, phi)
    report = zone_report(ranges, column, enough)
    low, high = ranges.low[:, column], ranges.high[:, column]
    outside = ~((low - INSIDE <= text) & (text <= high + INSIDE)) & ~np.isnan(low)
    return {
        "step": step,
        "text": text,
        **report,
        "position": position_in(report["zone"], text),
        "ahead_of_pace": [actor for actor, out in zip(ranges.actors, outside, strict=True) if out],
    }


def ranges_by_step(scenario: Scenario, protocol: str, trace: pd.DataFrame) -> dict[str, Any]:
    """For one replication's trace: per issue column, each veto player's range at every step the
    column was open, as {"steps": [...], "ranges": {actor: [[low, high] or None, ...]}}."""
    offers = trace[trace["quantity"] == "offer"]
    steps = np.sort(offers["step"].unique())
    if protocol in AT_THE_DEADLINE:
        phi: np.ndarray | float = np.ones((len(steps), len(veto_players(scenario))))
    else:
        phi = concession_at(scenario, trace, steps)
    ranges = acceptable_ranges(scenario, phi)
    by_column: dict[str, Any] = {}
    for k, column in enumerate(scenario.columns):
        if column.division:
            continue
        shown = np.isin(steps, offers.loc[offers["issue"] == column.name, "step"].unique())
        by_column[column.name] = {
            "steps": [int(step) for step in steps[shown]],
            "ranges": {
                actor: [
                    _interval(lo, hi)
                    for lo, hi in zip(ranges.low[shown, i, k], ranges.high[shown, i, k], strict=True)
                ]
                for i, actor in enumerate(ranges.actors)
            },
        }
    return by_column


def _interval(low: float, high: float) -> list[float] | None:
    if np.isnan(low) or np.isnan(high) or low > high:
        return None
    return [float(low), float(high)]
