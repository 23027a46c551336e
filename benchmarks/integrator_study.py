"""Integrator-settings study: speed against deviation from the default settings, per preset.

Used by ``python benchmarks/run_suite.py presets`` (the trade-off table and plot of
benchmarks/results) and on its own::

    python benchmarks/integrator_study.py --env L2M2019Env --seconds 1 [--preset fast exact] \
        [--reflex-3d params_3D.txt] [--reflex-2d params_2D.txt] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from osim.bench import ENVIRONMENTS, load_ours, machine_details


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

    env = load_ours("L2M2019Env")(visualize=False, seed=0)
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

    cls = load_ours(env)
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


def main(argv: Sequence[str] | None = None) -> int:
    """Print one line per preset (pelvis and joint deviation, CPU ms per step, speed-up); ``--json``
    prints the results as JSON instead, ``--json FILE`` writes them there as well."""
    from osim.engine.presets import PRESETS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", choices=list(ENVIRONMENTS), default="L2M2019Env")
    parser.add_argument("--preset", nargs="*", default=None, help="presets to compare (default: all but 'original')")
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--reflex-3d", default=None,
                        help="also replay the reflex controller on the 3-D model (its parameter file)")
    parser.add_argument("--reflex-2d", default=None,
                        help="also replay the reflex controller's walk on the planar model (its parameter file)")
    parser.add_argument("--json", nargs="?", const="-", default=None, metavar="FILE",
                        help="print the results as JSON instead of the table; with FILE, print the table and "
                             "write the JSON there")
    args = parser.parse_args(argv)
    names = args.preset or [name for name in PRESETS if name != "original"]
    reflex = {mode: path for mode, path in (("3D", args.reflex_3d), ("2D", args.reflex_2d)) if path}
    result = {"machine": machine_details(),
              **preset_deviation(args.env, names, args.seconds, repeats=args.repeats, reflex_params=reflex)}
    if args.json == "-":
        print(json.dumps(result, indent=1))
        return 0
    for name, row in result["presets"].items():
        print(f"{name:12s} pelvis {1e3 * row['pelvis_max_m']:8.3f} mm  joints {row['joint_max_rad']:.4f} rad  "
              f"{row['cpu_ms_per_step']:6.2f} ms/step  x{row['speedup_cpu']:.2f}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
