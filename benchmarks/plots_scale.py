"""Time the run figures of a 1,000-actor table, with and without plots.

    python benchmarks/plots_scale.py              # 1,000 actors, median of 3
    python benchmarks/plots_scale.py --actors 300 --repeats 5

Writes a BDM actor table (`Actor,Capability,Position,Salience`, seeded) into a temporary folder,
then prints, each as the median of the repeats with the machine: the wall time of
`python -m sim scenario=table scenario.path=FILE` with plots and with `plots=false`, and, in one
process, the time `write_run_plots` takes to draw the five figures of that run.
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

from sim.api import load, run
from sim.figures.run import write_run_plots
from sim.outputs.summary import expand_divisions


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def write_bdm_table(path: Path, actors: int, seed: int = 0) -> Path:
    """A BDM actor table of `actors` rows on one issue, positions 1 to 10."""
    rng = np.random.default_rng(seed)
    rows = ["Actor,Capability,Position,Salience"]
    for number in range(actors):
        capability, position, salience = rng.uniform(0.01, 1), rng.uniform(1, 10), rng.uniform(0.1, 1)
        rows.append(f"Actor {number:04d},{capability:.3f},{position:.2f},{salience:.2f}")
    path.write_text("\n".join(rows) + "\n")
    return path


def command_seconds(table: Path, folder: Path, plots: bool) -> float:
    """Wall seconds of one `python -m sim` run on `table`."""
    command = [
        sys.executable,
        "-m",
        "sim",
        "scenario=table",
        f"scenario.path={table}",
        f"plots={str(plots).lower()}",
        "quiet=true",
        f"hydra.run.dir={folder}",
    ]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def plot_seconds(table: Path, folder: Path) -> float:
    """Seconds `write_run_plots` takes on one run of `table` (the run itself not timed)."""
    result = run(load("table", f"scenario.path={table}", "plots=false"))
    summary = expand_divisions(result.summary)
    start = time.perf_counter()
    write_run_plots(folder, summary, result.trace, result.job.scenario)
    return time.perf_counter() - start


def median(samples: list[float]) -> str:
    return f"{statistics.median(samples):.2f} s (of {', '.join(f'{s:.2f}' for s in samples)})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--actors", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        table = write_bdm_table(folder / f"bdm{args.actors}.csv", args.actors)
        runs = range(args.repeats)
        with_plots = [command_seconds(table, folder / f"with{i}", True) for i in runs]
        without = [command_seconds(table, folder / f"without{i}", False) for i in runs]
        drawing = [plot_seconds(table, folder / f"drawn{i}") for i in runs]
    print(f"{args.actors} actors, one issue, one replication; {machine()}")
    print(f"python -m sim with plots:      {median(with_plots)}")
    print(f"python -m sim plots=false:     {median(without)}")
    print(f"write_run_plots in-process:    {median(drawing)}")


if __name__ == "__main__":
    main()
