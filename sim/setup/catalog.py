"""What the configuration offers, as the help page and the error messages list it.

The scenarios (with their titles) and experiments (with their questions) are read from `conf/`,
the protocols (with the first line of their module's docstring) from `sim.protocols.PROTOCOLS`,
and the common keys (with their defaults and comments) from `conf/config.yaml`, so the lists
cannot drift from what exists. `help_section` serves them to the help page's template
(`conf/hydra/help/sim.yaml`) as the OmegaConf resolver `${sim_help:NAME}`.
"""

from __future__ import annotations

import functools
import re
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

import yaml

from sim.protocols import PROTOCOLS

KEY_LINE = re.compile(r"^(\w+): *(\S+) +# (.+)$")
"""A top-level key of `conf/config.yaml` with its default and its one-line comment."""
PAGE_WIDTH = 100
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""LibYAML's loader where PyYAML has it: a scenario's title is read in a millisecond."""


def config_dir() -> Path:
    """Where the YAML configuration lives: inside the installed package, or beside it in a checkout."""
    package = Path(__file__).resolve().parents[1]
    packaged = package / "conf"
    return packaged if packaged.is_dir() else package.parent / "conf"


def available(group: str) -> list[str]:
    """The names a config group offers (`scenario`, `protocol`, `experiment`)."""
    return sorted(path.stem for path in (config_dir() / group).glob("*.yaml"))


def scenarios() -> dict[str, str]:
    """Each scenario's name and title."""
    titles = {}
    for name in available("scenario"):
        scenario = yaml.load((config_dir() / "scenario" / f"{name}.yaml").read_text(), Loader=YAML_LOADER)
        titles[name] = str(scenario.get("title", "")) if isinstance(scenario, dict) else ""
    return titles


def protocols() -> dict[str, str]:
    """Each protocol's name and the first line of its module's docstring."""
    return {name: first_line(sys.modules[cls.__module__].__doc__) for name, cls in PROTOCOLS.items()}


def experiments() -> dict[str, str]:
    """Each experiment's name and the question its file's `# Question:` comment asks."""
    return {name: question(config_dir() / "experiment" / f"{name}.yaml") for name in available("experiment")}


def common_keys() -> dict[str, str]:
    """The top-level keys of `conf/config.yaml` as `key=default` with their comments."""
    keys = {}
    for line in (config_dir() / "config.yaml").read_text().splitlines():
        match = KEY_LINE.match(line)
        if match:
            keys[f"{match[1]}={match[2]}"] = match[3]
    return keys


def first_line(doc: str | None) -> str:
    return (doc or "").strip().splitlines()[0] if (doc or "").strip() else ""


def question(path: Path) -> str:
    """The question a `# Question:` comment asks: its words up to the first question mark (or to a
    `# Run:` line, or the end of the comments)."""
    words: list[str] = []
    for line in path.read_text().splitlines():
        text = line.lstrip("#").strip() if line.startswith("#") else None
        if words and (text is None or text.startswith("Run:")):
            break
        if text is not None and text.startswith("Question:"):
            words = [text.removeprefix("Question:").strip()]
        elif words and text:
            words.append(text)
    text = " ".join(words)
    text = text[: text.index("?") + 1] if "?" in text else text
    return text[:1].upper() + text[1:]


def listing(entries: Mapping[str, str], indent: int = 2, width: int = PAGE_WIDTH) -> str:
    """Two columns, names and texts, each text wrapped under itself."""
    column = indent + max((len(name) for name in entries), default=0) + 2
    return "\n".join(
        textwrap.fill(
            text or "-",
            width=max(width, column + 20),
            initial_indent=f"{' ' * indent}{name:<{column - indent}}",
            subsequent_indent=" " * column,
        )
        for name, text in entries.items()
    )


@functools.cache
def help_section(name: str, tasks: tuple[tuple[str, str], ...]) -> str:
    """A list for the help page (`scenarios`, `protocols`, `experiments`, `tasks`, `keys`), with `$`
    doubled for the page's `string.Template`. Made once per process: OmegaConf resolves the page's
    template whenever Hydra merges a config over it, so in every composition, not only for --help."""
    sections = {
        "scenarios": scenarios,
        "protocols": protocols,
        "experiments": experiments,
        "tasks": lambda: dict(tasks),
        "keys": common_keys,
    }
    if name not in sections:
        raise KeyError(f"sim_help:{name}: choose one of {', '.join(sections)}")
    return listing(sections[name]()).replace("$", "$$")
