"""Tests for sim.tables.readers: real values from the published tables in data/, and bad files."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sim.errors import UserError
from sim.tables.readers import SUPPORTED_FORMATS, Table, read_table

DATA = Path(__file__).resolve().parents[1] / "data"


def _table(relative: str) -> Table:
    return read_table(DATA / relative)


def _cell(table: Table, actor: str, issue: str) -> tuple[float, float]:
    row, column = table.actors.index(actor), table.issues.index(issue)
    return float(table.positions[row, column]), float(table.salience[row, column])


def _capability(table: Table, actor: str) -> float:
    return float(table.capability[table.actors.index(actor)])


def compromise_forecast(table: Table) -> np.ndarray:
    """Per issue, sum of capability x salience x position over sum of capability x salience,
    over the actors with a position, a salience and a capability."""
    weight = table.capability[:, None] * table.salience
    counted = ~np.isnan(weight) & table.present
    weighted = np.where(counted, weight * np.nan_to_num(table.positions), 0.0).sum(axis=0)
    return weighted / np.where(counted, weight, 0.0).sum(axis=0)


def test_copenhagen_reads_actors_issues_and_values() -> None:
    table = _table("decide/copenhagen.csv")
    assert table.format == "decide"
    assert table.name == "copenhagen"
    assert len(table.actors) == 11
    assert len(table.issues) == 7
    assert table.positions.shape == table.salience.shape == (11, 7)
    assert table.issues[0] == "Newtreaty"
    assert _cell(table, "USA", "MRVdecrease") == (90.0, 1.0)
    assert _cell(table, "China India", "Newtreaty") == (100.0, 0.9)
    assert _cell(table, "EU (incl Norway)", "Commitments") == (20.0, 0.2)
    assert _capability(table, "USA") == 0.26
    assert _capability(table, "EU (incl Norway)") == 0.156
    assert table.scale == ((0.0, 100.0),) * 7
    assert all(len(marks) == 0 for marks in table.marks)


def test_copenhagen_actor_without_row_is_absent() -> None:
    table = _table("decide/copenhagen.csv")
    for issue in ("Commitments", "Extra"):
        position, salience = _cell(table, "Russia", issue)
        assert math.isnan(position) and math.isnan(salience)
    assert int((~table.present).sum()) == 2
    assert _cell(table, "Russia", "Domestred") == (0.0, 0.9)


def test_cop21_sizes_and_values() -> None:
    table = _table("decide/cop21.csv")
    assert len(table.actors) == 15
    assert len(table.issues) == 13
    assert _cell(table, "African_grp", "finance_vol") == (100.0, 0.8)
    assert _cell(table, "USA", "eaa") == (100.0, 0.4)
    assert _capability(table, "USA") == 1.0
    assert _capability(table, "ALBA") == 0.05
    assert math.isnan(_cell(table, "China", "amb2050")[0])
    assert int(table.present.sum()) == 181


def test_ktab_soe_policy() -> None:
    table = _table("ktab/SOE-Policy.csv")
    assert table.format == "ktab"
    assert len(table.actors) == 26
    assert table.issues == ("Policy",)
    assert table.title == "China Policy; scen 0"
    assert _cell(table, "XJ", "Policy") == (30.0, 0.30)
    assert _capability(table, "XJ") == 100.0
    assert _cell(table, "USA", "Policy") == (100.0, 0.5)
    assert _capability(table, "USA") == 8.0
    assert table.display_names[table.actors.index("ZGB")] == "Zhang Guobao - former NDRC; still influential"
    assert table.scale == ((0.0, 100.0),)


def test_ktab_soe_pol_comp() -> None:
    table = _table("ktab/SOE-Pol-Comp.csv")
    assert len(table.actors) == 13
    assert table.issues == ("Policy", "Competitive")
    assert _capability(table, "LK") == 60.2
    assert _cell(table, "LK", "Policy") == (45.0, 0.447)
    assert _cell(table, "LK", "Competitive") == (65.0, 0.413)
    assert _cell(table, "WY", "Competitive") == (60.0, 0.46)
    assert np.all(np.nansum(table.salience, axis=1) <= 1.0)


def test_bdm_example() -> None:
    table = _table("bdm/ExampleActors_EC.csv")
    assert table.format == "bdm"
    assert len(table.actors) == 10
    assert len(table.issues) == 1
    assert table.scale == ((1.0, 10.0),)
    issue = table.issues[0]
    assert _cell(table, "Netherlands", issue) == (4.0, 0.8)
    assert _capability(table, "Netherlands") == 0.08
    assert _cell(table, "UK", issue) == (10.0, 0.9)
    assert table.unit_positions()[table.actors.index("Netherlands"), 0] == pytest.approx(1 / 3)
    assert table.to_source(0, 1 / 3) == pytest.approx(4.0)


def test_deu3_issues_capability_and_outcomes() -> None:
    table = _table("deu3/deu3_dev.csv")
    assert table.format == "deu3"
    assert len(table.issues) == 123
    assert len(table.actors) == 30
    assert table.actors[:3] == ("com", "ep", "at")
    assert int(np.isfinite(table.outcome).sum()) == 116
    assert int(np.isfinite(table.reference).sum()) == 85
    assert _capability(table, "com") == _capability(table, "ep") == _capability(table, "de") == 4.1
    assert _capability(table, "cr") == 0.08
    assert table.issues[0] == "d00062i1"
    assert table.description[0] == "landmines (d00062i1)"
    assert table.outcome[0] == 90.0
    assert math.isnan(table.reference[0])
    assert _cell(table, "com", "d00062i1") == (100.0, 1.0)
    assert _cell(table, "at", "d00062i1") == (100.0, 0.2)
    absent_position, absent_salience = _cell(table, "bu", "d00062i1")
    assert math.isnan(absent_position) and math.isnan(absent_salience)
    assert set(table.voting_rule) == {"QMV", "Unan"}
    assert table.voting_rule[table.issues.index("n99192i1")] == "QMV"


def test_deu3_compromise_forecast_reproduces_published_error() -> None:
    table = _table("deu3/deu3_dev.csv")
    forecast = compromise_forecast(table)
    known = ~np.isnan(table.outcome)
    assert not np.isnan(forecast[known]).any()
    error = float(np.abs(forecast[known] - table.outcome[known]).mean())
    assert error == pytest.approx(23.87, abs=0.01)


def test_unit_positions_round_trip() -> None:
    for relative in ("decide/cop21.csv", "ktab/SOE-Pol-Comp.csv", "deu3/deu3_dev.csv"):
        table = _table(relative)
        unit = table.unit_positions()
        assert np.nanmin(unit) >= 0.0 and np.nanmax(unit) <= 1.0
        back = np.column_stack([table.to_source(i, unit[:, i]) for i in range(len(table.issues))])
        np.testing.assert_allclose(back, table.positions)


def test_table_arrays_are_read_only() -> None:
    table = _table("bdm/ExampleActors_EC.csv")
    with pytest.raises(ValueError):
        table.positions[0, 0] = 5.0


DECIDE_HEAD = (
    "'#A'\t'A'\t'Actor A'\t''\n"
    "'#A'\t'B'\t'Actor B'\t''\n"
    "'#P'\t'X'\t'Issue X'\t''\n"
    "'#M'\t'X'\t0\t'none'\n"
    "'#M'\t'X'\t50\n"
    "'#M'\t'X'\t200\t'all'\n"
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _error(path: Path) -> str:
    with pytest.raises(UserError) as caught:
        read_table(path)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_decide_marks_set_scale_and_labels(tmp_path: Path) -> None:
    path = _write(tmp_path, "small.csv", DECIDE_HEAD + "'#D'\t'A'\t'X'\t150\t0.5\t0.4\n")
    table = read_table(path)
    assert table.scale == ((0.0, 200.0),)
    assert dict(table.marks[0]) == {0.0: "none", 200.0: "all"}
    assert table.unit_positions()[0, 0] == 0.75
    assert math.isnan(table.capability[1])
    assert table.display_names == ("Actor A", "Actor B")


def test_decide_row_with_too_few_fields(tmp_path: Path) -> None:
    path = _write(tmp_path, "copenhagen.csv", DECIDE_HEAD + "'#D'\t'A'\t'X'\t10\n")
    message = _error(path)
    assert f"{path} line 7: '#D' row has 4 fields, expected 6" in message


def test_decide_salience_not_a_number(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.csv", DECIDE_HEAD + "'#D'\t'A'\t'X'\t10\thigh\t0.4\n")
    assert _error(path) == f"{path} line 7: salience is 'high', not a number"


def test_decide_position_not_a_number(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.csv", DECIDE_HEAD + "'#D'\t'A'\t'X'\t''\t0.5\t0.4\n")
    assert _error(path) == f"{path} line 7: position is '', not a number"


def test_decide_unknown_actor(tmp_path: Path) -> None:
    rows = "'#D'\t'A'\t'X'\t10\t0.5\t0.4\n'#D'\t'C'\t'X'\t10\t0.5\t0.4\n"
    path = _write(tmp_path, "bad.csv", DECIDE_HEAD + rows)
    message = _error(path)
    assert message.startswith(f"{path} line 8: ")
    assert "unknown actor 'C'" in message


def test_decide_salience_out_of_range(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.csv", DECIDE_HEAD + "'#D'\t'A'\t'X'\t10\t50\t0.4\n")
    assert _error(path) == f"{path} line 7: salience is 50, outside [0, 1]"


def test_decide_conflicting_power(tmp_path: Path) -> None:
    text = DECIDE_HEAD + "'#P'\t'Y'\t'Y'\t''\n'#D'\t'A'\t'X'\t10\t0.5\t0.4\n'#D'\t'A'\t'Y'\t10\t0.5\t0.3\n"
    message = _error(_write(tmp_path, "bad.csv", text))
    assert "line 9: power 0.3 of actor 'A' differs from 0.4 on line 8" in message


def test_ktab_row_with_wrong_number_of_columns(tmp_path: Path) -> None:
    text = (
        "Scen, a test, 2, 1, \n"
        "Actor,Description,Influence,Policy Position,Policy Salience, \n"
        "A,Actor A,100,30,30, \n"
        "B,Actor B,50,40, \n"
    )
    path = _write(tmp_path, "soe.csv", text)
    message = _error(path)
    assert message.startswith(f"{path} line 4: KTAB row has 4 fields, expected 5")


def test_ktab_actor_count_mismatch(tmp_path: Path) -> None:
    text = "Scen, a test, 3, 1, \nActor,Description,Influence,P Position,P Salience, \nA,A,100,30,30, \n"
    path = _write(tmp_path, "soe.csv", text)
    assert _error(path) == f"{path} line 1: says 3 actors but 1 actor rows follow"


def test_bdm_value_not_a_number(tmp_path: Path) -> None:
    path = _write(tmp_path, "bdm.csv", "Actor,Capability,Position,Salience\nA,0.5,4,0.8\nB,0.5,four,0.8\n")
    assert _error(path) == f"{path} line 3: position is 'four', not a number"


def test_bdm_position_off_scale(tmp_path: Path) -> None:
    path = _write(tmp_path, "bdm.csv", "Actor,Capability,Position,Salience\nA,0.5,11,0.8\n")
    assert _error(path) == f"{path} line 2: position is 11, outside [1, 10]"


DEU3_HEADER = '"prnrnmc"\t"prname"\t"isnr"\t"counvte"\t"pcom"\t"pat"\t"scom"\t"sat"\t"rp"\t"out"\n'
DEU3_CAPABILITY = '\t\t\t\t"4.1"\t"0.48"\t\t\t\t\n'


def test_deu3_small_table(tmp_path: Path) -> None:
    text = DEU3_HEADER + DEU3_CAPABILITY + '3\t"x"\t"x1"\t"Unan"\t100\t\t50\t0\t\t90\n'
    table = read_table(_write(tmp_path, "deu.tsv", text))
    assert table.actors == ("com", "at")
    assert table.capability.tolist() == [4.1, 0.48]
    assert table.salience[0, 0] == 0.5
    assert math.isnan(table.positions[1, 0]) and math.isnan(table.salience[1, 0])
    assert table.voting_rule == ("Unan",)


def test_deu3_salience_not_a_number(tmp_path: Path) -> None:
    text = DEU3_HEADER + DEU3_CAPABILITY + '3\t"x"\t"x1"\t"QMV"\t100\t50\t"lots"\t50\t\t90\n'
    path = _write(tmp_path, "deu.csv", text)
    assert _error(path) == f"{path} line 3: salience (scom) is 'lots', not a number"


def test_deu3_row_with_wrong_number_of_fields(tmp_path: Path) -> None:
    text = DEU3_HEADER + DEU3_CAPABILITY + '3\t"x"\t"x1"\t"QMV"\t100\t50\n'
    path = _write(tmp_path, "deu.csv", text)
    assert _error(path) == f"{path} line 3: row has 6 fields, expected 10 as in the header"


def test_deu3_without_capability_row(tmp_path: Path) -> None:
    text = DEU3_HEADER + '3\t"x"\t"x1"\t"QMV"\t100\t50\t50\t50\t\t90\n'
    path = _write(tmp_path, "deu.csv", text)
    assert _error(path).startswith(f"{path} line 2: expected the capability row")


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.csv"
    assert _error(path) == f"no such file: {path}"


def test_empty_file(tmp_path: Path) -> None:
    for name, text in (("empty.csv", ""), ("blank.csv", "\n  \n")):
        path = _write(tmp_path, name, text)
        assert _error(path) == f"{path}: the file is empty"


def test_unknown_format_lists_supported_formats(tmp_path: Path) -> None:
    path = _write(tmp_path, "mystery.csv", "name,age\nAda,36\n")
    message = _error(path)
    assert message.startswith(f"{path}: cannot tell the format")
    assert SUPPORTED_FORMATS in message
    for name in ("decide (#A/#P/#D rows)", "KTAB SMP CSV", "BDM actor table", "DEU III"):
        assert name in message


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(b"Actor,Capability,Position,Salience\nBelgi\xeb,0.5,4,0.8\n")
    assert _error(path).startswith(f"{path} line 2: byte 0xeb is not UTF-8 text")


def test_decide_unknown_issue_and_row_type(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.csv", DECIDE_HEAD + "'#D'\t'A'\t'Z'\t10\t0.5\t0.4\n")
    assert "line 7: '#D' row names unknown issue 'Z'" in _error(path)
    path = _write(tmp_path, "worse.csv", DECIDE_HEAD + "'#Q'\t'A'\n")
    assert _error(path) == f"{path} line 7: unknown row type '#Q', expected one of #A, #P, #M, #D"


def test_ktab_influence_not_a_number(tmp_path: Path) -> None:
    text = "Scen, a test, 1, 1, \nActor,Description,Influence,P Position,P Salience, \nA,A,much,30,30, \n"
    path = _write(tmp_path, "soe.csv", text)
    assert _error(path) == f"{path} line 3: influence is 'much', not a number"
