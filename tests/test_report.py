"""Every run writes a self-contained `report.html`, and `results/index.html` lists the runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import html5lib
import pandas as pd
import pytest

from sim.outputs.report import (
    RunInfo,
    SweepPage,
    index_entries,
    read_entry,
    write_index,
    write_report,
    write_sweep_report,
)

REPO = Path(__file__).resolve().parents[1]
SWEEP = [sys.executable, "-m", "sim", "-m", "scenario=astana7", "replications=2"]


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


@pytest.mark.slow
def test_a_run_report_embeds_its_figures_links_its_files_and_says_what_ran(tmp_path):
    folder = run_sim("scenario=astana7", "seed=3", "replications=5", results=tmp_path)
    page = valid_html(folder / "report.html")
    pngs = sorted(folder.glob("*.png"))
    assert pngs and page.count("data:image/png;base64,") == len(pngs)
    assert '<a href="summary.json">' in page and '<a href="replications.csv">' in page
    assert "<td>astana7</td>" in page and "<td>alternating</td>" in page and "<td>3</td>" in page
    assert "detainees" in page and "replications=5" in page
    assert 'src="http' not in page  # self-contained: nothing fetched from elsewhere


@pytest.mark.slow
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


@pytest.mark.slow
def test_a_sweep_report_says_what_ran_links_every_job_and_the_index_lists_it(tmp_path):
    done = subprocess.run(
        [*SWEEP, "protocol.max_steps=10,30", f"results={tmp_path}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    sweep = next((tmp_path / "sweeps").iterdir())
    page = valid_html(sweep / "report.html")
    assert '<a href="0/report.html">0</a>' in page and '<a href="1/report.html">1</a>' in page
    assert page.count("data:image/png;base64,") == len(list(sweep.glob("*.png"))) > 0
    assert "protocol.max_steps=10,30" in page and "<td>10, 30</td>" in page
    assert '<a href="sweep.csv">' in page
    index = valid_html(tmp_path / "index.html")
    assert f'href="sweeps/{sweep.name}/report.html"' in index and "<td>sweep</td>" in index
    assert read_entry(sweep / "report.html")["headline"] == "2 jobs over protocol.max_steps = 10, 30"


def test_a_sweep_report_escapes_its_table_and_names_the_missing_jobs(tmp_path):
    table = pd.DataFrame(
        {"job": [0, 1], "protocol": ["<b>x</b>", "a & b"], "zones.value_mean": [0.123456, None]}
    )
    info = RunInfo("Sweep over protocol", "astana7", "sweep", "2 jobs", [("swept: protocol", "<b>x</b>")])
    (tmp_path / "0").mkdir()
    write_sweep_report(tmp_path, info, SweepPage(table, ["job 2 (protocol=eum)"], [], {0: "0/report.html"}))
    page = valid_html(tmp_path / "report.html")
    assert "<b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
    assert '<a href="0/report.html">0</a>' in page and '<a href="1/report.html">' not in page
    assert "<td>0.1235</td>" in page and "<li>job 2 (protocol=eum)</li>" in page
    assert read_entry(tmp_path / "report.html")["task"] == "sweep"
