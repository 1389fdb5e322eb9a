"""Monte Carlo replications: many negotiations with derived seeds, summaries only, memory flat.

Replication i runs with seed `seed + i` through the same `Talks` as a single run, in
chunks of replications run in lockstep; each chunk leaves only its outcome arrays behind. With
`variants` (`sim.core.variants`), replication i runs variant i of the scenario's numbers with its
seed; the chunks slice the variants with the seeds.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from sim.core.limits import MAX_CHUNK_REPLICATIONS
from sim.core.scenario import Scenario
from sim.core.variants import Variants, check_variants
from sim.errors import UserError
from sim.model.model import Talks
from sim.outputs.outcome import Outcome
from sim.outputs.trace import trace_frame
from sim.protocols import ProtocolConfig, make_protocol

ARRAYS: dict[str, type] = {
    "agreed": np.bool_,
    "value": np.float64,
    "agreed_step": np.int32,
    "utilities": np.float64,
    "walked_out_step": np.int32,
    "end_step": np.int32,
    "forecast": np.float64,
    "agreed_proposer": np.int32,
    "last_answer": np.bool_,
}
"""The outcome arrays a batch keeps, with the type of their entries."""
PER_ACTOR = ("utilities", "walked_out_step")

CELLS_PER_CHUNK = 200_000
"""Replications per chunk times actors times issues: bounds the memory a chunk holds."""


def chunk_size(scenario: Scenario) -> int:
    cells = scenario.n_actors * scenario.n_columns
    return int(np.clip(CELLS_PER_CHUNK // cells, 64, MAX_CHUNK_REPLICATIONS))


@dataclass(frozen=True)
class Chunk:
    """One chunk of a batch to run: its seeds, and its variants when the batch has them."""

    scenario: Scenario
    protocol: ProtocolConfig | Mapping[str, Any]
    seeds: np.ndarray
    trace: bool
    variants: Variants | None


def run_chunk(chunk: Chunk) -> Outcome:
    """Run the negotiations of one chunk in lockstep, to the outcome arrays (and trace) they leave."""
    model = Talks(chunk.scenario, make_protocol(chunk.protocol), chunk.seeds, chunk.trace, chunk.variants)
    return Outcome.of(model.run(), trace_frame(model) if chunk.trace else None)


def run_batch(
    scenario: Scenario,
    protocol_cfg: ProtocolConfig | Mapping[str, Any],
    seeds: np.ndarray,
    *,
    trace: bool = False,
    progress: bool | None = None,
    on_chunk: Callable[[int], None] | None = None,
    variants: Variants | None = None,
    workers: int = 1,
) -> Outcome:
    """Run one negotiation per seed (with variants, per seed and variant); keep outcomes (and the
    trace only when asked: not with variants, whose replications differ in their numbers).

    With `workers` > 1 the chunks run in that many processes at once; each replication's numbers
    depend only on its seed (and variant), so they are the same for any number of workers."""
    seeds = np.asarray(seeds, dtype=np.int64)
    n = len(seeds)
    arrays: dict[str, np.ndarray] = {
        name: np.empty((n, *shape(scenario, name)), dtype) for name, dtype in ARRAYS.items()
    }
    traces: list[pd.DataFrame] = []
    start = 0
    for outcome in outcome_chunks(
        scenario,
        protocol_cfg,
        seeds,
        trace=trace,
        progress=progress,
        on_chunk=on_chunk,
        variants=variants,
        workers=workers,
    ):
        part = slice(start, start + len(outcome))
        for name, array in arrays.items():
            array[part] = getattr(outcome, name)
        if outcome.trace is not None:
            traces.append(outcome.trace)
        start = part.stop
    trace_table = pd.concat(traces, ignore_index=True) if traces else None
    return Outcome(scenario, make_protocol(protocol_cfg).name, seeds, trace=trace_table, **arrays)


def outcome_chunks(
    scenario: Scenario,
    protocol_cfg: ProtocolConfig | Mapping[str, Any],
    seeds: np.ndarray | range,
    *,
    trace: bool = False,
    progress: bool | None = None,
    on_chunk: Callable[[int], None] | None = None,
    variants: Variants | None = None,
    workers: int = 1,
) -> Iterator[Outcome]:
    """The outcomes of `run_batch`'s chunks, in order, as each is done: what a batch too large to
    hold whole is written from. A batch's chunk traces carry the `seed` column. `seeds` may be a
    `range`, which takes no memory however long."""
    seeds = seeds if isinstance(seeds, range) else np.asarray(seeds, dtype=np.int64)
    protocol = make_protocol(protocol_cfg)
    n, size = len(seeds), chunk_size(scenario)
    parts = [slice(start, min(start + size, n)) for start in range(0, n, size)]
    if variants is not None:
        if len(variants) != n:
            raise UserError(f"{len(variants)} variants and {n} seeds: give one seed per variant")
        if trace:
            raise UserError(
                "a batch of variants keeps no trace: run one variant alone (its overrides in sim.load) "
                "for its trace"
            )
        check_variants(scenario, variants)
    bar = _progress_bar(n, progress)
    if n > 1 and variants is None and not trace and protocol.deterministic:
        single = run_chunk(Chunk(scenario, protocol_cfg, _taken(seeds, slice(0, 1)), False, None))
        outcomes: Iterator[Outcome] = (repeated(single, _taken(seeds, part)) for part in parts)
        yield from _reported(parts, outcomes, bar, on_chunk)
        return
    chunks = (
        Chunk(
            scenario,
            protocol_cfg,
            _taken(seeds, part),
            trace,
            None if variants is None else variants.take(part),
        )
        for part in parts
    )
    with _pool(workers, len(parts)) as pool:
        outcomes = _ahead(pool, chunks, 2 * workers) if pool else map(run_chunk, chunks)
        if n > 1 and trace:
            outcomes = (_seeded(outcome) for outcome in outcomes)
        yield from _reported(parts, outcomes, bar, on_chunk)


def _ahead(pool: ProcessPoolExecutor, chunks: Iterator[Chunk], most: int) -> Iterator[Outcome]:
    """`run_chunk` over the chunks in the pool's processes, in order, with at most `most` chunks
    running or done but not yet taken, so that a batch's memory does not grow with its size."""
    pending: deque[Future[Outcome]] = deque()
    for chunk in chunks:
        pending.append(pool.submit(run_chunk, chunk))
        if len(pending) >= most:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _taken(seeds: np.ndarray | range, part: slice) -> np.ndarray:
    """The seeds of one chunk, as an array."""
    taken = seeds[part]
    if isinstance(taken, range):
        return np.arange(taken.start, taken.stop, taken.step, dtype=np.int64)
    return taken


def _seeded(outcome: Outcome) -> Outcome:
    """A chunk's outcome whose trace has the `seed` column a batch's trace has (a chunk of one
    replication has none)."""
    trace = outcome.trace
    if trace is None or "seed" in trace:
        return outcome
    return replace(outcome, trace=trace.assign(seed=int(outcome.seeds[0]))[["seed", *trace.columns]])


def _reported(
    parts: list[slice], outcomes: Iterator[Outcome], bar: Any, on_chunk: Callable[[int], None] | None
) -> Iterator[Outcome]:
    """The chunks' outcomes, advancing the progress bar and telling `on_chunk` as each is done."""
    for part, outcome in zip(parts, outcomes, strict=True):
        yield outcome
        if bar is not None:
            bar.update(part.stop - part.start)
        if on_chunk is not None:
            on_chunk(part.stop)
    if bar is not None:
        bar.close()


def shape(scenario: Scenario, name: str) -> tuple[int, ...]:
    """The shape of one replication's row of the outcome array `name`."""
    if name in PER_ACTOR:
        return (scenario.n_actors,)
    if name == "last_answer":
        return (int((scenario.signatories & scenario.present).sum()), scenario.n_columns)
    return () if name == "end_step" else (scenario.n_columns,)


def _pool(workers: int, chunks: int) -> Any:
    """A pool of `workers` processes when there is more than one chunk for them, else no pool.
    The processes are forked, so they start at once with everything imported and nothing of the
    caller's script run again."""
    if workers <= 1 or chunks <= 1:
        return contextlib.nullcontext(None)
    return ProcessPoolExecutor(min(workers, chunks), mp_context=multiprocessing.get_context("fork"))


def repeated(single: Outcome, seeds: np.ndarray) -> Outcome:
    """The outcome of a deterministic protocol's one negotiation, as every seed's replication."""
    rows = {name: np.repeat(getattr(single, name), len(seeds), axis=0) for name in ARRAYS}
    return Outcome(single.scenario, single.protocol, seeds, trace=None, **rows)


def _progress_bar(total: int, progress: bool | None) -> Any:
    show = sys.stderr.isatty() if progress is None else progress
    if not show:
        return None
    return tqdm(total=total, unit="negotiation", desc="replications", file=sys.stderr)
