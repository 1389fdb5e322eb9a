"""The exchange model of voting positions, one round at a time: the engine of `sim.protocols.exchange`.

Sources: F. N. Stokman & R. Van Oosten (1994), "The exchange of voting positions: an
object-oriented model of policy networks", in Bueno de Mesquita & Stokman (eds.), European
Community Decision Making, Yale UP, 105-127; J. Dijkstra, M. A. L. M. Van Assen & F. N. Stokman
(2008), "Outcomes of collective decisions with externalities predicted", J. Theoretical Politics
20(4):415-441 (the equal gain and random exchange rates); and decide, the reference
implementation (repository foarsitter/decide-exchange-model, release 2022.1.28), whose rules of
detail this module follows so that both give the same exchanges (`benchmarks/decide_reference.py`).

Positions are on decide's scale, 0 to 100. On each issue the outcome is the weighted mean of the
voting positions, weights capability x salience (decide's "Nash bargaining solution", the
compromise model). A round:

1. Each actor with a stake in issues p and q (capability times salience above 0 on both) is left
   of an issue's outcome or not. Two actors on opposite sides of the outcome on both issues, or each left on a
   different one, can trade: the one who cares relatively more about p (salience ratio p / q) shifts
   its vote on q toward the other's position, which shifts its vote on p toward its own. Issue
   pairs in order, actors in order, make the list of potential exchanges.
2. Each exchange is sized so that one of the two moves all the way to the other's position and
   the other moves as far as the exchange rate says: the ratio of the shifts of the two outcomes
   is dq / dp = (s_ip + s_jp) / (s_iq + s_jq) under equal gain, so that both gain
   dp s_ip - dq s_iq = dq s_jq - dp s_jp; under random rate it is drawn uniformly between the two
   actors' indifference ratios, so that both gain, not equally. Where a move would carry an
   issue's outcome past the partner's position, it stops where the outcome reaches it, and the
   other move shrinks to keep the rate. A move is allowed only if it stays in [0, 100], is larger
   than 1e-10 and goes the same way as the actor's earlier moves on that issue in the round.
3. The exchange with the largest gain (under random rate, the larger smaller gain of the two) is
   realised; ties go to the earlier in the list. Every other exchange of an actor on an issue it
   moved is recomputed from its new position; an exchange whose partner now demands an issue
   on which the realised one moved a vote remembers that vote (the kept position is the one
   nearer where the mover started); exchanges no longer allowed are dropped. Repeat until none
   is left.
4. The round's outcome is the weighted mean of the voting positions. Each actor that moved starts
   the next round part of the way toward its vote: x' = (1 - (1 - s) w_s - w_f) x + ((1 - s) w_s +
   w_f) y, with s its salience on the issue, w_s the salience weight (0.4) and w_f the fixed
   weight (0.1).

Ties: decide breaks exact ties in gain at random by default; this engine, like decide with its
switch `EqualGainModel.ALLOW_RANDOM = False`, takes them in list order, so that a run is
deterministic. decide's random rate model does not run in release 2022.1.28 (it reads attributes
its exchange actors lack); the random rate here follows the paper.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

SCALE = 100.0
"""decide's scale: positions run from 0 to 100."""
SMALLEST_MOVE = 1e-10
"""A move this small or smaller is no move (decide's threshold, on its scale)."""
SMALLEST_GAIN = 1e-10
"""An exchange that gains this little or less is not made."""
AT_PARTNER = 1e-9
"""An outcome this close to the partner's position is at it (decide compares in 28-digit decimals)."""
TIE_DIGITS = 12
"""Gains equal to this many decimals are a tie (decide computes in 28-digit decimals)."""


@dataclass
class Side:
    """One actor's part in an exchange: it shifts its vote on its supply issue and is paid in votes
    on its demand issue."""

    actor: int
    supply: int
    demand: int
    position: float
    """Its vote on the supply issue before this exchange."""
    wanted: float
    """Its own position on the demand issue, where it wants the partner's vote."""
    start: float
    """Its position on the supply issue at the start of the round."""
    vote: float = float("nan")
    """Its vote on the supply issue after this exchange."""
    move: float = 0.0
    moves: list[float] = field(default_factory=list)
    """The moves of this side so far in the round, the current one last."""
    gain: float = 0.0


@dataclass
class Exchange:
    """Two actors trading votes on two issues: `first` supplies q and demands p, `second` the reverse."""

    first: Side
    second: Side
    rate: float
    """dq / dp: the shift of the outcome on q per unit of shift on p."""
    gain: float = 0.0
    allowed: bool = True
    remembered: dict[int, dict[int, float]] = field(default_factory=dict)
    """Per issue, votes of other actors moved by realised exchanges, as this exchange counts them."""

    @property
    def supplies(self) -> set[tuple[int, int]]:
        """(actor, issue) of each side's supply."""
        return {(self.first.actor, self.first.supply), (self.second.actor, self.second.supply)}

    @property
    def demands(self) -> set[tuple[int, int]]:
        """(actor, issue) of each side's demand."""
        return {(self.first.actor, self.first.demand), (self.second.actor, self.second.demand)}


@dataclass(frozen=True)
class Table:
    """The numbers of one round: start positions, saliences, capabilities, who has a stake."""

    positions: np.ndarray
    """Shape (actors, issues), on 0-100."""
    salience: np.ndarray
    capability: np.ndarray
    stake: np.ndarray
    """Shape (actors, issues): True where the actor takes part (present, capability times salience
    above 0)."""

    @property
    def weights(self) -> np.ndarray:
        return np.where(self.stake, self.salience * self.capability[:, None], 0.0)

    def outcome(self, positions: np.ndarray | None = None) -> np.ndarray:
        """Per issue, the weighted mean of `positions` (the start positions by default)."""
        weights = self.weights
        values = self.positions if positions is None else positions
        totals = weights.sum(axis=0)
        sums = np.where(self.stake, values * weights, 0.0).sum(axis=0)
        return np.divide(sums, totals, out=np.zeros_like(totals), where=totals > 0)


@dataclass(frozen=True)
class Round:
    """What one round did: the exchanges realised, the votes, their outcome and the next start."""

    exchanges: list[Exchange]
    votes: np.ndarray
    outcome: np.ndarray
    next_positions: np.ndarray


class Market:
    """The potential exchanges of one round, and the rules that size and recompute them."""

    def __init__(self, table: Table, random_rate: Callable[[int], float] | None = None) -> None:
        self.table = table
        weights = table.weights
        self.totals: list[float] = weights.sum(axis=0).tolist()
        self.sums: list[float] = np.where(table.stake, table.positions * weights, 0.0).sum(axis=0).tolist()
        self.positions: list[list[float]] = table.positions.tolist()
        self.salience: list[list[float]] = table.salience.tolist()
        self.pulls: list[list[float]] = (table.salience * table.capability[:, None]).tolist()
        self.stake: list[list[bool]] = table.stake.tolist()
        self.random_rate = random_rate
        """Given an exchange's number in the list, a uniform draw in [0, 1); None for equal gain."""

    def pull(self, actor: int, issue: int) -> float:
        """An actor's capability times salience on an issue: how hard it pulls the outcome."""
        return self.pulls[actor][issue]

    def outcome_with(self, issue: int, remembered: dict[int, float], actor: int, position: float) -> float:
        """The outcome of `issue` with the remembered votes, and `actor` at `position`."""
        votes = {**remembered, actor: position}
        return self._weighted(issue, votes) / self.totals[issue]

    def shift_to(
        self, issue: int, remembered: dict[int, float], actor: int, position: float, target: float
    ) -> float:
        """How far `actor`, at `position`, must move for the outcome of `issue` to reach `target`
        (the remembered votes counting over the actor's own)."""
        votes = {actor: position, **remembered}
        return abs((target * self.totals[issue] - self._weighted(issue, votes)) / self.pull(actor, issue))

    def _weighted(self, issue: int, votes: dict[int, float]) -> float:
        """Σ capability x salience x position over the actors with a stake, some at other votes."""
        total = self.sums[issue]
        for actor, vote in votes.items():
            if self.stake[actor][issue]:
                total += (vote - self.positions[actor][issue]) * self.pulls[actor][issue]
        return total

    def move_for(self, side: Side, shift: float) -> float:
        """How far `side` moves its vote to shift the outcome of its supply issue by `shift`."""
        return shift * self.totals[side.supply] / self.pull(side.actor, side.supply)

    def shift_for(self, side: Side, move: float) -> float:
        """How far the outcome of `side`'s supply issue shifts when it moves its vote by `move`."""
        return move * self.pull(side.actor, side.supply) / self.totals[side.supply]

    # Potential exchanges

    def open(self) -> list[Exchange]:
        """Every potential exchange, in decide's order: issue pairs, then actors."""
        table = self.table
        left = table.positions <= self.table.outcome()[None, :]
        exchanges: list[Exchange] = []
        issues = table.positions.shape[1]
        for p in range(issues):
            for q in range(p + 1, issues):
                both = np.flatnonzero(table.stake[:, p] & table.stake[:, q])
                group = left[both, p].astype(int) + 2 * left[both, q].astype(int)
                for a, b in ((0, 3), (1, 2)):
                    for i in both[group == a]:
                        for j in both[group == b]:
                            exchanges.append(self.pair(int(i), int(j), p, q, len(exchanges)))
        return exchanges

    def pair(self, i: int, j: int, p: int, q: int, number: int) -> Exchange:
        """The exchange of actors i and j on issues p and q: the actor who cares relatively more
        about p supplies q."""
        s = self.salience
        if s[i][p] / s[i][q] < s[j][p] / s[j][q]:
            i, j = j, i
        first, second = self.side(i, q, p), self.side(j, p, q)
        rate = (s[j][p] + s[i][p]) / (s[j][q] + s[i][q])
        if self.random_rate is not None:
            low, high = sorted((s[j][p] / s[j][q], s[i][p] / s[i][q]))
            rate = low + (high - low) * self.random_rate(number)
        exchange = Exchange(first, second, rate)
        self.size(exchange)
        return exchange

    def side(self, actor: int, supply: int, demand: int) -> Side:
        start = self.positions[actor][supply]
        return Side(actor, supply, demand, start, self.positions[actor][demand], start)

    # Sizing

    def size(self, exchange: Exchange) -> None:
        """Size the exchange at the current votes; then stop outcomes at the partners' positions."""
        first, second = exchange.first, exchange.second
        full_p = abs(first.wanted - second.position)
        dp = self.shift_for(second, full_p)
        dq = dp * exchange.rate
        move_first, move_second = self.move_for(first, dq), full_p
        full_q = abs(second.wanted - first.position)
        if move_first > full_q:
            dq = self.shift_for(first, full_q)
            dp = dq / exchange.rate
            move_first, move_second = full_q, self.move_for(second, dp)
        self.set_moves(first, second, move_first, move_second)
        self.pay(exchange, dp, dq)
        exchange.allowed = (
            self.allows(first, first.move)
            and self.allows(second, second.move)
            and exchange.gain >= SMALLEST_GAIN
        )
        if not exchange.allowed:
            return
        self.stop_at_partner(exchange, first, second)
        self.stop_at_partner(exchange, second, first)
        exchange.allowed = self.allows(first, first.move) and self.allows(second, second.move)

    @staticmethod
    def set_moves(first: Side, second: Side, move_first: float, move_second: float) -> None:
        """Give the moves their directions, toward the partners' positions, and record them."""
        first.move = -move_first if first.position > second.wanted else move_first
        second.move = -move_second if second.position > first.wanted else move_second
        first.moves.append(first.move)
        second.moves.append(second.move)
        first.vote = first.position + first.move
        second.vote = second.position + second.move

    def pay(self, exchange: Exchange, dp: float, dq: float) -> None:
        """Each side's gain from the outcome shifts dp (on p) and dq (on q)."""
        s = self.salience
        first, second = exchange.first, exchange.second
        first.gain = abs(dp * s[first.actor][first.demand] - dq * s[first.actor][first.supply])
        second.gain = abs(dq * s[second.actor][second.demand] - dp * s[second.actor][second.supply])
        exchange.gain = first.gain if self.random_rate is None else min(first.gain, second.gain)

    def stop_at_partner(self, exchange: Exchange, mover: Side, partner: Side) -> None:
        """If the mover's vote carries the outcome of its supply issue past the partner's position,
        move it only as far as that, and shrink the partner's move to keep the rate."""
        remembered = exchange.remembered.get(mover.supply, {})
        before = self.outcome_with(mover.supply, remembered, mover.actor, mover.position)
        after = self.outcome_with(mover.supply, remembered, mover.actor, mover.vote)
        target = partner.wanted
        if abs(before - target) <= AT_PARTNER or (before - target) * (after - target) >= 0:
            return
        move = self.shift_to(mover.supply, remembered, mover.actor, mover.position, target)
        shift = self.shift_for(mover, move)
        paid = shift * exchange.rate if mover is exchange.second else shift / exchange.rate
        partner_move = abs(self.move_for(partner, paid))
        partner.move = -partner_move if partner.position > mover.wanted else partner_move
        mover.move = -move if mover.position > partner.wanted else move
        partner.moves[-1] = partner.move
        mover.moves[-1] = mover.move
        partner.vote = partner.position + partner.move
        mover.vote = mover.position + mover.move
        dp, dq = (paid, shift) if mover is exchange.first else (shift, paid)
        self.pay(exchange, dp, dq)

    @staticmethod
    def allows(side: Side, move: float) -> bool:
        """Whether a move is allowed: large enough, inside the scale, the same way as the side's
        earlier moves in the round, and not beyond the scale in all."""
        if abs(move) > SCALE or abs(move) <= SMALLEST_MOVE:
            return False
        if not 0.0 <= side.position + move <= SCALE:
            return False
        if sum(side.moves) > SCALE:
            return False
        return all(m < 0 for m in side.moves) or all(m > 0 for m in side.moves)

    # After an exchange is realised

    def update(self, exchange: Exchange, realised: Exchange) -> None:
        """Recompute `exchange` where `realised` moved one of its actors' votes."""
        sides = (exchange.first, exchange.second)
        moved = [self.follow(side, realised) for side in sides]
        recompute = any(moved)
        if recompute:
            for side in sides:
                side.moves.pop()
        for giver, taker in ((realised.first, realised.second), (realised.second, realised.first)):
            if not any(taker.actor == side.actor and taker.demand == side.demand for side in sides):
                continue
            votes = exchange.remembered.setdefault(taker.demand, {})
            votes[giver.actor] = kept(giver, votes[giver.actor]) if giver.actor in votes else giver.vote
            if not recompute:
                for side in sides:
                    side.moves.pop()
                recompute = True
        if recompute:
            self.size(exchange)

    @staticmethod
    def follow(side: Side, realised: Exchange) -> bool:
        """If `realised` moved this side's actor on its supply issue, take that vote as its position."""
        for other in (realised.first, realised.second):
            if other.actor == side.actor and other.supply == side.supply:
                side.position = other.vote
                side.moves.append(other.moves[-1])
                return True
        return False

    def trade(self) -> list[Exchange]:
        """Realise exchanges, largest gain first, until none is left."""
        exchanges = self.open()
        realised: list[Exchange] = []
        while exchanges:
            exchanges.sort(key=lambda e: -round(e.gain, TIE_DIGITS))
            best = exchanges.pop(0)
            if not best.allowed:
                continue
            supplies, demands = best.supplies, best.demands
            remaining = []
            for exchange in exchanges:
                if not exchange.allowed:
                    continue
                if not (exchange.supplies.isdisjoint(supplies) and exchange.demands.isdisjoint(demands)):
                    self.update(exchange, best)
                if exchange.allowed:
                    remaining.append(exchange)
            exchanges = remaining
            realised.append(best)
        return realised


def kept(giver: Side, remembered: float) -> float:
    """Of a remembered vote and a new vote of the same actor, the one decide keeps: the nearer to
    where the actor started, on the side it moved to."""
    if giver.start <= remembered:
        return min(remembered, giver.vote)
    return max(remembered, giver.vote)


def play_round(
    table: Table,
    salience_weight: float = 0.4,
    fixed_weight: float = 0.1,
    random_rate: Callable[[int], float] | None = None,
) -> Round:
    """One round of the exchange model on `table`."""
    realised = Market(table, random_rate).trade()
    votes = table.positions.copy()
    for exchange in realised:
        for side in (exchange.first, exchange.second):
            votes[side.actor, side.supply] = side.vote
    next_positions = table.positions.copy()
    for exchange in realised:
        for side in (exchange.first, exchange.second):
            toward = (1.0 - table.salience[side.actor, side.supply]) * salience_weight + fixed_weight
            next_positions[side.actor, side.supply] = toward * side.vote + (1.0 - toward) * side.start
    return Round(realised, votes, table.outcome(votes), next_positions)
