"""Run the ORIGINAL osim-rl releases (PyPI 2.1.5 and 3.0.11) on today's stack, for parity and timing.

Nothing of the original is committed: :func:`prepare` downloads the release's sdist with pip into a
cache folder, extracts it, applies the few patches it needs on OpenSim 4.6 / NumPy 2 / SciPy >= 1.14,
and builds a scratch virtual environment (shared by both releases) holding what the original imports.
:func:`command` / :func:`run` then execute a Python script or snippet in that environment with the
original's ``osim`` (and, for 3.0.11, ``envs``) importable. The project's own ``osim`` package is NOT
importable there: both are called ``osim``, so the scratch venv is isolated from the project's.

Patches (minimal; behaviour-preserving except where the original cannot run at all):

1. ``osim/env/osim.py`` (both releases): ``PrescribedController.prescribeControlForActuator(int, f)``
   throws in OpenSim 4.6 ("deprecated") -> pass the muscle's name instead of its index. The control
   functions keep the muscle order, so ``actuate`` still addresses muscle j with ``action[j]``.
2. ``osim/env/osim.py`` (both releases): right after ``import opensim``, lower OpenSim's log level to
   "error" (``opensim.Logger.setLevelString``). OpenSim 4.x logs about a dozen Info lines per
   ``Manager.integrate``; this changes no result, only the noise and the timing.
3. ``envs/target/v_tgt_field.py`` (3.0.11): ``.5*np.diff(v_amp_rng)*...`` is a 1-element array that
   is stored into a scalar slot, a ``ValueError`` under NumPy 2 -> ``np.diff(v_amp_rng)[0]``
   (same value).
4. ``envs/target/v_tgt_field.py`` (3.0.11): ``scipy.interpolate.interp2d`` was removed in SciPy 1.14
   -> ``_LinearInterp2D``, appended to that file: a ``RectBivariateSpline(kx=1, ky=1, s=0)`` on the
   same grid and values. interp2d(kind='linear') on a rectangular grid fitted the same FITPACK
   bilinear spline (``regrid_smth`` with s=0) and evaluated it with ``bispev``, which clamps queries
   outside the grid to its edge (nearest-edge extrapolation); RectBivariateSpline does both the same
   way. Calls keep interp2d's return shape (a 1-element array for scalar queries). Checked once
   by hand: the patched 3.0.11 field on SciPy 1.17 / NumPy 2.4 gave bitwise the same values as the
   unpatched original on SciPy 1.13 (interp2d) / NumPy 1.26, for versions 0-3, 2,000 get_vtgt
   queries each over +-26 m (the map spans +-20 m, so edges are included) and a rotated local field.

Nothing else was needed: 2.1.5 runs with only patches 1 and 2. Known warnings left as they are:
``is 0`` comparisons (SyntaxWarning), gym 0.26's deprecation notices.

Maintainers run a release from the command line with ``tools/original_osimrl.py`` (``prepare``,
``run``); ``osim bench envs --original`` and the golden recordings (``tests/golden/record.py``) call
:func:`prepare` and :func:`command` from Python. The cache folder is ``$OSIM_RL_ORIGINAL_CACHE`` or
``~/.cache/osim-rl/original``.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import venv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

RELEASES: tuple[str, ...] = ("2.1.5", "3.0.11")

# What the original imports (osim.env: numpy, gym, opensim; 3.0.11's envs.target: scipy). gym 0.26.2
# is the last gym; the numerical stack follows the caller's versions when it has them (see
# _requirements) so that the original and the project run on the same libraries.
_BASE_REQUIREMENTS: dict[str, str] = {
    "opensim": "opensim>=4.6,<4.7",
    "numpy": "numpy>=2",
    "scipy": "scipy>=1.14",
}
_FIXED_REQUIREMENTS: tuple[str, ...] = ("gym==0.26.2",)

# Bump when the patch set changes, so cached patched sources are rebuilt.
_PATCH_VERSION = "1"

_LOGGER_LINE = "opensim.Logger.setLevelString('error')  # osim-rl rebuild: silence per-step Info log"

_INTERP_CLASS = '''

class _LinearInterp2D(object):
    """osim-rl rebuild patch: stands in for scipy.interpolate.interp2d(x, y, z, kind='linear').

    Same FITPACK bilinear spline (s=0) on the same grid, evaluated with bispev, which clamps
    queries outside the grid to its edge, as interp2d did."""

    def __init__(self, x, y, z, kind='linear'):
        if kind != 'linear':
            raise ValueError("only kind='linear' is supported by this replacement")
        # interp2d takes z with shape (len(y), len(x)); RectBivariateSpline wants (len(x), len(y)).
        self._spline = interpolate.RectBivariateSpline(
            np.asarray(x, dtype=float), np.asarray(y, dtype=float),
            np.asarray(z, dtype=float).T, kx=1, ky=1, s=0)

    def __call__(self, x, y):
        x = np.sort(np.atleast_1d(np.asarray(x, dtype=float)), kind='mergesort')
        y = np.sort(np.atleast_1d(np.asarray(y, dtype=float)), kind='mergesort')
        z = np.atleast_2d(self._spline(x, y, grid=True)).T
        if len(z) == 1:
            z = z[0]
        return np.array(z)
'''


@dataclass(frozen=True)
class _Replacement:
    """Replace ``old`` by ``new`` in one file (``count`` occurrences must exist: guards against a
    different upstream text), then append ``append`` to the file if it is not there yet."""

    path: str
    old: str
    new: str
    count: int
    append: str = ""


def _patches(release: str) -> list[_Replacement]:
    """The textual patches for ``release`` (see the module docstring for why each exists)."""
    patches = [
        _Replacement(
            "osim/env/osim.py",
            "self.brain.prescribeControlForActuator(j, func)",
            "self.brain.prescribeControlForActuator(self.muscleSet.get(j).getName(), func)",
            1,
        ),
        _Replacement("osim/env/osim.py", "\nimport opensim\n", "\nimport opensim\n" + _LOGGER_LINE + "\n", 1),
    ]
    if release == "3.0.11":
        patches += [
            _Replacement("envs/target/v_tgt_field.py", "np.diff(v_amp_rng)*", "np.diff(v_amp_rng)[0]*", 2),
            _Replacement(
                "envs/target/v_tgt_field.py", "interpolate.interp2d(", "_LinearInterp2D(", 4, append=_INTERP_CLASS
            ),
        ]
    return patches


@dataclass(frozen=True)
class PreparedRelease:
    """A ready-to-run original release: its patched source folder and the scratch venv's python."""

    release: str
    source_dir: Path
    python: Path

    def environ(self, base: dict[str, str] | None = None, extra_paths: Sequence[str | Path] = ()) -> dict[str, str]:
        """Environment for a child process: the original first on PYTHONPATH (then ``extra_paths``),
        one BLAS thread. PYTHONSAFEPATH keeps the working directory (``-c``) and the script's folder
        off the front of sys.path, where a project checkout's ``osim`` would shadow the original."""
        env = dict(os.environ if base is None else base)
        env["PYTHONPATH"] = os.pathsep.join([str(self.source_dir), *map(str, extra_paths)])
        env["PYTHONSAFEPATH"] = "1"
        env.setdefault("OPENBLAS_NUM_THREADS", "1")
        env.setdefault("OMP_NUM_THREADS", "1")
        env["PYTHONNOUSERSITE"] = "1"
        return env


def default_cache_dir() -> Path:
    """``$OSIM_RL_ORIGINAL_CACHE`` or ``~/.cache/osim-rl/original``."""
    configured = os.environ.get("OSIM_RL_ORIGINAL_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "osim-rl" / "original"


def _check_release(release: str) -> None:
    if release not in RELEASES:
        raise ValueError(f"release must be one of {', '.join(RELEASES)}; got {release!r}")


@contextlib.contextmanager
def _locked(cache_dir: Path) -> Iterator[None]:
    """Serialise preparation between processes (tests and benchmarks may prepare concurrently)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _say(message: str) -> None:
    """One line on stderr as a long step (a download, a venv) starts."""
    print(f"original_osimrl: {message}", file=sys.stderr, flush=True)


def _pip(python: Path | str, *args: str) -> None:
    subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", *args], check=True)


def _download_sdist(release: str, cache_dir: Path, python: Path) -> Path:
    """The release's sdist, downloaded once (with ``python``'s pip) into ``cache_dir/sdist``."""
    target = cache_dir / "sdist"
    existing = sorted(target.glob(f"osim-rl-{release}.tar.gz")) + sorted(target.glob(f"osim_rl-{release}.tar.gz"))
    if existing:
        return existing[0]
    target.mkdir(parents=True, exist_ok=True)
    _say(f"downloading the sdist of osim-rl {release} into {target} (once)")
    _pip(python, "download", "--no-deps", "--no-binary", ":all:", f"osim-rl=={release}", "-d", str(target))
    found = sorted(target.glob(f"osim*rl-{release}.tar.gz"))
    if not found:
        raise RuntimeError(f"pip did not leave an sdist for osim-rl=={release} in {target}")
    return found[0]


def _apply(source_dir: Path, patch: _Replacement) -> None:
    path = source_dir / patch.path
    raw = path.read_bytes().decode("utf-8")
    crlf = "\r\n" in raw
    text = raw.replace("\r\n", "\n")
    found = text.count(patch.old)
    if found != patch.count:
        raise RuntimeError(f"{patch.path}: expected {patch.count} occurrence(s) of {patch.old!r}, found {found}")
    text = text.replace(patch.old, patch.new)
    if patch.append and patch.append not in text:
        text += patch.append
    path.write_bytes((text.replace("\n", "\r\n") if crlf else text).encode("utf-8"))


def _prepare_source(release: str, cache_dir: Path, python: Path) -> Path:
    """Extract and patch the release into ``cache_dir/osim-rl-<release>`` (rebuilt if stale)."""
    source_dir = cache_dir / f"osim-rl-{release}"
    marker = source_dir / ".osim-rl-rebuild-patched"
    if marker.is_file() and marker.read_text() == _PATCH_VERSION:
        return source_dir
    sdist = _download_sdist(release, cache_dir, python)
    if source_dir.exists():
        shutil.rmtree(source_dir)
    with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
        with tarfile.open(sdist) as archive:
            if hasattr(tarfile, "data_filter"):
                archive.extractall(tmp, filter="data")
            else:  # pragma: no cover - Python without extraction filters
                archive.extractall(tmp)
        (top,) = [p for p in Path(tmp).iterdir() if p.is_dir()]
        for patch in _patches(release):
            _apply(top, patch)
        top.rename(source_dir)
    marker.write_text(_PATCH_VERSION)
    return source_dir


def _requirements() -> list[str]:
    """Pins for the scratch venv: the caller's opensim/numpy/scipy versions when installed."""
    pins = []
    for dist, fallback in _BASE_REQUIREMENTS.items():
        try:
            pins.append(f"{dist}=={importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            pins.append(fallback)
    return pins + list(_FIXED_REQUIREMENTS)


def scratch_venv(cache_dir: Path, requirements: Sequence[str], purpose: str, marker_name: str) -> Path:
    """The python of a venv under ``cache_dir`` holding ``requirements``, created on first use.

    One venv per Python minor version and requirement set; ``marker_name`` is written last, so a
    venv whose install was interrupted is rebuilt. Callers hold :func:`_locked` on ``cache_dir``.
    """
    tag = hashlib.sha256(json.dumps(list(requirements)).encode()).hexdigest()[:10]
    venv_dir = cache_dir / f"venv-py{sys.version_info.major}{sys.version_info.minor}-{tag}"
    python = venv_dir / "bin" / "python"
    marker = venv_dir / marker_name
    if marker.is_file():
        return python
    if venv_dir.exists():
        shutil.rmtree(venv_dir)
    _say(f"creating the venv that runs {purpose} in {venv_dir} (once): {' '.join(requirements)}")
    venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
    _pip(python, "install", "--quiet", *requirements)
    marker.write_text("\n".join(requirements) + "\n")
    return python


def _prepare_venv(cache_dir: Path) -> Path:
    """The scratch venv of the original releases (one per Python minor version and requirement set)."""
    return scratch_venv(cache_dir, _requirements(), "the original", ".osim-rl-rebuild-ready")


def prepare(release: str, cache_dir: Path | str | None = None) -> PreparedRelease:
    """Download, patch and set up ``release`` (cached); return where it is and which python runs it."""
    _check_release(release)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    with _locked(cache):
        python = _prepare_venv(cache)
        source_dir = _prepare_source(release, cache, python)
    return PreparedRelease(release=release, source_dir=source_dir, python=python)


def command(prepared: PreparedRelease, args: Sequence[str]) -> list[str]:
    """argv that runs ``python <args>`` in the scratch venv (use with ``prepared.environ()``)."""
    return [str(prepared.python), *args]


def run(
    release: str,
    args: Sequence[str],
    cache_dir: Path | str | None = None,
    check: bool = False,
    **popen_kwargs: object,
) -> subprocess.CompletedProcess:
    """Run ``python <args>`` (a script path and its arguments, or ``-c CODE``) with the original importable.

    A script's own folder stays importable, but after the original (see ``environ``)."""
    prepared = prepare(release, cache_dir)
    script_dirs = [] if not args or args[0].startswith("-") else [Path(args[0]).resolve().parent]
    environ = prepared.environ(extra_paths=script_dirs)
    return subprocess.run(  # type: ignore[call-overload]
        command(prepared, args), check=check, env=environ, **popen_kwargs
    )
