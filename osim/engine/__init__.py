"""The engine layer: the only code (with :mod:`osim.models`) that talks to OpenSim.

Environments and tasks compute observations, rewards and termination from what this layer reports
(:meth:`Simulation.state_description`, :attr:`Simulation.structure`), never by talking to OpenSim
themselves. :mod:`osim.engine.interface` defines what any engine provides (:class:`Engine`);
:class:`Simulation` is the OpenSim engine.
"""
from .actions import validate_excitations
from .display import display_available, simbody_visualizer_path, visualizer_usable
from .errors import EpisodeEndedError, SimulationError, UnknownComponentError
from .interface import (
    BodyInfo,
    ContactGeometryInfo,
    CoordinateInfo,
    Engine,
    JointInfo,
    MarkerInfo,
    ModelStructure,
    MuscleInfo,
    StateDescription,
)
from .opensim_log import set_opensim_log_level
from .simulation import INTEGRATOR_METHODS, IntegratorSettings, OpenSimHandles, Simulation
from .state_arrays import StateArrays
from .state_description import StateDescriber

__all__ = [
    "INTEGRATOR_METHODS",
    "BodyInfo",
    "ContactGeometryInfo",
    "CoordinateInfo",
    "Engine",
    "EpisodeEndedError",
    "IntegratorSettings",
    "JointInfo",
    "MarkerInfo",
    "ModelStructure",
    "MuscleInfo",
    "OpenSimHandles",
    "Simulation",
    "SimulationError",
    "StateArrays",
    "StateDescriber",
    "StateDescription",
    "UnknownComponentError",
    "display_available",
    "set_opensim_log_level",
    "simbody_visualizer_path",
    "validate_excitations",
    "visualizer_usable",
]
