"""examples/quickstart.py, the README's main job: the original example, its total reward, its GIF."""
from __future__ import annotations

import os
import re
import subprocess
import sys

from conftest import REPO_ROOT
from PIL import Image

SUMMARY = re.compile(r"ProstheticsEnv: (\d+) steps of random excitations in (\d+) episode\(s\), "
                     r"total reward (\S+)")


def run_quickstart(*arguments: str, cwd) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.run([sys.executable, str(REPO_ROOT / "examples" / "quickstart.py"), *arguments],
                          capture_output=True, text=True, cwd=cwd, env=environment, timeout=300, check=False)


def test_quickstart_prints_the_total_reward_and_writes_the_gif(tmp_path):
    result = run_quickstart("--steps", "5", "--seed", "3", "--gif", "run.gif", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    steps, episodes, total = SUMMARY.search(result.stdout).groups()
    assert (int(steps), int(episodes)) == (5, 1)
    assert float(total) != 0.0
    with Image.open(tmp_path / "run.gif") as gif:
        assert gif.n_frames == 6  # the reset frame and one per step


def test_quickstart_is_reproducible_for_a_seed(tmp_path):
    first, second = (run_quickstart("--steps", "3", "--seed", "7", cwd=tmp_path) for _ in range(2))
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert SUMMARY.search(first.stdout).group(3) == SUMMARY.search(second.stdout).group(3)


def test_quickstart_refuses_a_non_positive_step_count(tmp_path):
    result = run_quickstart("--steps", "0", cwd=tmp_path)
    assert result.returncode == 2
    assert "--steps must be a positive number of steps, got 0" in result.stderr
