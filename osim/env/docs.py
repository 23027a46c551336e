"""The environment pages of docs/envs, generated from the code (Gymnasium MuJoCo style).

Each page is the environment module's docstring (summary, action, observation, reward,
termination, arguments, quirks) with its reStructuredText simple tables turned into Markdown
tables. For an environment that runs a :class:`~osim.env.task.Task` (``task_class``), the
observation table (index by index), the reward-term weights and the termination reasons are
derived from the task's data, so they cannot drift from the code.
"""
from __future__ import annotations

import inspect
import re
import sys
from typing import Any

from osim.env.task import Task

RULE = re.compile(r"^=+( +=+)*\s*$")
GENERATOR = "tools/gen_env_docs.py"


def environment_classes() -> dict[str, type]:
    """The exported environment classes by name (every ``*Env`` of :mod:`osim.env` but the base)."""
    import osim.env as env_module

    return {
        name: getattr(env_module, name)
        for name in env_module.__all__
        if name.endswith("Env") and name not in ("OsimEnv",)
    }


def _columns(rule: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"=+", rule)]


def rst_tables_to_markdown(text: str) -> str:
    """Turn RST simple tables (``=====  ====`` rules) and section titles into Markdown."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        if i + 1 < len(lines) and lines[i].strip() and re.fullmatch(r"-{3,}", lines[i + 1].strip()):
            out.append(f"## {lines[i].strip()}")  # an RST section title
            i += 2
            continue
        if not RULE.match(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        spans = _columns(lines[i])
        rows: list[list[str]] = []
        rules_seen = 1
        i += 1
        while i < len(lines) and rules_seen < 3:
            if RULE.match(lines[i]):
                rules_seen += 1
            elif lines[i].strip():
                cells = []
                for k, (start, _end) in enumerate(spans):
                    stop = spans[k + 1][0] if k + 1 < len(spans) else None
                    cells.append(lines[i][start:stop].strip())
                if cells[0] == "" and rows:  # continuation line of the previous row
                    rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells)]
                else:
                    rows.append(cells)
            i += 1
        if rows:
            out.extend(markdown_table(rows[0], rows[1:]))
    return "\n".join(out)


def markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """The lines of a Markdown pipe table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return lines


def _code(text: str) -> str:
    return f"`{text}`"


def _bound(value: float) -> str:
    return "-inf" if value == float("-inf") else "inf" if value == float("inf") else f"{value:g}"


def observation_table(task: Task) -> list[str]:
    """Index by index: the task's observation parts, their entries and bounds."""
    layout = task.observation_layout()
    low, high = layout.bounds()
    rows = []
    for first, last, part in layout.index_ranges():
        index = str(first) if first == last else f"{first}-{last}"
        entries = ", ".join(_code(e) for e in part.entries)
        rows.append([index, part.name, part.description.replace("``", "`"), entries,
                     f"[{_bound(float(low[first:last + 1].min()))}, {_bound(float(high[first:last + 1].max()))}]"])
    return [f"A vector of {layout.size} floats:", "",
            *markdown_table(["index", "part", "content", "entries", "bounds"], rows)]


def reward_table(task: Task) -> list[str]:
    """The task's reward terms and their weights."""
    rows = [[_code(name), f"{weight:g}"] for name, weight in task.reward_weights.items()]
    return markdown_table(["term", "weight"], rows) if rows else []


def termination_table(task: Task) -> list[str]:
    """The task's termination reasons."""
    rows = [[_code(name), text.replace("``", "`")] for name, text in task.termination_reasons.items()]
    rows.append([_code("simulation_failure"), "the engine could not step (reward "
                 f"{task.failure_reward:g}; the message in `info['simulation_failure']`)"])
    return markdown_table(["reason (`info['termination']`)", "meaning"], rows)


def _insert_after_section_text(lines: list[str], title: str, extra: list[str]) -> list[str]:
    """``extra`` after the first paragraph of section ``title`` (nothing if there is none)."""
    if not extra or title not in lines:
        return lines
    i = lines.index(title) + 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    while i < len(lines) and lines[i].strip() and not lines[i].startswith("## "):
        i += 1
    return [*lines[:i], "", *extra, *lines[i:]]


#: The row of the ``engine`` argument, which every environment takes (through :class:`osim.env.base.OsimEnv`).
ENGINE_ROW = ('| engine | "opensim" | the engine, a name of `osim.engine.registry.ENGINES` (`"opensim"`; `"mujoco"` '
              "needs its engine); OpenSim-only features of the original API refuse other engines |")


def _add_engine_row(lines: list[str]) -> list[str]:
    """The ``engine`` row at the end of the Arguments table."""
    if "## Arguments" not in lines:
        return lines
    i = lines.index("## Arguments") + 1
    while i < len(lines) and not lines[i].startswith("|"):
        i += 1
    while i < len(lines) and lines[i].startswith("|"):
        i += 1
    return [*lines[:i], ENGINE_ROW, *lines[i:]]


def gymnasium_ids(class_name: str) -> list[str]:
    """The Gymnasium ids that build ``class_name``."""
    from osim.registration import ENVIRONMENT_IDS

    return [env_id for env_id, (name, _) in ENVIRONMENT_IDS.items() if name == class_name]


def page(name: str, cls: Any) -> str:
    """The Markdown page of environment class ``cls``."""
    module_doc = inspect.getdoc(sys.modules[cls.__module__]) or ""
    class_doc = inspect.getdoc(cls) or ""
    signature = str(inspect.signature(cls.__init__)).replace("(self, ", "(").replace("(self)", "()")
    ids = gymnasium_ids(name)
    body = rst_tables_to_markdown(module_doc).splitlines()
    body = _add_engine_row(body)
    task_class = getattr(cls, "task_class", None)
    if task_class is not None:
        env = cls(visualize=False)  # the task of the default arguments, with its model loaded
        task = env.task
        env.close()
        body = _insert_after_section_text(body, "## Observation", observation_table(task))
        body = _insert_after_section_text(body, "## Reward", reward_table(task))
        body = _insert_after_section_text(body, "## Termination", termination_table(task))
    parts = [
        f"# {name}",
        "",
        f"<!-- Generated by {GENERATOR} from the code; edit the docstrings and tasks instead. -->",
        "",
        f"`from {cls.__module__} import {name}` (also `from osim.env import {name}`)",
        "",
        f"```python\n{name}{signature}\n```",
        "",
        class_doc,
        "",
        "\n".join(body),
        "",
        "## Gymnasium",
        "",
        ("Ids: " + ", ".join(f"`{i}`" for i in ids)) if ids else "No Gymnasium id.",
        "",
    ]
    return "\n".join(parts)


def pages() -> dict[str, str]:
    """Every environment page by file name (``L2RunEnv.md`` -> its text)."""
    return {f"{name}.md": page(name, cls) for name, cls in environment_classes().items()}
