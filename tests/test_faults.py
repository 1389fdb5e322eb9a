"""Faults from outside: a run or sweep killed at random moments, a disk that fills at any write, a
results folder that turns read-only, and two sweeps started at the same moment by two processes.

`tests/test_robust_files.py` covers a full disk at a CSV, a run stopped while it writes a plot,
and sweeps started one after the other in the same microsecond; these tests add a SIGKILL at
random moments, a full disk at each kind of file, read-only folders and truly concurrent sweeps.
After each fault every file under the results folder is whole: a PNG ends with its IEND chunk, a
JSON file parses, a CSV file parses; the only temporary files are those of the killed process,
and finishing the folder removes them.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from test_robust_files import FROZEN_CLOCK, assert_one_line, run_program

from sim.outputs.files import TEMPORARY_PREFIX, remove_stale_temporaries
from sim.studies.sweep import main as aggregate_main

PNG_END = b"IEND\xaeB`\x82"
KILL_SEED = 13
FULL_DISK = """
import errno, os

original, calls = os.fdopen, []


class Full:
    def __init__(self, stream):
        self.stream = stream

    def write(self, data):
        self.stream.write(data[: len(data) // 2])
        self.stream.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self.stream, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stream.close()


def fdopen(fd, *args, **kwargs):
    stream = original(fd, *args, **kwargs)
    calls.append(1)
    return Full(stream) if len(calls) == int(os.environ["FAIL_AT"]) else stream


os.fdopen = fdopen
"""
"""The FAIL_AT-th file written (through `sim.outputs.files`) finds the disk full half-way through."""

READ_ONLY = """
import errno, os, pathlib, tempfile

if os.environ["READ_ONLY"] == "file":
    def mkstemp(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), kwargs.get("dir"))

    tempfile.mkstemp = mkstemp
else:
    original = pathlib.Path.mkdir

    def mkdir(self, *args, **kwargs):
        if "results" in self.parts:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
        return original(self, *args, **kwargs)

    pathlib.Path.mkdir = mkdir
"""
"""The results folder is on a read-only file system: its files (READ_ONLY=file) or its folders
(READ_ONLY=folder) cannot be created."""


def temporaries(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob(f"{TEMPORARY_PREFIX}*") if path.is_file())


def assert_whole(folder: Path, writers: set[int] | None = None) -> None:
    """Every PNG, JSON and CSV file under `folder` is whole, and every temporary file is one of a
    process in `writers` (none when `writers` is None)."""
    for path in folder.rglob("*"):
        if path.name.startswith(TEMPORARY_PREFIX):
            pid = int(path.name.removeprefix(TEMPORARY_PREFIX).partition("-")[0])
            assert writers is not None and pid in writers, f"{path} left by process {pid}"
        elif path.suffix == ".png":
            assert path.read_bytes().endswith(PNG_END), f"{path} is cut short"
        elif path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".csv":
            pd.read_csv(path)


def kill_at_random(args: list[str], cwd: Path, rng: random.Random) -> int:
    """Start `python -m sim ARGS` in `cwd`; once its first folder appears under results, wait a
    random moment and SIGKILL it. Its process id."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sim", *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not (cwd / "results").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(rng.uniform(0.0, 2.0))
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    return process.pid


@pytest.mark.slow
@pytest.mark.parametrize("attempt", range(2))
def test_a_batch_killed_at_a_random_moment_leaves_only_whole_files(tmp_path, attempt):
    rng = random.Random(KILL_SEED + attempt)
    args = ["scenario=astana7", "replications=400", "trace=true", "plots=true"]
    pid = kill_at_random(args, tmp_path, rng)
    results = tmp_path / "results"
    assert_whole(results, writers={pid})
    for folder in [results, *(path for path in results.rglob("*") if path.is_dir())]:
        remove_stale_temporaries(folder)
    assert not temporaries(results)
    assert_whole(results)


@pytest.mark.slow
@pytest.mark.parametrize("attempt", range(2))
def test_a_sweep_killed_at_a_random_moment_leaves_only_whole_files_and_aggregates(tmp_path, attempt, capsys):
    rng = random.Random(KILL_SEED + 10 + attempt)
    args = ["-m", "scenario=astana7", "replications=50", "seed=1,2,3,4"]
    pid = kill_at_random(args, tmp_path, rng)
    results = tmp_path / "results"
    assert_whole(results, writers={pid})
    sweeps = list((results / "sweeps").iterdir()) if (results / "sweeps").exists() else []
    for sweep in sweeps:
        finished = sorted(int(job.name) for job in sweep.iterdir() if (job / "summary.json").is_file())
        aggregate_main([str(sweep), "--no-plots"])
        capsys.readouterr()
        if finished:
            assert pd.read_csv(sweep / "sweep.csv")["job"].tolist() == finished
    assert not temporaries(results)
    assert_whole(results)


@pytest.mark.slow
@pytest.mark.parametrize("fail_at", [2, 5, 9])
def test_a_disk_full_at_any_write_ends_in_one_line_and_leaves_only_whole_files(tmp_path, fail_at):
    result = run_program(tmp_path, "scenario=astana7", prelude=FULL_DISK, env={"FAIL_AT": str(fail_at)})
    message = assert_one_line(result)
    assert "No space left on device: free some space" in message
    results = tmp_path / "results"
    assert_whole(results)
    runs = list((results / "astana7").iterdir()) if (results / "astana7").exists() else []
    assert all((run / "summary.json").is_file() for run in runs), "an unfinished run folder was kept"


@pytest.mark.slow
@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_read_only_results_folder_ends_in_one_line_and_writes_nothing(tmp_path, what):
    (tmp_path / "results").mkdir()
    result = run_program(
        tmp_path, "scenario=astana7", "plots=false", prelude=READ_ONLY, env={"READ_ONLY": what}
    )
    message = assert_one_line(result)
    assert "Read-only file system" in message
    fix = "make the folder writable" if what == "file" else "set results= to a folder you can write to"
    assert fix in message
    assert list((tmp_path / "results").rglob("*")) == []


@pytest.mark.slow
def test_two_sweeps_started_at_once_by_two_processes_get_their_own_folders(tmp_path):
    script = tmp_path / "run_sim.py"
    script.write_text(f"{FROZEN_CLOCK}\nimport sys\nfrom sim.cli import main\nsys.argv[0] = 'sim'\nmain()\n")
    processes = [
        subprocess.Popen(
            [sys.executable, str(script), "-m", "scenario=astana7", "plots=false", f"seed={seeds}"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seeds in ("1,2", "3,4")
    ]
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-2000:]
    sweeps = sorted((tmp_path / "results" / "sweeps").iterdir())
    assert [folder.name for folder in sweeps] == [
        "2030-01-01_00-00-00-000000",
        "2030-01-01_00-00-00-000000-1",
    ]
    seen = sorted(tuple(pd.read_csv(folder / "sweep.csv")["seed"]) for folder in sweeps)
    assert seen == [(1, 2), (3, 4)]
    for folder in sweeps:
        seeds = pd.read_csv(folder / "sweep.csv")["seed"].tolist()
        for job, seed in enumerate(seeds):
            assert json.loads((folder / str(job) / "summary.json").read_text())["seed"] == seed
    assert_whole(tmp_path / "results")
