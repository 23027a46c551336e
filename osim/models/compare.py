"""Compare two OpenSim models property by property (what the equivalence tests use).

:func:`model_tree` serialises a model with *every* property written (OpenSim normally leaves out
properties that hold their default value, so two equal models could print differently), and
:func:`differences` walks two such trees in parallel. Display-only parts (meshes, our simple
shapes, their frames, ``FrameGeometry``) are left out: they do not take part in the dynamics.
"""
from __future__ import annotations

import math
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import opensim

#: Elements that only concern display.
DISPLAY_TAGS = {"FrameGeometry", "attached_geometry", "Appearance"}


def _mark_all_properties(obj: opensim.Object) -> None:
    for index in range(obj.getNumProperties()):
        prop = obj.updPropertyByIndex(index)
        prop.setValueIsDefault(False)
        if prop.isObjectProperty():
            for item in range(prop.size()):
                _mark_all_properties(prop.updValueAsObject(item))


def _is_display(element: ET.Element) -> bool:
    if element.tag in DISPLAY_TAGS:
        return True
    # Offset frames that only hold geometry: "<body>_geom_frame_<n>" (originals), "<body>_display_<n>" (ours).
    name = element.get("name") or ""
    return element.tag == "PhysicalOffsetFrame" and ("_geom_frame_" in name or "_display_" in name)


def _strip_display(element: ET.Element) -> ET.Element:
    for child in list(element):
        if _is_display(child):
            element.remove(child)
        else:
            _strip_display(child)
    # An empty <components/> left behind by removed display frames is no difference either.
    for child in list(element):
        if child.tag == "components" and len(child) == 0:
            element.remove(child)
    return element


def model_tree(model: opensim.Model) -> ET.Element:
    """The ``<Model>`` element of ``model`` with every property written and display parts removed."""
    copy = model.clone()
    _mark_all_properties(copy)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "model.osim"
        copy.printToXML(str(path))
        text = path.read_text().replace("HuntCrossleyForce::", "HuntCrossleyForce__")
    element = ET.fromstring(text.encode()).find("Model")
    if element is None:
        raise ValueError("the model's XML has no <Model> element")
    return _strip_display(element)


def _numbers(text: str) -> list[float] | None:
    try:
        return [float(token) for token in text.split()]
    except ValueError:
        return None


def _absolute(socket_path: str, owner: tuple[str, ...]) -> str:
    """A socket's connectee path made absolute (OpenSim writes them relative after a clone)."""
    if not socket_path.startswith(".."):
        return socket_path
    parts = list(owner)
    for part in socket_path.split("/"):
        if part == "..":
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/" + "/".join(parts)


def differences(
    ours: ET.Element, theirs: ET.Element, rel: float = 0.0, ignore: frozenset[str] = frozenset(),
    path: str = "", owner: tuple[str, ...] = (),
) -> list[str]:
    """Human-readable differences between two trees (numbers compared with relative tolerance ``rel``).

    ``ignore`` lists tags whose content is not compared (e.g. ``{"credits"}``). Socket paths are
    compared after making them absolute (``owner`` is the component path of the parent element).
    """
    here = f"{path}/{ours.tag}" + (f"[{ours.get('name')}]" if ours.get("name") else "")
    found: list[str] = []
    if ours.tag != theirs.tag or ours.attrib != theirs.attrib:
        return [f"{here}: element {ours.tag}{ours.attrib} vs {theirs.tag}{theirs.attrib}"]
    if ours.tag in ignore:
        return []
    a, b = (ours.text or "").strip(), (theirs.text or "").strip()
    if ours.tag.startswith("socket_"):
        a, b = _absolute(a, owner), _absolute(b, owner)
    elif (name := ours.get("name")) and ours.tag != "Model":
        owner = (*owner, name)
    if a != b:
        x, y = _numbers(a), _numbers(b)
        if x is None or y is None or len(x) != len(y) or not all(
            math.isclose(p, q, rel_tol=rel, abs_tol=0.0) for p, q in zip(x, y)
        ):
            found.append(f"{here}: {a!r} vs {b!r}")
    children_a, children_b = list(ours), list(theirs)
    if [c.tag for c in children_a] != [c.tag for c in children_b] or [
        c.get("name") for c in children_a
    ] != [c.get("name") for c in children_b]:
        found.append(
            f"{here}: children {[(c.tag, c.get('name')) for c in children_a]} vs "
            f"{[(c.tag, c.get('name')) for c in children_b]}"
        )
        return found
    for child_a, child_b in zip(children_a, children_b):
        found.extend(differences(child_a, child_b, rel, ignore, here, owner))
    return found
