"""Foot contact and coordinate limits on both engines: measured, not calibrated.

``python -m osim.engine.mujoco.contact --model gait14dof22musc_planar_20170320 \
    --out benchmarks/results/mujoco_contact_gait14dof22musc_planar_20170320.json``
measures, with the real OpenSim and the real MuJoCo, what the builder's mapping of
HuntCrossleyForce and CoordinateLimitForce does (see docs/engines.md):

* **one contact sphere pressed into the ground**: a probe body carrying one of the model's contact
  spheres on a planar joint, built by both builders from a small description with the model's own
  HuntCrossleyForce parameters; the normal force against penetration depth (at rest) and against
  penetration speed (at one depth), each at zero acceleration: OpenSim's force is a function of the
  state, MuJoCo's soft contact force is found by inverse dynamics (``mj_inverse`` with zero
  acceleration, what holds the sphere quasi-statically at that depth and speed; at rest it is the
  force of the forward simulation once settled). MuJoCo's force scales with the mass behind the
  contact, so the probe is measured carrying the sphere's own body and carrying an equal share of
  the model's mass. The speed sweep is at the depth where each engine carries the probe's weight,
  MuJoCo's force there taken from a forward step (the force acting at that state, as OpenSim's);
* **a static stand**: the model at its default pose with every coordinate locked but the pelvis
  height (muscles left out: with the joints locked they are internal forces), settled on the
  ground for ``STAND_SECONDS``; the total vertical ground force against body weight and each
  sphere's penetration depth and force (OpenSim's foot forces split into one force per sphere, the
  same law, so each sphere's force is reported), and on MuJoCo how far the knee-translation
  couplings (soft joint equalities) give under the load;
* **each CoordinateLimitForce** on a free coordinate: the generalized force against the angle,
  from inside the range to 20 degrees past each limit, at the default pose and zero speed (MuJoCo:
  the joint-limit constraint's force by ``mj_inverse`` at zero acceleration, the model as the
  environments build it, fitted muscles included).

``python -m osim.engine.mujoco.report benchmarks/results/mujoco_contact_*.json --docs docs/engines.md``
puts the tables into docs/engines.md.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import require_mujoco
from .mjcf import Description, build_mjcf, coordinate_specs, frame_body, is_muscle, model_description
from .parity import MujocoProbe, OpenSimProbe, model_command, write_json

#: Penetration depths (mm) of the force-depth sweep, at rest.
SPHERE_DEPTHS_MM = (0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0)
#: Penetration speeds (m/s, positive into the ground) of the force-speed sweep, each engine at the
#: depth where the probe's weight rests on the sphere.
SPHERE_SPEEDS = (-0.2, -0.1, -0.05, 0.0, 0.05, 0.1, 0.2, 0.5, 1.0)
#: Angles past each limit (degrees; negative: inside the range) of the limit sweeps.
LIMIT_OFFSETS_DEG = (-10.0, -5.0, -2.0, 0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 20.0)
#: How long the stand settles on each engine (s): MuJoCo's soft knee couplings swing for ~4 s.
STAND_SECONDS = 5.0
PROBE = "probe"


def contact_forces(description: Description) -> list[dict[str, Any]]:
    """The HuntCrossleyForce specs of a description."""
    return [force for force in description["forces"] if force["type"] == "HuntCrossleyForce"]


def contact_spheres(description: Description) -> dict[str, dict[str, Any]]:
    """The ContactSphere specs by name."""
    return {g["name"]: g for g in description["contact_geometry"] if g["type"] == "ContactSphere"}


def half_space(description: Description) -> dict[str, Any]:
    """The ground's ContactHalfSpace spec (the builders' ground plane, normal +y)."""
    planes = [g for g in description["contact_geometry"] if g["type"] == "ContactHalfSpace"]
    if len(planes) != 1 or frame_body(planes[0]["frame"]) != "world" or any(planes[0]["location"]):
        raise ValueError("expected one ContactHalfSpace on the ground at the origin")
    return planes[0]


def force_of_sphere(description: Description, sphere: str) -> dict[str, Any]:
    """The HuntCrossleyForce whose contact parameters list ``sphere``."""
    for force in contact_forces(description):
        if sphere in force["contact_parameters"][0]["geometry"]:
            return force
    raise ValueError(f"no HuntCrossleyForce acts on the sphere {sphere!r}")


def probe_description(description: Description, sphere: str, mass: float) -> Description:
    """A body of ``mass`` carrying the contact sphere ``sphere`` at its centre of mass, on a planar
    joint above the model's ground plane, with the model's contact parameters for that sphere."""
    spec = contact_spheres(description)[sphere]
    radius = float(spec["radius"])
    force = copy.deepcopy(force_of_sphere(description, sphere))
    plane = half_space(description)
    force["name"] = "probe_contact"
    force["contact_parameters"][0]["geometry"] = [plane["name"], sphere]
    inertia = 0.4 * mass * radius ** 2  # a uniform ball
    coordinate = {"default_speed_value": 0.0, "clamped": False, "locked": False}
    return {
        "model": {"name": "sphere_probe", "gravity": description["model"]["gravity"]},
        "bodies": [{"name": PROBE, "mass": mass, "mass_center": [0.0, 0.0, 0.0],
                    "inertia": [inertia, inertia, inertia, 0.0, 0.0, 0.0]}],
        "joints": [{"name": "ground_probe", "type": "PlanarJoint", "parent": "ground", "child": PROBE,
                    "parent_offset": {"translation": [0.0, 0.0, 0.0], "orientation": [0.0, 0.0, 0.0]},
                    "child_offset": {"translation": [0.0, 0.0, 0.0], "orientation": [0.0, 0.0, 0.0]},
                    "coordinates": [{"name": "probe_rz", "default_value": 0.0, "range": [-3.2, 3.2], **coordinate},
                                    {"name": "probe_tx", "default_value": 0.0, "range": [-1.0, 1.0], **coordinate},
                                    {"name": "probe_ty", "default_value": radius, "range": [-1.0, 2.0],
                                     **coordinate}]}],
        "forces": [force],
        "contact_geometry": [plane, {**spec, "frame": f"/bodyset/{PROBE}", "location": [0.0, 0.0, 0.0],
                                     "orientation": [0.0, 0.0, 0.0]}],
        "markers": [],
    }


def opensim_record(force: Any, state: Any, label: str) -> float:
    """One value of an OpenSim force's record (``foot_r.calcn_r.force.Y``)."""
    labels, values = force.getRecordLabels(), force.getRecordValues(state)
    for index in range(labels.getSize()):
        if labels.get(index) == label:
            return float(values.get(index))
    raise KeyError(f"{force.getName()} records no {label!r}")


def mujoco_normal_forces(model: Any, data: Any) -> dict[int, float]:
    """Vertical (ground-normal) force on each geom in contact (N), summed over its contacts."""
    mujoco = require_mujoco()
    forces: dict[int, float] = {}
    wrench = np.zeros(6)
    for index in range(data.ncon):
        contact = data.contact[index]
        mujoco.mj_contactForce(model, data, index, wrench)
        vertical = abs(float((contact.frame.reshape(3, 3).T @ wrench[:3])[1]))
        for geom in (contact.geom1, contact.geom2):
            forces[int(geom)] = forces.get(int(geom), 0.0) + vertical
    return forces


class SphereProbe:
    """The probe on both engines; the normal force at a penetration depth and speed."""

    def __init__(self, description: Description, sphere: str, mass: float) -> None:
        import opensim

        from osim.models.builder import build

        mujoco = require_mujoco()
        probe = probe_description(description, sphere, mass)
        self.radius = float(contact_spheres(description)[sphere]["radius"])
        self.opensim_model = build(probe)
        self.state = self.opensim_model.initSystem()
        self.height = self.opensim_model.getCoordinateSet().get("probe_ty")
        self.force = opensim.HuntCrossleyForce.safeDownCast(self.opensim_model.getForceSet().get("probe_contact"))
        self.model = mujoco.MjModel.from_xml_string(build_mjcf(probe))
        self.data = mujoco.MjData(self.model)
        self.joint = self.model.joint("probe_ty")
        self.geom = self.model.geom(sphere).id
        self.weight = mass * abs(float(description["model"]["gravity"][1]))

    def opensim_force(self, depth: float, speed: float) -> float:
        """OpenSim's normal force (N) at ``depth`` (m) and penetration ``speed`` (m/s)."""
        self.height.setValue(self.state, self.radius - depth)
        self.height.setSpeedValue(self.state, -speed)
        self.opensim_model.realizeDynamics(self.state)
        return opensim_record(self.force, self.state, f"probe_contact.{PROBE}.force.Y")

    def mujoco_force(self, depth: float, speed: float, forward: bool = False) -> float:
        """MuJoCo's normal force (N) holding the sphere at ``depth`` and ``speed`` with zero
        acceleration (``mj_inverse``); with ``forward``, the force of a forward step at that state
        (``mj_forward``: the probe's weight the only other force, the sphere decelerating)."""
        mujoco = require_mujoco()
        self.data.qpos[:] = 0.0
        self.data.qvel[:] = 0.0
        self.data.qacc[:] = 0.0
        self.data.qpos[self.joint.qposadr[0]] = self.radius - depth
        self.data.qvel[self.joint.dofadr[0]] = -speed
        (mujoco.mj_forward if forward else mujoco.mj_inverse)(self.model, self.data)
        return mujoco_normal_forces(self.model, self.data).get(self.geom, 0.0)

    def resting_depth(self, engine: str) -> float:
        """The depth (m) at which ``engine``'s force at rest carries the probe's weight (bisection)."""
        force = self.opensim_force if engine == "opensim" else self.mujoco_force
        low, high = 0.0, 0.1
        for _ in range(60):
            middle = 0.5 * (low + high)
            low, high = (middle, high) if force(middle, 0.0) < self.weight else (low, middle)
        return 0.5 * (low + high)


def sphere_law(description: Description, sphere: str, mass: float) -> dict[str, Any]:
    """Force against depth (at rest), the depth carrying the probe's weight, and the force against
    speed at that depth, on both engines."""
    probe = SphereProbe(description, sphere, mass)
    depths = [d / 1000 for d in SPHERE_DEPTHS_MM]
    at_rest = {"opensim_N": [round(probe.opensim_force(d, 0.0), 3) for d in depths],
               "mujoco_N": [round(probe.mujoco_force(d, 0.0), 3) for d in depths]}
    resting = {engine: probe.resting_depth(engine) for engine in ("opensim", "mujoco")}
    moving = {"opensim_N": [round(probe.opensim_force(resting["opensim"], v), 3) for v in SPHERE_SPEEDS],
              "mujoco_N": [round(probe.mujoco_force(resting["mujoco"], v, forward=True), 3) for v in SPHERE_SPEEDS]}
    quasi_static = [round(probe.mujoco_force(resting["mujoco"], v), 3) for v in SPHERE_SPEEDS]
    rest, slow = SPHERE_SPEEDS.index(0.0), SPHERE_SPEEDS.index(0.1)
    return {"mass_kg": round(mass, 4), "weight_N": round(probe.weight, 3), "radius_m": probe.radius,
            "depth_mm": list(SPHERE_DEPTHS_MM), "at_rest": at_rest,
            "resting_depth_mm": {engine: round(depth * 1000, 4) for engine, depth in resting.items()},
            "speed_m_s": list(SPHERE_SPEEDS), "at_speed": moving,
            # what would hold the sphere at constant speed (zero acceleration): far stiffer
            "mujoco_at_speed_zero_acceleration_N": quasi_static,
            # force gained per unit of penetration speed at the resting depth, 0 to 0.1 m/s (N s/m)
            "damping_N_s_m": {engine: round((values[slow] - values[rest]) / 0.1, 1)
                              for engine, values in moving.items()}}


def body_mass(description: Description, body: str) -> float:
    """A body's mass (kg)."""
    return next(float(b["mass"]) for b in description["bodies"] if b["name"] == body)


def model_mass(description: Description) -> float:
    """The total mass (kg)."""
    return float(sum(float(b["mass"]) for b in description["bodies"]))


def sphere_laws(description: Description) -> dict[str, Any]:
    """The law of one sphere of each radius, its probe carrying its own body and carrying an equal
    share of the model (the total mass over the number of spheres: standing on all of them)."""
    laws: dict[str, Any] = {}
    seen: set[float] = set()
    spheres = contact_spheres(description)
    share = model_mass(description) / len(spheres)
    for name, spec in spheres.items():
        if float(spec["radius"]) in seen:
            continue
        seen.add(float(spec["radius"]))
        body = frame_body(spec["frame"])
        laws[name] = {"body": body,
                      "carrying_its_body": sphere_law(description, name, body_mass(description, body)),
                      "carrying_a_share": sphere_law(description, name, share)}
    return laws


def stand_description(description: Description) -> Description:
    """The model with every coordinate locked at its default but the pelvis height, no muscles, and
    one HuntCrossleyForce per sphere (the same parameters: Hunt-Crossley sums its pairs)."""
    stand = copy.deepcopy(description)
    for joint in stand["joints"]:
        for coordinate in joint.get("coordinates", []):
            coordinate["locked"] = coordinate["name"] != "pelvis_ty"
    forces = []
    for force in stand["forces"]:
        if is_muscle(force):
            continue
        if force["type"] != "HuntCrossleyForce":
            forces.append(force)
            continue
        parameters = force["contact_parameters"][0]
        plane, *spheres = parameters["geometry"]
        for sphere in spheres:
            forces.append({**force, "name": sphere,
                           "contact_parameters": [{**parameters, "geometry": [plane, sphere]}]})
    stand["forces"] = forces
    return stand


def opensim_stand(description: Description, seconds: float) -> dict[str, Any]:
    """The stand on OpenSim after ``seconds``: each sphere's depth (mm) and vertical force (N)."""
    import opensim

    from osim.models.builder import build

    stand = stand_description(description)
    model = build(stand)
    state = model.initSystem()
    initial = opensim_depths(model, state, stand)
    manager = opensim.Manager(model)
    manager.setIntegratorAccuracy(1e-6)
    state.setTime(0.0)
    manager.initialize(state)
    state = manager.integrate(seconds)
    model.realizeDynamics(state)
    forces = {}
    for name, spec in contact_spheres(stand).items():
        force = model.getForceSet().get(name)
        forces[name] = opensim_record(force, state, f"{name}.{frame_body(spec['frame'])}.force.Y")
    height = model.getCoordinateSet().get("pelvis_ty")
    return {"initial_depth_mm": initial, "depth_mm": opensim_depths(model, state, stand),
            "vertical_force_N": {k: round(v, 2) for k, v in forces.items()},
            "pelvis_height_m": round(height.getValue(state), 5),
            "pelvis_speed_m_s": round(height.getSpeedValue(state), 6)}


def opensim_depths(model: Any, state: Any, description: Description) -> dict[str, float]:
    """Each sphere's penetration of the ground plane (mm; negative: above it)."""
    import opensim

    model.realizePosition(state)
    depths = {}
    for name, spec in contact_spheres(description).items():
        body = model.getBodySet().get(frame_body(spec["frame"]))
        centre = body.findStationLocationInGround(state, opensim.Vec3(*[float(v) for v in spec["location"]]))
        depths[name] = round((float(spec["radius"]) - centre.get(1)) * 1000, 3)
    return depths


def mujoco_stand(description: Description, seconds: float) -> dict[str, Any]:
    """The stand on MuJoCo (the builder's MJCF, its time step) after ``seconds``."""
    mujoco = require_mujoco()
    stand = stand_description(description)
    model = mujoco.MjModel.from_xml_string(build_mjcf(stand))
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, 0)
    mujoco.mj_forward(model, data)
    spheres = contact_spheres(stand)

    def depths() -> dict[str, float]:
        return {name: round((float(spec["radius"]) - float(data.geom(name).xpos[1])) * 1000, 3)
                for name, spec in spheres.items()}

    initial = depths()
    mujoco.mj_step(model, data, nstep=round(seconds / model.opt.timestep))
    mujoco.mj_forward(model, data)
    by_geom = mujoco_normal_forces(model, data)
    joint = model.joint("pelvis_ty")
    return {"initial_depth_mm": initial, "depth_mm": depths(),
            "vertical_force_N": {name: round(by_geom.get(model.geom(name).id, 0.0), 2) for name in spheres},
            "pelvis_height_m": round(float(data.qpos[joint.qposadr[0]]), 5),
            "pelvis_speed_m_s": round(float(data.qvel[joint.dofadr[0]]), 6),
            "coupling_violation_mm": coupling_violations(model, data)}


def coupling_violations(model: Any, data: Any) -> dict[str, float]:
    """How far each knee-translation coupling equality is from its polynomial (mm; OpenSim's
    CustomJoint follows its spline exactly)."""
    mujoco = require_mujoco()
    return {model.equality(int(data.efc_id[r])).name: round(float(data.efc_pos[r]) * 1000, 3)
            for r in range(data.nefc) if data.efc_type[r] == mujoco.mjtConstraint.mjCNSTR_EQUALITY
            and model.equality(int(data.efc_id[r])).name.startswith("couple_")}


def stand(description: Description, seconds: float = STAND_SECONDS) -> dict[str, Any]:
    """The static stand on both engines, with the weight they carry."""
    weight = model_mass(description) * abs(float(description["model"]["gravity"][1]))
    result: dict[str, Any] = {"seconds": seconds, "weight_N": round(weight, 2)}
    for engine, run in (("opensim", opensim_stand), ("mujoco", mujoco_stand)):
        entry = run(description, seconds)
        total = sum(entry["vertical_force_N"].values())
        entry["total_vertical_force_N"] = round(total, 2)
        entry["total_over_weight"] = round(total / weight, 4)
        result[engine] = entry
    return result


def limit_forces(description: Description) -> list[dict[str, Any]]:
    """The CoordinateLimitForce specs on free coordinates."""
    specs = coordinate_specs(description)
    return [force for force in description["forces"] if force["type"] == "CoordinateLimitForce"
            and not specs[force["properties"]["coordinate"]].get("locked")]


def mujoco_limit_torque(probe: MujocoProbe, joint: Any) -> float:
    """The generalized force (N m) of ``joint``'s limit constraint at the posed state, zero speed and
    acceleration."""
    mujoco = require_mujoco()
    model, data = probe.model, probe.data
    data.qvel[:] = 0.0
    data.qacc[:] = 0.0
    mujoco.mj_inverse(model, data)
    rows = [r for r in range(data.nefc)
            if data.efc_type[r] == mujoco.mjtConstraint.mjCNSTR_LIMIT_JOINT and data.efc_id[r] == joint.id]
    vector = np.zeros(data.nefc)
    vector[rows] = data.efc_force[rows]
    generalized = np.zeros(model.nv)
    mujoco.mj_mulJacTVec(model, data, generalized, vector)
    return float(generalized[joint.dofadr[0]])


def limit_sweeps(description: Description) -> dict[str, Any]:
    """Each limit force's generalized force (N m) against the angle past its lower and upper limit."""
    import opensim

    opensim_probe, probe = OpenSimProbe(description), MujocoProbe(description)
    sweeps: dict[str, Any] = {}
    for spec in limit_forces(description):
        p = spec["properties"]
        coordinate = p["coordinate"]
        force = opensim.CoordinateLimitForce.safeDownCast(opensim_probe.model.getForceSet().get(spec["name"]))
        joint = probe.model.joint(coordinate)
        stiffness = {"lower": p["lower_stiffness"], "upper": p["upper_stiffness"]}
        entry: dict[str, Any] = {"coordinate": coordinate, "offsets_deg": list(LIMIT_OFFSETS_DEG),
                                 "stiffness_N_m_per_deg": stiffness, "transition_deg": p["transition"]}
        for side, limit, direction in (("lower", p["lower_limit"], -1.0), ("upper", p["upper_limit"], 1.0)):
            angles = [math.radians(limit + direction * offset) for offset in LIMIT_OFFSETS_DEG]
            ours, theirs = [], []
            for angle in angles:
                opensim_probe.pose({coordinate: angle})
                opensim_probe.model.realizeVelocity(opensim_probe.state)
                theirs.append(round(float(force.calcLimitForce(opensim_probe.state)), 3))
                probe.pose({coordinate: angle})
                ours.append(round(mujoco_limit_torque(probe, joint), 3))
            entry[side] = {"limit_deg": limit, "opensim_N_m": theirs, "mujoco_N_m": ours}
        sweeps[spec["name"]] = entry
    return sweeps


def measure(name: str, stand_seconds: float = STAND_SECONDS) -> dict[str, Any]:
    """The contact and limit measurement of preset ``name``."""
    description = model_description(name)
    mujoco = require_mujoco()
    model = mujoco.MjModel.from_xml_string(build_mjcf(description))
    sphere = model.geom(next(iter(contact_spheres(description)))).id
    limited = next(j for j in range(model.njnt) if model.jnt_limited[j])
    return {"model": name, "mujoco": mujoco.__version__,
            "mujoco_constraint_parameters": {  # the builder sets none: MuJoCo's defaults
                "contact_solref": model.geom_solref[sphere].tolist(),
                "contact_solimp": model.geom_solimp[sphere].tolist(),
                "limit_solref": model.jnt_solref[limited].tolist(),
                "limit_solimp": model.jnt_solimp[limited].tolist(),
                "cone": "pyramidal" if model.opt.cone == mujoco.mjtCone.mjCONE_PYRAMIDAL else "elliptic"},
            "contact_parameters": {force["name"]: force["contact_parameters"][0] | force.get("properties", {})
                                   for force in contact_forces(description)},
            "sphere": sphere_laws(description), "stand": stand(description, stand_seconds),
            "limits": limit_sweeps(description)}


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: measure one model's contact and limits on both engines, optionally write the JSON."""
    from .report import contact_tables

    arguments = model_command("osim.engine.mujoco.contact", __doc__, "write the measurement (JSON) here", argv,
                              options=[("--stand-seconds", {"type": float, "default": STAND_SECONDS,
                                                            "help": "how long the stand settles (s)"})])
    report = measure(arguments.model, arguments.stand_seconds)
    if arguments.out:
        write_json(arguments.out, report)
    print(contact_tables([report]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
