"""Small declarative patches between model descriptions.

A model description is plain JSON: dicts, lists and scalars. Lists whose items are all dicts
with a unique ``"name"`` are *named lists* (bodies, joints, forces, path points, ...): a patch
addresses their items by name, so ``"joints/knee_r/coordinates/knee_angle_r/locked"`` is the
``locked`` flag of that coordinate. Any other list is a value and is replaced whole.

A patch is a dict with up to four operations, applied in this order:

``remove``  list of paths of named-list items or dict keys to delete;
``insert``  list of ``{"into": path, "after": name or null, "item": {...}}`` (null = first);
``set``     dict ``path -> value`` (creates a missing dict key, replaces an existing value);
``note``    free text saying why the patch exists (ignored when applying).

:func:`diff` computes the patch that turns one description into another, :func:`apply` applies it;
``apply(a, diff(a, b)) == b`` for any two descriptions.
"""
from __future__ import annotations

import copy
from typing import Any

Patch = dict[str, Any]


class PatchError(ValueError):
    """A patch does not fit the description it is applied to."""


def is_named_list(value: Any) -> bool:
    """True for a non-empty list of dicts that all carry a distinct ``"name"``."""
    if not isinstance(value, list) or not value:
        return False
    if not all(isinstance(item, dict) and isinstance(item.get("name"), str) for item in value):
        return False
    names = [item["name"] for item in value]
    return len(set(names)) == len(names)


def _child(container: Any, key: str, path: str) -> Any:
    if isinstance(container, dict):
        if key not in container:
            raise PatchError(f"patch path {path!r}: no key {key!r} (have {sorted(container)})")
        return container[key]
    if isinstance(container, list):
        for item in container:
            if isinstance(item, dict) and item.get("name") == key:
                return item
        names = [item.get("name") for item in container if isinstance(item, dict)]
        raise PatchError(f"patch path {path!r}: no item named {key!r} (have {names})")
    raise PatchError(f"patch path {path!r}: cannot descend into a {type(container).__name__}")


def _parent(root: Any, path: str) -> tuple[Any, str]:
    parts = path.split("/")
    node = root
    for part in parts[:-1]:
        node = _child(node, part, path)
    return node, parts[-1]


def resolve(root: Any, path: str) -> Any:
    """The value at ``path`` (``""`` is the root)."""
    node = root
    for part in filter(None, path.split("/")):
        node = _child(node, part, path)
    return node


def apply(description: dict[str, Any], patch: Patch) -> dict[str, Any]:
    """A new description: ``description`` with ``patch`` applied (the input is not modified)."""
    unknown = set(patch) - {"remove", "insert", "set", "note"}
    if unknown:
        raise PatchError(f"unknown patch operations {sorted(unknown)}; expected remove/insert/set/note")
    result = copy.deepcopy(description)
    for path in patch.get("remove", []):
        parent, key = _parent(result, path)
        if isinstance(parent, dict):
            if key not in parent:
                raise PatchError(f"cannot remove {path!r}: no such key")
            del parent[key]
        else:
            index = [i for i, item in enumerate(parent) if item.get("name") == key]
            if not index:
                raise PatchError(f"cannot remove {path!r}: no such item")
            del parent[index[0]]
    for insertion in patch.get("insert", []):
        target = resolve(result, insertion["into"])
        if not isinstance(target, list):
            raise PatchError(f"cannot insert into {insertion['into']!r}: not a list")
        after = insertion.get("after")
        if after is None:
            position = 0
        else:
            matches = [i for i, item in enumerate(target) if item.get("name") == after]
            if not matches:
                raise PatchError(f"cannot insert after {after!r} in {insertion['into']!r}: no such item")
            position = matches[0] + 1
        target.insert(position, copy.deepcopy(insertion["item"]))
    for path, value in patch.get("set", {}).items():
        parent, key = _parent(result, path)
        if isinstance(parent, dict):
            parent[key] = copy.deepcopy(value)
        else:
            index = [i for i, item in enumerate(parent) if item.get("name") == key]
            if not index:
                raise PatchError(f"cannot set {path!r}: no such item")
            parent[index[0]] = copy.deepcopy(value)
    return result


def _diff_into(old: Any, new: Any, path: str, patch: Patch) -> None:
    prefix = f"{path}/" if path else ""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in old:
            if key not in new:
                patch["remove"].append(prefix + key)
        for key, value in new.items():
            if key not in old:
                patch["set"][prefix + key] = copy.deepcopy(value)
            else:
                _diff_into(old[key], value, prefix + key, patch)
        return
    if is_named_list(old) and is_named_list(new):
        old_names = [item["name"] for item in old]
        new_names = [item["name"] for item in new]
        kept_old = [name for name in old_names if name in new_names]
        kept_new = [name for name in new_names if name in old_names]
        if kept_old == kept_new:
            for name in old_names:
                if name not in new_names:
                    patch["remove"].append(prefix + name)
            for index, item in enumerate(new):
                if item["name"] not in old_names:
                    after = new_names[index - 1] if index else None
                    patch["insert"].append({"into": path, "after": after, "item": copy.deepcopy(item)})
            by_name = {item["name"]: item for item in old}
            for item in new:
                if item["name"] in by_name:
                    _diff_into(by_name[item["name"]], item, prefix + item["name"], patch)
            return
    if old != new or type(old) is not type(new):
        if not path:
            raise PatchError("cannot replace a whole description")
        patch["set"][path] = copy.deepcopy(new)


def diff(old: dict[str, Any], new: dict[str, Any]) -> Patch:
    """The patch that turns ``old`` into ``new`` (empty operations are left out)."""
    patch: Patch = {"remove": [], "insert": [], "set": {}}
    _diff_into(old, new, "", patch)
    return {key: value for key, value in patch.items() if value}
