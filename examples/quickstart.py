"""The original README's first example: ProstheticsEnv, 200 steps of random excitations.

Run by ``bash scripts/run.sh`` (the README's first command), or directly once osim-rl is installed:
``python examples/quickstart.py [--steps N] [--seed S] [--visualize] [--gif OUT.gif]``. Prints the
total reward; with ``--gif``, also writes a headless GIF of the run (needs the ``render`` extra).
"""
from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

from osim.env import ProstheticsEnv


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="number of steps (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random excitations")
    parser.add_argument("--visualize", action="store_true",
                        help="open OpenSim's window (needs a display; without one: a warning)")
    parser.add_argument("--gif", type=Path, default=None,
                        help="write a GIF of the run, drawn headless (the 'render' extra)")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error(f"--steps must be a positive number of steps, got {args.steps}")

    env = ProstheticsEnv(visualize=args.visualize)
    env.action_space.seed(args.seed)
    env.reset()
    total_reward, episodes = 0.0, 1
    with contextlib.ExitStack() as stack:
        renderer = recorder = None
        if args.gif is not None:
            from osim.render import Renderer
            from osim.render.record import VideoRecorder

            renderer = Renderer(env)
            recorder = stack.enter_context(VideoRecorder(gif=args.gif, fps=1.0 / env.osim_model.stepsize))
            recorder.add(renderer.render())
        for _ in range(args.steps):
            _observation, reward, done, _info = env.step(env.action_space.sample())
            total_reward += reward
            if recorder is not None:
                recorder.add(renderer.render())
            if done:  # the original example ignored done; a fallen body is reset instead
                env.reset()
                episodes += 1
    print(f"ProstheticsEnv: {args.steps} steps of random excitations in {episodes} episode(s), "
          f"total reward {total_reward:.4f}")
    if args.gif is not None:
        print(f"GIF: {args.gif}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
