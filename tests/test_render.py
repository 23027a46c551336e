"""Headless rendering: real OpenSim states, real pixels.

Positions used to look at the image come from OpenSim (joint centres, markers, muscle paths), and are
projected with the renderer's camera; the checks are about what the pixels there show.
"""
from __future__ import annotations

import itertools

import numpy as np
import opensim
import pytest

from osim.engine import Simulation
from osim.engine.geometry import BodyGeometry, rotation_from_body_fixed_xyz
from osim.env import L2RunEnv
from osim.env.base import OsimEnv
from osim.models import model_path
from osim.render import Renderer, colors


def _arm(elbow: float = 0.0) -> Simulation:
    sim = Simulation(model_path("arm2dof6musc"))

    def pose(state: opensim.State) -> None:
        sim.get_coordinate("r_elbow_flex").setValue(state, elbow)

    sim.reset(adjust_state=pose)
    return sim


def _pixel(renderer: Renderer, point) -> tuple[int, int]:
    camera = renderer._camera
    (u, v), = camera.project(camera.to_camera(np.asarray(point, dtype=float))[None, :])
    return round(u), round(v)


def _is_background(renderer: Renderer, image: np.ndarray, u: int, v: int) -> bool:
    """True when the 5x5 patch at (u, v) shows only sky, ground or grid."""
    background = np.asarray(renderer._background, dtype=int)[v - 2:v + 3, u - 2:u + 3]
    patch = image[v - 2:v + 3, u - 2:u + 3].astype(int)
    plain = np.abs(patch - background).max(axis=2) <= 3
    grid = np.abs(patch - np.array(colors.GRID)).max(axis=2) <= 3
    return bool((plain | grid).all())


def _forearm_midpoint(sim: Simulation) -> np.ndarray:
    """Half-way from the elbow (the forearm body's origin) to the wrist marker, from OpenSim."""
    description = sim.state_description()
    elbow = np.array(description["body_pos"]["r_ulna_radius_hand"])
    wrist = np.array(description["markers"]["r_radius_styloid"]["pos"])
    return (elbow + wrist) / 2


def test_frame_from_env_render_is_an_rgb_image_with_the_body():
    env = L2RunEnv(visualize=False, render_mode="rgb_array")
    env.reset()
    env.step(np.full(18, 0.5))
    frame = env.render()
    assert frame.shape == (360, 480, 3) and frame.dtype == np.uint8
    renderer = env._renderer
    background = np.asarray(renderer._background)
    changed = np.abs(frame.astype(int) - background).max(axis=2) > 10
    assert changed.mean() > 0.05  # the body and the grid cover a good part of the picture
    # The pelvis, seen from the side, is drawn (not background).
    u, v = _pixel(renderer, env.get_state_desc()["body_pos"]["pelvis"])
    assert not _is_background(renderer, frame, u, v)
    # Muscles (activation ~0.5 after one step at 0.5: between blue and red) are drawn somewhere.
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 30


def test_flexed_elbow_moves_the_forearm_in_the_image():
    extended_sim, flexed_sim = _arm(0.0), _arm(2.0)
    extended, flexed = Renderer(extended_sim), Renderer(flexed_sim)
    image_extended, image_flexed = extended.render(), flexed.render()
    # Both renderers frame the same fixed-base model identically.
    np.testing.assert_allclose(extended._camera.eye, flexed._camera.eye)
    straight = _pixel(extended, _forearm_midpoint(extended_sim))
    bent = _pixel(flexed, _forearm_midpoint(flexed_sim))
    assert np.hypot(straight[0] - bent[0], straight[1] - bent[1]) > 20
    assert not _is_background(extended, image_extended, *straight)
    assert _is_background(flexed, image_flexed, *straight)
    assert not _is_background(flexed, image_flexed, *bent)
    assert _is_background(extended, image_extended, *bent)


def _muscle_window(sim: Simulation, renderer: Renderer, image: np.ndarray, name: str) -> np.ndarray:
    """Pixels around the middle of ``name``'s current path, as OpenSim reports it."""
    path = sim.get_muscle(name).getGeometryPath().getCurrentPath(sim.state)
    points = [np.array(path.get(k).getLocationInGround(sim.state).to_numpy()) for k in range(path.getSize())]
    lengths = np.cumsum([0.0] + [np.linalg.norm(b - a) for a, b in itertools.pairwise(points)])
    k = int(np.searchsorted(lengths, lengths[-1] / 2)) - 1
    t = (lengths[-1] / 2 - lengths[k]) / (lengths[k + 1] - lengths[k])
    u, v = _pixel(renderer, points[k] + t * (points[k + 1] - points[k]))
    return image[v - 3:v + 4, u - 3:u + 4].reshape(-1, 3).astype(int)


def _red(pixels: np.ndarray) -> np.ndarray:
    return (pixels[:, 0] > 200) & (pixels[:, 1] < 80) & (pixels[:, 2] < 80)


def _blue(pixels: np.ndarray) -> np.ndarray:
    return (pixels[:, 2] > 200) & (pixels[:, 0] < 80) & (pixels[:, 1] < 100)


def test_fully_excited_muscle_is_red_and_a_relaxed_one_blue():
    sim = _arm(0.5)
    excitations = np.zeros(sim.n_muscles)
    excitations[sim.muscle_names.index("TRIlong")] = 1.0
    sim.actuate(excitations)
    for _ in range(30):
        sim.integrate()
    activation = sim.state_description()["muscles"]
    assert activation["TRIlong"]["activation"] > 0.95 and activation["BIClong"]["activation"] < 0.05
    renderer = Renderer(sim)
    image = renderer.render()
    assert _red(_muscle_window(sim, renderer, image, "TRIlong")).any()
    biceps = _muscle_window(sim, renderer, image, "BIClong")
    assert _blue(biceps).any() and not _red(biceps).any()


def test_three_quarter_view_differs_and_bad_arguments_are_refused():
    sim = _arm(1.0)
    side = Renderer(sim, camera="side").render()
    three_quarter = Renderer(sim, camera="three_quarter", width=320, height=240).render()
    assert three_quarter.shape == (240, 320, 3)
    assert np.abs(side[:240, :320].astype(int) - three_quarter).mean() > 1
    with pytest.raises(ValueError, match="camera must be one of"):
        Renderer(sim, camera="top")
    with pytest.raises(TypeError, match="osim environment"):
        Renderer(object())


def test_body_rotation_matches_opensim():
    sim = Simulation(model_path("gait14dof22musc_20170320"))

    def pose(state: opensim.State) -> None:
        for name, value in (("pelvis_rotation", 0.7), ("pelvis_list", -0.3), ("hip_flexion_r", 0.9),
                            ("hip_rotation_r", 0.4), ("knee_angle_r", -1.1)):
            sim.get_coordinate(name).setValue(state, value)

    sim.reset(adjust_state=pose)
    description = sim.state_description()
    station = opensim.Vec3(0.1, -0.2, 0.05)
    for body in ("pelvis", "femur_r", "tibia_r", "toes_l"):
        expected = sim.get_body(body).findStationLocationInGround(sim.state, station).to_numpy()
        rotation = rotation_from_body_fixed_xyz(description["body_pos_rot"][body])
        actual = np.array(description["body_pos"][body]) + rotation @ np.array([0.1, -0.2, 0.05])
        np.testing.assert_allclose(actual, expected, atol=1e-12)


def test_every_body_has_a_shape_and_paths_follow_opensim():
    sim = Simulation(model_path("gait9dof18musc"))
    sim.reset()
    scene = BodyGeometry(sim).compute()
    shaped = set(scene.capsule_body) | set(scene.ellipsoid_body)
    assert shaped == set(BodyGeometry(sim).body_names)
    assert set(scene.ellipsoid_body) >= {"pelvis", "torso", "head"}
    # Capsules join joint centres: the femur capsule ends at the knee (the tibia's origin).
    femur = scene.capsule_body.index("femur_r")
    np.testing.assert_allclose(scene.capsule_end[femur], sim.state_description()["body_pos"]["tibia_r"],
                               atol=1e-12)
    # Muscle paths are OpenSim's current paths (conditional points come and go with the knee).
    assert [len(p) for p in scene.muscle_paths] == [
        sim.get_muscle(n).getGeometryPath().getCurrentPath(sim.state).getSize() for n in scene.muscle_names]
    assert len(scene.contact_center) == 4 and np.all(scene.contact_radius > 0)


class _TaskEnv(OsimEnv):
    """A gait model with the task decorations other environments carry: a target velocity."""

    time_limit = 10

    def __init__(self, **kwargs):
        self.model_path = model_path("gait14dof22musc_20170320")
        super().__init__(visualize=False, **kwargs)

    def get_state_desc(self):
        description = dict(super().get_state_desc())
        description["target_vel"] = [1.5, 0.0, -0.8]
        return description


class _ArmTargetEnv(OsimEnv):
    """The arm with a reaching target given as ``target_x``/``target_y`` (the original's attributes)."""

    def __init__(self, **kwargs):
        self.model_path = model_path("arm2dof6musc")
        self.target_x, self.target_y = 0.35, 0.5
        super().__init__(visualize=False, **kwargs)


def _color_pixels(image: np.ndarray, color) -> int:
    return int((np.abs(image.astype(int) - np.array(color)).max(axis=2) <= 2).sum())


def test_task_targets_are_drawn():
    env = _TaskEnv(render_mode="rgb_array")
    env.reset()
    assert _color_pixels(env.render(), colors.TARGET_VELOCITY) > 50
    plain = L2RunEnv(visualize=False, render_mode="rgb_array")
    plain.reset()
    assert _color_pixels(plain.render(), colors.TARGET_VELOCITY) == 0

    arm = _ArmTargetEnv(render_mode="rgb_array")
    arm.reset()
    image = arm.render()
    u, v = _pixel(arm._renderer, [0.35, 0.5, 0.0])
    patch = image[v - 1:v + 2, u - 1:u + 2].reshape(-1, 3).astype(int)
    assert (np.abs(patch - np.array(colors.TARGET)).max(axis=1) <= 2).all()


def test_l2m2019_velocity_field_arrows():
    from osim.env.l2m2019 import L2M2019Env

    env = L2M2019Env(visualize=False, difficulty=2, render_mode="rgb_array")
    env.reset()
    assert np.asarray(env.get_state_desc()["v_tgt_field"]).shape == (2, 11, 11)
    assert _color_pixels(env.render(), colors.VELOCITY_FIELD) > 200


# -- render_mode="human" ---------------------------------------------------------------------------

def test_human_mode_without_a_display_is_a_clear_error(monkeypatch):
    from osim.render.human import DisplayUnavailableError

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(DisplayUnavailableError, match=r"needs a display.*rgb_array"):
        L2RunEnv(visualize=False, render_mode="human")


_HUMAN_SCRIPT = """
import os, sys, time
import numpy as np
from PIL import ImageGrab
from osim.env import L2RunEnv

env = L2RunEnv(visualize=False, render_mode="human")
assert env.osim_model.visualize, "the visualizer was not switched on"
env.reset()
env.render()
for _ in range(20):
    env.step(np.full(18, 0.3))
env.render()

def sky_pixels():
    # Simbody's window has a blue sky (blue well above red) over a brown floor: count sky pixels.
    screen = np.asarray(ImageGrab.grab(xdisplay=os.environ["DISPLAY"]).convert("RGB")).astype(int)
    return int(((screen[..., 2] - screen[..., 0]) > 60).sum())

# The visualizer draws in its own process, later on a loaded machine: poll for its first frame.
deadline = time.time() + 30
sky = sky_pixels()
while sky <= 10_000 and time.time() < deadline:
    time.sleep(0.25)
    sky = sky_pixels()
print("SKY", sky)

def visualizer_children():
    pids = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/comm") as comm:
                name = comm.read().strip()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z" and "simbody" in name:
            pids.append(int(entry))
    return pids

assert visualizer_children(), "no simbody-visualizer process was started"
env.close()
deadline = time.time() + 10
while visualizer_children() and time.time() < deadline:
    time.sleep(0.2)
print("LEFT", len(visualizer_children()))
"""


def test_human_mode_opens_opensims_visualizer_under_xvfb(tmp_path, monkeypatch):
    """Under a virtual X display, the simbody-visualizer starts, draws, and stepping does not hang.

    An opensim built without the visualizer (the API-only native build, docs/building.md) must
    instead refuse render_mode="human" with the clear error (the pip wheel that CI tests has it).
    """
    import os
    import shutil
    import subprocess
    import sys

    from osim.engine.display import simbody_visualizer_path
    from osim.render.human import DisplayUnavailableError

    if simbody_visualizer_path() is None:
        monkeypatch.setenv("DISPLAY", ":99")
        with pytest.raises(DisplayUnavailableError, match=r"simbody-visualizer executable.*rgb_array"):
            L2RunEnv(visualize=False, render_mode="human")
        return
    xvfb = shutil.which("Xvfb")
    assert xvfb, "Xvfb is needed for this test (Debian/Ubuntu package: xvfb)"
    # -displayfd: Xvfb picks a free display number itself and writes it to the pipe once it is ready.
    read_end, write_end = os.pipe()
    server = subprocess.Popen([xvfb, "-displayfd", str(write_end), "-screen", "0", "800x600x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(write_end,))
    os.close(write_end)
    try:
        with os.fdopen(read_end) as ready:
            number = ready.readline().strip()
        assert number.isdigit() and server.poll() is None, "Xvfb did not start"
        display = f":{number}"
        script = tmp_path / "human.py"
        script.write_text(_HUMAN_SCRIPT)
        env = {**os.environ, "DISPLAY": display}
        # Output to files, not pipes: a leaked visualizer process would hold a pipe open forever.
        with open(tmp_path / "out.txt", "w") as out, open(tmp_path / "err.txt", "w") as err:
            returncode = subprocess.run([sys.executable, str(script)], check=False, env=env, stdout=out, stderr=err,
                                        timeout=120).returncode
        stdout, stderr = (tmp_path / "out.txt").read_text(), (tmp_path / "err.txt").read_text()
        assert returncode == 0, stderr[-2000:]
        sky = int(stdout.split("SKY")[-1].split()[0])
        assert sky > 10_000, f"the visualizer window was not drawn ({sky} sky pixels)"
        assert stdout.split("LEFT")[-1].split()[0] == "0", "env.close() left the visualizer running"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_gymnasium_record_video(tmp_path):
    """Gymnasium's own RecordVideo wrapper records the adapter's rgb_array frames."""
    import gymnasium
    import imageio.v3 as iio
    from gymnasium.wrappers import RecordVideo

    env = gymnasium.make("osim/L2Run-v0", render_mode="rgb_array")
    env = RecordVideo(env, str(tmp_path / "videos"), episode_trigger=lambda episode: True, disable_logger=True)
    env.reset(seed=0)
    for _ in range(12):
        env.step(env.action_space.sample())
    assert len(env.recorded_frames) == 13  # the reset frame and one per step
    assert all(f.shape == (360, 480, 3) and f.dtype == np.uint8 for f in env.recorded_frames)
    env.close()
    videos = sorted((tmp_path / "videos").glob("*.mp4"))
    assert len(videos) == 1
    frames = iio.imread(videos[0])
    assert frames.shape[0] >= 12  # moviepy may drop the last frame when it rounds the duration
    assert frames.shape[1:] == (360, 480, 3) and frames.std() > 10


def test_obstacles_are_drawn_from_their_contact_spheres():
    """A RunEnv-style obstacle: a near-massless block on a planar joint with a contact sphere."""
    model = opensim.Model(str(model_path("gait9dof18musc")))
    block = opensim.Body("0-block", 1e-4, opensim.Vec3(0), opensim.Inertia(1e-4, 1e-4, 1e-4, 0, 0, 0))
    joint = opensim.PlanarJoint("0-block-joint", model.getGround(), opensim.Vec3(0), opensim.Vec3(0),
                                block, opensim.Vec3(0), opensim.Vec3(0))
    sphere = opensim.ContactSphere(0.15, opensim.Vec3(0), block, "0-block-sphere")
    model.addBody(block)
    model.addJoint(joint)
    model.addContactGeometry(sphere)
    sim = Simulation(model)

    def place(state: opensim.State) -> None:
        joint.get_coordinates(1).setValue(state, 0.8)
        joint.get_coordinates(2).setValue(state, 0.1)

    sim.reset(adjust_state=place)
    renderer = Renderer(sim)
    image = renderer.render()
    u, v = _pixel(renderer, [0.8, 0.1, 0.0])
    patch = image[v - 2:v + 3, u - 2:u + 3].reshape(-1, 3).astype(int)
    assert (np.abs(patch - np.array(colors.OBSTACLE)).max(axis=1) <= 2).all()
    assert _color_pixels(image, colors.OBSTACLE) > 300


def test_the_environments_own_targets_and_obstacles():
    """Arm2DEnv's target ball, RunEnv's obstacles and ProstheticsEnv's target velocity, as built."""
    from osim.env import Arm2DEnv, ProstheticsEnv, RunEnv

    arm = Arm2DEnv(visualize=False, render_mode="rgb_array")
    arm.reset()
    image = arm.render()  # right after reset: the ball at the target just drawn (tests/test_arm.py)
    target = arm.osim_model.get_body("target").getPositionInGround(arm.osim_model.state).to_numpy()
    np.testing.assert_allclose(target[:2], [arm.target_x, arm.target_y])
    u, v = _pixel(arm._renderer, target)
    window = image[v - 1:v + 2, u - 1:u + 2].reshape(-1, 3).astype(int)
    assert (np.abs(window - np.array(colors.TARGET)).max(axis=1) <= 2).any()

    run = RunEnv(visualize=False, render_mode="rgb_array")
    run.seed(2)  # the first obstacle is then in view (x about 1.1 m)
    run.reset(difficulty=1)
    x, y, r = run.env_desc["obstacles"][0]
    image = run.render()
    u, v = _pixel(run._renderer, [x, y * r, 0.0])  # y is a height factor of the radius
    assert 0 < u < image.shape[1] and 0 < v < image.shape[0], "the first obstacle should be in view"
    assert (np.abs(image[v, u].astype(int) - np.array(colors.OBSTACLE)) <= 2).all()
    run.reset(difficulty=0)  # no obstacles: all parked out of sight
    assert _color_pixels(run.render(), colors.OBSTACLE) == 0

    prosthetics = ProstheticsEnv(visualize=False, difficulty=1, render_mode="rgb_array")
    prosthetics.reset()
    assert _color_pixels(prosthetics.render(), colors.TARGET_VELOCITY) > 50
