"""Controllers for the musculoskeletal environments.

``OsimReflexCtrl`` (the reflex controller of Song & Geyer 2015 as adapted in osim-rl 3.0.11) maps
the ``L2M2019Env`` observation dict to 22 excitations; ``LocoCtrl`` is the controller itself;
:mod:`osim.control.optimize` tunes its parameters with CMA-ES; the published parameters ship in
``osim/control/data`` (:func:`load_published_params`), with the planar ones re-optimised for the
MuJoCo engine (:func:`reflex_parameters` picks by mode and engine; :func:`reflex_controller` builds
the controller as they were tuned). The original module paths work:
``osim.control.osim_loco_reflex_song2019.OsimReflexCtrl``.
"""
from .loco_reflex_song2019 import LocoCtrl
from .osim_loco_reflex_song2019 import (
    EXAMPLE_INIT_POSE,
    OsimReflexCtrl,
    load_published_params,
    load_reflex_params,
    published_params_path,
    reflex_controller,
    reflex_parameters,
    reflex_parameters_path,
    teacher_parameters,
)

__all__ = ["EXAMPLE_INIT_POSE", "LocoCtrl", "OsimReflexCtrl", "load_published_params", "load_reflex_params",
           "published_params_path", "reflex_controller", "reflex_parameters", "reflex_parameters_path",
           "teacher_parameters"]
