"""Model families, presets and options: from the JSON data to one model description.

Each file ``data/<family>.json`` holds one family::

    {"family", "title", "provenance",
     "description": the base model (bodies, joints, forces, contact_geometry, markers, ...),
     "variants": {name: patch},   # e.g. "planar", "prosthesis"; applied in this order
     "presets": {name: {"source", "variants": [...], "patch": residual patch}}}

A preset is the base with some variants and a residual patch (model name and credits); it
reproduces one original file exactly. Options switch variants on or off (``planar``,
``prosthesis``); see :mod:`osim.models.transform` for the options that change numbers.
"""
from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

from . import patch as patching

Description = dict[str, Any]

#: Options that switch a family variant on or off, and the variant they switch.
VARIANT_OPTIONS = {"planar": "planar", "prosthesis": "prosthesis"}

#: Variants that a family has no way of removing (the 9-dof models are planar by construction).
INTRINSIC = {"gait9dof18musc": {"planar"}, "arm2dof6musc": {"planar"}, "arm2dof6musc_2018": {"planar"}}


class UnknownModelError(KeyError):
    """No preset of that name."""

    def __str__(self) -> str:
        return str(self.args[0])


@cache
def _family_text(family: str) -> str:
    return resources.files("osim.models").joinpath("data", f"{family}.json").read_text()


def family_names() -> list[str]:
    """The families shipped with the package."""
    folder = resources.files("osim.models").joinpath("data")
    return sorted(entry.name[:-5] for entry in folder.iterdir() if entry.name.endswith(".json"))


def load_family(family: str) -> dict[str, Any]:
    """The parsed family file (a fresh copy each call)."""
    return json.loads(_family_text(family))


@cache
def preset_index() -> dict[str, str]:
    """Preset name -> family name."""
    return {preset: family for family in family_names() for preset in load_family(family)["presets"]}


def preset_name(name: str) -> str:
    """Normalise a preset name: accepts the original file name (``gait9dof18musc.osim``)."""
    if not isinstance(name, str):
        raise TypeError(f"a model name must be a string, got {type(name).__name__}")
    stem = name.removesuffix(".osim")
    if stem not in preset_index():
        raise UnknownModelError(
            f"unknown model {name!r}; expected one of {sorted(preset_index())} (optionally with .osim)"
        )
    return stem


def preset_info(name: str) -> dict[str, Any]:
    """Family, variants, source file and title of a preset."""
    stem = preset_name(name)
    family = load_family(preset_index()[stem])
    entry = family["presets"][stem]
    return {"name": stem, "family": family["family"], "title": family["title"],
            "source": entry["source"], "variants": list(entry["variants"]),
            "available_variants": list(family["variants"])}


def variants_for(name: str, options: dict[str, Any]) -> list[str]:
    """The variant chain of preset ``name`` after the on/off options in ``options``."""
    info = preset_info(name)
    chosen = set(info["variants"])
    intrinsic = INTRINSIC.get(info["family"], set())
    for option, variant in VARIANT_OPTIONS.items():
        wanted = options.get(option)
        if wanted is None:
            continue
        if not isinstance(wanted, bool):
            raise TypeError(f"option {option!r} must be True, False or None, got {wanted!r}")
        if variant in intrinsic:
            if not wanted:
                raise ValueError(f"{info['name']} is {variant} by construction; {option}=False is not available")
            continue
        if variant not in info["available_variants"]:
            if wanted:
                raise ValueError(
                    f"{info['name']} (family {info['family']}) has no {variant!r} variant; "
                    f"available: {info['available_variants'] or 'none'}"
                )
            continue
        if wanted:
            chosen.add(variant)
        else:
            chosen.discard(variant)
    return [variant for variant in info["available_variants"] if variant in chosen]


def preset_description(name: str, options: dict[str, Any] | None = None) -> Description:
    """The description of preset ``name`` with variant options applied (numbers untouched)."""
    options = options or {}
    stem = preset_name(name)
    family = load_family(preset_index()[stem])
    description = copy.deepcopy(family["description"])
    for variant in variants_for(stem, options):
        description = patching.apply(description, family["variants"][variant])
    return patching.apply(description, family["presets"][stem]["patch"])
