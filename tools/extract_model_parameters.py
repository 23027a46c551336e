#!/usr/bin/env python
"""Read the original osim-rl model files and write the project's model descriptions.

This is the provenance record of every number in ``osim/models/data/*.json``: it was run once
against the reference copies of the ``.osim`` files shipped in the PyPI releases osim-rl 2.1.5 and
3.0.11 and its output is committed. Nothing reads the original files at run time.

How: each original is loaded with OpenSim 4.6 (which upgrades the 3.x format to 4.x, e.g. turns
``location_in_parent`` into joint offset frames and renames the duplicate head joint ``back`` to
``back_0``), written back as 4.x XML, and that XML is read into the description schema of
:mod:`osim.models.description` (bodies, joints with coordinates and spatial transforms, forces
with every non-default property and their paths, contact geometry, markers). Display meshes are
dropped: we do not ship the bone meshes and give bodies simple shapes instead.

Then each family is stored once: a base description plus named patches (planar locks, the
prosthesis, the 2017-03-20 revision of the 9-dof model, the hopping lock), and one entry per
preset saying which variants it uses plus a residual patch (model name and credits). The script
checks that every preset rebuilt from family + patches equals the description read from its file.

Usage: python tools/extract_model_parameters.py [--reference DIR] [--out DIR]
(DIR defaults: $OSIM_RL_REFERENCE or <repo>/../shared/reference; <repo>/osim/models/data).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from osim.models import patch as patching  # noqa: E402 - after the sys.path insert

# Elements that only concern display, which we replace with our own simple geometry.
DISPLAY_TAGS = {"FrameGeometry", "attached_geometry", "Appearance", "components"}


def value_of(text: str | None) -> Any:
    """An XML leaf as JSON: bool, float, list of floats, or string (OpenSim writes 17 digits)."""
    text = (text or "").strip()
    if text in ("true", "false"):
        return text == "true"
    tokens = text.split()
    try:
        numbers = [float(token) for token in tokens]
    except ValueError:
        return text
    if len(numbers) == 1 and len(text.split()) == 1 and not text.startswith(" "):
        return numbers[0]
    return numbers


def leaf_properties(element: ET.Element, skip: set[str] = frozenset()) -> dict[str, Any]:
    """All leaf children (no sub-elements) as ``{tag: value}``, in file order."""
    result: dict[str, Any] = {}
    for child in element:
        if len(child) == 0 and child.tag not in skip and child.tag not in DISPLAY_TAGS:
            if child.tag == "prescribed_function":
                continue  # always empty in these models
            result[child.tag] = value_of(child.text)
    return result


def vector_property(element: ET.Element, tag: str) -> list[float]:
    value = value_of(element.findtext(tag))
    return value if isinstance(value, list) else [value]


def function_of(element: ET.Element) -> dict[str, Any]:
    """A SimTK/OpenSim function element as ``{"type": ..., parameters}``."""
    kind = element.tag
    if kind == "Constant":
        return {"type": kind, "value": float(element.findtext("value"))}
    if kind == "LinearFunction":
        return {"type": kind, "coefficients": vector_property(element, "coefficients")}
    if kind == "SimmSpline":
        return {"type": kind, "x": vector_property(element, "x"), "y": vector_property(element, "y")}
    raise SystemExit(f"unsupported function type {kind}")


def frame_name(socket: str) -> str:
    """``/bodyset/femur_r`` or ``/ground`` -> ``femur_r`` / ``ground``."""
    return socket.rstrip("/").split("/")[-1]


def wrap_objects_of(owner: ET.Element) -> list[dict[str, Any]]:
    wraps = owner.find("WrapObjectSet/objects")
    if wraps is None:
        return []
    return [{"type": w.tag, "name": w.get("name"), **leaf_properties(w)} for w in wraps]


def body_of(element: ET.Element) -> dict[str, Any]:
    for component in element.findall("components/*"):
        # Only mesh holders live here in the originals (e.g. pros_tibia_r_geom_frame_2).
        assert component.tag == "PhysicalOffsetFrame" and "_geom" in component.get("name"), component
    body = {
        "name": element.get("name"),
        "mass": float(element.findtext("mass")),
        "mass_center": vector_property(element, "mass_center"),
        "inertia": vector_property(element, "inertia"),
    }
    wraps = wrap_objects_of(element)
    if wraps:
        body["wrap_objects"] = wraps
    return body


def joint_of(element: ET.Element) -> dict[str, Any]:
    frames = element.findall("frames/PhysicalOffsetFrame")
    assert len(frames) == 2, element.get("name")
    parent, child = (frame_name(f.findtext("socket_parent")) for f in frames)
    # OpenSim's joint constructors name the offset frames <body>_offset; the originals agree.
    assert [f.get("name") for f in frames] == [f"{parent}_offset", f"{child}_offset"]
    assert element.findtext("socket_parent_frame") == f"{parent}_offset"
    assert element.findtext("socket_child_frame") == f"{child}_offset"
    joint: dict[str, Any] = {"name": element.get("name"), "type": element.tag,
                             "parent": parent, "child": child}
    for key, frame in zip(("parent_offset", "child_offset"), frames):
        joint[key] = {"translation": vector_property(frame, "translation"),
                      "orientation": vector_property(frame, "orientation")}
    coordinates = [{"name": c.get("name"), **leaf_properties(c)}
                   for c in element.findall("coordinates/Coordinate")]
    if coordinates:
        joint["coordinates"] = coordinates
    axes = element.findall("SpatialTransform/TransformAxis")
    if axes:
        joint["spatial_transform"] = [
            {"name": axis.get("name"),
             "coordinates": (axis.findtext("coordinates") or "").split(),
             "axis": vector_property(axis, "axis"),
             "function": function_of(axis.find("*[@name='function']"))}
            for axis in axes
        ]
    return joint


def path_point_of(element: ET.Element) -> dict[str, Any]:
    point: dict[str, Any] = {"name": element.get("name"), "type": element.tag,
                             "frame": element.findtext("socket_parent_frame")}
    if element.tag in ("PathPoint", "ConditionalPathPoint"):
        point["location"] = vector_property(element, "location")
    if element.tag == "ConditionalPathPoint":
        point["coordinate"] = element.findtext("socket_coordinate")
        point["range"] = vector_property(element, "range")
    if element.tag == "MovingPathPoint":
        for axis in "xyz":
            point[axis] = {"coordinate": element.findtext(f"socket_{axis}_coordinate"),
                           "function": function_of(element.find(f"{axis}_location")[0])}
    known = {"socket_parent_frame", "location", "socket_coordinate", "range",
             "socket_x_coordinate", "socket_y_coordinate", "socket_z_coordinate",
             "x_location", "y_location", "z_location"}
    extra = [child.tag for child in element if child.tag not in known]
    assert not extra, (element.get("name"), extra)
    return point


def geometry_path_of(element: ET.Element) -> dict[str, Any]:
    path: dict[str, Any] = {}
    color = element.findtext("Appearance/color")
    if color is not None:
        path["color"] = value_of(color)
    path["points"] = [path_point_of(p) for p in element.find("PathPointSet/objects")]
    wraps = element.find("PathWrapSet/objects")
    if wraps is not None and len(wraps):
        path["wraps"] = [{"name": w.get("name"), **leaf_properties(w)} for w in wraps]
    return path


def force_of(element: ET.Element) -> dict[str, Any]:
    force: dict[str, Any] = {"type": element.tag, "name": element.get("name")}
    force["properties"] = leaf_properties(element)
    path = element.find("GeometryPath")
    if path is not None:
        force["path"] = geometry_path_of(path)
    contact = element.find("HuntCrossleyForce__ContactParametersSet/objects")
    if contact is not None:
        force["contact_parameters"] = []
        for parameters in contact:
            values = leaf_properties(parameters)
            geometry = values.pop("geometry")
            values["geometry"] = geometry.split() if isinstance(geometry, str) else geometry
            force["contact_parameters"].append(values)
    handled = {"GeometryPath", "HuntCrossleyForce__ContactParametersSet"}
    unknown = [c.tag for c in element if len(c) and c.tag not in handled | DISPLAY_TAGS]
    assert not unknown, (force["name"], unknown)
    return force


def contact_geometry_of(element: ET.Element) -> dict[str, Any]:
    geometry = {"type": element.tag, "name": element.get("name"),
                "frame": element.findtext("socket_frame"),
                "location": vector_property(element, "location"),
                "orientation": vector_property(element, "orientation")}
    if element.find("radius") is not None:
        geometry["radius"] = float(element.findtext("radius"))
    return geometry


def marker_of(element: ET.Element) -> dict[str, Any]:
    return {"name": element.get("name"), "frame": element.findtext("socket_parent_frame"),
            "location": vector_property(element, "location"),
            "fixed": value_of(element.findtext("fixed"))}


def describe(osim_file: Path) -> dict[str, Any]:
    """The description of one original file, as OpenSim 4.6 reads it."""
    import opensim

    opensim.Logger.setLevelString("error")
    with tempfile.TemporaryDirectory() as scratch:
        upgraded = Path(scratch) / osim_file.name
        opensim.Model(str(osim_file)).printToXML(str(upgraded))
        # "HuntCrossleyForce::ContactParameters" is not a valid XML name for ElementTree.
        text = upgraded.read_text().replace("HuntCrossleyForce::", "HuntCrossleyForce__")
        root = ET.fromstring(text.encode()).find("Model")
    for empty in ("ControllerSet", "ConstraintSet", "ComponentSet", "ProbeSet"):
        node = root.find(f"{empty}/objects")
        assert node is None or len(node) == 0, f"{osim_file.name}: {empty} is not empty"
    description: dict[str, Any] = {
        "model": {"name": root.get("name"),
                  **{tag: value_of(root.findtext(tag)) for tag in
                     ("credits", "publications", "length_units", "force_units")},
                  "gravity": vector_property(root, "gravity")},
        "ground": {"wrap_objects": wrap_objects_of(root.find("Ground"))},
        "bodies": [body_of(b) for b in root.findall("BodySet/objects/Body")],
        "joints": [joint_of(j) for j in root.find("JointSet/objects")],
        "forces": [force_of(f) for f in root.find("ForceSet/objects")],
        "contact_geometry": [contact_geometry_of(g) for g in
                             root.findall("ContactGeometrySet/objects/*")],
        "markers": [marker_of(m) for m in root.findall("MarkerSet/objects/Marker")],
    }
    return description


# Families: base file, variant patches (name -> (from preset, to preset)), presets.
# A preset is (release folder, file stem, list of variants applied to the base in order).
FAMILIES: dict[str, dict[str, Any]] = {
    "gait9dof18musc": {
        "title": "Planar 9-dof, 18-muscle gait model (NIPS 2017 Learning to Run, L2RunEnv)",
        "base": ("osim-rl-3.0.11", "gait9dof18musc"),
        "variants": {
            "hop": ("gait9dof18musc", "hop8dof9musc",
                    "hop8dof9musc: gait9dof18musc with pelvis_tx locked (HopEnv, CrouchEnv)"),
            "revision_20170320": ("gait9dof18musc", "gait9dof18musc_20170320",
                                  ("2017-03-20 revision: smaller toe spheres, softer contact, passive "
                                   "curves of hamstrings/rect_fem/vasti, knee limit 0 deg, head mass 0")),
            "prosthesis": ("gait9dof18musc_20170320", "gait9dof18musc_pros_20180507",
                           ("2018-05-07 transtibial prosthesis on the right leg: bisected tibia, "
                            "prosthetic foot, ankle spring, no right gastroc/soleus/tib_ant")),
        },
        "presets": {
            "gait9dof18musc": ("osim-rl-3.0.11", []),
            "hop8dof9musc": ("osim-rl-3.0.11", ["hop"]),
            "gait9dof18musc_20170320": ("osim-rl-3.0.11", ["revision_20170320"]),
            "gait9dof18musc_pros_20180507": ("osim-rl-3.0.11", ["revision_20170320", "prosthesis"]),
        },
    },
    "gait14dof22musc": {
        "title": "3D 14-dof, 22-muscle gait model (NIPS 2018 AI for Prosthetics, NeurIPS 2019 L2M)",
        "base": ("osim-rl-3.0.11", "gait14dof22musc_20170320"),
        "variants": {
            "prosthesis": ("gait14dof22musc_20170320", "gait14dof22musc_pros_20180507",
                           ("2018-05-07 transtibial prosthesis on the right leg: bisected tibia, "
                            "prosthetic foot, ankle spring, no right gastroc/soleus/tib_ant")),
            "planar": ("gait14dof22musc_20170320", "gait14dof22musc_planar_20170320",
                       "planar: pelvis_list, pelvis_rotation, pelvis_tz and hip_adduction locked"),
        },
        "presets": {
            "gait14dof22musc_20170320": ("osim-rl-3.0.11", []),
            "gait14dof22musc_planar_20170320": ("osim-rl-3.0.11", ["planar"]),
            "gait14dof22musc_pros_20180507": ("osim-rl-3.0.11", ["prosthesis"]),
            "gait14dof22musc_planar_pros_20180507": ("osim-rl-3.0.11", ["prosthesis", "planar"]),
        },
    },
    "arm2dof6musc": {
        "title": "Planar 2-dof, 6-muscle arm (arm26), as rewritten for osim-rl 3.0.11 (with wrapping)",
        "base": ("osim-rl-3.0.11", "arm2dof6musc"),
        "variants": {},
        "presets": {"arm2dof6musc": ("osim-rl-3.0.11", [])},
    },
    "arm2dof6musc_2018": {
        "title": "Planar 2-dof, 6-muscle arm (arm26_optimize) of osim-rl 2.x, without wrapping",
        "base": ("osim-rl-2.1.5", "arm2dof6musc"),
        "variants": {},
        "presets": {"arm2dof6musc_2018": ("osim-rl-2.1.5", [])},
    },
}

# Which original file each preset reproduces (release folder, file name).
SOURCES = {
    "arm2dof6musc_2018": ("osim-rl-2.1.5", "arm2dof6musc.osim"),
}

# Free-text provenance per family, stored with the data.
PROVENANCE = (
    "Numbers read by tools/extract_model_parameters.py from the model file(s) {files} shipped in "
    "the PyPI sdists of osim-rl 2.1.5/3.0.11, as loaded and upgraded by OpenSim 4.6. See the "
    "model's credits and publications for the scientific sources."
)


def source_of(preset: str, release: str) -> tuple[str, str]:
    return SOURCES.get(preset, (release, f"{preset}.osim"))


def build_family(name: str, spec: dict[str, Any], reference: Path) -> dict[str, Any]:
    cache: dict[str, dict[str, Any]] = {}

    def read(preset: str, release: str = "osim-rl-3.0.11") -> dict[str, Any]:
        folder, file = source_of(preset, release)
        key = f"{folder}/{file}"
        if key not in cache:
            cache[key] = describe(reference / "models" / folder / file)
        return cache[key]

    base_release, _ = spec["base"]
    base_preset = next(p for p, (r, v) in spec["presets"].items() if not v)
    base = read(base_preset, base_release)
    # Variant patches never touch the model name or credits: those belong to presets.
    variants = {}
    for variant, (source, target, note) in spec["variants"].items():
        before, after = read(source), read(target)
        after = {**after, "model": before["model"]}
        variants[variant] = {"note": note, **patching.diff(before, after)}
    presets = {}
    files = []
    for preset, (release, chain) in spec["presets"].items():
        folder, file = source_of(preset, release)
        files.append(f"{folder}/{file}")
        built = base
        for variant in chain:
            built = patching.apply(built, variants[variant])
        target = read(preset, release)
        residual = patching.diff(built, target)
        presets[preset] = {"source": f"{folder}/{file}", "variants": chain, "patch": residual}
        # The check that makes this file trustworthy: family + patches == original, exactly.
        rebuilt = patching.apply(built, residual)
        assert rebuilt == target, preset
    return {
        "family": name,
        "title": spec["title"],
        "provenance": PROVENANCE.format(files=", ".join(sorted(set(files)))),
        "description": base,
        "variants": variants,
        "presets": presets,
    }


def dumps(family: dict[str, Any]) -> str:
    """JSON with one level per line but short lists of numbers/strings kept on one line."""
    text = json.dumps(family, indent=1, ensure_ascii=False)
    return re.sub(r"\[\s+([^\[\]{}]*?)\s+\]",
                  lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",\n")) + "]", text)


def main(argv: list[str] | None = None) -> int:
    default_reference = Path(os.environ.get("OSIM_RL_REFERENCE", REPO.parent / "shared" / "reference"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=default_reference)
    parser.add_argument("--out", type=Path, default=REPO / "osim" / "models" / "data")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, spec in FAMILIES.items():
        family = build_family(name, spec, args.reference)
        target = args.out / f"{name}.json"
        target.write_text(dumps(family) + "\n")
        assert json.loads(target.read_text()) == family
        sizes = {p: len(json.dumps(v["patch"])) for p, v in family["presets"].items()}
        print(f"{target.name}: {len(family['variants'])} variants, residual patch sizes {sizes}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
