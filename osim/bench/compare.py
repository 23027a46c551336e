"""Ours against the original osim-rl: alternating timed runs of the same actions, and their summary."""
from __future__ import annotations

import statistics
import subprocess
from collections.abc import Callable, Sequence
from typing import Any

from osim.bench.runner import machine_details, run_worker


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
