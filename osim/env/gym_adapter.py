"""Gymnasium interface to the original-API environments.

``OsimGymEnv`` wraps one original-API environment (``L2M2019Env``, ``ProstheticsEnv`` ...) and gives
Gymnasium's API: ``reset(seed=, options=) -> (observation, info)``, a 5-tuple ``step``, termination
(the task ended: fall, simulation failure) kept apart from truncation (the time limit), and spaces that
contain what it returns. Observations are the environment's vector form (``project=True,
obs_as_dict=False``) as float64 arrays.

The original-API environment is available as :attr:`OsimGymEnv.osim_env` (e.g. for ``get_state_desc()``).
"""
from __future__ import annotations

import importlib
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces


def resolve_env_class(name: str) -> type:
    """``"L2M2019Env"`` or ``"module.path:ClassName"`` -> the class."""
    module_name, _, class_name = name.rpartition(":")
    module = importlib.import_module(module_name or "osim.env")
    try:
        return getattr(module, class_name)
    except AttributeError:
        raise ValueError(f"no environment class {class_name!r} in {module.__name__}") from None


class OsimGymEnv(gymnasium.Env):
    """A Gymnasium environment around an original-API osim-rl environment.

    Args:
        env_class: the original-API class or its name in :mod:`osim.env`.
        render_mode: ``None``, ``"rgb_array"`` or ``"human"``.
        clip_observation: use the original's observation bounds and clip to them (environments that
            define bounds, i.e. L2M2019Env); otherwise the space is unbounded.
        **env_kwargs: constructor arguments of the environment (``difficulty``, ``integrator_accuracy``,
            ``engine="mujoco"`` ...). ``visualize`` defaults to False here (``render_mode="human"`` turns it on).
    """

    metadata = {"render_modes": ["rgb_array", "human"], "render_fps": 100}  # noqa: RUF012 - gymnasium.Env's attribute
    observation_space: spaces.Box
    action_space: spaces.Box

    def __init__(
        self,
        env_class: type | str,
        render_mode: str | None = None,
        clip_observation: bool = False,
        **env_kwargs: Any,
    ) -> None:
        cls = resolve_env_class(env_class) if isinstance(env_class, str) else env_class
        env_kwargs.setdefault("visualize", False)
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(
                f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}"
            )
        self.render_mode = render_mode
        self.osim_env = cls(render_mode=render_mode, **env_kwargs)
        self.clip_observation = clip_observation
        size = self.osim_env.get_observation_space_size()
        n_actions = self.osim_env.get_action_space_size()
        self.action_space = spaces.Box(0.0, 1.0, shape=(n_actions,), dtype=np.float32)
        if clip_observation:
            bounds = self.osim_env.observation_space
            self.observation_space = spaces.Box(
                np.asarray(bounds.low, dtype=np.float64), np.asarray(bounds.high, dtype=np.float64),
                dtype=np.float64,
            )
        else:
            self.observation_space = spaces.Box(-np.inf, np.inf, shape=(size,), dtype=np.float64)

    def _vector(self, observation: Any) -> np.ndarray:
        vector = np.asarray(observation, dtype=np.float64)
        if self.clip_observation:
            np.clip(vector, self.observation_space.low, self.observation_space.high, out=vector)
        return vector

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode; ``seed`` re-seeds the environment's own generators.

        ``options`` are passed to the environment's ``reset`` (e.g. ``{"init_pose": [...]}`` for
        L2M2019Env, ``{"difficulty": 2}`` for RunEnv).
        """
        super().reset(seed=seed)
        if seed is not None:
            self.osim_env.seed(seed)
        observation = self.osim_env.reset(project=True, obs_as_dict=False, **(options or {}))
        return self._vector(observation), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Gymnasium step: (observation, reward, terminated, truncated, info)."""
        observation, reward, done, info = self.osim_env.step(action, project=True, obs_as_dict=False)
        # The environment says why it ended: "termination" (the task's reason) or "simulation_failure".
        terminated = bool(done and ("termination" in info or "simulation_failure" in info))
        truncated = bool(done and not terminated)
        return self._vector(observation), float(reward), terminated, truncated, info

    def render(self) -> Any:
        """The wrapped environment's rendering in ``render_mode``."""
        return self.osim_env.render(self.render_mode)

    def close(self) -> None:
        """Close the wrapped environment."""
        self.osim_env.close()
