"""`report.html`, one self-contained page per run (figures embedded, data files linked), and
`index.html`, every run under a results folder, newest first.

Both are Jinja2 templates (`sim/outputs/templates/`), autoescaped. A report's head carries what the
index lists (date, scenario, task, headline) as `<meta name="astana-sim:...">` tags, so the index
is rebuilt from the reports themselves and never goes out of step with the folders.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from sim.outputs.files import TEMPORARY_PREFIX, write_atomically
from sim.setup.job import Job

REPORT = "report.html"
INDEX = "index.html"
META = "astana-sim:"
"""The prefix of the meta tags the index reads."""
HEAD_BYTES = 4096
"""How much of a report the index reads: its head."""

TEMPLATES = Environment(
    loader=PackageLoader("sim.outputs", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


def package_version() -> str:
    try:
        return version("astana-sim")
    except PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class RunInfo:
    """What a report says ran, and the line the index shows for it."""

    title: str
    scenario: str
    task: str
    headline: str
    ran: list[tuple[str, str]] = field(default_factory=list)
    """(what, value) rows: scenario, protocol, overrides, seed, replications, version."""
    created: str = field(default_factory=lambda: datetime.now().isoformat(timespec="seconds"))


def run_info(job: Job, headline: str) -> RunInfo:
    """What a job ran, for its report."""
    return RunInfo(
        title=f"{job.scenario.title}: {job.task.value}",
        scenario=job.scenario.name,
        task=job.task.value,
        headline=headline,
        ran=[
            ("scenario", job.scenario.name),
            ("task", job.task.value),
            ("protocol", job.protocol.name),
            ("overrides", " ".join(job.overrides) or "none"),
            ("seed", str(job.seed)),
            ("replications", str(job.replications)),
        ],
    )


def _figures(folder: Path) -> list[dict[str, str]]:
    return [
        {"name": str(path.relative_to(folder)), "data": base64.b64encode(path.read_bytes()).decode("ascii")}
        for path in sorted(folder.rglob("*.png"))
        if not _hidden(path, folder)
    ]


def _files(folder: Path) -> list[str]:
    return [
        str(path.relative_to(folder))
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.suffix != ".png" and path.name != REPORT and not _hidden(path, folder)
    ]


def _hidden(path: Path, folder: Path) -> bool:
    """Hidden files and folders (Hydra's `.hydra`, temporary files of unfinished writes)."""
    parts = path.relative_to(folder).parts
    return any(part.startswith(".") for part in parts) or path.name.startswith(TEMPORARY_PREFIX)


def render_report(folder: Path, info: RunInfo, table: str) -> str:
    """The report of the run in `folder`: what ran, its printed table, its figures and files."""
    return TEMPLATES.get_template("report.html.j2").render(
        title=info.title,
        scenario=info.scenario,
        task=info.task,
        headline=info.headline,
        created=info.created,
        ran=[*info.ran, ("version", f"astana-sim {package_version()}")],
        table=table,
        figures=_figures(folder),
        files=_files(folder),
    )


def write_report(folder: Path, info: RunInfo, table: str) -> Path:
    """Write `report.html` into the run's folder (atomically); return its path."""
    path = Path(folder) / REPORT
    page = render_report(Path(folder), info, table)
    write_atomically(path, lambda stream: stream.write(page))
    return path


class _MetaReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        name = values.get("name") or ""
        if tag == "meta" and name.startswith(META):
            self.found[name.removeprefix(META)] = values.get("content") or ""


def read_entry(report: Path) -> dict[str, str] | None:
    """What the index shows of one report (None when it is not one of ours or unreadable)."""
    try:
        with open(report, encoding="utf-8", errors="replace") as stream:
            head = stream.read(HEAD_BYTES)
    except OSError:
        return None
    reader = _MetaReader()
    reader.feed(head)
    if "created" not in reader.found:
        return None
    return {key: reader.found.get(key, "") for key in ("created", "scenario", "task", "headline")}


def index_entries(root: Path) -> list[dict[str, str]]:
    """Every run directly under `root/<name>/<date_time>/` with a report, newest first."""
    entries = []
    for report in root.glob(f"*/*/{REPORT}"):
        entry = read_entry(report)
        if entry is not None:
            entry["link"] = report.relative_to(root).as_posix()
            entries.append(entry)
    return sorted(entries, key=lambda entry: (entry["created"], entry["link"]), reverse=True)


def write_index(root: Path) -> Path:
    """Rewrite `root/index.html` from the reports under it; return its path."""
    path = Path(root) / INDEX
    page = TEMPLATES.get_template("index.html.j2").render(entries=index_entries(Path(root)))
    write_atomically(path, lambda stream: stream.write(page))
    return path
