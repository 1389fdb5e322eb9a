"""`report.html`, one self-contained page per run or sweep (figures embedded, data files linked),
and `index.html`, every run and sweep under a results folder, newest first.

All are Jinja2 templates (`sim/outputs/templates/`, each report extending `base.html.j2`),
autoescaped. A report's head carries what the index lists (date, scenario, task, headline) as
`<meta name="astana-sim:...">` tags, so the index is rebuilt from the reports themselves and never
goes out of step with the folders.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd
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


@dataclass(frozen=True)
class SweepPage:
    """What a sweep's report shows besides what ran: the jobs missing, notes on damaged files,
    `sweep.csv`, and the link to each job's own report by job number."""

    table: pd.DataFrame
    missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    links: Mapping[int, str] = field(default_factory=dict)


def _figures(folder: Path, paths: Iterable[Path] | None = None) -> list[dict[str, str]]:
    chosen = sorted(folder.rglob("*.png")) if paths is None else sorted(paths)
    return [
        {"name": str(path.relative_to(folder)), "data": base64.b64encode(path.read_bytes()).decode("ascii")}
        for path in chosen
        if not _hidden(path, folder)
    ]


def _files(folder: Path, paths: Iterable[Path] | None = None) -> list[str]:
    chosen = sorted(folder.rglob("*")) if paths is None else sorted(paths)
    return [
        str(path.relative_to(folder))
        for path in chosen
        if path.is_file() and path.suffix != ".png" and path.name != REPORT and not _hidden(path, folder)
    ]


def _hidden(path: Path, folder: Path) -> bool:
    """Hidden files and folders (Hydra's `.hydra`, temporary files of unfinished writes)."""
    parts = path.relative_to(folder).parts
    return any(part.startswith(".") for part in parts) or path.name.startswith(TEMPORARY_PREFIX)


def heading(info: RunInfo) -> dict[str, Any]:
    """What every page opens with: the title, scenario, task, headline, date and what ran."""
    return {
        "title": info.title,
        "scenario": info.scenario,
        "task": info.task,
        "headline": info.headline,
        "created": info.created,
        "ran": [*info.ran, ("version", f"astana-sim {package_version()}")],
    }


def render_report(folder: Path, info: RunInfo, table: str) -> str:
    """The report of the run in `folder`: what ran, its printed table, its figures and files."""
    return TEMPLATES.get_template("report.html.j2").render(
        **heading(info),
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


def cell_text(value: object) -> str:
    """A value of `sweep.csv` as the report shows it: four significant digits, blank for none."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else str(value)
    if isinstance(value, float) and math.isnan(value):
        return ""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _sweep_rows(page: SweepPage) -> list[list[dict[str, str]]]:
    rows = []
    for record in page.table.to_dict("records"):
        job = record.get("job")
        link = page.links.get(int(job), "") if isinstance(job, (int, float)) else ""
        rows.append(
            [
                {"text": cell_text(value), "link": link if column == "job" else ""}
                for column, value in record.items()
            ]
        )
    return rows


def render_sweep_report(folder: Path, info: RunInfo, page: SweepPage) -> str:
    """The report of the sweep in `folder`: what ran, the jobs missing, `sweep.csv` with a link
    to each job's report, the sweep's own figures and files (not its jobs')."""
    return TEMPLATES.get_template("sweep.html.j2").render(
        **heading(info),
        missing=page.missing,
        notes=page.notes,
        columns=[str(column) for column in page.table.columns],
        rows=_sweep_rows(page),
        figures=_figures(folder, folder.glob("*.png")),
        files=_files(folder, folder.glob("*")),
    )


def write_sweep_report(folder: Path, info: RunInfo, page: SweepPage) -> Path:
    """Write the sweep's `report.html` (atomically); return its path."""
    path = Path(folder) / REPORT
    html = render_sweep_report(Path(folder), info, page)
    write_atomically(path, lambda stream: stream.write(html))
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
    """Every run directly under `root/<name>/<date_time>/` with a report, newest first: runs under
    `root/<scenario>/`, sweeps under `root/sweeps/` (a sweep's jobs, a level deeper, are not listed)."""
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
