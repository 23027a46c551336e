"""Load a script of ci/ as a module for the tests (ci/ is not a package)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent


def load_ci_module(name: str) -> ModuleType:
    """ci/<name>.py imported as ``ci_<name>`` (registered in sys.modules, as dataclasses need)."""
    spec = importlib.util.spec_from_file_location(f"ci_{name}", REPO / "ci" / f"{name}.py")
    assert spec and spec.loader, f"no ci/{name}.py"
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
