"""Why an issue closed or failed: the veto players' ranges, the zone between them, the blockers."""

from __future__ import annotations

import struct

import numpy as np
import pytest

import sim
from sim.analysis.explain import acceptable_ranges, gap, last_answers, seated, veto_players, zone
from sim.figures.run import write_run_plots
from sim.outputs.summary import expand_divisions
from sim.outputs.text import format_table
from sim.strategies.time_dependent import TimeDependent


def why_line(summary: dict, issue: str) -> str:
    """The printed line that says why `issue` closed or failed (below the tables)."""
    lines = format_table(summary).splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("issue ") and line.endswith(" why"))
    return next(line for line in lines[start:] if line.startswith(f"{issue} "))


@pytest.fixture(scope="module")
def astana():
    """One run of astana7 (seed 0), with its trace."""
    return sim.run("astana7")


def test_detainees_fail_because_turkey_and_iran_miss_by_a_gap_and_iran_rejects_the_last_texts(astana):
    why = astana.summary["issues"]["detainees"]["why"]
    deadline = why["at_deadline"]
    assert deadline["zone"] == []
    assert deadline["gap"] == pytest.approx(0.0917, abs=0.001)
    assert [pair["actors"] for pair in deadline["apart"]] == [["turkey", "iran"]]
    turkey, iran = deadline["ranges"]["turkey"], deadline["ranges"]["iran"]
    assert turkey[0] - iran[1] == pytest.approx(deadline["gap"])
    russia = deadline["ranges"]["russia"]
    assert russia[0] <= iran[1] and turkey[0] <= russia[1]
    assert why["blocked"] == {"russia": 0.0, "turkey": 0.0, "iran": 1.0}
    assert why["streak"]["iran"] >= 8
    trace = astana.trace
    last = trace[(trace.issue == "detainees") & (trace.quantity == "accept")]
    last = last[last.step > last.step.max() - why["streak"]["iran"]]
    assert (last[last.actor == "iran"].value == 0).all()
    line = why_line(astana.summary, "detainees")
    assert "miss by 0.092" in line and "Iran rejected the last" in line


def test_the_ranges_are_the_texts_each_veto_player_accepts():
    """Acceptable ranges, from the utility arithmetic, against each actor's own acceptance test."""
    job = sim.load("astana7", "scenario.actors.turkey.salience.detainees=0.3")
    scenario = job.scenario
    actors = seated(scenario)
    texts = np.linspace(0, 1, 401)
    for phi in (0.3, 0.7, 1.0):
        ranges = acceptable_ranges(scenario, phi)
        for row, index in enumerate(veto_players(scenario)):
            strategy = TimeDependent(actors[index])
            tau = phi ** actors[index].beta
            for k in range(scenario.n_columns):
                grid = np.tile(actors[index].ideal, (len(texts), 1))
                grid[:, k] = texts
                accepted = strategy.accepts(grid, tau)[:, k]
                inside = (texts >= ranges.low[row, k] - 1e-9) & (texts <= ranges.high[row, k] + 1e-9)
                assert (accepted == inside).all(), (phi, scenario.actors[index], k)


@pytest.mark.parametrize(
    ("overrides", "protocol"), [(("protocol.observer_support=0",), "alternating"), ((), "mediated")]
)
def test_an_agreed_text_lies_in_the_zone_of_its_step(overrides, protocol):
    """Without observers hastening concession, an agreed text lies in the zone every veto player
    accepted at the step it closed."""
    for seed in (0, 1, 2):
        summary = sim.run("astana7", *overrides, protocol=protocol, seed=seed).summary
        for name in ("zones", "demining"):
            issue = summary["issues"][name]
            close = issue["why"]["at_close"]
            assert issue["agreement_probability"] == 1 and close["step"] == issue["step"]["mean"]
            low, high = close["zone"][0]
            assert low - 1e-9 <= close["text"] <= high + 1e-9
            assert close["position"] is not None and close["ahead_of_pace"] == []
            deadline_low, deadline_high = issue["why"]["at_deadline"]["zone"][0]
            assert deadline_low <= low and high <= deadline_high


def test_an_agreed_text_accepted_ahead_of_pace_says_so(astana):
    """In astana7 the observers' endorsement carries Iran to the zones text before its own pace."""
    issue = astana.summary["issues"]["zones"]
    close = issue["why"]["at_close"]
    assert close["zone"] == [] and close["position"] is None and close["ahead_of_pace"] == ["iran"]
    low, high = issue["why"]["at_deadline"]["zone"][0]
    assert low <= close["text"] <= high
    line = why_line(astana.summary, "zones")
    assert "Iran accepted it ahead of that pace on the observers' endorsement" in line


def test_zone_and_gap_under_unanimity_and_majority():
    low, high = np.array([0.0, 0.5, 0.6]), np.array([0.4, 1.0, 0.9])
    assert zone(low, high, 3) == [] and gap(low, high, 3) == pytest.approx(0.2)
    assert zone(low, high, 2) == [[0.6, 0.9]] and gap(low, high, 2) == 0.0
    assert zone(low, high, 1) == [[0.0, 0.4], [0.5, 1.0]]


def test_a_batch_gives_the_share_of_runs_each_actor_blocked_with_or_without_traces():
    traced = sim.run("astana7", replications=40, trace=True)
    plain = sim.run("astana7", replications=40).summary["issues"]["detainees"]["why"]
    why = traced.summary["issues"]["detainees"]["why"]
    assert why["blocked"] == plain["blocked"] and plain["at_deadline"] == why["at_deadline"]
    answers = last_answers(traced.trace, traced.outcome.seeds)
    rejected = answers[(answers["issue"] == "detainees") & (answers["accept"] < 0.5)]
    assert plain["blocked"] == {
        actor: rejected["actor"].eq(actor).sum() / 40 for actor in ("russia", "turkey", "iran")
    }
    shares = plain["blocked"]
    assert shares["iran"] > shares["turkey"] > 0 and shares["russia"] == 0
    left = sum(plain["walked_out"].values())
    assert shares["iran"] + shares["turkey"] >= 1 - left - 1e-9
    table = format_table(sim.run("astana7", replications=40).summary)
    assert f"blocked by Turkey in {shares['turkey']:.0%}, Iran in {shares['iran']:.0%}" in table


def test_zopa_png_and_outcome_png_name_the_blockers(astana, tmp_path):
    paths = write_run_plots(tmp_path, expand_divisions(astana.summary), astana.trace)
    assert tmp_path / "zopa.png" in paths
    for path in paths:
        head = path.read_bytes()[:24]
        assert head[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", head[16:24])
        assert width > 300 and height > 200
