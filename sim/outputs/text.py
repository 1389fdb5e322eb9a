"""The tables printed after a run: issues, then actors; one line per job in a sweep."""

from __future__ import annotations

from typing import Any


def format_table(summary: dict[str, Any]) -> str:
    """The short table printed after a run: issues, then actors.

    For an imported table (issues on a scale other than [0, 1]) the column `source` gives the
    agreed value on the source's scale.
    """
    lines = [
        f"{summary['title']} — protocol {summary['protocol']}, seed {summary['seed']}, "
        f"{summary['steps']} steps"
    ]
    issues = summary["issues"]
    on_source = any("value_on_source_scale" in issue for issue in issues.values())
    issue_width = max([12, *map(len, issues)])
    actor_width = max([12, *map(len, summary["utilities"])])
    lines.append("")
    source_header = f" {'source':>7}" if on_source else ""
    lines.append(f"{'issue':<{issue_width}} {'agreed':<7} {'value':>6}{source_header} {'step':>5}  meaning")
    for name, issue in issues.items():
        value = f"{issue['value']:.3f}" if isinstance(issue["value"], float) else "-"
        source = ""
        if on_source:
            at = issue.get("value_on_source_scale")
            source = f" {'-' if at is None else f'{at:.4g}':>7}"
        step = "-" if issue["step"] is None else str(issue["step"])
        agreed = "yes" if issue["agreed"] else "no"
        lines.append(f"{name:<{issue_width}} {agreed:<7} {value:>6}{source} {step:>5}  {issue['meaning']}")
    lines.append("")
    lines.append(f"{'actor':<{actor_width}} {'role':<10} {'utility':>7} {'reserv.':>7}  note")
    for actor, utility in summary["utilities"].items():
        info = summary["actors"][actor]
        note = []
        if actor in summary["walked_out"]:
            note.append(f"walked out at step {summary['walked_out_step'][actor]}")
        if not info["present"]:
            note.append("absent")
        lines.append(
            f"{actor:<{actor_width}} {info.get('label', info['role']):<10} {utility:>7.3f} "
            f"{info['reservation']:>7.3f}  "
            f"{'; '.join(note)}".rstrip()
        )
    if "record" in summary:
        verdict = "matches" if summary["record"]["matches"] else "does not match"
        lines.append("")
        lines.append(f"The outcome {verdict} the historical record.")
    return "\n".join(lines)


def format_batch_table(summary: dict[str, Any]) -> str:
    lines = [
        f"{summary['title']} — protocol {summary['protocol']}, {summary['replications']} replications "
        f"(seeds {summary['seeds'][0]}–{summary['seeds'][1]})",
        "",
    ]
    lines.append(
        f"{'issue':<12} {'P(agreed)':>9} {'95% interval':>15} {'median value':>13}  meaning of the median"
    )
    for name, issue in summary["issues"].items():
        lo, hi = issue["interval"]
        median = issue["value"]["median"]
        shown = "-" if median is None else f"{median:.3f}"
        if issue.get("median_on_source_scale") is not None:
            shown = f"{median:.3f} ({issue['median_on_source_scale']:.4g})"
        lines.append(
            f"{name:<12} {issue['agreement_probability']:>9.3f} {f'[{lo:.3f}, {hi:.3f}]':>15} "
            f"{shown:>13}  {issue['meaning_of_median']}"
        )
        if "proposer_share" in issue:
            for role in ("proposer", "partner", "excluded"):
                share = issue[f"{role}_share"]
                if share["count"]:
                    lo, hi = share["interval"]
                    lines.append(f"{'':<12} mean {role} share {share['mean']:.4f} [{lo:.4f}, {hi:.4f}]")
    lines += ["", f"{'actor':<12} {'mean utility':>12} {'95% interval':>17}"]
    for actor, mean in summary["utilities"].items():
        lo, hi = summary["utility_intervals"][actor]
        lines.append(f"{actor:<12} {mean:>12.3f} {f'[{lo:.3f}, {hi:.3f}]':>17}")
    if summary["walk_out_probability"]:
        walks = ", ".join(f"{a} {p:.3f}" for a, p in summary["walk_out_probability"].items())
        lines += ["", f"walk-out probability: {walks}"]
    if "record_match_probability" in summary:
        lines.append(f"runs matching the historical record: {summary['record_match_probability']:.3f}")
    return "\n".join(lines)


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
