"""Tests of the expected-utility (challenge) model in `sim.analysis.eum`.

The EC numbers of the published replication are those printed by
github.com/jmckib/bdm-scholz-expected-utility-model (bdm_scholz_model.py, commit e9d86fe) for
ExampleActors.csv, which the project keeps as data/bdm/ExampleActors_EC.csv.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from sim.analysis.eum import (
    challenge_utilities,
    eum_forecast,
    eum_round,
    expected_utility,
    risk_exponents,
    weighted_mean,
    weighted_median,
    win_probability,
)
from sim.errors import UserError

EC_TABLE = Path(__file__).resolve().parents[1] / "data" / "bdm" / "ExampleActors_EC.csv"

# Positions round by round (rows 0-10) as the Scholz et al. replication prints them, in table order:
# Netherlands, Belgium, Luxembourg, Germany, France, Italy, UK, Ireland, Denmark, Greece.
BELGIUM = [
    7.0,
    8.415932315426765,
    9.610859134120188,
    9.961979590401311,
    4.800881140632626,
    5.524237694197366,
    7.472046361916304,
    8.82459385526243,
    9.671129769802048,
    4.144849062500607,
    4.291541224979649,
]
LUXEMBOURG = [4.0, *BELGIUM[:-1]]
IRELAND = [
    7.0,
    4.0,
    7.0,
    8.415932315426765,
    9.610859134120188,
    9.961979590401311,
    5.524237694197366,
    7.472046361916304,
    8.82459385526243,
    9.671129769802048,
    4.144849062500607,
]
PUBLISHED_MEANS = [
    7.461314378277187,
    7.552500865855843,
    7.590144997451546,
    7.358130531334199,
    7.349173989675211,
    7.414877545372958,
    7.510457183677219,
    7.572447097550299,
    7.324989065683665,
    7.242130958473937,
]
PUBLISHED_MEDIANS = [
    BELGIUM[1],
    BELGIUM[2],
    BELGIUM[3],
    BELGIUM[3],
    BELGIUM[3],
    BELGIUM[6],
    BELGIUM[7],
    BELGIUM[8],
    BELGIUM[8],
    7.0,
]
PUBLISHED_RISK_ROUND_1 = [
    1.405652784218,
    0.754195927244,
    0.508863791027,
    1.405652784218,
    1.046523896057,
    1.046523896057,
    1.964898229507,
    0.5,
    2.0,
    1.112124970858,
]


@pytest.fixture
def ec() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with EC_TABLE.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    columns = ("Position", "Capability", "Salience")
    return tuple(np.array([float(row[key]) for row in rows]) for key in columns)


def published_history() -> np.ndarray:
    history = np.tile([4.0, 7.0, 4.0, 4.0, 10.0, 10.0, 10.0, 7.0, 4.0, 7.0], (11, 1))
    history[:, 1], history[:, 2], history[:, 7] = BELGIUM, LUXEMBOURG, IRELAND
    return history


def test_challenge_utilities_closed_forms() -> None:
    success, failure, status_quo = challenge_utilities([0.0, 0.5, 1.0], 1.0)
    np.testing.assert_allclose(success, [0.0, 1.0, 2.0])
    np.testing.assert_allclose(failure, [0.0, -1.0, -2.0])
    np.testing.assert_allclose(status_quo, [0.0, 0.0, 0.0])
    success, failure, status_quo = challenge_utilities(0.5, [2.0, 0.5])
    np.testing.assert_allclose(success, [2 - 4 / 16, 2 - 4 * 0.5])
    np.testing.assert_allclose(failure, [2 - 4 * 9 / 16, 2 - 4 * np.sqrt(0.75)])
    np.testing.assert_allclose(status_quo, [1.0, 2 - 2 * np.sqrt(2)])


def test_win_probability_by_hand() -> None:
    """Weights 0.2, 0.3, 1.0 at 0, 1, 4: the actor at 1 lies between 0 and 4 and counts for neither."""
    probability = win_probability([0.0, 1.0, 4.0], [1.0, 1.0, 1.0], [0.2, 0.3, 1.0])
    expected = [[0, 2 / 15, 7 / 30], [13 / 15, 0, 1 / 3], [2 / 3, 2 / 3, 0]]
    np.testing.assert_allclose(probability, expected)


def test_expected_utility_three_actors_by_hand() -> None:
    """With r = 1, EU(i challenges j) = 2δ[1 - 2 s_j (1 - P_ij)], δ = |x_i - x_j| / 4."""
    eu = expected_utility([0.0, 1.0, 4.0], [1.0, 1.0, 1.0], [0.2, 0.3, 1.0])
    expected = [[0, 0.24, -16 / 15], [71 / 150, 0, -0.5], [26 / 15, 1.2, 0]]
    np.testing.assert_allclose(eu, expected, atol=1e-15)


def test_round_by_hand_confrontation_and_compromise() -> None:
    """Actor 0 loses a confrontation to 1 (to 1) rather than compromise with 2 (to 32/13); actor 1
    compromises with 2: 1 + 3 * 0.5/1.2 = 2.25; actor 2 receives no credible offer."""
    new = eum_round([0.0, 1.0, 4.0], [1.0, 1.0, 1.0], [0.2, 0.3, 1.0], risk=1.0)
    np.testing.assert_allclose(new, [1.0, 2.25, 4.0])


def test_round_by_hand_capitulation() -> None:
    """Actor 0: EU(0 challenges 2) = -18/17 and EU(2 challenges 0) = 14/17, so it capitulates to 2.
    Actor 1 compromises with 2: EU = -7/17 against 16/17, so it moves 7/16 of the way."""
    new = eum_round([0.0, 1.0, 2.0], [0.2, 0.5, 0.6], [1.0, 0.1, 1.0], risk=1.0)
    np.testing.assert_allclose(new, [2.0, 1.4375, 2.0])


def test_risk_exponents_two_actors() -> None:
    """EU(0 challenges 1) = 1.5 and EU(1 challenges 0) = 0.5: the exposed actor 1 gets R = 1, r = 0.5."""
    np.testing.assert_allclose(risk_exponents([0.0, 1.0], [3.0, 1.0], [0.5, 0.5]), [2.0, 0.5])
    np.testing.assert_allclose(risk_exponents([0.0, 1.0], [1.0, 1.0], [0.5, 0.5]), [1.0, 1.0])


def test_weighted_median_and_mean() -> None:
    assert weighted_median([4, 7, 10], [0.248, 0.093, 0.336]) == 7
    assert weighted_median([0, 10], [1, 1]) == 5
    assert weighted_median([0, 5, 10], [1, 0, 1]) == 5
    assert weighted_median([3, 1, 2], [0, 0, 0]) == 2
    assert weighted_mean([0, 10], [1, 3]) == 7.5


def test_scholz_code_reproduces_the_published_rounds(ec) -> None:
    positions, capability, salience = ec
    np.testing.assert_allclose(
        risk_exponents(positions, capability, salience, convention="scholz_code"),
        PUBLISHED_RISK_ROUND_1,
        atol=1e-12,
    )
    history, median = eum_forecast(positions, capability, salience, rounds=10, convention="scholz_code")
    np.testing.assert_allclose(history, published_history(), atol=1e-12)
    weights = capability * salience
    np.testing.assert_allclose([weighted_mean(row, weights) for row in history[1:]], PUBLISHED_MEANS)
    np.testing.assert_allclose([weighted_median(row, weights) for row in history[1:]], PUBLISHED_MEDIANS)
    assert median == 7.0


def test_scholz_code_never_settles_on_ec(ec) -> None:
    history, median = eum_forecast(*ec, rounds=1000, convention="scholz_code")
    assert history.shape == (1001, 10)
    assert median == 7.0
    assert weighted_mean(history[-1], ec[1] * ec[2]) == pytest.approx(7.3743354527)


def test_domain_convention_on_ec(ec) -> None:
    positions, capability, salience = ec
    assert weighted_median(positions, capability * salience) == 7.0
    assert weighted_mean(positions, capability * salience) == pytest.approx(7.389955686853766)
    np.testing.assert_allclose(
        risk_exponents(positions, capability, salience),
        [
            1.1525467775,
            0.9229697729,
            0.5,
            1.1525467775,
            1.0236989983,
            1.0236989983,
            2.0,
            0.6149031994,
            1.5176291793,
            1.3762802307,
        ],
        atol=1e-10,
    )
    compromise = 9.363755476470846
    np.testing.assert_allclose(
        eum_round(positions, capability, salience),
        [7, 10, 7, 7, compromise, compromise, 10, 10, 4.448497164598, 10],
        atol=1e-10,
    )
    history, median = eum_forecast(positions, capability, salience)
    assert history.shape == (112, 10)
    assert median == pytest.approx(compromise, abs=1e-12)
    np.testing.assert_allclose(history[-1], compromise, atol=1e-4)
    _, mean = eum_forecast(positions, capability, salience, statistic="mean")
    assert mean == pytest.approx(9.3637513434)


@pytest.mark.parametrize("convention", ["domain", "scholz_code"])
def test_positions_stay_within_the_initial_range_and_runs_repeat(ec, convention) -> None:
    rng = np.random.default_rng(7)
    cases = [ec] + [(rng.uniform(0, 100, 8), rng.uniform(0.1, 1, 8), rng.uniform(0, 1, 8)) for _ in range(5)]
    for positions, capability, salience in cases:
        run = eum_forecast(positions, capability, salience, rounds=60, convention=convention)
        assert np.all(run[0] >= positions.min()) and np.all(run[0] <= positions.max())
        again = eum_forecast(positions, capability, salience, rounds=60, convention=convention)
        np.testing.assert_array_equal(run[0], again[0])
        assert run[1] == again[1]


def test_results_keep_the_input_scale(ec) -> None:
    positions, capability, salience = ec
    history, median = eum_forecast(positions, capability, salience)
    rescaled, rescaled_median = eum_forecast((positions - 1) / 9 * 100, capability, salience)
    np.testing.assert_allclose(rescaled / 100 * 9 + 1, history, atol=1e-9)
    assert rescaled_median / 100 * 9 + 1 == pytest.approx(median)


def test_one_actor() -> None:
    history, forecast = eum_forecast([3.5], [0.4], [0.9])
    assert history.shape == (1, 1) and forecast == 3.5
    np.testing.assert_array_equal(eum_round([3.5], [0.4], [0.9]), [3.5])


def test_all_actors_at_one_position() -> None:
    history, forecast = eum_forecast([6.0, 6.0, 6.0], [0.2, 0.5, 0.3], [0.5, 1.0, 0.2])
    np.testing.assert_array_equal(history, [[6.0, 6.0, 6.0]])
    assert forecast == 6.0


def test_zero_salience(ec) -> None:
    positions, capability, salience = ec
    salience = salience.copy()
    salience[[2, 7]] = 0.0
    history, forecast = eum_forecast(positions, capability, salience)
    assert np.isfinite(history).all() and positions.min() <= forecast <= positions.max()
    assert forecast == weighted_median(history[-1], capability * salience)
    history, forecast = eum_forecast(positions, capability, np.zeros_like(salience))
    assert np.isfinite(history).all() and forecast == weighted_median(history[-1], np.ones_like(salience))


def test_identical_actors_move_together(ec) -> None:
    positions, capability, salience = (np.repeat(column, 2) for column in ec)
    history, _ = eum_forecast(positions, capability, salience, rounds=30)
    np.testing.assert_array_equal(history[:, 0::2], history[:, 1::2])
    same = eum_forecast([5.0] * 4, [0.25] * 4, [0.5] * 4)[0]
    np.testing.assert_array_equal(same, [[5.0] * 4])
    pair_against_one = eum_round([2.0, 2.0, 8.0], [1, 1, 1], [0.5, 0.5, 0.5])
    np.testing.assert_array_equal(pair_against_one, [2.0, 2.0, 2.0])


@pytest.mark.parametrize(
    ("positions", "capability", "salience"),
    [
        ([1, 2], [1], [0.5, 0.5]),
        ([1, 2], [1, 1], [0.5, 50]),
        ([1, np.nan], [1, 1], [0.5, 0.5]),
        ([1, 2], [-1, 1], [0.5, 0.5]),
        ([], [], []),
    ],
)
def test_bad_input_is_a_user_error(positions, capability, salience) -> None:
    with pytest.raises(UserError):
        eum_round(positions, capability, salience)


def test_unknown_options_are_user_errors() -> None:
    with pytest.raises(UserError):
        eum_forecast([1.0, 2.0], [1.0, 1.0], [0.5, 0.5], statistic="mode")
    with pytest.raises(UserError):
        eum_round([1.0, 2.0], [1.0, 1.0], [0.5, 0.5], convention="bdm1985")
    with pytest.raises(UserError):
        eum_round([1.0, 5.0], [1.0, 1.0], [0.5, 0.5], span=2.0)
