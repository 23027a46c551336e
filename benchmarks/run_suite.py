"""Run the benchmark suite of issue #5 and write benchmarks/results/ (JSON, summary.md, plot).

Stages (each writes ``results/<stage>.json``; ``summary.md`` is rebuilt from whatever JSON exists):

* ``envs``    steps/s and cost split per environment, ours (default settings and the fast preset)
              vs the original osim-rl (its patched release in a scratch venv), alternating rounds;
* ``presets`` speed/deviation trade-off of integrator settings on L2M2019Env (table and plot);
* ``multi``   several environments in one process;
* ``vector``  N envs stepped in parallel (independent processes, vector envs, the env pool);
* ``memory``  RSS over >= 20,000 steps with >= 200 resets (long: run it on its own, niced);
* ``render``  CPU cost of a headless frame (both cameras) against the step it records;
* ``grader``  request latency (p50/p95/p99) and episodes/s of ``osim serve`` with N clients on loopback;
* ``engines`` one core: the original vs ours on OpenSim and on MuJoCo (and MyoSuite with ``--myosuite``),
              alternating rounds, L2M2019Env with its planar model (change_model("2D")) too; vector
              stepping on MuJoCo; a profile of the MuJoCo env (engines_speed.py).

Usage (from the repository root, in the project venv)::

    python benchmarks/run_suite.py envs presets multi vector
    nice -n 19 python benchmarks/run_suite.py memory
    python benchmarks/run_suite.py summary            # only rebuild summary.md and the plot
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import engines_speed  # noqa: E402 - this folder, as the script's own
from integrator_study import preset_deviation  # noqa: E402
from render_cost import render_cost  # noqa: E402

from osim import bench  # noqa: E402 - after the sys.path insert

ENVS = ("L2M2019Env", "ProstheticsEnv", "L2RunEnv", "Arm2DEnv")

#: integrator settings explored for the trade-off table (besides the named presets)
CANDIDATES: list[dict[str, Any]] = [
    *({"accuracy": a} for a in (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)),
    *({"exact_control_timing": True, "accuracy": a} for a in (1e-4, 3e-4, 5e-4, 1e-3, 3e-3)),
    {"method": "RungeKuttaFeldberg", "accuracy": 1e-3},
    *({"method": "RungeKutta3", "exact_control_timing": True, "accuracy": a} for a in (1e-4, 3e-4, 1e-3)),
    {"method": "SemiExplicitEuler2", "accuracy": 1e-3},
    *({"method": "SemiExplicitEuler2", "exact_control_timing": True, "accuracy": a} for a in (3e-4, 3e-3)),
]

#: settings compared with a much tighter accuracy, to see the default settings' own error
REFERENCE_ACCURACY = 1e-6
REFERENCE_CHECKS: list[Any] = [
    "exact", "fast", {"exact_control_timing": True, "accuracy": 5e-4},
    {"method": "RungeKutta3", "exact_control_timing": True, "accuracy": 1e-3},
]


def _reference_dir() -> Path:
    configured = os.environ.get("OSIM_RL_REFERENCE")
    return Path(configured) if configured else REPO.parent / "shared" / "reference"


def _save(name: str, data: Any) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {RESULTS / (name + '.json')}", flush=True)


def stage_envs(args: argparse.Namespace) -> None:
    result = bench.compare_envs(args.envs, args.steps, args.rounds, original=True, presets=args.presets,
                                progress=lambda line: print(line, flush=True))
    result["command"] = (f"python benchmarks/run_suite.py envs --steps {args.steps} --rounds {args.rounds} "
                         f"--presets {' '.join(args.presets)}")
    _save("envs", result)


def stage_presets(args: argparse.Namespace) -> None:
    from osim.engine.presets import PRESETS

    names: list[Any] = [name for name in PRESETS if name != "original"] + CANDIDATES
    result = preset_deviation("L2M2019Env", names, seconds=1.0, seeds=(0, 1, 2), repeats=args.repeats,
                                    reflex_params=_reflex_params())
    result["machine"] = bench.machine_details()
    result["command"] = f"python benchmarks/run_suite.py presets --repeats {args.repeats}"
    _save("presets", result)


def stage_reference(args: argparse.Namespace) -> None:
    result = preset_deviation("L2M2019Env", REFERENCE_CHECKS, seconds=1.0, seeds=(0,), repeats=1,
                                    reflex_params=_reflex_params(),
                                    reference_settings={"accuracy": REFERENCE_ACCURACY})
    result["machine"] = bench.machine_details()
    result["command"] = "python benchmarks/run_suite.py reference"
    _save("presets_reference", result)


def _reflex_params() -> dict[str, Path]:
    reflex_dir = _reference_dir() / "reflex"
    reflex = {"3D": reflex_dir / "params_3D_init.txt", "2D": reflex_dir / "params_2D.txt"}
    missing = [str(path) for path in reflex.values() if not path.is_file()]
    if missing:
        raise SystemExit(f"reflex parameter files not found: {missing} (set OSIM_RL_REFERENCE)")
    return reflex


def stage_multi(args: argparse.Namespace) -> None:
    result = bench.multi_env("L2RunEnv", 3, args.multi_steps)
    result["machine"] = bench.machine_details()
    result["command"] = f"python benchmarks/run_suite.py multi --multi-steps {args.multi_steps}"
    _save("multi", result)


def stage_vector(args: argparse.Namespace) -> None:
    result = bench.vector_throughput("osim/L2Run-v0", args.workers, args.vector_steps, args.vector_rounds,
                                     policy_seconds=args.vector_policy_ms / 1000)
    result["machine"] = bench.machine_details()
    result["command"] = (f"python benchmarks/run_suite.py vector --workers {' '.join(map(str, args.workers))} "
                         f"--vector-steps {args.vector_steps} --vector-rounds {args.vector_rounds}"
                         + (f" --vector-policy-ms {args.vector_policy_ms:g}" if args.vector_policy_ms else ""))
    # a run with a policy stand-in does not replace the plain one
    _save("vector" if not args.vector_policy_ms else f"vector_policy_{args.vector_policy_ms:g}ms", result)


def stage_render(args: argparse.Namespace) -> None:
    result = {"machine": bench.machine_details(),
              "envs": {env: render_cost(env, args.render_steps) for env in args.envs},
              "command": f"python benchmarks/run_suite.py render --render-steps {args.render_steps}"}
    _save("render", result)


def stage_memory(args: argparse.Namespace) -> None:
    result = {"machine": bench.machine_details()}
    result.update(bench.run_worker("L2RunEnv", "ours", args.memory_steps, episode_steps=100, rss_every=500,
                                   split=False))
    samples = result["rss_mb"]
    warm = next(mb for step, mb in samples if step >= 100)
    result["rss_growth_mb"] = samples[-1][1] - warm
    result["command"] = f"nice -n 19 python benchmarks/run_suite.py memory --memory-steps {args.memory_steps}"
    _save("memory", result)


def stage_grader(args: argparse.Namespace) -> None:
    from osim.http.loadtest import grader_load

    result = {"machine": bench.machine_details(),
              **grader_load(args.grader_clients, args.grader_submissions, max_steps=args.grader_steps)}
    result["command"] = (f"python benchmarks/run_suite.py grader --grader-clients {args.grader_clients} "
                         f"--grader-submissions {args.grader_submissions} --grader-steps {args.grader_steps}")
    _save("grader", result)


def stage_engines(args: argparse.Namespace) -> None:
    def say(line: str) -> None:
        print(line, flush=True)

    asked = [env for env in args.envs if env in engines_speed.ENGINE_ENVS] or ["L2M2019Env", "L2RunEnv"]
    envs = list(asked)
    if "L2M2019Env" in envs:  # with the planar model (L2M2019Env after change_model(model="2D"))
        envs.insert(envs.index("L2M2019Env") + 1, "L2M2019Env-2D")
    result = engines_speed.engines_speed(envs, args.steps, args.mujoco_steps, args.rounds,
                                         original=not args.no_original, myosuite=args.myosuite,
                                         cpu=None if args.cpu < 0 else args.cpu, progress=say)
    if f"{envs[0]}/mujoco" in result["errors"]:
        say(f"{envs[0]} does not run on MuJoCo in this checkout: no vector stepping, no profile")
    elif args.vector_counts:
        result["vector"] = engines_speed.vector_mujoco(envs[0], args.vector_counts, args.mujoco_steps // 3,
                                                       args.rounds, progress=say)
    if args.profile_steps and f"{envs[0]}/mujoco" not in result["errors"]:
        result["profile"] = engines_speed.profile_mujoco(envs[0], args.profile_steps)
    result["command"] = (f"python benchmarks/run_suite.py engines --envs {' '.join(asked)} --steps {args.steps} "
                         f"--mujoco-steps {args.mujoco_steps} --rounds {args.rounds} --cpu {args.cpu}"
                         + (" --myosuite" if args.myosuite else "") + (" --no-original" if args.no_original else "")
                         + f" --vector-counts {' '.join(map(str, args.vector_counts))}"
                         + f" --profile-steps {args.profile_steps}")
    _save(args.engines_json, result)


# -- summary ---------------------------------------------------------------------------------------


def _load(name: str) -> Any:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _machine_line(machine: dict[str, Any]) -> str:
    load = ", ".join(f"{x:.1f}" for x in machine.get("load_average", []))
    return (f"{machine.get('cpu', '?')}, {machine.get('cpu_count')} cores, {machine.get('memory_gb', '?')} GB, "
            f"Python {machine.get('python')}, opensim {machine.get('opensim')}, numpy {machine.get('numpy')}, "
            f"{machine.get('utc')}, load average {load}")


def _vector_section(vector: dict[str, Any], file_name: str) -> list[str]:
    """summary.md lines of one vector benchmark result (``results/vector*.json``)."""
    if "kinds" not in vector:  # a result of the earlier layout
        return []
    policy = vector.get("policy_seconds", 0.0)
    title = "## Parallel stepping: vector envs and the env pool"
    if policy:
        title += f", with {1000 * policy:g} ms of policy per batch of actions"
    title += f" (`{file_name}`)"
    lines = [title, "", f"Command: `{vector['command']}`  ",
              f"Machine: {_machine_line(vector['machine'])}", "",
              (f"{vector['env_id']}, {vector['steps_per_env']} steps per env, every env from the same seed "
               f"with the same actions; medians over {vector['rounds']} rounds of paired ratios (the single "
               f"env and every way below timed back to back). One env in one process: "
               f"{vector['single_process']:.1f} steps/s (median; {vector['single_process_range'][0]:.1f} to "
               f"{vector['single_process_range'][1]:.1f} over the rounds)."), ""]
    lines += [f"- *{kind}*: {what}" for kind, what in vector["kinds"].items()]
    lines += ["", ("*Speed-up*: env steps/s over the single env's (target: 0.9 N on N cores). *Of independent*: "
                   "over the independent processes'. *Idle*: the share of the workers' time spent waiting. "
                   "*CPU efficiency*: env steps per CPU second, over the single env's."), "",
              "| N | way | env steps/s | speed-up | of independent | idle | CPU efficiency | target |",
              "|---|---|---|---|---|---|---|---|"]
    for n, row in vector["workers"].items():
        for kind in vector["kinds"]:
            cell = row[kind]
            idle = f"{cell['idle']:.0%}" if "idle" in cell else "-"
            lines.append(f"| {n} | {kind} | {cell['steps_per_second']:.1f} | {cell['speedup']:.2f} | "
                         f"{cell['of_independent']:.2f} | {idle} | {cell['cpu_efficiency']:.2f} | "
                         f"{row['target_0.9N']:.1f} |")
    lines.append("")
    return lines


def summary_markdown() -> str:
    lines = ["# Benchmark results", "",
             "Generated by `python benchmarks/run_suite.py summary` from the JSON files next to this one.",
             "Steps/s are medians over rounds; *per CPU s* divides by the process's CPU time, which is the",
             "steadier figure on this shared machine (other jobs load both cores). Ratios are ours / original.", ""]
    for name, title in (("envs", "Steps per second, ours vs the original (same random actions, same run)"),
                        ("envs_default_rounds", "Default settings, more rounds (200 steps each)")):
        envs = _load(name)
        if not envs:
            continue
        command = envs.get("command") or (
            "osim bench envs --env L2RunEnv ProstheticsEnv --steps 200 --rounds 6 --original "
            "--json benchmarks/results/envs_default_rounds.json")
        lines += [f"## {title}", "",
                  f"Command: `{command}`  ", f"Machine: {_machine_line(envs['machine'])}", "",
                  ("| env | variant | steps/s (wall) | steps/CPU s | ratio (CPU; per round) | ratio (wall) | "
                   "identical to original | integration | state desc. | observation | reward | reset | "
                   "other (ms/step) |"),
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for env, summary in envs["envs"].items():
            for key, v in summary["variants"].items():
                if "error" in v:
                    lines.append(f"| {env} | {key} | not available: {v['error'].splitlines()[0][:80]} |" + " |" * 11)
                    continue
                split = v["split_ms_per_step"]
                same = (f"{v['identical_first_episode_steps']}/{v['compared_steps']}"
                        if "compared_steps" in v else "")
                ratios = (f"{v['ratio_cpu']:.2f} ({', '.join(f'{r:.2f}' for r in v['paired_ratios_cpu'])}) | "
                          f"{v['ratio_wall']:.2f}" if "ratio_cpu" in v else "1 | 1")
                lines.append(
                    f"| {env} | {key} | {v['steps_per_second']:.1f} | {v['steps_per_cpu_second']:.1f} | "
                    f"{ratios} | {same} | "
                    + " | ".join(f"{split.get(k, 0.0):.2f}" for k in
                                 ("integration", "state_description", "observation", "reward", "reset", "other"))
                    + " |")
        lines.append("")
    presets = _load("presets")
    if presets:
        lines += ["## Speed/deviation trade-off on L2M2019Env (1 s of the same actions)", "",
                  f"Command: `{presets.get('command', '')}`  ", f"Machine: {_machine_line(presets['machine'])}",
                  (f"Default settings: {presets['default_cpu_ms_per_step']:.2f} CPU ms/step (median over "
                   "scenarios). Deviation from the default settings: pelvis position (mm) / joint angles (rad), "
                   "maxima over 100 steps; *random*: worst of 3 random excitation sequences; *3-D fall*: reflex "
                   "controller, initial 3-D parameters (falls at 0.83 s); *2-D walk*: tuned reflex controller "
                   "walking the planar model. Bounds of issue #5: 1 mm, 0.01 rad. Speed-ups are over our "
                   f"default settings, best of {presets.get('repeats', 1)} run(s) per scenario on a loaded "
                   "machine (+-30 %); the steps/s tables above (alternating rounds, against the original) "
                   "are the reference for speed."), ""]
        lines += _deviation_table(presets)
        lines += ["", "![trade-off](presets.png)", ""]
    reference = _load("presets_reference")
    if reference:
        lines += [(f"## Error against a tight reference (accuracy {reference['reference'].get('accuracy')}, "
                   "original timing)"), "",
                  f"Command: `{reference.get('command', '')}`  ", f"Machine: {_machine_line(reference['machine'])}",
                  ("How far each setting, the default included, is from a nearly converged solution: "
                   "the default settings' own error is the yardstick for the presets'."), ""]
        lines += _deviation_table(reference)
        lines.append("")
    multi = _load("multi")
    if multi:
        lines += ["## Several environments in one process", "", f"Command: `{multi['command']}`  ",
                  f"Machine: {_machine_line(multi['machine'])}", "",
                  (f"{multi['env']}: {multi['cpu_ms_per_step_alone']:.2f} CPU ms/step alone, "
                   f"{multi['cpu_ms_per_step_together']:.2f} with {multi['count']} envs stepped in turn, "
                   f"{multi['cpu_ms_per_step_alone_after']:.2f} alone again "
                   f"(slow-down x{multi['slowdown']:.2f})."), ""]
    for path in sorted(RESULTS.glob("vector*.json")):
        lines += _vector_section(json.loads(path.read_text()), path.name)
    render = _load("render")
    if render:
        lines += ["## Headless rendering (480 x 360) against the step it records", "",
                  f"Command: `{render['command']}`  ", f"Machine: {_machine_line(render['machine'])}", "",
                  ("CPU ms per simulation step and per frame drawn by `osim.render.Renderer` (as "
                   "`render_mode=\"rgb_array\"` and `osim run --gif`), random excitations; *frame/step*: "
                   "what recording every step adds to the simulation."), "",
                  "| env | step (ms) | side frame (ms) | frame/step | three-quarter frame (ms) | frame/step |",
                  "|---|---|---|---|---|---|"]
        for env, row in render["envs"].items():
            frame, ratio = row["cpu_ms_per_frame"], row["frame_over_step"]
            lines.append(f"| {env} | {row['cpu_ms_per_step']:.2f} | {frame['side']:.2f} | {ratio['side']:.2f} | "
                         f"{frame['three_quarter']:.2f} | {ratio['three_quarter']:.2f} |")
        lines.append("")
    grader = _load("grader")
    if grader:
        from osim.http.loadtest import summary_lines

        lines += summary_lines(grader, _machine_line(grader["machine"]))
    engines = _load("engines")
    if engines:
        lines += engines_speed.summary_lines(engines, _machine_line(engines["machine"]))
    memory = _load("memory")
    if memory:
        samples = memory["rss_mb"]
        lines += ["## Memory over a long run", "", f"Command: `{memory['command']}`  ",
                  f"Machine: {_machine_line(memory['machine'])}", "",
                  (f"L2RunEnv, {memory['steps']} steps, {memory['resets']} resets: RSS {samples[0][1]:.1f} MB "
                   f"at start, {next(mb for s, mb in samples if s >= 100):.1f} MB after the first 500 steps, "
                   f"{samples[-1][1]:.1f} MB at the end: growth {memory['rss_growth_mb']:.1f} MB "
                   f"({memory['steps_per_second']:.1f} steps/s wall, niced)."), ""]
    return "\n".join(lines) + "\n"


def _scenario_groups(row: dict[str, Any]) -> dict[str, tuple[float, float]]:
    groups: dict[str, tuple[float, float]] = {}
    for name, scenario in row["scenarios"].items():
        group = {"reflex-3D": "3-D fall", "reflex-2D": "2-D walk"}.get(name, "random")
        pelvis, joint = groups.get(group, (0.0, 0.0))
        groups[group] = (max(pelvis, 1e3 * scenario["pelvis_max_m"]), max(joint, scenario["joint_max_rad"]))
    return groups


def _deviation_table(result: dict[str, Any]) -> list[str]:
    order = ["random", "3-D fall", "2-D walk"]
    lines = ["| settings | " + " | ".join(f"{g}: mm / rad" for g in order) + " | CPU ms/step | speed-up |",
             "|---|" + "---|" * (len(order) + 2)]
    for label, row in sorted(result["presets"].items(), key=lambda kv: kv[1]["cpu_ms_per_step"]):
        groups = _scenario_groups(row)
        cells = []
        for g in order:
            if g not in groups:
                cells.append("")
                continue
            pelvis, joint = groups[g]
            mark = "" if pelvis <= 1.0 and joint <= 0.01 else " *"
            cells.append(f"{pelvis:.3f} / {joint:.4f}{mark}")
        lines.append(f"| {label} | " + " | ".join(cells)
                     + f" | {row['cpu_ms_per_step']:.2f} | {row['speedup_cpu']:.2f} |")
    lines.append("")
    lines.append("`*`: outside the bounds (1 mm, 0.01 rad).")
    return lines


_METHOD_ABBREVIATIONS = {"RungeKuttaMerson": "RKM", "RungeKutta3": "RK3", "SemiExplicitEuler2": "SE2",
                         "RungeKuttaFeldberg": "RKF"}


def _short_label(label: str, settings: dict[str, Any]) -> str:
    from osim.engine import IntegratorSettings

    full = IntegratorSettings(**settings)
    text = f"{_METHOD_ABBREVIATIONS.get(full.method, full.method)} {full.accuracy:g}"
    if full.exact_control_timing:
        text += " exact"
    return f"{label}: {text}" if "=" not in label and label != "default" else text


def plot_presets() -> None:
    """Speed-up vs deviation, one point for random excitations (circle) and one for the reflex
    gaits (triangle) per setting; named presets in red."""
    presets = _load("presets")
    if not presets:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
    for label, row in presets["presets"].items():
        groups = _scenario_groups(row)
        gait = (max(groups.get("3-D fall", (0, 0))[0], groups.get("2-D walk", (0, 0))[0]),
                max(groups.get("3-D fall", (0, 0))[1], groups.get("2-D walk", (0, 0))[1]))
        named = "=" not in label
        color = "C3" if named else "C0"
        for index, ax in enumerate(axes):
            random_value, gait_value = max(groups["random"][index], 1e-5), max(gait[index], 1e-5)
            x = row["speedup_cpu"]
            ax.plot([x, x], [random_value, gait_value], color=color, linewidth=0.6, alpha=0.6)
            ax.scatter([x], [random_value], marker="o", color=color, s=25)
            ax.scatter([x], [gait_value], marker="^", color=color, s=25)
            ax.annotate(_short_label(label, row["settings"]), (x, gait_value), fontsize=6.5,
                        xytext=(3, 2), textcoords="offset points", color=color)
    for ax, bound, unit in ((axes[0], 1.0, "pelvis position, max deviation (mm)"),
                            (axes[1], 0.01, "joint angles, max deviation (rad)")):
        ax.axhline(bound, color="k", linestyle="--", linewidth=0.8)
        ax.axvline(2.0, color="grey", linestyle=":", linewidth=0.8)
        ax.set_yscale("log")
        ax.set_xlabel("speed-up over the default settings (CPU time per step)")
        ax.set_ylabel(unit)
    axes[0].scatter([], [], marker="o", color="k", label="random excitations (worst of 3)")
    axes[0].scatter([], [], marker="^", color="k", label="reflex gaits (3-D fall, 2-D walk)")
    axes[0].legend(loc="upper left", fontsize=8)
    fig.suptitle("L2M2019Env, 1 s of the same actions: speed vs deviation from the default settings "
                 "(dashed: issue #5 bounds)")
    fig.tight_layout()
    fig.savefig(RESULTS / "presets.png", dpi=110)
    print(f"wrote {RESULTS / 'presets.png'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stages", nargs="+",
                        choices=["envs", "presets", "reference", "multi", "vector", "memory", "render", "grader",
                                 "engines", "summary"])
    parser.add_argument("--envs", nargs="+", default=list(ENVS),
                        choices=[*ENVS, *(env for env in engines_speed.ENGINE_ENVS if env not in ENVS)],
                        help="envs of the envs stage (default: all of its own) or of the engines stage")
    parser.add_argument("--steps", type=int, default=300, help="steps per env run (envs stage)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--presets", nargs="*", default=["exact", "fast"], help="presets timed in the envs stage")
    parser.add_argument("--multi-steps", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--vector-steps", type=int, default=150)
    parser.add_argument("--vector-rounds", type=int, default=12)
    parser.add_argument("--vector-policy-ms", type=float, default=0.0,
                        help="CPU ms in the parent before each batch of actions (a policy's forward pass)")
    parser.add_argument("--memory-steps", type=int, default=20000)
    parser.add_argument("--render-steps", type=int, default=100, help="steps per env (render stage)")
    parser.add_argument("--repeats", type=int, default=1, help="timing repeats per preset and scenario")
    parser.add_argument("--grader-clients", type=int, default=8, help="concurrent clients (grader stage)")
    parser.add_argument("--grader-submissions", type=int, default=2, help="submissions per client (grader stage)")
    parser.add_argument("--grader-steps", type=int, default=50, help="steps per simulation (grader stage)")
    parser.add_argument("--mujoco-steps", type=int, default=3000,
                        help="steps per MuJoCo run (ours and MyoSuite's; engines stage)")
    parser.add_argument("--myosuite", action="store_true",
                        help="also time MyoSuite's myoLegWalk-v0 (installs it into a cached venv with pip once)")
    parser.add_argument("--no-original", action="store_true", help="engines stage without the original")
    parser.add_argument("--cpu", type=int, default=0, help="the core the engines stage runs on (-1: not pinned)")
    parser.add_argument("--vector-counts", type=int, nargs="*", default=[1, 2, 4, 8],
                        help="MuJoCo envs per vector measurement (engines stage; none: skip)")
    parser.add_argument("--profile-steps", type=int, default=3000, help="steps profiled on MuJoCo (0: skip)")
    parser.add_argument("--engines-json", default="engines", help="results/<name>.json of the engines stage")
    args = parser.parse_args(argv)
    stages = {"envs": stage_envs, "presets": stage_presets, "reference": stage_reference, "multi": stage_multi,
              "vector": stage_vector, "memory": stage_memory, "render": stage_render, "grader": stage_grader,
              "engines": stage_engines}
    for stage in args.stages:
        if stage in stages:
            stages[stage](args)
    plot_presets()
    (RESULTS / "summary.md").write_text(summary_markdown())
    print(f"wrote {RESULTS / 'summary.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
