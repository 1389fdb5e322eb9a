"""The limits a run stays within, checked before any work starts.

Seeds are 64-bit; a deadline is at most `MAX_STEPS` steps; a run's work (steps x replications x
actors x issue columns) is at most `MAX_WORK`; and a run's memory, estimated from its size
(`memory_needed`), must fit in the memory the machine has available (`available_memory`). A run
past a limit is refused with one line naming the limit and what to do instead.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sim.errors import UserError

MAX_SEED = 2**63 - 1
"""The largest seed: seeds are 64-bit signed integers, and replication i of a batch runs with seed
`seed + i`, so `seed + replications - 1` stays at most this."""

MAX_STEPS = 10_000
"""The longest deadline (`protocol.max_steps`) and the longest patience, in steps. The talks'
pace scales with the deadline, so a run takes time in proportion to it: one astana7 negotiation
with a deadline of 10,000 steps runs 6,300 of them in about 1.6 s. The protocols' defaults are 1
to 200."""

MAX_WORK = 10**11
"""The most work one run may take: its deadline times its replications times the actors times
the issue columns. About 10 to 40 minutes on one core (astana7 runs 46 million of these a second
in a batch, a 30-actor, 123-issue DEU III table 190 million); more is run as a sweep of parts."""

MEMORY_SHARE = 0.8
"""The share of the memory available when a run starts that the run may plan to use."""

MAX_WORKERS = 256
"""The most processes a batch may run its chunks in (`workers`)."""

MAX_CHUNK_REPLICATIONS = 8192
"""The most replications a batch runs in lockstep at once (`sim.studies.batch.chunk_size`)."""

REPLICATION_BYTES = (28, 28, 65)
"""Memory a batch keeps per replication: a constant, and bytes per actor and per issue column
(its outcome arrays, `replications.csv`'s table and the summary's statistics); measured with
astana7, a decide and a DEU III table (384, 1,200 and 8,900 bytes a replication)."""

DISK_BYTES = (40, 20, 70)
"""Disk a streamed run writes per replication: a constant, and bytes per actor and per issue
column: `replications.csv` (about 10 characters a number: 4 per issue column, 1 or 2 per actor)
and the values that wait for the summary (8 bytes each: 3 per issue column, 1 per actor).
astana7 (8 actors, 3 columns) writes about 300 bytes a replication, 152 of them in the CSV."""

ANSWER_BYTES = 1
"""Memory per replication, veto player and issue column: the answer to the last text there, kept
to tell who blocked a failed issue (bounded here by actors, not veto players)."""

CHUNK_STEP_BYTES = 32
"""Memory per replication of a chunk and per step of the deadline: the random draws that
recognise proposers, made for every step at once (measured: 23 bytes)."""

TRACE_ROW_BYTES = 320
"""Memory per row of a trace (`trace.csv`) as it is built (measured: 310 bytes)."""

GIGABYTE = 1e9
CGROUP_FILES = (
    ("memory.max", "memory.current"),
    ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes"),
)
"""A control group's memory limit and usage, under cgroup v2 and v1."""


@dataclass(frozen=True)
class RunSize:
    """What a run's memory and work grow with."""

    actors: int
    columns: int
    replications: int
    max_steps: int
    trace: bool = False
    """Whether the run keeps every replication's trace."""
    streamed: bool = False
    """Whether the run writes its replications to disk as they are done (the command line's
    `task=run`) rather than holding them in memory."""

    def resized(self, replications: int | None = None, max_steps: int | None = None) -> RunSize:
        return dataclasses.replace(
            self,
            replications=self.replications if replications is None else replications,
            max_steps=self.max_steps if max_steps is None else max_steps,
        )

    def held(self) -> RunSize:
        """The same run holding its replications in memory (`sim.run`)."""
        return dataclasses.replace(self, streamed=False)


def trace_rows(size: RunSize) -> int:
    """The most rows a replication's trace has: per step, the offer per column, each actor's
    position and answer per column, and each actor's aspiration and utility."""
    return size.max_steps * (size.columns + 2 * size.actors * size.columns + 2 * size.actors)


def memory_needed(size: RunSize) -> float:
    """Bytes a run is estimated to need at most, beyond what the process holds before it starts.
    A streamed run holds one chunk of replications at a time."""
    constant, per_actor, per_column = REPLICATION_BYTES
    held = min(size.replications, MAX_CHUNK_REPLICATIONS) if size.streamed else size.replications
    kept = held * (constant + per_actor * size.actors + per_column * size.columns)
    kept += held * ANSWER_BYTES * size.actors * size.columns
    draws = CHUNK_STEP_BYTES * size.max_steps * min(size.replications, MAX_CHUNK_REPLICATIONS)
    traces = size.replications * trace_rows(size) * TRACE_ROW_BYTES if size.trace else 0
    return float(kept + draws + traces)


def work(size: RunSize) -> int:
    """Steps times replications times actors times issue columns: the most work the run takes."""
    return size.max_steps * size.replications * size.actors * size.columns


def _read_number(path: Path) -> float | None:
    try:
        text = path.read_text().split()[0]
    except (OSError, IndexError):
        return None
    return float(text) if text.isdigit() else None


def _meminfo_available(path: Path = Path("/proc/meminfo")) -> float | None:
    """MemAvailable from /proc/meminfo, in bytes; None where it cannot be read."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        name, _, value = line.partition(":")
        if name == "MemAvailable" and value.split() and value.split()[0].isdigit():
            return float(value.split()[0]) * 1024
    return None


def _cgroup_available(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """What the process's control group still allows (cgroup v2, else v1), in bytes; None without a limit."""
    for limit, usage in CGROUP_FILES:
        allowed, used = _read_number(root / limit), _read_number(root / usage)
        if allowed is not None and used is not None and allowed < 2**60:
            return max(allowed - used, 0.0)
    return None


def available_memory() -> float | None:
    """Bytes of memory this process may still use: the machine's available memory, lowered to its
    control group's limit; None where neither can be read (then memory is not checked)."""
    known = [value for value in (_meminfo_available(), _cgroup_available()) if value is not None]
    return min(known) if known else None


def _gigabytes(amount: float) -> str:
    return f"{amount / GIGABYTE:.3g} GB" if amount >= GIGABYTE / 10 else f"{amount / 1e6:.0f} MB"


def _most(fits: Callable[[int], bool], high: int) -> int:
    """The largest n in [0, high] with fits(n), for fits true at 0 and false from some n on."""
    low = 0
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _instead(size: RunSize, fits: Callable[[RunSize], bool]) -> str:
    """What to run instead of a run too large: fewer replications, else a shorter deadline."""
    most = _most(lambda n: n == 0 or fits(size.resized(replications=n)), size.replications)
    if most >= 1:
        parts = f"-m seed=0,{most},{2 * most},... replications={most}"
        trace = ", or trace=false" if size.trace and size.replications > 1 else ""
        return f"use at most replications={most}{trace}, or run the seeds in parts ({parts})"
    steps = _most(lambda s: s == 0 or fits(size.resized(replications=1, max_steps=s)), size.max_steps)
    return f"use at most protocol.max_steps={max(steps, 1)}"


def _what(size: RunSize) -> str:
    trace = " with trace=true" if size.trace and size.replications > 1 else ""
    return f"replications={size.replications}{trace} and protocol.max_steps={size.max_steps}"


def check_limits(size: RunSize, available: float | None = None) -> None:
    """Refuse a run whose memory estimate passes `MEMORY_SHARE` of the available memory
    (`available_memory()` unless given) or whose work passes `MAX_WORK`, naming what fits both
    (raises UserError)."""
    free = available_memory() if available is None else available
    budget = math.inf if free is None else MEMORY_SHARE * free

    def fits(candidate: RunSize) -> bool:
        return memory_needed(candidate) <= budget and work(candidate) <= MAX_WORK

    if fits(size):
        return
    if free is not None and memory_needed(size) > budget:
        problem = (
            f"{_what(size)} need about {_gigabytes(memory_needed(size))} of memory, and this machine has "
            f"{_gigabytes(free)} available (a run may plan on {MEMORY_SHARE:.0%} of it)"
        )
    else:
        problem = (
            f"{_what(size)} with {size.actors} actors and {size.columns} issue columns are "
            f"{work(size):.2g} actor-issue steps of work, more than the limit of {MAX_WORK:.0e} "
            "(MAX_WORK: 10 to 40 minutes on one core)"
        )
    raise UserError(f"{problem}: {_instead(size, fits)}")


def disk_needed(size: RunSize) -> float:
    """Bytes a streamed run writes to disk at most: `replications.csv` and the values its summary
    is made from, which wait beside it until the summary is written."""
    if not size.streamed:
        return 0.0
    constant, per_actor, per_column = DISK_BYTES
    return float(size.replications * (constant + per_actor * size.actors + per_column * size.columns))


def check_disk(size: RunSize, folder: Path) -> None:
    """Refuse a streamed run whose files would not fit on the disk that holds `folder` (or the
    nearest folder above it that exists)."""
    needed = disk_needed(size)
    existing = next((path for path in (folder, *folder.absolute().parents) if path.is_dir()), None)
    if not needed or existing is None:
        return
    free = shutil.disk_usage(existing).free
    if needed > free:
        raise UserError(
            f"{_what(size)} write about {_gigabytes(needed)} to disk, and {existing} has "
            f"{_gigabytes(free)} free: free some space, or set results= to a folder on a larger disk"
        )


def check_seeds(seed: int, replications: int) -> None:
    """Seeds are whole numbers in [0, MAX_SEED]; replications at least 1, their seeds in range too."""
    if not 0 <= seed <= MAX_SEED:
        raise UserError(f"seed is {seed}: give a whole number from 0 to {MAX_SEED}")
    if replications < 1:
        raise UserError(f"replications is {replications}: give a whole number, 1 or more")
    if seed + replications - 1 > MAX_SEED:
        raise UserError(
            f"seed {seed} with {replications} replications runs past the largest seed {MAX_SEED}: "
            f"give a smaller seed, or at most replications={MAX_SEED - seed + 1}"
        )
