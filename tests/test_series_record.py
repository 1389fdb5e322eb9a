"""The record of rounds: reading it, its one-line errors, and what a forecast may see of it."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from sim.errors import UserError
from sim.series.record import Party, forecast_view, read_record, split_parties

RECORD = Path(__file__).resolve().parents[1] / "data" / "astana" / "rounds_1_7.csv"
HEADER = "round,start_date,end_date,issue,outcome,agreed,parties_for,parties_against,source\n"


def test_the_record_of_rounds_1_to_7_reads_round_by_round():
    record = read_record(RECORD)
    assert record.numbers == [1, 2, 3, 4, 5, 6, 7]
    assert record.rounds[1].agenda == ("ceasefire_monitoring", "humanitarian", "political_process")
    assert record.rounds[5].outcomes == {
        "de_escalation_zones": 0.0,
        "ceasefire_monitoring": 0.5,
        "demining": 0.0,
    }
    assert record.rounds[7].outcomes["political_process"] == 1.0
    assert set(record.issues()) == {
        "ceasefire_monitoring",
        "humanitarian",
        "political_process",
        "detainees",
        "demining",
        "de_escalation_zones",
    }


def test_attendance_counts_boycotts_and_walk_outs_as_away():
    record = read_record(RECORD)
    assert "SYOPP" not in record.rounds[3].present()  # boycott
    assert "SYOPP" not in record.rounds[4].present()  # attended in part, walked out
    assert "SYOPP" in record.rounds[5].present()
    assert "JO" not in record.rounds[1].present() and "JO" in record.rounds[3].present()
    assert "US" in record.rounds[1].present()  # US(ambassador as observer)


def test_codes_split_on_semicolons_outside_parentheses_only():
    parties = split_parties("RU;TR;IR;SYGOV(supports; not signatory);US(embassy as observer)")
    assert parties == (
        Party("RU"),
        Party("TR"),
        Party("IR"),
        Party("SYGOV", "supports; not signatory"),
        Party("US", "embassy as observer"),
    )


def test_unknown_party_codes_are_accepted_and_reported(tmp_path):
    path = tmp_path / "rounds.csv"
    path.write_text(
        HEADER
        + '8,2017-12-21,2017-12-22,attendance,"came",n/a,RU;TR;IR;IQ;LB;UNHCR,PYD/SDF,http://x\n'
        + '8,2017-12-21,2017-12-22,constitutional_committee,"talks",partial,RU,,http://x\n'
    )
    record = read_record(path)
    assert record.unknown_codes({"RU": "russia", "TR": "turkey", "IR": "iran"}) == [
        "IQ",
        "LB",
        "PYD/SDF",
        "UNHCR",
    ]
    assert record.rounds[8].outcomes == {"constitutional_committee": 0.5}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "1,2017-01-23,2017-01-24,detainees,text,maybe,RU,,http://x\n",
            ":2: agreed is 'maybe': write yes, no or partial",
        ),
        (
            "one,2017-01-23,2017-01-24,detainees,text,yes,RU,,http://x\n",
            ":2: round is 'one': give a whole number",
        ),
        ("1,2017-01-23,2017-01-24,detainees,text,yes,RU\n", ":2: 7 fields, expected 9"),
        ("1,2017-01-23,2017-01-24,Detainees!,text,yes,RU,,http://x\n", ":2: issue is 'Detainees!'"),
        (
            "1,a,b,detainees,t,yes,RU,,x\n1,a,b,detainees,t,no,RU,,x\n",
            ":3: round 1 has a second 'detainees' row",
        ),
        ("1,a,b,attendance,t,yes,RU,,x\n", ":2: an attendance row has agreed 'yes': write n/a"),
    ],
)
def test_a_malformed_record_ends_in_one_line_naming_file_and_line(tmp_path, body, expected):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + body)
    with pytest.raises(UserError) as error:
        read_record(path)
    message = str(error.value)
    assert message.startswith(str(path)) and expected in message and "\n" not in message


def test_a_wrong_header_or_missing_file_is_one_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("round,issue\n1,detainees\n")
    with pytest.raises(UserError, match=r"bad.csv:1: the header must be"):
        read_record(path)
    with pytest.raises(UserError, match="does not exist"):
        read_record(tmp_path / "missing.csv")


def test_a_forecast_sees_the_rounds_before_and_the_agenda_but_not_the_outcomes():
    record = read_record(RECORD)
    earlier, target = forecast_view(record, 6)
    assert [r.number for r in earlier] == [1, 2, 3, 4, 5]
    assert target is not None and target.agenda == record.rounds[6].agenda
    assert all(math.isnan(value) for value in target.outcomes.values())
    assert target.present() == record.rounds[6].present()
    earlier, target = forecast_view(record, 8)
    assert target is None and len(earlier) == 7
