"""Benchmark one astana7 negotiation: in-process, and the whole command line with its plots.

    python benchmarks/single_run.py [--runs 200] [--cli-runs 7]

Prints medians (and quartiles) with the machine they were measured on.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sim.api import NegotiationModel, load
from sim.outputs.outcome import Outcome
from sim.outputs.summary import summarize
from sim.outputs.trace import trace_frame
from sim.protocols import make_protocol


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def quartiles(samples: list[float]) -> str:
    q1, median, q3 = np.percentile(samples, [25, 50, 75])
    return f"median {median:.2f} (quartiles {q1:.2f}-{q3:.2f})"


def in_process(runs: int) -> list[float]:
    """Milliseconds per negotiation: build the model, run it with its trace, summarise it."""
    job = load("astana7")
    scenario, protocol_cfg = job.scenario, job.protocol
    times = []
    for seed in range(runs):
        start = time.perf_counter()
        model = NegotiationModel(scenario, make_protocol(protocol_cfg), seeds=[seed], record_trace=True).run()
        summarize(Outcome.of(model))
        trace_frame(model)
        times.append((time.perf_counter() - start) * 1e3)
    return times


def command_line(runs: int) -> list[float]:
    """Seconds of wall time for `python -m sim +scenario=astana7`, plots included."""
    times = []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "sim", "+scenario=astana7", "quiet=true"],
                cwd=folder,
                check=True,
                capture_output=True,
            )
            times.append(time.perf_counter() - start)
        assert len(list((Path(folder) / "results" / "astana7").iterdir())) == runs
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--cli-runs", type=int, default=7)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    single = in_process(args.runs)
    print(
        f"one astana7 negotiation in-process (with trace): {quartiles(single)} ms over {args.runs} runs "
        f"(target <= 20 ms): {'ok' if statistics.median(single) <= 20 else 'MISSED'}"
    )
    whole = command_line(args.cli_runs)
    print(
        f"python -m sim +scenario=astana7, plots included: {quartiles(whole)} s over {args.cli_runs} runs "
        f"(target <= 3 s): {'ok' if statistics.median(whole) <= 3 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
