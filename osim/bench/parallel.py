"""Parallel throughput: several envs in one process, and N envs stepped in parallel (independent
processes, Gymnasium's and osim's vector envs, the env pool)."""
from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from osim.bench.runner import load_ours


def multi_env(env: str, count: int, steps: int, seed: int = 0,
              progress: Callable[[str], None] = lambda line: None) -> dict[str, Any]:
    """CPU time per step of one env alone, then of ``count`` envs stepped in turn in this process,
    then of one alone again; ``progress`` gets a line as each of the three starts."""
    import numpy as np

    cls = load_ours(env)

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
