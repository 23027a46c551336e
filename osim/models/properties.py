"""Set OpenSim properties by name from JSON values (the generic half of the builder).

Descriptions store parameters under their OpenSim property names (``max_isometric_force``,
``FmaxTendonStrain``, ``locked``, ...), so one function can set any of them on any component.
"""
from __future__ import annotations

from collections.abc import Sequence

import opensim

Value = bool | float | int | str | Sequence[float]


def vec3(values: Sequence[float]) -> opensim.Vec3:
    """An ``opensim.Vec3`` from three numbers."""
    if len(values) != 3:
        raise ValueError(f"expected 3 numbers for a Vec3, got {list(values)!r}")
    return opensim.Vec3(float(values[0]), float(values[1]), float(values[2]))


def set_property(component: opensim.Object, name: str, value: Value) -> None:
    """Set property ``name`` of ``component`` to a JSON ``value`` (scalar, list or string)."""
    try:
        prop = component.updPropertyByName(name)
    except RuntimeError as error:
        raise KeyError(
            f"{component.getConcreteClassName()} {component.getName()!r} has no property {name!r}"
        ) from error
    kind = prop.getTypeName()
    helper = opensim.PropertyHelper
    scalar_kinds = {
        "double": (float, helper.setValueDouble, helper.appendValueDouble),
        "int": (int, helper.setValueInt, helper.appendValueInt),
        "bool": (bool, helper.setValueBool, helper.appendValueBool),
        "string": (str, helper.setValueString, helper.appendValueString),
    }
    if kind in scalar_kinds:
        convert, set_item, append_item = scalar_kinds[kind]
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        if prop.size() == len(values):
            for index, item in enumerate(values):
                set_item(convert(item), prop, index)
        else:  # an optional or unbounded list property: rebuild it
            prop.clear()
            for item in values:
                append_item(convert(item), prop)
    elif kind in ("Vec3", "Vec6"):
        numbers = [float(item) for item in value] if isinstance(value, (list, tuple)) else []
        if len(numbers) != int(kind[-1]):
            raise ValueError(f"expected {kind[-1]} numbers for property {name!r}, got {value!r}")
        setter = helper.setValueVec3 if kind == "Vec3" else helper.setValueVec6
        for index, item in enumerate(numbers):
            setter(item, prop, index)
    else:
        raise TypeError(f"cannot set property {name!r} of type {kind} from JSON")
