"""The record of a series of rounds: who attended, what was on the agenda, what was agreed.

Reads the format of `data/astana/rounds_1_7.csv` (its README describes the columns): one row per
round and issue, `attendance` rows naming who came (`parties_for`) and who boycotted, walked out
or was excluded (`parties_against`), and issue rows whose `agreed` is `yes` (1), `no` (0) or
`partial` (0.5). Party codes are separated by `;` outside parentheses, each possibly followed by a
note in parentheses. A malformed file ends with one line naming the file, the line and the fix.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sim.errors import UserError

COLUMNS = (
    "round",
    "start_date",
    "end_date",
    "issue",
    "outcome",
    "agreed",
    "parties_for",
    "parties_against",
    "source",
)
ATTENDANCE = "attendance"
OUTCOMES = {"yes": 1.0, "no": 0.0, "partial": 0.5}
"""The recorded outcome as a number: what a forecast of agreement is scored against (Brier)."""
ISSUE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Party:
    """One code of `parties_for` or `parties_against`, with its note (`US(ambassador as observer)`)."""

    code: str
    note: str = ""


@dataclass(frozen=True)
class Round:
    """One round of the record: its dates, attendance, agenda and outcomes (0, 0.5 or 1 per issue)."""

    number: int
    start: str
    end: str
    attended: tuple[Party, ...] = ()
    """Who attended (`parties_for` of the attendance row); empty when the record has no such row."""
    away: tuple[Party, ...] = ()
    """Who boycotted, walked out or was excluded (`parties_against` of the attendance row)."""
    outcomes: Mapping[str, float] = field(default_factory=dict)
    """Each issue on the agenda and its recorded outcome, in the record's order."""
    has_attendance: bool = False

    @property
    def agenda(self) -> tuple[str, ...]:
        return tuple(self.outcomes)

    def present(self) -> set[str]:
        """The codes of those at the table: attended and not away (a walk-out counts as away)."""
        away = {party.code for party in self.away}
        return {party.code for party in self.attended} - away


@dataclass(frozen=True)
class SeriesRecord:
    """The rounds of a record, in order, and the party codes it uses."""

    path: str
    rounds: Mapping[int, Round]

    @property
    def numbers(self) -> list[int]:
        return sorted(self.rounds)

    def codes(self) -> set[str]:
        return {
            party.code for r in self.rounds.values() for parties in (r.attended, r.away) for party in parties
        }

    def unknown_codes(self, known: Iterable[str]) -> list[str]:
        """The codes the record uses that `known` does not map (accepted, and reported)."""
        return sorted(self.codes() - set(known))

    def issues(self) -> list[str]:
        """Every issue the record names, in order of first appearance."""
        return list(dict.fromkeys(issue for n in self.numbers for issue in self.rounds[n].outcomes))

    def before(self, number: int) -> list[Round]:
        """The rounds before round `number`, in order: all a forecast of that round may use."""
        return [self.rounds[n] for n in self.numbers if n < number]


def split_parties(text: str) -> tuple[Party, ...]:
    """`RU;TR;SYGOV(supports; not signatory)` -> parties, splitting on `;` outside parentheses."""
    parties, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        if char == ";" and depth == 0:
            parties.append(current)
            current = ""
        else:
            current += char
    parties.append(current)
    out = []
    for item in parties:
        item = item.strip()
        if not item:
            continue
        code, _, note = item.partition("(")
        out.append(Party(code.strip(), note.rstrip(")").strip()))
    return tuple(out)


def read_record(path: str | Path) -> SeriesRecord:
    """Read a record of rounds (raises UserError naming the file and line of a malformed row)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"series record '{path}' does not exist: give the path of a rounds CSV file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: cannot be read as UTF-8 text ({error}): give a rounds CSV file") from None
    rows = csv.reader(text.splitlines())
    header = next(rows, None)
    if header is None or [h.strip() for h in header] != list(COLUMNS):
        raise UserError(f"{path}:1: the header must be {','.join(COLUMNS)}: fix the file's first line")
    rounds: dict[int, dict] = {}
    seen: set[tuple[int, str]] = set()
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        where = f"{path}:{line}"
        if len(row) != len(COLUMNS):
            raise UserError(
                f"{where}: {len(row)} fields, expected {len(COLUMNS)}: quote any field holding a comma"
            )
        cells = dict(zip(COLUMNS, (cell.strip() for cell in row), strict=True))
        try:
            number = int(cells["round"])
        except ValueError:
            raise UserError(f"{where}: round is '{cells['round']}': give a whole number") from None
        if number < 1:
            raise UserError(f"{where}: round is {number}: give a whole number, 1 or more")
        issue = cells["issue"]
        if not ISSUE_NAME.match(issue):
            raise UserError(f"{where}: issue is '{issue}': give a name in lower case, such as detainees")
        if (number, issue) in seen:
            raise UserError(f"{where}: round {number} has a second '{issue}' row: keep one row per issue")
        seen.add((number, issue))
        entry = rounds.setdefault(
            number, {"start": cells["start_date"], "end": cells["end_date"], "outcomes": {}}
        )
        agreed = cells["agreed"].lower()
        if issue == ATTENDANCE:
            if agreed not in ("n/a", ""):
                raise UserError(f"{where}: an attendance row has agreed '{cells['agreed']}': write n/a")
            entry["attended"] = split_parties(cells["parties_for"])
            entry["away"] = split_parties(cells["parties_against"])
            continue
        if agreed not in OUTCOMES:
            raise UserError(f"{where}: agreed is '{cells['agreed']}': write yes, no or partial")
        entry["outcomes"][issue] = OUTCOMES[agreed]
    if not rounds:
        raise UserError(f"{path}: the record holds no rounds: add rows under the header")
    return SeriesRecord(
        str(path),
        {
            n: Round(
                n,
                e["start"],
                e["end"],
                e.get("attended", ()),
                e.get("away", ()),
                e["outcomes"],
                "attended" in e,
            )
            for n, e in sorted(rounds.items())
        },
    )


def forecast_view(record: SeriesRecord, number: int) -> tuple[list[Round], Round | None]:
    """What a forecast of round `number` may see: the rounds before it, and round `number`'s
    attendance and agenda with its outcomes erased (None when the record has no row for it)."""
    target = record.rounds.get(number)
    if target is None:
        return record.before(number), None
    blind = Round(
        target.number,
        target.start,
        target.end,
        target.attended,
        target.away,
        dict.fromkeys(target.outcomes, float("nan")),
        target.has_attendance,
    )
    return record.before(number), blind
