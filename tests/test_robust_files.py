"""Nothing lost, nothing mixed: unique folders, unwritable or full disks, empty paths, atomic plots,
stopped runs and damaged sweep files (issue 13, items 1, 3, 6, 7 and 9)."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure
from omegaconf import OmegaConf

import sim
from sim.cli import check_paths
from sim.errors import UserError
from sim.figures.run import write_run_plots
from sim.figures.study import save_figure
from sim.outputs.files import (
    TEMPORARY_PREFIX,
    NewFolders,
    create_unique_folder,
    remove_stale_temporaries,
    temporary_files,
    write_csv,
)
from sim.outputs.summary import expand_divisions
from sim.studies.sweep import aggregate
from sim.studies.sweep import main as aggregate_main

REPO = Path(__file__).resolve().parents[1]
PNG_END = b"IEND\xaeB`\x82"

FROZEN_CLOCK = """
import datetime
import hydra.core.utils


class Frozen(datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return cls(2030, 1, 1, 0, 0, 0, 0)


hydra.core.utils.datetime = Frozen
"""
"""Every `${now:...}` gives the same microsecond, as for two runs started at the same moment."""

NO_SPACE_AT_CSV = """
import errno, os
import pandas as pd

original, calls = pd.DataFrame.to_csv, []


def to_csv(self, stream=None, *args, **kwargs):
    calls.append(1)
    if len(calls) == int(os.environ["FAIL_AT"]):
        stream.write("half a line")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return original(self, stream, *args, **kwargs)


pd.DataFrame.to_csv = to_csv
"""
"""The FAIL_AT-th CSV written finds the disk full, half-way through."""

STOPPED_IN_PLOT = """
import os, signal
from matplotlib.figure import Figure

original, calls = Figure.savefig, []


def savefig(self, stream, *args, **kwargs):
    calls.append(1)
    if len(calls) == 2:
        stream.write(b"\\x89PNG half a plot")
        stream.flush()
        os.kill(os.getpid(), getattr(signal, os.environ["SIGNAL"]))
    return original(self, stream, *args, **kwargs)


Figure.savefig = savefig
"""
"""The program gets SIGNAL while it writes `utilities.png`, after the first bytes."""


def run_program(cwd: Path, *args: str, prelude: str = "", env: dict[str, str] | None = None):
    """`python -m sim ARGS` in `cwd`, after running `prelude` (patches) in the same process."""
    script = cwd / "run_sim.py"
    script.write_text(f"{prelude}\nimport sys\nfrom sim.cli import main\nsys.argv[0] = 'sim'\nmain()\n")
    try:
        return subprocess.run(
            [sys.executable, str(script), *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, **(env or {})},
            preexec_fn=interruptible,
        )
    finally:
        script.unlink()


def interruptible() -> None:
    """In the program's process, before Python starts: Ctrl-C (SIGINT) as a terminal sends it,
    even when the test runner's worker ignores it (a process ignoring SIGINT passes that on, and
    Python then installs no KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def assert_one_line(result: subprocess.CompletedProcess, status: int = 2) -> str:
    assert result.returncode == status, result.stderr[-2000:]
    assert result.stderr.startswith("error: "), result.stderr[-2000:]
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    return result.stderr


def everything_under(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


# Item 1: no two runs or sweeps share a folder.


def test_a_folder_name_taken_first_gets_a_suffix_and_names_sort_by_time(tmp_path):
    folders = NewFolders()
    first = folders(str(tmp_path / "results"), "sweeps/2030-01-01_00-00-00-000000")
    second = folders(str(tmp_path / "results"), "sweeps/2030-01-01_00-00-00-000000")
    assert Path(first).name == "2030-01-01_00-00-00-000000"
    assert Path(second).name == "2030-01-01_00-00-00-000000-1"
    assert sorted([second, first]) == [first, second]
    assert folders.created == [Path(first), Path(second)]


def test_processes_racing_for_one_name_each_get_their_own_folder(tmp_path):
    made: list[Path] = []
    threads = [
        threading.Thread(target=lambda: made.append(create_unique_folder(tmp_path / "a" / "same")))
        for _ in range(16)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(made)) == 16 and all(folder.is_dir() for folder in made)


def test_run_and_sweep_folders_are_taken_by_creating_them_with_microseconds():
    hydra = OmegaConf.to_container(OmegaConf.load(REPO / "conf" / "config.yaml").hydra)
    for pattern in (hydra["run"]["dir"], hydra["sweep"]["dir"]):
        assert pattern.startswith("${new_folder:${results},") and "%f" in pattern


@pytest.mark.slow
def test_two_sweeps_and_two_runs_started_in_the_same_microsecond_never_share_a_folder(tmp_path):
    for seeds in ("1,2", "3,4"):
        result = run_program(
            tmp_path, "-m", "scenario=astana7", "plots=false", f"seed={seeds}", prelude=FROZEN_CLOCK
        )
        assert result.returncode == 0, result.stderr[-2000:]
    sweeps = sorted((tmp_path / "results" / "sweeps").iterdir())
    assert [folder.name for folder in sweeps] == [
        "2030-01-01_00-00-00-000000",
        "2030-01-01_00-00-00-000000-1",
    ]
    for folder, seeds in zip(sweeps, ([1, 2], [3, 4]), strict=True):
        assert pd.read_csv(folder / "sweep.csv")["seed"].tolist() == seeds
        for job, seed in enumerate(seeds):
            assert json.loads((folder / str(job) / "summary.json").read_text())["seed"] == seed
    for _ in range(2):
        result = run_program(tmp_path, "scenario=astana7", "plots=false", "quiet=true", prelude=FROZEN_CLOCK)
        assert result.returncode == 0, result.stderr[-2000:]
    assert len(list((tmp_path / "results" / "astana7").iterdir())) == 2


# Item 3: an unwritable or full results location.


@pytest.mark.parametrize(
    ("results", "multirun"),
    [("/proc/nope", False), ("/proc/nope", True), ("a_file", False), ("a_file/below", True)],
)
def test_an_unwritable_results_location_ends_in_one_line_before_any_work(tmp_path, results, multirun):
    (tmp_path / "a_file").write_text("not a folder")
    sweep = ["-m", "seed=1,2"] if multirun else []
    result = run_program(tmp_path, *sweep, "scenario=astana7", f"results={results}", "plots=false")
    message = assert_one_line(result)
    assert "results=" in message
    assert ("a_file is a file, not a folder" in message) == results.startswith("a_file")
    assert "[job" not in result.stdout
    assert everything_under(tmp_path) == {"a_file"}


def test_a_full_disk_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "sweep.csv"
    write_csv(path, pd.DataFrame({"job": [0, 1]}))
    before = path.read_bytes()

    def full(self, stream, *args, **kwargs):
        stream.write("job\n0\n")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    with pytest.raises(OSError) as error:
        write_csv(path, pd.DataFrame({"job": [0, 1, 2]}))
    assert error.value.filename == str(path)
    assert path.read_bytes() == before
    assert sorted(tmp_path.iterdir()) == [path]


def test_a_full_disk_while_aggregating_keeps_sweep_csv_and_says_so_in_one_line(tmp_path, monkeypatch, capsys):
    folder = fake_sweep(tmp_path, seeds=[1, 2])
    aggregate_main([str(folder), "--no-plots"])
    before = (folder / "sweep.csv").read_bytes()
    capsys.readouterr()

    def full(self, stream, *args, **kwargs):
        stream.write("half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    with pytest.raises(SystemExit) as exit_:
        aggregate_main([str(folder), "--no-plots"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device" in err and "sim.studies.sweep" in err
    assert (folder / "sweep.csv").read_bytes() == before
    assert not temporary_files(folder)


def test_a_full_disk_in_a_single_run_ends_in_one_line_and_leaves_no_folder(tmp_path):
    result = run_program(
        tmp_path, "scenario=astana7", "plots=false", prelude=NO_SPACE_AT_CSV, env={"FAIL_AT": "1"}
    )
    assert "replications.csv: No space left on device: free some space" in assert_one_line(result)
    assert not (tmp_path / "results").exists()


@pytest.mark.slow
def test_a_full_disk_mid_sweep_keeps_the_finished_jobs_in_sweep_csv(tmp_path):
    args = ("-m", "scenario=astana7", "replications=3", "plots=false", "seed=1,2,3")
    result = run_program(tmp_path, *args, prelude=NO_SPACE_AT_CSV, env={"FAIL_AT": "3"})
    message = assert_one_line(result)
    (folder,) = (tmp_path / "results" / "sweeps").iterdir()
    assert "2/replications.csv: No space left on device" in message
    assert f"2 finished jobs are in {folder.relative_to(tmp_path) / 'sweep.csv'}" in message
    assert pd.read_csv(folder / "sweep.csv")["seed"].tolist() == [1, 2]
    assert not (folder / "2").exists()
    assert not [path for path in folder.rglob("*") if path.name.startswith(TEMPORARY_PREFIX)]
    result = run_program(tmp_path, *args, prelude=NO_SPACE_AT_CSV, env={"FAIL_AT": "4"})
    message = assert_one_line(result)
    assert (
        "sweep.csv: No space left on device: free some space, then run python -m sim.studies.sweep" in message
    )
    newest = max((tmp_path / "results" / "sweeps").iterdir())
    assert {path.name for path in newest.iterdir()} == {"0", "1", "2", "multirun.yaml"}


# Item 6: an empty path never writes outside results/.


@pytest.mark.parametrize(
    "args",
    [
        ["scenario=astana7", "results="],
        ["scenario=astana7", "results=''"],
        ["-m", "scenario=astana7", "results=", "seed=1,2"],
        ["scenario=astana7", "hydra.run.dir="],
        ["-m", "scenario=astana7", "hydra.sweep.dir=", "seed=1,2"],
        ["-m", "scenario=astana7", "hydra.sweep.subdir=''", "seed=1,2"],
    ],
)
def test_an_empty_path_ends_in_one_line_and_writes_nothing(tmp_path, args):
    result = run_program(tmp_path, *args, "plots=false")
    assert "is empty: give" in assert_one_line(result)
    assert everything_under(tmp_path) == set()


def test_an_empty_results_set_in_a_file_is_refused_by_the_folder_resolver():
    with pytest.raises(UserError, match="results is empty"):
        NewFolders()(" ", "astana7/now")
    with pytest.raises(UserError, match=r"hydra\.run\.dir is empty"):
        check_paths(["scenario=astana7", "hydra.run.dir= "])


def test_a_bad_run_in_the_working_directory_removes_only_what_it_wrote(tmp_path):
    (tmp_path / "notes.txt").write_text("the user's own file")
    result = run_program(
        tmp_path, "scenario=astana7", "hydra.run.dir=.", "scenario.actors.turkey.capability=0"
    )
    assert "capability is 0" in assert_one_line(result)
    assert everything_under(tmp_path) == {"notes.txt"}


# Item 7: plots written atomically; nothing left by a stopped run.


@pytest.fixture(scope="module")
def one_run():
    result = sim.run("astana7")
    return expand_divisions(result.summary), result.trace


def test_plots_are_complete_pngs_or_absent_when_a_write_fails(tmp_path, monkeypatch, one_run):
    original = Figure.savefig

    def fail_half_way(self, stream, *args, **kwargs):
        stream.write(b"\x89PNG half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Figure, "savefig", fail_half_way)
    with pytest.raises(OSError):
        write_run_plots(tmp_path, *one_run)
    with pytest.raises(OSError):
        save_figure(Figure(), tmp_path / "plot.png")
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(Figure, "savefig", original)
    for path in write_run_plots(tmp_path, *one_run):
        assert path.read_bytes().endswith(PNG_END)
    assert not temporary_files(tmp_path)


def test_plots_are_drawn_in_this_process(tmp_path, monkeypatch, one_run):
    def no_child(*args, **kwargs):
        raise AssertionError("a plot was drawn in another process")

    monkeypatch.setattr(os, "fork", no_child)
    monkeypatch.setattr("multiprocessing.process.BaseProcess.start", no_child)
    paths = write_run_plots(tmp_path, *one_run)
    assert paths and all(path.read_bytes().endswith(PNG_END) for path in paths)


@pytest.mark.slow
@pytest.mark.parametrize(("signal_name", "status"), [("SIGTERM", 143), ("SIGINT", 130)])
def test_a_run_stopped_while_it_writes_a_plot_leaves_nothing(tmp_path, signal_name, status):
    result = run_program(tmp_path, "scenario=astana7", prelude=STOPPED_IN_PLOT, env={"SIGNAL": signal_name})
    assert_one_line(result, status)
    assert everything_under(tmp_path) == set()


@pytest.mark.slow
def test_a_temporary_file_left_by_a_killed_run_is_removed_when_the_folder_is_finished(tmp_path):
    result = run_program(tmp_path, "scenario=astana7", prelude=STOPPED_IN_PLOT, env={"SIGNAL": "SIGKILL"})
    assert result.returncode == -9
    (run,) = (tmp_path / "results" / "astana7").iterdir()
    (stale,) = temporary_files(run)
    assert stale.name.startswith(f"{TEMPORARY_PREFIX}") and "utilities.png" in stale.name
    assert not (run / "utilities.png").exists() and not (run / "summary.json").exists()
    mine = run / f"{TEMPORARY_PREFIX}{os.getpid()}-trace.csv.x.tmp"
    alive = run / f"{TEMPORARY_PREFIX}{os.getppid()}-trace.csv.x.tmp"
    mine.write_text("")
    alive.write_text("")
    assert sorted(remove_stale_temporaries(run)) == sorted([stale, mine])
    assert temporary_files(run) == [alive]


def test_aggregating_a_killed_sweep_removes_the_temporary_files_of_its_killed_jobs(tmp_path, capsys):
    folder = fake_sweep(tmp_path, seeds=[1, 2])
    (folder / "1" / "summary.json").unlink()
    stale = [
        folder / "1" / f"{TEMPORARY_PREFIX}999999999-trace.csv.abc.tmp",
        folder / f"{TEMPORARY_PREFIX}x.tmp",
    ]
    for path in stale:
        path.write_text("half")
    aggregate_main([str(folder), "--no-plots"])
    assert "job 1 (seed=2)" in capsys.readouterr().out
    assert not any(path.exists() for path in stale)


# Item 9: damaged sweep files name their job, and the rest is aggregated.


def fake_sweep(tmp_path: Path, seeds: list[int]) -> Path:
    """A grid sweep over `seed` as Hydra leaves it: multirun.yaml, and per job .hydra and summary.json."""
    folder = tmp_path / "sweep"
    plan = {
        "hydra": {
            "sweeper": {
                "_target_": "hydra._internal.core_plugins.basic_sweeper.BasicSweeper",
                "params": None,
            },
            "overrides": {"task": ["scenario=astana7", f"seed={','.join(map(str, seeds))}"]},
        }
    }
    folder.mkdir()
    OmegaConf.save(OmegaConf.create(plan), folder / "multirun.yaml")
    for job, seed in enumerate(seeds):
        (folder / str(job) / ".hydra").mkdir(parents=True)
        OmegaConf.save(
            OmegaConf.create(["scenario=astana7", f"seed={seed}"]),
            folder / str(job) / ".hydra" / "overrides.yaml",
        )
        OmegaConf.save(OmegaConf.create({"objective": None}), folder / str(job) / ".hydra" / "config.yaml")
        summary = sim.run("astana7", seed=seed).summary
        (folder / str(job) / "summary.json").write_text(json.dumps(summary, indent=2))
    return folder


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda f: cut(f / "1" / "summary.json", 100), "job 1 (seed=2): summary.json is damaged"),
        (lambda f: cut(f / "1" / "summary.json", 0), "job 1 (seed=2): summary.json is damaged"),
        (lambda f: (f / "1" / "summary.json").write_text("[]"), "job 1 (seed=2): summary.json is damaged"),
        (lambda f: (f / "1" / "summary.json").write_text('{"issues": {}}'), "job 1 (seed=2): summary.json"),
        (lambda f: cut(f / "1" / ".hydra" / "overrides.yaml", 0), "job 1: .hydra/overrides.yaml is empty"),
        (lambda f: cut(f / "1" / ".hydra" / "overrides.yaml", 20), "job 1: .hydra/overrides.yaml is damaged"),
        (lambda f: cut(f / "1" / ".hydra" / "config.yaml", 5), "job 1 (seed=2): config.yaml is damaged"),
        (lambda f: cut(f / "multirun.yaml", 0), "note: multirun.yaml is empty"),
        (lambda f: cut(f / "multirun.yaml", 90), "note: multirun.yaml is damaged"),
    ],
)
def test_a_damaged_file_names_its_job_and_the_rest_is_aggregated(tmp_path, capsys, damage, expected):
    folder = fake_sweep(tmp_path, seeds=[1, 2, 3])
    damage(folder)
    aggregate_main([str(folder), "--no-plots"])
    printed = capsys.readouterr()
    assert expected in printed.out and not printed.err
    table = pd.read_csv(folder / "sweep.csv")
    assert table["job"].tolist() == ([0, 1, 2] if "multirun" in expected else [0, 2])


def test_every_file_damaged_still_ends_without_a_traceback(tmp_path, capsys):
    folder = fake_sweep(tmp_path, seeds=[1, 2])
    for path in [folder / "multirun.yaml", *folder.glob("*/summary.json"), *folder.glob("*/.hydra/*.yaml")]:
        cut(path, 0)
    table, missing = aggregate(folder, plots=False)
    assert table.empty and missing == [
        "job 0: .hydra/overrides.yaml is empty",
        "job 1: .hydra/overrides.yaml is empty",
    ]
    aggregate_main([str(folder)])
    assert "no finished job to aggregate" in capsys.readouterr().out
    assert not (folder / "sweep.csv").exists()


def cut(path: Path, size: int) -> None:
    """Cut a file short to its first `size` bytes, as a killed writer or a full disk leaves it."""
    path.write_bytes(path.read_bytes()[:size])
