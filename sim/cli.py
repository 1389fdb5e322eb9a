"""The command line: `python -m sim +scenario=NAME [overrides]`, single runs and Hydra sweeps.

Before Hydra starts (and creates any folder), `preflight` composes the configuration the user
asked for and builds the scenario and protocol from it, so that every mistake a user can make —
a misspelled actor or issue, a value out of range or not a number, an unknown protocol or
scenario, a scenario file with a missing field — ends with one line naming the problem and its
fix, exit status 2, and nothing written.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import hydra
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException, MissingConfigException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.setup.schema import config_dir, register_configs
from sim.errors import UserError

USAGE = "python -m sim +scenario=NAME [key=value ...]"
EXIT_USER_ERROR = 2
HYDRA_FLAGS_WITHOUT_RUN = {
    "--help",
    "-h",
    "--hydra-help",
    "--info",
    "-i",
    "--cfg",
    "-c",
    "--shell-completion",
    "-sc",
}


def available(group: str) -> list[str]:
    return sorted(path.stem for path in (config_dir() / group).glob("*.yaml"))


def scenario_list() -> str:
    lines = ["Choose a scenario:"]
    for name in available("scenario"):
        title = OmegaConf.load(config_dir() / "scenario" / f"{name}.yaml").get("title", "")
        lines.append(f"  {name:<16} {title}")
    lines.append(f"Run one with: {USAGE}, for example: python -m sim +scenario=astana7")
    return "\n".join(lines)


def _compose(overrides: Sequence[str]) -> DictConfig:
    with initialize_config_dir(str(config_dir()), version_base="1.3"):
        return compose("config", overrides=list(overrides))


def _known_keys(overrides: Sequence[str], bad_key: str) -> str:
    """Name the keys that do exist where `bad_key` points, composing without the bad override."""
    kept = [o for o in overrides if o.lstrip("+~").split("=", 1)[0] != bad_key]
    try:
        cfg = _compose(kept)
    except Exception:
        return ""
    parts = bad_key.split(".")
    node: Any = cfg
    for depth, part in enumerate(parts):
        if not isinstance(node, DictConfig) or part not in node:
            known = ", ".join(str(k) for k in node) if isinstance(node, DictConfig) else ""
            where = ".".join(parts[:depth]) or "the configuration"
            return f"'{part}' is not in {where}" + (f"; it has: {known}" if known else "")
        node = node[part]
    return ""


def explain(error: BaseException, overrides: Sequence[str]) -> str:
    """Turn a Hydra or OmegaConf error into one line with the problem and its fix."""
    if isinstance(error, MissingConfigException):
        group = (error.missing_cfg_file or "").split("/")[0]
        name = (error.missing_cfg_file or "").split("/")[-1]
        if group in ("scenario", "protocol", "experiment"):
            return f"unknown {group} '{name}': choose one of {', '.join(available(group))}"
        if (error.missing_cfg_file or "").startswith("hydra/launcher/"):
            extra = {"joblib": "parallel", "submitit_local": "cluster", "submitit_slurm": "cluster"}.get(name)
            fix = (
                f"pip install 'astana-sim[{extra}]'"
                if extra
                else "choose basic, joblib, submitit_local or submitit_slurm"
            )
            return f"launcher '{name}' is not installed: {fix}"
        return str(error).splitlines()[0]
    cause: BaseException = error
    while cause.__cause__ is not None:
        cause = cause.__cause__
    key = getattr(cause, "full_key", None)
    message = str(getattr(cause, "msg", None) or cause).splitlines()[0]
    if "not in struct" in message or "not in '" in message or "Could not override" in str(error):
        bad = str(error).split("'")[1] if "Could not override" in str(error) else (key or "")
        detail = _known_keys(overrides, bad) if bad else ""
        return f"unknown key '{bad}'" + (f": {detail}" if detail else ": check the spelling")
    if "could not be converted" in message or "Value '" in message:
        return f"{key}: {message}: give a value of the right type"
    if "Missing mandatory value" in message:
        return f"{key} is missing: add it to the scenario file or set it with {key}=VALUE"
    return f"{key + ': ' if key else ''}{message}"


def build(cfg: DictConfig) -> tuple[Any, dict[str, Any]]:
    """The scenario and protocol configuration a composed configuration describes (raises UserError).

    The protocol is built once here to check its parameters; each run builds its own.
    """
    from sim.protocols import make_protocol
    from sim.core.scenario import Scenario

    if cfg.get("scenario") is None:
        raise UserError("no scenario chosen\n" + scenario_list())
    try:
        scenario_cfg = OmegaConf.to_container(cfg.scenario, resolve=True, throw_on_missing=True)
        protocol_cfg = OmegaConf.to_container(cfg.protocol, resolve=True, throw_on_missing=True)
    except OmegaConfBaseException as error:
        raise UserError(explain(error, [])) from error
    if cfg.seed < 0:
        raise UserError(f"seed is {cfg.seed}: give a whole number, 0 or more")
    if cfg.replications < 1:
        raise UserError(f"replications is {cfg.replications}: give a whole number, 1 or more")
    scenario = Scenario.from_config(scenario_cfg)
    make_protocol(protocol_cfg).check(scenario)
    if cfg.get("task") == "validate":
        from sim.studies.validate import validation_table

        validation_table(cfg, scenario)
    return scenario, protocol_cfg


def _jobs(overrides: list[str], multirun: bool) -> list[list[str]]:
    """The override lists to check: one per distinct value of each swept key (including an
    experiment's `hydra.sweeper.params`)."""
    if not multirun:
        return [overrides]
    parser = OverridesParser.create()
    first_values = [
        f"{o.get_key_element()}={next(iter(o.sweep_string_iterator()))}"
        if o.is_sweep_override()
        else o.input_line
        for o in parser.parse_overrides(overrides)
    ]
    with initialize_config_dir(str(config_dir()), version_base="1.3"):
        params = compose("config", overrides=first_values, return_hydra_config=True).hydra.sweeper.get(
            "params"
        )
    swept_in_config = [f"{key}={value}" for key, value in (params or {}).items()]
    parsed = parser.parse_overrides(swept_in_config + overrides)
    base = [
        f"{o.get_key_element()}={next(iter(o.sweep_string_iterator()))}"
        if o.is_sweep_override()
        else o.input_line
        for o in parsed
    ]
    jobs = [base]
    for position, override in enumerate(parsed):
        if override.is_sweep_override():
            for value in list(override.sweep_string_iterator())[1:]:
                job = list(base)
                job[position] = f"{override.get_key_element()}={value}"
                jobs.append(job)
    return jobs


def preflight(argv: Sequence[str]) -> None:
    """Compose and validate what the command line asks for; raise UserError on a mistake."""
    multirun = any(arg in ("-m", "--multirun") for arg in argv)
    overrides = [arg for arg in argv if not arg.startswith("-")]
    try:
        jobs = _jobs(overrides, multirun)
    except (HydraException, OmegaConfBaseException) as error:
        raise UserError(explain(error, overrides)) from error
    for job in jobs:
        try:
            cfg = _compose(job)
        except (HydraException, OmegaConfBaseException) as error:
            raise UserError(explain(error, job)) from error
        build(cfg)


def run_job(cfg: DictConfig) -> dict[str, Any]:
    """Hydra's task: run the configured negotiation and write its folder."""
    from sim.studies.run import run_and_write

    hydra_cfg = HydraConfig.get()
    output_dir = Path(hydra_cfg.runtime.output_dir)
    job_line = None
    if hydra_cfg.mode == RunMode.MULTIRUN:
        job_line = f"[job {hydra_cfg.job.num}] {' '.join(hydra_cfg.overrides.task)}"
    try:
        return run_and_write(cfg, output_dir, job_line)
    except UserError as error:
        remove_unfinished(output_dir)
        print(f"error: {error}", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)


def remove_unfinished(output_dir: Path) -> None:
    """Remove a run folder without a summary, and the folders above it that it leaves empty."""
    if not output_dir.is_dir() or (output_dir / "summary.json").exists():
        return
    shutil.rmtree(output_dir, ignore_errors=True)
    for parent in list(output_dir.parents)[:2]:
        try:
            parent.rmdir()
        except OSError:
            break


def names_a_scenario(argv: Sequence[str]) -> bool:
    return any(arg.lstrip("+~").split("=", 1)[0] in ("scenario", "experiment") for arg in argv)


def main() -> None:
    """Run Hydra on the command line, with every user mistake reported in one line.

    A sweep, or a command line that names no scenario, is checked whole by `preflight` first.
    A single run goes straight to Hydra, which composes the configuration before it creates
    any folder: a composition error is explained in one line, and a semantic one (found when
    the scenario is built) removes the run folder again.
    """
    register_configs()
    argv = sys.argv[1:]
    overrides = [arg for arg in argv if not arg.startswith("-")]
    if not any(arg.split("=")[0] in HYDRA_FLAGS_WITHOUT_RUN for arg in argv):
        multirun = any(arg in ("-m", "--multirun") for arg in argv)
        try:
            if multirun or not names_a_scenario(argv):
                preflight(argv)
            else:
                os.environ.setdefault("HYDRA_FULL_ERROR", "1")
        except UserError as error:
            print(f"error: {error}", file=sys.stderr)
            sys.exit(EXIT_USER_ERROR)
    try:
        hydra.main(config_path=str(config_dir()), config_name="config", version_base="1.3")(run_job)()
    except (HydraException, OmegaConfBaseException) as error:
        print(f"error: {explain(error, overrides)}", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)
