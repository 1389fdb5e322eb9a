"""One negotiation, or a batch of replications, from a composed configuration to its run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig

from sim.cli import build
from sim.setup.schema import Task
from sim.model.model import NegotiationModel
from sim.outputs.summary import Outcome, expand_divisions, format_table, summarize, trace_frame, write_csv, write_json
from sim.protocols import make_protocol


def run_and_write(cfg: DictConfig, output_dir: Path, job_line: str | None = None) -> dict[str, Any]:
    """Run what `cfg` describes and write summary, trace or table, and plots into `output_dir`.

    `summary.json` is written last, so a folder that has it holds a complete run. In a sweep,
    `job_line` names the job and one line is printed instead of the table.
    """
    if cfg.get("task") == Task.validate:
        from sim.studies.validate import validate_and_write

        return validate_and_write(cfg, output_dir, job_line)
    scenario, protocol_cfg = build(cfg)
    output_dir.mkdir(parents=True, exist_ok=True)
    if cfg.replications > 1:
        summary, table = run_replications(cfg, scenario, protocol_cfg, output_dir)
    else:
        model = NegotiationModel(scenario, make_protocol(protocol_cfg), seeds=[cfg.seed], record_trace=True)
        summary = summarize(Outcome.of(model.run()))
        trace = trace_frame(model)
        write_csv(output_dir / "trace.csv", trace)
        if cfg.plots:
            from sim.figures.run import write_run_plots

            write_run_plots(output_dir, expand_divisions(summary), trace)
        table = format_table(summary)
    if cfg.scenario.get("path"):
        summary["path"] = scenario.source
    write_json(output_dir / "summary.json", summary)
    if job_line is not None:
        print(f"{job_line}: {one_line(summary)}")
    else:
        print(output_dir if cfg.quiet else f"{table}\n\nRun folder: {output_dir}")
    return summary


def one_line(summary: dict[str, Any]) -> str:
    """The agreement per issue, in a few words: for the one line a sweep prints per job."""
    parts = []
    for issue, outcome in summary["issues"].items():
        p = (
            outcome["agreement_probability"]
            if "agreement_probability" in outcome
            else float(outcome["agreed"])
        )
        parts.append(f"{issue} {p:.2f}")
    return "P(agreed) " + ", ".join(parts)


def run_replications(
    cfg: DictConfig, scenario: Any, protocol_cfg: dict[str, Any], output_dir: Path
) -> tuple[dict[str, Any], str]:
    from sim.studies.batch import format_batch_table, run_batch, summarize_batch

    seeds = cfg.seed + np.arange(cfg.replications)
    batch = run_batch(scenario, protocol_cfg, seeds, trace=cfg.trace)
    summary = summarize_batch(batch, cfg.seed)
    write_csv(output_dir / "replications.csv", batch.table())
    if batch.trace is not None:
        write_csv(output_dir / "trace.csv", batch.trace)
    if cfg.plots:
        from sim.figures.study import write_batch_plots

        write_batch_plots(output_dir, summary, batch)
    return summary, format_batch_table(summary)
