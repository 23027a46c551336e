"""The original package ``envs.control`` (osim-rl 3.0.11); its module ``loco_reflex_song2019`` re-exports
:class:`osim.control.LocoCtrl`."""
