"""``osim bench``: how fast environments step, here and in the original osim-rl, on the same actions.

Every measurement runs in a fresh child process (model loading is not timed) that steps one
environment with uniform random excitations drawn from ``numpy.random.default_rng(seed)``, resetting
when an episode ends (resets are inside the timing, as users pay for them). The child is this very
file run with ``python -c``: it imports nothing from the project at module level, so the same code
times the project's environments (project venv) and the original osim-rl's (its scratch venv, see
``scripts/original_osimrl.py`` in the repository), and both draw the same actions from the same
NumPy. Runs of ours and of the original alternate, so both see the same machine load.

A child reports wall and CPU time, steps per second (wall and per CPU second: the machine is shared,
CPU time is the steadier figure), an exclusive cost split (integration, state description,
observation, reward, reset, actuation, the rest), RSS samples and a fingerprint of the first
episode's states (to show that the trajectories are identical).

Subcommands::

    osim bench envs   --env L2M2019Env --steps 300 --rounds 3 [--original] [--preset fast]
    osim bench memory --env L2RunEnv --steps 20000 --episode-steps 100
    osim bench multi  --env L2RunEnv --count 3 --steps 300
    osim bench vector --env-id osim/L2Run-v0 --workers 1 2 --steps 200
    osim bench presets --env L2M2019Env --seconds 1

Each prints a table on stdout and its progress on stderr; ``--json`` prints the results as JSON
instead, ``--json FILE`` writes them to FILE as well as printing the table. ``--original`` needs a
repository checkout (it loads ``scripts/original_osimrl.py``).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

#: environment -> (the project's module, the original release and module that define it)
ENVIRONMENTS: dict[str, tuple[str, str, str]] = {
    "L2M2019Env": ("osim.env.l2m2019", "3.0.11", "osim.env"),
    "ProstheticsEnv": ("osim.env.prosthetics", "2.1.5", "osim.env"),
    "L2RunEnv": ("osim.env.l2run", "2.1.5", "osim.env"),
    "Arm2DEnv": ("osim.env.arm", "3.0.11", "osim.env"),
}

#: cost-split buckets -> methods (of the env or of ``env.osim_model``) whose exclusive time they get
SPLIT_METHODS: dict[str, tuple[str, ...]] = {
    "integration": ("osim_model.integrate",),
    # ours: the describer; the original: compute_state_desc (whichever exists is wrapped)
    "state_description": ("osim_model._describer.describe", "osim_model.compute_state_desc"),
    "observation": ("get_observation", "get_observation_dict"),
    "reward": ("get_reward", "reward"),
    "reset": ("reset",),
    "actuation": ("osim_model.actuate",),
}


# ---------------------------------------------------------------------------------------------
# Child side: runs in either environment, stdlib + NumPy at module level only.
# ---------------------------------------------------------------------------------------------


class SplitTimer:
    """Exclusive CPU time per bucket: a wrapped call's time minus the wrapped calls inside it."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self._children: list[float] = []

    def wrap(self, owner: Any, attribute: str, bucket: str) -> bool:
        """Replace ``owner.attribute`` by a timed wrapper (instance attribute); False if absent."""
        function = getattr(owner, attribute, None)
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
        owner = getattr(owner, name, None)
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


def make_env(spec: str, integrator: dict[str, Any] | None, accuracy: float | None) -> Any:
    """Construct the environment ``module:Class`` headless, seeded where it takes a seed."""
    cls = _load_env_class(spec)
    kwargs: dict[str, Any] = {"visualize": False}
    if _accepts(cls, "seed"):  # the constructor's parameters
        kwargs["seed"] = 0
    if integrator:
        from osim.engine import IntegratorSettings  # the project's only

        kwargs["integrator"] = IntegratorSettings(**integrator)
    elif accuracy is not None:
        kwargs["integrator_accuracy"] = accuracy
    return cls(**kwargs)


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
) -> dict[str, Any]:
    """Step ``spec`` for ``steps`` steps of random excitations and report timings (see module doc)."""
    import random

    import numpy as np

    np.random.seed(seed)  # the original's Arm2DEnv draws its targets from the global generators
    random.seed(seed)
    build_start = time.perf_counter()
    env = make_env(spec, integrator, accuracy)
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
            y = env.osim_model.state_vector()
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
    ns = parser.parse_args(argv)
    result = time_env(
        ns.spec, ns.steps, ns.seed, json.loads(ns.integrator) if ns.integrator else None, ns.accuracy,
        ns.episode_steps, ns.fingerprint_steps, ns.rss_every, not ns.no_split,
    )
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    return 0


# ---------------------------------------------------------------------------------------------
# Parent side: the project's environment.
# ---------------------------------------------------------------------------------------------

def _original_helper_path() -> Path:
    return Path(__file__).resolve().parent.parent / "scripts" / "original_osimrl.py"


def original_helper() -> Any:
    """The repository's ``scripts/original_osimrl.py`` as a module (needs a checkout)."""
    import importlib.util

    helper = _original_helper_path()
    if not helper.is_file():
        raise FileNotFoundError(
            "timing the original needs the repository's scripts/original_osimrl.py "
            f"(looked at {helper}); run from a checkout of osim-rl"
        )
    spec = importlib.util.spec_from_file_location("original_osimrl", helper)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules.setdefault("original_osimrl", module)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _worker_source() -> str:
    return Path(__file__).read_text()


def run_worker(
    env: str,
    impl: str,
    steps: int,
    *,
    seed: int = 0,
    integrator: dict[str, Any] | None = None,
    accuracy: float | None = None,
    episode_steps: int | None = None,
    rss_every: int = 0,
    split: bool = True,
    nice: int = 0,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Time ``env`` (a name of :data:`ENVIRONMENTS`) in a fresh child: ``impl`` "ours" or "original"."""
    if env not in ENVIRONMENTS:
        raise ValueError(f"env must be one of {sorted(ENVIRONMENTS)}, got {env!r}")
    if impl not in ("ours", "original"):
        raise ValueError(f"impl must be 'ours' or 'original', got {impl!r}")
    ours_module, release, original_module = ENVIRONMENTS[env]
    args = [f"{ours_module if impl == 'ours' else original_module}:{env}", "--steps", str(steps), "--seed", str(seed)]
    if integrator:
        if impl == "original":
            raise ValueError("the original takes only an accuracy, not integrator settings")
        args += ["--integrator", json.dumps(integrator)]
    if accuracy is not None:
        args += ["--accuracy", repr(accuracy)]
    if episode_steps is not None:
        args += ["--episode-steps", str(episode_steps)]
    if rss_every:
        args += ["--rss-every", str(rss_every)]
    if not split:
        args.append("--no-split")
    environ = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    if impl == "ours":
        python = sys.executable
    else:
        prepared = original_helper().prepare(release)
        python, environ = str(prepared.python), prepared.environ(environ)
    command = [python, "-c", _worker_source(), "worker", *args]
    if nice:
        command = ["nice", "-n", str(nice), *command]
    completed = subprocess.run(
        command, capture_output=True, text=True, env=environ, timeout=timeout, cwd=_scratch_dir(), check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{impl} {env} worker failed ({completed.returncode}):\n{completed.stderr[-3000:]}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result.update(impl=impl, name=env, release=release if impl == "original" else "ours",
                  integrator=integrator, accuracy=accuracy)
    return result


def _scratch_dir() -> str:
    """A neutral working directory for children (no project folder may shadow the original's imports)."""
    import tempfile

    path = Path(tempfile.gettempdir()) / "osim-bench"
    path.mkdir(exist_ok=True)
    return str(path)


def machine_details() -> dict[str, Any]:
    """CPU model, core count, load, Python and library versions of the measuring machine."""
    details: dict[str, Any] = {
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
        "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    try:
        details["load_average"] = os.getloadavg()
    except OSError:
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                details["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                details["memory_gb"] = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    import importlib.metadata

    for dist in ("opensim", "numpy", "scipy", "gymnasium", "osim-rl"):
        try:
            details[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            pass
    return details


def compare_envs(
    envs: Sequence[str],
    steps: int,
    rounds: int,
    *,
    original: bool = True,
    presets: Sequence[str] = (),
    seed: int = 0,
    progress: Callable[[str], None] = lambda line: None,
) -> dict[str, Any]:
    """Ours (default settings and ``presets``) vs the original, alternating, ``rounds`` times each."""
    from osim.engine.presets import preset_fields

    results: dict[str, Any] = {"machine": machine_details(), "steps": steps, "rounds": rounds, "envs": {}}
    for env in envs:
        variants: dict[str, dict[str, Any]] = {"ours": {}}
        variants.update({f"ours:{name}": {"integrator": preset_fields(name)} for name in presets})
        if original:
            variants["original"] = {}
        runs: dict[str, list[dict[str, Any]]] = {key: [] for key in variants}
        for r in range(rounds):
            for key, options in variants.items():
                impl = "original" if key == "original" else "ours"
                try:
                    run = run_worker(env, impl, steps, seed=seed, **options)
                except (RuntimeError, FileNotFoundError, subprocess.TimeoutExpired) as error:
                    progress(f"{env} {key}: FAILED {str(error).splitlines()[0]}")
                    runs[key].append({"error": str(error)})
                    continue
                runs[key].append(run)
                progress(f"{env} {key} round {r + 1}: {run['steps_per_second']:.1f} steps/s wall, "
                         f"{run['steps_per_cpu_second']:.1f} per CPU s, {run['resets']} resets")
        results["envs"][env] = summarize(runs)
    return results


def summarize(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Medians per variant, ratios to the original, and whether first episodes were identical."""
    summary: dict[str, Any] = {"runs": runs, "variants": {}}
    for key, variant_runs in runs.items():
        good = [r for r in variant_runs if "error" not in r]
        if not good:
            summary["variants"][key] = {"error": variant_runs[0]["error"] if variant_runs else "no runs"}
            continue
        split_keys = sorted({k for r in good for k in r["split_cpu_seconds"]})
        summary["variants"][key] = {
            "steps_per_second": statistics.median(r["steps_per_second"] for r in good),
            "steps_per_cpu_second": statistics.median(r["steps_per_cpu_second"] for r in good),
            "resets": good[0]["resets"],
            "split_ms_per_step": {
                k: statistics.median(1e3 * r["split_cpu_seconds"].get(k, 0.0) / r["steps"] for r in good)
                for k in split_keys
            },
        }
    base = summary["variants"].get("original", {})
    for key, variant in summary["variants"].items():
        if key == "original" or "error" in variant or "error" in base or not base:
            continue
        variant["ratio_wall"] = variant["steps_per_second"] / base["steps_per_second"]
        variant["ratio_cpu"] = variant["steps_per_cpu_second"] / base["steps_per_cpu_second"]
        paired = [
            o["steps_per_cpu_second"] / b["steps_per_cpu_second"]
            for o, b in zip(runs[key], runs["original"])
            if "error" not in o and "error" not in b
        ]
        variant["paired_ratios_cpu"] = paired
        hashes = {r["actions_sha1"] for r in runs[key] + runs["original"] if "actions_sha1" in r}
        variant["same_actions_as_original"] = len(hashes) == 1
        ours_fp = next(r for r in runs[key] if "error" not in r)["fingerprints"]
        base_fp = next(r for r in runs["original"] if "error" not in r)["fingerprints"]
        n = min(len(ours_fp), len(base_fp))
        variant["identical_first_episode_steps"] = next(
            (i for i in range(n) if ours_fp[i] != base_fp[i]), n
        )
        variant["compared_steps"] = n
    return summary


# ---------------------------------------------------------------------------------------------
# Project-only measurements (in this process or in children of the project's venv)
# ---------------------------------------------------------------------------------------------


def _load_ours(env: str) -> type:
    return _load_env_class(f"{ENVIRONMENTS[env][0]}:{env}")


def multi_env(env: str, count: int, steps: int, seed: int = 0,
              progress: Callable[[str], None] = lambda line: None) -> dict[str, Any]:
    """CPU time per step of one env alone, then of ``count`` envs stepped in turn in this process,
    then of one alone again; ``progress`` gets a line as each of the three starts."""
    import numpy as np

    cls = _load_ours(env)

    def run(n_envs: int, what: str) -> float:
        progress(f"{env}: {steps} steps of {what}")
        envs = [cls(visualize=False) for _ in range(n_envs)]
        rng = np.random.default_rng(seed)
        for e in envs:
            e.reset()
        start = time.process_time()
        for _ in range(steps):
            for e in envs:
                _, _, done, _ = e.step(rng.random(e.get_action_space_size()))
                if done:
                    e.reset()
        return (time.process_time() - start) / (steps * n_envs)

    alone = run(1, "one env alone")
    together = run(count, f"{count} envs in turn")
    again = run(1, "one env alone again")
    return {
        "env": env, "count": count, "steps_per_env": steps,
        "cpu_ms_per_step_alone": 1e3 * alone, "cpu_ms_per_step_together": 1e3 * together,
        "cpu_ms_per_step_alone_after": 1e3 * again, "slowdown": together / min(alone, again),
    }


def render_cost(env: str, steps: int, cameras: Sequence[str] = ("side", "three_quarter"),
                width: int = 480, height: int = 360, seed: int = 0) -> dict[str, Any]:
    """CPU ms per step and per rendered frame (each camera) of ``env`` under random excitations.

    Recording every step costs ``frame / step`` on top of the simulation; the frame is drawn by
    :class:`osim.render.Renderer` exactly as ``render_mode="rgb_array"`` and ``osim run --gif`` do.
    """
    import numpy as np

    from osim.render import Renderer

    instance = _load_ours(env)(visualize=False)
    renderers = {camera: Renderer(instance, camera=camera, width=width, height=height) for camera in cameras}
    rng = np.random.default_rng(seed)
    instance.reset()
    for renderer in renderers.values():
        frame = renderer.render()  # framing and background are set up on the first frame
    step_seconds = 0.0
    frame_seconds = dict.fromkeys(cameras, 0.0)
    for _ in range(steps):
        start = time.process_time()
        _, _, done, _ = instance.step(rng.random(instance.get_action_space_size()))
        step_seconds += time.process_time() - start
        for camera, renderer in renderers.items():
            start = time.process_time()
            frame = renderer.render()
            frame_seconds[camera] += time.process_time() - start
        if done:
            instance.reset()
    step_ms = 1e3 * step_seconds / steps
    return {
        "env": env, "steps": steps, "width": width, "height": height, "frame_shape": list(frame.shape),
        "cpu_ms_per_step": step_ms,
        "cpu_ms_per_frame": {camera: 1e3 * s / steps for camera, s in frame_seconds.items()},
        "frame_over_step": {camera: 1e3 * s / steps / step_ms for camera, s in frame_seconds.items()},
    }


def _process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _think(seconds: float) -> None:
    """Stand-in for a policy's forward pass: keep this process's CPU busy for ``seconds``."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def _play(env: Any, actions: Any, policy_seconds: float = 0.0) -> Any:
    """Step ``env`` through ``actions`` with the vector envs' next-step autoreset: the step after an
    episode ends resets instead (its action is unused), so one env here does what one worker does.
    ``policy_seconds`` of CPU work precede each step. Returns the last observation."""
    needs_reset, observation = False, None
    for action in actions:
        if policy_seconds:
            _think(policy_seconds)
        if needs_reset:
            observation, _ = env.reset()
            needs_reset = False
            continue
        observation, _, terminated, truncated, _ = env.step(action)
        needs_reset = terminated or truncated
    return observation


def _independent_worker(env_id: str, seed: int, actions: Any, policy_seconds: float, start: Any,
                        results: Any) -> None:
    import gymnasium

    import osim  # noqa: F401  (registers the ids)

    env = gymnasium.make(env_id)
    env.reset(seed=seed)
    start.wait()
    cpu_start = time.process_time()
    _play(env, actions, policy_seconds)
    results.put(time.process_time() - cpu_start)
    env.close()


def _independent_processes(env_id: str, count: int, seed: int, actions: Any,
                           policy_seconds: float = 0.0) -> tuple[float, float]:
    """Wall and CPU seconds of ``count`` processes that each play ``actions`` in their own env at
    the same time (each with its own policy stand-in), with nothing between them: what the
    machine's cores give."""
    import multiprocessing

    start = multiprocessing.Barrier(count + 1)
    results: multiprocessing.Queue[float] = multiprocessing.Queue()
    processes = [multiprocessing.Process(target=_independent_worker,
                                         args=(env_id, seed, actions, policy_seconds, start, results))
                 for _ in range(count)]
    for process in processes:
        process.start()
    start.wait()
    wall_start = time.perf_counter()
    cpu = sum(results.get() for _ in processes)  # each arrives as its worker finishes
    elapsed = time.perf_counter() - wall_start
    for process in processes:
        process.join()
    return elapsed, cpu


def _timed_workers(pids: Sequence[int], run: Callable[[], None], count: int) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (this process and ``pids``) and the workers' idle fraction (1 - their
    CPU time over ``count`` x wall time: waiting for each other, the parent and the pipes) of ``run``."""

    def workers_cpu() -> float:
        return sum(_process_cpu_seconds(pid) for pid in pids)

    wall_start, parent_start, workers_start = time.perf_counter(), time.process_time(), workers_cpu()
    run()
    elapsed = time.perf_counter() - wall_start
    parent, workers = time.process_time() - parent_start, workers_cpu() - workers_start
    return elapsed, parent + workers, 1.0 - workers / (count * elapsed)


def _vector_env(kind: str, env_id: str, count: int, seed: int, actions: Any,
                policy_seconds: float = 0.0) -> tuple[float, float, float]:
    """:func:`_timed_workers` of a vector env with ``count`` workers (``kind`` "gymnasium":
    ``gymnasium.make_vec(..., "async")``; "osim": ``gymnasium.make_vec(...)``, i.e.
    :class:`osim.vector.OsimVectorEnv`), each from the same seed given the same action every step;
    ``policy_seconds`` of CPU work in this process before each (batched) step."""
    import gymnasium
    import numpy as np

    mode = "async" if kind == "gymnasium" else None
    vec = gymnasium.make_vec(env_id, num_envs=count, vectorization_mode=mode)
    vec.reset(seed=[seed] * count)  # type: ignore[arg-type]  # VectorEnv says int | None; its subclasses take a list
    batches = [np.broadcast_to(action, (count, *action.shape)).copy() for action in actions]

    def run() -> None:
        for batch in batches:
            if policy_seconds:
                _think(policy_seconds)
            vec.step(batch)  # autoreset inside, as _play does it

    try:
        return _timed_workers([process.pid for process in vec.unwrapped.processes], run, count)
    finally:
        vec.close()


def _env_pool(env_id: str, count: int, seed: int, actions: Any,
              policy_seconds: float = 0.0) -> tuple[float, float, float]:
    """:func:`_timed_workers` of an :class:`osim.vector.EnvPool` of ``count`` envs with batch size 1:
    each env gets its next action as soon as it is ready (after ``policy_seconds`` of CPU work in
    this process: a batch of one per action), and plays ``actions`` from ``seed``."""

    from osim.vector import EnvPool

    pool = EnvPool(env_id, num_envs=count, batch_size=1)
    pool.async_reset(seed=[seed] * count)
    for _ in range(count):  # the reset replies
        pool.recv()

    def run() -> None:
        played = [0] * count

        def give_next_action(index: int) -> None:
            if policy_seconds:
                _think(policy_seconds)
            pool.send(actions[played[index]:played[index] + 1], [index])
            played[index] += 1

        for index in range(count):
            give_next_action(index)
        finished = 0
        while finished < count:
            *_, info = pool.recv()
            index = int(info["env_id"][0])
            if played[index] < len(actions):
                give_next_action(index)
            else:
                finished += 1

    try:
        return _timed_workers(pool.worker_pids, run, count)
    finally:
        pool.close()


#: what the vector benchmark times besides the single env, with what it stands for
PARALLEL_KINDS: dict[str, str] = {
    "independent": "N processes, each stepping its own env, nothing between them (the machine's ceiling)",
    "gymnasium": 'gymnasium.make_vec(id, N, vectorization_mode="async"): lockstep, workers block while idle',
    "osim": "gymnasium.make_vec(id, N) = osim.vector.OsimVectorEnv: lockstep, idle workers poll first",
    "pool": "osim.vector.EnvPool(id, N, batch_size=1): each env gets its next action as soon as it is ready",
}


def vector_throughput(env_id: str, workers: Sequence[int], steps: int, rounds: int = 3,
                      seed: int = 0, policy_seconds: float = 0.0,
                      progress: Callable[[str], None] = lambda line: None) -> dict[str, Any]:
    """Env steps/s of N envs stepped in parallel, each way of :data:`PARALLEL_KINDS`, for each N in
    ``workers``, against one env stepped in this process.

    Every env plays the same work: from ``reset(seed=seed)``, the same ``steps`` uniform random
    excitations, with next-step autoreset. The step cost of a musculoskeletal model depends on the
    state it is in (contacts, falls, resets), so different trajectories per worker would measure how
    different the episodes were, not what parallel stepping costs. A virtual machine's speed drifts
    by tens of percent within a minute, so each round times the single env and every kind back to
    back for each N, and the figures are medians over rounds of these paired ratios.

    Per N and kind: ``steps_per_second`` (median), ``speedup`` (rate over the single env's),
    ``cpu_efficiency`` (env steps per CPU second of the parent and the workers, over the single
    env's: what N free cores would give is N x efficiency), ``idle`` (the share of the workers' time
    spent waiting; not for independent processes), and ``of_independent`` (rate over the
    independent processes').

    ``policy_seconds`` > 0 puts a stand-in for a policy's forward pass (CPU work in the process that
    chooses the actions) before every batch of actions: each step of the single env and of each
    independent process, each step of a vector env (one batch for N envs), each action of the pool
    (batches of one). ``progress`` gets a line before each round and worker count."""
    import gymnasium
    import numpy as np

    import osim  # noqa: F401  (registers the ids)

    if steps < 1 or rounds < 1 or not workers or min(workers) < 1 or not policy_seconds >= 0:
        raise ValueError(f"expected steps >= 1, rounds >= 1 and worker counts >= 1, got steps={steps}, "
                         f"rounds={rounds}, workers={list(workers)} (and policy_seconds >= 0, got {policy_seconds})")
    env = gymnasium.make(env_id)
    if env.action_space.shape is None:
        raise TypeError(f"{env_id} has no fixed-shape action space")
    actions = np.random.default_rng(seed).random((steps, *env.action_space.shape)).astype(np.float32)

    def single() -> tuple[float, float]:
        env.reset(seed=seed)
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        _play(env, actions, policy_seconds)
        return time.perf_counter() - wall_start, time.process_time() - cpu_start

    measure: dict[str, Callable[[int], tuple[float, ...]]] = {
        "independent": lambda n: _independent_processes(env_id, n, seed, actions, policy_seconds),
        "gymnasium": lambda n: _vector_env("gymnasium", env_id, n, seed, actions, policy_seconds),
        "osim": lambda n: _vector_env("osim", env_id, n, seed, actions, policy_seconds),
        "pool": lambda n: _env_pool(env_id, n, seed, actions, policy_seconds),
    }
    # per N, per round: (wall s, CPU s[, idle fraction]) of the single env and of every kind
    timings: dict[int, list[dict[str, tuple[float, ...]]]] = {n: [] for n in workers}
    for round_index in range(rounds):
        for n in workers:
            progress(f"round {round_index + 1}/{rounds}, {n} worker(s): one env, then "
                     f"{', '.join(measure)}, {steps} steps each")
            timings[n].append({"single": single(), **{kind: run(n) for kind, run in measure.items()}})
    env.close()

    single_walls = [row["single"][0] for rows in timings.values() for row in rows]
    single_cpus = [row["single"][1] for rows in timings.values() for row in rows]
    results: dict[str, Any] = {
        "env_id": env_id, "steps_per_env": steps, "rounds": rounds, "policy_seconds": policy_seconds,
        "kinds": PARALLEL_KINDS,
        "single_process": steps / statistics.median(single_walls),
        "single_process_per_cpu_second": steps / statistics.median(single_cpus),
        "single_process_range": [steps / max(single_walls), steps / min(single_walls)], "workers": {},
    }
    for n in workers:
        rows = timings[n]
        by_kind: dict[str, Any] = {}
        for kind in measure:
            # paired: n x (single env's seconds) / (this kind's seconds), same round
            speedups = [n * row["single"][0] / row[kind][0] for row in rows]
            by_kind[kind] = {
                "steps_per_second": statistics.median(n * steps / row[kind][0] for row in rows),
                "speedup": statistics.median(speedups),
                "cpu_efficiency": statistics.median(n * row["single"][1] / row[kind][1] for row in rows),
                "of_independent": statistics.median(row["independent"][0] / row[kind][0] for row in rows),
                "speedup_rounds": speedups,
            }
            if len(rows[0][kind]) > 2:
                by_kind[kind]["idle"] = statistics.median(row[kind][2] for row in rows)
        results["workers"][str(n)] = {"target_0.9N": 0.9 * n, **by_kind}
    return results


def _reflex_setup(mode: str) -> Callable[[Any], None]:
    """Put an L2M2019Env into the model of reflex ``mode`` ('3D' as built, '2D' the planar model)."""

    def setup(env: Any) -> None:
        if mode == "2D":
            env.change_model("2D", env.difficulty)

    return setup


def reflex_gait_actions(params_path: str | os.PathLike[str], steps: int, mode: str = "3D") -> Any:
    """Excitations of the reflex controller (``mode`` '3D' or '2D', parameters from ``params_path``)
    driving L2M2019Env from the original example's initial pose, recorded under the default
    settings (to be replayed open loop). Stops early if the model falls."""
    import numpy as np

    from osim.control import EXAMPLE_INIT_POSE, OsimReflexCtrl, load_reflex_params

    env = _load_ours("L2M2019Env")(visualize=False, seed=0)
    _reflex_setup(mode)(env)
    controller = OsimReflexCtrl(mode=mode, params=load_reflex_params(params_path, mode))
    observation = env.reset(init_pose=np.array(EXAMPLE_INIT_POSE), obs_as_dict=True)
    actions = []
    for _ in range(steps):
        action = np.asarray(controller.update(observation), dtype=np.float64)
        actions.append(action)
        observation, _, done, _ = env.step(action, obs_as_dict=True)
        if done:
            break
    return np.array(actions)


def preset_deviation(
    env: str,
    presets: Sequence[str | dict[str, Any]],
    seconds: float = 1.0,
    seeds: Sequence[int] = (0, 1, 2),
    repeats: int = 1,
    reflex_params: dict[str, str | os.PathLike[str]] | None = None,
    reference_settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Per preset (a name or a dict of :class:`IntegratorSettings` fields): the largest deviation of
    the pelvis position (m) and of every rotational coordinate (rad) from the default settings over
    ``seconds`` of the same actions, and the CPU time per step (best of ``repeats``).

    Scenarios: uniform random excitations for each of ``seeds`` (from the default reset), and, with
    ``reflex_params`` (L2M2019Env only; ``{"3D": path, "2D": path}``), the reflex controller's
    excitations on that model, recorded under the default settings and replayed open loop.
    ``reference_settings`` measures deviations from other settings than the defaults (e.g. a much
    tighter accuracy, to see the default settings' own error); the defaults then get a row too.
    """
    import numpy as np

    from osim.engine import IntegratorSettings
    from osim.engine.presets import preset_fields

    cls = _load_ours(env)
    n_steps = round(seconds / 0.01)
    probe = cls(visualize=False)
    n_actions = probe.get_action_space_size()
    scenarios: dict[str, tuple[Any, dict[str, Any], Callable[[Any], None]]] = {
        f"random-{seed}": (np.random.default_rng(seed).random((n_steps, n_actions)), {}, _reflex_setup("3D"))
        for seed in seeds
    }
    for mode, path in (reflex_params or {}).items():
        from osim.control import EXAMPLE_INIT_POSE

        scenarios[f"reflex-{mode}"] = (
            reflex_gait_actions(path, n_steps, mode), {"init_pose": np.array(EXAMPLE_INIT_POSE)},
            _reflex_setup(mode),
        )

    def trajectory(
        settings: dict[str, Any], actions: Any, reset_kwargs: dict[str, Any], setup: Callable[[Any], None]
    ) -> tuple[Any, Any, float]:
        e = cls(visualize=False, integrator=IntegratorSettings(**settings))
        setup(e)
        model = e.osim_model
        rotational = [c.value_column for c in model.structure.coordinates if c.motion_type == "rotational"]
        best = float("inf")
        for _ in range(repeats):
            e.reset(**reset_kwargs)
            pelvis_path, angles = [], []
            start = time.process_time()
            for a in actions:
                _, _, _, info = e.step(a)
                pelvis_path.append(list(model.state_description()["body_pos"]["pelvis"]))
                angles.append(model.state_variable_values()[rotational].tolist())
                if "simulation_failure" in info:
                    break
            best = min(best, (time.process_time() - start) / len(pelvis_path))
        return np.array(pelvis_path), np.array(angles), best

    reference = {name: trajectory(dict(reference_settings or {}), *scenario) for name, scenario in scenarios.items()}
    if reference_settings:
        # Deviations from a (tighter) reference; speed-ups stay relative to the default settings.
        defaults = {name: trajectory({}, *scenario) for name, scenario in scenarios.items()}
        presets = [{}, *presets]
    else:
        defaults = reference
    base_cost = statistics.median(r[2] for r in defaults.values())
    table: dict[str, Any] = {
        "env": env, "seconds": seconds, "scenarios": list(scenarios), "repeats": repeats,
        "reference": dict(reference_settings or {}), "default_cpu_ms_per_step": 1e3 * base_cost, "presets": {},
    }
    for name in presets:
        fields = preset_fields(name) if isinstance(name, str) else dict(name)
        label = name if isinstance(name, str) else (
            ",".join(f"{k}={v}" for k, v in sorted(fields.items())) or "default")
        row: dict[str, Any] = {"settings": fields, "scenarios": {}}
        costs = []
        for scenario_name, scenario in scenarios.items():
            ref_p, ref_a, _ = reference[scenario_name]
            p, a, cost = trajectory(fields, *scenario)
            m = min(len(p), len(ref_p))
            row["scenarios"][scenario_name] = {
                "pelvis_max_m": float(np.max(np.linalg.norm(p[:m] - ref_p[:m], axis=1))),
                "joint_max_rad": float(np.max(np.abs(a[:m] - ref_a[:m]))),
                "steps_compared": m,
                "cpu_ms_per_step": 1e3 * cost,
                "speedup_cpu": defaults[scenario_name][2] / cost,
            }
            costs.append(cost)
        row["pelvis_max_m"] = max(r["pelvis_max_m"] for r in row["scenarios"].values())
        row["joint_max_rad"] = max(r["joint_max_rad"] for r in row["scenarios"].values())
        row["cpu_ms_per_step"] = 1e3 * statistics.median(costs)
        row["speedup_cpu"] = base_cost / statistics.median(costs)
        table["presets"][label] = row
    return table


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------


def _progress(line: str) -> None:
    """A progress line of a running benchmark, on stderr (the results go to stdout)."""
    print(line, file=sys.stderr, flush=True)


def _report(args: argparse.Namespace, table: list[str], result: dict[str, Any]) -> int:
    """Print ``table`` (or, with a bare ``--json``, ``result`` as JSON) and write ``--json FILE``."""
    if args.json == JSON_TO_STDOUT:
        print(json.dumps(result, indent=1), flush=True)
        return 0
    print("\n".join(table), flush=True)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    return 0


def _cmd_envs(args: argparse.Namespace) -> int:
    result = compare_envs(args.env, args.steps, args.rounds, original=args.original, presets=args.preset,
                          seed=args.seed, progress=_progress)
    table = []
    for env, summary in result["envs"].items():
        for key, variant in summary["variants"].items():
            if "error" in variant:
                table.append(f"{env:15s} {key:14s} error")
                continue
            ratio = (f"  x{variant['ratio_cpu']:.2f} (CPU) x{variant['ratio_wall']:.2f} (wall)"
                     if "ratio_cpu" in variant else "")
            table.append(f"{env:15s} {key:14s} {variant['steps_per_second']:7.1f} steps/s  "
                         f"{variant['steps_per_cpu_second']:7.1f} per CPU s{ratio}")
    return _report(args, table, result)


def _cmd_memory(args: argparse.Namespace) -> int:
    result: dict[str, Any] = {"machine": machine_details()}
    result.update(run_worker(args.env, "ours", args.steps, episode_steps=args.episode_steps,
                             rss_every=args.rss_every, split=False, nice=args.nice,
                             integrator=preset_fields_or_none(args.preset)))
    samples = result["rss_mb"]
    # Growth after warm-up: from the first sample after the first episode to the end.
    warm = next((mb for step, mb in samples if step >= args.episode_steps), samples[0][1])
    result["rss_growth_mb"] = samples[-1][1] - warm
    return _report(args, [
        f"{args.env}: {result['steps']} steps, {result['resets']} resets, RSS {samples[0][1]:.0f} -> "
        f"{warm:.0f} (after first episode) -> {samples[-1][1]:.0f} MB, growth {result['rss_growth_mb']:.1f} MB"
    ], result)


def preset_fields_or_none(name: str | None) -> dict[str, Any] | None:
    """The settings of integrator preset ``name`` as a dict; ``None`` when no preset is named."""
    if not name:
        return None
    from osim.engine.presets import preset_fields

    return preset_fields(name)


def _cmd_multi(args: argparse.Namespace) -> int:
    result = multi_env(args.env, args.count, args.steps, progress=_progress)
    return _report(args, multi_table(result), {"machine": machine_details(), **result})


def multi_table(result: dict[str, Any]) -> list[str]:
    """The lines ``osim bench multi`` prints for a :func:`multi_env` result."""
    rows = (("one env alone", result["cpu_ms_per_step_alone"]),
            (f"{result['count']} envs in turn", result["cpu_ms_per_step_together"]),
            ("one env alone again", result["cpu_ms_per_step_alone_after"]))
    return [f"{result['env']}: CPU ms per step, {result['steps_per_env']} steps per env",
            *(f"  {label:<22}{value:8.2f}" for label, value in rows),
            f"  {'slowdown together':<22}{'x':>4}{result['slowdown']:.2f}"]


def _cmd_vector(args: argparse.Namespace) -> int:
    try:
        result = vector_throughput(args.env_id, args.workers, args.steps, args.rounds,
                                   policy_seconds=args.policy_ms / 1000, progress=_progress)
    except ValueError as error:  # bad numbers on the command line: say so, no traceback
        print(f"osim bench vector: {error}", file=sys.stderr)
        return 2
    return _report(args, vector_table(result), {"machine": machine_details(), **result})


def vector_table(result: dict[str, Any]) -> list[str]:
    """The table ``osim bench vector`` prints for a :func:`vector_throughput` result (medians)."""
    lines = [
        f"{result['env_id']}: {result['steps_per_env']} steps per env, {result['rounds']} round(s)"
        + (f", {1e3 * result['policy_seconds']:g} ms policy stand-in" if result["policy_seconds"] else ""),
        f"one env in this process: {result['single_process']:.1f} steps/s",
        "",
        f"{'workers':>7}  {'kind':<12} {'steps/s':>8} {'speed-up':>8} {'CPU eff.':>8} {'idle':>6} "
        f"{'of indep.':>9}",
    ]
    for n, row in result["workers"].items():
        for kind in result["kinds"]:
            cell = row[kind]
            idle = f"{100 * cell['idle']:5.0f}%" if "idle" in cell else f"{'-':>6}"
            lines.append(f"{n:>7}  {kind:<12} {cell['steps_per_second']:8.1f} {cell['speedup']:7.2f}x "
                         f"{cell['cpu_efficiency']:8.2f} {idle} {cell['of_independent']:8.2f}x")
    lines += ["", *(f"{kind}: {meaning}" for kind, meaning in result["kinds"].items())]
    return lines


def _cmd_presets(args: argparse.Namespace) -> int:
    from osim.engine.presets import PRESETS

    names = args.preset or [name for name in PRESETS if name != "original"]
    reflex = {mode: path for mode, path in (("3D", args.reflex_3d), ("2D", args.reflex_2d)) if path}
    result = preset_deviation(args.env, names, args.seconds, repeats=args.repeats, reflex_params=reflex)
    table = [f"{name:12s} pelvis {1e3 * row['pelvis_max_m']:8.3f} mm  joints {row['joint_max_rad']:.4f} rad  "
             f"{row['cpu_ms_per_step']:6.2f} ms/step  x{row['speedup_cpu']:.2f}"
             for name, row in result["presets"].items()]
    return _report(args, table, {"machine": machine_details(), **result})


#: ``--json`` without a file name: print the JSON instead of the table
JSON_TO_STDOUT = "-"


def _add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", nargs="?", const=JSON_TO_STDOUT, default=None, metavar="FILE",
                        help="print the results as JSON instead of the table; with FILE, print the "
                             "table and write the JSON there")


def register(subparsers: Any) -> None:
    """Add ``osim bench`` and its subcommands to the ``osim`` command."""
    from osim.cli import plain_text

    bench = subparsers.add_parser("bench", help="benchmark stepping speed, memory and parallel throughput",
                                  description=plain_text(__doc__),
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = bench.add_subparsers(dest="bench_command", metavar="WHAT", required=True)
    envs = list(ENVIRONMENTS)

    p = sub.add_parser("envs", help="steps/s and cost split per env, ours vs the original")
    p.add_argument("--env", nargs="+", choices=envs, default=["L2M2019Env"])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--original", action="store_true", help="also time the original (needs a repository checkout)")
    p.add_argument("--preset", nargs="*", default=[], help="also time these presets of ours")
    _add_json_option(p)
    p.set_defaults(func=_cmd_envs)

    p = sub.add_parser("memory", help="RSS over a long run with many resets")
    p.add_argument("--env", choices=envs, default="L2RunEnv")
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--episode-steps", type=int, default=100)
    p.add_argument("--rss-every", type=int, default=500)
    p.add_argument("--preset", default=None)
    p.add_argument("--nice", type=int, default=0)
    _add_json_option(p)
    p.set_defaults(func=_cmd_memory)

    p = sub.add_parser("multi", help="several envs in one process: do they slow each other down?")
    p.add_argument("--env", choices=envs, default="L2RunEnv")
    p.add_argument("--count", type=int, default=3)
    p.add_argument("--steps", type=int, default=200)
    _add_json_option(p)
    p.set_defaults(func=_cmd_multi)

    p = sub.add_parser("vector", help="steps/s of N envs stepped in parallel (vector envs, pool) for each N")
    p.add_argument("--env-id", default="osim/L2Run-v0")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--policy-ms", type=float, default=0.0, help="CPU ms in the parent before each batch of actions")
    _add_json_option(p)
    p.set_defaults(func=_cmd_vector)

    p = sub.add_parser("presets", help="speed and deviation from the default settings per preset")
    p.add_argument("--env", choices=envs, default="L2M2019Env")
    p.add_argument("--preset", nargs="*", default=None)
    p.add_argument("--seconds", type=float, default=1.0)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--reflex-3d", default=None,
                   help="also replay the reflex controller on the 3-D model (its parameter file)")
    p.add_argument("--reflex-2d", default=None,
                   help="also replay the reflex controller's walk on the planar model (its parameter file)")
    _add_json_option(p)
    p.set_defaults(func=_cmd_presets)


if __name__ == "__main__":
    # ``python -c <this file> worker ...``: the child of run_worker, in either environment.
    if sys.argv[1:2] == ["worker"]:
        sys.exit(_worker_main(sys.argv[2:]))
    parser = argparse.ArgumentParser(prog="osim")
    register(parser.add_subparsers())
    namespace = parser.parse_args(["bench", *sys.argv[1:]])  # ``python -m osim.bench WHAT ...``
    sys.exit(namespace.func(namespace))
