"""Render and lint the conda recipes: py-rattler-build plus the project's own rules.

``python ci/recipes.py`` renders every ``recipes/*/recipe.yaml`` for every platform in
:data:`PLATFORMS` and every variant of ``recipes/variants.yaml`` (this is where
py-rattler-build checks the schema, match specs, SPDX licences and Jinja), then applies
the rules of :func:`check_rules`, which stand in for conda-smithy's linter (not
installable from PyPI). Exit code 0 when everything passes, 1 otherwise.

The rules are plain functions over the parsed YAML so that tests can run them on
deliberately broken copies of the recipes.
"""
from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

#: The conda platforms the recipes are rendered for (issue #9: 64-bit Linux, macOS, Windows).
PLATFORMS = ("linux-64", "osx-64", "osx-arm64", "win-64")

#: Runtime libraries that must come from the compilers' run_exports, never by hand.
HAND_LISTED_RUNTIMES = re.compile(r"^(libgcc|libgcc-ng|libstdcxx|libstdcxx-ng|libgfortran|libgfortran-ng)\b")

#: A v0 selector comment; inside a v1 recipe it is silently ignored (packaging.md §1(a)).
V0_SELECTOR = re.compile(r"#\s*\[")

#: A v0 selector in the form conda-smithy asks for: two spaces, '#', one space, '[expr]'.
WELL_FORMED_V0_SELECTOR = re.compile(r"\S  # \[[^\]]+\]\s*$")

#: Package names that differ between PyPI and conda-forge.
PYPI_TO_CONDA = {"opensim": "opensim"}


@dataclass(frozen=True)
class Problem:
    """One rule violation: where, which rule, and what to do."""

    where: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: [{self.rule}] {self.message}"


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def recipe_files(root: Path) -> list[Path]:
    return sorted((root / "recipes").glob("*/recipe.yaml"))


def load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a YAML mapping at the top level")
    return data


def iter_strings(node: Any) -> Iterator[str]:
    """Every string in a YAML tree, including both branches of ``if/then/else``."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from iter_strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from iter_strings(item)


def requirement_lists(recipe: dict[str, Any]) -> dict[str, list[str]]:
    """The requirement sections of a v1 or v0 recipe, flattened (all selector branches)."""
    sections: dict[str, list[str]] = {}
    reqs = recipe.get("requirements") or {}
    for key in ("build", "host", "run", "run_constraints", "run_exports"):
        if key in reqs:
            sections[key] = list(iter_strings(reqs[key]))
    run_exports = (recipe.get("build") or {}).get("run_exports")  # v0 location
    if run_exports:
        sections["run_exports"] = list(iter_strings(run_exports))
    return sections


def package_name(spec: str) -> str:
    return re.split(r"[\s<>=!~\[]", spec.strip(), maxsplit=1)[0].lower()


# --------------------------------------------------------------------------------------
# Rules for v1 recipes
# --------------------------------------------------------------------------------------


def check_v1_recipe(path: Path) -> list[Problem]:
    """conda-forge conventions for one v1 recipe (see packaging.md §3 and §4)."""
    where = str(path.relative_to(path.parent.parent.parent)) if path.is_absolute() else str(path)
    text = path.read_text(encoding="utf-8")
    recipe = load_yaml(path)
    problems: list[Problem] = []

    def add(rule: str, message: str) -> None:
        problems.append(Problem(where, rule, message))

    if recipe.get("schema_version") != 1:
        add("schema", "start the recipe with 'schema_version: 1'")
    for number, line in enumerate(text.splitlines(), 1):
        if V0_SELECTOR.search(line):
            add("v0-selector", f"line {number}: '# [..]' is a comment in a v1 recipe; use 'if:/then:'")

    sections = requirement_lists(recipe)
    build = sections.get("build", [])
    all_specs = [spec for specs in sections.values() for spec in specs]
    uses_compiler = any("compiler(" in spec for spec in build)
    if uses_compiler and not any("stdlib(" in spec and '"c"' in spec.replace("'", '"') for spec in build):
        add("stdlib", 'a recipe that uses compiler() needs ${{ stdlib("c") }} in build')
    for spec in all_specs:
        if HAND_LISTED_RUNTIMES.match(spec.strip()):
            add("runtime-by-hand", f"'{spec}' is listed by hand; the compiler's run_exports provide it")

    if uses_compiler:
        if not sections.get("run_exports"):
            add("run-exports", "a compiled library must declare run_exports (pin_subpackage)")
        linking = (recipe.get("build") or {}).get("dynamic_linking") or {}
        if linking.get("overlinking_behavior") != "error":
            add("overlinking", "set build.dynamic_linking.overlinking_behavior: error")

    about = recipe.get("about") or {}
    if not about.get("license"):
        add("license", "about.license (an SPDX expression) is missing")
    license_files = list(iter_strings(about.get("license_file")))
    if not license_files:
        add("license-file", "about.license_file is missing")
    source = recipe.get("source") or {}
    if isinstance(source, dict) and "path" in source:
        source_dir = (path.parent / source["path"]).resolve()
        for name in license_files:
            if not (source_dir / name).is_file():
                add("license-file", f"license file '{name}' does not exist in the source")
    if not recipe.get("tests"):
        add("tests", "the recipe has no tests")
    maintainers = ((recipe.get("extra") or {}).get("recipe-maintainers")) or []
    if not maintainers:
        add("maintainers", "list extra.recipe-maintainers")

    problems.extend(check_patches(path, recipe, where))
    return problems


def check_patches(path: Path, recipe: dict[str, Any], where: str) -> list[Problem]:
    """Every listed patch exists, and every patch file in the recipe is listed."""
    source = recipe.get("source") or {}
    sources = source if isinstance(source, list) else [source]
    listed = {p for s in sources if isinstance(s, dict) for p in iter_strings(s.get("patches", []))}
    problems = [Problem(where, "patches", f"listed patch '{p}' does not exist")
                for p in sorted(listed) if not (path.parent / p).is_file()]
    on_disk = {str(p.relative_to(path.parent)) for p in path.parent.glob("patches/*.patch")}
    problems += [Problem(where, "patches", f"'{p}' is not listed in source.patches")
                 for p in sorted(on_disk - listed)]
    return problems


# --------------------------------------------------------------------------------------
# The v0 meta.yaml and consistency with pyproject.toml
# --------------------------------------------------------------------------------------


def render_meta_yaml(text: str) -> dict[str, Any]:
    """Render the small Jinja subset a v0 meta.yaml uses here: ``{% set %}`` and ``{{ var }}``.

    Unknown variables (conda-build's own, e.g. PYTHON) render as their name.
    """
    values = dict(re.findall(r'{%-?\s*set\s+(\w+)\s*=\s*"([^"]*)"\s*-?%}', text))
    body = re.sub(r"{%.*?%}", "", text)
    body = re.sub(r"{{\s*(\w+)\s*}}", lambda m: values.get(m.group(1), m.group(1)), body)
    if "{{" in body or "{%" in body:
        raise ValueError("meta.yaml uses Jinja beyond '{% set %}' and '{{ name }}'; extend render_meta_yaml")
    data = yaml.safe_load(body)
    if not isinstance(data, dict):
        raise ValueError("meta.yaml does not render to a YAML mapping")
    return data


def check_meta_yaml(path: Path) -> list[Problem]:
    where = path.name
    text = path.read_text(encoding="utf-8")
    problems: list[Problem] = []
    for number, line in enumerate(text.splitlines(), 1):
        selector = "# [" in line or re.search(r"\[\w[^\]]*\]\s*$", line.split("#")[0])
        if selector and not WELL_FORMED_V0_SELECTOR.search(line):
            problems.append(Problem(where, "selector", f"line {number}: selectors take the form '<spec>  # [expr]'"))
    meta = render_meta_yaml(text)
    for spec in (s for specs in requirement_lists(meta).values() for s in specs):
        if HAND_LISTED_RUNTIMES.match(spec.strip()):
            problems.append(Problem(where, "runtime-by-hand", f"'{spec}' is listed by hand"))
    about = meta.get("about") or {}
    if not about.get("license_file"):
        problems.append(Problem(where, "license-file", "about.license_file is missing"))
    for name in iter_strings(about.get("license_file")):
        if not (path.parent / name).is_file():
            problems.append(Problem(where, "license-file", f"license file '{name}' does not exist"))
    if not re.fullmatch(r"[A-Za-z0-9.\-+]+( (AND|OR) [A-Za-z0-9.\-+]+)*", str(about.get("license", ""))):
        problems.append(Problem(where, "license", f"'{about.get('license')}' is not an SPDX expression"))
    test = meta.get("test") or {}
    if not (test.get("imports") or test.get("commands")):
        problems.append(Problem(where, "tests", "the recipe has no tests"))
    return problems


def normalized_specs(specs: list[str]) -> list[str]:
    return sorted(re.sub(r"\s+", " ", s.strip()) for s in specs)


def check_consistency(root: Path) -> list[Problem]:
    """recipes/osim-rl, meta.yaml and pyproject.toml agree on version, Python and dependencies."""
    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    recipe_path = root / "recipes" / "osim-rl" / "recipe.yaml"
    recipe = load_yaml(recipe_path)
    meta_text = (root / "meta.yaml").read_text(encoding="utf-8")
    meta = render_meta_yaml(meta_text)
    context = recipe.get("context") or {}
    problems: list[Problem] = []

    def add(where: str, rule: str, message: str) -> None:
        problems.append(Problem(where, rule, message))

    version = pyproject["version"]
    if str(context.get("version")) != version:
        add("recipes/osim-rl/recipe.yaml", "version",
            f"context.version {context.get('version')!r} != pyproject {version!r}")
    if str((meta.get("package") or {}).get("version")) != version:
        add("meta.yaml", "version",
            f"package.version {(meta.get('package') or {}).get('version')!r} != pyproject {version!r}")
    if (recipe.get("package", {}).get("name") not in ("${{ name }}", pyproject["name"])
            or context.get("name") != pyproject["name"]):
        add("recipes/osim-rl/recipe.yaml", "name", f"package name is not {pyproject['name']!r}")
    if (meta.get("package") or {}).get("name") != pyproject["name"]:
        add("meta.yaml", "name", f"package name is not {pyproject['name']!r}")

    python_floor = re.fullmatch(r">=\s*(\d+\.\d+)", pyproject["requires-python"].strip())
    if not python_floor or str(context.get("python_min")) != python_floor.group(1):
        add("recipes/osim-rl/recipe.yaml", "python",
            f"python_min {context.get('python_min')!r} does not match requires-python {pyproject['requires-python']!r}")

    run = [s.replace("${{ python_min }}", str(context.get("python_min")))
           for s in requirement_lists(recipe).get("run", [])]
    run_names = {package_name(s) for s in run} - {"python"}
    wanted = {PYPI_TO_CONDA.get(package_name(d), package_name(d)) for d in pyproject["dependencies"]}
    if run_names != wanted:
        add("recipes/osim-rl/recipe.yaml", "dependencies",
            f"run requirements {sorted(run_names)} != pyproject dependencies {sorted(wanted)}")
    meta_run = requirement_lists(meta).get("run", [])
    if normalized_specs(meta_run) != normalized_specs(run):
        add("meta.yaml", "dependencies",
            f"run requirements differ from recipes/osim-rl: {normalized_specs(meta_run)} vs {normalized_specs(run)}")
    meta_host = requirement_lists(meta).get("host", [])
    host = [s.replace("${{ python_min }}", str(context.get("python_min")))
            for s in requirement_lists(recipe).get("host", [])]
    if normalized_specs(meta_host) != normalized_specs(host):
        add("meta.yaml", "dependencies",
            f"host requirements differ from recipes/osim-rl: {normalized_specs(meta_host)} vs {normalized_specs(host)}")
    entry_points = ((recipe.get("build") or {}).get("python") or {}).get("entry_points", [])
    scripts = [f"{k} = {v}" for k, v in pyproject.get("scripts", {}).items()]
    meta_entry_points = (meta.get("build") or {}).get("entry_points", [])
    if sorted(entry_points) != sorted(scripts) or sorted(meta_entry_points) != sorted(scripts):
        add("recipes/osim-rl/recipe.yaml", "entry-points", f"entry points must equal pyproject scripts {scripts}")
    return problems


def check_rules(root: Path) -> list[Problem]:
    """All of the project's rules over every recipe, meta.yaml and pyproject.toml."""
    problems: list[Problem] = []
    for path in recipe_files(root):
        problems.extend(check_v1_recipe(path))
    problems.extend(check_meta_yaml(root / "meta.yaml"))
    problems.extend(check_consistency(root))
    return problems


# --------------------------------------------------------------------------------------
# Rendering with py-rattler-build
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    recipe: str
    platform: str
    variant: dict[str, Any]
    build_string: str
    build_requirements: tuple[str, ...]


def render_all(root: Path, platforms: tuple[str, ...] = PLATFORMS) -> tuple[list[Rendered], list[Problem]]:
    """Render every recipe for every platform and variant; errors become problems."""
    from rattler_build import JinjaConfig, PlatformConfig, RenderConfig, Stage0Recipe, VariantConfig

    variants_file = root / "recipes" / "variants.yaml"
    rendered: list[Rendered] = []
    problems: list[Problem] = []
    for path in recipe_files(root):
        where = str(path.relative_to(root))
        for platform in platforms:
            platform_config = PlatformConfig(target_platform=platform, build_platform=platform, host_platform=platform)
            try:
                variants = VariantConfig.from_file_with_context(variants_file, JinjaConfig(platform=platform_config))
                outputs = Stage0Recipe.from_file(path).render(variants, RenderConfig(platform=platform_config))
            except Exception as error:  # noqa: BLE001 - py-rattler-build raises its own parse/render error types
                problems.append(Problem(f"{where} ({platform})", "render", f"{type(error).__name__}: {error}"))
                continue
            if not outputs:
                problems.append(Problem(f"{where} ({platform})", "render", "no variant rendered"))
            for output in outputs:
                variant = dict(output.variant)
                build_requirements = [str(spec) for spec in output.recipe.requirements.build]
                rendered.append(Rendered(where, platform, variant, str(output.recipe.build.string),
                                         tuple(build_requirements)))
                stdlib = variant.get("c_stdlib")
                if stdlib and not any(spec.startswith(f"{stdlib}_{platform} ") for spec in build_requirements):
                    problems.append(Problem(
                        f"{where} ({platform})", "stdlib",
                        f"rendered build requirements lack {stdlib}_{platform}: {build_requirements}"))
    return rendered, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=repo_root(), help="repository root")
    parser.add_argument("--rules-only", action="store_true", help="skip rendering (no py-rattler-build needed)")
    args = parser.parse_args(argv)

    problems = check_rules(args.root)
    if not args.rules_only:
        rendered, render_problems = render_all(args.root)
        problems.extend(render_problems)
        for item in rendered:
            python = item.variant.get("python", "")
            build = ", ".join(item.build_requirements)
            print(f"rendered {item.recipe:28s} {item.platform:10s} {python:16s} {item.build_string:24s} build: {build}")
        print(f"{len(rendered)} variant(s) rendered for {len(PLATFORMS)} platforms")
    for problem in problems:
        print(f"PROBLEM {problem}")
    print(f"recipe rules: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
