"""Run the decide exchange model on the climate tables and keep its results as test data.

decide (`decide-exchange-model` on PyPI, repository foarsitter/decide-exchange-model) is the
reference implementation of the exchange model (Stokman & Van Oosten 1994) that
`sim.protocols.exchange` follows. Its pinned dependencies predate Python 3.12, so it runs in an
environment of its own, outside the repository:

    python3.12 -m venv /tmp/decide-env
    /tmp/decide-env/bin/pip install --no-deps decide-exchange-model numpy pandas matplotlib \\
        blinker==1.5 peewee typesystem==0.2.5
    /tmp/decide-env/bin/python benchmarks/decide_reference.py [--seeds 30]

This script drives decide's model classes directly (its `ModelFactory` and `ModelLoop`, as its
command line does, without the command line's database and output folders) and writes, for each
of `data/decide/copenhagen.csv` and `data/decide/cop21.csv`, `tests/data/decide_<table>.json`:

- `rounds`: the equal gain model, deterministic, round by round: the exchanges realised, in
  order (each side's actor, supply issue, position before and voting position after, and the
  gain), the outcome (the weighted mean of the voting positions per issue) and every actor's
  position at the start of the next round. The tests pin `sim.protocols.exchange` to it, to 1e-6.
- `random_ties`: decide as it runs by default: the final outcome per issue over `--seeds` seeds
  of Python's `random`, with which it breaks ties. The tests check distributions against it.
- `random_rate`: whether decide's random rate model runs, and the error it stops with if not.

decide computes in 28-digit decimals, and two of its comparisons then turn on the last digit
where exact arithmetic gives a tie: two exchanges with equal gains (which decide breaks at
random by default, or by the last digit of their gains with `EqualGainModel.ALLOW_RANDOM =
False`), and an issue's outcome that sits exactly at a partner's position (whether a further
move "crosses" it). For `rounds` this script makes both exact, with two wrappers around decide's
own methods that leave its rules as they are: `ALLOW_RANDOM = False`, the exchanges sorted by
their gains rounded to 12 decimals (equal ones keep their order in the list), and an outcome
within 1e-9 of the partner's position taken as at it. `sim.protocols.exchange_model` uses the
same two tolerances.

Positions are on decide's 0-100 scale, which for these tables is the source's own.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import traceback
from decimal import Decimal
from pathlib import Path
from typing import Any

import decide
from decide.data.modelfactory import ModelFactory
from decide.data.reader import InputDataFile
from decide.model import base, equalgain, randomrate
from decide.model.utils import ModelLoop

ROOT = Path(__file__).resolve().parents[1]
TABLES = ("copenhagen", "cop21")
ROUNDS = 10
"""Rounds per run: decide's command-line default (`--iterations`)."""
TIE_DIGITS = 12
AT_PARTNER = Decimal("1e-9")
DECIDE_SORT = equalgain.EqualGainModel.sort_exchanges
DECIDE_ADJUST_NBS = base.AbstractExchangeActor.adjust_nbs


class Silent:
    """An event handler that ignores every event (decide's observers write files and plots)."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


class Recording(equalgain.EqualGainModel):
    """decide's equal gain model, keeping the exchanges each round realises, in order."""

    def __init__(self, randomized_value: Any = None) -> None:
        super().__init__(randomized_value)
        self.realised: list[equalgain.EqualGainExchange] = []

    def remove_invalid_exchanges(self, res: equalgain.EqualGainExchange) -> Any:
        self.realised.append(res)
        return super().remove_invalid_exchanges(res)


def sort_with_exact_ties(model: equalgain.EqualGainModel) -> None:
    """decide's sort by gain, highest first, with gains equal to `TIE_DIGITS` decimals tied."""
    model.exchanges.sort(key=lambda exchange: round(float(exchange.gain), TIE_DIGITS), reverse=True)


def outcome_at_partner(actor: base.AbstractExchangeActor, position: Any) -> Any:
    """decide's outcome of the actor's supply issue, taken as the partner's position when within
    `AT_PARTNER` of it."""
    value = DECIDE_ADJUST_NBS(actor, position)
    target = actor.opposite_actor.demand.position
    return target if abs(value - target) <= AT_PARTNER else value


def exact(on: bool) -> None:
    """Make decide's two last-digit comparisons exact (on), or restore decide as it is (off)."""
    equalgain.EqualGainModel.ALLOW_RANDOM = not on
    equalgain.EqualGainModel.sort_exchanges = sort_with_exact_ties if on else DECIDE_SORT
    base.AbstractExchangeActor.adjust_nbs = outcome_at_partner if on else DECIDE_ADJUST_NBS


def side(actor: Any) -> dict[str, Any]:
    return {
        "actor": actor.actor.actor_id,
        "supply": actor.supply.issue.name,
        "position": float(actor.supply.position),
        "voting": float(actor.y),
    }


def positions(model: Any) -> dict[str, dict[str, float]]:
    """Every actor's position per issue (decide's 0-100 scale)."""
    out: dict[str, dict[str, float]] = {}
    for issue, actor_issues in model.actor_issues.items():
        for actor, actor_issue in actor_issues.items():
            out.setdefault(actor.actor_id, {})[issue.name] = float(actor_issue.position)
    return out


def deterministic_rounds(path: Path) -> list[dict[str, Any]]:
    """The equal gain model, its comparisons exact, round by round."""
    exact(True)
    model = ModelFactory(InputDataFile.open(str(path)))(model_klass=Recording, randomized_value=None)
    loop = ModelLoop(model, Silent(), 0)
    rounds = []
    for _ in range(ROUNDS):
        model.realised = []
        loop.loop()
        rounds.append(
            {
                "exchanges": [
                    {"first": side(e.i), "second": side(e.j), "gain": float(e.gain)} for e in model.realised
                ],
                "outcome": {issue.name: float(value) for issue, value in model.nbs.items()},
                "positions": positions(model),
            }
        )
    return rounds


def random_ties(path: Path, seeds: int) -> dict[str, list[float]]:
    """decide's default run (exact ties broken at random), final outcome per issue, per seed."""
    exact(False)
    outcomes: dict[str, list[float]] = {}
    for seed in range(seeds):
        random.seed(seed)
        model = ModelFactory(InputDataFile.open(str(path)))(model_klass=equalgain.EqualGainModel)
        loop = ModelLoop(model, Silent(), 0)
        for _ in range(ROUNDS):
            loop.loop()
        for issue, value in model.nbs.items():
            outcomes.setdefault(issue.name, []).append(float(value))
    return outcomes


def random_rate(path: Path) -> dict[str, Any]:
    """Whether decide's random rate model runs one round on the table."""
    exact(False)
    random.seed(0)
    try:
        model = ModelFactory(InputDataFile.open(str(path)))(model_klass=randomrate.RandomRateModel)
        ModelLoop(model, Silent(), 0).loop()
    except Exception as error:  # decide's own failure, recorded as data
        last = traceback.extract_tb(error.__traceback__)[-1]
        return {
            "runs": False,
            "error": f"{type(error).__name__}: {error}",
            "where": f"{last.name}, line {last.lineno}",
        }
    return {"runs": True}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30, help="seeds of the random tie-breaking runs")
    args = parser.parse_args()
    out = ROOT / "tests" / "data"
    out.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        path = ROOT / "data" / "decide" / f"{name}.csv"
        start = time.perf_counter()
        reference = {
            "decide": {
                "version": decide.__version__,
                "model": "equal gain",
                "rounds": ROUNDS,
                "exact": f"ties: gains equal to {TIE_DIGITS} decimals, in list order; an outcome within "
                f"{AT_PARTNER} of the partner's position is at it",
            },
            "table": f"data/decide/{name}.csv",
            "rounds": deterministic_rounds(path),
        }
        deterministic = time.perf_counter() - start
        reference["random_ties"] = {"seeds": args.seeds, "outcome": random_ties(path, args.seeds)}
        reference["random_rate"] = random_rate(path)
        (out / f"decide_{name}.json").write_text(json.dumps(reference, indent=1) + "\n")
        print(f"{name}: {deterministic:.1f} s for {ROUNDS} rounds; wrote {out / f'decide_{name}.json'}")


if __name__ == "__main__":
    main()
