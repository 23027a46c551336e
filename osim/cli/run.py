"""``osim run``: run an environment with a policy and record what happened.

::

    osim run Arm2DEnv --steps 30 --policy random --gif arm.gif
    osim run osim/L2Run-v0 --steps 100 --sto run.sto
    osim run L2M2019Env --policy reflex --mp4 walk.mp4 --plot walk.png
    osim run L2RunEnv --policy ppo_l2run.zip --gif run.gif --sto run.sto --mot run.mot
    osim run L2M2019Env --engine mujoco --policy reflex --gif walk.gif --mot walk.mot
    osim run L2M2019Env --engine mujoco --policy reflex:3D --gif walk3d.gif
    osim run L2M2019Env --engine mujoco --policy pretrained --gif walk.gif

The environment is a class of :mod:`osim.env` (run through its Gymnasium interface,
:class:`osim.env.gym_adapter.OsimGymEnv`) or a Gymnasium id (``osim/L2Run-v0``, built by
``gymnasium.make``), so a stable-baselines3 model sees the observations it was trained on. One frame
is recorded after each step; the run stops after ``--steps`` steps or when the episode ends,
whichever comes first. ``--policy reflex`` drives L2M2019Env's planar model with the reflex
controller's parameters shipped with the package for its engine (the published ones; on MuJoCo,
re-optimised there; ``--reflex-params FILE`` for others), ``--policy reflex:3D`` the 3-D model (on
MuJoCo with parameters tuned there, which walk; on OpenSim with the original's untuned guess).
``--policy pretrained`` (or ``pretrained:NAME``) runs a policy trained by the project and shipped
with it, on the model, difficulty and initial pose it was trained for (NumPy only; the shipped ones
are listed under ``--policy``). GIFs, MP4s and plots need the ``render`` extra, saved models the
``train`` extra; a missing one is reported before anything runs. ``--engine`` picks the physics
engine (``opensim``, the default, or ``mujoco``); an environment that does not run on it says so.
"""
from __future__ import annotations

import argparse
import ast
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from osim._optional import require
from osim.cli import plain_text

Policy = Callable[[np.ndarray], Any]

#: stable-baselines3 algorithms tried, in order, when loading a saved model without ``--algo``.
SB3_ALGORITHMS = ("PPO", "SAC", "TD3", "A2C", "DDPG")
#: The names of :data:`osim.engine.registry.ENGINES` (a test keeps them equal), written out because the
#: parser is built without importing the engines (``osim doctor`` must work where OpenSim does not).
ENGINE_CHOICES = ("mujoco", "opensim")
DEFAULT_ENGINE_NAME = "opensim"


class RunError(Exception):
    """A problem with the command's input, reported without a traceback."""


def register(subparsers: Any) -> None:
    """Add ``osim run`` to the ``osim`` command's subparsers."""
    parser = subparsers.add_parser(
        "run",
        help="run an environment with a policy; write a GIF/MP4, OpenSim .sto/.mot files, a plot",
        description=plain_text(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("env", help="environment class in osim.env (Arm2DEnv, L2RunEnv, L2M2019Env, ...) "
                                    "or Gymnasium id (osim/L2Run-v0, ...)")
    parser.add_argument("--steps", type=int, default=None,
                        help="number of steps (default: until the episode ends)")
    parser.add_argument("--policy", default="random",
                        help="'random', 'reflex' or 'reflex:3D' (L2M2019Env: the reflex controller on the "
                             "planar or the 3-D model), 'pretrained' or 'pretrained:NAME' (a policy "
                             f"shipped with osim-rl: {_pretrained_listing()}), or the path of a "
                             "stable-baselines3 .zip")
    parser.add_argument("--algo", choices=SB3_ALGORITHMS, default=None,
                        help="stable-baselines3 algorithm of a saved model (default: try each)")
    parser.add_argument("--reflex-params", type=Path, default=None,
                        help="reflex parameter file (37 values: 2D model, 46: 3D) for --policy reflex "
                             "(default: the parameters shipped with osim-rl for the model and the env's engine)")
    parser.add_argument("--alpha-f-from-angle", action="store_true",
                        help="with a 3D --reflex-params file: the frontal leg angle from the hip abduction "
                             "angle, for parameters tuned so (the optimiser's --alpha-f-from-angle); the "
                             "original used its rate")
    parser.add_argument("--seed", type=int, default=0, help="seed of the environment and the random policy")
    parser.add_argument("--engine", choices=ENGINE_CHOICES, default=None,
                        help=f"physics engine of the environment (default: {DEFAULT_ENGINE_NAME})")
    parser.add_argument("--kwarg", action="append", default=[], metavar="NAME=VALUE",
                        help="environment constructor argument (repeatable), e.g. --kwarg difficulty=2")
    parser.add_argument("--gif", type=Path, help="write a GIF of the episode")
    parser.add_argument("--mp4", type=Path, help="write an MP4 (H.264) of the episode")
    parser.add_argument("--sto", type=Path, help="write the states as an OpenSim .sto file")
    parser.add_argument("--mot", type=Path, help="write the coordinates as an OpenSim .mot file")
    parser.add_argument("--plot", type=Path, help="write a plot of rewards, joint angles and activations")
    parser.add_argument("--camera", choices=("side", "three_quarter"), default="side")
    parser.add_argument("--width", type=int, default=480, help="frame width in pixels")
    parser.add_argument("--height", type=int, default=360, help="frame height in pixels")
    parser.add_argument("--fps", type=float, default=None,
                        help="video frame rate (default: real time, 1 / step size; GIFs at most 50)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    parser.set_defaults(func=run_command)


def _pretrained_listing() -> str:
    from osim.train.pretrained import DEFAULT_PRETRAINED, PRETRAINED

    defaults = {name: env for env, name in DEFAULT_PRETRAINED.items()}
    return "; ".join(f"{p.name} ({p.env}{', the default' if p.name in defaults else ''}): {p.description}"
                     for p in PRETRAINED.values())


def parse_kwargs(items: list[str]) -> dict[str, Any]:
    """``["difficulty=2", "integrator_accuracy=1e-3"]`` -> ``{"difficulty": 2, ...}``."""
    kwargs: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.isidentifier():
            raise RunError(f"--kwarg expects NAME=VALUE, got {item!r}")
        try:
            kwargs[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            kwargs[name] = text  # a bare word is a string
    return kwargs


def _env_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The environment's constructor arguments: the ``--kwarg`` ones and ``--engine``."""
    kwargs = parse_kwargs(args.kwarg)
    engine = getattr(args, "engine", None)
    if engine is not None:
        if kwargs.get("engine", engine) != engine:
            raise RunError(f"--engine {engine} and --kwarg engine={kwargs['engine']!r} disagree: give one")
        kwargs["engine"] = engine
    return kwargs


def _make_env(name: str, kwargs: dict[str, Any]) -> Any:
    """A Gymnasium environment: ``gymnasium.make`` for an id (``osim/L2Run-v0``), else
    :class:`OsimGymEnv` around the class of :mod:`osim.env` called ``name``."""
    from osim.env.gym_adapter import OsimGymEnv, resolve_env_class

    if "/" in name:  # a Gymnasium id: osim/... (the class names have no namespace)
        from osim.train.envs import make_env

        try:
            return make_env(name, **kwargs)
        except (ValueError, TypeError, NotImplementedError) as error:
            raise RunError(f"cannot build {name} with {kwargs}: {error}") from None
    try:
        cls = resolve_env_class(name)
    except (ValueError, ModuleNotFoundError) as error:
        import osim.env

        known = ", ".join(n for n in getattr(osim.env, "__all__", []) if n.endswith("Env") and n != "OsimEnv")
        raise RunError(f"unknown environment {name!r} ({error}); known: {known}") from None
    try:
        return OsimGymEnv(cls, **kwargs)
    except (TypeError, NotImplementedError) as error:
        raise RunError(f"cannot build {name} with {kwargs}: {error}") from None


def _random_policy(gym_env: Any, seed: int) -> Policy:
    space = gym_env.action_space
    space.seed(seed)
    return lambda observation: space.sample()


#: ``--policy`` choices of the reflex controller -> its mode (planar or 3-D model)
REFLEX_POLICIES = {"reflex": "2D", "reflex:2D": "2D", "reflex:3D": "3D"}


def _reflex_policy(gym_env: Any, choice: str, params_path: Path | None,
                   alpha_f_from_angle: bool) -> tuple[Policy, dict[str, Any]]:
    """The reflex controller on the environment's observation dict; also the reset options.
    Without ``params_path``, the packaged parameters of the ``choice``'s model for the env's engine,
    with the frontal leg angle they were tuned with."""
    env = gym_env.unwrapped.osim_env
    if type(env).__name__ != "L2M2019Env":
        raise RunError(f"--policy reflex drives L2M2019Env only, not {type(env).__name__}")
    from osim.control import EXAMPLE_INIT_POSE, OsimReflexCtrl, load_reflex_params, reflex_controller

    if params_path is None:
        mode = REFLEX_POLICIES[choice]
        controller = reflex_controller(mode, env.engine_name, dt=0.01)
    elif not params_path.is_file():
        raise RunError(f"reflex parameter file not found: {params_path}")
    else:
        try:
            params = load_reflex_params(params_path)
        except ValueError as error:
            raise RunError(f"bad reflex parameter file: {error}") from None
        # 37 (or 74) parameters drive the planar model, 46 (or 92) the 3-D one.
        mode = "2D" if params.size in (37, 74) else "3D"
        controller = OsimReflexCtrl(mode=mode, dt=0.01, params=params, alpha_f_from_rate=not alpha_f_from_angle)
    if mode == "2D":
        env.change_model(model="2D", difficulty=env.difficulty, seed=None)
    controller.reset()
    return (lambda observation: controller.update(env.get_observation_dict()),
            {"init_pose": list(EXAMPLE_INIT_POSE)})


def _pretrained_policy(gym_env: Any, choice: str) -> tuple[Policy, dict[str, Any]]:
    """A shipped policy (``pretrained`` or ``pretrained:NAME``) on its model and initial pose."""
    from osim.train.pretrained import DEFAULT_PRETRAINED, PRETRAINED, load_pretrained

    env = gym_env.unwrapped.osim_env
    env_name = type(env).__name__
    _, _, name = choice.partition(":")
    if not name:
        if env_name not in DEFAULT_PRETRAINED:
            raise RunError(f"no pretrained policy for {env_name}; shipped: "
                           + ", ".join(f"{p.name} ({p.env})" for p in PRETRAINED.values()))
        name = DEFAULT_PRETRAINED[env_name]
    if name not in PRETRAINED:
        raise RunError(f"unknown pretrained policy {name!r}; shipped: {', '.join(sorted(PRETRAINED))}")
    if PRETRAINED[name].env != env_name:
        raise RunError(f"pretrained policy {name} drives {PRETRAINED[name].env}, not {env_name}")
    policy = load_pretrained(name)
    metadata = policy.metadata
    if metadata.get("model") == "2D":
        env.change_model(model="2D", difficulty=env.difficulty, seed=None)
    return policy, {"init_pose": list(metadata["init_pose"])} if "init_pose" in metadata else {}


def _sb3_policy(path: Path, algo: str | None) -> Policy:
    if not path.is_file():
        raise RunError(f"--policy must be 'random', 'reflex[:3D]', 'pretrained[:NAME]' or an existing model file; "
                       f"{path} not found")
    require("stable_baselines3", extra="train", feature="--policy MODEL.zip")
    import stable_baselines3

    errors = []
    for name in ([algo] if algo else SB3_ALGORITHMS):
        try:
            model = getattr(stable_baselines3, name).load(str(path), device="cpu")
        except Exception as error:  # noqa: BLE001 - any failure means "not this algorithm"
            errors.append(f"{name}: {type(error).__name__}: {error}")
            continue
        return lambda observation: model.predict(observation, deterministic=True)[0]
    raise RunError(f"could not load {path} as a stable-baselines3 model:\n  " + "\n  ".join(errors))


def _require_outputs(args: argparse.Namespace) -> None:
    """Raise :class:`osim._optional.MissingExtra` before anything runs if an output asked for needs
    a package that is not installed."""
    if args.gif or args.mp4:
        from osim.render import Renderer  # noqa: F401  (Pillow: drawing the frames)
        from osim.render.record import require_recording

        require_recording(args.gif is not None, args.mp4 is not None)
    if args.plot:
        from osim.plot import require_plotting

        require_plotting()


def _episode_limit(gym_env: Any) -> int:
    """Steps until the episode is truncated: the id's ``max_episode_steps`` when it has one (it is
    the environment's time limit unless overridden), else the environment's own time limit."""
    env_spec = getattr(gym_env, "spec", None)
    if env_spec is not None and env_spec.max_episode_steps is not None:
        return int(env_spec.max_episode_steps)
    return int(gym_env.unwrapped.osim_env.spec.timestep_limit)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run one episode as ``args`` say; returns a summary (steps, reward, files, timings)."""
    if args.steps is not None and args.steps < 1:
        raise RunError(f"--steps must be a positive number of steps, got {args.steps}")
    for option, suffixes in (("gif", (".gif",)), ("mp4", (".mp4",)), ("sto", (".sto",)),
                             ("mot", (".mot",)), ("plot", (".png", ".pdf", ".svg"))):
        path = getattr(args, option)
        if path is not None and path.suffix.lower() not in suffixes:
            raise RunError(f"--{option} expects a file name ending in {' or '.join(suffixes)}, got {path}")
    _require_outputs(args)
    gym_env = _make_env(args.env, _env_kwargs(args))
    env = gym_env.unwrapped.osim_env
    reset_options: dict[str, Any] = {}
    if args.policy == "random":
        policy = _random_policy(gym_env, args.seed)
    elif args.policy in REFLEX_POLICIES:
        policy, reset_options = _reflex_policy(gym_env, args.policy, args.reflex_params, args.alpha_f_from_angle)
    elif args.policy == "pretrained" or args.policy.startswith("pretrained:"):
        policy, reset_options = _pretrained_policy(gym_env, args.policy)
    else:
        policy = _sb3_policy(Path(args.policy), args.algo)

    recorder = renderer = log = None
    if args.gif or args.mp4:
        from osim.render import Renderer
        from osim.render.record import VideoRecorder

        step_size = env.osim_model.step_size
        recorder = VideoRecorder(gif=args.gif, mp4=args.mp4, fps=args.fps or 1.0 / step_size)
        renderer = Renderer(env, camera=args.camera, width=args.width, height=args.height)
    if args.sto or args.mot or args.plot:
        from osim.motion import EpisodeLog

        log = EpisodeLog(env)

    observation, _ = gym_env.reset(seed=args.seed, options=reset_options or None)
    if log is not None:
        log.record()
    limit = args.steps if args.steps is not None else _episode_limit(gym_env)
    total_reward, steps, ended = 0.0, 0, None
    step_time = render_time = 0.0
    with tqdm(total=limit, unit="step", desc=args.env, disable=args.quiet, file=sys.stderr) as bar:
        for steps in range(1, limit + 1):  # noqa: B007 - the count is reported after the loop
            started = time.perf_counter()
            observation, reward, terminated, truncated, info = gym_env.step(policy(observation))
            step_time += time.perf_counter() - started
            total_reward += reward
            if log is not None:
                log.record(reward, info.get("reward_terms"))
            if recorder is not None:
                assert renderer is not None  # made with the recorder
                started = time.perf_counter()
                frame = renderer.render()
                render_time += time.perf_counter() - started
                recorder.add(frame)
            bar.update(1)
            if terminated or truncated:
                ended = "terminated" if terminated else "truncated"
                break
    written = []
    if recorder is not None:
        recorder.close()
        written += [p for p in (args.gif, args.mp4) if p is not None]
    if log is not None:
        if args.sto:
            log.write_states(args.sto)
            written.append(args.sto)
        if args.mot:
            log.write_coordinates(args.mot)
            written.append(args.mot)
        if args.plot:
            from osim.plot import plot_episode

            plot_episode(log, args.plot, title=f"{args.env}, policy {args.policy}, seed {args.seed}")
            written.append(args.plot)
    gym_env.close()
    return {
        "steps": steps, "reward": total_reward, "ended": ended, "written": written,
        "frames": recorder.frame_count if recorder is not None else 0,
        "ms_per_step": 1e3 * step_time / max(steps, 1),
        "ms_per_frame": 1e3 * render_time / max(steps, 1) if recorder is not None else None,
    }


def run_command(args: argparse.Namespace) -> int:
    """``osim run`` entry: 0 on success, 2 on bad input (message on stderr)."""
    try:
        summary = run(args)
    except RunError as error:
        print(f"osim run: error: {error}", file=sys.stderr)
        return 2
    if not args.quiet:
        ended = f", episode {summary['ended']}" if summary["ended"] else ""
        print(f"{summary['steps']} steps{ended}, total reward {summary['reward']:.4f}, "
              f"{summary['ms_per_step']:.1f} ms/step"
              + (f", {summary['ms_per_frame']:.1f} ms/frame" if summary["ms_per_frame"] is not None else ""))
        for path in summary["written"]:
            print(f"wrote {path}")
    return 0
