"""Random negotiations of any size, for benchmarks and property tests."""

from __future__ import annotations

import numpy as np

from sim.core.scenario import Column, Role, Scenario


def random_scenario(n_actors: int, n_issues: int, seed: int = 0) -> Scenario:
    """A negotiation with `n_actors` actors and `n_issues` issues drawn at random.

    About a tenth of the actors are signatories (at least one), a third are parties, one is a
    mediator and the rest observers; each of the first parties is the client of one signatory.
    """
    rng = np.random.default_rng(seed)
    n_signatories = max(1, n_actors // 10)
    n_parties = min(n_actors - n_signatories, n_actors // 3)
    n_mediators = 1 if n_actors - n_signatories - n_parties > 0 else 0
    roles = (
        [Role.signatory] * n_signatories
        + [Role.party] * n_parties
        + [Role.mediator] * n_mediators
        + [Role.observer] * (n_actors - n_signatories - n_parties - n_mediators)
    )
    salience = rng.random((n_actors, n_issues)) ** 2
    salience /= salience.sum(axis=1, keepdims=True)
    client = np.full(n_actors, -1)
    weight = np.zeros(n_actors)
    for g in range(min(n_signatories, n_parties)):
        client[g] = n_signatories + g
        weight[g] = rng.uniform(0.1, 0.4)
    return Scenario(
        name=f"random_{n_actors}x{n_issues}",
        title=f"Random negotiation: {n_actors} actors, {n_issues} issues (seed {seed})",
        columns=tuple(Column(f"issue{k}", "low end", "high end") for k in range(n_issues)),
        actors=tuple(f"actor{i}" for i in range(n_actors)),
        display_names=tuple(f"Actor {i}" for i in range(n_actors)),
        roles=tuple(roles),
        ideal=rng.random((n_actors, n_issues)),
        salience=salience,
        capability=rng.uniform(0.1, 1.0, n_actors),
        reservation=rng.uniform(0.2, 0.6, n_actors),
        concession=rng.uniform(0.5, 2.0, n_actors),
        patience=rng.integers(5, 20, n_actors),
        client=client,
        patron_weight=weight,
        present=np.ones(n_actors, dtype=bool),
    )
