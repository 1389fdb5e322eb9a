"""Hostile input: huge, non-finite and 64-bit-overflowing values, sweeps whose jobs fail only in
combination, misleading messages and silent typos all end in one line naming the fix, before any
work starts and without leaving a folder (issue 13, items 2, 4, 5, 8, 9, 10 and 11)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

import sim
from sim.core import limits
from sim.core.limits import (
    MAX_CHUNK_REPLICATIONS,
    MAX_SEED,
    MAX_STEPS,
    MAX_WORK,
    RunSize,
    available_memory,
    check_disk,
    check_limits,
    memory_needed,
    work,
)
from sim.errors import UserError
from sim.setup.compose import MAX_SWEEP_JOBS, compose_config, sweep_configs, sweep_jobs
from sim.setup.job import jobs_of
from sim.tables.readers import read_table

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
ASTANA7 = REPO / "conf" / "scenario" / "astana7.yaml"
SALIENCE = "scenario.actors.turkey.salience.detainees"
BDM = "Actor,Capability,Position,Salience\nA,0.5,4,0.8\nB,0.3,7,0.4\nC,0.2,5,0.6\n"


def sim_command(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`python -m sim ARGS` in `cwd`, its run folders under `cwd/results`."""
    return subprocess.run(
        [sys.executable, "-m", "sim", *args, f"results={cwd / 'results'}", "plots=false"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_refused(result: subprocess.CompletedProcess, cwd: Path, expected: str) -> None:
    """Exit status 2, one line on stderr holding `expected`, no traceback, no folder."""
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert not (cwd / "results").exists() or not any((cwd / "results").rglob("*"))


def refusal(*args: str) -> str:
    """The one-line message that checking the command line's jobs ends with."""
    with pytest.raises(UserError) as error:
        for _ in jobs_of(list(args)):
            pass
    message = str(error.value)
    assert "\n" not in message
    return message


def scenario_file(folder: Path, name: str, old: str, new: str) -> str:
    """A copy of astana7 named `name` under `folder/scenario/`, with `old` replaced by `new`; the
    searchpath override that finds it."""
    text = ASTANA7.read_text()
    assert old in text
    (folder / "scenario").mkdir(exist_ok=True)
    (folder / "scenario" / f"{name}.yaml").write_text(
        text.replace(old, new).replace("name: astana7", f"name: {name}")
    )
    return f"hydra.searchpath=[file://{folder}]"


# Item 2: huge values are refused before work starts, naming the limit and what fits.


def test_replications_past_the_work_limit_are_refused_with_what_fits(tmp_path):
    result = sim_command("scenario=astana7", "replications=1000000000", cwd=tmp_path)
    assert_refused(result, tmp_path, "replications=1000000000 and protocol.max_steps=40 with 8 actors")
    assert "actor-issue steps of work, more than the limit" in result.stderr
    most = int(re.search(r"use at most replications=(\d+)", result.stderr)[1])
    assert most == MAX_WORK // (40 * 8 * 3) and "run the seeds in parts" in result.stderr


def test_traces_past_the_memory_are_refused_with_what_fits(tmp_path):
    result = sim_command("scenario=astana7", "replications=1000000", "trace=true", cwd=tmp_path)
    assert_refused(
        result, tmp_path, "replications=1000000 with trace=true and protocol.max_steps=40 need about"
    )
    most = int(re.search(r"use at most replications=(\d+)", result.stderr)[1])
    assert 1 <= most < 1_000_000
    assert "available" in result.stderr and "or trace=false" in result.stderr


def test_a_streamed_batch_holds_one_chunk_and_a_held_one_all_of_it():
    streamed = RunSize(actors=8, columns=3, replications=10_000_000, max_steps=40, streamed=True)
    assert memory_needed(streamed) == memory_needed(streamed.resized(replications=MAX_CHUNK_REPLICATIONS))
    assert memory_needed(streamed.held()) > 100 * memory_needed(streamed)


def test_a_streamed_batch_past_the_free_disk_is_refused(tmp_path, monkeypatch):
    size = RunSize(actors=8, columns=3, replications=100_000_000, max_steps=40, streamed=True)
    monkeypatch.setattr(limits.shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**12, 0, 10**10))
    with pytest.raises(UserError, match=r"write about .* GB to disk, and .* has 10 GB free: free some space"):
        check_disk(size, tmp_path / "results" / "not yet")
    check_disk(size.resized(replications=1_000_000), tmp_path / "results")
    check_disk(size.held(), tmp_path)


def test_the_memory_estimate_is_checked_against_what_is_available():
    size = RunSize(actors=8, columns=3, replications=100_000_000, max_steps=40)
    assert 30e9 < memory_needed(size) < 60e9
    with pytest.raises(UserError, match=r"need about .* GB of memory, and this machine has 7\.6 GB") as error:
        check_limits(size, available=7.6e9)
    most = int(re.search(r"replications=(\d+),", str(error.value))[1])
    assert memory_needed(size.resized(replications=most)) <= 0.8 * 7.6e9
    assert memory_needed(size.resized(replications=most + 1)) > 0.8 * 7.6e9
    check_limits(RunSize(8, 3, 100_000, 40), available=7.6e9)


def test_a_trace_counts_in_the_estimate_and_trace_false_is_offered():
    size = RunSize(actors=8, columns=3, replications=100_000, max_steps=40, trace=True)
    assert memory_needed(size) > 100 * memory_needed(RunSize(8, 3, 100_000, 40))
    with pytest.raises(UserError, match=r"with trace=true .* or trace=false"):
        check_limits(size, available=8e9)


def test_work_past_the_limit_is_refused():
    size = RunSize(actors=30, columns=123, replications=1_000_000, max_steps=40)
    assert work(size) > MAX_WORK
    with pytest.raises(UserError, match=r"more than the limit of 1e\+11 \(MAX_WORK") as error:
        check_limits(size, available=1e15)
    most = int(re.search(r"replications=(\d+),", str(error.value))[1])
    assert work(size.resized(replications=most)) <= MAX_WORK < work(size.resized(replications=most + 1))


def test_available_memory_is_read_from_the_machine():
    available = available_memory()
    if sys.platform.startswith("linux"):
        assert available is not None and available > 0


@pytest.mark.parametrize("steps", ["1000000", "1000000000", str(10**20)])
def test_a_deadline_past_max_steps_is_refused(steps):
    message = refusal("scenario=astana7", f"protocol.max_steps={steps}")
    assert message == (
        f"protocol.max_steps is {steps}: give a whole number of steps from 1 to {MAX_STEPS} (MAX_STEPS)"
    )


def test_a_loaded_job_is_checked_again_when_its_replications_change(monkeypatch):
    job = sim.load("astana7")
    with pytest.raises(UserError, match=r"replications=1000000000 and protocol\.max_steps=40 with 8 actors"):
        sim.run(job, replications=1_000_000_000)
    monkeypatch.setattr(limits, "available_memory", lambda: 8e9)
    with pytest.raises(UserError, match=r"replications=100000000 and protocol\.max_steps=40 need about"):
        sim.run(job, replications=100_000_000)


# Item 4: integers beyond 64 bits end in one line, not an OverflowError.


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            "seed=18446744073709551616",
            f"seed is 18446744073709551616: give a whole number from 0 to {MAX_SEED}",
        ),
        (f"replications={10**20}", f"replications={10**20} and protocol.max_steps=40 with 8 actors"),
        (f"protocol.max_steps={10**20}", f"protocol.max_steps is {10**20}: give a whole number"),
        (f"protocol.stall_steps={10**20}", f"protocol.stall_steps is {10**20}: give a whole number"),
        (f"scenario.actors.government.patience={10**20}", "patience is 1e+20: give a whole number of steps"),
    ],
)
def test_integers_past_64_bits_are_refused(override, expected):
    assert expected in refusal("scenario=astana7", override)


def test_a_seed_past_64_bits_is_refused_by_the_mesa_model():
    with pytest.raises(UserError, match="seed is 18446744073709551616"):
        sim.NegotiationModel("astana7", rng=2**64)
    with pytest.raises(UserError, match=f"seed is {2**63}"):
        sim.NegotiationModel("astana7", seeds=[0, 2**63])


def test_a_sweep_with_a_value_past_64_bits_runs_no_job(tmp_path):
    result = sim_command("-m", "scenario=astana7", f"protocol.max_steps=5,{10**20}", cwd=tmp_path)
    assert_refused(result, tmp_path, f"protocol.max_steps is {10**20}")


# Item 5: finite numbers only, each in its range; seeds stay within 64 bits.


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("protocol.observer_support=nan", "protocol.observer_support is nan"),
        ("protocol.observer_support=inf", "protocol.observer_support is inf"),
        ("scenario.actors.russia.capability=1e308", "capability is 1e+308: give a positive number, from"),
        ("scenario.actors.russia.capability=1e-320", "capability is 9.99989e-321: give a positive number"),
        (
            "scenario.actors.russia.salience.zones=1e308",
            "salience.zones is 1e+308, outside the allowed range",
        ),
        ("objective_target=nan", "objective_target is nan: give a finite number"),
        ("scenario.record.zones.low=nan", "scenario.record.zones.low is nan, not a finite number"),
        (
            "scenario.record.zones.low=0.9",
            "scenario.record.zones.low is 0.9, above scenario.record.zones.high",
        ),
        (
            "scenario.issues.zones.scale=[0,nan]",
            "scenario.issues.zones.scale is [0.0, nan]: give two different",
        ),
        ("scenario.issues.zones.scale=[0]", "scenario.issues.zones.scale is [0.0]: give two different"),
        ("seed=9223372036854775807", "runs past the largest seed"),
    ],
)
def test_numbers_must_be_finite_and_in_range(override, expected):
    extra = ["replications=2"] if override.startswith("seed=") else []
    if override.startswith("scenario.record.zones.low=0.9"):
        extra = ["scenario.record.zones.high=0.6"]
    assert expected in refusal("scenario=astana7", override, *extra)


def test_a_seed_and_replications_past_the_largest_seed_name_what_fits():
    message = refusal("scenario=astana7", f"seed={MAX_SEED}", "replications=2")
    assert message.endswith("give a smaller seed, or at most replications=1")


def test_a_table_option_must_be_finite(tmp_path):
    (tmp_path / "t.csv").write_text(BDM)
    message = refusal("scenario=table", f"scenario.path={tmp_path / 't.csv'}", "scenario.concession=nan")
    assert message == "scenario.concession is nan, not a finite number: give a positive number"


def test_a_table_capability_near_the_largest_float_is_refused(tmp_path):
    (tmp_path / "t.csv").write_text(BDM.replace("A,0.5,", "A,1e308,"))
    with pytest.raises(UserError, match=r"line 2: capability is 1e\+308, outside \[0, 1e\+100\]"):
        read_table(tmp_path / "t.csv")


def test_variants_with_huge_capabilities_are_refused():
    with pytest.raises(UserError, match=r"capability is 1e\+300 in variant 1"):
        sim.run_variants("astana7", {"scenario.actors.iran.capability": np.array([0.3, 1e300])})


# Item 8: a sweep checks every job, including combinations and checks once made while running.


@pytest.mark.slow
def test_a_sweep_checks_its_jobs_before_any_runs(tmp_path):
    result = sim_command("-m", "scenario=astana7", "protocol=eum", f"{SALIENCE}=0.5,5", cwd=tmp_path)
    assert_refused(result, tmp_path, f"{SALIENCE} is 5: the eum protocol reads salience as a share")


def test_the_preflight_checks_every_combination_and_names_the_job():
    jobs = sweep_jobs(["scenario=astana7", f"seed=0,{MAX_SEED}", "replications=1,2"])
    assert len(jobs) == 4
    message = refusal("-m", "scenario=astana7", f"seed=0,{MAX_SEED}", "replications=1,2")
    assert f"seed {MAX_SEED} with 2 replications runs past the largest seed" in message
    assert message.endswith(f"(in the sweep's job scenario=astana7 seed={MAX_SEED} replications=2)")
    message = refusal("-m", "scenario=astana7", "protocol=alternating,eum", f"{SALIENCE}=0.5,5")
    assert "(in the sweep's job scenario=astana7 protocol=eum" in message


def test_a_single_run_checks_at_composition_what_the_protocol_checked_while_running():
    with pytest.raises(UserError, match="the eum protocol reads salience as a share"):
        sim.load("astana7", f"{SALIENCE}=5", protocol="eum")


@pytest.mark.slow
@pytest.mark.parametrize(
    "overrides",
    [
        ["scenario=astana7", "protocol=eum,alternating", f"{SALIENCE}=0.1,0.5", "seed=1,2"],
        ["+experiment=compare_protocols", "seed=3"],
        ["scenario=astana7", "+scenario.labels.party=x,y", "~scenario.record.zones"],
        [
            "scenario=table",
            f"scenario.path={DATA / 'bdm' / 'ExampleActors_EC.csv'}",
            "protocol=compromise,eum",
        ],
    ],
)
def test_sweep_configurations_are_the_ones_hydra_composes(overrides):
    jobs = list(sweep_configs(overrides))
    assert [job for job, _ in jobs] == sweep_jobs(overrides)
    for job, cfg in jobs:
        assert OmegaConf.to_yaml(cfg) == OmegaConf.to_yaml(compose_config(job))


def test_a_sweep_past_the_limit_of_jobs_is_refused():
    with pytest.raises(UserError, match=f"more than the limit of {MAX_SWEEP_JOBS} \\(MAX_SWEEP_JOBS\\)"):
        sweep_jobs(["scenario=astana7", "seed=range(0,20000)"])


# Item 9: no traceback for a non-numeric mark key or scenario=null.


def test_a_mark_that_is_not_a_number_is_refused(tmp_path):
    searchpath = scenario_file(tmp_path, "badmark", '"0.55": "the four', '"abc": "the four')
    assert refusal(searchpath, "scenario=badmark") == (
        "scenario.issues.zones.marks has a mark at 'abc': give a point of the issue between 0 and 1, "
        "such as '0.55'"
    )


def test_scenario_null_means_no_scenario(tmp_path):
    result = sim_command("scenario=null", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: no scenario chosen\nChoose a scenario:")


def test_a_null_protocol_is_an_unknown_protocol():
    assert refusal("scenario=astana7", "protocol=null").startswith("unknown protocol 'null': choose one of")


# Item 10: messages that say what is wrong.


def test_scenario_is_chosen_without_a_plus():
    assert sim.load(None, "scenario=astana7").scenario.name == "astana7"


def test_an_override_without_a_scenario_says_none_is_chosen():
    assert refusal("scenario.actors.turkey.capability=2").startswith(
        "no scenario chosen for 'scenario.actors.turkey.capability': choose one with scenario=NAME"
    )


def test_non_ascii_keys_and_values_say_what_to_do():
    assert refusal("scenario=astana7", "scenario.actörs.turkey.capability=2") == (
        "the key 'scenario.actörs.turkey.capability' has the character 'ö': a key is ASCII letters, "
        "digits, '_' and '-', joined by dots: check the spelling"
    )
    assert refusal("scenario=table", "scenario.path=/tmp/ä.csv") == (
        "the value of scenario.path has the character 'ä': quote the value, as in "
        "'scenario.path=\"/tmp/ä.csv\"'"
    )


def test_a_quoted_non_ascii_path_is_read(tmp_path):
    path = tmp_path / "tablé.csv"
    path.write_text(BDM)
    assert sim.load("table", f'scenario.path="{path}"').scenario.name == "tablé"


def test_a_path_with_a_comma_says_to_quote_it(tmp_path):
    message = refusal("scenario=table", f"scenario.path={tmp_path}/a,b.csv")
    assert "has a comma, which separates the values of a sweep: quote the value" in message
    path = tmp_path / "a,b.csv"
    path.write_text(BDM)
    assert sim.load("table", f'scenario.path="{path}"').scenario.name == "a,b"


def test_a_deu3_file_without_out_names_the_column(tmp_path):
    header = '"prnrnmc"\t"prname"\t"isnr"\t"counvte"\t"pcom"\t"scom"\t"rp"\n'
    (tmp_path / "d.csv").write_text(header + '""\t""\t""\t""\t"1"\t""\t""\n')
    with pytest.raises(UserError, match=r"line 1: DEU III header has no column 'out': add it"):
        read_table(tmp_path / "d.csv")


def test_links_that_loop_or_point_nowhere_say_so(tmp_path):
    os.symlink(tmp_path / "two", tmp_path / "one")
    os.symlink(tmp_path / "one", tmp_path / "two")
    os.symlink(tmp_path / "missing.csv", tmp_path / "dangling")
    message = refusal("scenario=table", f"scenario.path={tmp_path / 'one'}")
    loop = "its symbolic links loop (too many levels): point the link at the table itself"
    assert message == f"{tmp_path / 'one'}: {loop}"
    with pytest.raises(UserError, match=r"is a link to .*missing\.csv, which does not exist"):
        read_table(tmp_path / "dangling")


# Item 11: typos that used to pass silently.


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("+foo=1", "unknown key 'foo': 'foo' is not in the configuration; it has: scenario, protocol, seed"),
        ("++seedd=3", "unknown key 'seedd': 'seedd' is not in the configuration (did you mean seed?)"),
        ("+scenario.actors.turkey.foo=1", "unknown key 'scenario.actors.turkey.foo': 'foo' is not in"),
        ("+protocol.stall=1", "'stall' is not in protocol (did you mean protocol.stall_steps?)"),
        ("trace=2", "trace is 2: give true or false"),
        ("plots=yes", "plots is yes: give true or false"),
        ("scenario.actors.us.present=2", "scenario.actors.us.present is 2: give true or false"),
    ],
)
def test_typos_are_refused(override, expected):
    assert expected in refusal("scenario=astana7", override)


def test_true_and_false_still_pass():
    job = sim.load("astana7", "trace=true", "plots=False", "scenario.actors.us.present=false")
    assert job.trace and not job.plots


@pytest.mark.slow
def test_a_typo_in_a_single_run_leaves_no_folder(tmp_path):
    result = sim_command("scenario=astana7", "trace=2", cwd=tmp_path)
    assert_refused(result, tmp_path, "trace is 2: give true or false")
    result = sim_command("scenario=astana7", "+foo=1", cwd=tmp_path)
    assert_refused(result, tmp_path, "unknown key 'foo'")


def test_an_actor_with_no_salience_anywhere_is_refused():
    zero = [f"scenario.actors.turkey.salience.{issue}=0" for issue in ("zones", "detainees", "demining")]
    assert refusal("scenario=astana7", *zero) == (
        "scenario.actors.turkey.salience is 0 on every issue: give at least one issue a salience "
        "above 0 (or set present=false to leave the actor out)"
    )
    sim.load("astana7", *zero, "scenario.actors.turkey.present=false")


def test_variants_with_no_salience_for_an_actor_are_refused():
    job = sim.load("astana7")
    zero = {
        f"scenario.actors.iran.salience.{issue}": np.array([0.3, 0.0]) for issue in job.scenario.issue_names
    }
    with pytest.raises(UserError, match=r"scenario\.actors\.iran\.salience is 0 on every issue in variant 1"):
        sim.run_variants(job, zero)


def test_a_table_with_no_salience_is_refused(tmp_path):
    (tmp_path / "t.csv").write_text(re.sub(r",0\.\d\n", ",0\n", BDM))
    with pytest.raises(UserError, match="every salience is 0 or blank: give the actors' saliences"):
        read_table(tmp_path / "t.csv")


def test_marks_outside_the_issue_are_refused(tmp_path):
    searchpath = scenario_file(tmp_path, "outmark", '"0.55": "the four', '"1.5": "the four')
    assert "has a mark at '1.5': give a point of the issue between 0 and 1" in refusal(
        searchpath, "scenario=outmark"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (BDM + ",0.1,5,0.5\n", "line 5: BDM row has no actor name in its first field: name the actor"),
        (
            "t,d,2,1\nActor,Description,Influence,x Position,x Salience\nA,a,50,40,80\n,b,50,60,70\n",
            "line 4: KTAB row has no actor name in its first field",
        ),
    ],
)
def test_a_row_with_no_actor_name_is_refused(tmp_path, text, expected):
    (tmp_path / "t.csv").write_text(text)
    with pytest.raises(UserError, match=expected):
        read_table(tmp_path / "t.csv")


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("=3", "the configuration cannot be composed"),
        ("scenario.actors.us.ideal.demining=-9" + "9" * 400, "int too large to convert to float"),
        ("scenario.actors.turkey.capability=${oops}", "Interpolation key 'oops' not found"),
        ("seed=${seed}", "an interpolation ${...} in the configuration cannot be resolved"),
    ],
)
def test_what_hydra_cannot_compose_or_resolve_in_a_single_run_is_one_line(tmp_path, override, expected):
    assert_refused(sim_command("scenario=astana7", override, cwd=tmp_path), tmp_path, expected)


def test_rubinstein_players_who_both_never_discount_are_refused(tmp_path):
    result = sim_command(
        "scenario=rubinstein", "scenario.actors.p1.discount=1", "scenario.actors.p2.discount=1", cwd=tmp_path
    )
    assert_refused(result, tmp_path, "both players' discount is 1")


def test_an_integer_past_the_largest_float_is_an_infinite_value_refused_in_one_line():
    with pytest.raises(UserError, match=r"scenario.actors.un.patience is -inf, not a finite number"):
        sim.load("astana7", "scenario.actors.un.patience=-" + "9" * 400)


def test_a_scenario_file_that_is_not_utf8_is_one_line_from_the_command_line(tmp_path):
    (tmp_path / "scenario").mkdir()
    (tmp_path / "scenario" / "fuzz.yaml").write_bytes(b"name: \xc3\x28\n")
    result = sim_command(f"hydra.searchpath=[file://{tmp_path}]", "scenario=fuzz", cwd=tmp_path)
    assert_refused(result, tmp_path, "a configuration file is not UTF-8 text (byte 0xc3 at position 6)")
