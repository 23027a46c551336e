"""examples/example.py: short training runs of each algorithm on the real engine, saving, reloading,
evaluating, the original DDPG set-up, submitting to a real grader on loopback, bad input."""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from osim.train import agents
from osim.train.envs import make_env

REPO_ROOT = Path(__file__).resolve().parent.parent
ENV_ID = "osim/L2Run-v0"
TRAIN_STEPS = 200
EVAL_STEPS = 30  # evaluation episodes are cut here: the engine runs ~20-50 steps/s
SUMMARY = re.compile(r"Evaluation: (\d+) episodes, return (\S+) \+/- (\S+) \(mean \+/- std\), (\d+) steps")


def load_example():
    spec = importlib.util.spec_from_file_location("osim_example_script", REPO_ROOT / "examples" / "example.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


example = load_example()


def parse_summary(text: str) -> tuple[int, float, float, int]:
    match = SUMMARY.search(text)
    assert match, f"no evaluation summary in the output:\n{text}"
    return int(match[1]), float(match[2]), float(match[3]), int(match[4])


def common_args(model: Path, algo: str) -> list[str]:
    return ["--env", ENV_ID, "--algo", algo, "--model", str(model), "--seed", "7",
            "--max-episode-steps", str(EVAL_STEPS), "--no-progress"]


@pytest.mark.slow
@pytest.mark.parametrize("algo", agents.ALGORITHMS)
def test_train_save_reload_and_evaluate(algo: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    model_path = tmp_path / f"{algo}.zip"
    args = example.build_parser().parse_args(["--train", "--steps", str(TRAIN_STEPS), *common_args(model_path, algo)])
    trained = example.run(args)
    train_output = capsys.readouterr().out

    # It trained: the step budget was used and gradient updates happened.
    assert trained.model.num_timesteps >= TRAIN_STEPS
    assert trained.model._n_updates > 0
    assert model_path.is_file()
    episodes, mean, std, steps = parse_summary(train_output)
    assert (episodes, steps, std) == (1, EVAL_STEPS, 0.0)
    assert mean == pytest.approx(trained.summary.mean_return, abs=1e-4)

    # The saved agent acts exactly as the trained one.
    reloaded = agents.load_model(algo, model_path)
    observations = np.random.default_rng(0).normal(size=(16, *trained.model.observation_space.shape))
    expected = agents.predictions(trained.model, observations)
    assert expected.shape == (16, *trained.model.action_space.shape)
    np.testing.assert_array_equal(agents.predictions(reloaded, observations), expected)

    # --test reloads it and replays the same evaluation (deterministic policy, deterministic engine).
    assert example.main(["--test", *common_args(model_path, algo)]) == 0
    test_output = capsys.readouterr().out
    assert parse_summary(test_output) == (episodes, mean, std, steps)


def test_ddpg_is_set_up_as_in_the_original() -> None:
    import torch

    env = make_env(ENV_ID)
    try:
        model = agents.build_model("ddpg", env, total_steps=1000, seed=0)
    finally:
        env.close()
    n_obs, n_act = env.observation_space.shape[0], env.action_space.shape[0]

    def layers(module: torch.nn.Module) -> list[tuple[int, int]]:
        return [(m.in_features, m.out_features) for m in module.modules() if isinstance(m, torch.nn.Linear)]

    # Actor: 3 x 32 ReLU, an output squashed into the action bounds; critic on (obs, action): 3 x 64 ReLU.
    assert layers(model.actor.mu) == [(n_obs, 32), (32, 32), (32, 32), (32, n_act)]
    assert isinstance(list(model.actor.mu.modules())[-1], torch.nn.Tanh)
    assert sum(isinstance(m, torch.nn.ReLU) for m in model.actor.mu.modules()) == 3
    assert layers(model.critic.qf0) == [(n_obs + n_act, 64), (64, 64), (64, 64), (64, 1)]
    assert len(model.critic.q_networks) == 1  # DDPG: one critic, not TD3's two
    assert (model.gamma, model.tau, model.learning_rate, model.batch_size) == (0.99, 1e-3, 1e-3, 32)
    assert model.learning_starts == 100 and model.buffer_size == 100_000
    noise = model.action_noise
    assert noise._theta == 0.15
    # sigma .2 in excitation units ([0, 1]) is .4 on SB3's [-1, 1] scale.
    np.testing.assert_allclose(noise._sigma, np.full(n_act, 0.4))
    actions = agents.predictions(model, np.random.default_rng(1).normal(scale=10.0, size=(64, n_obs)))
    assert actions.min() >= 0.0 and actions.max() <= 1.0


def test_submit_with_token_scores_like_a_local_replay(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from osim.http.testing import GraderProcess, replay_locally

    env = make_env(ENV_ID)
    try:
        model = agents.build_model("sac", env, total_steps=1, seed=3)  # untrained is enough to submit
    finally:
        env.close()
    model_path = tmp_path / "submitted.zip"
    model.save(model_path)
    seeds, max_steps = [1, 2], 15
    arguments = ["--env", ENV_ID, "--seeds", ",".join(map(str, seeds)), "--max-steps", str(max_steps)]
    with GraderProcess(tmp_path / "grader.sqlite", arguments) as grader:
        token = grader.create_token("example")
        args = example.build_parser().parse_args([
            "--test", "--env", ENV_ID, "--algo", "sac", "--model", str(model_path),
            "--token", token, "--remote", grader.url, "--no-progress"])
        result = example.run(args)
    output = capsys.readouterr().out
    match = re.search(r"Your total reward from this submission: (\S+)", output)
    assert match, output
    expected = replay_locally(ENV_ID, seeds, max_steps, agents.model_policy(model))
    assert result.submitted_total == sum(expected)
    assert float(match[1]) == pytest.approx(sum(expected), abs=1e-6)
    assert sum(expected) != 0.0  # the agent moved the model: the comparison means something


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--steps", "0"], "--steps must be a positive"),
        (["--test", "--episodes", "0"], "--episodes must be at least 1"),
        (["--train", "--token", "abc"], "use it with --test"),
        (["--algo", "a2c"], "invalid choice"),
    ],
)
def test_bad_arguments_are_rejected(argv: list[str], message: str, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        example.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_missing_model_and_unknown_env_say_what_was_expected(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    missing = tmp_path / "none.zip"
    assert example.main(["--test", "--env", ENV_ID, "--model", str(missing), "--no-progress"]) == 2
    assert f"no saved model at {missing}" in capsys.readouterr().err
    assert example.main(["--test", "--env", "osim/Nothing-v0", "--model", str(missing)]) == 2
    error = capsys.readouterr().err
    assert "unknown environment id 'osim/Nothing-v0'" in error and ENV_ID in error


def test_visualize_without_a_display_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert example.main(["--test", "--visualize", "--env", ENV_ID, "--model", str(tmp_path / "m.zip")]) == 2
    assert "needs a display" in capsys.readouterr().err
