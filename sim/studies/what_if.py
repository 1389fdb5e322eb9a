"""What would it take: the smallest change of each parameter that flips an issue's outcome.

For each issue (or `what_if.issue`) and each parameter — every present actor's ideal point and
stated salience per issue, reservation, capability, concession exponent and (for a patron) weight
on its client, each actor's presence, and each setting of the protocol — the smallest change
within the parameter's range that brings the issue to its target: agreed in at least half of the
job's `replications` runs (seeds seed, seed + 1, ...), or failed in more than half. The target is
`what_if.target`, else the opposite of the issue's outcome.

Method: a one-at-a-time threshold (break-even) search. From the parameter's value toward each end
of its range, `what_if.scan` values are tried; the first bracket in which the outcome reaches the
target is bisected until it is narrower than `what_if.tolerance` of the range. The changes are
ranked by their size relative to the range, as in a tornado diagram (Howard 1988, "Decision
analysis: practice and promise", Management Science 34(6); one-at-a-time analysis in Saltelli et
al. 2008, *Global Sensitivity Analysis: The Primer*, ch. 1). A choice (presence, the recognition
rule) counts as a change of the whole range. Parameters that variants can set run side by side as
the replications of one batch (`sim.core.variants`), with common seeds; presence and protocol
settings run one batch per value. Every reported threshold is run again, with a value just short
of it: `verified` says the first reaches the target and the second does not. With `what_if.pairs`
the two parameters with the smallest changes are varied together on a grid, whose frontier is
where the outcome flips.
"""

from __future__ import annotations

import dataclasses
import math
import time
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.core.limits import MAX_STEPS
from sim.core.scenario import Role, Scenario
from sim.core.variants import variants_from_keys
from sim.errors import UserError
from sim.figures.what_if import write_what_if_plots
from sim.outputs.files import write_csv, write_json
from sim.protocols import ProtocolConfig
from sim.setup.job import Job, check_fit
from sim.setup.what_if import WhatIfJob, WhatIfTarget
from sim.studies.batch import run_batch
from sim.studies.series import round_negotiations

VARIANT, PRESENCE, PROTOCOL = "variant", "presence", "protocol"
"""How a parameter is changed: as a variant of a batch, or by one batch per value."""
CELLS_PER_CALL = 4_000_000
"""Replications times actors times columns run in one batch of variants (bounds their memory)."""
CONCESSION_RANGE = (0.1, 5.0)
"""Where the concession exponent β is searched (its valid range is β > 0)."""
SHARE_PROTOCOLS = frozenset({"eum"})
"""Protocols that read a stated salience as a share of attention, in [0, 1]."""
RESERVATION_HIGH = 0.99
"""The top of the reservation's search range (its valid range is [0, 1))."""


def _protocol_ranges(value: float) -> dict[str, tuple[float, float, bool]]:
    """Where each numeric protocol setting is searched: (low, high, whole number)."""
    return {
        "max_steps": (1, min(MAX_STEPS, 4 * value), True),
        "stall_steps": (1, 4 * value, True),
        "observer_support": (0.0, max(4.0, 4 * value), False),
        "revision": (0.01, 1.0, False),
    }


PROTOCOL_WORDS = {
    "max_steps": "the deadline (protocol.max_steps)",
    "stall_steps": "the steps before the mediator drafts (protocol.stall_steps)",
    "observer_support": "the weight of observers' endorsement (protocol.observer_support)",
    "recognition": "the recognition rule (protocol.recognition)",
    "revision": "the mediator's revision (protocol.revision)",
}


@dataclass(frozen=True)
class Knob:
    """One parameter that can change: its override key, its words, its value and its range."""

    key: str
    label: str
    """In words, with {issue} where the issue it is about goes."""
    baseline: Any
    low: float = 0.0
    high: float = 1.0
    kind: str = VARIANT
    integer: bool = False
    issue: str | None = None
    choices: tuple[Any, ...] = ()
    """The other values of a choice (presence, an enumerated protocol setting); empty for a number."""
    actor: str = ""
    """The name of the actor whose parameter it is, if any."""

    @property
    def width(self) -> float:
        return float(self.high - self.low)

    def decimals(self, tolerance: float) -> int:
        """Decimals to show a value with: enough for `tolerance` of the range."""
        if self.integer:
            return 0
        return max(0, math.ceil(-math.log10(max(tolerance * self.width, 1e-12)) - 0.1))


Trial = tuple[tuple[Knob, Any], ...]
"""Parameters set together to values, the others kept: one batch of runs."""


@dataclass
class Threshold:
    """The smallest change found of one parameter that brings one issue to its target."""

    issue: str
    target: WhatIfTarget
    knob: Knob
    value: Any
    short: Any
    """The value just short of it that does not reach the target (None for a choice)."""
    direction: int
    """+1 up, -1 down, 0 a choice."""
    probability: float = math.nan
    short_probability: float = math.nan
    verified: bool = False

    @property
    def change(self) -> float:
        """The size of the change relative to the parameter's range (1 for a choice)."""
        if self.knob.choices:
            return 1.0
        return abs(float(self.value) - float(self.knob.baseline)) / self.knob.width


@dataclass
class WhatIf:
    """What a what-if study found: per issue, its outcome and the changes that flip it."""

    job: Job
    probability: dict[str, float]
    targets: dict[str, WhatIfTarget | None]
    thresholds: list[Threshold]
    pairs: dict[str, dict[str, Any]] = field(default_factory=dict)
    evaluations: int = 0
    seconds: float = 0.0


def outcome(probability: float | np.ndarray) -> Any:
    """Agreed when agreed in at least half the runs."""
    return np.asarray(probability) >= 0.5


def reaches(probability: float | np.ndarray, target: WhatIfTarget) -> Any:
    return outcome(probability) == (target == WhatIfTarget.agreed)


# The parameters


def knobs(job: Job) -> list[Knob]:
    """Every parameter the study changes: the actors', then the protocol's."""
    scenario = job.scenario
    found: list[Knob] = []
    for i in range(scenario.n_actors):
        if scenario.present[i]:
            found += actor_knobs(scenario, i, shares=job.protocol.name in SHARE_PROTOCOLS)
        presence = presence_knob(scenario, i, job.protocol)
        if presence is not None:
            found.append(presence)
    return found + protocol_knobs(job.protocol)


def actor_knobs(scenario: Scenario, i: int, shares: bool = False) -> list[Knob]:
    """Actor i's numbers: ideal points and saliences per issue, reservation, capability,
    concession exponent, and its weight on its client. A salience is searched in [0, 1] when the
    protocol reads saliences as shares (`shares`), else up to twice the actor's largest, and not
    at all when the actor cares about nothing else (normalised, it stays 1)."""
    actor, name = scenario.actors[i], scenario.display_names[i]
    prefix = f"scenario.actors.{actor}"
    found = [
        Knob(
            f"{prefix}.ideal.{c.name}",
            f"{name}'s ideal point on {{issue}}",
            float(scenario.ideal[i, k]),
            issue=c.name,
        )
        for k, c in enumerate(scenario.columns)
        if not c.division
    ]
    stated_row = scenario.stated_salience[i]
    top = 1.0 if shares else max(1.0, 2 * float(stated_row.max()))
    for issue in scenario.issue_names:
        columns = [k for k, c in enumerate(scenario.columns) if c.name in (issue, f"{issue}.{actor}")]
        others = np.delete(stated_row, columns).sum() if columns else 0.0
        if columns and others > 0:
            stated = float(scenario.stated_salience[i, columns[0]])
            found.append(
                Knob(
                    f"{prefix}.salience.{issue}",
                    f"{name}'s salience on {{issue}}",
                    stated,
                    0.0,
                    top,
                    issue=issue,
                )
            )
    capabilities = scenario.capability
    low, high = CONCESSION_RANGE
    beta = float(scenario.concession[i])
    found += [
        Knob(
            f"{prefix}.reservation",
            f"{name}'s reservation",
            float(scenario.reservation[i]),
            0.0,
            RESERVATION_HIGH,
        ),
        Knob(
            f"{prefix}.capability",
            f"{name}'s capability",
            float(capabilities[i]),
            0.01 * float(capabilities.max()),
            2 * float(capabilities.max()),
        ),
        Knob(f"{prefix}.concession", f"{name}'s concession exponent", beta, min(low, beta), max(high, beta)),
    ]
    client = int(scenario.client[i])
    if client >= 0:
        words = f"{name}'s weight on {scenario.display_names[client]}"
        found.append(Knob(f"{prefix}.patron_weight", words, float(scenario.patron_weight[i])))
    return found


def presence_knob(scenario: Scenario, i: int, protocol: ProtocolConfig) -> Knob | None:
    """Actor i staying away (or coming), unless the scenario would then not fit its protocol and
    strategies (no signatory left, or two needed)."""
    present = scenario.present.copy()
    present[i] = not present[i]
    if not any(role == Role.signatory and here for role, here in zip(scenario.roles, present, strict=True)):
        return None
    try:
        check_fit(dataclasses.replace(scenario, present=present), protocol)
    except UserError:
        return None
    key = f"scenario.actors.{scenario.actors[i]}.present"
    name, here = scenario.display_names[i], bool(scenario.present[i])
    return Knob(
        key,
        f"{name}'s presence",
        here,
        kind=PRESENCE,
        choices=(not here,),
        actor=name,
    )


def protocol_knobs(protocol: ProtocolConfig) -> list[Knob]:
    """The protocol's settings: its numbers within their search ranges, its choices, its switches."""
    found = []
    hints = typing.get_type_hints(type(protocol))
    for spec in dataclasses.fields(protocol):
        name, value = spec.name, getattr(protocol, spec.name)
        key, words = f"protocol.{name}", PROTOCOL_WORDS.get(name, f"protocol.{name}")
        choices = _enum_of(hints.get(name))
        if choices is not None:
            others = tuple(member for member in choices if member != value)
            found.append(Knob(key, words, value, kind=PROTOCOL, choices=others))
        elif isinstance(value, bool):
            found.append(Knob(key, words, value, kind=PROTOCOL, choices=(not value,)))
        elif isinstance(value, (int, float)) and name in _protocol_ranges(value):
            low, high, whole = _protocol_ranges(float(value))[name]
            found.append(Knob(key, words, value, min(low, value), max(high, value), PROTOCOL, whole))
    return found


def _enum_of(hint: Any) -> type[Enum] | None:
    """The enumeration a type hint names (alone or with None), if any."""
    for candidate in (hint, *typing.get_args(hint)):
        if isinstance(candidate, type) and issubclass(candidate, Enum):
            return candidate
    return None


# Running trials


class Runner:
    """Runs trials, each a batch of the job's seeds, and counts them: P(agreed) per issue."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.seeds = job.seed + np.arange(job.replications, dtype=np.int64)
        scenario = job.scenario
        self.columns = [
            scenario.columns.index(next(c for c in scenario.columns if c.issue == issue))
            for issue in scenario.issue_names
        ]
        self.evaluations = 0
        self.targets: dict[int, WhatIfTarget] = {}
        """The issues searched (by their index) and the outcome each should reach."""

    def agreement(self, trials: Sequence[Trial]) -> np.ndarray:
        """P(agreed) per trial and issue (in the scenario's order of issues)."""
        result = np.full((len(trials), len(self.columns)), np.nan)
        batched = [n for n, trial in enumerate(trials) if trial and all(k.kind == VARIANT for k, _ in trial)]
        if batched:
            result[batched] = self._variants([trials[n] for n in batched])
        for n in sorted(set(range(len(trials))) - set(batched)):
            result[n] = self._alone(trials[n])
        self.evaluations += len(trials)
        return result

    def _variants(self, trials: Sequence[Trial]) -> np.ndarray:
        scenario, runs = self.job.scenario, len(self.seeds)
        per_call = max(1, CELLS_PER_CALL // (runs * scenario.n_actors * scenario.n_columns))
        parts = [
            self._variant_part(trials[start : start + per_call]) for start in range(0, len(trials), per_call)
        ]
        return np.concatenate(parts)

    def _variant_part(self, trials: Sequence[Trial]) -> np.ndarray:
        keys: dict[str, np.ndarray] = {}
        for n, trial in enumerate(trials):
            for knob, value in trial:
                if knob.key not in keys:
                    keys[knob.key] = np.full(len(trials), float(knob.baseline))
                keys[knob.key][n] = float(value)
        runs = len(self.seeds)
        changes = variants_from_keys(
            self.job.scenario, {key: np.repeat(values, runs) for key, values in keys.items()}
        )
        seeds = np.tile(self.seeds, len(trials))
        ended = run_batch(
            self.job.scenario,
            self.job.protocol,
            seeds,
            variants=changes,
            progress=False,
            workers=self.job.workers,
        )
        return ended.agreed[:, self.columns].reshape(len(trials), runs, -1).mean(axis=1)

    def _alone(self, trial: Trial) -> np.ndarray:
        scenario, protocol = self.job.scenario, self.job.protocol
        for knob, value in trial:
            if knob.kind == PRESENCE:
                present = scenario.present.copy()
                present[scenario.actors.index(knob.key.split(".")[2])] = bool(value)
                scenario = dataclasses.replace(scenario, present=present)
            else:
                setting: dict[str, Any] = {knob.key.split(".", 1)[1]: int(value) if knob.integer else value}
                protocol = dataclasses.replace(protocol, **setting)
        ended = run_batch(scenario, protocol, self.seeds, progress=False)
        return ended.agreed[:, self.columns].mean(axis=0)


# The search


@dataclass
class Bracket:
    """Where the outcome of one issue flips along one parameter in one direction: between `near`
    (the target not reached) and `far` (reached)."""

    issue: int
    target: WhatIfTarget
    knob: Knob
    direction: int
    near: float
    far: float
    near_probability: float
    far_probability: float


def search(
    runner: Runner, found: Sequence[Knob], baseline: np.ndarray, settings: WhatIfJob
) -> list[Threshold]:
    """Scan, then bisect, every number; try every choice."""
    numbers = [knob for knob in found if not knob.choices]
    brackets = scan(runner, numbers, baseline, settings.scan)
    bisect(runner, brackets, settings.tolerance)
    names = runner.job.scenario.issue_names
    thresholds = [
        Threshold(
            names[b.issue],
            b.target,
            b.knob,
            b.far,
            b.near,
            b.direction,
            b.far_probability,
            b.near_probability,
        )
        for b in brackets
    ]
    return thresholds + choose(runner, [knob for knob in found if knob.choices])


def _scan_values(knob: Knob, direction: int, count: int) -> list[float]:
    end = knob.high if direction > 0 else knob.low
    values = [
        min(max(knob.baseline + (end - knob.baseline) * j / count, knob.low), knob.high)
        for j in range(1, count + 1)
    ]
    if knob.integer:
        values = list(dict.fromkeys(float(round(v)) for v in values if round(v) != knob.baseline))
    return [float(v) for v in values]


def scan(runner: Runner, numbers: Sequence[Knob], baseline: np.ndarray, count: int) -> list[Bracket]:
    """Try `count` values toward each end of each number's range; keep, per issue, the first
    bracket in which the outcome reaches the target."""
    plan = [
        (knob, direction, _scan_values(knob, direction, count)) for knob in numbers for direction in (-1, 1)
    ]
    trials = [((knob, value),) for knob, _, values in plan for value in values]
    probabilities = runner.agreement(trials) if trials else np.empty((0, len(runner.columns)))
    brackets, row = [], 0
    for knob, direction, values in plan:
        block = probabilities[row : row + len(values)]
        row += len(values)
        for issue, target in runner.targets.items():
            hits = np.flatnonzero(reaches(block[:, issue], target))
            if not hits.size:
                continue
            first = int(hits[0])
            near = float(knob.baseline) if first == 0 else values[first - 1]
            near_p = baseline[issue] if first == 0 else block[first - 1, issue]
            far_p = float(block[first, issue])
            brackets.append(
                Bracket(issue, target, knob, direction, near, values[first], float(near_p), far_p)
            )
    return brackets


def bisect(runner: Runner, brackets: Sequence[Bracket], tolerance: float) -> None:
    """Narrow every bracket until it is within `tolerance` of its range (whole numbers: adjacent)."""
    while True:
        open_ = [b for b in brackets if _wide(b, tolerance)]
        if not open_:
            return
        middles = [_middle(b) for b in open_]
        probabilities = runner.agreement([((b.knob, m),) for b, m in zip(open_, middles, strict=True)])
        for b, middle, p in zip(open_, middles, probabilities, strict=True):
            if reaches(p[b.issue], b.target):
                b.far, b.far_probability = middle, float(p[b.issue])
            else:
                b.near, b.near_probability = middle, float(p[b.issue])


def _wide(bracket: Bracket, tolerance: float) -> bool:
    gap = abs(bracket.far - bracket.near)
    return gap > 1 if bracket.knob.integer else gap > tolerance * bracket.knob.width


def _middle(bracket: Bracket) -> float:
    middle = (bracket.near + bracket.far) / 2
    return (
        float(math.floor(middle) if bracket.direction > 0 else math.ceil(middle))
        if bracket.knob.integer
        else middle
    )


def choose(runner: Runner, choices: Sequence[Knob]) -> list[Threshold]:
    """Try every other value of every choice."""
    trials = [((knob, value),) for knob in choices for value in knob.choices]
    probabilities = runner.agreement(trials) if trials else np.empty((0, len(runner.columns)))
    names = runner.job.scenario.issue_names
    found = []
    for ((knob, value),), p in zip(trials, probabilities, strict=True):
        for issue, target in runner.targets.items():
            if reaches(p[issue], target):
                found.append(Threshold(names[issue], target, knob, value, None, 0, float(p[issue])))
    return found


def shown(threshold: Threshold, tolerance: float) -> float:
    """The threshold rounded away from the parameter's value, to the decimals its tolerance needs."""
    knob, value = threshold.knob, float(threshold.value)
    scale = 10.0 ** knob.decimals(tolerance)
    rounded = (
        math.ceil(value * scale - 1e-9) if threshold.direction > 0 else math.floor(value * scale + 1e-9)
    ) / scale
    return float(np.clip(rounded, knob.low, knob.high))


def verify(runner: Runner, thresholds: Sequence[Threshold], tolerance: float) -> None:
    """Run each threshold (rounded for showing, when that still reaches the target) and the value
    just short of it again; mark those where the first reaches the target and the second does not."""
    numbers = [t for t in thresholds if not t.knob.choices]
    trials = [((t.knob, value),) for t in numbers for value in (shown(t, tolerance), t.value, t.short)]
    probabilities = runner.agreement(trials) if trials else np.empty((0, len(runner.columns)))
    issues = runner.job.scenario.issue_names
    for n, t in enumerate(numbers):
        rounded, exact, short = probabilities[3 * n : 3 * n + 3, issues.index(t.issue)]
        if reaches(rounded, t.target):
            t.value, t.probability = shown(t, tolerance), float(rounded)
        else:
            t.probability = float(exact)
        t.short_probability = float(short)
        t.verified = bool(reaches(t.probability, t.target) and not reaches(short, t.target))
    chosen = [t for t in thresholds if t.knob.choices]
    again = runner.agreement([((t.knob, t.value),) for t in chosen]) if chosen else np.empty((0, 0))
    for t, p in zip(chosen, again, strict=True):
        t.probability = float(p[issues.index(t.issue)])
        t.verified = bool(reaches(t.probability, t.target))


# Pairs


def pair_frontier(
    runner: Runner, issue: str, ranked: Sequence[Threshold], grid: int
) -> dict[str, Any] | None:
    """The grid of the two numbers with the smallest changes for `issue`, each from its value to
    half again beyond its threshold, and the frontier: per value of the first, the value of the
    second nearest its own at which the issue reaches its target."""
    chosen: list[Threshold] = []
    for t in ranked:
        if t.knob.kind == VARIANT and t.verified and t.knob.key not in {c.knob.key for c in chosen}:
            chosen.append(t)
    if len(chosen) < 2:
        return None
    axes = [_axis(t, grid) for t in chosen[:2]]
    (a, a_values), (b, b_values) = [(t.knob, values) for t, values in zip(chosen[:2], axes, strict=True)]
    trials = [((a, x), (b, y)) for x in a_values for y in b_values]
    column = runner.job.scenario.issue_names.index(issue)
    probability = runner.agreement(trials)[:, column].reshape(len(a_values), len(b_values))
    target = chosen[0].target
    frontier = []
    for x, row in zip(a_values, probability, strict=True):
        hits = np.flatnonzero(reaches(row, target))
        frontier.append([float(x), float(b_values[hits[0]]) if hits.size else None])
    return {
        "keys": [a.key, b.key],
        "labels": [a.label.format(issue=issue), b.label.format(issue=issue)],
        "baseline": [float(a.baseline), float(b.baseline)],
        "values": [[float(v) for v in a_values], [float(v) for v in b_values]],
        "probability": probability.tolist(),
        "frontier": frontier,
        "target": str(target),
    }


def _axis(threshold: Threshold, count: int) -> np.ndarray:
    knob, start = threshold.knob, float(threshold.knob.baseline)
    end = float(np.clip(start + 1.5 * (float(threshold.value) - start), knob.low, knob.high))
    return np.linspace(start, end, count)


# The study


def run_what_if(job: Job) -> WhatIf:
    """Find the smallest change of every parameter that brings each issue to its target."""
    settings = job.what_if
    if settings is None:
        raise UserError("task=what_if needs its settings: compose the job with task=what_if")
    started = time.perf_counter()
    runner = Runner(job)
    names = job.scenario.issue_names
    baseline = runner.agreement([()])[0]
    targets: dict[str, WhatIfTarget | None] = {}
    for issue in settings.issues:
        now = WhatIfTarget.agreed if outcome(baseline[names.index(issue)]) else WhatIfTarget.failed
        wanted = settings.target or (
            WhatIfTarget.failed if now == WhatIfTarget.agreed else WhatIfTarget.agreed
        )
        targets[issue] = None if wanted == now else wanted
    runner.targets = {names.index(issue): target for issue, target in targets.items() if target is not None}
    thresholds = search(runner, knobs(job), baseline, settings) if runner.targets else []
    verify(runner, thresholds, settings.tolerance)
    thresholds.sort(key=lambda t: (names.index(t.issue), not t.verified, t.change))
    pairs = {}
    if settings.pairs:
        for issue in targets:
            frontier = pair_frontier(
                runner, issue, [t for t in thresholds if t.issue == issue], settings.grid
            )
            if frontier is not None:
                pairs[issue] = frontier
    return WhatIf(
        job,
        {issue: float(baseline[names.index(issue)]) for issue in settings.issues},
        targets,
        thresholds,
        pairs,
        runner.evaluations,
        time.perf_counter() - started,
    )


# What it found, in files and words


def _format(knob: Knob, value: Any, tolerance: float) -> str:
    """A parameter's value as the report shows it."""
    if knob.choices or isinstance(value, (bool, Enum)):
        return str(value.value if isinstance(value, Enum) else value).lower()
    if knob.integer:
        return str(round(float(value)))
    return f"{float(value):.{max(2, knob.decimals(tolerance))}f}"


def sentence(threshold: Threshold, runs: int, tolerance: float) -> str:
    """The change in words: 'detainees would be agreed if Turkey's ideal point on it were 0.834
    instead of 0.900'."""
    t, knob = threshold, threshold.knob
    agreed = t.target == WhatIfTarget.agreed
    verb = "be agreed" if agreed else "fail"
    if runs > 1:
        verb += " in at least half the runs" if agreed else " in more than half the runs"
    if knob.kind == PRESENCE:
        return f"{t.issue} would {verb} if {knob.actor} {'came' if t.value else 'stayed away'}"
    label = knob.label.format(issue="it" if knob.issue == t.issue else knob.issue)
    value, before = _format(knob, t.value, tolerance), _format(knob, knob.baseline, tolerance)
    return f"{t.issue} would {verb} if {label} were {value} instead of {before}"


def table(result: WhatIf) -> pd.DataFrame:
    """One row per threshold found: `what_if.csv`."""
    settings = result.job.what_if
    tolerance = settings.tolerance if settings is not None else 0.001
    rows = []
    for t in result.thresholds:
        rows.append(
            {
                "issue": t.issue,
                "target": str(t.target),
                "probability_before": result.probability[t.issue],
                "key": t.knob.key,
                "parameter": t.knob.label.format(issue=t.knob.issue),
                "kind": t.knob.kind,
                "baseline": _plain(t.knob.baseline),
                "threshold": _plain(t.value),
                "short": _plain(t.short),
                "direction": t.direction,
                "relative_change": t.change,
                "probability": t.probability,
                "short_probability": t.short_probability,
                "verified": t.verified,
                "sentence": sentence(t, result.job.replications, tolerance),
            }
        )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame.insert(1, "rank", frame.groupby("issue", sort=False).cumcount() + 1 if len(frame) else [])
    return frame


COLUMNS = [
    "issue",
    "target",
    "probability_before",
    "key",
    "parameter",
    "kind",
    "baseline",
    "threshold",
    "short",
    "direction",
    "relative_change",
    "probability",
    "short_probability",
    "verified",
    "sentence",
]


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    return None if value is None else float(value)


def summary_of(result: WhatIf, rows: pd.DataFrame) -> dict[str, Any]:
    """`what_if.json`: the settings, and per issue its outcome, target and smallest changes."""
    job, settings = result.job, result.job.what_if
    assert settings is not None
    issues = {}
    for issue, probability in result.probability.items():
        mine = rows[(rows["issue"] == issue) & rows["verified"]]
        target = result.targets[issue]
        issues[issue] = {
            "agreement_probability": probability,
            "outcome": "agreed" if outcome(probability) else "failed",
            "target": None if target is None else str(target),
            "changes_found": len(mine),
            "smallest": mine.head(settings.top).drop(columns=["issue"]).to_dict(orient="records"),
            "pairs": result.pairs.get(issue),
        }
    return {
        **job.heading,
        "settings": {
            "issue": None if len(settings.issues) > 1 else settings.issues[0],
            "target": None if settings.target is None else str(settings.target),
            "pairs": settings.pairs,
            "scan": settings.scan,
            "tolerance": settings.tolerance,
        },
        "issues": issues,
        "evaluations": result.evaluations,
        "seconds": round(result.seconds, 3),
    }


def what_if_text(summary: dict[str, Any]) -> str:
    """The printed report: per issue, its outcome and the smallest changes in words."""
    runs = summary["replications"]
    seeds = (
        f"seed {summary['seed']}"
        if runs == 1
        else f"{runs} runs per value (seeds {summary['seed']}–{summary['seed'] + runs - 1})"
    )
    lines = [f"What would it take — {summary['title']}: protocol {summary['protocol']}, {seeds}"]
    for issue, entry in summary["issues"].items():
        state = f"{issue}: {entry['outcome']} (P(agreed) {entry['agreement_probability']:.2f})"
        lines.append("")
        if entry["target"] is None:
            lines.append(f"{state}, already as asked")
            continue
        if not entry["smallest"]:
            lines.append(f"{state}; no single change within the ranges makes it {_verb(entry['target'])}")
            continue
        wanted = _verb(entry["target"])
        lines.append(f"{state}; the smallest of {entry['changes_found']} changes that make it {wanted}:")
        for row in entry["smallest"]:
            lines.append(f"  {row['rank']}. {row['sentence']} ({row['relative_change']:.1%} of its range)")
        if entry["pairs"]:
            lines.append(f"  pairs: {' and '.join(entry['pairs']['labels'])}, their frontier in pairs.png")
    lines.append("")
    count = summary["evaluations"]
    each = "one run" if runs == 1 else f"{runs} runs"
    sets = f"{count} parameter set{'' if count == 1 else 's'} tried"
    lines.append(f"{sets}, {each} {'' if count == 1 else 'each, '}in {summary['seconds']:.1f} s")
    return "\n".join(lines)


def _verb(target: str) -> str:
    return "fail" if target == WhatIfTarget.failed else target


def write_what_if(result: WhatIf, folder: Path) -> dict[str, Any]:
    """Write `what_if.csv`, the plots and `what_if.json` (last); return what it wrote there."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = table(result)
    summary = summary_of(result, rows)
    write_csv(folder / "what_if.csv", rows)
    if result.pairs:
        write_csv(folder / "what_if_pairs.csv", pairs_table(result))
    if result.job.plots:
        write_what_if_plots(folder, summary, rows)
    write_json(folder / "what_if.json", summary)
    return summary


def pairs_table(result: WhatIf) -> pd.DataFrame:
    """The grids of the pairs: one row per issue and pair of values, with P(agreed)."""
    rows = []
    for issue, pair in result.pairs.items():
        a_key, b_key = pair["keys"]
        for x, row in zip(pair["values"][0], pair["probability"], strict=True):
            for y, p in zip(pair["values"][1], row, strict=True):
                rows.append(
                    {"issue": issue, "a_key": a_key, "a": x, "b_key": b_key, "b": y, "probability": p}
                )
    return pd.DataFrame(rows)


def execute_what_if(job: Job, folder: Path) -> tuple[dict[str, Any], str, str]:
    """Run the study and write its folder (for a series, one study per round, each in
    `round_<n>/`); return what it wrote, a one-line summary and the report."""
    if job.series is not None:
        return execute_rounds(job, folder)
    summary = write_what_if(run_what_if(job), folder)
    return summary, f"what if: changes found per issue: {found(summary)}", what_if_text(summary)


def found(summary: dict[str, Any]) -> str:
    return ", ".join(f"{issue} {entry['changes_found']}" for issue, entry in summary["issues"].items())


def execute_rounds(job: Job, folder: Path) -> tuple[dict[str, Any], str, str]:
    """One study per round of a series, of the issues on its agenda; `what_if.json` gathers them."""
    assert job.what_if is not None
    folder.mkdir(parents=True, exist_ok=True)
    rounds: dict[int, dict[str, Any]] = {}
    for number, round_job in round_negotiations(job):
        issues = tuple(i for i in job.what_if.issues if i in round_job.scenario.issue_names)
        if issues:
            settings = dataclasses.replace(job.what_if, issues=issues)
            rounds[number] = write_what_if(
                run_what_if(round_job.replace(what_if=settings)), folder / f"round_{number}"
            )
    summary = {"scenario": job.scenario.name, "title": job.scenario.title, "rounds": rounds}
    write_json(folder / "what_if.json", summary)
    text = "\n\n".join(f"Round {n}\n{what_if_text(r)}" for n, r in rounds.items())
    lines = "; ".join(f"round {n}: {found(r)}" for n, r in rounds.items())
    return summary, f"what if per round: changes found {lines}", text
