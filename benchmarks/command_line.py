"""Benchmark the command line as whole processes against importing its heaviest libraries alone.

    python benchmarks/command_line.py [--runs 9]

Times `python -c "import mesa, hydra, matplotlib.pyplot"` (the yardstick), `python -m sim
scenario=astana7` (plots included) and `python -m sim scenario=astana7 plots=false`, each run in
turn (yardstick, run, run without plots, yardstick, ...) after one warm-up round, each in a fresh
folder, with the interpreter's normal teardown and, as a user's Python has it, bytecode caching on
(in a scratch folder, `PYTHONPYCACHEPREFIX`, which the warm-up round fills). Prints the machine,
then per command the median wall time with its quartiles and the median CPU time, and the ratio
of each command's median to the yardstick's (target: at most 2).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

YARDSTICK = "import mesa, hydra, matplotlib.pyplot"
COMMANDS = {
    f'python -c "{YARDSTICK}"': ["-c", YARDSTICK],
    "python -m sim scenario=astana7": ["-m", "sim", "scenario=astana7"],
    "python -m sim scenario=astana7 plots=false": ["-m", "sim", "scenario=astana7", "plots=false"],
}
TARGET_RATIO = 2.0


def machine() -> str:
    """Architecture, processor, cores, Python, and the load when the benchmark started."""
    model = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor() or "unknown processor",
        )
        if Path("/proc/cpuinfo").is_file()
        else platform.processor()
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{platform.machine()}, {model}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; load average {load}"
    )


def timed(arguments: list[str], folder: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, the process and its children) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, *arguments], cwd=folder, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(runs: int) -> dict[str, list[tuple[float, float]]]:
    """Every command `runs` times, in turn, after one warm-up round."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
    with tempfile.TemporaryDirectory() as scratch:
        env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(scratch) / "pycache")
        for round_ in range(runs + 1):
            for name, arguments in COMMANDS.items():
                folder = Path(scratch) / f"{round_}-{len(times[name])}-{abs(hash(name))}"
                folder.mkdir()
                sample = timed(arguments, folder, env)
                if round_ > 0:
                    times[name].append(sample)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="counted runs of each command")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    times = measure(args.runs)
    yardstick = statistics.median(wall for wall, _ in times[next(iter(COMMANDS))])
    for name, samples in times.items():
        walls = [wall for wall, _ in samples]
        q1, median, q3 = np.percentile(walls, [25, 50, 75])
        cpu = statistics.median(cpu for _, cpu in samples)
        ratio = median / yardstick
        verdict = (
            ""
            if name.startswith("python -c")
            else f"; {ratio:.2f}x the imports"
            + (" (ok)" if ratio <= TARGET_RATIO else f" (above {TARGET_RATIO:g}x)")
        )
        print(
            f"{name}: wall median {median:.2f} s (quartiles {q1:.2f}-{q3:.2f}), "
            f"CPU median {cpu:.2f} s, {len(walls)} runs{verdict}"
        )


if __name__ == "__main__":
    main()
