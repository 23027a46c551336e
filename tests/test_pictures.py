"""What a new user sees: the body's shadow on the ground, and the episode plot of ``osim run --plot``.

The pixels are classified from the renderer's own palette: ground (the background, the grid, the
task's arrows), the same colours darkened by the shadow, and everything else (the body). Positions
come from rendering real OpenSim states; nothing is compared with stored numbers.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pytest

from osim.env import L2M2019Env
from osim.render import Renderer, colors

#: Colour tolerance (per channel) of a pixel classified as a palette colour, and of the blend.
_TOLERANCE = 2
#: Pelvis heights (m): L2M2019Env's standing pose, then the same pose lifted.
_STANDING = float(L2M2019Env.INIT_POSE[2])
_HEIGHTS = (_STANDING, _STANDING + 0.25, _STANDING + 0.5)


def _ground_colors(renderer: Renderer) -> np.ndarray:
    """(H, W, k, 3): at each pixel, the colours the ground can show there without a shadow."""
    background = np.asarray(renderer._background, dtype=float)
    flat = [colors.GRID, colors.VELOCITY_FIELD, colors.TARGET_VELOCITY]
    layers = [background] + [np.broadcast_to(np.array(c, dtype=float), background.shape) for c in flat]
    return np.stack(layers, axis=2)


def _matches(image: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """(H, W) True where the pixel is within the tolerance of one of its candidate colours."""
    difference = np.abs(image[:, :, None, :].astype(float) - candidates).max(axis=3)
    return (difference <= _TOLERANCE).any(axis=2)


def _classify(renderer: Renderer, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(shadow, body) masks of ``image``: shadowed ground, and what is neither ground nor shadow."""
    ground = _ground_colors(renderer)
    opacity = colors.SHADOW_OPACITY
    shadowed = (1 - opacity) * ground + opacity * np.array(colors.SHADOW, dtype=float)
    shadow = _matches(image, shadowed)
    body = ~shadow & ~_matches(image, ground)
    return shadow, body


def _rows(mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(mask.any(axis=1))


def _columns(mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(mask.any(axis=0))


@dataclass
class Picture:
    """One rendered frame and its classified pixels."""

    image: np.ndarray
    shadow: np.ndarray
    body: np.ndarray


@pytest.fixture(scope="module")
def l2m_pictures() -> dict[str, tuple[Renderer, list[Picture]]]:
    """For each camera, its renderer and a picture at each of :data:`_HEIGHTS` (framed once)."""
    env = L2M2019Env(visualize=False, difficulty=0)
    renderers = {name: Renderer(env, camera=name, show_time=False) for name in ("side", "three_quarter")}
    pictures: dict[str, list[Picture]] = {name: [] for name in renderers}
    for height in _HEIGHTS:
        pose = L2M2019Env.INIT_POSE.copy()
        pose[2] = height
        env.reset(init_pose=pose, seed=0)
        for name, renderer in renderers.items():
            image = renderer.render()
            pictures[name].append(Picture(image, *_classify(renderer, image)))
    return {name: (renderers[name], pictures[name]) for name in renderers}


@pytest.mark.parametrize("camera", ["side", "three_quarter"])
def test_shadow_is_darker_ground_under_the_body_and_unlike_it(l2m_pictures, camera):
    renderer, pictures = l2m_pictures[camera]
    background = np.asarray(renderer._background, dtype=float)
    for picture in pictures:
        image, shadow, body = picture.image, picture.shadow, picture.body
        assert shadow.sum() > 300, "no shadow on the ground"
        assert body.sum() > 2000, "no body in the picture"
        # Under the body: its columns overlap the body's, its lowest row is below the body's.
        assert np.intersect1d(_columns(shadow), _columns(body)).size > 0
        assert _rows(shadow).max() > _rows(body).max()
        # Unlike the body: no shadow colour is close to any colour the body is drawn with.
        shadow_colors = np.unique(image[shadow], axis=0).astype(int)
        body_colors = np.unique(image[body], axis=0).astype(int)
        closest = np.abs(shadow_colors[:, None, :] - body_colors[None, :, :]).max(axis=2).min()
        assert closest > 12, f"a shadow colour is within {closest} of a body colour"
        # Darker than the ground it falls on.
        assert image[shadow].astype(float).mean() < 0.8 * background[shadow].mean()


@pytest.mark.parametrize("camera", ["side", "three_quarter"])
def test_gap_between_feet_and_shadow_grows_with_height(l2m_pictures, camera):
    _, pictures = l2m_pictures[camera]
    lowest_body = [int(_rows(p.body).max()) for p in pictures]
    shadow_top = [int(_rows(p.shadow).min()) for p in pictures]
    shadow_bottom = [int(_rows(p.shadow).max()) for p in pictures]
    # Standing, the shadow touches the feet; lifted, ground shows between the feet and the shadow.
    assert shadow_top[0] <= lowest_body[0] + 1, (shadow_top, lowest_body)
    lifted = zip(shadow_top[1:], lowest_body[1:])
    assert all(top > feet + 1 for top, feet in lifted), (shadow_top, lowest_body)
    gaps = [bottom - feet for bottom, feet in zip(shadow_bottom, lowest_body)]
    assert all(later > earlier + 3 for earlier, later in itertools.pairwise(gaps)), gaps


# -- the episode plot -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prosthetics_plot(tmp_path_factory):
    """A real 20-step ProstheticsEnv episode (three coordinates locked in its model), plotted."""
    from osim.env import ProstheticsEnv
    from osim.motion import EpisodeLog
    from osim.plot import plot_episode

    env = ProstheticsEnv(visualize=False)
    env.reset()
    log = EpisodeLog(env)
    log.record()
    rng = np.random.default_rng(0)
    for _ in range(20):
        _, reward, _, info = env.step(rng.random(env.get_action_space_size()))
        log.record(reward, info.get("reward_terms"))
    path = tmp_path_factory.mktemp("plot") / "episode.png"
    figure = plot_episode(log, path, title="ProstheticsEnv")
    return env, log, figure, path


def _line_axes(figure):
    """The panels with lines (rewards, joint angles), not the heat map or its colour bar."""
    return [axis for axis in figure.axes if axis.get_lines()]


def test_plot_lines_have_unique_colour_and_style(prosthetics_plot):
    from matplotlib.colors import to_rgba

    _, _, figure, path = prosthetics_plot
    assert path.stat().st_size > 10_000
    panels = _line_axes(figure)
    assert len(panels) == 2
    angles = panels[1]
    assert len(angles.get_lines()) > 10, "the 3-D model has more angles than one colour cycle"
    for axis in panels:
        pairs = [(to_rgba(line.get_color()), line.get_linestyle()) for line in axis.get_lines()]
        assert len(set(pairs)) == len(pairs), f"{axis.get_ylabel()}: two lines look the same"


def test_plot_leaves_out_locked_and_constant_coordinates(prosthetics_plot):
    env, log, figure, _ = prosthetics_plot
    coordinates = env.osim_model.model.getCoordinateSet()
    locked = {coordinates.get(i).getName() for i in range(coordinates.getSize())
              if coordinates.get(i).get_locked()}
    assert locked, "the test needs a model with locked coordinates"
    values = log.coordinates
    moving_angles = {name for j, name in enumerate(log.coordinate_names)
                     if log.coordinate_rotational[j] and name not in locked and np.ptp(values[:, j]) > 0}
    labels = {line.get_label() for line in _line_axes(figure)[1].get_lines()}
    assert not labels & locked
    assert labels == moving_angles


def test_plot_legends_stand_outside_their_panels(prosthetics_plot):
    _, _, figure, _ = prosthetics_plot
    for axis in _line_axes(figure):  # positions as laid out by the savefig in the fixture
        legend = axis.get_legend()
        assert legend is not None
        box, panel = legend.get_window_extent(), axis.get_window_extent()
        assert box.x0 >= panel.x1, (box, panel)
        assert box.x1 <= figure.bbox.x1 + 1, "the legend is cut off at the right edge"


@pytest.mark.parametrize("count", [1, 7, 10, 11, 40, 41, 120])
def test_line_styles_are_all_different(count):
    from osim.plot import line_styles

    styles = line_styles(count)
    assert len(styles) == count and len(set(styles)) == count
