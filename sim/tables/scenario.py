"""A published negotiation table (`sim.tables.readers`: decide, KTAB, BDM, DEU III) as a `Scenario`.

The tables give positions, saliences and capabilities; they do not say who signs, what no
agreement is worth, or how fast anyone concedes. `TableOptions` supplies that (scenario `table`,
`conf/scenario/table.yaml`), the same for every actor:

- signatories, the veto players (role `signatory`): every actor by default, as under the
  consensus rule of the UN climate talks the decide tables describe; N for the N most capable
  (ties in table order); or a list of actor keys. The others are observers;
- reservation utility (0 by default: any agreement beats none) and concession exponent (1).

From the table:

- positions are rescaled to [0, 1] per issue (`Table.unit_positions`); an issue's ends are
  labelled with the source's `#M` labels (decide) or their numbers ("0", "100"), its labelled
  inner points become marks, and a known reference point (DEU III `rp`) is marked as the
  status quo;
- an actor absent from an issue, or with no salience there, has stated salience 0 on it and
  the issue's capability-and-salience-weighted mean position as its ideal point, so that it
  pulls no mean and accepts any text;
- capabilities are divided by their sum; an actor with no capability, or with no position on
  any issue, stays away (`present` false);
- stated saliences are kept as the source gives them (on [0, 1]) for weighting means across
  actors; each actor's utility uses them normalised to sum to 1 (`Scenario.salience`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.core.build import linked_issues, utility_exponent
from sim.core.checks import check_values
from sim.core.means import weighted_position
from sim.core.scenario import Column, Role, Scenario
from sim.errors import UserError
from sim.tables.readers import Table, check_file, read_table

FORMAT_NAMES = {"decide": "decide", "ktab": "KTAB SMP", "bdm": "BDM", "deu3": "DEU III"}
STATUS_QUO_LABEL = "the reference point (status quo)"
MARK_TOLERANCE = 1e-9
"""A mark closer than this to an end of the scale labels that end."""


@dataclass(frozen=True)
class TableOptions:
    """What a table does not say, chosen by the scenario configuration."""

    name: str = ""
    """The scenario's name; the table's file stem when empty."""
    signatories: int | Sequence[str] | None = None
    """The veto players: None for every actor, N for the N most capable, or actor keys."""
    reservation: float = 0.0
    concession: float = 1.0
    utility_exponent: int = 1
    source: str = ""
    """Where the table came from: the absolute path of its file."""
    linked: Any = None
    """`scenario.linked`: groups of the table's issues that close together (checked on the table)."""

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any], source: str = "") -> TableOptions:
        """Read and check the options of a scenario configuration (raises UserError)."""
        signatories = cfg.get("signatories")
        if isinstance(signatories, bool) or not (
            signatories is None or isinstance(signatories, int | str | Sequence)
        ):
            raise UserError(
                f"scenario.signatories is {signatories!r}: give null (every actor), a number N "
                "(the N most capable) or a list of actor keys"
            )
        if isinstance(signatories, int) and signatories < 1:
            raise UserError(f"scenario.signatories is {signatories}: give 1 or more")
        if isinstance(signatories, str):
            signatories = [signatories]
        elif isinstance(signatories, Sequence):
            signatories = [str(key) for key in signatories]
        reservation = float(
            check_values(float(cfg.get("reservation", 0.0)), "reservation", "scenario.reservation")
        )
        concession = float(
            check_values(float(cfg.get("concession", 1.0)), "concession", "scenario.concession")
        )
        exponent = utility_exponent(cfg.get("utility_exponent", 1))
        return cls(
            name=str(cfg.get("name") or ""),
            signatories=signatories,
            reservation=reservation,
            concession=concession,
            utility_exponent=exponent,
            source=source,
            linked=cfg.get("linked"),
        )


def table_path(cfg: Mapping[str, Any]) -> Path:
    """The table a scenario configuration names, relative to the working directory (raises UserError)."""
    path = cfg.get("path")
    if not path:
        raise UserError(
            f"scenario '{cfg.get('name') or 'table'}' has no table to import and no issues: set "
            "scenario.path=FILE (decide, KTAB, BDM or DEU III), e.g. "
            "scenario.path=data/decide/copenhagen.csv"
        )
    path = Path(str(path)).expanduser()
    check_file(path, hint=f" (a relative path starts from {Path.cwd()})")
    return path


def scenario_from_config(cfg: Mapping[str, Any]) -> Scenario:
    """Read the table at the configuration's `path` and build its scenario (raises UserError)."""
    path = table_path(cfg)
    table = read_table(path)
    return scenario_from_table(table, TableOptions.from_config(cfg, source=str(path.resolve())))


def scenario_from_table(table: Table, options: TableOptions | None = None) -> Scenario:
    """The scenario of a published table: every actor and issue, positions on [0, 1]."""
    options = options or TableOptions()
    capability = np.nan_to_num(table.capability, nan=0.0)
    present = (capability > 0) & table.present.any(axis=1)
    if not present.any():
        raise UserError(f"table '{table.name}' has no actor with both a capability above 0 and a position")
    capability = np.where(present, capability, 0.0) / capability[present].sum()
    stated = np.where(present[:, None] & table.present, np.nan_to_num(table.salience, nan=0.0), 0.0)
    ideal = _ideal_points(table.unit_positions(), capability[:, None] * stated, present)
    totals = stated.sum(axis=1, keepdims=True)
    salience = np.divide(stated, totals, out=np.zeros_like(stated), where=totals > 0)
    signs = _signatories(table, capability, present, options.signatories)
    n_actors = len(table.actors)
    columns = tuple(_issue(table, k) for k in range(len(table.issues)))
    return Scenario(
        name=options.name or table.name,
        title=f"{table.title} ({FORMAT_NAMES.get(table.format, table.format)} table)",
        columns=columns,
        actors=table.actors,
        display_names=table.display_names,
        roles=tuple(Role.signatory if sign else Role.observer for sign in signs),
        ideal=ideal,
        salience=salience,
        capability=capability,
        reservation=np.full(n_actors, options.reservation),
        concession=np.full(n_actors, options.concession),
        patience=np.full(n_actors, 10),
        client=np.full(n_actors, -1),
        patron_weight=np.zeros(n_actors),
        present=present,
        utility_exponent=options.utility_exponent,
        source=options.source,
        stated_salience=stated,
        linked=linked_issues(options.linked, [column.name for column in columns]),
    )


def select(table: Table, actors: np.ndarray, issues: Sequence[int]) -> Table:
    """The part of `table` with the actors where `actors` is True and the issues `issues`, in order."""
    rows, columns = np.flatnonzero(actors), list(issues)
    return dataclasses.replace(
        table,
        actors=tuple(table.actors[i] for i in rows),
        display_names=tuple(table.display_names[i] for i in rows),
        issues=tuple(table.issues[k] for k in columns),
        positions=table.positions[np.ix_(rows, columns)],
        salience=table.salience[np.ix_(rows, columns)],
        capability=table.capability[rows],
        scale=tuple(table.scale[k] for k in columns),
        marks=tuple(table.marks[k] for k in columns),
        outcome=table.outcome[columns],
        reference=table.reference[columns],
        voting_rule=tuple(table.voting_rule[k] for k in columns),
        description=tuple(table.description[k] for k in columns),
    )


def _ideal_points(unit: np.ndarray, weights: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Positions on [0, 1]; where an actor has none, the issue's weighted mean (else plain mean, else 0.5)."""
    known = ~np.isnan(unit) & present[:, None]
    mean = weighted_position(unit, weights, known)
    return np.where(known, unit, np.where(np.isnan(mean), 0.5, mean)[None, :])


def _signatories(
    table: Table, capability: np.ndarray, present: np.ndarray, chosen: int | Sequence[str] | None
) -> np.ndarray:
    """Which actors sign: every present actor, the N most capable, or the named ones."""
    if chosen is None:
        return present.copy()
    if isinstance(chosen, int):
        order = np.argsort(-capability, kind="stable")[: min(chosen, int(present.sum()))]
        signs = np.zeros(len(table.actors), dtype=bool)
        signs[order] = True
        return signs & present
    unknown = [key for key in chosen if key not in table.actors]
    if unknown:
        raise UserError(
            f"scenario.signatories names '{unknown[0]}', not an actor of '{table.name}': "
            f"choose among {', '.join(table.actors)}"
        )
    signs = np.isin(np.array(table.actors, dtype=object), list(chosen))
    if not (signs & present).any():
        raise UserError(
            f"scenario.signatories names no actor present in '{table.name}' (with a capability and a "
            "position): name at least one"
        )
    return signs & present


def _issue(table: Table, k: int) -> Column:
    """Issue k with its ends and marks labelled from the source, on the unit scale."""
    low, high = table.scale[k]
    labels = {0.0: f"{low:g}", 1.0: f"{high:g}"}
    marks: dict[float, str] = {}
    points = dict(table.marks[k])
    if not np.isnan(table.reference[k]):
        reference = float(table.reference[k])
        points[reference] = (
            f"{points[reference]}, {STATUS_QUO_LABEL}" if reference in points else STATUS_QUO_LABEL
        )
    for value, label in points.items():
        at = (value - low) / (high - low)
        end = next((end for end in labels if abs(at - end) <= MARK_TOLERANCE), None)
        if end is not None:
            labels[end] = f"{labels[end]}: {label}" if label else labels[end]
        else:
            marks[float(at)] = label
    return Column(
        name=table.issues[k],
        low=labels[0.0],
        high=labels[1.0],
        description=table.description[k] or "",
        scale=(low, high),
        marks=marks,
    )
