"""Benchmark task=validate on DEU III's 116 development issues: every method, and each one alone.

    python benchmarks/validation.py [--repeat 5] [--limit 5]

Prints the machine and its load, the median wall-clock time over `--repeat` runs (with its
quartiles) of the whole validation as `task=validate` computes it (every method's forecasts, the
scores and the bootstrap intervals; not the plots and files), and the median time of each
method's forecasts alone; exits with status 1 when the whole validation's median exceeds
`--limit` seconds.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sim.setup.compose import compose_config
from sim.setup.job import Job, job_from_config
from sim.studies.validate import forecast_table, forecasting_methods, validate

TABLE = Path(__file__).resolve().parents[1] / "data" / "deu3" / "deu3_dev.csv"


def timed(work: Callable[[], object], repeat: int, cpu: list[float] | None = None) -> list[float]:
    """Wall-clock seconds of `repeat` calls of `work` (and, into `cpu`, the process's CPU seconds)."""
    times = []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        work()
        times.append(time.perf_counter() - start)
        if cpu is not None:
            cpu.append(time.process_time() - start_cpu)
    return times


def quartiles(times: list[float]) -> str:
    if len(times) < 2:
        return f"{times[0]:.2f} s"
    low, _, high = statistics.quantiles(times, n=4)
    return f"{statistics.median(times):.2f} s (quartiles {low:.2f}-{high:.2f}, {len(times)} runs)"


def validation_of(job: Job, names: list[str] | None = None) -> Callable[[], object]:
    """The forecasts of every issue by the methods `names` (all when None), as task=validate makes them."""
    source = job.source
    assert source is not None

    def work() -> object:
        methods = forecasting_methods(job.protocol, job.seed)
        chosen = methods if names is None else {name: methods[name] for name in names}
        return forecast_table(source.table, source.options, chosen)

    return work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of the whole validation (default 5)")
    parser.add_argument("--limit", type=float, default=5.0, help="seconds allowed (default 5)")
    args = parser.parse_args()
    job = job_from_config(compose_config(["scenario=table", f"scenario.path={TABLE}", "task=validate"]))
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"load average {os.getloadavg()[0]:.2f} (1 min) before the runs")
    validate(job)
    cpu: list[float] = []
    whole = timed(lambda: validate(job), args.repeat, cpu)
    print(f"every method on the {TABLE.name} issues: {quartiles(whole)}; CPU {statistics.median(cpu):.2f} s")
    for name in forecasting_methods(job.protocol, job.seed):
        alone = timed(validation_of(job, [name]), max(1, args.repeat // 2))
        print(f"  {name:<18} {statistics.median(alone):6.2f} s")
    median = statistics.median(whole)
    print(f"median {median:.2f} s (limit {args.limit:g} s); load average {os.getloadavg()[0]:.2f} after")
    sys.exit(0 if median <= args.limit else 1)


if __name__ == "__main__":
    main()
