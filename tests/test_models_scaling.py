"""Models scaled to a subject's height and mass.

Tolerance for "stands as the default does": the scaled model is geometrically similar but not
dynamically similar (gravity, muscle activation time constants and contact damping do not scale),
so its normalised pelvis height (pelvis_ty / s) may drift from the default's by a little. We accept
2 % of the default standing height over 0.5 s, far below what a fall produces (the pelvis drops by
more than 30 %), and the pelvis tilt within 0.05 rad of the default's.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import opensim
import pytest

from osim import models
from osim.models.description import preset_info
from osim.models.transform import NOMINAL_HEIGHT

sys.path.insert(0, str(Path(__file__).parent))
from test_models_equivalence import state_index, trajectory

opensim.Logger.setLevelString("error")

SUBJECTS = [(1.6, 55.0), (1.9, 95.0)]
#: Constant excitation that holds the default models upright for 0.5 s.
STANDING_EXCITATION = 0.05
STEPS = 50  # 0.5 s at 0.01 s


def body_mass(model: opensim.Model) -> float:
    bodies = model.getBodySet()
    return sum(bodies.get(i).getMass() for i in range(bodies.getSize()))


def stand(model: opensim.Model) -> tuple[np.ndarray, np.ndarray]:
    """Pelvis height and tilt over 0.5 s of constant excitation."""
    model.initSystem()
    excitations = np.full((STEPS, model.getMuscles().getSize()), STANDING_EXCITATION)
    states = trajectory(model, excitations)
    height, tilt = state_index(model, "/pelvis_ty/value"), state_index(model, "/pelvis_tilt/value")
    return states[:, height], states[:, tilt]


@pytest.fixture(scope="module")
def default_standing() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {preset: stand(models.build_model(preset, geometry=False))
            for preset in ("gait9dof18musc", "gait14dof22musc_20170320")}


@pytest.mark.parametrize(("height", "mass"), SUBJECTS)
@pytest.mark.parametrize("preset", ["gait9dof18musc", "gait14dof22musc_20170320"])
def test_scaled_model_has_the_mass_and_stands_like_the_default(
    preset: str, height: float, mass: float, default_standing: dict
) -> None:
    model = models.build_model(preset, height=height, mass=mass, geometry=False)
    state = model.initSystem()
    model.equilibrateMuscles(state)
    assert body_mass(model) == pytest.approx(mass, rel=1e-12)
    s = height / NOMINAL_HEIGHT[preset_info(preset)["family"]]
    pelvis, tilt = stand(model)
    default_pelvis, default_tilt = default_standing[preset]
    # The default itself stands: it keeps > 95 % of its initial pelvis height.
    assert default_pelvis.min() > 0.95 * default_pelvis[0]
    assert np.abs(pelvis / s - default_pelvis).max() < 0.02 * default_pelvis[0]
    assert np.abs(tilt - default_tilt).max() < 0.05


@pytest.mark.parametrize("preset", ["gait9dof18musc", "gait14dof22musc_pros_20180507"])
def test_default_scale_reproduces_the_original_exactly(preset: str) -> None:
    family = preset_info(preset)["family"]
    nominal_mass = sum(b["mass"] for b in models.model_description(preset)["bodies"])
    assert models.model_description(preset, height=NOMINAL_HEIGHT[family], mass=nominal_mass) == \
        models.model_description(preset)


def test_lengths_and_strength_scale_consistently() -> None:
    s, k = 1.9 / 1.8, 95.0 / 75.1646
    default = models.build_model("gait14dof22musc_20170320", geometry=False)
    tall = models.build_model("gait14dof22musc_20170320", height=1.9, mass=95.0, geometry=False)
    for model in (default, tall):
        model.initSystem()

    def ankle_below_hip(model: opensim.Model) -> float:
        state = model.initSystem()
        bodies = model.getBodySet()
        hip = bodies.get("femur_r").getPositionInGround(state).to_numpy()
        ankle = bodies.get("talus_r").getPositionInGround(state).to_numpy()
        return float(np.linalg.norm(hip - ankle))

    assert ankle_below_hip(tall) / ankle_below_hip(default) == pytest.approx(s, rel=1e-3)
    for i in range(default.getMuscles().getSize()):
        a, b = default.getMuscles().get(i), tall.getMuscles().get(i)
        assert b.getOptimalFiberLength() == pytest.approx(a.getOptimalFiberLength() * s, rel=1e-12)
        assert b.getTendonSlackLength() == pytest.approx(a.getTendonSlackLength() * s, rel=1e-12)
        assert b.getMaxIsometricForce() == pytest.approx(a.getMaxIsometricForce() * k, rel=1e-12)
    state_default, state_tall = default.initSystem(), tall.initSystem()
    for i in range(default.getMuscles().getSize()):
        length_default = default.getMuscles().get(i).getLength(state_default)
        length_tall = tall.getMuscles().get(i).getLength(state_tall)
        assert length_tall == pytest.approx(length_default * s, rel=1e-3)
