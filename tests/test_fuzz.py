"""A sample of the fuzzing harness (`benchmarks/fuzz.py`): 200 generated bad inputs, thrown at the
table readers, `sim.load`, the command line in-process and `python -m sim`, all refused in one line
(or valid and run), none leaving a file behind; and scenario files that are not YAML, not UTF-8 or
not a mapping, which the fuzzing found ending in tracebacks, refused by `sim.load` in one line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import sim
from sim.errors import UserError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import fuzz

SAMPLE = {"reader": 170, "api": 20, "cli": 8, "subprocess": 2}
SEED = 2026


def sample() -> list[fuzz.Case]:
    """The sample's cases, numbered apart from one another, the same on every run."""
    cases = []
    for target, count in SAMPLE.items():
        for _ in range(count):
            cases.append(fuzz.make_case(len(cases), SEED, target))
    return cases


@pytest.mark.slow
def test_a_sample_of_bad_inputs_is_refused_in_one_line_leaving_nothing():
    report = fuzz.fuzz(sample(), workers=2)
    assert len(report.verdicts) == sum(SAMPLE.values())
    assert not report.failures(), report.text()
    counts = report.counts()
    assert set(counts) == set(SAMPLE)
    assert sum(counts["reader"].values()) == SAMPLE["reader"] and counts["reader"]["refused"] > 50
    bad = [verdict for verdict in report.verdicts if verdict.case.bad]
    assert bad and all(verdict.status == "refused" for verdict in bad)


def test_cases_are_the_same_for_the_same_seed_and_differ_between_seeds():
    assert fuzz.plan(300, 3, seed=1) == fuzz.plan(300, 3, seed=1)
    assert fuzz.plan(300, 3, seed=1) != fuzz.plan(300, 3, seed=2)
    targets = [case.target for case in fuzz.plan(1000, 10, seed=0)]
    assert targets.count("subprocess") == 10 and targets.count("cli") == 40 and targets.count("api") == 79


def test_a_traceback_a_wrong_exit_and_a_leftover_are_each_counted(tmp_path):
    case = fuzz.Case(0, "cli", "bad value", ("scenario=astana7", "seed=-1"), bad=True)
    assert fuzz.judge_command(case, 2, "error: seed is -1\n", [])[0] == "refused"
    assert fuzz.judge_command(case, 2, "error: seed is -1\n", ["results"])[0] == "leftover"
    assert fuzz.judge_command(case, 0, "", [])[0] == "wrong_exit"
    assert fuzz.judge_command(case, 1, "Traceback (most recent call last):\n", [])[0] == "traceback"
    assert fuzz.judge_command(case, 2, "error: two\nlines\n", [])[0] == "traceback"
    assert fuzz.judge_command(case, 137, "", [])[0] == "wrong_exit"
    (tmp_path / "mine.csv").write_text("x")
    (tmp_path / "results" / "run").mkdir(parents=True)
    assert fuzz.written(tmp_path, ["mine.csv"]) == ["results", "results/run"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"name: fuzz\nissues: [\n", "fuzz.yaml, line 3, column 1: expected the node content"),
        (b"name: fuzz\n\x80\x81\n", "a configuration file is not UTF-8 text (byte 0x80 at position 11)"),
        (b"42\n", "the configuration cannot be composed (Invalid loaded object type: int)"),
    ],
)
def test_a_scenario_file_that_is_not_yaml_is_refused_in_one_line(tmp_path, content, expected):
    (tmp_path / "scenario").mkdir()
    (tmp_path / "scenario" / "fuzz.yaml").write_bytes(content)
    with pytest.raises(UserError) as error:
        sim.load("fuzz", f"hydra.searchpath=[file://{tmp_path}]")
    assert expected in str(error.value) and "\n" not in str(error.value)
