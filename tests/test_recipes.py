"""The conda recipes: they render for every platform and variant, follow the project's rules,
and agree with pyproject.toml; each rule is shown to catch the mistake it exists for.

Rendering needs py-rattler-build (installed by ci/check-recipes.sh, or
``pip install py-rattler-build``).
"""
from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import pytest
from ci_modules import load_ci_module

REPO = Path(__file__).resolve().parent.parent


recipes = load_ci_module("recipes")


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """The recipes, meta.yaml, pyproject.toml and license of the checkout, to break on purpose."""
    shutil.copytree(REPO / "recipes", tmp_path / "recipes")
    for name in ("meta.yaml", "pyproject.toml", "LICENSE"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, tmp_path / name)
    return tmp_path


def rules_hit(root: Path) -> set[tuple[str, str]]:
    return {(problem.where, problem.rule) for problem in recipes.check_rules(root)}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_checkout_follows_every_rule() -> None:
    problems = recipes.check_rules(REPO)
    assert problems == [], "\n".join(map(str, problems))


def test_every_recipe_renders_for_every_platform_and_python() -> None:
    assert importlib.util.find_spec("rattler_build"), "py-rattler-build is needed: pip install py-rattler-build"
    rendered, problems = recipes.render_all(REPO)
    assert problems == [], "\n".join(map(str, problems))
    variants = (REPO / "recipes" / "variants.yaml").read_text()
    pythons = set(re.findall(r"^\s*-\s*(3\.\d+)\.\*", variants, re.MULTILINE))
    assert pythons, "variants.yaml lists no Python versions"
    for recipe in ("recipes/opensim/recipe.yaml",):
        for platform in recipes.PLATFORMS:
            got = {item.variant["python"].split(".*")[0] for item in rendered
                   if item.recipe == recipe and item.platform == platform}
            assert got == pythons, (recipe, platform, got)
    for item in rendered:
        if item.recipe != "recipes/osim-rl/recipe.yaml":
            compilers = [spec for spec in item.build_requirements if spec.split()[0].endswith(item.platform)]
            assert compilers, f"{item.recipe} on {item.platform}: no compiler/stdlib packages rendered"
            assert not any(spec.startswith(("libstdcxx", "libgcc")) for spec in item.build_requirements)
    noarch = {item.build_string for item in rendered if item.recipe == "recipes/osim-rl/recipe.yaml"}
    assert len(noarch) == 1 and next(iter(noarch)).startswith("py"), noarch


def test_hand_listed_libstdcxx_is_rejected(repo_copy: Path) -> None:
    edit(repo_copy / "recipes/opensim/recipe.yaml", "  run:\n    - python\n",
         "  run:\n    - python\n    - libstdcxx-ng\n")
    assert ("recipes/opensim/recipe.yaml", "runtime-by-hand") in rules_hit(repo_copy)


def test_compiler_without_stdlib_is_rejected(repo_copy: Path) -> None:
    edit(repo_copy / "recipes/simbody/recipe.yaml", '    - ${{ stdlib("c") }}\n    - cmake', "    - cmake")
    assert ("recipes/simbody/recipe.yaml", "stdlib") in rules_hit(repo_copy)


def test_v0_selector_in_a_v1_recipe_is_rejected(repo_copy: Path) -> None:
    edit(repo_copy / "recipes/opensim/recipe.yaml", "    - ninja\n", "    - ninja  # [unix]\n")
    assert ("recipes/opensim/recipe.yaml", "v0-selector") in rules_hit(repo_copy)


def test_missing_license_file_and_tests_are_rejected(repo_copy: Path) -> None:
    path = repo_copy / "recipes/simbody/recipe.yaml"
    text = path.read_text()
    text = re.sub(r"  license_file:\n(    - .*\n)+", "", text)
    text = re.sub(r"\ntests:\n.*?\nabout:", "\nabout:", text, flags=re.DOTALL)
    path.write_text(text)
    hit = rules_hit(repo_copy)
    assert ("recipes/simbody/recipe.yaml", "license-file") in hit
    assert ("recipes/simbody/recipe.yaml", "tests") in hit


def test_unlisted_patch_is_rejected(repo_copy: Path) -> None:
    (repo_copy / "recipes/opensim/patches/9999-forgotten.patch").write_text("--- a/x\n+++ b/x\n")
    assert ("recipes/opensim/recipe.yaml", "patches") in rules_hit(repo_copy)


def test_version_drift_is_rejected(repo_copy: Path) -> None:
    edit(repo_copy / "pyproject.toml", 'version = "', 'version = "99.')
    hit = rules_hit(repo_copy)
    assert ("recipes/osim-rl/recipe.yaml", "version") in hit
    assert ("meta.yaml", "version") in hit


def test_meta_yaml_drift_from_recipe_is_rejected(repo_copy: Path) -> None:
    edit(repo_copy / "meta.yaml", "    - scipy >=1.11\n", "    - scipy\n")
    assert ("meta.yaml", "dependencies") in rules_hit(repo_copy)


def test_new_pyproject_dependency_must_reach_the_recipes(repo_copy: Path) -> None:
    edit(repo_copy / "pyproject.toml", "dependencies = [\n", 'dependencies = [\n    "rich>=13",\n')
    assert ("recipes/osim-rl/recipe.yaml", "dependencies") in rules_hit(repo_copy)


def test_malformed_v0_selector_in_meta_yaml_is_rejected(repo_copy: Path) -> None:
    edit(repo_copy / "meta.yaml", "    - wheel\n", "    - wheel  [not win]\n")
    assert ("meta.yaml", "selector") in rules_hit(repo_copy)


def test_render_reports_a_broken_recipe(repo_copy: Path) -> None:
    assert importlib.util.find_spec("rattler_build"), "py-rattler-build is needed: pip install py-rattler-build"
    edit(repo_copy / "recipes/osim-rl/recipe.yaml", "  license: Apache-2.0", "  license: Apache 2")
    _, problems = recipes.render_all(repo_copy, platforms=("linux-64",))
    assert any(p.rule == "render" and "osim-rl" in p.where and "license" in p.message.lower()
               for p in problems), problems
