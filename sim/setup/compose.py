"""Compose a configuration from override strings, as the command line does, and explain errors.

Every mistake Hydra or OmegaConf finds in what a user typed becomes one line naming the problem
and its fix (`explain`), raised as a `UserError`. A sweep is composed job by job before any job
runs (`sweep_jobs`, `sweep_configs`), so that a mistake in any one of them stops it whole.
"""

from __future__ import annotations

import copy
import itertools
import math
import re
from collections.abc import Iterator, Sequence
from typing import Any

import yaml
from hydra import compose, initialize_config_dir
from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import IntervalSweep, Override
from hydra.errors import HydraException, MissingConfigException, OverrideParseException
from omegaconf import DictConfig, Node
from omegaconf.errors import OmegaConfBaseException

from sim.errors import UserError
from sim.setup.catalog import available, config_dir, scenarios
from sim.setup.schema import register_configs

USAGE = "python -m sim scenario=NAME [key=value ...]"
LAUNCHER_EXTRAS = {"joblib": "parallel", "submitit_local": "cluster", "submitit_slurm": "cluster"}
SWEEPER_EXTRAS = {"optuna": "optuna"}
GROUPS_IN_DEFAULTS = ("scenario",)
"""Config groups named in the primary defaults list: chosen as `scenario=NAME`, with or without `+`."""
CHOSEN_GROUPS = ("protocol", "experiment")
"""The other config groups of conf/ a user chooses by name."""
SECTIONS = ("scenario", "protocol", "series")
"""Top-level keys that hold a section of the configuration rather than one value."""
MAX_SWEEP_JOBS = 10_000
"""The most jobs one sweep may have: each job writes a folder, and every job is composed and
checked before the first one runs (about 25 ms each, four minutes at the limit); a larger sweep
is run in parts."""


def scenario_list() -> str:
    lines = ["Choose a scenario:"]
    for name, title in scenarios().items():
        lines.append(f"  {name:<16} {title}")
    lines.append(f"Run one with: {USAGE}, for example: python -m sim scenario=astana7 (--help for more)")
    return "\n".join(lines)


def normalise(overrides: Sequence[str]) -> list[str]:
    """The overrides as Hydra should read them: `+scenario=NAME` as `scenario=NAME` (the group has
    a default of null), `scenario=null` left out (no scenario chosen), and null for another config
    group as the name 'null' (which is then reported as an unknown name, with the names there are)."""
    read = []
    for override in overrides:
        key, equals, value = override.partition("=")
        if key.lstrip("+") in GROUPS_IN_DEFAULTS:
            override, key = override.lstrip("+"), key.lstrip("+")
        if equals and value == "null" and key in GROUPS_IN_DEFAULTS:
            continue
        if equals and value == "null" and key.lstrip("+") in CHOSEN_GROUPS:
            override = f"{key}='null'"
        read.append(override)
    return read


def parse_overrides(overrides: Sequence[str]) -> list[Override]:
    """The overrides parsed as Hydra parses them (raises UserError)."""
    try:
        return OverridesParser.create().parse_overrides(normalise(overrides))
    except HydraException as error:
        raise UserError(explain(error, overrides)) from error


def node_at(cfg: DictConfig, key: str) -> Node | None:
    """The node at a dotted key of a configuration, without resolving it; None where there is none."""
    node: Node | None = cfg
    for part in key.split("."):
        if not isinstance(node, DictConfig) or part not in node:
            return None
        node = node._get_node(part)
    return node


def compose_config(overrides: Sequence[str], with_hydra: bool = False) -> DictConfig:
    """The configuration the overrides describe (raises UserError on a mistake)."""
    register_configs()
    overrides = normalise(overrides)
    try:
        with initialize_config_dir(str(config_dir()), version_base="1.3"):
            return compose("config", overrides=list(overrides), return_hydra_config=with_hydra)
    except (HydraException, OmegaConfBaseException) as error:
        raise UserError(explain(error, overrides)) from error
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise UserError(unreadable_file(error)) from error
    except (ValueError, OverflowError, OSError) as error:
        raise UserError(uncomposable(error)) from error


def uncomposable(error: BaseException) -> str:
    """The message for a configuration Hydra could not compose for a reason of its own."""
    problem = (str(error).splitlines() or [type(error).__name__])[0]
    return f"the configuration cannot be composed ({problem}): check the overrides and the files they name"


def unreadable_file(error: yaml.YAMLError | UnicodeDecodeError) -> str:
    """The message for a configuration file that is not YAML, or not UTF-8 text."""
    if isinstance(error, UnicodeDecodeError):
        return (
            f"a configuration file is not UTF-8 text (byte {error.object[error.start]:#04x} at position "
            f"{error.start}): save the file as UTF-8"
        )
    mark = getattr(error, "problem_mark", None)
    where = f"{mark.name}, line {mark.line + 1}, column {mark.column + 1}" if mark else "a configuration file"
    problem = getattr(error, "problem", None) or "not YAML"
    return f"{where}: {problem}: fix the YAML there"


def _unknown_key(overrides: Sequence[str], bad: str, full_key: str | None) -> str:
    """The message for an override of a key that does not exist: no scenario chosen for a key of
    the scenario, else the keys that exist where it points (composed without the bad override)."""
    kept = [o for o in overrides if o.lstrip("+~").split("=", 1)[0] != bad]
    try:
        cfg: DictConfig | None = compose_config(kept)
    except UserError:
        cfg = None
    if cfg is not None and bad.split(".")[0] == "scenario" and cfg.get("scenario") is None:
        return (
            f"no scenario chosen for '{bad}': choose one with scenario=NAME, NAME one of "
            f"{', '.join(available('scenario'))}"
        )
    key = full_key if full_key and len(full_key) > len(bad) and full_key.startswith(bad) else bad
    detail = _known_keys(cfg, key) if cfg is not None else ""
    return f"unknown key '{key}'" + (f": {detail}" if detail else ": check the spelling")


def _unreadable(override: str, message: str) -> str:
    """The message for an override Hydra's grammar cannot read: a character outside it, in the
    key or the value."""
    key, _, value = override.partition("=")
    odd = next((char for char in override if not char.isascii()), None)
    if odd is not None and override.index(odd) < len(key):
        return (
            f"the key '{key}' has the character '{odd}': a key is ASCII letters, digits, '_' and '-', "
            "joined by dots: check the spelling"
        )
    problem = f"has the character '{odd}'" if odd is not None else f"cannot be read ({message})"
    return f"the value of {key} {problem}: quote the value, as in '{key}=\"{value}\"'"


def _known_keys(cfg: DictConfig, bad_key: str) -> str:
    """Name the keys that do exist where `bad_key` points."""
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
    if isinstance(error, OverrideParseException):
        return _unreadable(error.override, str(error).splitlines()[0])
    ambiguous = re.match(r"Ambiguous value for argument '(.*?)=(.*)'", str(error))
    if ambiguous:
        key, value = ambiguous.groups()
        return (
            f"{key}={value} has a comma, which separates the values of a sweep: quote the value, as "
            f"in '{key}=\"{value}\"' (or sweep the values with -m)"
        )
    if isinstance(error, MissingConfigException):
        group = (error.missing_cfg_file or "").split("/")[0]
        name = (error.missing_cfg_file or "").split("/")[-1]
        if group in ("scenario", "protocol", "experiment"):
            return f"unknown {group} '{name}': choose one of {', '.join(available(group))}"
        if (error.missing_cfg_file or "").startswith("hydra/launcher/"):
            extra = LAUNCHER_EXTRAS.get(name)
            fix = (
                f"pip install 'astana-sim[{extra}]'"
                if extra
                else "choose basic, joblib, submitit_local or submitit_slurm"
            )
            return f"launcher '{name}' is not installed: {fix}"
        if (error.missing_cfg_file or "").startswith("hydra/sweeper/"):
            extra = SWEEPER_EXTRAS.get(name)
            fix = f"pip install 'astana-sim[{extra}]'" if extra else "choose basic or optuna"
            return f"sweeper '{name}' is not installed: {fix}"
        return str(error).splitlines()[0]
    if "does not support sweep type" in str(error):
        kind = str(error).split(" : ")[-1].lower().replace("_sweep", "(...)")
        return (
            f"the basic sweeper cannot sweep {kind}: give values (key=a,b,c), or sample it with "
            "hydra/sweeper=optuna (pip install 'astana-sim[optuna]')"
        )
    cause: BaseException = error
    while cause.__cause__ is not None:
        cause = cause.__cause__
    key = getattr(cause, "full_key", None)
    message = str(getattr(cause, "msg", None) or cause).splitlines()[0]
    if "not in struct" in message or "not in '" in message or "Could not override" in str(error):
        bad = str(error).split("'")[1] if "Could not override" in str(error) else (key or "")
        return _unknown_key(overrides, bad, key) if bad else "unknown key: check the spelling"
    choices = re.match(r"Invalid value '(.*)', expected one of \[(.*)\]", message)
    if choices:
        return f"{key} is '{choices[1]}': choose one of {choices[2]}"
    if "could not be converted" in message or "Value '" in message:
        return f"{key}: {message}: give a value of the right type"
    if "Missing mandatory value" in message:
        return f"{key} is missing: add it to the scenario file or set it with {key}=VALUE"
    return f"{key + ': ' if key else ''}{message}"


def sweep_values(override: Override) -> list[str]:
    """The values of an override to check: each one of a choice or a range, the two ends of an
    interval (`interval(0.1, 0.9)`, `tag(log, interval(...))`), or its one value."""
    if not override.is_sweep_override():
        return [override.get_value_element_as_str()]
    if override.is_interval_sweep():
        interval = override.value()
        assert isinstance(interval, IntervalSweep)
        return [str(interval.start), str(interval.end)]
    return list(override.sweep_string_iterator())


def sweep_jobs(overrides: Sequence[str]) -> list[list[str]]:
    """The override list of every job of a sweep, in Hydra's order: every combination of the
    values of the swept keys (including an experiment's `hydra.sweeper.params`), each value of a
    choice or range, and both ends of an interval (raises UserError past `MAX_SWEEP_JOBS`)."""
    parser = OverridesParser.create()
    overrides = normalise(overrides)

    def first_values(parsed: list[Override]) -> list[str]:
        return [
            f"{o.get_key_element()}={sweep_values(o)[0]}" if o.is_sweep_override() else str(o.input_line)
            for o in parsed
        ]

    try:
        parsed = parser.parse_overrides(list(overrides))
        first = compose_config(first_values(parsed), with_hydra=True)
        check_objective(first)
        params = first.hydra.sweeper.get("params")
        swept_in_config = [f"{key}={value}" for key, value in (params or {}).items()]
        parsed = parser.parse_overrides(swept_in_config + list(overrides))
    except (HydraException, OmegaConfBaseException) as error:
        raise UserError(explain(error, overrides)) from error
    choices: dict[str, list[str]] = {}
    for override in parsed:
        key = override.get_key_element()
        if override.is_sweep_override():
            choices[key] = [f"{key}={value}" for value in sweep_values(override)]
        else:
            choices[key] = [str(override.input_line)]
    count = math.prod(len(values) for values in choices.values())
    if count > MAX_SWEEP_JOBS:
        raise UserError(
            f"the sweep has {count} jobs, more than the limit of {MAX_SWEEP_JOBS} (MAX_SWEEP_JOBS): "
            "sweep fewer values, or run the sweep in parts"
        )
    return [list(job) for job in itertools.product(*choices.values())]


def check_objective(cfg: DictConfig) -> None:
    """An optimising sweeper (one with a `direction`, such as Optuna's) steers by the number each
    job returns, so the configuration must name it (raises UserError)."""
    if cfg.hydra.sweeper.get("direction") is not None and cfg.get("objective") is None:
        raise UserError(
            "the sweeper optimises the number each job returns, and objective is null: set "
            "objective=<a dotted path into summary.json>, such as "
            "objective=issues.detainees.agreement_probability"
        )


def _is_value(override: Override) -> bool:
    """Whether Hydra applies the override to the composed configuration (`key=value`), rather than
    composing with it (a config group's choice, a search path, a whole section)."""
    key = override.key_or_group
    if override.package is not None or key.split(".")[0].split("/")[0] == "hydra":
        return False
    return "." in key or key not in (*SECTIONS, *CHOSEN_GROUPS)


def sweep_configs(overrides: Sequence[str]) -> Iterator[tuple[list[str], DictConfig]]:
    """Every job of a sweep (`sweep_jobs`) with its configuration, composed as Hydra composes it:
    jobs with the same config group choices share one composition, to which each applies its own
    values; a job whose values do not apply there is composed whole (raises UserError)."""
    register_configs()
    parser = OverridesParser.create()
    shared: dict[tuple[str, ...], DictConfig] = {}
    for job in sweep_jobs(overrides):
        parsed = parser.parse_overrides(job)
        choices = tuple(str(o.input_line) for o in parsed if not _is_value(o))
        if choices not in shared:
            shared[choices] = compose_config(choices)
        cfg = copy.deepcopy(shared[choices])
        try:
            ConfigLoaderImpl._apply_overrides_to_config([o for o in parsed if _is_value(o)], cfg)
        except (HydraException, OmegaConfBaseException):
            cfg = compose_config(job)
        yield job, cfg
