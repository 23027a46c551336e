"""Controllers for the musculoskeletal environments.

``OsimReflexCtrl`` (the reflex controller of Song & Geyer 2015 as adapted in osim-rl 3.0.11) maps
the ``L2M2019Env`` observation dict to 22 excitations; ``LocoCtrl`` is the controller itself;
:mod:`osim.control.optimize` tunes its parameters with CMA-ES. The original module paths work:
``osim.control.osim_loco_reflex_song2019.OsimReflexCtrl``.
"""
from .loco_reflex_song2019 import LocoCtrl
from .osim_loco_reflex_song2019 import EXAMPLE_INIT_POSE, OsimReflexCtrl, load_reflex_params

__all__ = ["EXAMPLE_INIT_POSE", "LocoCtrl", "OsimReflexCtrl", "load_reflex_params"]
