"""Compose a configuration from override strings, as the command line does, and explain errors.

Every mistake Hydra or OmegaConf finds in what a user typed becomes one line naming the problem
and its fix (`explain`), raised as a `UserError`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import IntervalSweep, Override
from hydra.errors import HydraException, MissingConfigException
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from sim.errors import UserError
from sim.setup.catalog import available, config_dir, scenarios
from sim.setup.schema import register_configs

USAGE = "python -m sim scenario=NAME [key=value ...]"
LAUNCHER_EXTRAS = {"joblib": "parallel", "submitit_local": "cluster", "submitit_slurm": "cluster"}
SWEEPER_EXTRAS = {"optuna": "optuna"}
GROUPS_IN_DEFAULTS = ("scenario",)
"""Config groups named in the primary defaults list: chosen as `scenario=NAME`, with or without `+`."""


def scenario_list() -> str:
    lines = ["Choose a scenario:"]
    for name, title in scenarios().items():
        lines.append(f"  {name:<16} {title}")
    lines.append(f"Run one with: {USAGE}, for example: python -m sim scenario=astana7 (--help for more)")
    return "\n".join(lines)


def normalise(overrides: Sequence[str]) -> list[str]:
    """The overrides with `+scenario=NAME` read as `scenario=NAME` (the group has a default of null)."""
    return [
        override[1:]
        if override.startswith("+") and override[1:].split("=", 1)[0] in GROUPS_IN_DEFAULTS
        else override
        for override in overrides
    ]


def compose_config(overrides: Sequence[str], with_hydra: bool = False) -> DictConfig:
    """The configuration the overrides describe (raises UserError on a mistake)."""
    register_configs()
    overrides = normalise(overrides)
    try:
        with initialize_config_dir(str(config_dir()), version_base="1.3"):
            return compose("config", overrides=list(overrides), return_hydra_config=with_hydra)
    except (HydraException, OmegaConfBaseException) as error:
        raise UserError(explain(error, overrides)) from error


def _known_keys(overrides: Sequence[str], bad_key: str) -> str:
    """Name the keys that do exist where `bad_key` points, composing without the bad override."""
    kept = [o for o in overrides if o.lstrip("+~").split("=", 1)[0] != bad_key]
    try:
        cfg = compose_config(kept)
    except UserError:
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
        detail = _known_keys(overrides, bad) if bad else ""
        return f"unknown key '{bad}'" + (f": {detail}" if detail else ": check the spelling")
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
    """The override lists to check before a sweep: the first value of every swept key, then one
    list per other value of each (including an experiment's `hydra.sweeper.params`)."""
    parser = OverridesParser.create()
    overrides = normalise(overrides)

    def first_values(parsed: list[Override]) -> list[str]:
        return [
            f"{o.get_key_element()}={sweep_values(o)[0]}" if o.is_sweep_override() else str(o.input_line)
            for o in parsed
        ]

    try:
        parsed = parser.parse_overrides(list(overrides))
        params = compose_config(first_values(parsed), with_hydra=True).hydra.sweeper.get("params")
        swept_in_config = [f"{key}={value}" for key, value in (params or {}).items()]
        parsed = parser.parse_overrides(swept_in_config + list(overrides))
    except (HydraException, OmegaConfBaseException) as error:
        raise UserError(explain(error, overrides)) from error
    base = first_values(parsed)
    jobs = [base]
    for position, override in enumerate(parsed):
        for value in sweep_values(override)[1:]:
            job = list(base)
            job[position] = f"{override.get_key_element()}={value}"
            jobs.append(job)
    return jobs
