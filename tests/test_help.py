"""The help page, the `astana-sim` entry point and its shell completion, and one compose per run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

from sim.protocols import PROTOCOLS
from sim.setup.catalog import first_line
from sim.setup.compose import compose_config
from sim.setup.schema import Task

REPO = Path(__file__).resolve().parents[1]
ENTRY_POINT = Path(sys.executable).parent / "astana-sim"


def run(*command: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


@pytest.fixture(scope="module")
def help_page(tmp_path_factory) -> str:
    where = tmp_path_factory.mktemp("help")
    result = run(sys.executable, "-m", "sim", "--help", cwd=where)
    assert result.returncode == 0, result.stderr
    assert list(where.iterdir()) == []
    return result.stdout


def section(page: str, title: str) -> list[str]:
    """The lines of a section of the page, from its title to the next blank line."""
    lines = page.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title)) + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start:end]


def names(lines: list[str]) -> list[str]:
    return [line.split()[0] for line in lines if line.startswith("  ") and not line.startswith("   ")]


def test_the_help_page_is_the_programs_own(help_page):
    assert help_page.startswith("astana-sim: a multi-agent simulation of multilateral peace talks")
    assert "python -m sim scenario=NAME [key=value ...]" in help_page
    assert "Powered by Hydra" not in help_page
    for title in ("Usage", "Examples", "Read more"):
        assert section(help_page, title)
    assert "README.md" in help_page


def test_the_help_page_lists_what_conf_and_the_code_offer(help_page):
    scenarios = {
        path.stem: yaml.safe_load(path.read_text())["title"]
        for path in (REPO / "conf" / "scenario").glob("*.yaml")
    }
    assert names(section(help_page, "Scenarios")) == sorted(scenarios)
    flat = " ".join(help_page.split())
    for name, title in scenarios.items():
        assert f"{name} {title}" in flat
    assert names(section(help_page, "Protocols")) == list(PROTOCOLS)
    for name, protocol in PROTOCOLS.items():
        assert f"{name} {first_line(sys.modules[protocol.__module__].__doc__)}" in flat
    experiments = sorted(path.stem for path in (REPO / "conf" / "experiment").glob("*.yaml"))
    assert names(section(help_page, "Experiments")) == experiments
    assert names(section(help_page, "Tasks")) == [task.value for task in Task]
    defaults = compose_config([])
    keys = [key for key in defaults if key != "scenario" and not OmegaConf.is_config(defaults[key])]
    assert [name.split("=")[0] for name in names(section(help_page, "Common keys"))] == keys
    for key in ("seed", "replications", "trace", "plots", "results", "quiet", "task", "objective"):
        assert f"{key}=" in flat


def test_hydra_help_stays_hydras(tmp_path):
    result = run(sys.executable, "-m", "sim", "--hydra-help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Hydra (") and "== Flags ==" in result.stdout


@pytest.mark.slow
def test_the_entry_point_runs_and_installs_bash_completion(tmp_path, help_page):
    assert ENTRY_POINT.is_file(), "astana-sim is not installed: pip install -e ."
    result = run(str(ENTRY_POINT), "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == help_page
    script = run(str(ENTRY_POINT), "-sc", "install=bash", cwd=tmp_path)
    assert script.returncode == 0, script.stderr
    assert "hydra_bash_completion()" in script.stdout
    assert "complete -o nospace -o default -F hydra_bash_completion astana-sim" in script.stdout
    env = {**os.environ, "COMP_LINE": "astana-sim scenario=astana7 scenario.actors.tu"}
    query = run(str(ENTRY_POINT), "-sc", "query=bash", cwd=tmp_path, env=env)
    assert query.returncode == 0, query.stderr
    assert "scenario.actors.turkey." in query.stdout.split()
    assert list(tmp_path.iterdir()) == []


COUNT_COMPOSES = """
import sys
import hydra._internal.hydra as internal
from sim.cli import main

calls = []
compose_config = internal.Hydra.compose_config


def counted(self, *args, **kwargs):
    calls.append(str(kwargs.get("run_mode")))
    return compose_config(self, *args, **kwargs)


internal.Hydra.compose_config = counted
sys.argv = ["sim", "scenario=astana7", "plots=false", "quiet=true"]
try:
    main()
finally:
    print("composed:", " ".join(calls), file=sys.stderr)
"""


def test_a_single_run_is_composed_once_by_hydra(tmp_path):
    result = run(sys.executable, "-c", COUNT_COMPOSES, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    composed = result.stderr.split("composed:")[1].split()
    # Every composition, hydra.compose's too, goes through Hydra.compose_config; hydra.main first
    # composes to read hydra.mode (Hydra's get_mode, in multirun mode), then the job's (in run mode).
    assert composed.count("RunMode.RUN") == 1 and len(composed) <= 2, composed
    assert (tmp_path / "results" / "astana7").is_dir()


def test_a_scenario_is_chosen_with_or_without_a_plus():
    assert compose_config(["scenario=astana7"]) == compose_config(["+scenario=astana7"])
