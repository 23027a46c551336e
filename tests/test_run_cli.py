"""``osim run``: real episodes, real files, read back."""
from __future__ import annotations

import numpy as np
import opensim
import pytest
from PIL import Image

from osim.cli import main

ENV = "Arm2DEnv"  # the example


def test_run_writes_gif_mp4_sto_mot_and_plot_with_the_asked_number_of_frames(tmp_path, capsys):
    import imageio.v3 as iio

    files = {name: tmp_path / f"episode.{suffix}" for name, suffix in
             (("gif", "gif"), ("mp4", "mp4"), ("sto", "sto"), ("mot", "mot"), ("plot", "png"))}
    arguments = ["run", ENV, "--steps", "30", "--policy", "random", "--seed", "4", "--width", "240",
                 "--height", "180"]
    for name, path in files.items():
        arguments += [f"--{name}", str(path)]
    assert main(arguments) == 0
    captured = capsys.readouterr()
    assert "30/30" in captured.err  # the progress bar
    assert "30 steps" in captured.out
    with Image.open(files["gif"]) as gif:
        assert gif.n_frames == 30
        assert gif.size == (240, 180)
    video = iio.imread(files["mp4"])
    assert video.shape == (30, 180, 240, 3)
    assert video.std() > 10  # not a blank video
    states = opensim.TimeSeriesTable(str(files["sto"]))
    assert states.getNumRows() == 31  # the reset state, then one row per step
    assert opensim.Storage(str(files["mot"])).getSize() == 31
    assert files["plot"].stat().st_size > 10_000


def test_same_seed_same_episode(tmp_path):
    def run(name):
        path = tmp_path / f"{name}.sto"
        assert main(["run", ENV, "--steps", "10", "--seed", "7", "--sto", str(path), "--quiet"]) == 0
        table = opensim.TimeSeriesTable(str(path))
        return np.array([table.getRowAtIndex(i).to_numpy() for i in range(table.getNumRows())])

    first, second = run("a"), run("b")
    np.testing.assert_array_equal(first, second)
    assert main(["run", ENV, "--steps", "10", "--seed", "8", "--sto", str(tmp_path / "c.sto"),
                 "--quiet"]) == 0
    other = opensim.TimeSeriesTable(str(tmp_path / "c.sto"))
    assert not np.array_equal(first[-1], other.getRowAtIndex(other.getNumRows() - 1).to_numpy())


@pytest.mark.parametrize("arguments, message", [
    (["NoSuchEnv"], "unknown environment"),
    ([ENV, "--steps", "0"], "--steps must be a positive"),
    ([ENV, "--gif", "out.png"], "--gif expects a file name ending in .gif"),
    ([ENV, "--policy", "missing_model.zip"], "not found"),
    ([ENV, "--policy", "reflex"], "reflex drives L2M2019Env only"),
    ([ENV, "--kwarg", "no_equals_sign"], "NAME=VALUE"),
])
def test_bad_input_is_a_clear_error(arguments, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", *arguments, "--quiet"]) == 2
    assert message in capsys.readouterr().err


def test_reflex_policy_walks_l2m2019(reference_dir, tmp_path):
    """The published 2-D reflex parameters drive L2M2019Env forward (no fall in 0.6 s)."""
    path = tmp_path / "walk.mot"
    assert main(["run", "L2M2019Env", "--steps", "60", "--policy", "reflex",
                 "--reflex-params", str(reference_dir / "reflex" / "params_2D.txt"),
                 "--kwarg", "difficulty=0", "--mot", str(path), "--quiet"]) == 0
    storage = opensim.Storage(str(path))
    assert storage.getSize() == 61
    pelvis_tx, pelvis_ty = opensim.ArrayDouble(), opensim.ArrayDouble()
    storage.getDataColumn("pelvis_tx", pelvis_tx)
    storage.getDataColumn("pelvis_ty", pelvis_ty)
    assert pelvis_tx.get(60) - pelvis_tx.get(0) > 0.3
    assert min(pelvis_ty.get(k) for k in range(61)) > 0.7
