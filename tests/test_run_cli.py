"""``osim run``: real episodes, real files, read back."""
from __future__ import annotations

import numpy as np
import opensim
import pytest
from PIL import Image

from osim._optional import MissingExtra, require
from osim.cli import main
from osim.registration import MAX_EPISODE_STEPS

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
    (["osim/NoSuch-v0"], "unknown environment id 'osim/NoSuch-v0'"),
    (["L2M2019Env", "--policy", "reflex", "--reflex-params", "missing.txt"], "reflex parameter file not found"),
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


def test_reflex_policy_defaults_to_the_packaged_parameters(tmp_path, monkeypatch):
    """No --reflex-params and no reference folder: the published 2-D parameters shipped with osim-rl
    walk (the same forward progress as the reference file above)."""
    monkeypatch.setenv("OSIM_RL_REFERENCE", str(tmp_path / "no-reference-here"))
    monkeypatch.chdir(tmp_path)
    assert main(["run", "L2M2019Env", "--steps", "60", "--policy", "reflex", "--kwarg", "difficulty=0",
                 "--mot", "walk.mot", "--quiet"]) == 0
    storage = opensim.Storage("walk.mot")
    pelvis_tx = opensim.ArrayDouble()
    storage.getDataColumn("pelvis_tx", pelvis_tx)
    assert pelvis_tx.get(60) - pelvis_tx.get(0) > 0.3


def test_reflex_3d_policy_walks_the_3d_model_on_mujoco(tmp_path):
    """``--policy reflex:3D`` on MuJoCo: the packaged 3-D parameters walk the 10 s without a fall."""
    path = tmp_path / "walk3d.mot"
    assert main(["run", "L2M2019Env", "--engine", "mujoco", "--steps", "1000", "--policy", "reflex:3D",
                 "--mot", str(path), "--quiet"]) == 0
    storage = opensim.Storage(str(path))
    assert storage.getSize() == 1001  # the episode did not end early
    pelvis_tx = opensim.ArrayDouble()
    storage.getDataColumn("pelvis_tx", pelvis_tx)
    assert pelvis_tx.get(1000) - pelvis_tx.get(0) > 5.0


def test_a_3d_reflex_parameter_file_takes_the_frontal_angle_it_was_tuned_with(tmp_path):
    """``--reflex-params FILE --alpha-f-from-angle`` is ``reflex:3D``'s controller; without the flag
    (the original's rate) the same file falls within the 150 steps."""
    from osim.control import reflex_parameters_path

    packaged = str(reflex_parameters_path("3D", "mujoco"))
    runs = {"reflex3d": ["--policy", "reflex:3D"],
            "angle": ["--policy", "reflex", "--reflex-params", packaged, "--alpha-f-from-angle"],
            "rate": ["--policy", "reflex", "--reflex-params", packaged]}
    for name, options in runs.items():
        assert main(["run", "L2M2019Env", "--engine", "mujoco", "--steps", "150", *options,
                     "--mot", str(tmp_path / f"{name}.mot"), "--quiet"]) == 0
    sizes = {name: opensim.Storage(str(tmp_path / f"{name}.mot")).getSize() for name in runs}
    assert sizes["reflex3d"] == sizes["angle"] == 151 and sizes["rate"] < 151
    assert (tmp_path / "reflex3d.mot").read_text() == (tmp_path / "angle.mot").read_text()


def test_bad_reflex_parameter_file_is_a_clear_error(tmp_path, capsys):
    path = tmp_path / "params.txt"
    path.write_text("1.0\nnot-a-number\n")
    assert main(["run", "L2M2019Env", "--policy", "reflex", "--reflex-params", str(path), "--quiet"]) == 2
    assert "bad reflex parameter file" in capsys.readouterr().err


def test_run_takes_gymnasium_ids_and_their_arguments(tmp_path):
    """An id builds through gymnasium.make: its arguments (here max_episode_steps) apply."""
    path = tmp_path / "arm.sto"
    assert main(["run", "osim/Arm2D-v0", "--kwarg", "max_episode_steps=4", "--sto", str(path), "--quiet"]) == 0
    assert opensim.TimeSeriesTable(str(path)).getNumRows() == 5  # the reset state and 4 steps


def test_an_id_runs_until_its_registered_time_limit(capsys):
    assert MAX_EPISODE_STEPS["osim/Arm2D-v0"] == 200
    assert main(["run", "osim/Arm2D-v0", "--policy", "random"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("200 steps, episode truncated")
    assert "/200" in captured.err  # the progress bar's total


def test_help_is_plain_text(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = capsys.readouterr().out
    assert "osim run osim/L2Run-v0" in text and "osim.env.gym_adapter.OsimGymEnv" in text
    for markup in ("``", ":class:", ":mod:", "::"):
        assert markup not in text


def test_a_missing_extra_is_named_in_one_line():
    with pytest.raises(MissingExtra) as raised:
        require("json", "osim_rl_no_such_module", extra="render", feature="--plot")
    assert str(raised.value) == ("--plot needs osim_rl_no_such_module, which the 'render' extra installs: "
                                 "pip install 'osim-rl[render]'")
    require("json", extra="render", feature="--plot")  # installed: nothing raised


def test_collect_locally_says_what_it_runs_once(capfd):
    from osim.train.rollouts import EpisodeRequest, collect_locally

    episodes = collect_locally("osim/Arm2D-v0", [EpisodeRequest(seed, 3, action_seed=seed) for seed in (0, 1)])
    assert [len(episode.rewards) for episode in episodes] == [3, 3]
    assert capfd.readouterr().err.splitlines() == ["osim-rl: running 2 episode(s) of osim/Arm2D-v0 in this process"]
