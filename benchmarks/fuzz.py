"""Fuzz the command line and the API with generated bad input; count what was not refused cleanly.

    python benchmarks/fuzz.py [--cases 10000] [--subprocesses 150] [--workers 2] [--seed 0]

Each case is a command line (or the same overrides for `sim.load`) built from a seed: bad
overrides (misspelled keys, wrong types, values out of range, nan and inf, integers past 64 bits,
empty values, non-ASCII keys and values, paths with commas, broken syntax, sweeps with a bad value),
malformed scenario files (truncated, fields removed, numbers replaced, bytes that are not UTF-8,
broken YAML) and malformed tables (the files of `data/`, cut, with cells, lines or columns changed,
noise inserted). A case runs in a folder of its own through one of four targets:

- `cli`: `sim.cli.main` in this process, with `sys.argv` set (as `python -m sim` runs it);
- `subprocess`: `python -m sim` as a real process (the end-to-end path; `--subprocesses` of them);
- `api`: `sim.load` with the same overrides;
- `reader`: `read_table`, `scenario_from_table` and a short run of the scenario read.

A case passes when it is refused with one line (`error: ...` and exit status 2 on the command
line, a one-line `UserError` from the API) and leaves nothing behind, or when it was valid after
all and ran. It fails as a traceback (any other exception, or a message of several lines), a wrong
exit status (another status, or a case built to be bad that ran), or a leftover (a refused case
that left a file or folder). Cases run in a pool of `--workers` processes; the summary prints the
counts per target, the failures (first few of each kind, with their command lines) and the wall
time. The exit status is 1 when a case failed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import multiprocessing
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "conf" / "scenario"
TABLES = sorted(path for path in (REPO / "data").glob("*/*.csv") if path.parent.name != "astana")
ACTORS = ("government", "opposition", "russia", "turkey", "iran", "un", "us", "jordan")
ISSUES = ("zones", "detainees", "demining")
TARGETS = ("reader", "api", "cli")
SHARES = {"reader": 0.88, "api": 0.08, "cli": 0.04}
"""How the cases other than the subprocesses are divided among the targets (the API and the
command line compose a configuration with Hydra, about 0.4 s and 1 s a case; a table, milliseconds)."""
FAILURES = ("traceback", "wrong_exit", "leftover")
SUBPROCESS_TIMEOUT = 180


@dataclass(frozen=True)
class Case:
    """One generated input: a command line (or a table to read) and the files it reads.

    `args` may hold `{dir}`, the case's folder; `files` are written there first. `bad` says the
    input was built to be refused; otherwise it may be valid and run.
    """

    number: int
    target: str
    kind: str
    args: tuple[str, ...]
    files: tuple[tuple[str, bytes], ...] = ()
    bad: bool = False

    def argv(self, folder: Path) -> list[str]:
        return [arg.replace("{dir}", str(folder)) for arg in self.args]


@dataclass
class Verdict:
    """How a case ended: `refused`, `ran`, or one of the failures, with what was seen."""

    case: Case
    status: str
    detail: str = ""
    seconds: float = 0.0


# Values


NOT_A_NUMBER = ("abc", "nan", "inf", "-inf", "NaN", "[1,2]", "{a: 1}", "1e400", "-1e400", "0x1g", "é", "1,5'")
HUGE = (str(10**20), str(2**63), str(2**64), str(-(2**63) - 1), "9" * 40)
"""Integers past 64 bits: out of range for whole numbers and for values of at most 1."""
PAST_FLOAT = ("9" * 400, "-" + "9" * 400, "1e400")
"""Numbers past the largest float: out of range for every number."""
EMPTY = ("''", '""', "' '")
TEXT = ("nope", "Nope", "é", "日本", "a b", "x" * 300, "..", "../x", "null", "1", "-", "_")


@dataclass(frozen=True)
class Key:
    """A key the configuration has, its bad values, and a few valid ones."""

    name: str
    bad: tuple[str, ...]
    good: tuple[str, ...]


def numeric(
    low_bad: tuple[str, ...], good: tuple[str, ...], bounded: bool = True
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Bad values of a number (`bounded`: one whose range ends below 2**63) and good ones."""
    return (*low_bad, *NOT_A_NUMBER, *(HUGE if bounded else ()), *PAST_FLOAT, *EMPTY), good


def keys() -> list[Key]:
    """The configuration's keys, each with values out of its range or of the wrong type."""
    unit = numeric(("-0.1", "1.5", "2", "-1", "1e308", "-1e-300"), ("0", "0.3", "1", "0.75"))
    share = numeric(("-0.1", "1.5", "-1", "1e308"), ("0", "0.2", "1"))
    positive = numeric(("0", "-1", "-1e-9", "1e308", "1e-320"), ("0.5", "2", "1e-3"), bounded=False)
    reservation = numeric(("1", "1.5", "-0.5", "1e308"), ("0", "0.3", "0.9"))
    concession = numeric(("0", "-1", "-1e308"), ("0.5", "1", "3"), bounded=False)
    discount = numeric(("0", "1.5", "-1", "1e-400"), ("0.5", "0.9", "1"))
    salience = numeric(("-1", "-1e-9", "1e308", "1e101"), ("0", "0.5", "1", "30"), bounded=False)
    steps = numeric(("0", "-1", "1.5", "1e3", "1000000"), ("1", "5", "20"))
    booleans = (("2", "yes", "no", "0", "1", "abc", "nan", "[true]", "''"), ("true", "false"))
    found: list[Key] = [
        Key("seed", *numeric(("-1", "1.5", "1e3"), ("0", "7", "123456"))),
        Key("replications", *numeric(("0", "-1", "1.5", "1000000000000"), ("1", "2", "3"))),
        Key("trace", *booleans),
        Key("plots", *booleans),
        Key("quiet", *booleans),
        Key("task", (*TEXT, *EMPTY, "validate", "replay", "forecast"), ("run",)),
        Key("objective", ("''", "'.'", "a..b", "issues.", ".x"), ("issues.zones.agreement_probability",)),
        Key("objective_target", ("nan", "inf", "-inf", "abc", "1e400", "[1]"), ("0.5",)),
        Key("protocol", (*TEXT, *EMPTY), ("alternating", "mediated", "eum", "compromise", "package")),
        Key("protocol.max_steps", *steps),
        Key("protocol.stall_steps", *steps),
        Key("protocol.recognition", (*TEXT, "''"), ("rotate", "random", "capability")),
        Key("protocol.observer_support", *numeric(("-1", "-1e-9"), ("0", "1", "2.5"), bounded=False)),
        Key("scenario.decision", (*TEXT, "''"), ("unanimity", "majority")),
        Key("scenario.recognition", (*TEXT, "''"), ("rotate", "capability")),
        Key("scenario.utility_exponent", ("0", "3", "1.5", "-1", "abc", "nan", "true"), ("1", "2")),
        Key(
            "scenario.linked",
            (
                "[[zones]]",
                "[[zones,zones]]",
                "[[nope,zones]]",
                "zones",
                "[1,2]",
                "[[zones,detainees],[zones,demining]]",
            ),
            ("[[detainees,demining]]", "[]"),
        ),
        Key(
            "scenario.issues.zones.scale",
            ("[0]", "[0,0]", "[0,nan]", "[inf,1]", "abc", "[a,b]", "[0,1,2]"),
            ("[0,10]", "[1,-1]"),
        ),
        Key(
            "results",
            ("", "''", "/proc/nope", "a,b", "résultats", "{dir}/file.txt", "{dir}/file.txt/x"),
            ("out",),
        ),
        Key("hydra.run.dir", ("", "' '", "/proc/nope/x"), ()),
        Key("hydra.sweep.dir", ("", "''", "/proc/nope/x"), ()),
    ]
    per_actor = {
        "capability": positive,
        "reservation": reservation,
        "concession": concession,
        "patron_weight": share,
        "discount": discount,
        "patience": steps,
        "present": booleans,
        "strategy": ((*TEXT, "''"), ("time_dependent",)),
        "patron_of": (("nope", "''", "1", "[turkey]", "turky"), ()),
    }
    for actor in ACTORS:
        for field_name, (bad, good) in per_actor.items():
            found.append(Key(f"scenario.actors.{actor}.{field_name}", bad, good))
        for issue in ISSUES:
            found.append(Key(f"scenario.actors.{actor}.ideal.{issue}", *unit))
            found.append(Key(f"scenario.actors.{actor}.salience.{issue}", *salience))
    return found


KEYS = keys()


def misspell(rng: random.Random, word: str) -> str:
    """`word` with one character dropped, doubled, swapped or replaced (never the same word)."""
    for _ in range(20):
        i = rng.randrange(len(word))
        choice = rng.randrange(4)
        if choice == 0 and len(word) > 1:
            new = word[:i] + word[i + 1 :]
        elif choice == 1:
            new = word[:i] + word[i] + word[i:]
        elif choice == 2 and i + 1 < len(word):
            new = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        else:
            new = word[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz_") + word[i + 1 :]
        if new != word and new.strip("._"):
            return new
    return word + "x"


def bad_key(rng: random.Random) -> str:
    """A key the configuration does not have: a part misspelled, non-ASCII, or a new key."""
    key = rng.choice(KEYS).name
    parts = key.split(".")
    choice = rng.randrange(6)
    if choice <= 2:
        i = rng.randrange(len(parts))
        parts[i] = misspell(rng, parts[i])
        return ".".join(parts)
    if choice == 3:
        return key.replace(
            rng.choice([p for p in parts if p]), rng.choice(["actörs", "türkey", "zönes", "ид"]), 1
        )
    if choice == 4:
        return "+" + ".".join([*parts[:-1], misspell(rng, parts[-1])])
    return rng.choice(
        ["++seedd", "+foo", "scenario.actors.nobody.capability", "protocol.maxsteps", "scenario..x"]
    )


def good_override(rng: random.Random, avoid: str) -> str:
    """A valid override of a key other than `avoid` (so that it cannot undo the bad one)."""
    key = rng.choice([key for key in KEYS if key.good and key.name != avoid])
    return f"{key.name}={rng.choice(key.good)}"


def broken_syntax(rng: random.Random) -> str:
    """An override Hydra's grammar cannot read, or one that reads as something unintended."""
    return rng.choice(
        [
            "seed='3",
            'seed="3',
            "seed=[",
            "seed={",
            "seed=]",
            "a=b=c",
            "=",
            "=3",
            "seed",
            "++",
            "~",
            "scenario.actors.turkey.capability=${oops}",
            "seed=${seed}",
            "seed=${now:}",
            "scenario.actors=5",
            "scenario.actors.turkey=3",
            "protocol.max_steps=range(0,3)",
            "seed=choice(1,2)",
            "seed=1,2",
            "scenario.path=/tmp/a,b.csv",
            "seed=3 4",
        ]
    )


# Cases


def override_case(number: int, rng: random.Random, target: str) -> Case:
    """A command line with one bad override (a value, a key or the syntax), and some good ones."""
    choice = rng.random()
    if choice < 0.6:
        key = rng.choice(KEYS)
        bad = f"{key.name}={rng.choice(key.bad)}"
        kind = "bad value"
    elif choice < 0.85:
        bad = f"{bad_key(rng)}={rng.choice(['1', '0.5', 'abc', 'true'])}"
        kind = "bad key"
    else:
        bad = broken_syntax(rng)
        kind = "broken syntax"
    scenario = rng.choice(
        ["scenario=astana7"] * 6 + ["+scenario=astana7", "scenario=nope", "scenario=''", ""]
    )
    avoid = bad.split("=", 1)[0].lstrip("+~")
    args = [scenario, *(good_override(rng, avoid) for _ in range(rng.randrange(3))), bad]
    sweep = target in ("cli", "subprocess") and kind == "bad value" and rng.random() < 0.2
    if sweep:
        key = bad.split("=", 1)[0]
        good = next((k for k in KEYS if k.name == key and k.good), None)
        if good is not None and "," not in bad.split("=", 1)[1]:
            args[-1] = f"{bad},{rng.choice(good.good)}"
            args.insert(0, "-m")
            kind = "sweep with a bad value"
    rng.shuffle(args)
    # The API writes nothing, so it takes any path; the command line refuses the bad ones.
    bad_here = target != "api" or not bad.startswith(("results=", "hydra."))
    return Case(number, target, kind, tuple(arg for arg in args if arg), bad=bad_here)


def mutate_scenario(rng: random.Random, text: str) -> tuple[str, bytes, bool]:
    """A scenario file's text damaged one way: its kind, bytes, and whether it must be refused."""
    lines = text.splitlines(keepends=True)
    numbers = [
        i
        for i, line in enumerate(lines)
        if any(f"{f}:" in line for f in ("capability", "reservation", "ideal", "salience"))
    ]
    choice = rng.randrange(9)
    if choice == 0 and numbers:
        i = rng.choice(numbers)
        bad = rng.choice(["nan", "-1", "1e400", "abc", "''", "[1]", "{}", "null", "inf", "2e308"])
        line = lines[i]
        head, _, tail = line.partition(":")
        if "{" in tail:
            lines[i] = line.replace(
                line[line.index(":", line.index("{")) + 1 :].split(",")[0].strip("} \n"), f" {bad}", 1
            )
        else:
            lines[i] = f"{head}: {bad}\n"
        return "number replaced", "".join(lines).encode(), False
    if choice == 1:
        field_name = rng.choice(
            ["name", "role", "salience", "capability", "reservation", "issues", "actors", "low", "high"]
        )
        kept = [line for line in lines if not line.lstrip().startswith(f"{field_name}:")]
        return f"'{field_name}' removed", "".join(kept).encode(), False
    if choice == 2:
        data = text.encode()
        return "cut short", data[: rng.randrange(len(data))], False
    if choice == 3:
        data = bytearray(text.encode())
        at = rng.randrange(len(data))
        data[at:at] = rng.choice([b"\xff\xfe", b"\xc3", b"\x80\x81", b"\xed\xa0\x80"])
        return "not UTF-8", bytes(data), True
    if choice == 4:
        i = rng.randrange(len(lines))
        lines.insert(
            i,
            rng.choice(
                [
                    "  : x\n",
                    "- [\n",
                    "}\n",
                    "\tx: 1\n",
                    "actors: 5\n",
                    "&a [*a]\n",
                    "'\n",
                    "!!python/object:os.system x\n",
                ]
            ),
        )
        return "broken YAML", "".join(lines).encode(), False
    if choice == 5:
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
        return "lines swapped", "".join(lines).encode(), False
    if choice == 6:
        return "empty", rng.choice([b"", b"---\n", b"null\n", b"[]\n", b"42\n", b"name: fuzz\n"]), False
    if choice == 7:
        word = rng.choice(["actors:", "issues:", "role: signatory", "salience:", "ideal:"])
        return (
            "key misspelled",
            text.replace(word, misspell(rng, word.split(":")[0]) + ":" + word.partition(":")[2], 1).encode(),
            False,
        )
    i = rng.randrange(len(lines))
    lines[i] = lines[i].replace(" ", "", 1) if rng.random() < 0.5 else "  " + lines[i]
    return "indentation", "".join(lines).encode(), False


def scenario_case(number: int, rng: random.Random, target: str) -> Case:
    base = rng.choice(["astana7", "astana7", "rubinstein", "baron_ferejohn"])
    text = (SCENARIOS / f"{base}.yaml").read_text(encoding="utf-8").replace(f"name: {base}", "name: fuzz", 1)
    kind, data, bad = mutate_scenario(rng, text)
    args = ("hydra.searchpath=[file://{dir}]", "scenario=fuzz", "plots=false")
    return Case(number, target, f"scenario file: {kind}", args, (("scenario/fuzz.yaml", data),), bad=bad)


BAD_CELLS = (
    "",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "-1",
    "1e400",
    "1e308",
    "-1e308",
    "abc",
    "é",
    "0x1",
    "1,5",
    "'",
    '"',
    "  ",
    "-0",
    "1e-320",
    "9" * 40,
    "None",
    "#D",
)


def mutate_table(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    """A table's bytes damaged one way."""
    text = data.decode("utf-8", errors="replace")
    lines = text.splitlines(keepends=True)
    delimiter = "\t" if text.count("\t") > text.count(",") else ","
    choice = rng.randrange(10)
    if choice <= 2 and lines:
        for _ in range(1 + rng.randrange(3)):
            i = rng.randrange(len(lines))
            cells = lines[i].rstrip("\r\n").split(delimiter)
            j = rng.randrange(len(cells))
            cells[j] = rng.choice(BAD_CELLS)
            lines[i] = delimiter.join(cells) + "\n"
        return "cells replaced", "".join(lines).encode()
    if choice == 3:
        return "cut short", data[: rng.randrange(len(data) + 1)]
    if choice == 4 and lines:
        del lines[rng.randrange(len(lines))]
        return "line removed", "".join(lines).encode()
    if choice == 5 and lines:
        column = rng.randrange(max(len(line.split(delimiter)) for line in lines))
        kept = [
            delimiter.join(c for k, c in enumerate(line.rstrip("\r\n").split(delimiter)) if k != column)
            + "\n"
            for line in lines
        ]
        return "column removed", "".join(kept).encode()
    if choice == 6:
        noise = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
        at = rng.randrange(len(data) + 1)
        return "noise inserted", data[:at] + noise + data[at:]
    if choice == 7 and lines:
        i = rng.randrange(len(lines))
        lines.insert(rng.randrange(len(lines) + 1), lines[i])
        return "line repeated", "".join(lines).encode()
    if choice == 8:
        return "line ends and marks", rng.choice(
            [b"\xef\xbb\xbf" + data, data.replace(b"\n", b"\r\n"), data.replace(b"\n", b"\r")]
        )
    if lines:
        header = lines[0].rstrip("\r\n").split(delimiter)
        k = rng.randrange(len(header))
        header[k] = misspell(rng, header[k]) if header[k] else "x"
        lines[0] = delimiter.join(header) + "\n"
    return "header changed", "".join(lines).encode()


def table_case(number: int, rng: random.Random, target: str) -> Case:
    source = rng.choice(TABLES)
    kind, data = mutate_table(rng, source.read_bytes())
    name = rng.choice(["t.csv", "t.csv", "t.csv", "tablé.csv", "a,b.csv"])
    quoted = rng.random() < 0.8
    path = f'scenario.path="{{dir}}/{name}"' if quoted else f"scenario.path={{dir}}/{name}"
    args = ("scenario=table", path, "plots=false")
    return Case(number, target, f"table ({source.parent.name}): {kind}", args, ((name, data),))


def make_case(number: int, seed: int, target: str) -> Case:
    """Case `number` for `target`, the same for the same seed."""
    rng = random.Random(f"{seed}-{number}")
    if target == "reader":
        return table_case(number, rng, target)
    choice = rng.random()
    if choice < 0.6:
        return override_case(number, rng, target)
    if choice < 0.85:
        return scenario_case(number, rng, target)
    return table_case(number, rng, target)


def plan(cases: int, subprocesses: int, seed: int) -> list[Case]:
    """`cases` cases in all: `subprocesses` of them run as processes, the rest divided by `SHARES`."""
    rest = cases - subprocesses
    counts = {target: round(rest * SHARES[target]) for target in TARGETS}
    counts["reader"] += rest - sum(counts.values())
    targets = [target for target in TARGETS for _ in range(counts[target])]
    targets += ["subprocess"] * subprocesses
    random.Random(seed).shuffle(targets)
    return [make_case(number, seed, target) for number, target in enumerate(targets)]


# Running a case


def one_line_error(stderr: str) -> bool:
    """A refusal as the command line prints it: one line `error: ...`, or the list of scenarios."""
    if "Traceback" in stderr or not stderr.startswith("error: "):
        return False
    return stderr.count("\n") == 1 or stderr.startswith("error: no scenario chosen\nChoose a scenario:")


def written(folder: Path, inputs: Iterable[str]) -> list[str]:
    """What is in `folder` besides the case's own files and the folders holding them."""
    own = set()
    for name in inputs:
        path = Path(name)
        own.add(str(path))
        own.update(str(parent) for parent in path.parents if str(parent) != ".")
    return sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if str(p.relative_to(folder)) not in own
    )


def judge_command(case: Case, status: object, stderr: str, left: list[str]) -> tuple[str, str]:
    """The verdict on a command line's exit status, error output and what it left."""
    if status == 0:
        return ("wrong_exit", "exit status 0 for a bad input") if case.bad else ("ran", "")
    if status == 2 and one_line_error(stderr):
        return ("leftover", f"left {left[:5]}") if left else ("refused", stderr.strip())
    if "Traceback" in stderr or status in (1, 2):
        return "traceback", stderr.strip()[-1500:]
    return "wrong_exit", f"exit status {status}: {stderr.strip()[-500:]}"


def call_main(argv: Sequence[str]) -> tuple[object, str]:
    """`sim.cli.main` with `argv`, in this process: its exit status and its error output."""
    from sim.cli import main

    sys.argv = ["sim", *argv]
    out, err = io.StringIO(), io.StringIO()
    status: object = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main()
        except SystemExit as stop:
            status = 0 if stop.code is None else stop.code
        except BaseException:
            status = 1
            err.write(traceback.format_exc())
        finally:
            for name in ("SIGTERM", "SIGHUP"):
                signal.signal(getattr(signal, name), signal.SIG_DFL)
    return status, err.getvalue()


def run_subprocess(argv: Sequence[str], folder: Path) -> tuple[object, str]:
    """`python -m sim ARGV` in `folder`: its exit status and error output."""
    env = {key: value for key, value in os.environ.items() if key != "HYDRA_FULL_ERROR"}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "sim", *argv],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return "timeout", f"no end after {SUBPROCESS_TIMEOUT} s"
    return done.returncode, done.stderr


def load(case: Case, folder: Path) -> tuple[str, str]:
    """`sim.load` with the case's overrides: `refused` on a one-line UserError, `ran` on a job."""
    import sim
    from sim.errors import UserError

    argv = [arg for arg in case.argv(folder) if not arg.startswith("-")]
    try:
        sim.load(None, *argv)
    except UserError as error:
        message = str(error)
        one_line = "\n" not in message or message.startswith("no scenario chosen\n")
        return ("refused", message) if one_line else ("traceback", f"a message of several lines: {message}")
    except Exception:
        return "traceback", traceback.format_exc()[-1500:]
    return ("wrong_exit", "sim.load accepted a bad input") if case.bad else ("ran", "")


def read(case: Case, folder: Path) -> tuple[str, str]:
    """Read the case's table, build its scenario and run it briefly: `refused` on a one-line
    UserError, `ran` when it runs."""
    from sim.errors import UserError
    from sim.protocols import make_protocol
    from sim.setup.job import check_fit
    from sim.studies.batch import run_batch
    from sim.tables.readers import read_table
    from sim.tables.scenario import scenario_from_table

    path = folder / case.files[0][0]
    try:
        scenario = scenario_from_table(read_table(path))
        protocol = make_protocol({"name": "alternating", "max_steps": 5}).config
        check_fit(scenario, protocol)
        run_batch(scenario, protocol, seeds=[0, 1], progress=False)
    except UserError as error:
        message = str(error)
        return ("refused", message) if "\n" not in message else ("traceback", f"several lines: {message}")
    except Exception:
        return "traceback", traceback.format_exc()[-1500:]
    return "ran", ""


def run_case(job: tuple[Case, str]) -> Verdict:
    """Run one case in a folder of its own under `base` and judge it; the folder is removed."""
    case, base = job
    folder = Path(base) / f"case-{case.number}"
    folder.mkdir(parents=True)
    for name, data in case.files:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    started = time.perf_counter()
    working = Path.cwd()
    os.chdir(folder)
    try:
        if case.target in ("cli", "subprocess"):
            argv = case.argv(folder)
            if not any(arg.split("=")[0].lstrip("+") == "plots" for arg in argv):
                argv.append("plots=false")
            status, stderr = call_main(argv) if case.target == "cli" else run_subprocess(argv, folder)
            verdict, detail = judge_command(case, status, stderr, written(folder, dict(case.files)))
        else:
            verdict, detail = (load if case.target == "api" else read)(case, folder)
            left = written(folder, dict(case.files))
            if left and verdict == "refused":
                verdict, detail = "leftover", f"left {left[:5]}"
    finally:
        os.chdir(working)
        shutil.rmtree(folder, ignore_errors=True)
    return Verdict(case, verdict, detail, time.perf_counter() - started)


# The harness


@dataclass
class Report:
    """The verdicts of a fuzzing run, counted per target, and its wall time."""

    verdicts: list[Verdict] = field(default_factory=list)
    seconds: float = 0.0

    def counts(self) -> dict[str, Counter[str]]:
        table: dict[str, Counter[str]] = {}
        for verdict in self.verdicts:
            table.setdefault(verdict.case.target, Counter())[verdict.status] += 1
        return table

    def failures(self) -> list[Verdict]:
        return [verdict for verdict in self.verdicts if verdict.status in FAILURES]

    def text(self, shown: int = 5) -> str:
        lines = [f"{len(self.verdicts)} cases in {self.seconds:.0f} s on {machine()}"]
        totals: Counter[str] = Counter()
        for target, counts in sorted(self.counts().items()):
            totals.update(counts)
            seconds = [v.seconds for v in self.verdicts if v.case.target == target]
            each = f"  ({sum(seconds) / len(seconds):.3f} s a case)"
            lines.append(f"  {target:10} {sum(counts.values()):6}  " + describe(counts) + each)
        lines.append(f"  {'all':10} {sum(totals.values()):6}  " + describe(totals))
        kinds = Counter(f"{v.status} [{v.case.target}, {v.case.kind}]" for v in self.failures())
        lines.extend(f"  {count:6} {kind}" for kind, count in sorted(kinds.items()))
        for kind in FAILURES:
            found = [v for v in self.failures() if v.status == kind]
            for verdict in found[:shown]:
                case = verdict.case
                lines.append(f"{kind}: [{case.target}, {case.kind}] {' '.join(case.args)}")
                lines.append("    " + verdict.detail.replace("\n", "\n    "))
        return "\n".join(lines)


def describe(counts: Counter[str]) -> str:
    order = ("refused", "ran", *FAILURES)
    return ", ".join(f"{counts.get(status, 0)} {status.replace('_', ' ')}" for status in order)


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def fuzz(cases: Sequence[Case], workers: int = 2, progress: Callable[[int], None] | None = None) -> Report:
    """Run the cases in a pool of `workers` processes (in this one when 1) under a scratch folder."""
    report = Report()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sim-fuzz-") as base:
        jobs = [(case, base) for case in cases]
        if workers <= 1:
            results: Iterable[Verdict] = map(run_case, jobs)
            report.verdicts = collect(results, progress)
        else:
            context = multiprocessing.get_context("spawn")
            with context.Pool(workers, maxtasksperchild=250) as pool:
                report.verdicts = collect(pool.imap_unordered(run_case, jobs, chunksize=4), progress)
    report.verdicts.sort(key=lambda verdict: verdict.case.number)
    report.seconds = time.perf_counter() - started
    return report


def collect(results: Iterable[Verdict], progress: Callable[[int], None] | None) -> list[Verdict]:
    verdicts = []
    for verdict in results:
        verdicts.append(verdict)
        if progress is not None:
            progress(len(verdicts))
    return verdicts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000, help="cases in all (default 10000)")
    parser.add_argument("--subprocesses", type=int, default=150, help="of them, run as processes (150)")
    parser.add_argument("--workers", type=int, default=2, help="processes running cases (2)")
    parser.add_argument("--seed", type=int, default=0, help="the cases' seed (0)")
    args = parser.parse_args(argv)

    def progress(done: int) -> None:
        if done % 500 == 0:
            print(f"  {done} cases done", file=sys.stderr, flush=True)

    cases = plan(args.cases, min(args.subprocesses, args.cases), args.seed)
    report = fuzz(cases, args.workers, progress)
    print(report.text())
    return 1 if report.failures() else 0


if __name__ == "__main__":
    sys.exit(main())
