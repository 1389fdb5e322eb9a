"""astana-sim: a multi-agent simulation of multilateral peace talks on Mesa and Hydra."""

__version__ = "0.1.0"
