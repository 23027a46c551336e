"""Episodes collected by Ray actors on a local Ray instance (started once for the module), compared
bitwise with single-process replays; a stable-baselines3 agent on the actors; a short RLlib PPO run;
examples/ray_rollouts.py."""
from __future__ import annotations

import importlib.util
import io
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import ray  # the CI installs ray[rllib]: a missing Ray fails these tests rather than skipping them

from osim.train import agents
from osim.train.envs import make_env
from osim.train.ray_rollouts import collect_episodes, train_rllib_ppo
from osim.train.rollouts import EpisodeRequest, collect_locally, replay_episode

REPO_ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow  # a Ray instance, workers importing torch, an RLlib run: about 60 s
ENV_ID = "osim/L2Run-v0"


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


def test_ray_episodes_replay_bitwise_in_one_process() -> None:
    requests = [EpisodeRequest(seed, 30, action_seed=100 + seed) for seed in range(4)]
    episodes = collect_episodes(ENV_ID, requests, num_workers=2)

    assert [episode.seed for episode in episodes] == [0, 1, 2, 3]
    assert all(episode.steps == 30 and episode.actions.shape == (30, 18) for episode in episodes)
    # Different random actions, different episodes: equality below is not equality of constants.
    assert len({episode.total_reward for episode in episodes}) == 4
    env = make_env(ENV_ID)
    try:
        for episode in episodes:
            replayed = replay_episode(env, episode.seed, episode.actions)
            assert replayed.rewards.tobytes() == episode.rewards.tobytes()
            assert (replayed.terminated, replayed.truncated) == (episode.terminated, episode.truncated)
    finally:
        env.close()
    # The same requests in one process draw the same actions and get the same rewards.
    local = collect_locally(ENV_ID, requests)
    for remote_episode, local_episode in zip(episodes, local):
        np.testing.assert_array_equal(remote_episode.actions, local_episode.actions)
        assert remote_episode.rewards.tobytes() == local_episode.rewards.tobytes()


def test_agent_sent_to_the_actors_acts_as_in_one_process() -> None:
    env = make_env(ENV_ID)
    try:
        model = agents.build_model("ppo", env, total_steps=64, seed=5)
    finally:
        env.close()
    buffer = io.BytesIO()
    model.save(buffer)
    requests = [EpisodeRequest(seed, 15) for seed in (3, 4)]
    episodes = collect_episodes(ENV_ID, requests, num_workers=2, algo="ppo", model_bytes=buffer.getvalue())
    local = collect_locally(ENV_ID, requests, policy=agents.model_policy(model))
    for remote_episode, local_episode in zip(episodes, local):
        np.testing.assert_array_equal(remote_episode.actions, local_episode.actions)
        assert remote_episode.rewards.tobytes() == local_episode.rewards.tobytes()
    with pytest.raises(ValueError, match="give both algo and model_bytes"):
        collect_episodes(ENV_ID, requests, algo="ppo")


def test_rllib_ppo_runs_two_iterations() -> None:
    history = train_rllib_ppo(ENV_ID, iterations=2, train_batch_size=100, minibatch_size=50,
                              env_kwargs={"max_episode_steps": 40})
    assert len(history) == 2
    assert history[0]["env_steps"] >= 100 and history[1]["env_steps"] >= history[0]["env_steps"] + 100
    # Episodes of at most 40 steps ended in the first 100: RLlib saw their returns.
    assert all(np.isfinite(row["episode_return_mean"]) for row in history)


def test_script_compares_ray_with_one_process(capsys: pytest.CaptureFixture) -> None:
    script_path = REPO_ROOT / "examples" / "ray_rollouts.py"
    spec = importlib.util.spec_from_file_location("osim_ray_rollouts_script", script_path)
    script = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = script
    spec.loader.exec_module(script)
    code = script.main(["collect", "--env", ENV_ID, "--episodes", "2", "--max-steps", "10", "--workers", "2",
                        "--compare"])
    output = capsys.readouterr().out
    assert code == 0, output
    assert re.search(r"Ray \(2 actors\): 2 episodes, 20 steps in \S+ s = \S+ steps/s", output), output
    assert re.search(r"One process: 2 episodes, 20 steps", output), output
    assert "rewards bitwise equal: yes" in output
    assert ray.is_initialized()  # the script used the running instance and left it running


def test_walking_episodes_on_ray_actors_equal_those_in_one_process() -> None:
    """The DAgger recipe's episodes (osim.train.walking) on Ray actors: the same as in this process."""
    from osim.control import reflex_parameters
    from osim.train.walking import EpisodeRunner, Exploration, WalkTask

    task = WalkTask(engine="mujoco", max_steps=80)
    params = reflex_parameters("2D", "mujoco")
    jobs = [(None, params, Exploration(1.0, 0.02, 0.02, seed=seed)) for seed in range(3)]
    on_ray = EpisodeRunner(task, workers=2, backend="ray")
    local = EpisodeRunner(task, workers=1)
    try:
        for remote, here in zip(on_ray.run(jobs), local.run(jobs)):
            np.testing.assert_array_equal(remote.observations, here.observations)
            np.testing.assert_array_equal(remote.teacher_actions, here.teacher_actions)
    finally:
        on_ray.close()
        local.close()
    with pytest.raises(ValueError, match="backend must be one of"):
        EpisodeRunner(task, backend="dask")
