"""Monte Carlo replications: many negotiations with derived seeds, summaries only, memory flat.

Replication i runs with seed `seed + i` through the same `Talks` as a single run, in
chunks of replications run in lockstep; each chunk leaves only its outcome arrays behind. With
`variants` (`sim.core.variants`), replication i runs variant i of the scenario's numbers with its
seed; the chunks slice the variants with the seeds.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from sim.core.limits import MAX_CHUNK_REPLICATIONS
from sim.core.scenario import Scenario
from sim.core.variants import Variants, check_variants
from sim.errors import UserError
from sim.model.model import NOT_YET, Talks
from sim.outputs.outcome import Outcome
from sim.outputs.trace import trace_frame
from sim.protocols import ProtocolConfig, make_protocol

CELLS_PER_CHUNK = 200_000
"""Replications per chunk times actors times issues: bounds the memory a chunk holds."""


def chunk_size(scenario: Scenario) -> int:
    cells = scenario.n_actors * scenario.n_columns
    return int(np.clip(CELLS_PER_CHUNK // cells, 64, MAX_CHUNK_REPLICATIONS))


def run_batch(
    scenario: Scenario,
    protocol_cfg: ProtocolConfig | Mapping[str, Any],
    seeds: np.ndarray,
    *,
    trace: bool = False,
    progress: bool | None = None,
    on_chunk: Callable[[int], None] | None = None,
    variants: Variants | None = None,
) -> Outcome:
    """Run one negotiation per seed (with variants, per seed and variant); keep outcomes (and the
    trace only when asked: not with variants, whose replications differ in their numbers)."""
    seeds = np.asarray(seeds, dtype=np.int64)
    protocol = make_protocol(protocol_cfg)
    if len(seeds) > 1 and variants is None and not trace and protocol.deterministic:
        return repeated(run_batch(scenario, protocol_cfg, seeds[:1], progress=False), seeds)
    n, size = len(seeds), chunk_size(scenario)
    if variants is not None:
        if len(variants) != n:
            raise UserError(f"{len(variants)} variants and {n} seeds: give one seed per variant")
        if trace:
            raise UserError(
                "a batch of variants keeps no trace: run one variant alone (its overrides in sim.load) "
                "for its trace"
            )
        check_variants(scenario, variants)
    agreed = np.zeros((n, scenario.n_columns), dtype=bool)
    value = np.full((n, scenario.n_columns), np.nan)
    agreed_step = np.full((n, scenario.n_columns), NOT_YET, dtype=np.int32)
    utilities = np.zeros((n, scenario.n_actors))
    walked = np.full((n, scenario.n_actors), NOT_YET, dtype=np.int32)
    end_step = np.zeros(n, dtype=np.int32)
    forecast = np.full((n, scenario.n_columns), np.nan)
    proposer = np.full((n, scenario.n_columns), NOT_YET, dtype=np.int32)
    last_answer = np.ones((n, int((scenario.signatories & scenario.present).sum()), scenario.n_columns), bool)
    traces: list[pd.DataFrame] = []
    bar = _progress_bar(n, progress)
    for start in range(0, n, size):
        part = slice(start, min(start + size, n))
        chunk = None if variants is None else variants.take(part)
        model = Talks(scenario, make_protocol(protocol_cfg), seeds[part], trace, chunk).run()
        agreed[part], value[part], agreed_step[part] = model.agreed, model.agreed_value, model.agreed_step
        utilities[part] = model.final_utilities()
        walked[part], end_step[part] = model.walked_out_step, model.end_step
        forecast[part], proposer[part] = model.forecasts(), model.agreed_proposer
        last_answer[part] = model.last_answer
        if trace:
            frame = trace_frame(model)
            if "seed" not in frame and n > 1:
                frame.insert(0, "seed", seeds[part][0])
            traces.append(frame)
        if bar is not None:
            bar.update(part.stop - part.start)
        if on_chunk is not None:
            on_chunk(part.stop)
    if bar is not None:
        bar.close()
    outcome = Outcome(
        scenario,
        protocol.name,
        seeds,
        agreed,
        value,
        agreed_step,
        utilities,
        walked,
        end_step,
        forecast,
        proposer,
        last_answer,
        pd.concat(traces, ignore_index=True) if traces else None,
    )
    return outcome


def repeated(single: Outcome, seeds: np.ndarray) -> Outcome:
    """The outcome of a deterministic protocol's one negotiation, as every seed's replication."""
    n = len(seeds)
    rows = {
        name: np.repeat(getattr(single, name), n, axis=0)
        for name in (
            "agreed",
            "value",
            "agreed_step",
            "utilities",
            "walked_out_step",
            "end_step",
            "forecast",
            "agreed_proposer",
            "last_answer",
        )
    }
    return Outcome(single.scenario, single.protocol, seeds, trace=None, **rows)


def _progress_bar(total: int, progress: bool | None) -> Any:
    show = sys.stderr.isatty() if progress is None else progress
    if not show:
        return None
    return tqdm(total=total, unit="negotiation", desc="replications", file=sys.stderr)
