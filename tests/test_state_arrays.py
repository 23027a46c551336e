"""The array path (engine.state_arrays, array-based tasks) gives what the state description gives, on both engines.

The 2019 and 2018 tasks compute their observations, rewards and termination from the engine's
:class:`~osim.engine.StateArrays`; the state-description dictionary is built only when asked for.
Here the arrays are checked against the description of the same state, the tasks' observations
against the original's computation from the description (written out below), and the description
of the state before a step, built after the step, against the one built before it.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from osim import env as envs

ENGINES = ["opensim", "mujoco"]
STEPS = {"opensim": 4, "mujoco": 30}


def make(name: str, engine: str):
    if name == "L2M2019Env":
        return envs.L2M2019Env(visualize=False, engine=engine, difficulty=3, seed=1)
    return envs.L2RunEnv(visualize=False, engine=engine)


def actions(env, steps: int) -> np.ndarray:
    return np.random.default_rng(2).uniform(0, 0.5, (steps, env.action_space.shape[0]))


def assert_arrays_match_description(engine) -> None:
    arrays, description = engine.state_arrays(), engine.state_description()
    structure = engine.structure
    for joint in structure.joints:
        for k, name in enumerate(joint.coordinates):
            column = [c.name for c in structure.coordinates].index(name)
            assert arrays.q[column] == description["joint_pos"][joint.name][k]
            assert arrays.qd[column] == description["joint_vel"][joint.name][k]
    for k, body in enumerate(structure.bodies):
        assert arrays.body_pos[k].tolist() == description["body_pos"][body.name]
        assert arrays.body_vel[k].tolist() == description["body_vel"][body.name]
    assert arrays.mass_center_pos.tolist() == description["misc"]["mass_center_pos"]
    assert arrays.mass_center_vel.tolist() == description["misc"]["mass_center_vel"]
    for k, muscle in enumerate(structure.muscles):
        values = description["muscles"][muscle.name]
        assert [arrays.activation[k], arrays.fiber_length[k], arrays.fiber_velocity[k], arrays.fiber_force[k]] == [
            values["activation"], values["fiber_length"], values["fiber_velocity"], values["fiber_force"]]
    for name, record in description["forces"].items():
        assert arrays.force(name).tolist() == record
        # the feet's force on the ground: computed by the task's step before the description was
        assert arrays.ground_force(name).tolist() == record[:3]


def l2m2019_observation_from_description(env, d) -> list[float]:
    """The original 3.0.11 ``get_observation`` from the state description (the reference)."""
    task = env.task
    body_weight = task.MASS * task.G
    pelvis_vel = d["body_vel"]["pelvis"]
    gp, gpv = d["joint_pos"]["ground_pelvis"], d["joint_vel"]["ground_pelvis"]
    yaw = gp[2]
    cos, sin = math.cos(yaw), math.sin(yaw)
    dx, dy = cos * pelvis_vel[0] - sin * pelvis_vel[2], sin * pelvis_vel[0] + cos * pelvis_vel[2]
    res = np.asarray(d["v_tgt_field"]).ravel().tolist()
    res += [d["body_pos"]["pelvis"][1], -gp[0], gp[1], dx, -dy, pelvis_vel[1], -gpv[0], gpv[1], gpv[2]]
    names = {"HAB": "abd", "HAD": "add", "HFL": "iliopsoas", "GLU": "glut_max", "HAM": "hamstrings",
             "RF": "rect_fem", "VAS": "vasti", "BFSH": "bifemsh", "GAS": "gastroc", "SOL": "soleus", "TA": "tib_ant"}
    for leg, side in (("r_leg", "r"), ("l_leg", "l")):
        force = d["forces"][f"foot_{side}"]
        grf = [force[0] / body_weight, force[1] / body_weight, force[2] / body_weight]
        forward, right = cos * -grf[0] - sin * -grf[2], sin * -grf[0] + cos * -grf[2]
        res += [forward, right if side == "r" else -right, -grf[1]]
        pos, vel = d["joint_pos"], d["joint_vel"]
        for values in (pos, vel):
            hip, knee, ankle = values[f"hip_{side}"], values[f"knee_{side}"], values[f"ankle_{side}"]
            res += [-hip[1], -hip[0], knee[0], -ankle[0]]
        for MUS, mus in names.items():
            m = d["muscles"][f"{mus}_{side}"]
            fmax, lopt = task.Fmax[leg][MUS], task.lopt[leg][MUS]
            res += [m["fiber_force"] / fmax, m["fiber_length"] / lopt, m["fiber_velocity"] / lopt]
    return res


def l2run_observation_from_description(d) -> list[float]:
    """The original 2018 ``L2RunEnv.get_observation`` from the state description (the reference)."""
    res = list(d["joint_pos"]["ground_pelvis"]) + list(d["joint_vel"]["ground_pelvis"])
    for joint in ("hip_l", "hip_r", "knee_l", "knee_r", "ankle_l", "ankle_r"):
        res += d["joint_pos"][joint][:1] + d["joint_vel"][joint][:1]
    for body in ("head", "pelvis", "torso", "toes_l", "toes_r", "talus_l", "talus_r"):
        res += d["body_pos"][body][0:2]
    return res + d["misc"]["mass_center_pos"] + d["misc"]["mass_center_vel"] + [0.0] * 5


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", ["L2M2019Env", "L2RunEnv"])
def test_array_path_equals_the_description(name, engine):
    env = make(name, engine)
    vector = {"obs_as_dict": False} if name == "L2M2019Env" else {}
    observation = env.reset(**vector)
    for action in actions(env, STEPS[engine]):
        description = env.get_state_desc()
        assert_arrays_match_description(env.engine)
        if name == "L2M2019Env":
            assert observation == l2m2019_observation_from_description(env, description)
            as_dict = env.get_observation_dict()
            assert as_dict["pelvis"]["height"] == description["body_pos"]["pelvis"][1]
            assert as_dict["v_tgt_field"] is description["v_tgt_field"]
        else:
            assert observation == l2run_observation_from_description(description)
        observation, reward, done, _ = env.step(action, **vector)
        if name == "L2RunEnv":
            assert reward == (env.get_state_desc()["joint_pos"]["ground_pelvis"][1]
                              - env.get_prev_state_desc()["joint_pos"]["ground_pelvis"][1])
        assert done == (env.get_state_desc()["body_pos"]["pelvis"][1] < 0.6 or env.istep >= env.time_limit)
        if done:
            observation = env.reset(**vector)
    env.close()


def same(a, b) -> bool:
    """Equal descriptions (the 2019 one holds the target field, an array)."""
    if set(a) != set(b):
        return False
    field_a, field_b = a.get("v_tgt_field"), b.get("v_tgt_field")
    if field_a is not None and not np.array_equal(field_a, field_b):
        return False
    return {k: v for k, v in a.items() if k != "v_tgt_field"} == {k: v for k, v in b.items() if k != "v_tgt_field"}


@pytest.mark.parametrize("name", ["L2M2019Env", "L2RunEnv"])
def test_description_of_a_past_state_equals_the_one_made_while_it_was_current(name):
    """On MuJoCo the description of the state before a step is made after the step, only when asked for."""
    eager, lazy = make(name, "mujoco"), make(name, "mujoco")
    eager.reset()
    lazy.reset()
    for k, action in enumerate(actions(eager, 25)):
        before = eager.get_state_desc()  # made while current
        results = eager.step(action), lazy.step(action)
        assert results[0][1:3] == results[1][1:3]
        if k % 3 == 0:
            assert same(lazy.get_prev_state_desc(), before)  # made from the kept snapshot
            assert lazy.get_prev_state_desc() is lazy.get_prev_state_desc()
        if k % 4 == 0:
            assert same(lazy.get_state_desc(), eager.get_state_desc())
    assert eager.engine.state_vector().tolist() == lazy.engine.state_vector().tolist()


@pytest.mark.parametrize("read_forces", [False, True], ids=["arrays", "arrays and forces"])
@pytest.mark.parametrize("model", ["gait14dof22musc_20170320", "gait9dof18musc"])
def test_reading_the_state_does_not_change_the_trajectory(model, read_forces):
    """Reading a state runs MuJoCo's forward pass; the next step then skips the position and velocity
    stages it computed and, when the read needed contact forces (the acceleration stage), reuses that
    stage too. The trajectory is the same, bit for bit, as with full steps only."""
    from osim.engine.mujoco.engine import MujocoSimulation
    from osim.models import model_path

    read, unread = MujocoSimulation(model_path(model)), MujocoSimulation(model_path(model))
    contact = next(name for name in read.structure.forces if read._force_kinds[name][0] == "contact")
    excitations = np.random.default_rng(4).random((40, read.n_muscles))
    for k, values in enumerate(excitations):
        arrays = read.state_arrays()
        if read_forces and k % 5 != 4:  # some steps after a read without the forces
            arrays.ground_force(contact)
        read.step(values)
        unread.step(values)
        if k % 10 == 9:
            assert read.state_vector().tobytes() == unread.state_vector().tobytes()
    assert read.state_description() == unread.state_description()


@pytest.mark.parametrize("model", ["gait14dof22musc_20170320", "gait9dof18musc"])
def test_ground_forces_computed_alone_equal_the_force_records(model):
    """A foot's force on the ground asked for before anything else (the 2019 task's footstep
    detector, every step) is computed on its own path; it equals its record's first three values."""
    from osim.engine.mujoco.engine import MujocoSimulation
    from osim.models import model_path

    engine = MujocoSimulation(model_path(model))
    feet = [name for name in engine.structure.forces if engine._force_kinds[name][0] == "contact"]
    loaded = 0
    for values in np.random.default_rng(6).random((60, engine.n_muscles)) * 0.5:
        engine.step(values)
        arrays = engine.state_arrays()
        alone = [arrays.ground_force(name).copy() for name in feet]  # before the records exist
        for name, force in zip(feet, alone):
            assert force.tobytes() == arrays.force(name)[:3].tobytes()
            loaded += bool(force.any())
    assert loaded  # some steps had the feet on the ground


def test_muscle_arrays_read_late_equal_those_read_at_once():
    """On MuJoCo the muscle arrays are computed when first read: after the engine stepped on (from the
    kept snapshot), after a reset or new strengths (computed before the state is left) they equal
    the ones read while the state was current."""
    from osim.engine.mujoco.engine import MujocoSimulation
    from osim.models import model_path

    early, late = MujocoSimulation(model_path("gait9dof18musc")), MujocoSimulation(model_path("gait9dof18musc"))

    def muscles(arrays):
        return [arrays.activation.tobytes(), arrays.fiber_length.tobytes(), arrays.fiber_velocity.tobytes(),
                arrays.fiber_force.tobytes(), arrays.force(early.muscle_names[0]).tobytes()]

    for k, values in enumerate(np.random.default_rng(8).random((12, early.n_muscles))):
        early.step(values)
        late.step(values)
        read, kept = muscles(early.state_arrays()), late.state_arrays()
        for engine in (early, late):  # leave the state
            if k == 4:
                engine.set_strength(np.full(engine.n_muscles, 0.5))
            elif k == 8:
                engine.reset()
            else:
                engine.step(values)
        assert muscles(kept) == read
