"""Everything around an episode on engine="mujoco": .sto/.mot export read back by real OpenSim,
rendering and recording, ``osim run --engine`` and the grader's engine."""
from __future__ import annotations

import numpy as np
import opensim
import pytest

from osim.env import L2M2019Env
from osim.motion import EpisodeLog, engine_of

STEPS = 20


@pytest.fixture(scope="module")
def mujoco_episode():
    """A short L2M2019Env episode on MuJoCo, logged, with each step's state description kept."""
    env = L2M2019Env(visualize=False, engine="mujoco", difficulty=0)
    env.reset()
    log = EpisodeLog(env)
    log.record()
    descriptions = [env.get_state_desc()]
    rng = np.random.default_rng(5)
    for _ in range(STEPS):
        _, reward, _, info = env.step(rng.uniform(0, 1, 22))
        log.record(reward, info.get("reward_terms"))
        descriptions.append(env.get_state_desc())
    yield env, log, descriptions
    env.close()


def opensim_model(env) -> opensim.Model:
    """The env's own model file, loaded by OpenSim (what the GUI would open next to the motion)."""
    model = opensim.Model(str(env.task.model))
    model.initSystem()
    return model


def test_engine_of_finds_the_mujoco_engine(mujoco_episode):
    env, log, _ = mujoco_episode
    assert log.sim is engine_of(env)
    assert type(getattr(log.sim, "_engine", log.sim)).__name__ == "MujocoSimulation"
    with pytest.raises(TypeError, match=r"osim\.engine\.Engine"):
        engine_of(object())


def test_mujoco_motion_file_loads_in_opensim_with_the_models_coordinates(mujoco_episode, tmp_path):
    env, log, descriptions = mujoco_episode
    path = tmp_path / "mujoco.mot"
    log.write_coordinates(path)
    table = opensim.TimeSeriesTable(str(path))
    model = opensim_model(env)
    coordinates = model.getCoordinateSet()
    assert list(table.getColumnLabels()) == [coordinates.get(i).getName() for i in range(coordinates.getSize())]
    assert table.getNumRows() == STEPS + 1
    assert table.getTableMetaDataAsString("inDegrees") == "yes"
    times = np.array(table.getIndependentColumn())
    assert np.allclose(times, 0.01 * np.arange(STEPS + 1), atol=1e-9)
    # Rotations in degrees, translations in metres, as OpenSim's motion types say.
    last = descriptions[-1]["joint_pos"]
    knee = table.getDependentColumn("knee_angle_r").to_numpy()
    assert knee[-1] == pytest.approx(np.degrees(last["knee_r"][0]), abs=1e-4)
    pelvis_ty = table.getDependentColumn("pelvis_ty").to_numpy()
    assert coordinates.get("pelvis_ty").getMotionType() == opensim.Coordinate.Translational
    assert pelvis_ty[-1] == pytest.approx(last["ground_pelvis"][4], abs=1e-6)
    storage = opensim.Storage(str(path))  # the GUI's reader
    assert storage.getSize() == STEPS + 1 and storage.isInDegrees()


def test_mujoco_states_file_rebuilds_opensim_states(mujoco_episode, tmp_path):
    env, log, descriptions = mujoco_episode
    path = tmp_path / "mujoco.sto"
    log.write_states(path)
    table = opensim.TimeSeriesTable(str(path))
    model = opensim_model(env)
    # Every column names a state variable of the OpenSim model.
    names = set(model.getStateVariableNames().get(i) for i in range(model.getNumStateVariables()))
    labels = list(table.getColumnLabels())
    assert labels and set(labels) <= names
    trajectory = opensim.StatesTrajectory.createFromStatesTable(model, table, True)
    assert trajectory.getSize() == STEPS + 1
    state = trajectory.get(STEPS)
    hip = model.getCoordinateSet().get("hip_flexion_r")
    assert hip.getValue(state) == pytest.approx(descriptions[-1]["joint_pos"]["hip_r"][0], abs=1e-9)


# -- rendering -----------------------------------------------------------------------------------

def figure_pixels(frame: np.ndarray) -> np.ndarray:
    """Where the drawn body is: the renderer's body colours are warm (red well above blue), the sky,
    ground, grid and field arrows are not."""
    red, blue = frame[..., 0].astype(int), frame[..., 2].astype(int)
    return red - blue > 28


def test_rgb_array_of_a_mujoco_episode_shows_the_body_moving():
    env = L2M2019Env(visualize=False, engine="mujoco", difficulty=0, render_mode="rgb_array")
    env.reset()
    first = env.render()
    assert first.shape == (360, 480, 3) and first.dtype == np.uint8
    body = figure_pixels(first)
    assert body.sum() > 2000  # a standing figure, not an empty scene
    rows = np.flatnonzero(body.any(axis=1))
    assert rows[-1] - rows[0] > 150  # head to feet
    for _ in range(40):
        env.step(np.zeros(22))  # no excitation: the model sags
    later = env.render()
    assert (figure_pixels(later) != body).sum() > 200
    env.close()


def test_generic_environment_renders_on_mujoco():
    from osim.env.environment import Environment
    from osim.env.l2run import L2RunTask

    env = Environment(L2RunTask(), engine="mujoco", render_mode="rgb_array")
    env.reset_episode()
    env.advance(np.full(18, 0.2))
    frame = env.render()
    assert frame.shape == (360, 480, 3)
    assert figure_pixels(frame).sum() > 2000
    env.close()


def test_gif_of_a_mujoco_episode(tmp_path):
    from PIL import Image

    from osim.render import Renderer
    from osim.render.record import VideoRecorder

    env = L2M2019Env(visualize=False, engine="mujoco", difficulty=0)
    env.reset()
    renderer = Renderer(env, camera="three_quarter", width=160, height=120)
    path = tmp_path / "mujoco.gif"
    with VideoRecorder(gif=path, fps=100) as recorder:
        for _ in range(6):
            env.step(np.full(22, 0.5))
            recorder.add(renderer.render())
    with Image.open(path) as gif:
        assert gif.size == (160, 120) and gif.n_frames == 6
    env.close()


# -- osim run --engine -----------------------------------------------------------------------------

def test_osim_run_engine_mujoco_writes_a_gif_and_a_motion(tmp_path, capsys):
    from PIL import Image

    from osim.cli import main

    gif, mot = tmp_path / "walk.gif", tmp_path / "walk.mot"
    arguments = ["run", "L2M2019Env", "--engine", "mujoco", "--steps", "8", "--width", "96", "--height", "72",
                 "--gif", str(gif), "--mot", str(mot), "--kwarg", "difficulty=0", "--quiet"]
    assert main(arguments) == 0
    with Image.open(gif) as image:
        assert image.n_frames == 8
    table = opensim.TimeSeriesTable(str(mot))
    assert table.getNumRows() == 9 and "knee_angle_r" in list(table.getColumnLabels())


def test_osim_run_engine_is_in_the_help_and_checked(capsys):
    from osim.cli import main

    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert "--engine {mujoco,opensim}" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["run", "L2RunEnv", "--engine", "bullet"])
    assert "invalid choice: 'bullet'" in capsys.readouterr().err
    assert main(["run", "L2RunEnv", "--engine", "mujoco", "--kwarg", "engine=opensim", "--quiet"]) == 2
    assert "disagree" in capsys.readouterr().err


def test_osim_run_says_which_env_refuses_the_engine(capsys):
    from osim.cli import main

    assert main(["run", "Arm2DEnv", "--engine", "mujoco", "--steps", "2", "--quiet"]) == 2
    error = capsys.readouterr().err
    assert "cannot build Arm2DEnv" in error and "engine='opensim'" in error
