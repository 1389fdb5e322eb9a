"""The public Python API: load a negotiation, run it, read the result; and the Mesa model by name.

    import sim
    talks = sim.load("astana7", "scenario.actors.turkey.salience.detainees=0.3", protocol="mediated", seed=4)
    result = sim.run(talks, replications=1000)
    result.summary, result.replications, sim.run("astana7").trace
    sim.run_variants(talks, {"scenario.actors.iran.reservation": [0.3, 0.4, 0.5]}).replications

`load` takes the same override strings as the command line (and keywords for the top-level keys
and config groups) and raises the same one-line `UserError` for a bad one. The command line is
built on these functions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import mesa
import numpy as np
from numpy.typing import ArrayLike

from sim.core.limits import MAX_SEED, check_seeds
from sim.core.scenario import Scenario
from sim.core.variants import Variants, variants_from_keys
from sim.errors import UserError
from sim.model.model import Talks
from sim.outputs.result import Result
from sim.protocols import Protocol, ProtocolConfig, make_protocol
from sim.setup.compose import compose_config
from sim.setup.job import Job, check_fit, job_from_config
from sim.studies.batch import run_batch
from sim.studies.run import simulate


def override(key: str, value: Any) -> str:
    """`key=value` in Hydra's override syntax, from a Python value."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    elif isinstance(value, (list, tuple)):
        text = "[" + ",".join(override("", item)[1:] for item in value) + "]"
    else:
        text = str(value)
    return f"{key}={text}"


def load(scenario: str | None = None, *overrides: str, **keys: Any) -> Job:
    """The job a scenario and overrides describe, checked (raises UserError).

    `scenario` names a scenario (`astana7`, `table`, ...); `overrides` are command-line overrides
    (`"scenario.actors.iran.reservation=0.3"`); `keys` set top-level keys and groups by name
    (`protocol="mediated"`, `seed=4`, `replications=100`); a key may spell dots as `__`.
    """
    typed = [*([f"scenario={scenario}"] if scenario is not None else []), *overrides]
    typed += [override(key.replace("__", "."), value) for key, value in keys.items()]
    return job_from_config(compose_config(typed), overrides=tuple(typed))


def run(talks: Job | str, *overrides: str, progress: bool | None = False, **keys: Any) -> Result:
    """Run a job (from `load`) or a scenario by name with overrides; return its `Result`.

    With a job, `keys` change its run settings (`replications`, `seed`, `trace`); with a name,
    `run("astana7", ...)` is `run(load("astana7", ...))`. Nothing is written to disk: see
    `sim.write` for the run folder.
    """
    if isinstance(talks, str):
        job = load(talks, *overrides, **keys)
    else:
        if overrides:
            job = load(None, *talks.overrides, *overrides, **keys)
        else:
            job = talks.replace(**keys) if keys else talks
    return simulate(job, progress=progress)


def run_variants(
    talks: Job | str,
    variants: Mapping[str, ArrayLike] | Variants,
    seeds: ArrayLike | None = None,
    *,
    progress: bool | None = False,
) -> Result:
    """Run one negotiation per variant of a job's scenario, all in one batch; return its `Result`.

    `variants` maps override keys, as on the command line, to one value per variant:
    `{"scenario.actors.turkey.salience.detainees": array, "scenario.actors.iran.reservation":
    array}` (ideal points `.ideal.ISSUE`, stated saliences `.salience.ISSUE`, and `.capability`,
    `.reservation`, `.concession`, `.patron_weight`, `.discount`); what no key sets keeps the
    scenario's value. A `Variants` of whole arrays works too. Variant i runs with `seeds[i]`
    (default: the job's seed + i) and gives exactly the numbers of a single run of that variant
    with that seed; `result.replications` has one row per variant, in order. The summary's
    reference points and scenario description are the job's scenario's. Raises UserError, as
    `load` does, for an unknown actor, issue or parameter, or a value out of range.
    """
    job = load(talks) if isinstance(talks, str) else talks
    changes = variants if isinstance(variants, Variants) else variants_from_keys(job.scenario, variants)
    count = len(changes)
    if seeds is None:
        job = job.replace(replications=count)
        chosen = job.seed + np.arange(count, dtype=np.int64)
    else:
        given = np.asarray(seeds)
        if given.dtype.kind not in "iu" or given.shape != (count,):
            raise UserError(f"seeds has shape {given.shape}: give one whole number per variant ({count})")
        if given.min() < 0 or given.max() > MAX_SEED:
            raise UserError(
                f"seeds run from {given.min()} to {given.max()}: give whole numbers from 0 to {MAX_SEED}"
            )
        chosen = given.astype(np.int64)
        job = dataclasses.replace(job, replications=count)
    outcome = run_batch(job.scenario, job.protocol, chosen, progress=progress, variants=changes)
    extra = {"path": job.scenario.source} if job.source is not None else {}
    return Result(job, outcome, extra)


class NegotiationModel(Talks):
    """The negotiation as a Mesa model, built from plain keyword arguments.

        NegotiationModel(scenario="astana7", protocol="alternating", rng=3, **overrides)

    `scenario` is a scenario's name (or a `Scenario`), `protocol` a protocol's name (or its
    `Config`, or a `Protocol`), `rng` (or `seed`) the seed, and every other keyword an override
    of the configuration, its dots spelled as `__` or kept in the key
    (`**{"scenario.actors.iran.reservation": 0.3}`). So `mesa.batch_run(NegotiationModel,
    parameters={"scenario": "astana7", "seed": range(10)})` works; its model reporters are plain
    numbers per issue (`detainees.agreed`, `detainees.value`, `detainees.text`) and per actor
    (`iran.utility`, `iran.aspiration`), for the first replication. `seeds` runs a batch of
    replications in lockstep.
    """

    def __init__(
        self,
        scenario: str | Scenario = "astana7",
        protocol: str | ProtocolConfig | Protocol | None = None,
        rng: int | None = None,
        seeds: Sequence[int] | np.ndarray | None = None,
        record_trace: bool = True,
        **overrides: Any,
    ) -> None:
        seed = rng if rng is not None else overrides.pop("seed", None)
        if isinstance(scenario, Scenario):
            if overrides:
                raise TypeError(f"overrides {sorted(overrides)} need a scenario by name, not a Scenario")
            protocol_object = _protocol(protocol)
            check_fit(scenario, protocol_object.config)
            negotiation = scenario
        else:
            keys = dict(overrides)
            if isinstance(protocol, str):
                keys["protocol"] = protocol
            job = load(scenario, **keys)
            negotiation = job.scenario
            protocol_object = _protocol(
                protocol if protocol is not None and not isinstance(protocol, str) else job.protocol
            )
            seed = job.seed if seed is None else seed
        if seeds is None:
            seeds = [0 if seed is None else int(seed)]
        for end in (min(seeds), max(seeds)):
            check_seeds(int(end), 1)
        super().__init__(negotiation, protocol_object, seeds, record_trace=record_trace)
        self.datacollector = mesa.DataCollector(model_reporters=self.reporters())
        self.datacollector.collect(self)

    def reporters(self) -> dict[str, Any]:
        """Plain numbers per issue column and per actor, for the first replication."""
        reporters: dict[str, Any] = {"steps": lambda m: m.steps, "finished": lambda m: bool(m.finished[0])}
        for k, name in enumerate(self.negotiation.column_names):
            reporters[f"{name}.agreed"] = lambda m, k=k: bool(m.agreed[0, k])
            reporters[f"{name}.value"] = lambda m, k=k: float(m.agreed_value[0, k])
            reporters[f"{name}.text"] = lambda m, k=k: float(m.text[0, k])
        for actor in self.actors:
            reporters[f"{actor.key}.utility"] = lambda m, a=actor: float(m.current_utility(a)[0])
            reporters[f"{actor.key}.aspiration"] = lambda m, a=actor: float(a.aspiration(m.tau))
        return reporters

    def step(self) -> None:
        super().step()
        self.datacollector.collect(self)


def _protocol(protocol: str | ProtocolConfig | Protocol | None) -> Protocol:
    if protocol is None:
        return make_protocol({"name": "alternating"})
    if isinstance(protocol, Protocol):
        return protocol
    if isinstance(protocol, str):
        return make_protocol({"name": protocol})
    return make_protocol(protocol)
