"""pytest plugin of ``ci/conda_build.py --suite``: the osim the tests import is the conda environment's.

The suite runs on a copy of the checkout, and a few tests run the repository's scripts or README
snippets in a child process with the copy on ``PYTHONPATH``, as they do from the checkout (the
copy's sources are the installed ones, file for file: ``ci/local_channel.py``'s
``check_installed_sources``). In the pytest process itself every ``osim`` and ``envs`` module must
come from the environment's site-packages: at the end of the session this plugin lists those
imported, prints one line for ``ci/conda_suite.py`` and fails the session if any came from elsewhere.

Loaded with ``-p ci.conda_suite_plugin``.
"""
from __future__ import annotations

import json
import os
import sys

import pytest

#: The top-level packages osim-rl installs.
PACKAGES = ("osim", "envs")
#: The line ``ci/conda_suite.py`` reads.
MARKER = "CONDA-SUITE-IMPORTS "
RESULT = pytest.StashKey[dict]()


def imported_modules() -> dict[str, str]:
    """Module name -> file of every imported module of :data:`PACKAGES`."""
    return {name: os.path.realpath(module.__file__) for name, module in list(sys.modules.items())
            if name.split(".")[0] in PACKAGES and getattr(module, "__file__", None)}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    prefix = os.path.realpath(sys.prefix) + os.sep
    modules = imported_modules()
    foreign = sorted(f"{name} ({path})" for name, path in modules.items() if not path.startswith(prefix))
    session.config.stash[RESULT] = {"checked": len(modules), "prefix": prefix, "foreign": foreign}
    if foreign:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """After pytest_sessionfinish: the terminal reporter summarises inside its own sessionfinish."""
    if RESULT in config.stash:
        terminalreporter.write_line(MARKER + json.dumps(config.stash[RESULT]))
