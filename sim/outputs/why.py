"""Why each issue closed or failed, in words: the lines printed under a run's tables.

Reads the `why` entry of each issue of `summary.json` (`sim.analysis.explain`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

HASTENING_PROTOCOLS = frozenset({"alternating"})
"""Protocols in which the observers' endorsement speeds the signatories' concession."""
PACKAGE_PROTOCOLS = frozenset({"package"})
"""Protocols whose texts are accepted on the whole package's utility, not issue by issue."""


def why_lines(summary: Mapping[str, Any]) -> list[str]:
    """One line per issue saying why it closed or failed; none when no issue has an explanation."""
    issues = {name: issue for name, issue in summary["issues"].items() if issue.get("why")}
    if not issues:
        return []
    width = max([12, *map(len, issues)])
    lines = ["", f"{'issue':<{width}}  why"]
    for name, issue in issues.items():
        lines.append(f"{name:<{width}}  {issue_reason(summary, issue)}")
    if summary.get("protocol") in PACKAGE_PROTOCOLS:
        lines += ["", package_line(summary)]
    return lines


def package_line(summary: Mapping[str, Any]) -> str:
    """Whether a package every bargainer prefers to no agreement exists: the Nash bargaining point."""
    nash = summary.get("reference", {}).get("nash")
    if not nash:
        return "No package exists that every bargainer prefers to no agreement (no Nash bargaining point)."
    point = ", ".join(f"{issue} {_v(value)}" for issue, value in nash.items())
    return (
        "A package exists that every bargainer prefers to no agreement: "
        f"the Nash bargaining point is {point}."
    )


def issue_reason(summary: Mapping[str, Any], issue: Mapping[str, Any]) -> str:
    """Why one issue closed or failed, in a sentence (two for a batch)."""
    why = issue["why"]
    probability = issue["agreement_probability"]
    if summary["replications"] == 1:
        if probability == 1:
            return _agreed(summary, issue, why)
        return _failed(summary, why)
    parts = [f"agreed in {probability:.0%} of runs"]
    blockers = why.get("blocked") or {}
    if any(blockers.values()):
        shares = ", ".join(f"{_name(summary, a)} in {s:.0%}" for a, s in blockers.items() if s)
        parts.append(f"blocked by {shares}")
    parts.extend(_walk_outs(summary, why, batch=True))
    deadline = why.get("at_deadline")
    if deadline:
        parts.append(_deadline_clause(summary, deadline, issue["value"]["median"]))
    return "; ".join(parts)


def _agreed(summary: Mapping[str, Any], issue: Mapping[str, Any], why: Mapping[str, Any]) -> str:
    value, step = issue["value"]["median"], issue["step"]["mean"]
    head = f"agreed at {_v(value)}" if value is not None else "agreed"
    head += f" at step {step:g}" if step is not None else ""
    close = why.get("at_close")
    if not close:
        deadline = why.get("at_deadline")
        return f"{head}; {_deadline_clause(summary, deadline, value)}" if deadline else head
    vetoes = _vetoes(summary)
    if close["position"] is not None:
        low, high = next(seg for seg in close["zone"] if seg[0] - 1e-9 <= value <= seg[1] + 1e-9)
        where = f"{close['position']:.0%} of the way up the zone {_v(low)}–{_v(high)}"
        return f"{head}, {where} that the {vetoes} accepted then"
    missing = f"miss by {_v(close['gap'])}" if close["gap"] else "leave no zone"
    if summary.get("protocol") in PACKAGE_PROTOCOLS:
        return (
            f"{head} as part of a package: on this issue alone the {vetoes}' ranges {missing}, "
            "but each accepted the package as a whole, paid for on the other issues"
        )
    ahead = ", ".join(_name(summary, actor) for actor in close["ahead_of_pace"])
    endorsed = " on the observers' endorsement" if summary.get("protocol") in HASTENING_PROTOCOLS else ""
    missing = f"still missed by {_v(close['gap'])}" if close["gap"] else "left no zone"
    pair = _pair_clause(summary, close["apart"], close["ranges"])
    return (
        f"{head}: at their own pace the {vetoes}' ranges {missing}{pair}; "
        f"{ahead} accepted it ahead of that pace{endorsed}"
    )


def _failed(summary: Mapping[str, Any], why: Mapping[str, Any]) -> str:
    parts = ["no agreement"]
    deadline = why.get("at_deadline")
    if deadline:
        parts[0] += f": {_deadline_clause(summary, deadline, None)}"
    parts.extend(_walk_outs(summary, why, batch=False))
    streak = why.get("streak") or {}
    for actor, share in (why.get("blocked") or {}).items():
        if not share:
            continue
        count = streak.get(actor) or 1
        texts = "the last text" if count == 1 else f"the last {count} texts"
        parts.append(f"{_name(summary, actor)} rejected {texts}")
    return "; ".join(parts)


def _deadline_clause(summary: Mapping[str, Any], deadline: Mapping[str, Any], value: float | None) -> str:
    """The veto players' ranges at the deadline: the zone they leave, or how far apart they are."""
    zone = deadline["zone"]
    if zone:
        shown = ", ".join(f"{_v(low)}–{_v(high)}" for low, high in zone)
        where = ""
        if value is not None:
            segment = next((s for s in zone if s[0] - 1e-9 <= value <= s[1] + 1e-9), None)
            if segment is not None and segment[1] > segment[0]:
                share = (value - segment[0]) / (segment[1] - segment[0])
                where = f" (the {'median ' if summary['replications'] > 1 else ''}value at {share:.0%} of it)"
        return f"zone at the deadline {shown}{where}"
    if deadline["gap"] is None:
        return "no ranges known at the deadline"
    pair = _pair_clause(summary, deadline["apart"], deadline["ranges"])
    return f"at the deadline the {_vetoes(summary)}' ranges miss by {_v(deadline['gap'])}{pair}"


def _pair_clause(
    summary: Mapping[str, Any], pairs: list[Mapping[str, Any]], ranges: Mapping[str, list[float] | None]
) -> str:
    """The pair of veto players furthest apart, with their ranges, as a parenthesis."""
    if not pairs:
        return ""
    first, second = pairs[0]["actors"]
    a, b = ranges[first], ranges[second]
    if a is None or b is None:
        return ""
    if a[0] > b[1]:
        first, second, a, b = second, first, b, a
    others = f", and {len(pairs) - 1} other pair{'s' if len(pairs) > 2 else ''}" if len(pairs) > 1 else ""
    return (
        f" ({_name(summary, first)} accepts {_v(a[0])}–{_v(a[1])}, "
        f"{_name(summary, second)} {_v(b[0])}–{_v(b[1])}{others})"
    )


def _walk_outs(summary: Mapping[str, Any], why: Mapping[str, Any], batch: bool) -> list[str]:
    return [
        f"{_name(summary, party)} walked out" + (f" in {share:.0%}" if batch else "")
        for party, share in (why.get("walked_out") or {}).items()
        if share
    ]


def _vetoes(summary: Mapping[str, Any]) -> str:
    """The veto players' role in the scenario's words, plural ('guarantors')."""
    actors = (summary.get("actors") or {}).values()
    labels = [info.get("label") or "signatory" for info in actors if info.get("role") == "signatory"]
    return f"{labels[0]}s" if labels else "signatories"


def _name(summary: Mapping[str, Any], actor: str) -> str:
    return str(summary["actors"].get(actor, {}).get("name", actor))


def _v(x: float) -> str:
    return f"{x:.3f}"
