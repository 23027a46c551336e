"""Optional dependencies: which extra of osim-rl installs what, and one clear error when one is missing.

A plain ``pip install osim-rl`` brings OpenSim, NumPy, SciPy, Gymnasium and tqdm; images, plots,
the HTTP client, the grader and the training tools come with extras (see ``pyproject.toml``).
Code that needs one calls :func:`require` first, so a missing package is reported in one line that
names the extra, before any work is done::

    require("matplotlib", extra="render", feature="osim run --plot")

The ``osim`` command prints :class:`MissingExtra` as that line and exits with status 2.
"""
from __future__ import annotations

import importlib.util


class MissingExtra(ImportError):
    """A feature needs a package that only an extra of osim-rl installs."""

    def __init__(self, feature: str, missing: list[str], extra: str) -> None:
        self.feature, self.missing, self.extra = feature, missing, extra
        super().__init__(
            f"{feature} needs {', '.join(missing)}, which the '{extra}' extra installs: "
            f"pip install 'osim-rl[{extra}]'"
        )


def is_installed(module: str) -> bool:
    """Whether ``module`` (a top-level or dotted module name) can be imported, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package is missing or broken
        return False


def require(*modules: str, extra: str, feature: str) -> None:
    """Raise :class:`MissingExtra` naming ``extra`` unless every one of ``modules`` is importable."""
    missing = [module for module in modules if not is_installed(module)]
    if missing:
        raise MissingExtra(feature, missing, extra)
