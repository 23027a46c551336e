"""A small feed-forward policy that runs on NumPy alone, saved as one ``.npz`` file.

Training (:mod:`osim.train.walking`) fits the network with torch; what ships with the package and
what ``osim run --policy pretrained`` executes is this NumPy form, so running a trained policy needs
neither torch nor stable-baselines3. The network: inputs standardised with the training data's mean
and standard deviation, ``tanh`` hidden layers, a linear output clipped to the action bounds. A
policy may read only part of the observation vector (``observation_indices``).
"""
from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "osim-rl mlp policy v1"


@dataclass
class MLPPolicy:
    """``action = clip(W_n tanh(... tanh(W_1 (x - mean) / std + b_1) ...) + b_n, low, high)``, with
    ``x = obs[observation_indices]`` (the whole observation without indices).

    Args:
        weights: one ``(out, in)`` matrix per layer.
        biases: one ``(out,)`` vector per layer.
        obs_mean, obs_std: the input standardisation (``obs_std`` > 0).
        action_low, action_high: the output clip.
        observation_indices: which entries of the observation vector the network reads (None: all).
        metadata: what the policy is for (environment, engine, initial pose, how it was trained),
            stored in the file as JSON.
    """

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    obs_mean: np.ndarray
    obs_std: np.ndarray
    action_low: float = 0.0
    action_high: float = 1.0
    observation_indices: np.ndarray | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.weights or len(self.weights) != len(self.biases):
            raise ValueError(f"need one bias per weight matrix, got {len(self.weights)} and {len(self.biases)}")
        for index, (weight, bias) in enumerate(zip(self.weights, self.biases)):
            if weight.ndim != 2 or bias.shape != (weight.shape[0],):
                raise ValueError(f"layer {index}: weight {weight.shape} and bias {bias.shape} do not fit")
            if index and weight.shape[1] != self.weights[index - 1].shape[0]:
                raise ValueError(f"layer {index} takes {weight.shape[1]} inputs, the layer before gives "
                                 f"{self.weights[index - 1].shape[0]}")
        if self.obs_mean.shape != (self.obs_size,) or self.obs_std.shape != (self.obs_size,):
            raise ValueError(f"obs_mean and obs_std must have {self.obs_size} values")
        if not np.all(self.obs_std > 0):
            raise ValueError("obs_std must be positive")
        if self.observation_indices is not None:
            self.observation_indices = np.asarray(self.observation_indices, dtype=np.int64)
            if self.observation_indices.shape != (self.obs_size,) or np.any(self.observation_indices < 0):
                raise ValueError(f"observation_indices must be {self.obs_size} non-negative indices")
        self._inverse_std = 1.0 / self.obs_std

    @property
    def obs_size(self) -> int:
        """Number of inputs of the network."""
        return int(self.weights[0].shape[1])

    @property
    def action_size(self) -> int:
        """Number of actions the policy gives."""
        return int(self.weights[-1].shape[0])

    def __call__(self, observation: Sequence[float] | np.ndarray) -> np.ndarray:
        """The action for one observation vector."""
        vector = np.asarray(observation, dtype=np.float64)
        if vector.ndim != 1:
            raise ValueError(f"the policy takes one observation vector, got shape {vector.shape}")
        if self.observation_indices is not None:
            if vector.size <= self.observation_indices[-1]:
                raise ValueError(f"the policy reads observation entries up to {self.observation_indices[-1]}, "
                                 f"got {vector.size} values")
            vector = vector[self.observation_indices]
        elif vector.size != self.obs_size:
            raise ValueError(f"the policy takes an observation of {self.obs_size} values, got {vector.size}")
        hidden = (vector - self.obs_mean) * self._inverse_std
        last = len(self.weights) - 1
        for index, (weight, bias) in enumerate(zip(self.weights, self.biases)):
            hidden = weight @ hidden + bias
            if index < last:
                np.tanh(hidden, out=hidden)
        return np.clip(hidden, self.action_low, self.action_high, out=hidden)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the policy to ``path`` (``.npz``); returns the path."""
        arrays: dict[str, np.ndarray] = {"obs_mean": self.obs_mean, "obs_std": self.obs_std,
                                         "action_bounds": np.array([self.action_low, self.action_high])}
        if self.observation_indices is not None:
            arrays["observation_indices"] = self.observation_indices
        for index, (weight, bias) in enumerate(zip(self.weights, self.biases)):
            arrays[f"weight_{index}"] = weight.astype(np.float32)
            arrays[f"bias_{index}"] = bias.astype(np.float32)
        header = {"format": FORMAT, "layers": len(self.weights), "metadata": self.metadata}
        arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
        target = Path(path)
        with target.open("wb") as stream:
            np.savez_compressed(stream, **arrays)  # type: ignore[arg-type]  # numpy's stub: allow_pickle
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> MLPPolicy:
        """Read a policy written by :meth:`save`.

        Raises:
            ValueError: the file is not such a policy.
        """
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(bytes(data["header"]).decode())
                if header.get("format") != FORMAT:
                    raise ValueError(f"format {header.get('format')!r}, expected {FORMAT!r}")
                layers = int(header["layers"])
                weights = [np.asarray(data[f"weight_{k}"], dtype=np.float64) for k in range(layers)]
                biases = [np.asarray(data[f"bias_{k}"], dtype=np.float64) for k in range(layers)]
                low, high = (float(v) for v in data["action_bounds"])
                indices = data.get("observation_indices", None)
                return cls(weights, biases, np.asarray(data["obs_mean"], dtype=np.float64),
                           np.asarray(data["obs_std"], dtype=np.float64), low, high, indices,
                           dict(header["metadata"]))
        except (OSError, KeyError, ValueError, json.JSONDecodeError) as error:
            raise ValueError(f"{path} is not an osim-rl MLP policy file: {error}") from None
