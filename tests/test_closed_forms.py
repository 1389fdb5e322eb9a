"""Closed forms pinned through the whole pipeline: Rubinstein and Baron–Ferejohn scenarios."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import build, compose, run_and_write

from sim.outputs.summary import summarize
from sim.studies.batch import run_batch


@pytest.mark.parametrize(("d1", "d2"), [(0.9, 0.9), (0.9, 0.8), (0.5, 0.7), (0.99, 0.95)])
def test_rubinstein_first_offer_is_accepted_at_the_closed_form(tmp_path, d1, d2):
    cfg = compose(
        "scenario=rubinstein",
        f"scenario.actors.p1.discount={d1}",
        f"scenario.actors.p2.discount={d2}",
        "plots=false",
        "quiet=true",
    )
    summary = run_and_write(cfg, tmp_path)
    pie = json.loads((tmp_path / "summary.json").read_text())["issues"]["pie"]
    assert pie["agreement_probability"] == 1 and pie["step"]["mean"] == 1 and pie["proposer"] == {"p1": 1.0}
    assert pie["value"]["median"] == pytest.approx((1 - d2) / (1 - d1 * d2), abs=1e-6)
    assert summary["utilities"]["p2"]["mean"] == pytest.approx(1 - pie["value"]["median"], abs=1e-9)


def test_rubinstein_reference_values_from_the_command_line(tmp_path):
    for override, expected in (([], 0.5263), (["scenario.actors.p2.discount=0.8"], 0.7143)):
        result = subprocess.run(
            [sys.executable, "-m", "sim", "scenario=rubinstein", "plots=false", "quiet=true", *override],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        folder = result.stdout.strip().splitlines()[-1]
        pie = json.loads((tmp_path / folder / "summary.json").read_text())["issues"]["pie"]
        assert pie["value"]["median"] == pytest.approx(expected, abs=1e-4)


def test_rubinstein_when_player_2_proposes_first():
    scenario, protocol_cfg = build(compose("scenario=rubinstein"))
    from dataclasses import replace

    swapped = replace(
        scenario,
        actors=scenario.actors[::-1],
        display_names=scenario.display_names[::-1],
        roles=scenario.roles[::-1],
        ideal=scenario.ideal[::-1],
        salience=scenario.salience[::-1],
        stated_salience=scenario.stated_salience[::-1],
        strategies=scenario.strategies[::-1],
        discount=np.array([0.8, 0.9]),
    )
    batch = run_batch(swapped, protocol_cfg, [0])
    d1, d2 = 0.9, 0.8
    assert batch.value[0, 0] == pytest.approx(d1 * (1 - d2) / (1 - d1 * d2), abs=1e-9)


def test_baron_ferejohn_proposer_and_partner_shares():
    scenario, protocol_cfg = build(compose("scenario=baron_ferejohn"))
    batch = run_batch(scenario, protocol_cfg, np.arange(2000))
    budget = summarize(batch)["issues"]["budget"]
    assert budget["agreement_probability"] == 1.0
    for role, expected in (("proposer", 1 - 0.9 * 4 / 10), ("partner", 0.9 / 5)):
        share = budget[f"{role}_share"]
        low, high = share["interval"]
        assert low - 1e-12 <= expected <= high + 1e-12
        assert share["mean"] == pytest.approx(expected, abs=1e-9)
    assert budget["partner_share"]["count"] == 2 * 2000
    assert budget["excluded_share"]["count"] == 2 * 2000
    np.testing.assert_allclose(batch.value.sum(axis=1), 1.0)
    ex_ante = batch.utilities.mean(axis=0)
    assert ex_ante == pytest.approx(np.full(5, 0.2), abs=0.03)
    proposers = np.bincount(batch.agreed_proposer[:, 0], minlength=5) / 2000
    assert proposers == pytest.approx(np.full(5, 0.2), abs=0.03)


def test_baron_ferejohn_summary_shows_the_division(tmp_path):
    summary = run_and_write(compose("scenario=baron_ferejohn", "seed=3", "quiet=true"), tmp_path)
    budget = summary["issues"]["budget"]
    shares = budget["mean_share"]
    assert sum(shares.values()) == pytest.approx(1.0)
    (proposer,) = budget["proposer"]
    assert shares[proposer] == pytest.approx(0.64) == budget["proposer_share"]["mean"]
    assert sorted(shares.values()) == pytest.approx([0.0, 0.0, 0.18, 0.18, 0.64])
    assert (tmp_path / "positions.png").is_file()


@pytest.mark.parametrize("protocol", ["mediated", "compromise", "eum"])
def test_protocols_that_do_not_divide_budgets_refuse_a_division(protocol):
    from sim.errors import UserError

    with pytest.raises(UserError, match="does not divide budgets"):
        build(compose("scenario=baron_ferejohn", f"protocol={protocol}"))
