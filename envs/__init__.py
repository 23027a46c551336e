"""The top-level ``envs`` package osim-rl 3.0.11 installed, kept for scripts that import it.

``envs.target`` (the 2019 target-velocity field) and ``envs.control`` (the reflex controller) re-export
:mod:`osim.env.target` and :mod:`osim.control`; nothing is defined here.
"""
