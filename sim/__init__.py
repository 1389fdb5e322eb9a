"""astana-sim: a multi-agent simulation of multilateral peace talks on Mesa and Hydra.

    import sim
    result = sim.run("astana7", replications=1000)
    result.summary

`sim.load` builds a job from a scenario and overrides, `sim.run` runs it and returns a `Result`,
`sim.run_variants` runs many variants of its numbers in one batch, `sim.write` writes its run
folder, and `sim.NegotiationModel` is the Mesa model by name.
"""

from sim.api import NegotiationModel, load, run, run_variants
from sim.core.variants import Variants
from sim.errors import UserError
from sim.outputs.result import Result
from sim.setup.job import Job
from sim.studies.run import write_run as write

__version__ = "0.1.0"

__all__ = [
    "Job",
    "NegotiationModel",
    "Result",
    "UserError",
    "Variants",
    "load",
    "run",
    "run_variants",
    "write",
]
