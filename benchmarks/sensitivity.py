"""Benchmark task=sensitivity: a Sobol analysis of astana7 with 8,192 base samples, end to end.

    python benchmarks/sensitivity.py [--samples 8192] [--groups none] [--workers 2] [--repeats 3]
                                     [--protocol alternating]

Times the whole command `python -m sim scenario=astana7 task=sensitivity sensitivity.samples=N
sensitivity.groups=G workers=W` (start-up, the runs, SALib's analysis, the robustness check, the
figures and the files; `results` in a temporary folder), and prints the median wall time of the
repeats (with the fastest and slowest), the runs, the study's own seconds from
`sensitivity.json`, the machine and its load. The target is under 60 s with 8,192 base samples.
With `--groups none` (the default) every one of astana7's 75 parameters is a factor: 8,192 × 77
runs, or 8,192 × 10 with `--groups actor`, the 8 actors as factors; `--workers` processes run
the batches' chunks.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 60.0


def cpu() -> str:
    """The processor's name: from /proc/cpuinfo on Linux, else what `platform` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def machine() -> str:
    return (
        f"{platform.machine()} ({cpu()}), {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def load() -> str:
    """The load average over 1, 5 and 15 minutes: how busy the machine was."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"


def run_once(arguments: list[str], results: Path) -> tuple[float, dict]:
    """Run the command once; return its wall time and the sensitivity.json it wrote."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "sim", *arguments, f"results={results}", "quiet=true"],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - start
    written = sorted(results.rglob("sensitivity.json"), key=lambda path: path.stat().st_mtime)[-1]
    return seconds, json.loads(written.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=8192)
    parser.add_argument("--groups", default="none", choices=("none", "actor", "kind"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--protocol", default="alternating")
    args = parser.parse_args()
    arguments = [
        "scenario=astana7",
        "task=sensitivity",
        f"protocol={args.protocol}",
        f"sensitivity.samples={args.samples}",
        f"sensitivity.groups={args.groups}",
        f"workers={args.workers}",
    ]
    print(f"machine: {machine()}")
    print(f"command: python -m sim {' '.join(arguments)}")
    times, studies = [], []
    with tempfile.TemporaryDirectory() as folder:
        for repeat in range(args.repeats):
            seconds, summary = run_once(arguments, Path(folder) / str(repeat))
            times.append(seconds)
            studies.append(summary["seconds"])
            phases = ", ".join(f"{name} {value:.1f}" for name, value in summary["phases"].items())
            print(
                f"  run {repeat + 1}: {seconds:.1f} s (the study {summary['seconds']:.1f} s: {phases}), "
                f"load {load()}"
            )
    median = statistics.median(times)
    verdict = "meets" if median < TARGET_SECONDS else "misses"
    print(
        f"{summary['factors']} factors, {summary['runs']:,} runs: median {median:.1f} s "
        f"(fastest {min(times):.1f}, slowest {max(times):.1f}; "
        f"the study alone {statistics.median(studies):.1f} s); "
        f"{verdict} the target of {TARGET_SECONDS:.0f} s"
    )


if __name__ == "__main__":
    main()
