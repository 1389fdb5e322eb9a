"""Every run writes a self-contained `report.html`, and `results/index.html` lists the runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import html5lib
import pytest

from sim.outputs.report import RunInfo, index_entries, read_entry, write_index, write_report

REPO = Path(__file__).resolve().parents[1]


def run_sim(*args: str, results: Path) -> Path:
    done = subprocess.run(
        [sys.executable, "-m", "sim", *args, f"results={results}", "quiet=true"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.strip().splitlines()[-1])


def valid_html(path: Path) -> str:
    """The page, after a strict HTML5 parse (raises on any parse error)."""
    page = path.read_text(encoding="utf-8")
    html5lib.HTMLParser(strict=True).parse(page)
    return page


def test_a_run_report_embeds_its_figures_links_its_files_and_says_what_ran(tmp_path):
    folder = run_sim("scenario=astana7", "seed=3", "replications=5", results=tmp_path)
    page = valid_html(folder / "report.html")
    pngs = sorted(folder.glob("*.png"))
    assert pngs and page.count("data:image/png;base64,") == len(pngs)
    assert '<a href="summary.json">' in page and '<a href="replications.csv">' in page
    assert "<td>astana7</td>" in page and "<td>alternating</td>" in page and "<td>3</td>" in page
    assert "detainees" in page and "replications=5" in page
    assert 'src="http' not in page  # self-contained: nothing fetched from elsewhere


def test_the_index_lists_every_run_newest_first_and_skips_sweep_jobs(tmp_path):
    first = run_sim("scenario=astana7", "plots=false", results=tmp_path)
    second = run_sim("scenario=astana_series", "task=forecast", "series.calibrate=false", results=tmp_path)
    page = valid_html(tmp_path / "index.html")
    links = re.findall(r'href="([^"]+/report.html)"', page)
    assert links == [
        second.relative_to(tmp_path).as_posix() + "/report.html",
        first.relative_to(tmp_path).as_posix() + "/report.html",
    ]
    assert "<td>forecast</td>" in page and "<td>astana_series</td>" in page
    job = tmp_path / "sweeps" / "2026-01-01_00-00-00" / "0"
    job.mkdir(parents=True)
    write_report(job, RunInfo("job", "astana7", "run", "x"), "table")
    assert len(index_entries(tmp_path)) == 2


@pytest.mark.parametrize("text", ["<script>alert(1)</script>", "a & b < c"])
def test_text_from_configurations_is_escaped(tmp_path, text):
    write_report(tmp_path, RunInfo(text, "s", "run", text, [("overrides", text)]), text)
    page = valid_html(tmp_path / "report.html")
    assert "<script>" not in page
    assert read_entry(tmp_path / "report.html")["headline"] == text
    write_index(tmp_path)
    valid_html(tmp_path / "index.html")
