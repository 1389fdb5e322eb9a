"""What a run leaves behind: the summary, the tidy trace, the printed table, written atomically.

The formats are a contract documented in the README: scripts and other tools read them.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.model.model import NOT_YET, NegotiationModel
from sim.core.scenario import Scenario

TRACE_COLUMNS = ["step", "actor", "issue", "quantity", "value"]
ACTOR_LEVEL = "all"
"""The issue column's value for quantities that belong to an actor, not an issue."""
TABLE = "table"
"""The actor column's value for a text no actor proposed (proposer -1), such as a protocol's forecast."""


@dataclass
class Outcome:
    """How each replication ended, one row each: what summaries and tables are made from."""

    scenario: Scenario
    protocol: str
    seeds: np.ndarray
    agreed: np.ndarray
    value: np.ndarray
    agreed_step: np.ndarray
    utilities: np.ndarray
    walked_out_step: np.ndarray
    end_step: np.ndarray
    forecast: np.ndarray
    agreed_proposer: np.ndarray

    @classmethod
    def of(cls, model: NegotiationModel) -> Outcome:
        return cls(
            model.negotiation,
            model.protocol.name,
            model.seeds,
            model.agreed,
            model.agreed_value,
            model.agreed_step,
            model.final_utilities(),
            model.walked_out_step,
            model.end_step,
            model.forecasts(),
            model.agreed_proposer,
        )

    def __len__(self) -> int:
        return len(self.seeds)


def summarize(outcome: Outcome, replication: int = 0) -> dict[str, Any]:
    """The outcome of one replication as the `summary.json` contract describes it."""
    talks = outcome.scenario
    r = replication
    names = np.array([*talks.actors, TABLE])
    issues: dict[str, Any] = {}
    for k, issue in enumerate(talks.issues):
        if issue.group:
            continue
        agreed = bool(outcome.agreed[r, k])
        value = float(outcome.value[r, k]) if agreed else None
        forecast = None if np.isnan(outcome.forecast[r, k]) else float(outcome.forecast[r, k])
        issues[issue.name] = {
            "agreed": agreed,
            "value": value,
            "step": int(outcome.agreed_step[r, k]) if agreed else None,
            "meaning": issue.describe(value) if value is not None else "no agreement",
            "forecast": forecast,
            "proposer": str(names[outcome.agreed_proposer[r, k]]) if agreed else None,
        }
        if issue.scale != (0.0, 1.0):
            issues[issue.name]["value_on_source_scale"] = None if value is None else issue.to_source(value)
            issues[issue.name]["forecast_on_source_scale"] = (
                None if forecast is None else issue.to_source(forecast)
            )
    for division, columns in talks.divisions().items():
        first = columns[0]
        agreed = bool(outcome.agreed[r, first])
        recipients = [talks.issues[k].name.removeprefix(f"{division}.") for k in columns]
        shares = {who: float(outcome.value[r, k]) for who, k in zip(recipients, columns, strict=True)}
        issues[division] = {
            "agreed": agreed,
            "value": shares if agreed else None,
            "step": int(outcome.agreed_step[r, first]) if agreed else None,
            "meaning": ", ".join(f"{who} {share:.3f}" for who, share in shares.items() if share > 0)
            if agreed
            else "no agreement",
            "forecast": None,
            "proposer": str(names[outcome.agreed_proposer[r, first]]) if agreed else None,
        }
    walked = outcome.walked_out_step[r]
    summary: dict[str, Any] = {
        "scenario": talks.name,
        "title": talks.title,
        "protocol": outcome.protocol,
        "seed": int(outcome.seeds[r]),
        "steps": int(outcome.end_step[r]),
        "issues": issues,
        "utilities": {actor: float(u) for actor, u in zip(talks.actors, outcome.utilities[r], strict=True)},
        "walked_out": [actor for actor, step in zip(talks.actors, walked, strict=True) if step != NOT_YET],
        "walked_out_step": {
            actor: int(step) for actor, step in zip(talks.actors, walked, strict=True) if step != NOT_YET
        },
        "issues_meta": {
            issue.name: {"low": issue.low, "high": issue.high, "description": issue.description}
            for issue in talks.issues
            if not issue.group
        },
        "actors": {
            actor: {
                "name": talks.display_names[i],
                "role": talks.roles[i],
                "present": bool(talks.present[i]),
                "ideal": {
                    issue.name: float(talks.ideal[i, k])
                    for k, issue in enumerate(talks.issues)
                    if not issue.group
                },
                "reservation": float(talks.reservation[i]),
            }
            for i, actor in enumerate(talks.actors)
        },
    }
    from sim.analysis.reference import measure, reference_points

    summary["reference"] = reference_points(talks)
    summary.update(measure(talks, outcome.value[r], outcome.agreed[r], outcome.utilities[r]))
    if talks.record:
        checks = {
            name: talks.record[name].matches(issues[name]["agreed"], issues[name]["value"])
            for name in talks.record
        }
        summary["record"] = {"matches": all(checks.values()), "issues": checks}
    return summary


def expand_divisions(summary: dict[str, Any]) -> dict[str, Any]:
    """A copy of `summary` with each division's shares as issues of their own, as the trace has them."""
    issues: dict[str, Any] = {}
    meta = dict(summary["issues_meta"])
    for name, issue in summary["issues"].items():
        if not isinstance(issue["value"], dict) and not (issue["value"] is None and name not in meta):
            issues[name] = issue
            continue
        for who in (issue["value"] or {}) or [a for a in summary["actors"]]:
            share = None if issue["value"] is None else issue["value"][who]
            issues[f"{name}.{who}"] = {**issue, "value": share, "meaning": ""}
            meta[f"{name}.{who}"] = {
                "low": f"nothing for {who}",
                "high": f"all of it for {who}",
                "description": "",
            }
    return {**summary, "issues": issues, "issues_meta": meta}


def trace_frame(model: NegotiationModel) -> pd.DataFrame:
    """The tidy trace: one row per step, actor, issue and quantity (with `seed` for a batch)."""
    collector = model.datacollector
    if collector is None or not collector.model_vars.get("active"):
        return pd.DataFrame(columns=TRACE_COLUMNS)
    data = {name: np.array(values) for name, values in collector.model_vars.items()}
    talks = model.negotiation
    steps = np.arange(1, len(data["active"]) + 1)
    active = data["active"]
    offer = data["offer"]
    open_before = ~np.isnan(offer)
    actors = np.array([*talks.actors, TABLE])
    issues = np.array(talks.issue_names)
    signatories = np.array([g.index for g in model.guarantors])
    present = np.array([actor.present for actor in model.actors])
    parts: dict[str, list[np.ndarray]] = {column: [] for column in ("seed", "step", *TRACE_COLUMNS[1:])}

    def add(quantity: str, mask: np.ndarray, actor: np.ndarray, issue: np.ndarray, value: np.ndarray) -> None:
        mask = np.broadcast_to(mask, value.shape)
        where = np.nonzero(mask)
        count = len(where[0])
        parts["seed"].append(model.seeds[where[1]])
        parts["step"].append(steps[where[0]])
        parts["actor"].append(actor[where] if actor.ndim == mask.ndim else np.repeat(actor, count))
        parts["issue"].append(issue[where] if issue.ndim == mask.ndim else np.repeat(issue, count))
        parts["quantity"].append(np.repeat(quantity, count))
        parts["value"].append(value[where].astype(float))

    shape = offer.shape
    add(
        "offer",
        active[:, :, None] & open_before,
        np.broadcast_to(actors[data["proposer"]][:, :, None], shape),
        np.broadcast_to(issues, shape),
        offer,
    )
    positions = np.broadcast_to(data["position"][:, None], (*shape[:2], *data["position"].shape[1:]))
    cells = positions.shape
    add(
        "position",
        active[:, :, None, None] & open_before[:, :, None, :] & present[None, None, :, None],
        np.broadcast_to(actors[:-1, None], cells),
        np.broadcast_to(issues, cells),
        positions,
    )
    accept = data["accept"]
    if accept.size:
        add(
            "accept",
            active[:, :, None, None] & open_before[:, :, None, :],
            np.broadcast_to(actors[signatories][:, None], accept.shape),
            np.broadcast_to(issues, accept.shape),
            accept.astype(float),
        )
    taus = steps / model.max_steps
    aspiration = np.stack([actor.aspiration(taus) for actor in model.actors], axis=1)
    per_actor = (len(steps), model.n_replications, talks.n_actors)
    text = data["text"]
    adopted = data["adopted"] & ~np.isnan(text)
    utility = np.stack([actor.utility(np.nan_to_num(text), adopted) for actor in model.actors], axis=2)
    actor_mask = active[:, :, None] & present[None, None, :]
    add(
        "aspiration",
        actor_mask,
        np.broadcast_to(actors[:-1], per_actor),
        np.array(ACTOR_LEVEL),
        np.broadcast_to(aspiration[:, None, :], per_actor),
    )
    add("utility", actor_mask, np.broadcast_to(actors[:-1], per_actor), np.array(ACTOR_LEVEL), utility)

    rows = {name: np.concatenate(values) for name, values in parts.items()}
    order = np.lexsort((rows["step"], rows["seed"]))
    kept = TRACE_COLUMNS if model.n_replications == 1 else ["seed", *TRACE_COLUMNS]
    return pd.DataFrame({name: rows[name][order] for name in kept})


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()
"""The process's file-creation mask, so that atomically written files get the usual permissions."""


def write_atomically(path: Path, write: Any) -> None:
    """Write through a temporary file in the same folder, then rename: readers never see half a file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", newline="") as stream:
            write(stream)
        os.chmod(temporary, 0o666 & ~_UMASK)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    write_atomically(path, lambda stream: json.dump(data, stream, indent=2))


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    write_atomically(path, lambda stream: frame.to_csv(stream, index=False, float_format="%.6g"))


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
            f"{actor:<{actor_width}} {info['role']:<10} {utility:>7.3f} {info['reservation']:>7.3f}  "
            f"{'; '.join(note)}".rstrip()
        )
    if "record" in summary:
        verdict = "matches" if summary["record"]["matches"] else "does not match"
        lines.append("")
        lines.append(f"The outcome {verdict} the historical record.")
    return "\n".join(lines)
