"""The parity table of docs/engines.md, generated from the parity results JSON.

    python -m osim.engine.mujoco.report benchmarks/results/mujoco_parity_gait9dof18musc.json \
        --docs docs/engines.md

rewrites the part of docs/engines.md between the ``parity:start`` and ``parity:end`` markers
(without ``--docs`` the table is printed).
"""
from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

START, END = "<!-- parity:start -->", "<!-- parity:end -->"


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


def replace_section(text: str, table: str) -> str:
    """``text`` with the part between the markers replaced by ``table``."""
    if START not in text or END not in text:
        raise ValueError(f"the page has no {START} ... {END} section to replace")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table}\n{END}{tail}"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: render parity JSON files as Markdown tables, optionally into a docs page."""
    parser = argparse.ArgumentParser(prog="python -m osim.engine.mujoco.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="+", type=Path, help="parity JSON files")
    parser.add_argument("--docs", type=Path, help="page to rewrite (e.g. docs/engines.md)")
    arguments = parser.parse_args(argv)
    table = "\n\n".join(parity_table(json.loads(path.read_text())) for path in arguments.results)
    if arguments.docs:
        arguments.docs.write_text(replace_section(arguments.docs.read_text(), table))
    else:
        print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
