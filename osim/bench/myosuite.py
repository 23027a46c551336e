"""Time MyoSuite's ``myoLegWalk-v0`` (80 muscles on MuJoCo) in its own cached venv, as a peer figure.

MyoSuite is not a dependency of the project: :func:`prepare` creates a scratch venv (once) and
installs ``myosuite`` into it with pip, and :func:`run_myosuite` times the env in a fresh child of
that venv. The child is this very file run with ``python -c`` (module level: standard library
only), stepping uniform random actions from ``numpy.random.default_rng(seed)`` and resetting when
an episode ends, as :mod:`osim.bench.harness` does for the project's envs. The cache folder is
``$OSIM_RL_MYOSUITE_CACHE`` or ``~/.cache/osim-rl/myosuite``.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

#: the release measured in the reference notes (myoLegWalk-v0: 466-967 steps/s on this machine)
MYOSUITE_REQUIREMENT = "myosuite==3.0.0"
ENV_ID = "myoLegWalk-v0"


def default_cache_dir() -> Path:
    """``$OSIM_RL_MYOSUITE_CACHE`` or ``~/.cache/osim-rl/myosuite``."""
    configured = os.environ.get("OSIM_RL_MYOSUITE_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "osim-rl" / "myosuite"


def prepare(cache_dir: Path | str | None = None, requirement: str = MYOSUITE_REQUIREMENT) -> Path:
    """The python of the scratch venv holding ``requirement`` (created and installed on first use)."""
    from osim.bench.original import _locked, scratch_venv

    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    with _locked(cache):
        return scratch_venv(cache, [requirement], "MyoSuite", ".osim-rl-myosuite-ready")


def run_myosuite(steps: int, *, seed: int = 0, env_id: str = ENV_ID, cache_dir: Path | str | None = None,
                 timeout: float | None = None) -> dict[str, Any]:
    """Time ``steps`` random-action steps of MyoSuite's ``env_id`` in a fresh child of its venv."""
    import subprocess
    import tempfile

    if steps < 1:
        raise ValueError(f"expected steps >= 1, got {steps}")
    python = prepare(cache_dir)
    environ = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONNOUSERSITE="1",
                   PYTHONSAFEPATH="1", MUJOCO_GL="egl")
    environ.pop("PYTHONPATH", None)  # nothing of the project in MyoSuite's venv
    command = [str(python), "-c", Path(__file__).read_text(), "child", env_id, str(steps), str(seed)]
    completed = subprocess.run(command, capture_output=True, text=True, env=environ, timeout=timeout,
                               cwd=tempfile.gettempdir(), check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"MyoSuite {env_id} worker failed ({completed.returncode}):\n{completed.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def _child(env_id: str, steps: int, seed: int) -> dict[str, Any]:
    """In MyoSuite's venv: build ``env_id`` (not timed) and time ``steps`` steps with resets."""
    import importlib.metadata

    import numpy as np
    from myosuite.utils import gym  # type: ignore[import-not-found]  # in MyoSuite's venv only; registers its ids

    build = time.perf_counter()
    env = gym.make(env_id)
    build_seconds = time.perf_counter() - build
    n_actions = int(env.action_space.shape[0])
    actions = np.random.default_rng(seed).random((steps, n_actions))
    resets = 1
    wall_start, cpu_start = time.perf_counter(), time.process_time()
    env.reset(seed=seed)
    for i in range(steps):
        _, _, terminated, truncated, _ = env.step(actions[i])
        if (terminated or truncated) and i + 1 < steps:
            env.reset()
            resets += 1
    wall = time.perf_counter() - wall_start
    cpu = time.process_time() - cpu_start
    return {"env": env_id, "steps": steps, "resets": resets, "n_actions": n_actions, "build_seconds": build_seconds,
            "wall_seconds": wall, "cpu_seconds": cpu, "steps_per_second": steps / wall,
            "steps_per_cpu_second": steps / cpu, "myosuite": importlib.metadata.version("myosuite"),
            "mujoco": importlib.metadata.version("mujoco"), "python": sys.version.split()[0]}


if __name__ == "__main__":
    # ``python -c <this file> child ENV_ID STEPS SEED``: the child of run_myosuite, in MyoSuite's venv.
    if sys.argv[1:2] != ["child"] or len(sys.argv) != 5:
        sys.exit("usage: python -c <osim/bench/myosuite.py> child ENV_ID STEPS SEED")
    sys.stdout.write("\n" + json.dumps(_child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))) + "\n")
