"""Benchmark Monte Carlo speed and scale, and compare with NegMAS on the same problem.

    python benchmarks/scale.py                 # everything (a few minutes)
    python benchmarks/scale.py --quick         # smaller growth curves
    python benchmarks/scale.py --negmas-python /path/to/venv/bin/python   # NegMAS from another environment
    python benchmarks/scale.py --tables        # only the large tables, as whole command lines
    python benchmarks/scale.py --tables --repeats 1 --actors 1000 --issues 3000   # quicker
    python benchmarks/scale.py --batch-memory  # astana7 batches of 1e5, 1e6 and 1e7 (about 20 min)

Prints medians with the machine, and draws how time grows with actors, issues and replications
into results/benchmarks/scaling.png. Every timing runs on one core (BLAS threads pinned to 1).

The large tables (`--tables`, also part of a full run) are written into a temporary folder:
BDM actor tables of 1,000 and 5,000 random actors (`bdm_table`), run with and without plots, and a
DEU III table of 3,000 issues made of `deu3_dev.csv`'s rows under new issue numbers (`deu3_table`),
validated (`task=validate plots=false`). Each is run as a whole `python -m sim` process `--repeats`
times: the median wall-clock seconds and the median peak resident memory of the process
(`os.wait4`), against the targets: a 1,000-actor table with plots in under 10 s, a 3,000-issue
validation under 1 GB.

The batch memory (`--batch-memory`) runs `python -m sim scenario=astana7 replications=N` with plots
for N = 100,000, 1,000,000 and 10,000,000 (`--largest` to change the last) in one process each
(`workers=1`, so that `os.wait4` sees all of the memory), and prints each one's wall-clock seconds,
peak resident memory and `replications.csv` size, and the largest one's peak over the smallest's
against the target of 1.5.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from sim.api import NegotiationModel, load  # noqa: E402
from sim.protocols import make_protocol  # noqa: E402
from sim.studies.batch import run_batch  # noqa: E402
from sim.studies.synthetic import random_scenario  # noqa: E402

HERE = Path(__file__).resolve().parent
PROTOCOL = {"name": "alternating", "max_steps": 40}
PEER_OVERRIDES = [
    f"scenario.actors.{a}.reservation=0.3"
    for a in ("government", "opposition", "russia", "turkey", "iran", "un", "us", "jordan")
]


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, one core used"


def median_rate(run, count: int, repeats: int = 5) -> float:
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        rates.append(count / (time.perf_counter() - start))
    return statistics.median(rates)


def astana(*overrides: str):
    job = load("astana7", *overrides)
    return job.scenario, job.protocol


def replication_rate(n: int) -> float:
    scenario, protocol_cfg = astana()
    return median_rate(lambda: run_batch(scenario, protocol_cfg, np.arange(n)), n)


def peer_problem_rates(n: int) -> tuple[float, float]:
    """Our rate on NegMAS's problem: reservations 0.3, 100 steps; batched, and one at a time."""
    scenario, protocol_cfg = astana(*PEER_OVERRIDES, "protocol.max_steps=100")
    batched = median_rate(lambda: run_batch(scenario, protocol_cfg, np.arange(n)), n)

    def one_at_a_time() -> None:
        for seed in range(200):
            NegotiationModel(scenario, make_protocol(protocol_cfg), seeds=[seed], record_trace=False).run()

    return batched, median_rate(one_at_a_time, 200)


def negmas_rate(negmas_python: str | None) -> dict | None:
    sys.path.insert(0, str(HERE))
    if negmas_python is None:
        try:
            from negmas_peer import negmas_negotiations_per_second
        except ImportError:
            return None
        try:
            return negmas_negotiations_per_second(n_runs=30)
        except ImportError:
            return None
    code = (
        f"import json, sys; sys.path.insert(0, {str(HERE)!r}); "
        "from negmas_peer import negmas_negotiations_per_second; "
        "print(json.dumps(negmas_negotiations_per_second(n_runs=30)))"
    )
    output = subprocess.run([negmas_python, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def big_case() -> tuple[float, float]:
    """200 actors, 50 issues, 1,000 replications: median seconds of 3, and peak memory in MB."""
    scenario = random_scenario(200, 50, seed=0)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        run_batch(scenario, PROTOCOL, np.arange(1000))
        times.append(time.perf_counter() - start)
    return statistics.median(times), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def hundred_thousand_peak() -> tuple[float, float]:
    """`python -m sim +scenario=astana7 replications=100000`, plots included: wall seconds and peak MB."""
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "sim", "+scenario=astana7", "replications=100000", "quiet=true"],
            cwd=folder,
            check=True,
            capture_output=True,
        )
        wall = time.perf_counter() - start
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def growth(quick: bool) -> dict[str, list[tuple[int, float]]]:
    """Seconds per batch as actors, issues and replications grow (the others at 50, 10, 500)."""
    sizes = {
        "actors": [25, 50, 100, 200] if quick else [25, 50, 100, 200, 400],
        "issues": [5, 10, 25, 50] if quick else [5, 10, 25, 50, 100],
        "replications": [250, 500, 1000, 2000] if quick else [250, 500, 1000, 2000, 4000],
    }
    base = {"actors": 50, "issues": 10, "replications": 500}
    curves: dict[str, list[tuple[int, float]]] = {}
    for axis, values in sizes.items():
        curves[axis] = []
        for value in values:
            size = {**base, axis: value}
            scenario = random_scenario(size["actors"], size["issues"], seed=1)
            times = []
            for _ in range(3):
                start = time.perf_counter()
                run_batch(scenario, PROTOCOL, np.arange(size["replications"]))
                times.append(time.perf_counter() - start)
            curves[axis].append((value, statistics.median(times)))
    return curves


def draw(curves: dict[str, list[tuple[int, float]]], path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 3.8))
    FigureCanvasAgg(figure)
    for k, (axis, points) in enumerate(curves.items()):
        ax = figure.add_subplot(1, 3, k + 1)
        x, y = zip(*points, strict=True)
        ax.loglog(x, y, marker="o")
        ax.set_xticks(x, [str(v) for v in x])
        ax.minorticks_off()
        slope = np.polyfit(np.log(x), np.log(y), 1)[0]
        ax.set_title(f"time vs {axis} (slope {slope:.2f} on log-log)", fontsize=10)
        ax.set_xlabel(axis)
        ax.set_ylabel("seconds per batch (median of 3)")
        ax.grid(alpha=0.3, which="both")
    figure.suptitle("Batch time as one size grows (others at 50 actors, 10 issues, 500 replications)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


DEU3_DEV = HERE.parent / "data" / "deu3" / "deu3_dev.csv"
TABLE_CASES = (
    ("bdm", 1000, (), 10.0, None),
    ("bdm", 1000, ("plots=false",), 10.0, None),
    ("bdm", 5000, ("plots=false",), None, None),
    ("deu3", 3000, ("task=validate", "plots=false"), None, 1024.0),
)
"""(format, size, overrides, target seconds, target MB): the large-table runs `--tables` times."""


def bdm_table(actors: int, path: Path, seed: int = 0) -> Path:
    """A BDM actor table of `actors` random actors: capabilities that sum to 1, positions on 1-10,
    saliences on [0, 1]."""
    rng = np.random.default_rng(seed)
    capability = rng.uniform(0.1, 1.0, actors)
    capability /= capability.sum()
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["Actor", "Capability", "Position", "Salience"])
        for i in range(actors):
            writer.writerow(
                [f"actor{i}", f"{capability[i]:.6g}", f"{rng.uniform(1, 10):.3f}", f"{rng.uniform(0, 1):.3f}"]
            )
    return path


def deu3_table(issues: int, path: Path) -> Path:
    """A DEU III table of `issues` issues: the rows of `deu3_dev.csv` in turn, each under a new
    issue number."""
    header, capabilities, *rows = [line for line in DEU3_DEV.read_text().splitlines() if line.strip()]
    issue_column = header.split("\t").index('"isnr"')
    lines = [header, capabilities]
    for number in range(issues):
        fields = rows[number % len(rows)].split("\t")
        fields[issue_column] = f'"b{number}"'
        lines.append("\t".join(fields))
    path.write_text("\n".join(lines) + "\n")
    return path


def timed_process(command: list[str], cwd: Path) -> tuple[float, float, int]:
    """Run `command`: its wall-clock seconds, its peak resident memory in MB, its exit status."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.stderr is not None:
        process.stderr.close()
    return wall, usage.ru_maxrss / 1024, process.returncode


BATCH_SIZES = (100_000, 1_000_000, 10_000_000)


def batch_memory(largest: int) -> None:
    """Peak memory of astana7 batches of growing size, each a whole command line (see the docstring)."""
    peaks = {}
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for n in (*BATCH_SIZES[:-1], largest):
            results = work / f"results{n}"
            command = [sys.executable, "-m", "sim", "scenario=astana7", f"replications={n}", "workers=1"]
            wall, peak, status = timed_process([*command, "quiet=true", f"results={results}"], work)
            written = sum(path.stat().st_size for path in results.rglob("replications.csv"))
            failed = f"; FAILED with exit status {status}" if status else ""
            size = f"replications.csv {written / 1e6:,.0f} MB"
            print(f"replications={n:,}: {wall:.1f} s, peak {peak:.0f} MB, {size}{failed}", flush=True)
            peaks[n] = peak
            shutil.rmtree(results, ignore_errors=True)
    ratio = peaks[largest] / peaks[BATCH_SIZES[0]]
    print(f"peak at {largest:,} over peak at {BATCH_SIZES[0]:,}: {ratio:.2f} (target <= 1.5)")


def table_runs(repeats: int, actors: int | None = None, issues: int | None = None) -> None:
    """Time each large-table case (`TABLE_CASES`, sizes optionally replaced) as a whole command
    line, `repeats` times, and print the medians against the targets."""
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for kind, size, overrides, seconds_target, memory_target in TABLE_CASES:
            size = (actors if kind == "bdm" else issues) or size
            path = work / f"{kind}{size}.csv"
            if not path.exists():
                (bdm_table if kind == "bdm" else deu3_table)(size, path)
            command = [sys.executable, "-m", "sim", "scenario=table", f"scenario.path={path}", *overrides]
            command += ["quiet=true", f"results={work / 'results'}"]
            runs = [timed_process(command, work) for _ in range(repeats)]
            what = f"{kind} table, {size:,} {'actors' if kind == 'bdm' else 'issues'}, "
            what += " ".join(overrides) or "plots=true"
            print(table_line(what, runs, seconds_target, memory_target), flush=True)


def table_line(
    what: str, runs: list[tuple[float, float, int]], seconds: float | None, megabytes: float | None
) -> str:
    """One case's line: median, least and most seconds, median peak MB, the targets, failures."""
    walls = [wall for wall, _, _ in runs]
    peak = statistics.median(peak for _, peak, _ in runs)
    line = (
        f"{what}: {statistics.median(walls):.1f} s (min {min(walls):.1f}, max {max(walls):.1f}), "
        f"peak {peak:.0f} MB, median of {len(runs)}"
    )
    targets = [
        f"target < {seconds:g} s" if seconds else "",
        f"target < {megabytes:g} MB" if megabytes else "",
    ]
    if any(targets):
        line += f" ({'; '.join(target for target in targets if target)})"
    failed = [status for _, _, status in runs if status != 0]
    return line + (f"; FAILED with exit status {failed}" if failed else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--negmas-python", help="a Python with NegMAS installed, if not this one")
    parser.add_argument(
        "--big-case", action="store_true", help="only the 200 x 50 x 1,000 case, in this process"
    )
    parser.add_argument("--tables", action="store_true", help="only the large tables, as whole command lines")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each large table (median)")
    parser.add_argument("--actors", type=int, help="the BDM tables' actors, instead of 1,000 and 5,000")
    parser.add_argument("--issues", type=int, help="the DEU III table's issues, instead of 3,000")
    parser.add_argument("--batch-memory", action="store_true", help="only astana7 batches of growing size")
    parser.add_argument("--largest", type=int, default=BATCH_SIZES[-1], help="the largest batch")
    args = parser.parse_args()
    if args.batch_memory:
        print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}", flush=True)
        batch_memory(args.largest)
        return
    if args.tables:
        print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}", flush=True)
        table_runs(args.repeats, args.actors, args.issues)
        return
    if args.big_case:
        seconds, peak = big_case()
        print(
            f"200 actors, 50 issues, 1,000 replications: {seconds:.2f} s median of 3, peak {peak:.0f} MB "
            "(targets <= 10 s, <= 2048 MB)"
        )
        return
    print(f"machine: {machine()}")

    rate = replication_rate(20_000)
    print(
        f"astana7 replications: {rate:,.0f} negotiations/s (median of 5 batches of 20,000; target >= 10,000)"
    )

    wall, peak = hundred_thousand_peak()
    print(
        f"python -m sim +scenario=astana7 replications=100000: {wall:.1f} s, "
        f"peak {peak:.0f} MB (target <= 1024 MB)"
    )
    subprocess.run([sys.executable, __file__, "--big-case"], check=True)

    batched, single = peer_problem_rates(20_000)
    print(
        f"NegMAS's problem (8 actors, 3 issues, reservation 0.3, 100 steps) here: {batched:,.0f}/s batched, "
        f"{single:,.0f}/s one negotiation at a time"
    )
    peer = negmas_rate(args.negmas_python)
    if peer is None:
        print(
            "NegMAS: not installed (pip install -e '.[bench]', or pass --negmas-python); "
            "domain.md reports about 8 negotiations/s"
        )
    else:
        theirs = peer["negotiations_per_second"]
        print(
            f"NegMAS {peer['negmas_version']}: {theirs:.2f}/s (median of 3), "
            f"peak {peer['peak_rss_mb']:.0f} MB; ratio {batched / theirs:,.0f}x batched, "
            f"{single / theirs:,.0f}x one at a time"
        )

    curves = growth(args.quick)
    for axis, points in curves.items():
        print(f"time vs {axis}: " + ", ".join(f"{v}: {t:.3f} s" for v, t in points))
    path = Path("results") / "benchmarks" / "scaling.png"
    draw(curves, path)
    print(f"drawn: {path}")
    table_runs(args.repeats)


if __name__ == "__main__":
    main()
