"""What every protocol in `sim.protocols.PROTOCOLS` must keep, on astana7, random and degenerate talks.

The suite is parametrised over the registry, so a protocol added later is checked too. Each
protocol runs with its schema's defaults (`Protocol.Config`), the values a YAML file would give.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import cache

import numpy as np
import pytest
from conftest import build, compose

from sim import NegotiationModel
from sim.core.scenario import Scenario
from sim.outputs.outcome import Outcome
from sim.outputs.summary import summarize
from sim.outputs.text import format_table
from sim.outputs.trace import trace_frame
from sim.protocols import PROTOCOLS, make_protocol
from sim.protocols.base import Protocol
from sim.studies.synthetic import random_scenario

SEEDS = (0, 3, 7)
TOLERANCE = 1e-9
ACTOR_TUPLES = ("actors", "display_names", "roles", "strategies")
"""The tuple fields of `Scenario` with one entry per actor (those it has)."""


def default_protocol(name: str) -> Protocol:
    """The protocol as its schema's defaults configure it."""
    return make_protocol(dataclasses.asdict(PROTOCOLS[name].Config()))


def keep_actors(scenario: Scenario, rows: list[int]) -> Scenario:
    """The scenario with only the actors `rows`; a patron whose client is dropped has none."""
    changes: dict[str, object] = {}
    for field in dataclasses.fields(scenario):
        value = getattr(scenario, field.name)
        if isinstance(value, np.ndarray) and value.ndim and value.shape[0] == scenario.n_actors:
            changes[field.name] = value[rows]
        elif field.name in ACTOR_TUPLES and isinstance(value, tuple) and len(value) == scenario.n_actors:
            changes[field.name] = tuple(value[i] for i in rows)
    old_client = scenario.client[rows]
    client = np.array([rows.index(c) if c in rows else -1 for c in old_client])
    changes["client"] = client
    changes["patron_weight"] = np.where(client >= 0, scenario.patron_weight[rows], 0.0)
    return dataclasses.replace(scenario, **changes)


def keep_issues(scenario: Scenario, columns: list[int]) -> Scenario:
    """The scenario with only the issues `columns`, each actor's saliences normalised again."""
    stated = scenario.stated_salience[:, columns]
    totals = stated.sum(axis=1, keepdims=True)
    return dataclasses.replace(
        scenario,
        columns=tuple(scenario.columns[k] for k in columns),
        ideal=scenario.ideal[:, columns],
        salience=np.divide(stated, totals, out=np.zeros_like(stated), where=totals > 0),
        stated_salience=stated,
        record={},
    )


def identical_actors(scenario: Scenario) -> Scenario:
    """Every actor with the preferences of the first, roles and patrons kept."""
    first = [0] * scenario.n_actors
    return dataclasses.replace(
        scenario,
        ideal=scenario.ideal[first],
        salience=scenario.salience[first],
        stated_salience=scenario.stated_salience[first],
        capability=scenario.capability[first],
        reservation=scenario.reservation[first],
        concession=scenario.concession[first],
    )


def no_salience(scenario: Scenario) -> Scenario:
    zeros = np.zeros_like(scenario.salience)
    return dataclasses.replace(scenario, salience=zeros, stated_salience=zeros)


def absent_mediator(scenario: Scenario) -> Scenario:
    present = scenario.present & (np.array(scenario.roles) != "mediator")
    assert not present.all(), "the base scenario has a mediator"
    return dataclasses.replace(scenario, present=present)


@cache
def astana7() -> Scenario:
    return build(compose("scenario=astana7"))[0]


BASE = (20, 3, 5)
SCENARIOS: dict[str, Callable[[], Scenario]] = {
    "astana7": astana7,
    "astana7_quadratic": lambda: dataclasses.replace(astana7(), utility_exponent=2),
    "random_20x3": lambda: random_scenario(*BASE),
    "random_30x2": lambda: random_scenario(30, 2, 11),
    "one_guarantor_alone": lambda: keep_actors(random_scenario(*BASE), [0]),
    "one_issue": lambda: keep_issues(random_scenario(*BASE), [1]),
    "identical_actors": lambda: identical_actors(random_scenario(*BASE)),
    "no_salience": lambda: no_salience(random_scenario(*BASE)),
    "absent_mediator": lambda: absent_mediator(random_scenario(*BASE)),
}

CASES = [pytest.param(p, s, id=f"{p}-{s}") for p in PROTOCOLS for s in SCENARIOS]


def run(protocol: str, scenario: str, seeds: tuple[int, ...], trace: bool = False) -> NegotiationModel:
    return NegotiationModel(
        SCENARIOS[scenario](), default_protocol(protocol), seeds=seeds, record_trace=trace
    )


def within_unit_interval(values: np.ndarray) -> bool:
    known = values[~np.isnan(values)]
    return bool(((known >= -TOLERANCE) & (known <= 1 + TOLERANCE)).all())


def assert_step_keeps_the_contract(model: NegotiationModel, agreed_before: np.ndarray) -> None:
    replications, issues = model.n_replications, model.negotiation.n_columns
    present = np.array([actor.present for actor in model.actors])
    active_before = ~model.finished_before_step
    assert model.positions.shape == (model.negotiation.n_actors, issues)
    assert np.isnan(model.positions[~present]).all(), "absent actors have positions"
    assert within_unit_interval(model.positions)
    assert within_unit_interval(model.text)
    assert within_unit_interval(model.forecast)
    offered = active_before[:, None] & model.open_before_step
    assert not np.isnan(model.text[offered]).any(), "an open issue has no text on the table"
    assert model.proposer.shape == (replications,)
    assert ((model.proposer >= -1) & (model.proposer < model.negotiation.n_actors)).all()
    speakers = model.proposer[model.proposer >= 0]
    assert present[speakers].all(), "an absent actor proposed"
    assert model.accepting.shape in (
        (replications, len(model.signatories), issues),
        (replications, 0, issues),
    )
    agreed = model.agreed & ~agreed_before
    if agreed.any():
        assert model.accepting.shape[1] == len(model.signatories), "agreement without the guarantors' answers"
        assert model.accepting.all(axis=1)[agreed].all(), "agreement over a guarantor's refusal"
    assert (model.agreed_step[agreed] == model.steps).all()
    np.testing.assert_array_equal(model.text[model.agreed], model.agreed_value[model.agreed])


def assert_packages_are_individually_rational(model: NegotiationModel, guarantor, loss: np.ndarray) -> None:
    """For a protocol that agrees packages (`packages`): the issues agreed together at one step cost
    each signatory no more than no agreement on them, on its own and on its effective utility."""
    cost = np.broadcast_to(guarantor.column_cost, loss.shape)
    client = guarantor.client
    weight, client_loss, client_cost = 0.0, np.zeros_like(loss), np.zeros_like(loss)
    if client is not None:
        weight = guarantor.patron_weight
        client_loss = client.loss(np.nan_to_num(model.agreed_value))
        client_cost = np.broadcast_to(client.column_cost, loss.shape)
    for row in range(model.n_replications):
        for step in np.unique(model.agreed_step[row][model.agreed[row]]):
            cells = model.agreed[row] & (model.agreed_step[row] == step)
            assert loss[row][cells].sum() <= cost[row][cells].sum() + TOLERANCE
            effective = (1 - weight) * loss[row][cells].sum() + weight * client_loss[row][cells].sum()
            budget = (1 - weight) * cost[row][cells].sum() + weight * client_cost[row][cells].sum()
            assert effective <= budget + TOLERANCE


@pytest.mark.parametrize(("protocol", "scenario"), CASES)
def test_every_step_keeps_the_contract_and_agreements_are_individually_rational(protocol, scenario):
    model = run(protocol, scenario, SEEDS)
    while model.running:
        agreed_before = model.agreed.copy()
        model.step()
        assert_step_keeps_the_contract(model, agreed_before)
    assert model.finished.all()
    assert (model.end_step >= 1).all() and (model.end_step <= model.max_steps).all()
    assert not (model.open & model.agreed).any()

    values = np.nan_to_num(model.agreed_value)
    packages = getattr(model.protocol, "packages", False)
    for guarantor in model.signatories:
        loss = guarantor.loss(values)
        if packages:
            assert_packages_are_individually_rational(model, guarantor, loss)
        else:
            assert guarantor.accepts(values, 1.0)[model.agreed].all()
            assert (loss[model.agreed] <= guarantor.disagreement_cost + TOLERANCE).all()
        client = guarantor.client
        if client is not None and guarantor.patron_weight > 0 and not packages:
            weight = guarantor.patron_weight
            effective = (1 - weight) * loss + weight * client.loss(values)
            budget = (1 - weight) * guarantor.disagreement_cost + weight * client.disagreement_cost
            assert (effective[model.agreed] <= budget + TOLERANCE).all()
        utility = model.final_utilities()[:, guarantor.index]
        assert (utility >= guarantor.reservation - TOLERANCE).all()


@pytest.mark.parametrize(("protocol", "scenario"), CASES)
def test_same_seed_same_summary_and_batch_equals_single_runs(protocol, scenario):
    seeds = (SEEDS[0], SEEDS[-1])
    batch = run(protocol, scenario, seeds).run()
    singles = [run(protocol, scenario, (seed,), trace=seed == seeds[0]).run() for seed in seeds]
    summaries = [summarize(Outcome.of(single)) for single in singles]
    for i, summary in enumerate(summaries):
        assert summary == summarize(Outcome.of(batch).select(i))
    again = run(protocol, scenario, seeds[:1]).run()
    assert summarize(Outcome.of(again)) == summaries[0]
    trace = trace_frame(singles[0])
    assert trace[trace.quantity.isin(["offer", "position"])].value.between(0.0, 1.0).all()
    assert format_table(summaries[0]).splitlines()[0].endswith(" steps")
    assert "2 replications" in format_table(summarize(Outcome.of(batch))).splitlines()[0]
