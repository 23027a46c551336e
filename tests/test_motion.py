"""Episode export: .sto states and .mot coordinates read back by OpenSim's own readers; the plot."""
from __future__ import annotations

import math

import numpy as np
import opensim
import pytest
from episodes import record_episode

from osim.env import L2RunEnv
from osim.motion import EpisodeLog
from osim.plot import plot_episode

STEPS = 15


@pytest.fixture(scope="module")
def episode():
    """A short random L2RunEnv episode, logged, with the state descriptions kept independently."""
    env = L2RunEnv(visualize=False)
    rng = np.random.RandomState(3)
    log, descriptions = record_episode(env, (rng.uniform(0, 1, 18) for _ in range(STEPS)))
    return env, log, descriptions


def test_states_file_reads_back_with_opensim_and_rebuilds_the_states(episode, tmp_path):
    env, log, descriptions = episode
    path = tmp_path / "episode.sto"
    log.write_states(path)
    table = opensim.TimeSeriesTable(str(path))
    assert table.getNumRows() == STEPS + 1
    assert table.getTableMetaDataAsString("inDegrees") == "no"
    times = np.array(table.getIndependentColumn())
    np.testing.assert_allclose(times, 0.01 * np.arange(STEPS + 1), atol=1e-12)
    model = env.osim_model.model
    names = model.getStateVariableNames()
    assert list(table.getColumnLabels()) == [names.get(i) for i in range(names.getSize())]
    # OpenSim turns the table back into states; their coordinates are the episode's joint angles.
    trajectory = opensim.StatesTrajectory.createFromStatesTable(model, table)
    assert trajectory.getSize() == STEPS + 1
    knee = env.osim_model.get_coordinate("knee_angle_r")
    activation_path = "/forceset/vasti_r/activation"
    for k in (0, 7, STEPS):
        state = trajectory.get(k)
        assert knee.getValue(state) == pytest.approx(descriptions[k]["joint_pos"]["knee_r"][0], abs=1e-9)
        assert model.getStateVariableValue(state, activation_path) == pytest.approx(
            descriptions[k]["muscles"]["vasti_r"]["activation"], abs=1e-9)


def test_motion_file_is_in_degrees_and_loads_as_storage(episode, tmp_path):
    _, log, descriptions = episode
    path = tmp_path / "episode.mot"
    log.write_coordinates(path)
    storage = opensim.Storage(str(path))
    assert storage.isInDegrees()
    assert storage.getSize() == STEPS + 1
    labels = storage.getColumnLabels()
    assert [labels.get(i) for i in range(labels.getSize())][:4] == [
        "time", "pelvis_tilt", "pelvis_tx", "pelvis_ty"]
    knee = opensim.ArrayDouble()
    storage.getDataColumn("knee_angle_l", knee)
    pelvis_tx = opensim.ArrayDouble()
    storage.getDataColumn("pelvis_tx", pelvis_tx)
    for k in range(STEPS + 1):
        assert knee.get(k) == pytest.approx(math.degrees(descriptions[k]["joint_pos"]["knee_l"][0]), abs=1e-7)
        # Translations stay in metres.
        assert pelvis_tx.get(k) == pytest.approx(descriptions[k]["joint_pos"]["ground_pelvis"][1], abs=1e-9)
    # The same file through the newer reader.
    table = opensim.TimeSeriesTable(str(path))
    assert table.getTableMetaDataAsString("inDegrees") == "yes"
    assert table.getNumColumns() == len(log.coordinate_names)


def test_activations_and_rewards_are_the_episodes(episode):
    _, log, descriptions = episode
    column = log.muscle_names.index("glut_max_l")
    expected = [d["muscles"]["glut_max_l"]["activation"] for d in descriptions]
    np.testing.assert_allclose(log.activations[:, column], expected, atol=1e-12)
    assert math.isnan(log.rewards[0]) and all(math.isfinite(r) for r in log.rewards[1:])
    forward = [terms["forward"] for terms in log.reward_terms[1:]]
    np.testing.assert_allclose(forward, log.rewards[1:])


def test_plot_of_an_episode(episode, tmp_path):
    from PIL import Image

    _, log, _ = episode
    path = tmp_path / "episode.png"
    plot_episode(log, path, title="test")
    image = np.asarray(Image.open(path).convert("RGB"))
    assert image.shape[0] > 400 and image.shape[1] > 400
    # The activation heat map uses the coolwarm colours: both blue-ish and red-ish pixels appear.
    pixels = image.reshape(-1, 3).astype(int)
    assert ((pixels[:, 2] - pixels[:, 0]) > 80).sum() > 100
    assert ((pixels[:, 0] - pixels[:, 2]) > 80).sum() > 100


def test_empty_log_is_refused(tmp_path):
    env = L2RunEnv(visualize=False)
    env.reset()
    log = EpisodeLog(env)
    with pytest.raises(ValueError, match="empty"):
        log.write_states(tmp_path / "x.sto")
    with pytest.raises(ValueError, match="empty"):
        plot_episode(log, tmp_path / "x.png")
