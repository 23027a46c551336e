"""Everything around an episode on engine="mujoco": .sto/.mot export read back by real OpenSim,
rendering and recording, ``osim run --engine`` and the grader's engine."""
from __future__ import annotations

import math

import numpy as np
import opensim
import pytest
from episodes import record_episode

from osim.engine.registry import create_engine
from osim.env import L2M2019Env
from osim.models import model_path
from osim.motion import engine_of

STEPS = 20


@pytest.fixture(scope="module")
def mujoco_episode():
    """A short L2M2019Env episode on MuJoCo, logged, with each step's state description kept."""
    env = L2M2019Env(visualize=False, engine="mujoco", difficulty=0)
    rng = np.random.default_rng(5)
    log, descriptions = record_episode(env, (rng.uniform(0, 1, 22) for _ in range(STEPS)))
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


def test_gymnasium_rgb_array_on_mujoco():
    import gymnasium

    import osim  # noqa: F401 - registers the ids

    env = gymnasium.make("osim/L2M2019-v0", engine="mujoco", render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (360, 480, 3) and figure_pixels(frame).sum() > 2000
    env.close()


def test_human_render_mode_is_refused_on_mujoco():
    with pytest.raises(ValueError, match="render_mode='rgb_array'"):
        L2M2019Env(visualize=False, engine="mujoco", render_mode="human")


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

    # OpenSim's own window is OpenSim's: an env asked for it on MuJoCo says so and how to get one.
    assert main(["run", "osim/L2Run-v0", "--engine", "mujoco", "--kwarg", "render_mode=human", "--steps", "2",
                 "--quiet"]) == 2
    error = capsys.readouterr().err
    assert "cannot build osim/L2Run-v0" in error and "engine='opensim'" in error
    assert main(["run", "RunEnv", "--engine", "mujoco", "--steps", "2", "--quiet"]) == 0  # the obstacles run


# -- the grader on MuJoCo --------------------------------------------------------------------------

#: The submissions table as graders stored it before the engine was recorded.
OLD_SCHEMA = """
CREATE TABLE tokens (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, token_hash TEXT NOT NULL UNIQUE,
    created_at DOUBLE PRECISION NOT NULL, revoked_at DOUBLE PRECISION);
CREATE TABLE submissions (id INTEGER PRIMARY KEY, instance_id TEXT NOT NULL UNIQUE,
    token_id INTEGER NOT NULL REFERENCES tokens(id), env_id TEXT NOT NULL, seeds TEXT NOT NULL,
    simulation_count INTEGER NOT NULL, max_steps INTEGER NOT NULL, client_version TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'unfinished')), reason TEXT,
    total_reward DOUBLE PRECISION, created_at DOUBLE PRECISION NOT NULL, ended_at DOUBLE PRECISION);
CREATE TABLE simulations (submission_id INTEGER NOT NULL REFERENCES submissions(id), idx INTEGER NOT NULL,
    seed INTEGER NOT NULL, reward DOUBLE PRECISION NOT NULL, steps INTEGER NOT NULL,
    seconds DOUBLE PRECISION NOT NULL, ended_by TEXT NOT NULL, PRIMARY KEY (submission_id, idx));
INSERT INTO tokens VALUES (1, 'veteran', 'not-a-real-hash', 1.0, NULL);
INSERT INTO submissions VALUES (1, 'old-instance', 1, 'L2RunEnv', '[3, 7]', 2, 6, '3.0', 'finished', NULL,
    1.5, 2.0, 3.0);
INSERT INTO simulations VALUES (1, 0, 3, 0.75, 6, 0.1, 'max_steps'), (1, 1, 7, 0.75, 6, 0.1, 'max_steps');
"""
GRADER_SEEDS = (3, 7)
GRADER_STEPS = 6


def old_database(path) -> None:
    import sqlite3

    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA)


def test_an_old_database_is_migrated_without_losing_rows(tmp_path):
    from osim.http.store import Store

    path = tmp_path / "old.sqlite3"
    old_database(path)
    store = Store(path)
    try:
        (old,) = store.submissions()
        assert old["engine"] == "opensim" and old["total_reward"] == 1.5 and len(old["simulations"]) == 2
        assert store.leaderboard("L2RunEnv")[0]["participant"] == "veteran"
        assert store.leaderboard("L2RunEnv", "mujoco") == []
        token = store.create_token("newcomer")
        record = store.authenticate(token)
        assert record is not None
        new = store.start_submission("new-instance", record.id, "L2RunEnv", [3], 6, None, "mujoco")
        store.finish_submission(new, 9.0)
        assert store.engines("L2RunEnv") == ["mujoco", "opensim"]
        assert [e["participant"] for e in store.leaderboard("L2RunEnv", "mujoco")] == ["newcomer"]
        assert [e["participant"] for e in store.leaderboard("L2RunEnv", "opensim")] == ["veteran"]
    finally:
        store.close()
    again = Store(path)  # opening a migrated database again changes nothing
    try:
        assert [s["engine"] for s in again.submissions()] == ["mujoco", "opensim"]
    finally:
        again.close()


def test_grader_config_checks_the_engine():
    from osim.http.grading import GraderConfig

    assert GraderConfig(engine="mujoco").engine == "mujoco"
    with pytest.raises(ValueError, match="engine must be one of"):
        GraderConfig(engine="bullet")
    with pytest.raises(ValueError, match="osim serve --engine"):
        GraderConfig(env_kwargs={"engine": "mujoco"})


def test_cli_engine_names_are_the_registrys():
    from osim.cli.run import DEFAULT_ENGINE_NAME, ENGINE_CHOICES
    from osim.engine.registry import DEFAULT_ENGINE, ENGINES

    assert tuple(sorted(ENGINES)) == ENGINE_CHOICES
    assert DEFAULT_ENGINE == DEFAULT_ENGINE_NAME


class SeededPolicy:
    """Random excitations from a fixed seed: the same sequence on the server and in a replay."""

    def __init__(self, seed: int, size: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.size = size

    def __call__(self, observation) -> list[float]:
        return self.rng.random(self.size).tolist()


def test_a_mujoco_grader_scores_on_mujoco_and_says_so(tmp_path):
    import requests

    from osim.http.client import Client, ServerError, run_submission
    from osim.http.testing import GraderProcess, replay_locally

    db = tmp_path / "grader.sqlite3"
    old_database(db)  # a grader upgraded in place keeps its OpenSim scores
    arguments = ["--engine", "mujoco", "--env", "L2RunEnv", "--env", "RunEnv",
                 "--seeds", ",".join(map(str, GRADER_SEEDS)), "--max-steps", str(GRADER_STEPS)]
    with GraderProcess(db, arguments) as grader:
        assert requests.get(grader.url + "/health", timeout=30).json()["engine"] == "mujoco"
        client = Client(grader.url)
        total = run_submission(client, grader.create_token("alice"), "L2RunEnv", SeededPolicy(4, 18))
        on_mujoco = replay_locally("L2RunEnv", GRADER_SEEDS, GRADER_STEPS, SeededPolicy(4, 18),
                                   env_kwargs={"engine": "mujoco"})
        on_opensim = replay_locally("L2RunEnv", GRADER_SEEDS, GRADER_STEPS, SeededPolicy(4, 18))
        assert total == pytest.approx(sum(on_mujoco), rel=1e-12, abs=1e-15)
        assert abs(sum(on_mujoco) - sum(on_opensim)) > 1e-9  # the engines differ: the score is MuJoCo's
        result = client.last_submission
        assert result["engine"] == "mujoco"
        recorded = requests.get(f"{grader.url}/v1/submissions/{result['submission_id']}", timeout=30).json()
        assert recorded["engine"] == "mujoco" and recorded["status"] == "finished"
        board = requests.get(grader.url + "/leaderboard.json", params={"env_id": "L2RunEnv"}, timeout=30).json()
        assert board["engine"] == "mujoco" and board["engines"] == ["mujoco", "opensim"]
        assert [(e["participant"], e["engine"]) for e in board["entries"]] == [("alice", "mujoco")]
        old = requests.get(grader.url + "/leaderboard.json", params={"env_id": "L2RunEnv", "engine": "opensim"},
                           timeout=30).json()
        assert [(e["participant"], e["engine"], e["total_reward"]) for e in old["entries"]] == [
            ("veteran", "opensim", 1.5)]
        listed = requests.get(grader.url + "/v1/submissions", params={"engine": "opensim"}, timeout=30).json()
        assert [item["participant"] for item in listed] == ["veteran"]
        # RunEnv (its obstacles included) runs on the grader's engine too.
        runner = Client(grader.url)
        first = runner.env_create(grader.create_token("bob"), "RunEnv", exit_on_error=False)
        observation, reward, done, _ = runner.env_step([0.5] * 18)
        assert len(first) == len(observation) == 41 and math.isfinite(reward) and done is False
        # Bad input is refused with the reason, as on OpenSim.
        with pytest.raises(ServerError) as refused:
            runner.env_step([0.5] * 17)
        assert refused.value.status_code == 400 and "18" in str(refused.value)


def test_mujoco_muscles_are_drawn_along_their_tendons_ending_where_opensims_do():
    """Each muscle's drawn path is MuJoCo's tendon path; its origin and insertion, where they are
    plain path points (mapped exactly; moving points become fitted sites), are where OpenSim's are."""
    from osim.engine.geometry import BodyGeometry
    from osim.engine.simulation import Simulation
    from osim.render.structure_geometry import StructureGeometry

    model = model_path("gait9dof18musc")
    opensim_engine = Simulation(model)
    mujoco_engine = create_engine("mujoco", model)
    pose = {"hip_flexion_r": 0.6, "knee_angle_r": -0.9, "ankle_angle_l": 0.2}
    for engine in (opensim_engine, mujoco_engine):
        engine.reset()
        engine.set_pose(q=pose)
    reference = BodyGeometry(opensim_engine).compute()
    scene = StructureGeometry(mujoco_engine).compute()
    assert scene.muscle_names == reference.muscle_names
    assert len(scene.muscle_paths) == len(scene.muscle_names) == len(scene.activations)
    compared = 0
    for name, path, expected in zip(scene.muscle_names, scene.muscle_paths, reference.muscle_paths):
        assert path.ndim == 2 and path.shape[1] == 3 and len(path) >= 2, name
        points = opensim_engine.get_muscle(name).getGeometryPath().getPathPointSet()
        for end, index in ((0, 0), (-1, points.getSize() - 1)):
            if points.get(index).getConcreteClassName() == "PathPoint":
                np.testing.assert_allclose(path[end], expected[end], atol=2e-3, err_msg=name)
                compared += 1
    assert compared >= 30  # 18 muscles: all origins, most insertions
    # The paths follow the state: flexing the knee moves the hamstrings' insertion.
    before = scene.muscle_paths[scene.muscle_names.index("hamstrings_r")][-1].copy()
    mujoco_engine.set_pose(q={"knee_angle_r": -0.2})
    after = StructureGeometry(mujoco_engine).compute().muscle_paths[scene.muscle_names.index("hamstrings_r")][-1]
    assert np.linalg.norm(after - before) > 0.02
