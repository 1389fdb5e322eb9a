"""The public Python API: sim.load, sim.run, Result, sim.write, and the Mesa model by name."""

from __future__ import annotations

import json

import mesa
import numpy as np
import pandas as pd
import pytest

import sim
from sim.cli import execute
from sim.outputs.text import dispute_lines
from sim.setup.compose import compose_config
from sim.setup.job import job_from_config


def test_the_notebook_lines_of_the_readme_run():
    talks = sim.load("astana7", "scenario.actors.turkey.salience.detainees=0.3", protocol="mediated", seed=4)
    result = sim.run(talks, replications=50)
    assert isinstance(result.summary, dict) and result.summary["replications"] == 50
    assert isinstance(result.replications, pd.DataFrame) and len(result.replications) == 50
    trace = sim.run("astana7").trace
    assert list(trace.columns) == ["step", "actor", "issue", "quantity", "value"]
    assert {"offer", "position", "accept", "aspiration", "utility"} <= set(trace["quantity"])


def test_load_reads_the_same_overrides_as_the_command_line():
    talks = sim.load("astana7", "scenario.actors.turkey.salience.detainees=0.3", protocol="mediated", seed=4)
    same = job_from_config(
        compose_config(
            [
                "scenario=astana7",
                "scenario.actors.turkey.salience.detainees=0.3",
                "protocol=mediated",
                "seed=4",
            ]
        )
    )
    assert talks.protocol == same.protocol and talks.seed == same.seed == 4
    np.testing.assert_array_equal(talks.scenario.stated_salience, same.scenario.stated_salience)
    turkey = talks.scenario.actors.index("turkey")
    assert talks.scenario.stated_salience[turkey, talks.scenario.column_names.index("detainees")] == 0.3


@pytest.mark.parametrize(
    ("args", "keys", "expected"),
    [
        (("scenario.actors.turky.salience.detainees=0.8",), {}, "'turky' is not in scenario.actors"),
        (("scenario.actors.iran.reservation=1.5",), {}, "scenario.actors.iran.reservation is 1.5"),
        ((), {"protocol": "loudest"}, "unknown protocol 'loudest'"),
        ((), {"seed": -1}, "seed is -1"),
    ],
)
def test_load_gives_the_command_lines_one_line_error(args, keys, expected):
    with pytest.raises(sim.UserError) as error:
        sim.load("astana7", *args, **keys)
    assert expected in str(error.value) and "\n" not in str(error.value)


def test_run_by_name_equals_run_of_a_loaded_job_and_a_changed_setting():
    by_name = sim.run("astana7", replications=30, seed=2)
    loaded = sim.run(sim.load("astana7", seed=2), replications=30)
    pd.testing.assert_frame_equal(by_name.replications, loaded.replications)
    assert by_name.summary == loaded.summary


def test_a_single_run_is_a_batch_of_one():
    single = sim.run("astana7", seed=7)
    batch = sim.run("astana7", seed=0, replications=10)
    assert len(single) == 1 and len(single.replications) == 1
    row = batch.replications[batch.replications["seed"] == 7].reset_index(drop=True)
    pd.testing.assert_frame_equal(single.replications, row)


def test_the_result_written_is_the_result_returned(tmp_path):
    result = sim.run("astana7", replications=20, plots=False)
    sim.write(result, tmp_path)
    assert json.loads((tmp_path / "summary.json").read_text()) == json.loads(json.dumps(result.summary))
    written = pd.read_csv(tmp_path / "replications.csv")
    assert list(written.columns) == list(result.replications.columns) and len(written) == 20


def test_the_command_line_writes_what_the_api_returns(tmp_path):
    job = sim.load("astana7", seed=3, plots=False, quiet=True)
    summary = execute(job, tmp_path)
    assert summary == sim.run(job).summary


def test_mesa_users_build_the_model_from_plain_keywords():
    model = sim.NegotiationModel(scenario="astana7", protocol="alternating", rng=3)
    again = sim.NegotiationModel(scenario="astana7", protocol="alternating", seed=3)
    changed = sim.NegotiationModel(
        scenario="astana7", rng=3, **{"scenario.actors.turkey.salience.detainees": 0.1}
    )
    for m in (model, again, changed):
        m.run()
    np.testing.assert_array_equal(model.agreed_value, again.agreed_value)
    assert sim.run("astana7", seed=3).replications["detainees.agreed"].item() == bool(model.agreed[0, 1])
    assert changed.agreed[0, 1] and not model.agreed[0, 1], (
        "Turkey caring less about detainees lets them close"
    )


def test_mesa_batch_run_returns_a_tidy_frame_of_plain_numbers():
    rows = mesa.batch_run(
        sim.NegotiationModel,
        parameters={"scenario": "astana7", "seed": range(4), "protocol": ["alternating", "mediated"]},
        display_progress=False,
    )
    frame = pd.DataFrame(rows)
    assert len(frame) == 8
    for column in ("detainees.agreed", "detainees.value", "zones.text", "iran.utility", "turkey.aspiration"):
        assert column in frame
        assert all(isinstance(v, (bool, float, int, np.bool_)) for v in frame[column])
    single = sim.run("astana7", seed=2).replications
    row = frame[(frame["seed"] == 2) & (frame["protocol"] == "alternating")].iloc[0]
    assert row["zones.agreed"] == single["zones.agreed"].item()
    assert row["zones.value"] == pytest.approx(single["zones.value"].item())
    assert row["iran.utility"] == pytest.approx(single["iran.utility"].item())


def test_astana7_names_the_disputed_demining_record_and_which_account_it_matches():
    summary = sim.run("astana7").summary
    dispute = summary["record"]["disputed"]
    assert list(dispute) == ["demining"] and dispute["demining"]["account"] == "agreed"
    assert "rounds_1_7.csv" in dispute["demining"]["other_account"]
    lines = dispute_lines(summary)
    assert len(lines) == 1 and lines[0].startswith("Disputed: demining")
    assert lines[0].endswith("matches this record's account.")  # the model agrees demining at step 4
    assert summary["issues"]["demining"]["agreement_probability"] == 1.0
