"""Errors raised by the engine layer."""
from __future__ import annotations


class SimulationError(RuntimeError):
    """OpenSim could not advance the simulation (e.g. the integrator failed).

    Environments catch it, end the episode and report ``str(error)`` in ``info``; the simulation can
    be reset and reused afterwards.
    """


class EpisodeEndedError(RuntimeError):
    """``step`` was called after a simulation failure without a ``reset`` in between."""
