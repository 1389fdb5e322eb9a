"""Benchmark the series tasks on rounds 1-7: calibration, and the backtest (which calibrates on the
rounds before each of rounds 3-7 and scores each mechanism switched off), with default budgets.

    python benchmarks/series.py [--limit 60]

Prints the wall-clock time of each with the machine it was measured on, and exits with status 1
when calibration and backtest together take longer than --limit seconds.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

from sim.setup.compose import compose_config
from sim.setup.job import job_from_config
from sim.studies.series import backtest, calibrate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=60.0, help="seconds allowed for both (default 60)")
    args = parser.parse_args()
    job = job_from_config(compose_config(["scenario=astana_series"]))
    series = job.series
    assert series is not None
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")

    start = time.perf_counter()
    fit = calibrate(job, series.record, series.record.numbers)
    calibration = time.perf_counter() - start
    print(
        f"calibration on rounds 1-7: {calibration:.1f} s ({fit.evaluations} evaluations), "
        f"Brier {fit.loss:.3f}"
    )

    start = time.perf_counter()
    _, summary = backtest(job)
    elapsed = time.perf_counter() - start
    scores = summary["brier"]
    print(
        f"backtest of rounds 3-7: {elapsed:.1f} s; Brier model {scores['model']['overall']:.3f}, "
        f"persistence {scores['persistence']['overall']:.3f}, "
        f"base rate {scores['base_rate']['overall']:.3f}, "
        f"0.5 {scores['half']['overall']:.3f}"
    )
    total = calibration + elapsed
    print(f"together: {total:.1f} s (limit {args.limit:g} s)")
    sys.exit(0 if total <= args.limit else 1)


if __name__ == "__main__":
    main()
