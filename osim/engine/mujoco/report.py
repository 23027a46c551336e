"""The parity and contact tables of docs/engines.md, generated from the results JSON.

    python -m osim.engine.mujoco.report benchmarks/results/mujoco_parity_gait9dof18musc.json \
        --docs docs/engines.md

rewrites the part of docs/engines.md between the ``parity:start`` and ``parity:end`` markers
(without ``--docs`` the table is printed); given the contact measurements
(``benchmarks/results/mujoco_contact_*.json``) it rewrites the ``contact:start`` ... ``contact:end``
part.
"""
from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

START, END = "<!-- parity:start -->", "<!-- parity:end -->"
CONTACT_START, CONTACT_END = "<!-- contact:start -->", "<!-- contact:end -->"
#: Angles past a limit (degrees) and penetration depths (mm) shown in the contact tables.
SHOWN_OFFSETS = (1.0, 5.0, 10.0, 20.0)
SHOWN_DEPTHS = (1.0, 5.0, 20.0)


def parity_table(report: dict[str, Any]) -> str:
    """Markdown: one row per muscle and spanned coordinate, before and after the fit."""
    title = (f"**{report['model']}** (MuJoCo {report['mujoco']}; moment arms over "
             f"{report['sweep_points']}-point sweeps; forces at activations "
             f"{', '.join(f'{a:g}' for a in report['activations'])} over {report['force_postures']} postures)")
    lines = [title, "", ("| muscle | coordinate | moment arm RMS / max (mm), direct | fitted "
              "| force error mean / max (Fmax), direct | fitted |"),
             "|---|---|---|---|---|---|"]
    before, after = report["before"], report["after"]
    for muscle, coordinates in after["moment_arms"].items():
        for coordinate, error in coordinates.items():
            direct = before["moment_arms"][muscle][coordinate]
            fb, fa = before["forces"][muscle], after["forces"][muscle]
            lines.append(f"| {muscle} | {coordinate} | {direct['rms_mm']:.2f} / {direct['max_mm']:.2f} | "
                         f"{error['rms_mm']:.2f} / {error['max_mm']:.2f} | {fb['mean']:.3f} / {fb['max']:.3f} | "
                         f"{fa['mean']:.3f} / {fa['max']:.3f} |")
    for label in ("before", "after"):
        s = report[label]["summary"]
        lines.append(f"\n{'Direct mapping' if label == 'before' else 'Fitted'}: moment-arm RMS mean "
                     f"{s['moment_arm_rms_mm_mean']} mm, worst {s['moment_arm_rms_mm_worst']} mm, "
                     f"{s['pairs_within_5mm']}/{s['pairs']} pairs within 5 mm; force error mean "
                     f"{s['force_error_fmax_mean']} Fmax, worst muscle {s['force_error_fmax_worst_muscle_mean']} Fmax.")
    return "\n".join(lines)


def pick(values: Sequence[float], keys: Sequence[float], shown: Sequence[float]) -> str:
    """``values`` at the ``shown`` keys, joined with slashes."""
    return " / ".join(f"{values[list(keys).index(key)]:.4g}" for key in shown)


def sphere_rows(report: dict[str, Any]) -> list[str]:
    """Rows of the sphere table: one per sphere radius and load of one model."""
    rows = []
    for sphere, entry in report["sphere"].items():
        for load in ("carrying_its_body", "carrying_a_share"):
            law = entry[load]
            rest, depths = law["at_rest"], law["depth_mm"]
            rows.append(f"| {report['model']} | {sphere} ({law['radius_m'] * 1000:g} mm), "
                        f"{law['mass_kg']:.3g} kg | {pick(rest['opensim_N'], depths, SHOWN_DEPTHS)} | "
                        f"{pick(rest['mujoco_N'], depths, SHOWN_DEPTHS)} | "
                        f"{law['resting_depth_mm']['opensim']:.3g} / {law['resting_depth_mm']['mujoco']:.3g} | "
                        f"{law['damping_N_s_m']['opensim_N']:.4g} / {law['damping_N_s_m']['mujoco_N']:.4g} |")
    return rows


def stand_row(report: dict[str, Any]) -> str:
    """The stand row of one model."""
    stand = report["stand"]
    ours, theirs = stand["mujoco"], stand["opensim"]

    def depths(entry: dict[str, Any]) -> str:
        return ", ".join(f"{value:.3g}" for value in entry["depth_mm"].values())

    give = max((abs(v) for v in ours.get("coupling_violation_mm", {}).values()), default=0.0)
    return (f"| {report['model']} | {stand['weight_N']:.1f} | {theirs['total_over_weight']:.4f} / "
            f"{ours['total_over_weight']:.4f} | {depths(theirs)} | {depths(ours)} | "
            f"{theirs['pelvis_height_m']:.3f} / {ours['pelvis_height_m']:.3f} | {give:.0f} |")


def limit_rows(report: dict[str, Any]) -> list[str]:
    """Rows of the limit table of one model (force magnitudes): a left limit left out where it
    equals the right one, one row for both sides of a limit where they are equal."""
    rows: list[str] = []
    seen: dict[str, Any] = {}
    for name, entry in report["limits"].items():
        key = name[:-2] if name[-2:] in ("_r", "_l") else name
        values = {side: ([abs(v) for v in entry[side]["opensim_N_m"]], [abs(v) for v in entry[side]["mujoco_N_m"]])
                  for side in ("lower", "upper")}
        if seen.get(key) == values:
            continue
        seen[key] = values
        offsets = entry["offsets_deg"]
        sides = ["lower", "upper"] if values["lower"] != values["upper"] else ["lower / upper"]
        for side in sides:
            theirs, ours = values[side.split(" / ")[0]]
            limits = " / ".join(f"{entry[s]['limit_deg']:g}" for s in side.split(" / "))
            stiffness = " / ".join(sorted({f"{entry['stiffness_N_m_per_deg'][s]:g}" for s in side.split(" / ")}))
            slope = (ours[offsets.index(5.0)] - ours[offsets.index(1.0)]) / 4.0
            rows.append(f"| {report['model']} | {name} {side} ({limits}) | {pick(theirs, offsets, SHOWN_OFFSETS)} | "
                        f"{pick(ours, offsets, SHOWN_OFFSETS)} | {stiffness} / {slope:.3g} |")
    return rows


def contact_tables(reports: Sequence[dict[str, Any]]) -> str:
    """Markdown: the sphere law, the stand and the limit sweeps of the contact measurements."""
    parameters = reports[0]["mujoco_constraint_parameters"]
    lines = [f"MuJoCo {reports[0]['mujoco']}; the builder's contacts and limits use MuJoCo's defaults "
             f"(solref {parameters['contact_solref']}, solimp {parameters['contact_solimp']}, "
             f"{parameters['cone']} cone).", "",
             "| model | sphere, probe mass | OpenSim force at " + " / ".join(f"{d:g}" for d in SHOWN_DEPTHS)
             + " mm (N) | MuJoCo | depth carrying the probe's weight, OpenSim / MuJoCo (mm) "
             "| damping there, OpenSim / MuJoCo (N s/m) |", "|---|---|---|---|---|---|"]
    for report in reports:
        lines += sphere_rows(report)
    lines += ["", "| model | weight (N) | vertical ground force / weight, OpenSim / MuJoCo | depth per sphere, "
              "OpenSim (mm) | MuJoCo (mm) | pelvis height, OpenSim / MuJoCo (m) | MuJoCo knee coupling give (mm) |",
              "|---|---|---|---|---|---|---|"]
    lines += [stand_row(report) for report in reports]
    lines += ["", "| model | limit (deg) | OpenSim force at " + " / ".join(f"{o:g}" for o in SHOWN_OFFSETS)
              + " deg past (N m) | MuJoCo | stiffness, OpenSim (full) / MuJoCo (N m/deg) |", "|---|---|---|---|---|"]
    for report in reports:
        lines += limit_rows(report)
    return "\n".join(lines)


def replace_section(text: str, table: str, start: str = START, end: str = END) -> str:
    """``text`` with the part between the ``start`` and ``end`` markers replaced by ``table``."""
    if start not in text or end not in text:
        raise ValueError(f"the page has no {start} ... {end} section to replace")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{table}\n{end}{tail}"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: render parity JSON files as Markdown tables, optionally into a docs page."""
    parser = argparse.ArgumentParser(prog="python -m osim.engine.mujoco.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="+", type=Path,
                        help="parity JSON files, or contact JSON files (osim.engine.mujoco.contact)")
    parser.add_argument("--docs", type=Path, help="page to rewrite (e.g. docs/engines.md)")
    arguments = parser.parse_args(argv)
    reports = [json.loads(path.read_text()) for path in arguments.results]
    kinds = {"limits" in report for report in reports}
    if len(kinds) != 1:
        raise SystemExit("expected parity files or contact files, not both")
    if kinds == {True}:
        table, start, end = contact_tables(reports), CONTACT_START, CONTACT_END
    else:
        table, start, end = "\n\n".join(parity_table(report) for report in reports), START, END
    if arguments.docs:
        arguments.docs.write_text(replace_section(arguments.docs.read_text(), table, start, end))
    else:
        print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
