"""How closely the exchange protocol follows decide on the climate tables: the figures of the README.

    python benchmarks/decide_comparison.py

Reads decide's results (`tests/data/decide_<table>.json`, written by `benchmarks/decide_reference.py`
in decide's environment), runs ten rounds of `sim.protocols.exchange_model` on each table, each
from the positions the last left, and prints per table: the exchanges per round, whether every
round realised decide's exchanges in decide's order, the largest difference in votes, gains,
outcomes and next positions (decide's 0-100 scale), and how far the final outcome of each issue
lies from the mean of decide's default runs (random tie-breaking), in their standard deviations.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sim.protocols.exchange import INPUT_DIGITS
from sim.protocols.exchange_model import SCALE, Table, play_round
from sim.tables.readers import read_table
from sim.tables.scenario import scenario_from_table

ROOT = Path(__file__).resolve().parents[1]


def compare(name: str) -> None:
    reference = json.loads((ROOT / "tests" / "data" / f"decide_{name}.json").read_text())
    scenario = scenario_from_table(read_table(ROOT / "data" / "decide" / f"{name}.csv"))
    stake = scenario.present[:, None] & (scenario.stated_salience > 0)
    positions = np.round(scenario.ideal * SCALE, INPUT_DIGITS)
    counts, same_order, worst = [], True, 0.0
    for theirs in reference["rounds"]:
        played = play_round(Table(positions, scenario.stated_salience, scenario.capability, stake))
        ours = [
            (
                scenario.actors[e.first.actor],
                scenario.column_names[e.first.supply],
                scenario.actors[e.second.actor],
            )
            for e in played.exchanges
        ]
        expected = [
            (e["first"]["actor"], e["first"]["supply"], e["second"]["actor"]) for e in theirs["exchanges"]
        ]
        same_order &= ours == expected
        counts.append(len(played.exchanges))
        for exchange, recorded in zip(played.exchanges, theirs["exchanges"], strict=False):
            worst = max(
                worst,
                abs(exchange.first.vote - recorded["first"]["voting"]),
                abs(exchange.second.vote - recorded["second"]["voting"]),
                abs(exchange.gain - recorded["gain"]),
            )
        for k, issue in enumerate(scenario.column_names):
            worst = max(worst, abs(played.outcome[k] - theirs["outcome"][issue]))
        for a, k in zip(*np.nonzero(stake), strict=True):
            recorded = theirs["positions"][scenario.actors[a]][scenario.column_names[k]]
            worst = max(worst, abs(played.next_positions[a, k] - recorded))
        positions = played.next_positions
    print(f"{name}: exchanges per round {counts}; decide's exchanges in decide's order: {same_order}")
    print(f"  largest difference (votes, gains, outcomes, next positions): {worst:.1e}")
    spread = reference["random_ties"]
    z = {}
    for k, issue in enumerate(scenario.column_names):
        values = np.array(spread["outcome"][issue])
        z[issue] = (played.outcome[k] - values.mean()) / values.std(ddof=1)
    sds = [np.std(spread["outcome"][issue], ddof=1) for issue in scenario.column_names]
    print(
        f"  decide by default, {spread['seeds']} seeds: sd of the final outcome {min(sds):.2f}-{max(sds):.2f}"
    )
    print("  ours in sd from its mean: " + ", ".join(f"{issue} {value:+.2f}" for issue, value in z.items()))
    print(f"  decide's random rate model: {reference['random_rate']}")


def main() -> None:
    for name in ("copenhagen", "cop21"):
        compare(name)


if __name__ == "__main__":
    main()
