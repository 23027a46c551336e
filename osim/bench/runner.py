"""The parent side of the timing harness: run :mod:`osim.bench.harness` in a fresh child of the
project's venv (ours) or of the original osim-rl's scratch venv, and describe the measuring machine."""
from __future__ import annotations

import importlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from osim.bench import harness

#: environment -> (the project's module, the original release and module that define it; no
#: release: no original runs here, see :data:`NO_ORIGINAL`)
ENVIRONMENTS: dict[str, tuple[str, str | None, str]] = {
    "L2M2019Env": ("osim.env.l2m2019", "3.0.11", "osim.env"),
    "ProstheticsEnv": ("osim.env.prosthetics", "2.1.5", "osim.env"),
    "L2RunEnv": ("osim.env.l2run", "2.1.5", "osim.env"),
    "Arm2DEnv": ("osim.env.arm", "3.0.11", "osim.env"),
    "RunEnv": ("osim.env.run", None, "osim.env"),
}
#: why an environment has no original to time
NO_ORIGINAL = {
    "RunEnv": "osim-rl 1.5's RunEnv steps with OpenSim 4.0 beta's Manager API (setInitialTime, setFinalTime, "
              "integrate(state)), which the OpenSim of the original's venv (4.6) does not have",
}



def load_ours(env: str) -> type:
    """The project's class of ``env`` (a name of :data:`ENVIRONMENTS`)."""
    module_name = ENVIRONMENTS[env][0]
    cls: type = getattr(importlib.import_module(module_name), env)
    return cls


def _worker_source() -> str:
    return Path(harness.__file__).read_text()


def run_worker(
    env: str,
    impl: str,
    steps: int,
    *,
    seed: int = 0,
    integrator: dict[str, Any] | None = None,
    accuracy: float | None = None,
    episode_steps: int | None = None,
    rss_every: int = 0,
    split: bool = True,
    nice: int = 0,
    timeout: float | None = None,
    engine: str | None = None,
    model: str | None = None,
) -> dict[str, Any]:
    """Time ``env`` (a name of :data:`ENVIRONMENTS`) in a fresh child: ``impl`` "ours" or "original";
    ``engine`` names the project's engine (ours only; default: the env's own, OpenSim); ``model`` is
    passed to the env's ``change_model`` after construction (L2M2019Env: ``"2D"``, either impl)."""
    if env not in ENVIRONMENTS:
        raise ValueError(f"env must be one of {sorted(ENVIRONMENTS)}, got {env!r}")
    if impl not in ("ours", "original"):
        raise ValueError(f"impl must be 'ours' or 'original', got {impl!r}")
    ours_module, original_release, original_module = ENVIRONMENTS[env]
    if impl == "original" and original_release is None:
        raise RuntimeError(f"no original {env} runs here: {NO_ORIGINAL[env]}")
    release = original_release or ""
    args = [f"{ours_module if impl == 'ours' else original_module}:{env}", "--steps", str(steps), "--seed", str(seed)]
    if integrator:
        if impl == "original":
            raise ValueError("the original takes only an accuracy, not integrator settings")
        args += ["--integrator", json.dumps(integrator)]
    if accuracy is not None:
        args += ["--accuracy", repr(accuracy)]
    if episode_steps is not None:
        args += ["--episode-steps", str(episode_steps)]
    if rss_every:
        args += ["--rss-every", str(rss_every)]
    if not split:
        args.append("--no-split")
    if engine is not None:
        if impl == "original":
            raise ValueError("the original runs on OpenSim only: engine applies to ours")
        args += ["--engine", engine]
    if model is not None:
        args += ["--model", model]
    environ = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    if impl == "ours":
        python = sys.executable
    else:
        from osim.bench.original import prepare

        prepared = prepare(release)
        python, environ = str(prepared.python), prepared.environ(environ)
    command = [python, "-c", _worker_source(), "worker", *args]
    if nice:
        command = ["nice", "-n", str(nice), *command]
    completed = subprocess.run(
        command, capture_output=True, text=True, env=environ, timeout=timeout, cwd=_scratch_dir(), check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{impl} {env} worker failed ({completed.returncode}):\n{completed.stderr[-3000:]}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result.update(impl=impl, name=env, release=release if impl == "original" else "ours",
                  integrator=integrator, accuracy=accuracy)
    return result


def _scratch_dir() -> str:
    """A neutral working directory for children (no project folder may shadow the original's imports)."""
    import tempfile

    path = Path(tempfile.gettempdir()) / "osim-bench"
    path.mkdir(exist_ok=True)
    return str(path)


def machine_details() -> dict[str, Any]:
    """CPU model, core count, load, Python and library versions of the measuring machine."""
    details: dict[str, Any] = {
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
        "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    try:
        details["load_average"] = os.getloadavg()
    except OSError:
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                details["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                details["memory_gb"] = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    import importlib.metadata

    for dist in ("opensim", "numpy", "scipy", "gymnasium", "osim-rl"):
        try:
            details[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            pass
    return details
