"""The tables printed after a run: issues, then actors; one line per job in a sweep.

All read the one `summary.json` schema: a single run is a batch of one.
"""

from __future__ import annotations

from typing import Any

from sim.outputs.why import why_lines


def format_table(summary: dict[str, Any]) -> str:
    """The table printed after a run: `format_run_table` for one replication, else
    `format_batch_table`."""
    if summary["replications"] == 1:
        return format_run_table(summary)
    return format_batch_table(summary)


def _number(x: float | None, spec: str = "g") -> str:
    return "-" if x is None else format(x, spec)


def format_run_table(summary: dict[str, Any]) -> str:
    """The short table of one replication: issues, then actors.

    For an imported table (issues on a scale other than [0, 1]) the column `source` gives the
    agreed value on the source's scale.
    """
    lines = [
        f"{summary['title']} — protocol {summary['protocol']}, seed {summary['seed']}, "
        f"{summary['steps']['max']} steps"
    ]
    issues = summary["issues"]
    on_source = any("value_on_source_scale" in issue for issue in issues.values())
    issue_width = max([12, *map(len, issues)])
    actor_width = max([12, *map(len, summary["utilities"])])
    lines.append("")
    source_header = f" {'source':>7}" if on_source else ""
    lines.append(f"{'issue':<{issue_width}} {'agreed':<7} {'value':>6}{source_header} {'step':>5}  meaning")
    for name, issue in issues.items():
        value = _number(issue["value"]["median"], ".3f")
        source = f" {_number(issue.get('value_on_source_scale'), '.4g'):>7}" if on_source else ""
        step = _number(issue["step"]["mean"])
        agreed = "yes" if issue["agreement_probability"] == 1 else "no"
        lines.append(f"{name:<{issue_width}} {agreed:<7} {value:>6}{source} {step:>5}  {issue['meaning']}")
    lines.append("")
    lines.append(f"{'actor':<{actor_width}} {'role':<10} {'utility':>7} {'reserv.':>7}  note")
    for actor, utility in summary["utilities"].items():
        info = summary["actors"][actor]
        note = []
        if summary["walk_out_probability"].get(actor) == 1:
            note.append(f"walked out at step {_number(summary['walk_out_step'][actor])}")
        if not info["present"]:
            note.append("absent")
        lines.append(
            f"{actor:<{actor_width}} {info['label']:<10} {utility['mean']:>7.3f} "
            f"{info['reservation']:>7.3f}  "
            f"{'; '.join(note)}".rstrip()
        )
    if "record" in summary:
        verdict = "matches" if summary["record"]["match_probability"] == 1 else "does not match"
        lines.append("")
        lines.append(f"The outcome {verdict} the historical record.")
        lines.extend(dispute_lines(summary))
    lines.extend(why_lines(summary))
    return "\n".join(lines)


def dispute_lines(summary: dict[str, Any]) -> list[str]:
    """Per issue whose sources disagree: both accounts, and the one the simulated outcome matches."""
    lines = []
    runs = summary.get("replications", 1)
    for issue, dispute in summary["record"].get("disputed", {}).items():
        share = summary["record"]["issues"][issue]
        follows = "this record's account" if share >= 0.5 else "the other account"
        how_often = f" in {max(share, 1 - share):.0%} of runs" if runs > 1 else ""
        lines.append(
            f"Disputed: {issue}. This record says {dispute['account']}; the other account: "
            f"{dispute['other_account']}. The simulated outcome matches {follows}{how_often}."
        )
    return lines


def format_batch_table(summary: dict[str, Any]) -> str:
    """The table of a batch: agreement probabilities with intervals, median values, mean utilities."""
    lines = [
        f"{summary['title']} — protocol {summary['protocol']}, {summary['replications']} replications "
        f"(seeds {summary['seeds'][0]}–{summary['seeds'][1]})"
        + (
            "; the protocol is deterministic: one negotiation ran, the same for every seed"
            if summary.get("deterministic")
            else ""
        ),
        "",
    ]
    lines.append(
        f"{'issue':<12} {'P(agreed)':>9} {'95% interval':>15} {'median value':>13}  meaning of the median"
    )
    for name, issue in summary["issues"].items():
        lo, hi = issue["interval"]
        median = issue["value"]["median"]
        shown = _number(median, ".3f")
        if issue.get("value_on_source_scale") is not None:
            shown = f"{median:.3f} ({issue['value_on_source_scale']:.4g})"
        lines.append(
            f"{name:<12} {issue['agreement_probability']:>9.3f} {f'[{lo:.3f}, {hi:.3f}]':>15} "
            f"{shown:>13}  {issue['meaning']}"
        )
        for role in ("proposer", "partner", "excluded"):
            share = issue.get(f"{role}_share")
            if share and share["count"]:
                lo, hi = share["interval"]
                lines.append(f"{'':<12} mean {role} share {share['mean']:.4f} [{lo:.4f}, {hi:.4f}]")
    lines += ["", f"{'actor':<12} {'mean utility':>12} {'95% interval':>17}"]
    for actor, utility in summary["utilities"].items():
        lo, hi = utility["interval"]
        lines.append(f"{actor:<12} {utility['mean']:>12.3f} {f'[{lo:.3f}, {hi:.3f}]':>17}")
    if summary["walk_out_probability"]:
        walks = ", ".join(f"{a} {p:.3f}" for a, p in summary["walk_out_probability"].items())
        lines += ["", f"walk-out probability: {walks}"]
    if "record" in summary:
        lines.append(f"runs matching the historical record: {summary['record']['match_probability']:.3f}")
        lines.extend(dispute_lines(summary))
    lines.extend(why_lines(summary))
    return "\n".join(lines)


def one_line(summary: dict[str, Any]) -> str:
    """The agreement per issue, in a few words: for the one line a sweep prints per job."""
    parts = [
        f"{issue} {outcome['agreement_probability']:.2f}" for issue, outcome in summary["issues"].items()
    ]
    return "P(agreed) " + ", ".join(parts)
