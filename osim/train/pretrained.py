"""Policies trained by the project and shipped with the package: ``osim run ... --policy pretrained``.

Each is an :class:`~osim.train.mlp.MLPPolicy` file in ``osim/train/data`` (NumPy only), with the
environment it was trained for, its engine, model, difficulty and initial pose in its metadata;
``osim/train/data/README.md`` says how each was made and how far it walks on either engine.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from osim.train.mlp import MLPPolicy


@dataclass(frozen=True)
class PretrainedPolicy:
    """A shipped policy: its file in ``osim/train/data`` and what it does."""

    name: str
    file: str
    env: str
    description: str


#: name -> the shipped policy
PRETRAINED: dict[str, PretrainedPolicy] = {
    policy.name: policy
    for policy in (
        PretrainedPolicy(
            "walk2d-mujoco", "walk2d_mujoco.npz", "L2M2019Env",
            "planar L2M2019 walking on MuJoCo: DAgger from the reflex controller, then PPO (16.8 m in 10 s)",
        ),
    )
}
#: environment class -> the policy ``--policy pretrained`` picks for it
DEFAULT_PRETRAINED: dict[str, str] = {"L2M2019Env": "walk2d-mujoco"}


def pretrained_path(name: str) -> Path:
    """The file of the shipped policy ``name``.

    Raises:
        ValueError: no policy has that name.
    """
    if name not in PRETRAINED:
        raise ValueError(f"unknown pretrained policy {name!r}; shipped: {', '.join(sorted(PRETRAINED))}")
    return Path(str(resources.files("osim.train") / "data" / PRETRAINED[name].file))


def load_pretrained(name: str) -> MLPPolicy:
    """The shipped policy ``name`` (see :data:`PRETRAINED`)."""
    return MLPPolicy.load(pretrained_path(name))
