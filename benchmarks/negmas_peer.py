"""NegMAS as an optional peer: the Astana round-7 problem run with NegMAS's own machinery.

Eight aspiration (time-based, boulware) negotiators bargain over three issues with eleven
values each under the stacked alternating offers protocol (``SAOMechanism``, 100 steps).
Each party's utility is linear additive, ``u(x) = 1 - sum_k s_k |x_k - ideal_k|``, with a
reservation value of 0.3. NegMAS lives in its own environment and is imported lazily.

Run with ``/work/negmas-venv/bin/python benchmarks/negmas_peer.py``.
"""

from __future__ import annotations

import json
import random
import resource
import statistics
import sys
import time
import tracemalloc
from typing import Any

ISSUES: tuple[str, ...] = ("zones", "detainees", "demining")
VALUES: tuple[float, ...] = tuple(round(0.1 * k, 1) for k in range(11))
RESERVED_VALUE = 0.3
N_STEPS = 100
N_REPEATS = 3

PARTIES: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "government": ((0.35, 0.05, 0.75), (0.45, 0.40, 0.15)),
    "opposition": ((0.85, 0.95, 0.70), (0.40, 0.45, 0.15)),
    "russia": ((0.55, 0.30, 0.80), (0.50, 0.25, 0.25)),
    "turkey": ((0.70, 0.90, 0.70), (0.35, 0.50, 0.15)),
    "iran": ((0.45, 0.10, 0.70), (0.45, 0.40, 0.15)),
    "un": ((0.80, 0.85, 0.85), (0.35, 0.40, 0.25)),
    "us": ((0.75, 0.80, 0.80), (0.40, 0.35, 0.25)),
    "jordan": ((0.70, 0.60, 0.80), (0.50, 0.25, 0.25)),
}
"""Party name -> (ideal points, saliences), both ordered as ``ISSUES``."""

_MISSING = "NegMAS is not installed: pip install 'astana-sim[bench]'"


def _import_negmas() -> Any:
    """Return the ``negmas`` module, or raise an ``ImportError`` saying how to get it."""
    try:
        import negmas
    except ImportError as exc:
        raise ImportError(_MISSING) from exc
    return negmas


def _run_once(negmas: Any) -> tuple[bool, int]:
    """Build and run one complete negotiation; return (agreed, steps used)."""
    from negmas.preferences import LinearAdditiveUtilityFunction, TableFun

    issues = [negmas.make_issue(list(VALUES), name=name) for name in ISSUES]
    mechanism = negmas.SAOMechanism(issues=issues, n_steps=N_STEPS)
    for party, (ideal, salience) in PARTIES.items():
        ufun = LinearAdditiveUtilityFunction(
            values={
                issue.name: TableFun({v: -abs(v - point) for v in issue.values})
                for issue, point in zip(issues, ideal, strict=True)
            },
            weights={issue.name: s for issue, s in zip(issues, salience, strict=True)},
            bias=1.0,
            reserved_value=RESERVED_VALUE,
            outcome_space=mechanism.outcome_space,
        )
        mechanism.add(negmas.AspirationNegotiator(name=party), ufun=ufun)
    state = mechanism.run()
    return state.agreement is not None, state.step


def _maxrss_mb() -> float:
    """Peak resident set size of this process so far, in MB."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10


def negmas_negotiations_per_second(n_runs: int = 50, seed: int = 0) -> dict[str, Any]:
    """Time ``n_runs`` complete NegMAS negotiations of the round-7 problem, three times.

    Mechanism, utility functions and negotiators are all created inside the timed loop.
    Returns the median rate (negotiations per second) over the repeats, each repeat's
    rate, the agreement fraction and mean steps over all runs, the process's peak RSS
    (which includes NegMAS's imports and anything the caller did before), the
    ``tracemalloc`` peak of one extra untimed negotiation, and the NegMAS version.
    ``seed`` seeds ``random`` before each repeat; with non-stochastic aspiration
    negotiators every run reaches the same agreement anyway.
    Raises ``ImportError`` when NegMAS is not installed.
    """
    if n_runs < 1:
        raise ValueError(f"n_runs must be at least 1, got {n_runs}")
    negmas = _import_negmas()

    rates: list[float] = []
    agreed = 0
    steps = 0
    for repeat in range(N_REPEATS):
        random.seed(seed + repeat)
        start = time.perf_counter()
        for _ in range(n_runs):
            ok, used = _run_once(negmas)
            agreed += ok
            steps += used
        rates.append(n_runs / (time.perf_counter() - start))

    tracemalloc.start()
    try:
        _run_once(negmas)
        _, traced_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    total = n_runs * N_REPEATS
    return {
        "negmas_version": negmas.__version__,
        "python_version": sys.version.split()[0],
        "n_negotiators": len(PARTIES),
        "n_issues": len(ISSUES),
        "n_values_per_issue": len(VALUES),
        "n_steps": N_STEPS,
        "n_runs": n_runs,
        "n_repeats": N_REPEATS,
        "seed": seed,
        "negotiations_per_second": statistics.median(rates),
        "rates": rates,
        "agreement_fraction": agreed / total,
        "mean_steps": steps / total,
        "peak_rss_mb": _maxrss_mb(),
        "tracemalloc_peak_mb_one_run": traced_peak / 2**20,
    }


if __name__ == "__main__":
    print(json.dumps(negmas_negotiations_per_second(), indent=2))
