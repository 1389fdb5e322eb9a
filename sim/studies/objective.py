"""The number a job returns to a sweeper: a metric of its summary, or the metric's distance to a target.

`objective=issues.detainees.agreement_probability` names the metric as a dotted path into
`summary.json` (`validation.json` under `task=validate`), walked key by key, so any schema works;
a number in a path indexes a list (`issues.detainees.interval.0`). With `objective_target=0.5`
the job returns |metric - 0.5|, so minimising it finds where the metric crosses one half.
`check_objective` walks the path in the summary the job will write before anything runs: the
summary of a model built for the job but not run (a series of rounds is checked once it ran).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from sim.errors import UserError
from sim.model.model import Talks
from sim.outputs.outcome import Outcome
from sim.protocols import make_protocol
from sim.setup.job import Job
from sim.setup.schema import Task
from sim.studies.run import result_of
from sim.studies.validate import expected_validation


def metric(summary: Mapping[str, Any], path: str) -> float | None:
    """The number at a dotted path of the summary (None where the summary holds null there)."""
    node: Any = summary
    parts = path.split(".")
    for depth, part in enumerate(parts):
        where = ".".join(parts[:depth]) or "the summary"
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            has = f"; it has: {', '.join(map(str, node))}" if isinstance(node, Mapping) else ""
            raise UserError(f"objective '{path}': '{part}' is not in {where}{has}")
    if isinstance(node, Mapping):
        raise UserError(
            f"objective '{path}' is not a number: continue the path with one of {', '.join(map(str, node))}"
        )
    if node is not None and not isinstance(node, numbers.Real | np.bool_):
        raise UserError(f"objective '{path}' is not a number but {node!r}: give the path of a number")
    return None if node is None else float(node)


def objective_value(job: Job, summary: Mapping[str, Any]) -> float | None:
    """What the job returns: its metric, or |metric - target|; NaN where the metric is null; None
    without an objective."""
    return None if job.objective is None else objective_of(summary, job.objective, job.objective_target)


def objective_of(summary: Mapping[str, Any], path: str, target: float | None = None) -> float:
    """The metric at `path`, or |metric - target|; NaN where the summary holds null there."""
    value = metric(summary, path)
    number = math.nan if value is None else value
    return number if target is None else abs(number - target)


def objective_line(job: Job, value: float) -> str:
    """`objective PATH = VALUE`, or `objective |PATH - TARGET| = VALUE`."""
    target = job.objective_target
    name = job.objective if target is None else f"|{job.objective} - {target:g}|"
    return f"objective {name} = {value:.4g}"


def expected_summary(job: Job) -> dict[str, Any] | None:
    """The summary the job will write, with the keys it will have, from a model built but not run;
    None for a series of rounds, whose summary is known only once it ran."""
    if job.series is not None:
        return None
    if job.task == Task.validate:
        return expected_validation(job)
    seeds = job.seed + np.arange(min(job.replications, 2), dtype=np.int64)
    model = Talks(job.scenario, make_protocol(job.protocol), seeds, record_trace=False)
    return result_of(job, Outcome.of(model)).summary


def check_objective(job: Job) -> None:
    """Raise UserError when the job's objective is not a number of the summary it will write."""
    if job.objective is None:
        return
    expected = expected_summary(job)
    if expected is not None:
        metric(expected, job.objective)
