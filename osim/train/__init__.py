"""Training and data collection on the Gymnasium environments.

* :mod:`osim.train.envs` - build an environment from its Gymnasium id (``"osim/L2Run-v0"``).
* :mod:`osim.train.agents` - stable-baselines3 agents (DDPG as in the original example, PPO, SAC),
  saving/loading and an evaluation summary; used by ``examples/example.py``.
* :mod:`osim.train.rollouts` - run and replay episodes in one process.
* :mod:`osim.train.ray_rollouts` - the same episodes collected by Ray actors across a cluster, and a
  short RLlib PPO run.

stable-baselines3 and Ray are optional dependencies: importing this package does not import them.
"""
