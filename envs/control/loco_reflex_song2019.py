"""The original module path ``envs.control.loco_reflex_song2019``: re-exports ``LocoCtrl``."""
from osim.control.loco_reflex_song2019 import LocoCtrl

__all__ = ["LocoCtrl"]
