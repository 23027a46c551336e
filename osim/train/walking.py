"""Learning to walk: a neural policy for the planar L2M2019 task, trained in minutes on MuJoCo.

The recipe is DAgger (Ross, Gordon & Bagnell, AISTATS 2011) with the reflex controller as the
teacher: the network drives the model, the reflex controller says at every visited state which
excitations it would give, and the network is refitted on everything gathered so far. Walking from
reinforcement learning alone needs tens of millions of steps for a muscle-driven model (the 2017-2019
challenge entries trained for days); imitation of a controller that walks, on states the student
itself reaches, needs a few hundred thousand, which is minutes on the MuJoCo engine.

    python -m osim.train.walking --engine mujoco --iterations 30 --out runs/walk

writes ``runs/walk/policy.npz`` (the best student: an :class:`~osim.train.mlp.MLPPolicy`, NumPy only),
``history.json`` (one row per iteration: samples, distance, time standing, wall time) and
``learning_curve.png`` (with the ``render`` extra). torch is needed for training only.

The task is ``L2M2019Env`` at difficulty 0 (a constant 1.4 m/s target) on the planar model from the
original example's initial pose (:data:`osim.control.EXAMPLE_INIT_POSE`): the reflex controller's
task, so the teacher's parameters fit it. The policy reads the body's part of the environment's
observation vector (the Gymnasium observation: its last 97 values, pelvis and legs; not the target
velocity field, which the teacher ignores too) and gives the 22 excitations.
"""
from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from osim.control import EXAMPLE_INIT_POSE, OsimReflexCtrl, teacher_parameters
from osim.control.optimize import ReflexTask, make_env
from osim.train.mlp import MLPPolicy

#: (joint, coordinate index) of the joint angles compared between engines, in ``joint_pos``.
COMPARED_ANGLES = (("ground_pelvis", 0), ("hip_r", 0), ("knee_r", 0), ("ankle_r", 0), ("hip_l", 0),
                   ("knee_l", 0), ("ankle_l", 0))

#: The body's part of the L2M2019 observation vector: everything after the 2 x 11 x 11 target field.
BODY_OBSERVATION = np.arange(242, 339)


@dataclass(frozen=True)
class WalkTask:
    """The episode a walking policy is trained and judged on.

    Args:
        engine: ``'mujoco'`` or ``'opensim'``.
        difficulty: L2M2019 difficulty (0: constant target velocity, as the reflex optimisation).
        env_seed: seed of the environment.
        max_steps: episode length (0.01 s steps; 1000 = the 10 s of the task).
        init_pose: the 12-number initial pose.
    """

    engine: str = "mujoco"
    difficulty: int = 0
    env_seed: int = 0
    max_steps: int = 1000
    init_pose: tuple[float, ...] = EXAMPLE_INIT_POSE

    def reflex_task(self) -> ReflexTask:
        """The same episode as the reflex optimisation sees it (builds the environment)."""
        return ReflexTask(mode="2D", difficulty=self.difficulty, max_steps=self.max_steps,
                          init_pose=self.init_pose, env_seed=self.env_seed, engine=self.engine)


@dataclass(frozen=True)
class Exploration:
    """How a training episode departs from the judged one, so that the student sees states around it.

    Args:
        teacher_share: probability that a step executes the teacher's action instead of the student's
            (DAgger's beta; 1: the teacher drives, 0: the student drives).
        action_noise: standard deviation of Gaussian noise added to the executed excitations.
        pose_noise: standard deviation of noise on the initial pose's speeds (m/s) and angles (rad).
        seed: seed of these draws.
    """

    teacher_share: float = 0.0
    action_noise: float = 0.0
    pose_noise: float = 0.0
    seed: int = 0


@dataclass
class WalkEpisode:
    """One episode: the observations and the teacher's labels, and how far the model got."""

    observations: np.ndarray  # (steps, 339)
    teacher_actions: np.ndarray  # (steps, 22)
    distance: float  # forward displacement of the pelvis (m)
    steps: int
    fell: bool
    footsteps: int
    joint_angles: np.ndarray  # (steps, len(COMPARED_ANGLES)), rad

    @property
    def seconds_standing(self) -> float:
        """Simulated time before the episode ended (s)."""
        return self.steps * 0.01

    def summary(self) -> dict[str, Any]:
        """Distance, steps, fall and footsteps, as plain numbers."""
        return {"distance_m": round(self.distance, 4), "steps": self.steps, "fell": self.fell,
                "footsteps": self.footsteps}


def _initial_pose(task: WalkTask, exploration: Exploration, rng: np.random.Generator) -> np.ndarray:
    pose = np.array(task.init_pose, dtype=np.float64)
    if exploration.pose_noise > 0:
        # Speeds (0, 1) and the angles (3 on); the pelvis height (2) stays, the feet must touch the ground.
        jitter = rng.normal(0.0, exploration.pose_noise, size=pose.shape)
        jitter[2] = 0.0
        pose += jitter
    return pose


def run_walk(env: Any, task: WalkTask, student: Callable[[np.ndarray], np.ndarray] | None,
             teacher_params: np.ndarray | None, exploration: Exploration = Exploration()) -> WalkEpisode:
    """One episode on ``env`` (made by :func:`make_walk_env`).

    ``student`` (or, with ``student=None``, the teacher) drives the model, mixed with the teacher per
    ``exploration``. With ``teacher_params`` the reflex controller follows the episode and labels
    every visited state with its excitations; without, no labels are recorded.
    """
    rng = np.random.default_rng(exploration.seed)
    teacher = None
    if teacher_params is not None:
        teacher = OsimReflexCtrl(mode="2D", dt=env.osim_model.stepsize, params=teacher_params)
    elif student is None:
        raise ValueError("run_walk needs a student, teacher parameters, or both")
    env.reset(seed=task.env_seed, init_pose=list(_initial_pose(task, exploration, rng)))
    x0 = env.get_state_desc()["body_pos"]["pelvis"][0]
    observations: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    angles: list[list[float]] = []
    angle_columns = _angle_columns(env)
    done = False
    while len(observations) < task.max_steps and not done:
        observation = np.asarray(env.get_observation(), dtype=np.float64)
        label = None if teacher is None else np.asarray(teacher.update(env.get_observation_dict()))
        if student is None or (label is not None and rng.random() < exploration.teacher_share):
            action = label
        else:
            action = student(observation)
        assert action is not None
        if exploration.action_noise > 0:
            action = np.clip(action + rng.normal(0.0, exploration.action_noise, size=action.shape), 0.0, 1.0)
        observations.append(observation)
        if label is not None:
            labels.append(label)
        _, _, done, _ = env.step(action, obs_as_dict=False)
        angles.append(env.task_state().q[angle_columns].tolist())  # arrays: no state dictionary per step
    n_actions = env.get_action_space_size()
    return WalkEpisode(
        np.array(observations), np.array(labels).reshape(-1, n_actions),
        float(env.get_state_desc()["body_pos"]["pelvis"][0] - x0), len(observations),
        bool(done and len(observations) < task.max_steps), int(env.footstep["n"]), np.array(angles),
    )


def _angle_columns(env: Any) -> np.ndarray:
    """Where :data:`COMPARED_ANGLES` are in the engine's coordinate array (``StateArrays.q``)."""
    structure = env.engine.structure
    column = {coordinate.name: k for k, coordinate in enumerate(structure.coordinates)}
    return np.array([column[structure.joint(joint).coordinates[index]] for joint, index in COMPARED_ANGLES])


def make_walk_env(task: WalkTask) -> Any:
    """The planar L2M2019Env of ``task``."""
    return make_env(task.reflex_task())


# -- where the episodes run ------------------------------------------------------------------

#: One episode to run: the student (None: the teacher drives), the teacher's parameters (None: no
#: labels) and the exploration.
WalkJob = tuple[MLPPolicy | None, np.ndarray | None, Exploration]
BACKENDS = ("processes", "ray")


class WalkWorker:
    """One environment of ``task``, running the episodes it is handed (a worker process's or a Ray actor's)."""

    def __init__(self, task: WalkTask) -> None:
        self.task, self.env = task, make_walk_env(task)

    def run(self, job: WalkJob) -> WalkEpisode:
        """Run one episode."""
        return run_walk(self.env, self.task, *job)


_worker: dict[str, WalkWorker] = {}


def _init_worker(task: WalkTask) -> None:
    _worker["worker"] = WalkWorker(task)


def _walk_in_worker(job: WalkJob) -> WalkEpisode:
    return _worker["worker"].run(job)


class EpisodeRunner:
    """Runs batches of episodes in this process, in worker processes, or on Ray actors.

    Args:
        task: the episodes' task (each worker builds its environment once).
        workers: parallel workers (1 with ``backend="processes"``: in this process).
        backend: ``"processes"`` (:mod:`multiprocessing`) or ``"ray"`` (actors on the running Ray
            instance: ``ray.init()`` first; on a cluster the actors spread over its nodes).
    """

    def __init__(self, task: WalkTask, workers: int = 2, backend: str = "processes") -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.backend = backend
        self._pool: Any = None
        self._local: WalkWorker | None = None
        self._actors: list[Any] = []
        if backend == "ray":
            from osim.train.ray_rollouts import _require_ray

            ray = _require_ray()
            actor_class = ray.remote(num_cpus=1)(WalkWorker)
            self._actors = [actor_class.remote(task) for _ in range(workers)]
        elif workers > 1:
            context = multiprocessing.get_context("spawn")
            self._pool = context.Pool(workers, initializer=_init_worker, initargs=(task,))
        else:
            self._local = WalkWorker(task)

    def run(self, jobs: Sequence[WalkJob]) -> list[WalkEpisode]:
        """The episodes of ``jobs``, in order."""
        if self._actors:
            from ray.util import ActorPool

            return list(ActorPool(self._actors).map(lambda actor, job: actor.run.remote(job), list(jobs)))
        if self._pool is not None:
            return self._pool.map(_walk_in_worker, jobs)
        assert self._local is not None
        return [self._local.run(job) for job in jobs]

    def close(self) -> None:
        """Stop the workers."""
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
        if self._actors:
            import ray

            for actor in self._actors:
                ray.kill(actor)
            self._actors = []


# -- DAgger -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DaggerConfig:
    """Settings of :func:`train_walking_policy`.

    Args:
        iterations: refits after the teacher's own episodes.
        episodes_per_iteration: episodes gathered per iteration (spread over the workers).
        hidden: widths of the hidden layers.
        epochs: passes over the aggregated data per refit.
        batch_size, learning_rate: Adam's minibatch and step size.
        teacher_share_decay: DAgger's beta in iteration i is ``teacher_share_decay ** i``.
        action_noise, pose_noise: exploration of the training episodes (see :class:`Exploration`).
        seed: seed of everything random in training.
    """

    iterations: int = 30
    episodes_per_iteration: int = 4
    hidden: tuple[int, ...] = (256, 256)
    epochs: int = 8
    batch_size: int = 512
    learning_rate: float = 1e-3
    teacher_share_decay: float = 0.5
    action_noise: float = 0.02
    pose_noise: float = 0.02
    seed: int = 0


@dataclass
class IterationRecord:
    """One DAgger iteration: data so far and how the (deterministic) student did on the judged episode."""

    iteration: int
    samples: int
    teacher_share: float
    distance_m: float
    steps: int
    fell: bool
    footsteps: int
    wall_s: float


@dataclass
class TrainingResult:
    """The best student (by distance plus seconds standing) and the iteration history."""

    policy: MLPPolicy
    best_iteration: int
    history: list[IterationRecord] = field(default_factory=list)
    teacher: dict[str, Any] = field(default_factory=dict)


def _torch_network(obs_size: int, hidden: Sequence[int], n_actions: int) -> Any:
    import torch

    layers: list[Any] = []
    width = obs_size
    for size in hidden:
        layers += [torch.nn.Linear(width, size), torch.nn.Tanh()]
        width = size
    layers.append(torch.nn.Linear(width, n_actions))
    return torch.nn.Sequential(*layers)


def _to_mlp_policy(network: Any, mean: np.ndarray, std: np.ndarray, metadata: dict[str, Any]) -> MLPPolicy:
    linear = [module for module in network if hasattr(module, "weight")]
    return MLPPolicy([m.weight.detach().double().numpy().copy() for m in linear],
                     [m.bias.detach().double().numpy().copy() for m in linear], mean.copy(), std.copy(),
                     observation_indices=BODY_OBSERVATION, metadata=metadata)


def _fit(network: Any, observations: np.ndarray, labels: np.ndarray, mean: np.ndarray, std: np.ndarray,
         config: DaggerConfig, generator: Any) -> float:
    """Minibatch Adam on the mean squared error; returns the last epoch's loss."""
    import torch

    inputs = torch.as_tensor((observations - mean) / std, dtype=torch.float32)
    targets = torch.as_tensor(labels, dtype=torch.float32)
    optimizer = torch.optim.Adam(network.parameters(), lr=config.learning_rate)
    loss_value = math.nan
    for _ in range(config.epochs):
        order = torch.randperm(len(inputs), generator=generator)
        total = 0.0
        for start in range(0, len(inputs), config.batch_size):
            batch = order[start:start + config.batch_size]
            loss = torch.nn.functional.mse_loss(network(inputs[batch]), targets[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        loss_value = total / len(inputs)
    return loss_value


def _score(episode: WalkEpisode) -> float:
    # Distance plus seconds standing, as the reflex optimisation's "walk" objective.
    return episode.distance + episode.seconds_standing


def train_walking_policy(
    task: WalkTask = WalkTask(),
    config: DaggerConfig = DaggerConfig(),
    teacher_params: np.ndarray | None = None,
    processes: int = 2,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    backend: str = "processes",
) -> TrainingResult:
    """DAgger from the reflex controller; returns the best student and the history.

    Args:
        task: the judged episode (engine, difficulty, initial pose).
        config: DAgger's settings.
        teacher_params: the reflex controller's 37 parameters (default: the packaged teacher for the
            task's engine, :func:`osim.control.teacher_parameters`).
        processes: workers running the episodes (1 with the ``processes`` backend: in this process).
        progress: show a progress bar over the iterations.
        log: called with one line per iteration.
        backend: where the episodes run, ``"processes"`` or ``"ray"`` (see :class:`EpisodeRunner`).
    """
    from osim._optional import require

    require("torch", extra="train", feature="training a walking policy")
    import torch

    torch.manual_seed(config.seed)
    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(config.seed)
    params = teacher_parameters("2D", task.engine) if teacher_params is None else np.asarray(teacher_params)
    metadata = {"env": "L2M2019Env", "model": "2D", "difficulty": task.difficulty, "engine": task.engine,
                "init_pose": list(task.init_pose), "trained_by": "osim.train.walking (DAgger, reflex teacher)",
                "config": asdict(config)}
    runner = EpisodeRunner(task, processes, backend)
    run = runner.run

    from tqdm.auto import tqdm

    start = time.perf_counter()
    observations: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    network = None
    mean = std = np.zeros(0)
    best: tuple[float, int, MLPPolicy | None] = (-math.inf, -1, None)
    history: list[IterationRecord] = []
    teacher_summary: dict[str, Any] = {}
    try:
        teacher_episode = run([(None, params, Exploration())])[0]
        teacher_summary = teacher_episode.summary()
        student: MLPPolicy | None = None
        bar = tqdm(range(config.iterations + 1), desc="DAgger", unit="iteration", disable=not progress)
        for iteration in bar:
            share = config.teacher_share_decay ** iteration
            jobs: list[WalkJob] = [(student if iteration else None, params,
                     Exploration(share, config.action_noise, config.pose_noise,
                                 seed=config.seed * 100_003 + iteration * 1_009 + k))
                    for k in range(config.episodes_per_iteration)]
            for episode in run(jobs):
                observations.append(episode.observations)
                labels.append(episode.teacher_actions)
            data, targets = np.concatenate(observations), np.concatenate(labels)
            data = data[:, BODY_OBSERVATION]
            if network is None:
                mean, std = data.mean(axis=0), data.std(axis=0) + 1e-3
                network = _torch_network(data.shape[1], config.hidden, targets.shape[1])
            loss = _fit(network, data, targets, mean, std, config, generator)
            student = _to_mlp_policy(network, mean, std, metadata)
            judged = run([(student, None, Exploration())])[0]
            record = IterationRecord(iteration, len(data), share, judged.distance, judged.steps, judged.fell,
                                     judged.footsteps, time.perf_counter() - start)
            history.append(record)
            if _score(judged) > best[0]:
                best = (_score(judged), iteration, student)
            bar.set_postfix(distance=f"{judged.distance:.2f} m", standing=f"{judged.seconds_standing:.2f} s",
                            loss=f"{loss:.4f}")
            if log is not None:
                log(f"iteration {iteration}: {len(data)} samples, loss {loss:.5f}, student "
                    f"{judged.distance:.2f} m in {judged.seconds_standing:.2f} s"
                    f"{' (fell)' if judged.fell else ''}, {record.wall_s:.0f} s")
    finally:
        runner.close()
    assert best[2] is not None
    best_policy = best[2]
    best_policy.metadata["dagger_iteration"] = best[1]
    best_policy.metadata["samples"] = history[best[1]].samples
    return TrainingResult(best_policy, best[1], history, teacher_summary)


def evaluate_policy(policy: Callable[[np.ndarray], np.ndarray], task: WalkTask) -> WalkEpisode:
    """The deterministic judged episode of ``policy`` on ``task`` (its engine)."""
    return run_walk(make_walk_env(task), task, policy, None)


def plot_learning_curve(samples: Sequence[int], distances: Sequence[float], seconds_standing: Sequence[float],
                        path: Path, *, title: str, reference: dict[str, Any] | None = None,
                        reference_label: str = "reflex teacher") -> Path:
    """Distance and time standing of the judged episode against training samples (matplotlib);
    ``reference`` (an episode summary, e.g. the teacher's) is drawn as a dashed line."""
    from osim._optional import require

    require("matplotlib", extra="render", feature="the learning-curve plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (distance_axis, standing_axis) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    distance_axis.plot(samples, distances, marker="o", markersize=3, label="policy")
    standing_axis.plot(samples, seconds_standing, marker="o", markersize=3, label="policy")
    if reference:
        distance_axis.axhline(reference["distance_m"], color="grey", linestyle="--", label=reference_label)
        standing_axis.axhline(reference["steps"] * 0.01, color="grey", linestyle="--", label=reference_label)
    distance_axis.set_ylabel("distance in 10 s (m)")
    standing_axis.set_ylabel("time standing (s)")
    standing_axis.set_xlabel("training samples (0.01 s steps)")
    distance_axis.legend()
    distance_axis.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: train, save the best policy, the history and the learning curve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("mujoco", "opensim"), default="mujoco")
    parser.add_argument("--iterations", type=int, default=DaggerConfig.iterations)
    parser.add_argument("--episodes", type=int, default=DaggerConfig.episodes_per_iteration,
                        help="episodes per iteration")
    parser.add_argument("--teacher-params", type=Path, default=None,
                        help="the reflex teacher's 37 parameters (default: packaged, for the engine)")
    parser.add_argument("--processes", type=int, default=min(2, os.cpu_count() or 1),
                        help="parallel workers (processes, or Ray actors with --ray)")
    parser.add_argument("--ray", default=None, metavar="ADDRESS",
                        help="run the episodes on Ray actors: 'local' starts a local instance, else the "
                             "address of a running cluster ('auto' on one of its nodes)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs") / "walk")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.iterations < 0 or args.episodes < 1:
        parser.error("--iterations must be >= 0 and --episodes >= 1")
    teacher = None
    if args.teacher_params is not None:
        from osim.control import load_reflex_params

        teacher = load_reflex_params(args.teacher_params, "2D")
    task = WalkTask(engine=args.engine)
    config = DaggerConfig(iterations=args.iterations, episodes_per_iteration=args.episodes, seed=args.seed)
    backend = "processes"
    if args.ray is not None:
        import ray

        ray.init(address=None if args.ray == "local" else args.ray, num_cpus=args.processes if args.ray == "local"
                 else None, include_dashboard=False)
        backend = "ray"
    result = train_walking_policy(task, config, teacher, args.processes, not args.no_progress, log=print,
                                  backend=backend)
    args.out.mkdir(parents=True, exist_ok=True)
    result.policy.save(args.out / "policy.npz")
    (args.out / "history.json").write_text(json.dumps(
        {"task": asdict(task), "config": asdict(config), "teacher": result.teacher,
         "best_iteration": result.best_iteration, "history": [asdict(r) for r in result.history]}, indent=2) + "\n")
    try:
        plot_learning_curve([r.samples for r in result.history], [r.distance_m for r in result.history],
                            [r.steps * 0.01 for r in result.history], args.out / "learning_curve.png",
                            title="DAgger on the planar L2M2019 task", reference=result.teacher)
    except ImportError as error:
        print(f"no learning curve: {error}")
    best = result.history[result.best_iteration]
    print(f"best student: iteration {best.iteration}, {best.distance_m:.2f} m in {best.steps * 0.01:.2f} s"
          f"{' (fell)' if best.fell else ''}; teacher {result.teacher}; saved to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
