"""Smoke tests of the benchmark machinery (``osim bench``) and of the fast integrator preset.

The benchmarks themselves are not run here (see benchmarks/README.md); these tests check that the
timing child works on the real engine, that the cost split is exclusive, and that the ``fast`` preset
keeps the deviation bounds of issue #5 on a short horizon.
"""
from __future__ import annotations

import argparse
import json
import time

import pytest

from benchmarks.integrator_study import preset_deviation
from benchmarks.render_cost import render_cost
from osim import bench
from osim.cli import bench as bench_cli
from osim.engine import IntegratorSettings
from osim.engine.presets import PRESETS, preset, preset_fields


def _burn(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_split_timer_counts_nested_calls_once():
    class Thing:
        def inner(self) -> None:
            _burn(0.02)

        def outer(self) -> None:
            _burn(0.03)
            self.inner()

    thing = Thing()
    timer = bench.SplitTimer()
    assert timer.wrap(thing, "inner", "inner")
    assert timer.wrap(thing, "outer", "outer")
    assert not timer.wrap(thing, "missing", "x")
    thing.outer()
    assert timer.totals["inner"] == pytest.approx(0.02, abs=0.01)
    assert timer.totals["outer"] == pytest.approx(0.03, abs=0.01)


def test_summary_ratios_and_first_difference():
    def run(rate: float, fingerprints: list[str]) -> dict:
        return {"steps": 10, "resets": 1, "steps_per_second": rate, "steps_per_cpu_second": rate,
                "split_cpu_seconds": {"integration": 10 / rate}, "fingerprints": fingerprints}

    summary = bench.summarize({
        "ours": [run(30.0, ["a", "b", "c"]), run(36.0, ["a", "b", "c"])],
        "ours:fast": [run(60.0, ["a", "x", "y"])],
        "original": [run(20.0, ["a", "b", "c"]), run(24.0, ["a", "b", "c"])],
    })
    ours = summary["variants"]["ours"]
    assert ours["ratio_cpu"] == pytest.approx(33.0 / 22.0)
    assert ours["paired_ratios_cpu"] == pytest.approx([1.5, 1.5])
    assert ours["identical_first_episode_steps"] == 3
    assert summary["variants"]["ours:fast"]["identical_first_episode_steps"] == 1
    assert ours["split_ms_per_step"]["integration"] == pytest.approx(1e3 * (1 / 30 + 1 / 36) / 2)


def test_bench_envs_cli_times_a_real_env(tmp_path):
    parser = argparse.ArgumentParser()
    bench_cli.register(parser.add_subparsers())
    out = tmp_path / "envs.json"
    args = parser.parse_args(["bench", "envs", "--env", "L2RunEnv", "--steps", "4", "--rounds", "1",
                              "--json", str(out)])
    assert args.func(args) == 0
    result = json.loads(out.read_text())
    assert result["machine"]["cpu_count"] >= 1
    run = result["envs"]["L2RunEnv"]["runs"]["ours"][0]
    assert run["steps"] == 4 and run["n_actions"] == 18
    assert len(run["fingerprints"]) == 4 and len(set(run["fingerprints"])) == 4
    split = run["split_cpu_seconds"]
    assert split["integration"] > 0 and split["state_description"] > 0
    # Exclusive buckets: together they never exceed the CPU time of the loop.
    assert sum(split.values()) <= run["cpu_seconds"] * 1.01
    assert run["rss_mb"][-1][1] > 50


def test_worker_rejects_unknown_env_and_impl():
    with pytest.raises(ValueError, match="env must be one of"):
        bench.run_worker("NoSuchEnv", "ours", 1)
    with pytest.raises(ValueError, match="impl must be"):
        bench.run_worker("L2RunEnv", "theirs", 1)


def test_presets_are_named_settings():
    assert preset("original") == IntegratorSettings()
    assert preset("fast") != IntegratorSettings()
    assert preset_fields("fast")["method"] in ("RungeKuttaMerson", "RungeKuttaFeldberg", "RungeKutta3",
                                               "SemiExplicitEuler2", "RungeKutta2")
    assert all(p.summary for p in PRESETS.values())
    with pytest.raises(ValueError, match="unknown integrator preset 'warp'"):
        preset("warp")


def test_fast_preset_stays_within_the_issue_bounds():
    # Issue #5: pelvis within 1 mm, joint angles within 0.01 rad of the default settings over the
    # same actions (here 0.3 s of random excitations, to keep the test short; the full second is in
    # benchmarks/results).
    table = preset_deviation("L2M2019Env", ["fast"], seconds=0.3, seeds=(0,))
    row = table["presets"]["fast"]
    assert row["scenarios"]["random-0"]["steps_compared"] == 30
    assert 0 < row["pelvis_max_m"] <= 1e-3
    assert row["joint_max_rad"] <= 0.01


def test_engine_options_storage_and_control_timing(reference_models):
    # The Manager's Storage changes nothing; exact control timing changes the trajectory, towards a
    # nearly converged solution (the original's timing reads each interval's first derivative with
    # the previous excitations).
    import numpy as np

    from osim.engine import Simulation

    path = reference_models / "osim-rl-3.0.11/arm2dof6musc.osim"
    actions = np.random.default_rng(1).random((30, 6))

    def run(**settings) -> np.ndarray:
        sim = Simulation(path, integrator=IntegratorSettings(**settings))
        sim.reset()
        rows = []
        for action in actions:
            sim.actuate(action)
            sim.integrate()
            rows.append(sim.state.getY().to_numpy().copy())
        return np.array(rows)

    default = run()
    assert np.array_equal(default, run(write_storage=True))
    exact = run(exact_control_timing=True)
    assert np.array_equal(exact, run(exact_control_timing=True, write_storage=True))
    assert not np.array_equal(exact, default)
    converged = run(accuracy=1e-8)
    assert np.abs(exact - converged).max() < np.abs(default - converged).max()


def test_render_cost_times_the_frames_each_camera_draws():
    """The render benchmark (benchmarks/results/render.json) measures real frames of both cameras."""
    result = render_cost("Arm2DEnv", steps=3, width=160, height=120)
    assert result["frame_shape"] == [120, 160, 3]
    assert set(result["cpu_ms_per_frame"]) == {"side", "three_quarter"}
    for camera, ms in result["cpu_ms_per_frame"].items():
        assert ms > 0
        assert result["frame_over_step"][camera] == pytest.approx(ms / result["cpu_ms_per_step"])


def test_vector_benchmark_workers_do_the_single_envs_work():
    """The vector benchmark compares equal work: every worker of the async vector env, from the same
    seed with the same actions (next-step autoreset included), ends where one env played by
    ``bench._play`` ends. This L2Run random-excitation episode falls after about 120 steps, so 150
    steps cover an autoreset."""
    import gymnasium
    import numpy as np

    env = gymnasium.make("osim/L2Run-v0")
    env.reset(seed=0)
    actions = np.random.default_rng(0).random((150, *env.action_space.shape)).astype(np.float32)
    played = bench.parallel._play(env, actions)
    env.close()

    vec = gymnasium.make_vec("osim/L2Run-v0", num_envs=2, vectorization_mode="async")
    vec.reset(seed=[0, 0])
    ends = 0
    for action in actions:
        observations, _, terminated, truncated, _ = vec.step(np.stack([action, action]))
        ends += int(terminated[0] or truncated[0])
    vec.close()
    assert ends >= 1  # the horizon does include an autoreset
    np.testing.assert_array_equal(observations[0], played)
    np.testing.assert_array_equal(observations[1], played)


def test_vector_throughput_reports_every_way_for_every_worker_count():
    policy = 0.004  # a policy stand-in in the parent: every batch of actions takes at least this long
    result = bench.vector_throughput("osim/Arm2D-v0", workers=[1, 2], steps=4, rounds=1, policy_seconds=policy)
    assert set(result["workers"]) == {"1", "2"} and result["policy_seconds"] == policy
    assert result["single_process"] < 1 / policy
    assert result["workers"]["2"]["pool"]["steps_per_second"] < 1 / policy  # one think per env step
    assert result["workers"]["2"]["osim"]["steps_per_second"] < 2 / policy  # one think per 2 env steps
    for n, row in result["workers"].items():
        assert row["target_0.9N"] == pytest.approx(0.9 * int(n))
        for kind in bench.PARALLEL_KINDS:
            cell = row[kind]
            assert cell["steps_per_second"] > 0 and cell["speedup"] > 0 and cell["cpu_efficiency"] > 0
            # one round: the paired ratio is the ratio of the rates
            assert cell["of_independent"] == pytest.approx(
                cell["steps_per_second"] / row["independent"]["steps_per_second"], rel=1e-9)
            assert ("idle" in cell) == (kind != "independent")
            if kind != "independent":
                assert cell["idle"] < 1.0


@pytest.mark.parametrize("kwargs", [{"steps": 0}, {"rounds": 0}, {"workers": []}, {"workers": [0, 1]},
                                    {"policy_seconds": -0.001}, {"policy_seconds": float("nan")}])
def test_vector_throughput_rejects_empty_measurements(kwargs):
    arguments = {"env_id": "osim/Arm2D-v0", "workers": [1], "steps": 2, "rounds": 1, **kwargs}
    with pytest.raises(ValueError, match="expected steps >= 1"):
        bench.vector_throughput(**arguments)


def test_bench_vector_cli_refuses_bad_numbers_with_a_message(capsys):
    parser = argparse.ArgumentParser()
    bench_cli.register(parser.add_subparsers())
    args = parser.parse_args(["bench", "vector", "--env-id", "osim/Arm2D-v0", "--workers", "0", "--steps", "3"])
    assert args.func(args) == 2
    assert "expected steps >= 1, rounds >= 1 and worker counts >= 1" in capsys.readouterr().err


def _bench_cli(capsys, *arguments: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    bench_cli.register(parser.add_subparsers())
    args = parser.parse_args(["bench", *arguments])
    code = args.func(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_bench_vector_prints_a_table_progress_on_stderr_and_json_on_request(capsys, tmp_path):
    arguments = ("vector", "--env-id", "osim/Arm2D-v0", "--workers", "1", "--steps", "2", "--rounds", "1")
    code, out, err = _bench_cli(capsys, *arguments, "--json", str(tmp_path / "vector.json"))
    assert code == 0
    assert "round 1/1, 1 worker(s)" in err
    rows = [line.split() for line in out.splitlines() if line.split()[:1] == ["1"]]
    assert [row[1] for row in rows] == list(bench.PARALLEL_KINDS)  # one row per kind
    written = json.loads((tmp_path / "vector.json").read_text())
    assert set(written["workers"]) == {"1"}
    code, out, _ = _bench_cli(capsys, *arguments, "--json")
    assert code == 0 and set(json.loads(out)["workers"]["1"]) >= set(bench.PARALLEL_KINDS)


def test_bench_multi_prints_a_table(capsys):
    code, out, err = _bench_cli(capsys, "multi", "--env", "Arm2DEnv", "--count", "2", "--steps", "2")
    assert code == 0
    assert "2 steps of 2 envs in turn" in err
    lines = out.splitlines()
    assert lines[0] == "Arm2DEnv: CPU ms per step, 2 steps per env"
    assert float(lines[2].split()[-1]) > 0 and lines[-1].split()[-1].startswith("x")


def test_the_timing_child_imports_only_the_standard_library_and_numpy():
    """The harness runs as ``python -c <its source>`` in the original's venv too, where the project's
    ``osim`` is not importable: its module level may import nothing else."""
    import ast
    import sys
    from pathlib import Path

    tree = ast.parse(Path(bench.harness.__file__).read_text())
    imported = {alias.name.split(".")[0] for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in tree.body
                 if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
    assert imported, "no imports found: the test reads the wrong file"
    assert imported <= set(sys.stdlib_module_names) | {"numpy"}, imported


def test_the_package_never_loads_a_repository_file():
    """osim/ is installed without the repository around it: no module may read scripts/, tools/ or
    benchmarks/ (they load the package, not the other way round)."""
    from pathlib import Path

    import osim

    root = Path(osim.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text()
        if "spec_from_file_location" in text or any(
            f'"{folder}"' in text or f"'{folder}'" in text for folder in ("scripts", "tools", "benchmarks")
        ):
            offenders.append(str(path.relative_to(root)))
    assert offenders == []


def _mujoco_envs_available() -> bool:
    """Whether this checkout's environments take ``engine="mujoco"`` (the MuJoCo engine is optional)."""
    from osim.env import L2RunEnv

    try:
        L2RunEnv(visualize=False, engine="mujoco").close()
    except (TypeError, ValueError, ImportError, NotImplementedError):
        return False
    return True


def test_engines_job_times_each_engine_on_one_core_and_restores_the_affinity():
    """The engines benchmark (benchmarks/results/engines.json) on tiny step counts: ours on OpenSim
    and on MuJoCo in alternating rounds on one pinned core; MyoSuite and the original are opt-in
    (they install into their own venvs with pip) and left out here."""
    import os

    from benchmarks import engines_speed

    before = os.sched_getaffinity(0)
    cpu = min(before)
    result = engines_speed.engines_speed(["L2RunEnv"], steps=3, fast_steps=30, rounds=2, original=False, cpu=cpu)
    assert os.sched_getaffinity(0) == before
    assert result["cpu"] == cpu and "myosuite" not in result
    runs = result["envs"]["L2RunEnv"]["runs"]
    assert [r["steps"] for r in runs["opensim"]] == [3, 3]
    opensim = result["envs"]["L2RunEnv"]["variants"]["opensim"]
    assert opensim["steps_per_cpu_second"] > 0 and "ratio_cpu" not in opensim  # no original: no ratio
    assert opensim["split_ms_per_step"]["integration"] > 0
    # the timed runs are not instrumented; the split comes from one more run, outside the ratios
    assert all("split_ms_per_step" not in run for run in runs["opensim"])
    assert result["envs"]["L2RunEnv"]["split_runs"]["opensim"]["steps"] == 3
    if _mujoco_envs_available():
        mujoco = result["envs"]["L2RunEnv"]["variants"]["mujoco"]
        assert [r["steps"] for r in runs["mujoco"]] == [30, 30]
        assert mujoco["steps_per_cpu_second"] > 5 * opensim["steps_per_cpu_second"]
        assert mujoco["split_ms_per_step"]["integration"] > 0  # the engine's step is found and timed
        result["vector"] = engines_speed.vector_mujoco("L2RunEnv", counts=[1, 2], steps=5, rounds=1)
        cells = result["vector"]["counts"]["2"]
        assert {"env loop", "osim.vector", "rollout, 1 thread"} <= set(cells)
        assert all(cell["steps_per_second"] > 0 and cell["steps_per_cpu_second"] > 0 for cell in cells.values())
        result["profile"] = engines_speed.profile_mujoco("L2RunEnv", steps=20, top=5)
        assert len(result["profile"]["top"]) == 5
        assert any("mj_step" in row["function"] for row in result["profile"]["top"])
    else:  # a checkout without the MuJoCo environments says so in the results instead of failing
        assert "engine" in result["errors"]["L2RunEnv/mujoco"]
    table = "\n".join(engines_speed.summary_lines(result, "test machine"))
    assert "| L2RunEnv | opensim |" in table
    assert ("### Vector stepping on MuJoCo" in table) == ("vector" in result)


def test_engines_job_refuses_bad_input_before_timing_anything():
    from benchmarks import engines_speed
    from osim.bench.myosuite import run_myosuite

    with pytest.raises(ValueError, match="expected steps >= 1"):
        engines_speed.engines_speed(["L2RunEnv"], steps=0)
    with pytest.raises(ValueError, match="envs must be among"):
        engines_speed.engines_speed(["GaitEnv"])
    with pytest.raises(ValueError, match="is not one this process may run on"):
        engines_speed.engines_speed(["L2RunEnv"], steps=1, fast_steps=1, rounds=1, original=False, cpu=10_000)
    with pytest.raises(ValueError, match="expected steps >= 1"):
        run_myosuite(0)  # checked before MyoSuite's venv is created
    with pytest.raises(ValueError, match="expected steps >= 1"):
        engines_speed.vector_mujoco("L2RunEnv", counts=[0])



def test_engines_job_times_the_planar_l2m2019_model_after_change_model():
    """L2M2019Env-2D in the engines benchmark: the harness builds L2M2019Env and switches it to the
    planar model with change_model(model="2D") before timing (the same call the original has)."""
    from benchmarks import engines_speed
    from osim.bench import harness, run_worker

    env = harness.make_env("osim.env.l2m2019:L2M2019Env", None, None, "mujoco" if _mujoco_envs_available() else None,
                           model="2D")
    assert env.get_model_key() == "2D" and env.difficulty == 3
    assert env.engine.structure.name == "gait14dof22musc_planar"  # the engine runs the planar model
    env.close()
    run = run_worker("L2M2019Env", "ours", 3, model="2D")
    assert run["model"] == "2D" and run["steps"] == 3
    with pytest.raises(ValueError, match="has no change_model"):
        harness.make_env("osim.env.l2run:L2RunEnv", None, None, model="2D")
    result = engines_speed.engines_speed(["L2M2019Env-2D"], steps=2, fast_steps=10, rounds=1, original=False)
    assert set(result["envs"]) == {"L2M2019Env-2D"}
    assert result["envs"]["L2M2019Env-2D"]["runs"]["opensim"][0]["steps"] == 2
    table = "\n".join(engines_speed.summary_lines(result, "test machine"))
    assert "| L2M2019Env-2D | opensim |" in table


def test_engines_job_times_run_env_without_an_original():
    """RunEnv has no original that runs on this OpenSim: the job says so and times ours on both engines."""
    import os

    from benchmarks import engines_speed
    from osim.bench import run_worker

    with pytest.raises(RuntimeError, match=r"no original RunEnv runs here: .*Manager API"):
        run_worker("RunEnv", "original", 1)
    result = engines_speed.engines_speed(["RunEnv"], steps=2, fast_steps=20, rounds=1, cpu=min(os.sched_getaffinity(0)))
    assert "Manager API" in result["errors"]["RunEnv/original"]
    variants = result["envs"]["RunEnv"]["variants"]
    assert variants["opensim"]["steps_per_cpu_second"] > 0 and "ratio_cpu" not in variants["opensim"]
    table = "\n".join(engines_speed.summary_lines(result, "test machine"))
    assert "| RunEnv | original | not available:" in table and "no original timed" in table
    if _mujoco_envs_available():
        assert variants["mujoco"]["steps_per_cpu_second"] > 5 * variants["opensim"]["steps_per_cpu_second"]
