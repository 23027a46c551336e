"""The timing harness of ``osim bench``: the child process that steps one environment and times it.

Every measurement runs in a fresh child process (model loading is not timed) that steps one
environment with uniform random excitations drawn from ``numpy.random.default_rng(seed)``, resetting
when an episode ends (resets are inside the timing, as users pay for them). The child is this very
file run with ``python -c`` (see :func:`osim.bench.runner.run_worker`): it imports nothing from the
project at module level, so the same code times the project's environments (project venv) and the
original osim-rl's (its scratch venv, :mod:`osim.bench.original`), and both draw the same actions
from the same NumPy.

A child reports wall and CPU time, steps per second (wall and per CPU second: the machine is shared,
CPU time is the steadier figure), an exclusive cost split (integration, state description,
observation, reward, reset, actuation, the rest), RSS samples and a fingerprint of the first
episode's states (to show that the trajectories are identical).

Keep this module to the standard library and NumPy at module level: it also runs where the
project's ``osim`` is not importable.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

#: cost-split buckets -> methods (of the env or of ``env.osim_model``) whose exclusive time they get
SPLIT_METHODS: dict[str, tuple[str, ...]] = {
    # OpenSim: integrate; another engine of ours (``engine="mujoco"``): the engine's own step
    "integration": ("osim_model.integrate", "osim_model._engine.step"),
    # reading the state out: ours on OpenSim the describer; ours on MuJoCo the engine's per-state
    # arrays (what the array-based tasks compute from; the description is built only when asked
    # for); the original: compute_state_desc (whichever exists first is wrapped)
    "state_description": ("osim_model._describer.describe", "osim_model._engine._make_arrays",
                          "osim_model.compute_state_desc"),
    "observation": ("get_observation", "get_observation_dict"),
    "reward": ("get_reward", "reward"),
    "reset": ("reset",),
    "actuation": ("osim_model.actuate",),
}


class SplitTimer:
    """Exclusive CPU time per bucket: a wrapped call's time minus the wrapped calls inside it."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self._children: list[float] = []

    def wrap(self, owner: Any, attribute: str, bucket: str) -> bool:
        """Replace ``owner.attribute`` by a timed wrapper (instance attribute); False if absent."""
        try:
            function = getattr(owner, attribute, None)
        except NotImplementedError:  # an OpenSim-only name on another engine's adapter
            return False
        if function is None or not callable(function):
            return False
        clock = time.process_time
        children = self._children
        totals = self.totals
        totals.setdefault(bucket, 0.0)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = clock()
            children.append(0.0)
            try:
                return function(*args, **kwargs)
            finally:
                inner = children.pop()
                elapsed = clock() - start
                totals[bucket] += elapsed - inner
                if children:
                    children[-1] += elapsed

        setattr(owner, attribute, timed)
        return True


def _resolve(root: Any, dotted: str) -> tuple[Any, str] | None:
    *path, attribute = dotted.split(".")
    owner = root
    for name in path:
        try:
            owner = getattr(owner, name, None)
        except NotImplementedError:  # an OpenSim-only name on another engine's adapter
            return None
        if owner is None:
            return None
    return owner, attribute


def instrument(env: Any) -> SplitTimer:
    """Wrap the methods of :data:`SPLIT_METHODS` that ``env`` has."""
    timer = SplitTimer()
    for bucket, names in SPLIT_METHODS.items():
        for dotted in names:
            found = _resolve(env, dotted)
            wrapped = found is not None and timer.wrap(found[0], found[1], bucket)
            if wrapped and bucket == "state_description":
                break  # ours has both names; the describer is the one that does the work
    return timer


def _state_vector(osim_model: Any) -> Any:
    """The full state vector: ours has ``state_vector()``; the original exposes OpenSim's state."""
    state_vector = getattr(osim_model, "state_vector", None)
    return state_vector() if state_vector is not None else osim_model.state.getY().to_numpy()


def rss_mb() -> float:
    """Resident set size of this process in MB (Linux ``/proc``; NaN elsewhere)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def _load_env_class(spec: str) -> type:
    import importlib

    module_name, _, class_name = spec.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def _accepts(function: Callable[..., Any], name: str) -> bool:
    import inspect

    try:
        return name in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


def make_env(spec: str, integrator: dict[str, Any] | None, accuracy: float | None, engine: str | None = None,
             model: str | None = None) -> Any:
    """Construct the environment ``module:Class`` headless, seeded where it takes a seed, on
    ``engine`` when one is named (the project's engines; the original has only OpenSim), switched to
    ``model`` when one is named (L2M2019Env's ``change_model``: ``"2D"`` is the planar model)."""
    cls = _load_env_class(spec)
    kwargs: dict[str, Any] = {"visualize": False}
    if engine is not None:
        kwargs["engine"] = engine
    if _accepts(cls, "seed"):  # the constructor's parameters
        kwargs["seed"] = 0
    if integrator:
        from osim.engine import IntegratorSettings  # the project's only

        kwargs["integrator"] = IntegratorSettings(**integrator)
    elif accuracy is not None:
        kwargs["integrator_accuracy"] = accuracy
    env = cls(**kwargs)
    if model is not None:
        if not callable(getattr(env, "change_model", None)):
            raise ValueError(f"{spec} has no change_model: it cannot run model {model!r}")
        # the difficulty the env was made with (both releases' change_model reset it otherwise)
        env.change_model(model=model, difficulty=env.difficulty)
        if getattr(env, "model", model) != model:
            raise RuntimeError(f"{spec}.change_model(model={model!r}) left the model at {env.model!r}")
    return env


def time_env(
    spec: str,
    steps: int,
    seed: int = 0,
    integrator: dict[str, Any] | None = None,
    accuracy: float | None = None,
    episode_steps: int | None = None,
    fingerprint_steps: int = 50,
    rss_every: int = 0,
    split: bool = True,
    engine: str | None = None,
    model: str | None = None,
) -> dict[str, Any]:
    """Step ``spec`` for ``steps`` steps of random excitations and report timings (see module doc)."""
    import random

    import numpy as np

    np.random.seed(seed)  # the original's Arm2DEnv draws its targets from the global generators
    random.seed(seed)
    build_start = time.perf_counter()
    env = make_env(spec, integrator, accuracy, engine, model)
    build_seconds = time.perf_counter() - build_start
    n_actions = int(env.get_action_space_size())
    actions = np.random.default_rng(seed).random((steps, n_actions))
    vector = {"obs_as_dict": False}
    reset_kwargs = vector if _accepts(env.reset, "obs_as_dict") else {}
    step_kwargs = vector if _accepts(env.step, "obs_as_dict") else {}
    timer = instrument(env) if split else SplitTimer()

    fingerprints: list[str] = []
    rss_samples: list[tuple[int, float]] = [(0, rss_mb())]
    resets = 1
    episode_length = 0
    first_episode = True
    wall_start, cpu_start = time.perf_counter(), time.process_time()
    env.reset(**reset_kwargs)
    for i in range(steps):
        _, _, done, _ = env.step(actions[i], **step_kwargs)
        episode_length += 1
        if first_episode and len(fingerprints) < fingerprint_steps:
            y = _state_vector(env.osim_model)
            fingerprints.append(hashlib.sha1(np.ascontiguousarray(y, dtype=np.float64).tobytes()).hexdigest()[:16])
        if done or (episode_steps is not None and episode_length >= episode_steps):
            first_episode = False
            if i + 1 < steps:
                env.reset(**reset_kwargs)
                resets += 1
                episode_length = 0
        if rss_every and (i + 1) % rss_every == 0:
            rss_samples.append((i + 1, rss_mb()))
    wall = time.perf_counter() - wall_start
    cpu = time.process_time() - cpu_start
    split_cpu = dict(timer.totals)
    if split:
        split_cpu["other"] = max(cpu - sum(split_cpu.values()), 0.0)
    return {
        "env": spec,
        "steps": steps,
        "resets": resets,
        "n_actions": n_actions,
        "actions_sha1": hashlib.sha1(actions.tobytes()).hexdigest()[:16],
        "build_seconds": build_seconds,
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "steps_per_second": steps / wall,
        "steps_per_cpu_second": steps / cpu,
        "split_cpu_seconds": split_cpu,
        "fingerprints": fingerprints,
        "rss_mb": [*rss_samples, (steps, rss_mb())],
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "engine": engine or "opensim",
        "model": model,
    }


def _worker_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench worker")
    parser.add_argument("spec", help="module:Class")
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--integrator", default=None, help="JSON of IntegratorSettings fields (project only)")
    parser.add_argument("--accuracy", type=float, default=None)
    parser.add_argument("--episode-steps", type=int, default=None)
    parser.add_argument("--fingerprint-steps", type=int, default=50)
    parser.add_argument("--rss-every", type=int, default=0)
    parser.add_argument("--no-split", action="store_true")
    parser.add_argument("--engine", default=None, help="the project's engine by name (default: the env's own)")
    parser.add_argument("--model", default=None, help="change_model(model=...) after construction (L2M2019Env: 2D)")
    ns = parser.parse_args(argv)
    result = time_env(
        ns.spec, ns.steps, ns.seed, json.loads(ns.integrator) if ns.integrator else None, ns.accuracy,
        ns.episode_steps, ns.fingerprint_steps, ns.rss_every, not ns.no_split, ns.engine, ns.model,
    )
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    # ``python -c <this file> worker ...``: the child of run_worker, in either environment.
    if sys.argv[1:2] != ["worker"]:
        sys.exit("usage: python -c <osim/bench/harness.py> worker module:Class --steps N ...")
    sys.exit(_worker_main(sys.argv[2:]))
