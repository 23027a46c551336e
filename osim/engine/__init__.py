"""The engine layer: the only code that drives OpenSim simulations.

Environments and tasks compute observations, rewards and termination from what this layer reports
(:meth:`Simulation.state_description`), never by talking to OpenSim themselves.
"""
from .actions import validate_excitations
from .display import display_available, simbody_visualizer_path, visualizer_usable
from .errors import EpisodeEndedError, SimulationError
from .opensim_log import set_opensim_log_level
from .simulation import INTEGRATOR_METHODS, IntegratorSettings, Simulation
from .state_description import StateDescriber, StateDescription

__all__ = [
    "INTEGRATOR_METHODS",
    "EpisodeEndedError",
    "IntegratorSettings",
    "Simulation",
    "SimulationError",
    "StateDescriber",
    "StateDescription",
    "display_available",
    "set_opensim_log_level",
    "simbody_visualizer_path",
    "validate_excitations",
    "visualizer_usable",
]
