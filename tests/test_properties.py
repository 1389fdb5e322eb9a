"""Properties every protocol and strategy keeps on generated negotiations of any size.

Hypothesis draws scenario files (actors, issues, roles, a division, saliences, reservations,
patrons, strategies, decision rules, linked issues) and protocol settings, builds them through
`sim.core.build.build_scenario` (the checks a scenario file passes) and runs them under each
protocol of `sim.protocols.PROTOCOLS`. Outputs stay in range, the same seed gives the same
outcome, replication i of a batch from seed s is the single run with seed s + i, and every agreed
text is individually rational for the veto players, in the sense the model uses: per issue (and
per division) for the protocols that close issues one by one, per package (the issues agreed
together at one step) for `package`.

The profile comes from HYPOTHESIS_PROFILE (`tests/conftest.py`): `ci` (default, derandomized;
300 scenarios per protocol) or `nightly` (5,000 per protocol, drawn afresh).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.core.build import build_scenario
from sim.core.preferences import TOLERANCE as MODEL_TOLERANCE
from sim.core.scenario import Decision, Recognition, Role, Scenario
from sim.outputs.outcome import Outcome
from sim.outputs.summary import summarize
from sim.protocols import PROTOCOLS, ProtocolConfig, make_protocol
from sim.setup.job import Job
from sim.strategies import StrategyName

TOLERANCE = 1e-9
MAX_ACTORS = 6
MAX_ISSUES = 3
MAX_STEPS = {"alternating": 12, "mediated": 12, "compromise": 3, "eum": 12, "package": 12, "exchange": 6}
"""Small deadlines keep each example fast; the properties hold at every deadline."""
SCENARIOS = max(150, settings().max_examples)
"""Scenarios per property and protocol (two properties each): 150 under the `ci` profile, the
profile's count (2,500) under `nightly`."""
DIVIDING = {name for name, protocol in PROTOCOLS.items() if protocol.divides_budgets}

unit = st.floats(0.0, 1.0, allow_nan=False)
salience = st.one_of(st.just(0.0), st.floats(0.0, 1.0, allow_nan=False))


@st.composite
def actor_spec(draw: st.DrawFn, positional: list[str], issues: list[str]) -> dict[str, Any]:
    """One actor of a scenario file, without its role and patron (set by `scenario_files`)."""
    return {
        "ideal": {issue: draw(unit) for issue in positional},
        "salience": {issue: draw(salience) for issue in issues},
        "capability": draw(st.one_of(st.floats(1e-3, 10.0), st.sampled_from([1e-100, 1e-6, 1e6, 1e100]))),
        "reservation": draw(st.floats(0.0, 0.95)),
        "concession": draw(st.floats(0.1, 5.0)),
        "patience": draw(st.integers(1, 20)),
        "discount": draw(st.one_of(st.just(1.0), st.floats(0.05, 1.0))),
        "present": draw(st.integers(0, 4)) > 0,
    }


def with_some_salience(spec: dict[str, Any]) -> dict[str, Any]:
    """A present actor cares about some issue (a scenario file must say so; `build_scenario` checks)."""
    if spec["present"] and not any(value > 0 for value in spec["salience"].values()):
        first = next(iter(spec["salience"]))
        spec["salience"][first] = 0.5
    return spec


@st.composite
def scenario_files(draw: st.DrawFn, protocol: str) -> dict[str, Any]:
    """A valid scenario file (as a mapping) that `protocol` can run."""
    n_positional = draw(st.integers(1, MAX_ISSUES))
    division = protocol in DIVIDING and draw(st.integers(0, 3)) == 0
    positional = [f"issue{k}" for k in range(n_positional)]
    if division:
        positional = positional[: draw(st.integers(0, n_positional))]
    issues = positional + (["budget"] if division else [])
    n_actors = draw(st.integers(1, MAX_ACTORS))
    names = [f"actor{i}" for i in range(n_actors)]
    actors: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(names):
        spec = draw(actor_spec(positional, issues))
        spec["name"] = f"Actor {i}"
        spec["role"] = Role.signatory.value if i == 0 else draw(st.sampled_from([r.value for r in Role]))
        if i == 0:
            spec["present"] = True
        actors[name] = with_some_salience(spec)
    for name in names:
        others = [other for other in names if other != name]
        if others and draw(st.integers(0, 3)) == 0:
            actors[name]["patron_of"] = draw(st.sampled_from(others))
            actors[name]["patron_weight"] = draw(unit)
    decision = draw(st.sampled_from([d.value for d in Decision]))
    file: dict[str, Any] = {
        "name": "generated",
        "issues": {issue: {"low": "none", "high": "all"} for issue in positional},
        "actors": actors,
        "decision": decision,
        "utility_exponent": draw(st.sampled_from([1, 2])),
        "recognition": draw(st.none() | st.sampled_from([r.value for r in Recognition])),
    }
    if division:
        file["issues"]["budget"] = {"kind": "division"}
    if len(issues) >= 2 and draw(st.booleans()):
        file["linked"] = [
            draw(st.lists(st.sampled_from(issues), min_size=2, max_size=len(issues), unique=True))
        ]
    assign_strategies(draw, file, positional, division)
    return file


def assign_strategies(draw: st.DrawFn, file: dict[str, Any], positional: list[str], division: bool) -> None:
    """Give the signatories a strategy other than time-dependent where the scenario fits it."""
    actors = file["actors"]
    signing = [name for name, spec in actors.items() if spec["role"] == "signatory" and spec["present"]]
    one_positional = len(positional) == 1 and not division
    if len(signing) == 2 and one_positional and draw(st.booleans()):
        for name in signing:
            actors[name]["strategy"] = StrategyName.subgame_perfect.value
            actors[name]["discount"] = min(actors[name]["discount"], 0.99)
    only_a_division = division and not positional
    if only_a_division and file["decision"] == Decision.majority and draw(st.booleans()):
        for name in signing:
            actors[name]["strategy"] = StrategyName.baron_ferejohn.value


@st.composite
def protocol_configs(draw: st.DrawFn, protocol: str) -> ProtocolConfig:
    """A valid configuration of `protocol` with a small deadline."""
    fields: dict[str, Any] = {"name": protocol, "max_steps": draw(st.integers(1, MAX_STEPS[protocol]))}
    recognition = st.none() | st.sampled_from([r.value for r in Recognition])
    if protocol == "alternating":
        fields |= {
            "recognition": draw(recognition),
            "stall_steps": draw(st.integers(1, 8)),
            "observer_support": draw(st.floats(0.0, 3.0)),
        }
    elif protocol == "package":
        fields["recognition"] = draw(recognition)
    elif protocol == "mediated":
        fields["revision"] = draw(st.floats(0.01, 1.0))
    elif protocol == "eum":
        fields |= {
            "statistic": draw(st.sampled_from(["median", "mean"])),
            "tolerance": draw(st.sampled_from([0.0, 1e-6, 0.05])),
        }
    elif protocol == "exchange":
        weight = draw(st.floats(0.0, 1.0))
        fields |= {
            "rate": draw(st.sampled_from(["equal_gain", "random_rate"])),
            "salience_weight": weight,
            "fixed_weight": draw(st.floats(0.0, 1.0 - weight)),
        }
    return make_protocol(fields).config


def talks(protocol: str) -> st.SearchStrategy[tuple[Scenario, ProtocolConfig]]:
    """A generated scenario, built and checked as a scenario file is, with a configuration of `protocol`."""
    return st.tuples(scenario_files(protocol).map(build_scenario), protocol_configs(protocol))


seeds = st.integers(0, 2**40)
protocols = pytest.mark.parametrize("protocol", list(PROTOCOLS))


def run_model(scenario: Scenario, config: ProtocolConfig, first: int, count: int) -> sim.NegotiationModel:
    """The negotiation run with seeds `first`, ..., `first + count - 1` in lockstep."""
    seeds_ = first + np.arange(count, dtype=np.int64)
    return sim.NegotiationModel(scenario, config, seeds=seeds_, record_trace=False).run()


def in_unit_interval(values: np.ndarray) -> bool:
    return bool(((values >= -TOLERANCE) & (values <= 1 + TOLERANCE)).all())


def assert_outcome_in_range(model: sim.NegotiationModel, outcome: Outcome) -> None:
    """Values in [0, 1] where agreed and NaN elsewhere, finite utilities in [-1, 1] (a loss of up to 1
    on an issue, and no agreement on the others), steps within the
    deadline, divisions that share out the whole budget, linked issues closed together."""
    agreed = outcome.agreed
    assert in_unit_interval(outcome.value[agreed])
    assert np.isnan(outcome.value[~agreed]).all()
    assert np.isfinite(outcome.utilities).all()
    assert ((outcome.utilities >= -1 - TOLERANCE) & (outcome.utilities <= 1 + TOLERANCE)).all()
    assert ((outcome.end_step >= 1) & (outcome.end_step <= model.max_steps)).all()
    steps = outcome.agreed_step
    assert ((steps[agreed] >= 1) & (steps <= outcome.end_step[:, None])[agreed]).all()
    assert (steps[~agreed] == -1).all()
    for columns in model.negotiation.divisions().values():
        closed = agreed[:, columns].all(axis=1)
        assert (agreed[:, columns].any(axis=1) == closed).all(), "a division closed in part"
        np.testing.assert_allclose(outcome.value[closed][:, columns].sum(axis=1), 1.0, atol=1e-9)
    for columns in model.negotiation.linked_columns():
        assert (agreed[:, columns].all(axis=1) == agreed[:, columns].any(axis=1)).all()


def assert_summary_in_range(summary: dict[str, Any]) -> None:
    """Probabilities in [0, 1], and a summary that is strict JSON (no NaN or infinity)."""
    json.dumps(summary, allow_nan=False)
    probabilities = [issue["agreement_probability"] for issue in summary["issues"].values()]
    probabilities += list(summary["walk_out_probability"].values())
    assert all(0.0 <= p <= 1.0 for p in probabilities)
    assert 1 <= summary["steps"]["mean"] <= summary["steps"]["max"]


def rational(
    own_loss: np.ndarray, own_cost: Any, actor: Any, client_loss: np.ndarray, client_cost: Any
) -> np.ndarray:
    """Whether a loss is no more than no agreement costs, on the actor's own utility and, for a
    time-dependent patron, on its effective utility (its client's weighed by α), as it accepts."""
    ok = own_loss <= own_cost + MODEL_TOLERANCE + TOLERANCE
    weight = np.asarray(actor.patron_weight)
    if actor.client is not None and np.any(weight > 0) and actor.strategy.name == "time_dependent":
        effective = (1 - weight) * own_loss + weight * client_loss
        budget = (1 - weight) * own_cost + weight * client_cost
        ok &= effective <= budget + MODEL_TOLERANCE + TOLERANCE
    return ok


def per_issue_answers(model: sim.NegotiationModel, values: np.ndarray) -> np.ndarray:
    """Each present signatory's verdict on each agreed column: its issue's text (a division's
    shares taken together) is individually rational. Shape (signatories, replications, columns)."""
    answers = []
    for signatory in model.signatories:
        client = signatory.client or signatory
        answers.append(
            rational(
                signatory.issue_total(signatory.loss(values)),
                signatory.disagreement_cost,
                signatory,
                client.issue_total(client.loss(values)),
                client.disagreement_cost,
            )
        )
    return np.array(answers)


def per_package_answers(model: sim.NegotiationModel, values: np.ndarray) -> np.ndarray:
    """Each present signatory's verdict on each package (the columns agreed together at one step):
    its loss over them is no more than no agreement on them costs. Shape as `per_issue_answers`."""
    answers = np.ones((len(model.signatories), *values.shape), dtype=bool)
    for number, signatory in enumerate(model.signatories):
        client = signatory.client or signatory
        own, theirs = signatory.loss(values), client.loss(values)
        own_cost = np.broadcast_to(signatory.column_cost, values.shape)
        their_cost = np.broadcast_to(client.column_cost, values.shape)
        for row in range(model.n_replications):
            for step in np.unique(model.agreed_step[row][model.agreed[row]]):
                cells = model.agreed[row] & (model.agreed_step[row] == step)
                answers[number, row, cells] = rational(
                    own[row][cells].sum(),
                    own_cost[row][cells].sum(),
                    signatory,
                    theirs[row][cells].sum(),
                    their_cost[row][cells].sum(),
                )
    return answers


def assert_individually_rational(model: sim.NegotiationModel) -> None:
    """Every agreed text (or package) is individually rational for every veto player under
    unanimity, and for more than half of them under majority; under unanimity each veto player's
    utility of the outcome is at least its reservation."""
    values = np.nan_to_num(model.agreed_value)
    packages = getattr(model.protocol, "packages", False)
    answers = (per_package_answers if packages else per_issue_answers)(model, values)
    agreed = model.agreed
    if model.negotiation.decision == Decision.unanimity:
        assert answers.all(axis=0)[agreed].all(), (
            "an agreed text is worse than no agreement for a veto player"
        )
        utilities = model.final_utilities()
        for signatory in model.signatories:
            assert (utilities[:, signatory.index] >= signatory.reservation - TOLERANCE).all()
    else:
        assert (2 * answers.sum(axis=0) > len(model.signatories))[agreed].all()


@pytest.mark.slow
@protocols
def test_outputs_stay_in_range_and_agreements_are_individually_rational(protocol):
    @settings(max_examples=SCENARIOS)
    @given(talks(protocol), seeds, st.integers(1, 3))
    def check(generated: tuple[Scenario, ProtocolConfig], first: int, count: int) -> None:
        scenario, config = generated
        model = run_model(scenario, config, first, count)
        outcome = Outcome.of(model)
        assert_outcome_in_range(model, outcome)
        assert_individually_rational(model)
        assert_summary_in_range(summarize(outcome))

    check()


def same(a: Outcome, b: Outcome) -> None:
    """Two outcomes ended exactly alike, replication by replication."""
    np.testing.assert_array_equal(a.seeds, b.seeds)
    for field in ("agreed", "value", "agreed_step", "utilities", "walked_out_step", "end_step", "forecast"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)


@pytest.mark.slow
@protocols
def test_the_same_seed_gives_the_same_outcome_and_a_batch_is_its_single_runs(protocol):
    @settings(max_examples=SCENARIOS)
    @given(talks(protocol), seeds, st.integers(2, 4))
    def check(generated: tuple[Scenario, ProtocolConfig], first: int, count: int) -> None:
        scenario, config = generated
        job = Job(scenario=scenario, protocol=config, seed=first, replications=count, plots=False)
        batch = sim.run(job)
        assert len(batch.replications) == count
        for i in range(count):
            single = sim.run(job.replace(seed=first + i, replications=1)).outcome
            same(batch.outcome.select(i), single)
        same(sim.run(job).outcome, batch.outcome)
        assert json.dumps(sim.run(job).summary, sort_keys=True) == json.dumps(batch.summary, sort_keys=True)

    check()
