"""Readers for published negotiation tables: actors' positions, saliences and capabilities.

`read_table(path)` tells the format from the file's content and returns a `Table`. Four formats:

- **decide**: the input files of the decide exchange model (Stokman; repository
  foarsitter/decide-exchange-model): tab-separated `#A` actor, `#P` issue, `#M` scale point and
  `#D` actor-issue rows, strings in single quotes.
- **ktab**: KAPSARC's KTAB SMP scenario CSV (repository KAPSARC/KTAB): a title line with the
  numbers of actors and dimensions, a header, one row per actor; every row ends with a comma.
- **bdm**: the actor table `Actor,Capability,Position,Salience` used to replicate Bueno de
  Mesquita's expected-utility model (Scholz, Calbert & Smith 2011); one issue on a 1-10 scale.
- **deu3**: DEU III, Decision-making in the European Union (Arregui & Perarnaud 2021), as
  prepared in repository blksv/predictioneers_game: tab-separated, a header, a capability (GDP)
  row, then one row per issue with positions, saliences, reference point and outcome.

Every value stays on its source's scale except salience, which is put on [0, 1]. A file that
cannot be read raises `UserError` with one line naming the file, the line and the fault.
"""

from __future__ import annotations

import csv
import errno
import math
import os
import stat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np

from sim.core.checks import MAX_MAGNITUDE
from sim.errors import UserError

FORMATS = ("decide", "ktab", "bdm", "deu3")

SUPPORTED_FORMATS = (
    "decide (#A/#P/#D rows), KTAB SMP CSV, BDM actor table (Actor,Capability,Position,Salience), "
    "DEU III (tab-separated, prnrnmc … out)"
)

DECIDE_ROW_TYPES = ("#A", "#P", "#M", "#D")
DECIDE_IGNORED_ROW_TYPES = ("#/", "#O")
"""Comment rows and free issue descriptions, which carry no data."""

CAPABILITY_RANGE = (0.0, MAX_MAGNITUDE)
"""A table's capabilities: at most `MAX_MAGNITUDE`, so that their total stays finite."""

BDM_HEADER = ("actor", "capability", "position", "salience")
BDM_SCALE = (1.0, 10.0)
PERCENT_SCALE = (0.0, 100.0)

DEU3_METADATA = (
    "prnrnmc",
    "isnrnmc",
    "prnr",
    "prname",
    "isnr",
    "type",
    "council",
    "proc",
    "counvte",
    "proccde",
    "issues",
    "intro",
    "finact",
    "rp",
    "out",
)
DEU3_ACTOR_NAMES = {
    "com": "European Commission",
    "ep": "European Parliament",
    "at": "Austria",
    "be": "Belgium",
    "bu": "Bulgaria",
    "cr": "Croatia",
    "cy": "Cyprus",
    "cz": "Czech Republic",
    "dk": "Denmark",
    "ee": "Estonia",
    "fi": "Finland",
    "fr": "France",
    "de": "Germany",
    "el": "Greece",
    "hu": "Hungary",
    "ie": "Ireland",
    "it": "Italy",
    "lv": "Latvia",
    "lt": "Lithuania",
    "lu": "Luxembourg",
    "mt": "Malta",
    "nl": "Netherlands",
    "pl": "Poland",
    "pt": "Portugal",
    "ro": "Romania",
    "si": "Slovenia",
    "sk": "Slovakia",
    "es": "Spain",
    "se": "Sweden",
    "uk": "United Kingdom",
}


@dataclass(frozen=True, eq=False)
class Table:
    """One published negotiation: actors (rows) by issues (columns), on the source's scales.

    An actor with no position on an issue is absent from it: NaN position and NaN salience.
    A present actor may still have a NaN salience where the source leaves it blank (DEU III);
    models that weight by salience should give such an actor no weight.
    """

    name: str
    """The file's stem."""
    format: str
    """One of `FORMATS`."""
    title: str
    """The source's scenario name (KTAB title row), else the file's stem."""
    actors: tuple[str, ...]
    """The keys the source uses for actors (decide and KTAB keys, BDM names, DEU III codes)."""
    display_names: tuple[str, ...]
    """Full actor names (decide `#A` name, KTAB description, DEU III country), else the key."""
    issues: tuple[str, ...]
    positions: np.ndarray
    """Shape (actors, issues), on each issue's source `scale`; NaN where the actor is absent."""
    salience: np.ndarray
    """Shape (actors, issues), on [0, 1]; NaN where absent or not given."""
    capability: np.ndarray
    """Shape (actors,), in the source's units: decide power, KTAB influence (0-100), BDM share,
    DEU III GDP. NaN where the source gives none."""
    scale: tuple[tuple[float, float], ...]
    """Per issue, the source's (low, high) ends."""
    marks: tuple[Mapping[float, str], ...]
    """Per issue, labelled points on the source scale (decide `#M` rows with a label)."""
    outcome: np.ndarray
    """Shape (issues,): the decision taken, on the source scale; NaN when unknown."""
    reference: np.ndarray
    """Shape (issues,): the reference point (status quo), on the source scale; NaN when unknown."""
    voting_rule: tuple[str | None, ...]
    """Per issue, "QMV" or "Unan" (DEU III); None when the source does not say."""
    description: tuple[str | None, ...]
    """Per issue, the source's name for it; None when it gives none."""

    def __post_init__(self) -> None:
        shape = (len(self.actors), len(self.issues))
        expected = {
            "positions": shape,
            "salience": shape,
            "capability": shape[:1],
            "outcome": shape[1:],
            "reference": shape[1:],
        }
        for field_name, field_shape in expected.items():
            array = getattr(self, field_name)
            if array.shape != field_shape:
                raise ValueError(f"Table.{field_name} has shape {array.shape}, expected {field_shape}")
            array.setflags(write=False)

    @property
    def present(self) -> np.ndarray:
        """Shape (actors, issues): True where the actor has a position on the issue."""
        return ~np.isnan(self.positions)

    def unit_positions(self) -> np.ndarray:
        """Positions rescaled to [0, 1] per issue: (x - low) / (high - low); NaN stays NaN."""
        low, high = np.array(self.scale, dtype=float).T
        return (self.positions - low) / (high - low)

    def to_source(self, issue_index: int, value: float | np.ndarray) -> float | np.ndarray:
        """Map a value on [0, 1] back to issue `issue_index`'s source scale."""
        low, high = self.scale[issue_index]
        return low + value * (high - low)


def check_file(path: Path, hint: str = "") -> None:
    """A table's path names a readable file: not missing, not a folder, not a link that loops or
    points nowhere (raises UserError; `hint` follows a missing file's message)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            raise UserError(
                f"{path} is a link to {os.readlink(path)}, which does not exist: point it at the table"
            ) from None
        raise UserError(f"no such file: {path}{hint}") from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise UserError(
                f"{path}: its symbolic links loop (too many levels): point the link at the table itself"
            ) from None
        raise UserError(f"{path}: cannot read it ({error.strerror}): check the path") from None
    if not stat.S_ISREG(info.st_mode):
        raise UserError(f"not a file: {path}: give the path of a table file")


def read_table(path: str | Path) -> Table:
    """Read a negotiation table, telling its format (decide, KTAB, BDM, DEU III) from its content."""
    path = Path(path)
    check_file(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise UserError(f"{path}: cannot read it ({error.strerror}): check its permissions") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise UserError(
            f"{path} line {line}: byte 0x{raw[error.start]:02x} is not UTF-8 text: save the file as UTF-8"
        ) from None
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise UserError(f"{path}: the file is empty")
    readers = {"decide": _read_decide, "ktab": _read_ktab, "bdm": _read_bdm, "deu3": _read_deu3}
    file_format = _detect_format(lines)
    if file_format is None:
        raise UserError(f"{path}: cannot tell the format from the content; supported: {SUPPORTED_FORMATS}")
    return readers[file_format](path, lines)


def _detect_format(lines: Sequence[str]) -> str | None:
    content = [line for line in lines if line.strip()]
    first_field = content[0].split("\t")[0].strip().strip("'\"")
    if first_field in DECIDE_ROW_TYPES + DECIDE_IGNORED_ROW_TYPES:
        return "decide"
    tab_header = [field.strip().strip('"') for field in content[0].split("\t")]
    if "prnrnmc" in tab_header:
        return "deu3"
    if tuple(field.strip().lower() for field in content[0].split(",")[:4]) == BDM_HEADER:
        return "bdm"
    if len(content) > 1 and [f.strip().lower() for f in content[1].split(",")[:3]] == [
        "actor",
        "description",
        "influence",
    ]:
        return "ktab"
    return None


def _read_decide(path: Path, lines: Sequence[str]) -> Table:
    """decide exchange-model input: `#A key name comment`, `#P key name comment`,
    `#M issue value [label]`, `#D actor issue position salience power`.

    An issue's scale runs from its lowest to its highest `#M` value, or 0-100 without `#M` rows.
    Power is read as the actor's capability, so it must be the same on all of an actor's rows;
    an actor with no `#D` row has NaN capability.
    """
    actors: dict[str, str] = {}
    issues: dict[str, str] = {}
    points: dict[str, list[tuple[int, float, str]]] = {}
    stakes: list[tuple[int, list[str]]] = []
    for number, fields in _rows(path, lines, "\t", "'"):
        kind = fields[0]
        where = f"{path} line {number}"
        if kind in DECIDE_IGNORED_ROW_TYPES:
            continue
        if kind in ("#A", "#P"):
            if len(fields) < 2 or not fields[1]:
                raise UserError(f"{where}: '{kind}' row has no key, expected '{kind}', key, name, comment")
            target = actors if kind == "#A" else issues
            if fields[1] in target:
                raise UserError(f"{where}: '{kind}' key '{fields[1]}' is given twice")
            target[fields[1]] = fields[2] if len(fields) > 2 and fields[2] else fields[1]
        elif kind == "#M":
            if len(fields) < 3:
                raise UserError(
                    f"{where}: '#M' row has {len(fields)} fields, expected 3 or 4 ('#M', issue, value, label)"
                )
            value = _number(fields[2], "scale point", where, (-MAX_MAGNITUDE, MAX_MAGNITUDE))
            points.setdefault(fields[1], []).append((number, value, " ".join(fields[3:]).strip()))
        elif kind == "#D":
            if len(fields) not in (6, 7):
                raise UserError(
                    f"{where}: '#D' row has {len(fields)} fields, expected 6 "
                    "('#D', actor, issue, position, salience, power)"
                )
            stakes.append((number, fields))
        else:
            known = ", ".join(DECIDE_ROW_TYPES)
            raise UserError(f"{where}: unknown row type '{kind}', expected one of {known}")
    if not actors or not issues:
        absent = "#P" if actors else "#A"
        raise UserError(f"{path}: no '{absent}' rows: a decide file lists its actors and issues")

    scale: dict[str, tuple[float, float]] = {}
    for issue, issue_points in points.items():
        first_line = issue_points[0][0]
        if issue not in issues:
            raise UserError(f"{path} line {first_line}: '#M' row names unknown issue '{issue}'")
        values = [value for _, value, _ in issue_points]
        if min(values) == max(values):
            raise UserError(
                f"{path} line {first_line}: issue '{issue}' has '#M' points only at "
                f"{values[0]:g}; a scale needs two different points"
            )
        scale[issue] = (min(values), max(values))
    actor_keys, issue_keys = list(actors), list(issues)
    positions = np.full((len(actors), len(issues)), np.nan)
    salience = np.full_like(positions, np.nan)
    capability = np.full(len(actors), np.nan)
    power_line: dict[str, int] = {}
    for number, (_, actor, issue, position_text, salience_text, power_text, *_) in stakes:
        where = f"{path} line {number}"
        if actor not in actors:
            raise UserError(f"{where}: '#D' row names unknown actor '{actor}': no '#A' row has that key")
        if issue not in issues:
            raise UserError(f"{where}: '#D' row names unknown issue '{issue}': no '#P' row has that key")
        row, column = actor_keys.index(actor), issue_keys.index(issue)
        if not np.isnan(positions[row, column]):
            raise UserError(f"{where}: actor '{actor}' has a second '#D' row for issue '{issue}'")
        positions[row, column] = _number(position_text, "position", where, scale.get(issue, PERCENT_SCALE))
        salience[row, column] = _number(salience_text, "salience", where, (0.0, 1.0))
        power = _number(power_text, "power", where, (0.0, 1.0))
        if actor in power_line and power != capability[row]:
            raise UserError(
                f"{where}: power {power:g} of actor '{actor}' differs from "
                f"{capability[row]:g} on line {power_line[actor]}: give each actor one power"
            )
        capability[row], power_line[actor] = power, number
    labelled = [
        MappingProxyType({value: label for _, value, label in points.get(issue, []) if label})
        for issue in issue_keys
    ]
    return _table(
        path,
        "decide",
        actor_keys,
        issue_keys,
        positions,
        salience,
        capability,
        scale=[scale.get(issue, PERCENT_SCALE) for issue in issue_keys],
        display_names=list(actors.values()),
        marks=labelled,
        description=list(issues.values()),
    )


def _read_ktab(path: Path, lines: Sequence[str]) -> Table:
    """KTAB SMP scenario CSV: `name, description, actors, dimensions`, then
    `Actor, Description, Influence, <dim> Position, <dim> Salience, ...`, then one row per actor.

    Influence (capability), positions and saliences run 0-100; saliences are divided by 100.
    """
    (title_line, title), (header_line, header), *body = _rows(path, lines, ",", '"')
    if len(title) < 3:
        raise UserError(
            f"{path} line {title_line}: KTAB title row has {len(title)} fields, expected "
            "scenario name, description, number of actors, number of dimensions"
        )
    n_actors = _count(title[-2], "number of actors", f"{path} line {title_line}")
    n_dimensions = _count(title[-1], "number of dimensions", f"{path} line {title_line}")
    width = 3 + 2 * n_dimensions
    expected = (
        f"expected {width} (actor, description, influence, then position and salience "
        f"for each of {n_dimensions} dimensions)"
    )
    if len(header) != width:
        raise UserError(f"{path} line {header_line}: KTAB header has {len(header)} fields, {expected}")
    if len(body) != n_actors:
        raise UserError(f"{path} line {title_line}: says {n_actors} actors but {len(body)} actor rows follow")
    positions = np.empty((n_actors, n_dimensions))
    salience = np.empty_like(positions)
    capability = np.empty(n_actors)
    for row, (number, fields) in enumerate(body):
        where = f"{path} line {number}"
        if len(fields) != width:
            raise UserError(f"{where}: KTAB row has {len(fields)} fields, {expected}")
        _actor_key(fields[0], "KTAB", where)
        capability[row] = _number(fields[2], "influence", where, CAPABILITY_RANGE)
        positions[row] = [_number(text, "position", where, PERCENT_SCALE) for text in fields[3::2]]
        salience[row] = [_number(text, "salience", where, PERCENT_SCALE) for text in fields[4::2]]
        if salience[row].sum() > 100.0 + 1e-9:
            raise UserError(f"{where}: saliences sum to {salience[row].sum():g}, more than 100")
    dimensions = [name.removesuffix("Position").strip() for name in header[3::2]]
    return _table(
        path,
        "ktab",
        [fields[0] for _, fields in body],
        dimensions,
        positions,
        salience / 100.0,
        capability,
        scale=[PERCENT_SCALE] * n_dimensions,
        title=title[0],
        display_names=[fields[1] or fields[0] for _, fields in body],
    )


def _read_bdm(path: Path, lines: Sequence[str]) -> Table:
    """BDM actor table `Actor,Capability,Position,Salience` (Scholz, Calbert & Smith 2011):
    one issue named after the file, positions on 1-10, capability a share, salience on [0, 1]."""
    (header_line, header), *body = _rows(path, lines, ",", '"')
    if len(header) != len(BDM_HEADER):
        raise UserError(
            f"{path} line {header_line}: BDM header has {len(header)} fields, expected 4 "
            "(Actor, Capability, Position, Salience)"
        )
    actors, positions, salience, capability = [], [], [], []
    for number, fields in body:
        where = f"{path} line {number}"
        if len(fields) != len(BDM_HEADER):
            raise UserError(
                f"{where}: BDM row has {len(fields)} fields, expected 4 "
                "(Actor, Capability, Position, Salience)"
            )
        actors.append(_actor_key(fields[0], "BDM", where))
        capability.append(_number(fields[1], "capability", where, CAPABILITY_RANGE))
        positions.append([_number(fields[2], "position", where, BDM_SCALE)])
        salience.append([_number(fields[3], "salience", where, (0.0, 1.0))])
    if not actors:
        raise UserError(f"{path}: BDM table has a header but no actor rows")
    return _table(
        path,
        "bdm",
        actors,
        [path.stem],
        np.array(positions),
        np.array(salience),
        np.array(capability),
        scale=[BDM_SCALE],
    )


def _read_deu3(path: Path, lines: Sequence[str]) -> Table:
    """DEU III (Arregui & Perarnaud 2021; blksv/predictioneers_game `deu3.csv`).

    Actors are the position columns `p<code>` that have a salience column `s<code>`: the
    Commission, the Parliament and the member states. Row 2 holds capability (GDP) under each
    position column, the Commission's and the Parliament's included; a blank there gives NaN
    capability, and salience-weighted models then leave that actor out. A blank position makes the
    actor absent from the issue (NaN salience too, whatever the salience column says); a blank
    salience beside a position stays NaN. Saliences are divided by 100. `counvte` variants such as
    "QMV(10)" are read as "QMV".

    Read this way, the compromise model (per issue, the capability x salience weighted mean of
    the positions of the actors with a position and a salience, all 30 actors counted with their
    row-2 capability) misses `out` by 23.87 on average over the 116 issues of `deu3_dev.csv` that
    have one, the published reference. Leaving out the Commission and the Parliament gives 25.75.
    """
    (header_line, header), *rows = _rows(path, lines, "\t", '"')
    missing = [column for column in ("isnr", "prname", "counvte", "rp", "out") if column not in header]
    if missing:
        raise UserError(
            f"{path} line {header_line}: DEU III header has no column '{missing[0]}': add it "
            "(its cells may be blank where the source gives nothing)"
        )
    codes = [
        column[1:]
        for column in header
        if column.startswith("p") and column not in DEU3_METADATA and f"s{column[1:]}" in header
    ]
    records = []
    for number, fields in rows:
        if len(fields) != len(header):
            raise UserError(
                f"{path} line {number}: row has {len(fields)} fields, expected {len(header)} as in the header"
            )
        records.append((f"{path} line {number}", dict(zip(header, fields, strict=True))))
    if not records or records[0][1]["isnr"]:
        raise UserError(
            f"{path} line {header_line + 1}: expected the capability row (blank isnr, GDP "
            "under each position column)"
        )
    (capability_where, capability_row), *issue_records = records
    if not issue_records:
        raise UserError(f"{path}: DEU III table has no issue rows")
    capability = np.array(
        [
            _optional_number(
                capability_row[f"p{code}"], f"capability (p{code})", capability_where, CAPABILITY_RANGE
            )
            for code in codes
        ]
    )
    positions = np.array(
        [
            [_percent(record, f"p{code}", "position", where) for code in codes]
            for where, record in issue_records
        ]
    ).T
    salience = np.array(
        [
            [_percent(record, f"s{code}", "salience", where) for code in codes]
            for where, record in issue_records
        ]
    ).T
    salience[np.isnan(positions)] = np.nan
    issues = []
    for where, record in issue_records:
        if not record["isnr"]:
            raise UserError(f"{where}: issue row has a blank 'isnr'")
        issues.append(record["isnr"])
    return _table(
        path,
        "deu3",
        codes,
        issues,
        positions,
        salience / 100.0,
        capability,
        scale=[PERCENT_SCALE] * len(issues),
        display_names=[DEU3_ACTOR_NAMES.get(code, code) for code in codes],
        outcome=np.array([_percent(record, "out", "outcome", where) for where, record in issue_records]),
        reference=np.array(
            [_percent(record, "rp", "reference point", where) for where, record in issue_records]
        ),
        voting_rule=[_voting_rule(record["counvte"]) for _, record in issue_records],
        description=[
            f"{record['prname']} ({record['isnr']})" if record["prname"] else None
            for _, record in issue_records
        ],
    )


def _percent(record: Mapping[str, str], column: str, what: str, where: str) -> float:
    """A DEU III value on 0-100 from `column`, NaN when blank."""
    return _optional_number(record[column], f"{what} ({column})", where, PERCENT_SCALE)


def _voting_rule(text: str) -> str | None:
    return "QMV" if text.startswith("QMV") else text or None


def _table(
    path: Path,
    file_format: str,
    actors: Sequence[str],
    issues: Sequence[str],
    positions: np.ndarray,
    salience: np.ndarray,
    capability: np.ndarray,
    *,
    scale: Sequence[tuple[float, float]],
    title: str | None = None,
    display_names: Sequence[str] | None = None,
    marks: Sequence[Mapping[float, str]] | None = None,
    outcome: np.ndarray | None = None,
    reference: np.ndarray | None = None,
    voting_rule: Sequence[str | None] | None = None,
    description: Sequence[str | None] | None = None,
) -> Table:
    n_issues = len(issues)
    for kind, keys in (("actor", actors), ("issue", issues)):
        repeated = sorted({key for key in keys if list(keys).count(key) > 1})
        if repeated:
            raise UserError(f"{path}: {kind} '{repeated[0]}' appears twice: give each {kind} one row")
    if not (np.nan_to_num(salience) > 0).any():
        raise UserError(
            f"{path}: every salience is 0 or blank: give the actors' saliences (with none, every "
            "actor ignores every text)"
        )
    return Table(
        name=path.stem,
        format=file_format,
        title=title or path.stem,
        actors=tuple(actors),
        display_names=tuple(display_names or actors),
        issues=tuple(issues),
        positions=np.asarray(positions, dtype=float),
        salience=np.asarray(salience, dtype=float),
        capability=np.asarray(capability, dtype=float),
        scale=tuple((float(low), float(high)) for low, high in scale),
        marks=tuple(marks or [MappingProxyType({})] * n_issues),
        outcome=np.full(n_issues, np.nan) if outcome is None else outcome,
        reference=np.full(n_issues, np.nan) if reference is None else reference,
        voting_rule=tuple(voting_rule or [None] * n_issues),
        description=tuple(description or [None] * n_issues),
    )


def _rows(path: Path, lines: Sequence[str], delimiter: str, quote: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, stripped fields) for each non-blank line, dropping the one empty field
    that a trailing delimiter leaves."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            fields = [
                field.strip()
                for field in next(csv.reader([line], delimiter=delimiter, quotechar=quote, strict=True))
            ]
        except csv.Error as error:
            raise UserError(f"{path} line {number}: cannot split the row: {error}") from None
        if len(fields) > 1 and not fields[-1] and delimiter == ",":
            fields.pop()
        yield number, fields


def _number(text: str, what: str, where: str, bounds: tuple[float, float] | None = None) -> float:
    """Parse a finite number, within `bounds` if given; `where` is "<file> line <n>"."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise UserError(f"{where}: {what} is {text!r}, not a number")
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        raise UserError(f"{where}: {what} is {value:g}, outside [{bounds[0]:g}, {bounds[1]:g}]")
    return value


def _optional_number(text: str, what: str, where: str, bounds: tuple[float, float] | None = None) -> float:
    """Like `_number`, but a blank field is NaN."""
    return math.nan if not text else _number(text, what, where, bounds)


def _actor_key(text: str, source: str, where: str) -> str:
    """An actor's key from the first field of a row (raises UserError when it is blank)."""
    if not text:
        raise UserError(f"{where}: {source} row has no actor name in its first field: name the actor")
    return text


def _count(text: str, what: str, where: str) -> int:
    value = _number(text, what, where, (1.0, math.inf))
    if value != int(value):
        raise UserError(f"{where}: {what} is {text!r}, not a whole number")
    return int(value)
