"""Errors raised by the engine layer."""
from __future__ import annotations


class SimulationError(RuntimeError):
    """OpenSim could not advance the simulation (e.g. the integrator failed).

    Environments catch it, end the episode and report ``str(error)`` in ``info``; the simulation can
    be reset and reused afterwards.
    """


class EpisodeEndedError(RuntimeError):
    """``step`` was called after a simulation failure without a ``reset`` in between."""


class UnknownComponentError(KeyError):
    """A coordinate, muscle, body ... name that the model does not have.

    A ``KeyError`` whose message names the unknown name and lists the valid ones.
    """

    def __init__(self, kind: str, name: str, valid: list[str]) -> None:
        super().__init__(name)
        self.kind, self.name, self.valid = kind, name, valid
        self.message = f"unknown {kind} {name!r}; valid {kind} names: {', '.join(valid) or '(none)'}"

    def __str__(self) -> str:
        return self.message
