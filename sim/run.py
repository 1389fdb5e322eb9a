"""One negotiation from a composed configuration to its run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from sim.cli import build
from sim.model import NegotiationModel
from sim.outputs import format_table, summarize, trace_frame, write_csv, write_json


def run_and_write(cfg: DictConfig, output_dir: Path) -> dict[str, Any]:
    """Run the negotiation `cfg` describes and write summary, trace and plots into `output_dir`.

    `summary.json` is written last, so a folder that has it holds a complete run.
    """
    scenario, protocol = build(cfg)
    model = NegotiationModel(scenario, protocol, seeds=[cfg.seed], record_trace=True).run()
    summary = summarize(model)
    trace = trace_frame(model)
    output_dir.mkdir(parents=True, exist_ok=True)
    write_csv(output_dir / "trace.csv", trace)
    if cfg.plots:
        from sim.plots import write_run_plots

        write_run_plots(output_dir, summary, trace)
    write_json(output_dir / "summary.json", summary)
    if not cfg.quiet:
        print(format_table(summary))
        print()
        print(f"Run folder: {output_dir}")
    else:
        print(output_dir)
    return summary
