"""The project's own musculoskeletal models, described as data and built with the OpenSim API.

Presets carry the names of the original osim-rl files and reproduce them exactly::

    from osim.models import model_path, build_model, list_models
    path = model_path("gait14dof22musc_20170320")            # cached OpenSim 4.x .osim file
    model = build_model("gait9dof18musc", height=1.6, mass=55) # an opensim.Model

Options (all keyword-only; ``None`` keeps the preset's choice):

``planar``        lock the out-of-plane coordinates (14-dof family; the others are planar anyway)
``prosthesis``    transtibial prosthesis on the right leg (gait families)
``muscle_model``  "Thelen2003" (the originals), "Millard2012Equilibrium", "DeGrooteFregly2016"
``height``, ``mass``  scale to a subject (gait families; see :func:`osim.models.transform.scaled`)
``geometry``      attach simple display shapes (default True; they never change the dynamics)

Built files are cached under ``$OSIM_RL_MODEL_CACHE`` (default ``~/.cache/osim-rl/models``), named
by a hash of the final description, and written atomically so parallel processes can share them.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .description import (
    UnknownModelError,
    load_family,
    preset_description,
    preset_index,
    preset_info,
    preset_name,
)
from .transform import MUSCLE_MODELS, scaled, total_mass, with_display_geometry, with_muscle_model

if TYPE_CHECKING:
    import opensim  # imported when a model is built, not with this module

__all__ = [
    "MUSCLE_MODELS",
    "UnknownModelError",
    "build_model",
    "cache_dir",
    "list_models",
    "model_description",
    "model_path",
    "model_source",
]

#: Bumped whenever the builder changes what it writes for the same description.
BUILDER_VERSION = 1

OPTION_NAMES = ("planar", "prosthesis", "muscle_model", "height", "mass", "geometry")


def _check_options(options: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(options) - set(OPTION_NAMES))
    if unknown:
        raise TypeError(f"unknown model option(s) {unknown}; expected some of {list(OPTION_NAMES)}")
    geometry = options.get("geometry", True)
    if not isinstance(geometry, bool):
        raise TypeError(f"option 'geometry' must be True or False, got {geometry!r}")
    return options


def model_description(name: str, **options: Any) -> dict[str, Any]:
    """The final description of preset ``name`` with ``options`` (what the builder builds)."""
    _check_options(options)
    family = preset_info(name)["family"]
    description = preset_description(name, options)
    description = scaled(description, family, options.get("height"), options.get("mass"))
    description = with_muscle_model(description, options.get("muscle_model") or "Thelen2003")
    if options.get("geometry", True):
        description = with_display_geometry(description)
    return description


def build_model(name: str, **options: Any) -> opensim.Model:
    """A new ``opensim.Model`` for preset ``name`` (connected; call ``initSystem`` to use it)."""
    from .builder import build

    return build(model_description(name, **options))


def cache_dir() -> Path:
    """Where built models are kept: ``$OSIM_RL_MODEL_CACHE`` or ``~/.cache/osim-rl/models``."""
    configured = os.environ.get("OSIM_RL_MODEL_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "osim-rl" / "models"


def _description_hash(description: dict[str, Any]) -> str:
    import opensim

    key = json.dumps({"description": description, "builder": BUILDER_VERSION,
                      "opensim": getattr(opensim, "__version__", "")}, sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:20]


def write_model(name: str, out: Path, **options: Any) -> Path:
    """Build preset ``name`` and write it to ``out`` atomically (temp file + rename)."""
    from .builder import build

    model = build(model_description(name, **options))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{out.stem}-", suffix=".osim", dir=out.parent)
    os.close(handle)
    try:
        if not model.printToXML(temporary):
            raise OSError(f"OpenSim could not write {temporary}")
        os.replace(temporary, out)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return out


def model_path(name: str, **options: Any) -> str:
    """Path (a ``str``, as ``opensim.Model`` takes it) of an OpenSim 4.x ``.osim`` file of preset
    ``name`` built with ``options``. Built on first use (saying so on stderr) and cached."""
    stem = preset_name(name)
    description = model_description(stem, **options)
    path = cache_dir() / f"{stem}-{_description_hash(description)}.osim"
    if not path.is_file():
        from osim._notice import notice

        notice(f"building the model {stem} (first use; cached in {path.parent})")
        write_model(stem, path, **options)
    _SOURCES[str(path)] = (stem, dict(options))
    return str(path)


#: What each path :func:`model_path` returned in this process was built from.
_SOURCES: dict[str, tuple[str, dict[str, Any]]] = {}


def model_source(path: str | os.PathLike[str]) -> tuple[str, dict[str, Any]]:
    """(preset name, options) that :func:`model_path` built the file ``path`` from.

    Known for every path :func:`model_path` returned in this process; for another cached file the
    preset in its name is tried with each combination of the on/off and muscle-model options
    (scaled models are known only in the process that made them). ``ValueError`` for a file that
    :func:`model_path` did not make (a foreign or hand-edited ``.osim``).
    """
    key = os.fspath(path)
    if key in _SOURCES:
        stem, options = _SOURCES[key]
        return stem, dict(options)
    name = Path(key).name
    stem, _, digest = name.removesuffix(".osim").rpartition("-")
    if name.endswith(".osim") and stem in preset_index():
        for options in _option_combinations():
            try:
                description = model_description(stem, **options)
            except (TypeError, ValueError):
                continue  # an option the preset does not have
            if _description_hash(description) == digest:
                return stem, options
    raise ValueError(f"{key} was not made by osim.models.model_path (no preset and options give its name)")


def _option_combinations() -> list[dict[str, Any]]:
    """The options :func:`model_source` tries: variants on/off, muscle models, display geometry."""
    return [{key: value for key, value in (("planar", planar), ("prosthesis", prosthesis),
                                           ("muscle_model", muscle_model), ("geometry", geometry))
             if value is not None and not (key == "geometry" and value)}
            for geometry in (True, False) for muscle_model in (None, *MUSCLE_MODELS)
            for planar in (None, True, False) for prosthesis in (None, True, False)]


def list_models() -> list[dict[str, Any]]:
    """One entry per preset: name, family, title, original file, variants, total mass (kg)."""
    entries = []
    for stem in sorted(preset_index()):
        info = preset_info(stem)
        info["mass"] = round(total_mass(preset_description(stem)), 6)
        entries.append(info)
    return entries


def family_provenance(family: str) -> str:
    """Where the numbers of a family come from."""
    return load_family(family)["provenance"]
