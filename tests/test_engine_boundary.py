"""The engine boundary: OpenSim only inside osim/engine and osim/models; the Engine protocol.

(a) no module outside the engine and model layers imports or names OpenSim (comments and strings,
docstrings included, do not count); (b) the OpenSim engine satisfies :class:`osim.engine.Engine`,
each member exercised on a real model; (c) the structure it reports matches the numbers of the
original ``.osim`` files, read here independently with ElementTree; (d) ``set_pose`` round-trips by
coordinate name and rejects unknown names clearly.
"""
from __future__ import annotations

import io
import re
import tokenize
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from osim.engine import Engine, ModelStructure, Simulation, SimulationError, UnknownComponentError
from osim.env.l2m2019 import L2M2019Env

PACKAGE = Path(__file__).resolve().parent.parent / "osim"
#: May talk to OpenSim: the engine, the model builder, and the doctor (it imports opensim in a child
#: process to diagnose a broken installation).
ALLOWED = ("engine", "models", "doctor.py")
#: An import of opensim, or a use of the name ``opensim`` (``opensim.Model``, ``opensim .State``).
OPENSIM_USE = re.compile(r"\bimport\s+opensim\b|\bfrom\s+opensim\b|\bopensim\s*\.")
#: A call in OpenSim's camelCase style (``getCoordinateSet()``, ``getMotionType()``, ``realizePosition()``),
#: which project code only makes on OpenSim objects; ``logging.getLogger`` is the one other such call.
OPENSIM_CALLS = re.compile(r"\.\s*(?!getLogger\b)(get|set|upd|calc|realize|find|num|init|equilibrate)[A-Z]\w*\s*\(")
#: OpenSim's snake_case property accessors used on joints and components.
OPENSIM_PROPERTIES = re.compile(r"\.\s*(get|set|upd)_(coordinates|location|orientation|locked|radius)\s*\(")
#: The original OsimModel's OpenSim objects: only ``OsimModel`` (osim/env/base.py) hands them out.
NATIVE_HANDLES = re.compile(
    r"\.\s*(native_handles|get_(body|joint|muscle|marker|contact_geometry|force|coordinate))\s*\("
    r"|\.\s*(forceSet|bodySet|jointSet|markerSet|contactGeometrySet|muscleSet|muscle_set)\b")
#: The module that builds the original ``OsimModel`` attributes from the native handles.
HANDS_OUT_NATIVE = Path("env/base.py")
#: The benchmark's timed child also runs in the original osim-rl's venv, where ``osim`` is the
#: original package (no engine layer) and its OsimModel has no ``state_vector()``: there, and only
#: there, it reads OpenSim's state itself. This one read is allowed in that module, nothing else.
FOREIGN_STATE_READ = (Path("bench/harness.py"), "osim_model . state . getY ( )")

GAIT14 = "osim-rl-3.0.11/gait14dof22musc_20170320.osim"
ARM = "osim-rl-3.0.11/arm2dof6musc.osim"
MODELS = [f"osim-rl-3.0.11/{name}.osim" for name in (
    "arm2dof6musc", "gait14dof22musc_20170320", "gait14dof22musc_planar_20170320",
    "gait14dof22musc_planar_pros_20180507", "gait14dof22musc_pros_20180507", "gait9dof18musc",
    "gait9dof18musc_20170320", "gait9dof18musc_pros_20180507", "hop8dof9musc",
)] + ["osim-rl-2.1.5/arm2dof6musc.osim"]  # the only 2.1.5 file that differs from 3.0.11's


# -- (a) no OpenSim outside the engine ----------------------------------------------------------

def code_only(source: str) -> str:
    """``source`` without comments and string literals (docstrings, f-string text included)."""
    dropped = {tokenize.COMMENT, tokenize.STRING}
    dropped |= {getattr(tokenize, name) for name in ("FSTRING_MIDDLE",) if hasattr(tokenize, name)}
    kept = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        kept.append(" " if token.type in dropped else token.string)
        if token.type in (tokenize.NEWLINE, tokenize.NL):
            kept.append("\n")
    return " ".join(kept)


def opensim_uses(source: str, native_handles_allowed: bool = False) -> list[str]:
    """The lines of code in ``source`` that import, name or call OpenSim (or take its objects)."""
    patterns = [OPENSIM_USE, OPENSIM_CALLS, OPENSIM_PROPERTIES] + ([] if native_handles_allowed else [NATIVE_HANDLES])
    return [line.strip() for line in code_only(source).splitlines()
            if any(pattern.search(line) for pattern in patterns)]


def project_modules() -> list[Path]:
    """Every module of the package outside the layers allowed to use OpenSim."""
    return [path for path in sorted(PACKAGE.rglob("*.py"))
            if path.relative_to(PACKAGE).parts[0] not in ALLOWED]


def test_the_scan_finds_opensim_in_code_and_not_in_prose():
    assert opensim_uses("import opensim\n")
    assert opensim_uses("from opensim import Model\n")
    assert opensim_uses("x = opensim.Model(path)\n")
    assert opensim_uses("kind = coordinate.getMotionType() == 2\n")
    assert opensim_uses("for c in model.getCoordinateSet(): pass\n")
    assert opensim_uses("names = [joint.get_coordinates(k).getName() for k in range(n)]\n")
    assert opensim_uses("model.getVisualizer().show(state)\n")
    assert not opensim_uses("log = logging.getLogger(__name__)\nenv.get_state_desc()\n")
    assert opensim_uses("coordinate = log.sim.get_coordinate(name)\n")
    assert opensim_uses("muscles = self.osim_model.muscleSet\n")
    assert not opensim_uses("self.forceSet = native.forces\n", native_handles_allowed=True)
    assert not opensim_uses('"""Uses ``opensim.Model`` and ``import opensim``."""\n# opensim.State\n')
    assert not opensim_uses('message = f"the opensim.log file {name}"\nversion("opensim")\n')


def test_no_opensim_outside_the_engine_and_the_models():
    modules = project_modules()
    assert len(modules) > 30 and PACKAGE / "env" / "l2m2019.py" in modules  # the scan sees the package
    offenders = {}
    for path in modules:
        relative = path.relative_to(PACKAGE)
        uses = opensim_uses(path.read_text(encoding="utf-8"), native_handles_allowed=relative == HANDS_OUT_NATIVE)
        if relative == FOREIGN_STATE_READ[0]:
            uses = [use for use in uses if FOREIGN_STATE_READ[1] not in use]
        if uses:
            offenders[str(relative)] = uses
    assert offenders == {}, "OpenSim is used outside osim/engine and osim/models: " + repr(offenders)


# -- (b) the OpenSim engine is an Engine --------------------------------------------------------

@pytest.fixture(scope="module")
def arm(reference_models: Path) -> Simulation:
    return Simulation(reference_models / ARM)


@pytest.fixture(scope="module")
def gait14(reference_models: Path) -> Simulation:
    return Simulation(reference_models / GAIT14)


def test_the_opensim_engine_is_an_engine(arm):
    assert isinstance(arm, Engine)
    assert not isinstance(object(), Engine)


def test_every_engine_member_works_on_opensim(arm):
    structure = arm.structure
    assert isinstance(structure, ModelStructure)
    assert arm.structure is structure  # computed once, then cached
    assert [m.name for m in structure.muscles] == arm.muscle_names and arm.n_muscles == 6
    assert arm.step_size == 0.01

    arm.reset()
    assert arm.time == 0.0 and arm.istep == 0
    excitations = np.zeros(arm.n_muscles)
    excitations[3] = 2.0  # clipped to 1
    applied = arm.step(excitations)
    assert applied[3] == 1.0 and arm.istep == 1 and arm.time == pytest.approx(0.01)
    for _ in range(9):
        arm.step(excitations)
    description = arm.state_description()
    assert description["muscles"]["BIClong"]["activation"] > 0.5

    values = arm.state_variable_values()
    assert values.shape == (len(structure.state_variables),)
    biceps = structure.muscle("BIClong")
    assert values[biceps.activation_column] == description["muscles"]["BIClong"]["activation"]
    elbow = structure.coordinate("r_elbow_flex")
    assert values[elbow.value_column] == description["joint_pos"]["r_elbow"][0]
    vector = arm.state_vector()
    assert vector[elbow.index] == values[elbow.value_column]
    assert vector.shape[0] >= len(structure.coordinates) * 2

    arm.set_pose(q={"r_elbow_flex": 0.5})
    assert arm.time == 0.0 and arm.state_description()["joint_pos"]["r_elbow"] == [0.5]
    assert not arm.coordinate_locked("r_elbow_flex")
    with pytest.raises(UnknownComponentError, match="r_shoulder_elev"):
        arm.coordinate_locked("elbow")
    with pytest.raises(ValueError, match="shape"):
        arm.step(np.zeros(3))


def test_an_impossible_start_raises_simulation_error(arm):
    with pytest.raises(SimulationError, match="equilibrate"):
        arm.set_pose(u={"r_elbow_flex": 1e200})
    arm.reset()  # usable again
    arm.step(np.zeros(arm.n_muscles))


def test_structure_is_read_again_when_components_are_added(reference_models):
    from osim.engine.scene import add_arm_target, move_arm_target, reinitialize

    sim = Simulation(reference_models / ARM)
    before = sim.structure
    joint = add_arm_target(sim)
    reinitialize(sim)
    after = sim.structure
    assert "target" not in [b.name for b in before.bodies]
    assert after.body("target").mass == pytest.approx(1e-4)
    assert after.joint("target-joint").parent == "ground"
    target = [c for c in after.coordinates if c.joint == "target-joint"]
    assert [c.motion_type for c in target] == ["rotational", "translational", "translational"]
    sim.reset()
    assert not sim.coordinate_locked(target[2].name)
    move_arm_target(sim, joint, 0.3, 0.4)  # the height is locked in the state, not in the model
    assert sim.coordinate_locked(target[2].name) and not target[2].locked
    assert not sim.coordinate_locked(target[1].name)


# -- (c) the structure matches the .osim files ---------------------------------------------------

def numbers(element: ET.Element, tag: str) -> list[float]:
    """The whitespace-separated numbers of ``element``'s child ``tag``."""
    child = element.find(tag)
    assert child is not None and child.text is not None, f"{element.get('name')} has no <{tag}>"
    return [float(v) for v in child.text.split()]


def number(element: ET.Element, tag: str) -> float:
    (value,) = numbers(element, tag)
    return value


def children(element: ET.Element, path: str) -> list[ET.Element]:
    """The children of ``element``'s descendant ``path`` (none if it is absent)."""
    found = element.find(path)
    return [] if found is None else list(found)


def read_osim(path: Path) -> dict:
    """What the file says, by component name (OpenSim 3.x format: joints nested in their child body)."""
    # OpenSim 3 writes element names with "::", which XML does not allow.
    root = ET.fromstring(path.read_text().replace("HuntCrossleyForce::", "HuntCrossleyForce__").encode())
    model = root.find("Model")
    bodies, joints, coordinates = {}, {}, {}
    for body in model.find("BodySet/objects"):
        name = body.get("name")
        if name != "ground":
            inertia = [number(body, f"inertia_{axes}") for axes in ("xx", "yy", "zz", "xy", "xz", "yz")]
            bodies[name] = (number(body, "mass"), numbers(body, "mass_center"), inertia)
        for joint in body.findall("joint/*") + body.findall("Joint/*"):  # 2.1.5's arm: <Joint>
            owned = joint.findall("CoordinateSet/objects/Coordinate")
            joint_name = joint.get("name")
            if joint_name in joints:  # two joints "back" (torso, head): OpenSim renames the second one
                joint_name += "_0"
            joints[joint_name] = (joint.findtext("parent_body").strip(), name, [c.get("name") for c in owned])
            for c in owned:
                coordinates[c.get("name")] = (
                    joint_name, c.findtext("motion_type").strip(), numbers(c, "range"),
                    c.findtext("locked").strip() == "true", number(c, "default_value"))
    muscles = {
        m.get("name"): [number(m, tag) for tag in (
            "max_isometric_force", "optimal_fiber_length", "tendon_slack_length",
            "pennation_angle_at_optimal", "max_contraction_velocity")]
        for m in model.find("ForceSet/objects") if m.tag.endswith("Muscle")
    }
    forces = [f.get("name") for f in model.find("ForceSet/objects")]
    contacts = {
        g.get("name"): (g.findtext("body_name").strip(), g.tag, numbers(g, "location"), numbers(g, "orientation"),
                        number(g, "radius") if g.tag == "ContactSphere" else None)
        for g in children(model, "ContactGeometrySet/objects")
    }
    markers = {m.get("name"): (m.findtext("body").strip(), numbers(m, "location"))
               for m in children(model, "MarkerSet/objects")}
    return {"bodies": bodies, "joints": joints, "coordinates": coordinates, "muscles": muscles,
            "forces": forces, "contacts": contacts, "markers": markers}


@pytest.mark.parametrize("name", MODELS)
def test_structure_matches_the_osim_file(reference_models, name):
    path = reference_models / name
    expected = read_osim(path)
    structure = Simulation(path).structure
    assert expected["coordinates"] and expected["muscles"] and expected["bodies"]  # the reader found them

    assert {c.name: (c.joint, c.motion_type, list(c.range), c.locked, c.default_value)
            for c in structure.coordinates} == expected["coordinates"]
    assert {j.name: (j.parent, j.child, list(j.coordinates)) for j in structure.joints} == expected["joints"]
    assert {b.name: (b.mass, list(b.mass_center), list(b.inertia)) for b in structure.bodies} == expected["bodies"]
    assert {m.name: [m.max_isometric_force, m.optimal_fiber_length, m.tendon_slack_length, m.pennation_angle,
                     m.max_contraction_velocity] for m in structure.muscles} == expected["muscles"]
    assert [m.name for m in structure.muscles] == list(expected["muscles"])  # excitation order = file order
    assert list(structure.forces) == expected["forces"]
    kinds = {"sphere": "ContactSphere", "half_space": "ContactHalfSpace"}
    assert {g.name: (g.body, kinds[g.kind], list(g.location), list(g.orientation), g.radius)
            for g in structure.contact_geometry} == expected["contacts"]
    assert {m.name: (m.body, list(m.location)) for m in structure.markers} == expected["markers"]

    # Indices: each coordinate's Q and U entry, and its value's state-variable column, are its own.
    assert sorted(c.index for c in structure.coordinates) == list(range(len(structure.coordinates)))
    for c in structure.coordinates:
        assert structure.state_variables[c.value_column].endswith(f"/{c.name}/value")
    for m in structure.muscles:
        assert structure.state_variables[m.activation_column].endswith(f"/{m.name}/activation")


# -- (d) set_pose ----------------------------------------------------------------------------------

def test_set_pose_round_trip_by_name(gait14):
    structure = gait14.structure
    q = {"pelvis_ty": 1.02, "pelvis_tilt": -0.1, "knee_angle_l": -0.4, "hip_rotation_r": 0.05}  # locked too
    u = {"pelvis_tx": 1.3, "ankle_angle_r": -0.7}
    gait14.set_pose(q=q, u=u)
    assert gait14.time == 0.0 and gait14.istep == 0
    values = gait14.state_variable_values()
    description = gait14.state_description()
    for c in structure.coordinates:
        joint = structure.joint(c.joint)
        k = joint.coordinates.index(c.name)
        assert description["joint_pos"][c.joint][k] == q.get(c.name, c.default_value), c.name
        assert description["joint_vel"][c.joint][k] == u.get(c.name, 0.0), c.name
        assert values[c.value_column] == q.get(c.name, c.default_value)
    assert gait14.state_vector()[structure.coordinate("knee_angle_l").index] == -0.4

    assert gait14.coordinate_locked("hip_rotation_r") and not gait14.coordinate_locked("knee_angle_l")
    gait14.reset()  # back to the default pose
    assert gait14.state_description()["joint_pos"]["knee_l"] == [0.0]


def test_set_pose_names_an_unknown_coordinate_and_lists_the_valid_ones(gait14):
    gait14.set_pose(q={"knee_angle_l": -0.3})
    before = gait14.state_vector().copy()
    with pytest.raises(UnknownComponentError) as raised:
        gait14.set_pose(q={"knee_angle_l": -0.1}, u={"knee_flexion": 1.0})
    message = str(raised.value)
    assert "'knee_flexion'" in message and "coordinate" in message
    assert all(c.name in message for c in gait14.structure.coordinates)
    assert isinstance(raised.value, KeyError)
    assert np.array_equal(gait14.state_vector(), before)  # nothing changed
    with pytest.raises(ValueError, match="pelvis_ty"):
        gait14.set_pose(q={"pelvis_ty": float("nan")})


def test_l2m2019_initial_pose_lands_on_the_named_coordinates():
    env = L2M2019Env(visualize=False, difficulty=0)
    pose = np.array([1.1, -0.2, 0.93, 0.1, 0.01, -0.3, -0.5, 0.05, 0.02, 0.4, -0.1, -0.06])
    env.reset(init_pose=pose)
    d = env.get_state_desc()
    assert d["joint_pos"]["ground_pelvis"] == [-0.1, 0.0, 0.0, 0.0, 0.93, 0.0]
    assert d["joint_vel"]["ground_pelvis"] == [0.0, 0.0, 0.0, 1.1, 0.0, -0.2]
    assert d["joint_pos"]["hip_r"][:2] == [0.3, -0.01] and d["joint_pos"]["hip_l"][:2] == [-0.4, -0.02]
    assert d["joint_pos"]["knee_r"] == [-0.5] and d["joint_pos"]["knee_l"] == [-0.1]
    assert d["joint_pos"]["ankle_r"] == [-0.05] and d["joint_pos"]["ankle_l"] == [0.06]
    env.close()
