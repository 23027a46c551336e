"""CMA-ES optimisation of the reflex controller's parameters, with parallel episode evaluation.

The original (``cmaes/optim_par_L2M2019Ctrl_2D.py``, spec §7) searched the 37 parameters of the 2-D
controller with CMA-ES (x0 = ones, sigma = 0.01, population 16, at most 400 generations) to
maximise the L2M2019 reward at difficulty 0 on the planar model, evaluating each population in
parallel. This module does the same with the ``cma`` package and :mod:`multiprocessing`; each
worker process builds its environment once and reuses it for every evaluation.

Command line (also ``examples/optimize_reflex.py``)::

    python -m osim.control.optimize --params params_2D.txt --generations 50 --processes 2 --out runs/cma

Fixed relative to the original scripts: the initial pose has the 12 entries the environment
expects (the scripts passed 11, shifting every value by one), the 3-D mode uses 46 parameters (the
script used 45) and the environment is driven by the controller's output (the 3-D script passed
the parameters).
"""
from __future__ import annotations

import argparse
import csv
import math
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .loco_reflex_song2019 import LocoCtrl
from .osim_loco_reflex_song2019 import (
    EXAMPLE_INIT_POSE,
    OsimReflexCtrl,
    _mode_dimension,
    load_reflex_params,
)

OBJECTIVES = ("reward", "distance", "walk", "full_walk")
METHODS = ("cma", "coordinate")
#: ``'full_walk'``: the cost of ending early (more than any distance walked in an episode), and of
#: each second short of the full length (so a later fall ranks above an earlier one).
FALL_COST = 1000.0
FALL_COST_PER_SECOND = 100.0
ENGINES = ("opensim", "mujoco")


@dataclass(frozen=True)
class ReflexTask:
    """What one evaluation runs.

    Args:
        mode: ``'2D'`` (planar model, 37 parameters) or ``'3D'`` (46).
        difficulty: L2M2019 difficulty (the original optimised at 0: constant 1.4 m/s target).
        max_steps: episode length cap (0.01 s steps); the env's own time limit applies too.
        init_pose: the 12-number initial pose (default: the original example's).
        env_seed: seed of the environment (target field draws).
        integrator_accuracy: the env's integrator accuracy.
        objective: ``'reward'`` (minimise minus the total reward, as the original),
            ``'distance'`` (minimise minus the forward distance of the pelvis) or ``'walk'``
            (minus the distance plus the seconds survived: the distance alone ranks a forward lunge
            that falls at 0.5 s above a stumble that stays up for 2 s; survival breaks that tie
            while walking, which covers ~1.4 m per second, still dominates standing still) or
            ``'full_walk'`` (minus the distance of an episode that lasts ``max_steps`` without a
            fall; an episode that ends sooner costs :data:`FALL_COST` plus 100 per second it falls
            short, so every full walk ranks above every fall: for polishing a walker, where
            ``'walk'`` would trade the last steps' survival for a longer final lunge).
        engine: ``'opensim'`` or ``'mujoco'`` (passed to the environment).
        noisy_episodes: extra episodes per candidate with Gaussian noise on the excitations; the
            cost is the mean over the plain episode and these. Parameters tuned on one
            deterministic episode can sit on a knife edge (on MuJoCo, 0.02 of noise felled a
            10-second walker within 1.5 s); a teacher for imitation must recover from small errors.
        action_noise: standard deviation of that noise (excitation units).
        alpha_f_from_rate: the 3-D controller's frontal leg angle from the hip abduction rate, as
            the original (True), or from the angle (False; see :class:`OsimReflexCtrl`).
    """

    mode: str = "2D"
    difficulty: int = 0
    max_steps: int = 1000
    init_pose: tuple[float, ...] = EXAMPLE_INIT_POSE
    env_seed: int | None = 0
    integrator_accuracy: float = 5e-5
    objective: str = "reward"
    engine: str = "opensim"
    noisy_episodes: int = 0
    action_noise: float = 0.02
    alpha_f_from_rate: bool = True

    def __post_init__(self) -> None:
        _mode_dimension(self.mode)
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {self.engine!r}")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        if self.max_steps < 1:
            raise ValueError(f"max_steps must be >= 1, got {self.max_steps}")
        if len(self.init_pose) != 12:
            raise ValueError(f"init_pose must have 12 entries, got {len(self.init_pose)}")
        if self.noisy_episodes < 0 or not self.action_noise >= 0:
            raise ValueError(f"noisy_episodes and action_noise must be >= 0, got {self.noisy_episodes} "
                             f"and {self.action_noise}")

    @property
    def n_params(self) -> int:
        """Number of controller parameters for this task's mode (both legs)."""
        return LocoCtrl.N_PARAMS[_mode_dimension(self.mode)]


@dataclass(frozen=True)
class EpisodeResult:
    """Outcome of one controller episode."""

    total_reward: float
    distance: float
    footsteps: int
    steps: int
    fell: bool
    step_size: float = 0.01

    def cost(self, objective: str, max_steps: int | None = None) -> float:
        """The value the search minimises (see :class:`ReflexTask`'s ``objective``; ``'full_walk'``
        needs the episode's ``max_steps``)."""
        if objective == "reward":
            return -self.total_reward
        if objective == "walk":
            return -(self.distance + self.steps * self.step_size)
        if objective == "full_walk":
            if max_steps is None:
                raise ValueError("the 'full_walk' objective needs the episode's max_steps")
            if self.fell or self.steps < max_steps:
                return FALL_COST + FALL_COST_PER_SECOND * (max_steps - self.steps) * self.step_size - self.distance
        return -self.distance


def make_env(task: ReflexTask) -> Any:
    """The environment of ``task`` (built once per worker)."""
    from osim.env.l2m2019 import L2M2019Env

    env = L2M2019Env(
        visualize=False, integrator_accuracy=task.integrator_accuracy, difficulty=task.difficulty,
        seed=task.env_seed, engine=task.engine,
    )
    if task.mode == "2D":
        env.change_model(model="2D", difficulty=task.difficulty)
    return env


def run_episode(params: ArrayLike, task: ReflexTask, env: Any | None = None,
                noise_seed: int | None = None) -> EpisodeResult:
    """Run the reflex controller with ``params`` for one episode of ``task``; with ``noise_seed``,
    Gaussian noise of ``task.action_noise`` (from that seed) is added to its excitations."""
    env = env if env is not None else make_env(task)
    controller = OsimReflexCtrl(dt=env.osim_model.stepsize, mode=task.mode, params=params,
                                alpha_f_from_rate=task.alpha_f_from_rate)
    rng = None if noise_seed is None else np.random.default_rng(noise_seed)
    obs = env.reset(seed=task.env_seed, init_pose=task.init_pose)
    x0 = env.get_state_desc()["body_pos"]["pelvis"][0]
    total, steps, done = 0.0, 0, False
    while steps < task.max_steps and not done:
        action: Any = controller.update(obs)
        if rng is not None:
            action = np.clip(np.asarray(action) + rng.normal(0.0, task.action_noise, len(action)), 0.0, 1.0)
        obs, reward, done, _ = env.step(action)
        total += reward
        steps += 1
    distance = env.get_state_desc()["body_pos"]["pelvis"][0] - x0
    return EpisodeResult(total, distance, int(env.footstep["n"]), steps, bool(env.is_done()),
                         float(env.osim_model.stepsize))


# -- worker processes -------------------------------------------------------------------------

_worker: dict[str, Any] = {}


def _init_worker(task: ReflexTask) -> None:
    _worker["task"] = task
    _worker["env"] = make_env(task)


def evaluate_candidate(params: np.ndarray, task: ReflexTask, env: Any) -> tuple[float, EpisodeResult]:
    """The candidate's cost (the mean over its plain and noisy episodes) and its plain episode."""
    plain = run_episode(params, task, env)
    # The same noise seeds for every candidate: their costs differ by the parameters only.
    noisy = [run_episode(params, task, env, noise_seed=k) for k in range(task.noisy_episodes)]
    return float(np.mean([r.cost(task.objective, task.max_steps) for r in (plain, *noisy)])), plain


def _evaluate_in_worker(params: np.ndarray) -> tuple[float, EpisodeResult]:
    return evaluate_candidate(params, _worker["task"], _worker["env"])


# -- optimisation -----------------------------------------------------------------------------


@dataclass
class Generation:
    """Statistics of one CMA-ES generation (costs, elapsed seconds)."""

    index: int
    best_cost: float
    mean_cost: float
    best_so_far: float
    seconds: float


@dataclass
class OptimizationResult:
    """Best parameters found by :func:`optimize`, their cost and episode, and the generations."""

    best_params: np.ndarray
    best_cost: float
    best_episode: EpisodeResult
    evaluations: int
    generations: list[Generation] = field(default_factory=list)


def optimize(
    task: ReflexTask,
    x0: ArrayLike | None = None,
    sigma: float = 0.01,
    popsize: int = 16,
    maxiter: int = 400,
    processes: int | None = None,
    seed: int | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    use_bounds: bool = False,
    log: Callable[[str], None] | None = print,
    start_method: str = "spawn",
) -> OptimizationResult:
    """Minimise ``task``'s cost over the controller parameters with CMA-ES.

    Args:
        x0: initial parameters (default: ones, as the original).
        sigma: initial step size (in parameter units).
        popsize: candidates per generation.
        maxiter: generations.
        processes: worker processes evaluating a population in parallel (1: in this process;
            default: the number of CPUs).
        seed: CMA-ES's sampling seed (>= 1; ``cma`` treats 0 and None as "from the clock").
        out_dir: if given, ``best.txt`` (best parameters so far, one per line, loadable with
            :func:`load_reflex_params`) and ``history.csv`` are written after every generation.
        use_bounds: restrict the search to the controller's ``par_space`` box.
        log: called with one progress line per generation (None: silent).
        start_method: multiprocessing start method ("spawn" is safe with OpenSim loaded).
    """
    from osim._optional import require

    require("cma", extra="reflex", feature="CMA-ES optimisation of the reflex parameters")
    import cma

    n = task.n_params
    x_start = np.ones(n) if x0 is None else np.asarray(x0, dtype=np.float64)
    if x_start.shape != (n,):
        raise ValueError(f"x0 must have {n} values for {task.mode} control, got shape {x_start.shape}")
    options: dict[str, Any] = {"popsize": popsize, "maxiter": maxiter, "verbose": -9}
    if seed is not None:
        options["seed"] = seed
    if use_bounds:
        low, high = LocoCtrl.par_space[0][:n], LocoCtrl.par_space[1][:n]
        options["bounds"] = [list(low), list(high)]
    es = cma.CMAEvolutionStrategy(x_start, sigma, options)
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)

    best = OptimizationResult(x_start.copy(), math.inf, EpisodeResult(0.0, 0.0, 0, 0, True), 0)
    with _Evaluator(task, processes, start_method) as evaluate:
        while not es.stop():
            start = time.perf_counter()
            candidates = es.ask()
            evaluated = evaluate(candidates)
            costs = [cost for cost, _ in evaluated]
            es.tell(candidates, costs)
            _record(best, candidates, evaluated, start, out, log)
    return best


class _Evaluator:
    """Evaluates candidates in ``processes`` worker processes (1: in this process), each with its
    own environment built once; a context manager that closes the workers."""

    def __init__(self, task: ReflexTask, processes: int | None, start_method: str) -> None:
        self.task = task
        workers = processes if processes is not None else (os.cpu_count() or 1)
        self.pool = None
        self.env = None
        if workers > 1:
            context = multiprocessing.get_context(start_method)
            self.pool = context.Pool(workers, initializer=_init_worker, initargs=(task,))
        else:
            self.env = make_env(task)

    def __call__(self, candidates: Sequence[np.ndarray]) -> list[tuple[float, EpisodeResult]]:
        if self.pool is not None:
            return self.pool.map(_evaluate_in_worker, candidates)
        return [evaluate_candidate(c, self.task, self.env) for c in candidates]

    def __enter__(self) -> _Evaluator:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool.join()


def _record(best: OptimizationResult, candidates: Sequence[np.ndarray],
            evaluated: list[tuple[float, EpisodeResult]], start: float, out: Path | None,
            log: Callable[[str], None] | None) -> bool:
    """Count one evaluated batch into ``best`` (kept if it improves), save and log; True if it improved."""
    costs = [cost for cost, _ in evaluated]
    best.evaluations += len(candidates)
    k = int(np.argmin(costs))
    improved = costs[k] < best.best_cost
    if improved:
        best.best_cost, best.best_params, best.best_episode = costs[k], np.array(candidates[k]), evaluated[k][1]
    generation = Generation(len(best.generations) + 1, costs[k], float(np.mean(costs)), best.best_cost,
                            time.perf_counter() - start)
    best.generations.append(generation)
    if out is not None:
        _save(out, best)
    if log is not None:
        log(f"generation {generation.index}: best {generation.best_cost:.4f}, mean "
            f"{generation.mean_cost:.4f}, best so far {best.best_cost:.4f} "
            f"({best.best_episode.distance:.2f} m, {best.best_episode.footsteps} footsteps), "
            f"{generation.seconds:.1f} s")
    return improved


def _valid_factors(factors: Sequence[float]) -> bool:
    return len(factors) > 0 and all(f > 0 and f != 1 for f in factors)


#: Multipliers :func:`coordinate_search` tries on each parameter in turn.
COORDINATE_FACTORS = (1.1, 1.05, 1.02, 0.98, 0.95, 0.9)


def coordinate_search(
    task: ReflexTask,
    x0: ArrayLike,
    factors: Sequence[float] = COORDINATE_FACTORS,
    max_sweeps: int = 20,
    processes: int | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    log: Callable[[str], None] | None = print,
    start_method: str = "spawn",
) -> OptimizationResult:
    """Polish a walker one parameter at a time: for each parameter in order, try it times each of
    ``factors`` (the others fixed) and keep the best trial if it lowers the cost; sweep until a
    whole sweep keeps nothing or ``max_sweeps`` are done. Deterministic, no seed.

    Why beside CMA-ES: a tuned reflex gait is a knife-edge orbit. Near it, CMA-ES's samples move
    all parameters at once and nearly all fall, so its step size collapses; moving one parameter
    a few per cent mostly keeps the walk, and some of those moves lengthen it. Each batch of
    trials is one row of ``history.csv`` (``Generation``).
    """
    x_start = np.asarray(x0, dtype=np.float64)
    if x_start.shape != (task.n_params,):
        raise ValueError(f"x0 must have {task.n_params} values for {task.mode} control, got shape {x_start.shape}")
    if not _valid_factors(factors):
        raise ValueError(f"factors must be positive multipliers other than 1, got {list(factors)}")
    if max_sweeps < 1:
        raise ValueError(f"max_sweeps must be >= 1, got {max_sweeps}")
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    best = OptimizationResult(x_start.copy(), math.inf, EpisodeResult(0.0, 0.0, 0, 0, True), 0)
    with _Evaluator(task, processes, start_method) as evaluate:
        _record(best, [x_start], evaluate([x_start]), time.perf_counter(), out, log)
        for _ in range(max_sweeps):
            kept = False
            for index in range(task.n_params):
                start = time.perf_counter()
                trials = []
                for factor in factors:
                    trial = best.best_params.copy()
                    trial[index] *= factor
                    trials.append(trial)
                kept |= _record(best, trials, evaluate(trials), start, out, log)
            if not kept:
                break
    return best


def _save(out: Path, result: OptimizationResult) -> None:
    np.savetxt(out / "best.txt", result.best_params)
    with open(out / "history.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(list(asdict(result.generations[0])))
        for generation in result.generations:
            writer.writerow(list(asdict(generation).values()))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m osim.control.optimize``: run the CMA-ES optimisation from the command line; returns the exit code."""
    parser = argparse.ArgumentParser(
        description="Optimise the reflex controller's parameters with CMA-ES, or polish them one "
                    "parameter at a time (--method coordinate).")
    parser.add_argument("--params", type=Path, help="initial parameters file (default: all ones)")
    parser.add_argument("--mode", choices=sorted(("2D", "3D")), default="2D")
    parser.add_argument("--difficulty", type=int, default=0, choices=range(4))
    parser.add_argument("--steps", type=int, default=1000, help="episode length cap (0.01 s steps)")
    parser.add_argument("--objective", choices=OBJECTIVES, default="reward")
    parser.add_argument("--engine", choices=ENGINES, default="opensim", help="simulation engine of the env")
    parser.add_argument("--noisy-episodes", type=int, default=0,
                        help="extra episodes per candidate with noisy excitations (robustness; cost = mean)")
    parser.add_argument("--action-noise", type=float, default=0.02, help="that noise's standard deviation")
    parser.add_argument("--alpha-f-from-angle", action="store_true",
                        help="3D: the frontal leg angle from the hip abduction angle (the original "
                             "used its rate)")
    parser.add_argument("--method", choices=METHODS, default="cma",
                        help="cma: CMA-ES; coordinate: one parameter at a time (coordinate_search), "
                             "from --params")
    parser.add_argument("--sweeps", type=int, default=20, help="coordinate: at most this many sweeps")
    parser.add_argument("--factors", type=float, nargs="+", default=list(COORDINATE_FACTORS),
                        help="coordinate: the multipliers tried on each parameter")
    parser.add_argument("--sigma", type=float, default=0.01)
    parser.add_argument("--popsize", type=int, default=16)
    parser.add_argument("--generations", type=int, default=400)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=None, help="CMA-ES seed (>= 1)")
    parser.add_argument("--env-seed", type=int, default=0)
    parser.add_argument("--bounds", action="store_true", help="search within the controller's par_space")
    parser.add_argument("--out", type=Path, default=Path("optim_data") / "cma", help="output folder")
    ns = parser.parse_args(argv)
    task = ReflexTask(mode=ns.mode, difficulty=ns.difficulty, max_steps=ns.steps, env_seed=ns.env_seed,
                      objective=ns.objective, engine=ns.engine, noisy_episodes=ns.noisy_episodes,
                      action_noise=ns.action_noise, alpha_f_from_rate=not ns.alpha_f_from_angle)
    x0 = load_reflex_params(ns.params, ns.mode) if ns.params else None
    if x0 is not None and x0.size != task.n_params:
        parser.error(f"--params must hold {task.n_params} values (one set for both legs)")
    if ns.method == "coordinate":
        if x0 is None:
            parser.error("--method coordinate polishes given parameters: pass --params")
        if ns.sweeps < 1:
            parser.error(f"--sweeps must be >= 1, got {ns.sweeps}")
        if not _valid_factors(ns.factors):
            parser.error(f"--factors must be positive multipliers other than 1, got {ns.factors}")
        result = coordinate_search(task, x0, factors=ns.factors, max_sweeps=ns.sweeps,
                                   processes=ns.processes, out_dir=ns.out)
    else:
        result = optimize(task, x0=x0, sigma=ns.sigma, popsize=ns.popsize, maxiter=ns.generations,
                          processes=ns.processes, seed=ns.seed, out_dir=ns.out, use_bounds=ns.bounds)
    print(f"best cost {result.best_cost:.4f} after {result.evaluations} evaluations; "
          f"distance {result.best_episode.distance:.2f} m, {result.best_episode.footsteps} footsteps; "
          f"parameters in {ns.out / 'best.txt'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
