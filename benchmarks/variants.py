"""Benchmark variants in one batch: 10,000 astana7 variants with random saliences and reservations.

    python benchmarks/variants.py [--variants 10000] [--repeats 7] [--protocol alternating]

Every actor's stated salience on every issue is drawn from U(0.05, 1) and its reservation from
U(0.1, 0.7), one set per variant; each variant runs with its own seed (0, 1, ...) through
`sim.run_variants`. Prints the median wall time of the repeats (with quartiles) and the machine.
BLAS threads are pinned to 1; pin the process to one core too (`taskset -c 0`).
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import sim  # noqa: E402

TARGET_SECONDS = 2.0


def cpu() -> str:
    """The processor's name: from /proc/cpuinfo on Linux, else what `platform` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def machine() -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{platform.machine()} ({cpu()}), {os.cpu_count()} cores "
        f"({cores} usable by this process), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, NumPy {np.__version__}"
    )


def random_variants(job: sim.Job, count: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Random stated saliences and reservations of every actor, one value per variant."""
    rng = np.random.default_rng(seed)
    scenario = job.scenario
    keys: dict[str, np.ndarray] = {}
    for actor in scenario.actors:
        for issue in scenario.issue_names:
            keys[f"scenario.actors.{actor}.salience.{issue}"] = rng.uniform(0.05, 1.0, count)
        keys[f"scenario.actors.{actor}.reservation"] = rng.uniform(0.1, 0.7, count)
    return keys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--protocol", default="alternating")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    job = sim.load("astana7", protocol=args.protocol)
    keys = random_variants(job, args.variants)
    sim.run_variants(job, {key: values[:100] for key, values in keys.items()})
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        result = sim.run_variants(job, keys)
        times.append(time.perf_counter() - start)
    q1, median, q3 = np.percentile(times, [25, 50, 75])
    agreed = result.outcome.agreed.mean(axis=0)
    issues = ", ".join(
        f"{name} {share:.2f}" for name, share in zip(job.scenario.column_names, agreed, strict=True)
    )
    print(
        f"{args.variants:,} astana7 variants (random saliences and reservations), protocol {args.protocol}, "
        f"one batch: median {median:.2f} s (quartiles {q1:.2f}-{q3:.2f}, {args.repeats} runs; "
        f"target <= {TARGET_SECONDS:g} s): {'ok' if median <= TARGET_SECONDS else 'MISSED'}"
    )
    print(f"share agreed per issue: {issues}")


if __name__ == "__main__":
    main()
