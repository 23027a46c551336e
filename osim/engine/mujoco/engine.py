"""The MuJoCo engine: :class:`MujocoSimulation`, the :class:`~osim.engine.interface.Engine` on MuJoCo.

It builds the MJCF of the project's own model description (:mod:`osim.engine.mujoco.mjcf`) of the
model an environment asks for, and reports everything under OpenSim's names and in OpenSim's
layouts: the same :class:`~osim.engine.interface.ModelStructure` names and order, the same
state-description keys, nesting and list lengths, the same excitation validation and errors.

What differs from the OpenSim engine (docs/engines.md has the measurements):

* tendons are rigid: ``fiber_length`` is the tendon length minus the fitted slack length along
  the pennated fibre, ``fiber_force`` the actuator's tension divided by the pennation cosine;
* contacts are MuJoCo's soft constraints: the HuntCrossleyForce records carry MuJoCo's contact
  forces, each force's own contacts (a foot sphere's ground and obstacle contacts apart), in
  OpenSim's layout and sign (force on the geometry's body, torque about its origin, ground frame;
  the half-space gets the reaction); a force between spheres only (RunEnv's obstacles) is explicit
  contact pairs whose law this engine sets from the force's stiffness and the radii
  (:mod:`osim.engine.mujoco.sphere_contact`), again whenever they change;
* a CoordinateLimitForce records MuJoCo's joint-limit force and a potential energy of 0 (MuJoCo's
  limits are constraints, without a potential);
* OpenSim's integrator settings do not apply: MuJoCo steps ``substeps`` fixed steps of
  ``timestep`` per control interval.

Failures (a diverging state: MuJoCo's bad-acceleration/position/velocity checks, which would
silently reset its data) raise :class:`~osim.engine.SimulationError`; :meth:`reset` recovers.
"""
from __future__ import annotations

import dataclasses
import math
import os
import warnings
from collections.abc import Mapping
from functools import cache
from typing import Any

import numpy as np

from osim.compiled import load
from osim.engine.actions import validate_excitations, validate_strength
from osim.engine.errors import SimulationError
from osim.engine.interface import (
    BodyInfo,
    ContactGeometryInfo,
    CoordinateInfo,
    JointInfo,
    MarkerInfo,
    ModelStructure,
    MuscleInfo,
    StateDescription,
)
from osim.engine.state_arrays import StateArrays

from . import require_mujoco
from .mjcf import DEFAULT_TIMESTEP, Description, MjcfError, build_mjcf, frame_body, is_muscle, joint_axes
from .simulate import apply_joint_equalities

#: The excitation every muscle holds before the first step, as in the OpenSim engine.
INITIAL_EXCITATION = 1.0
#: Thelen2003Muscle's default activation: the initial activation of every muscle.
DEFAULT_ACTIVATION = 0.05
#: The muscle models the fits and the mapping are made for.
SUPPORTED_MUSCLES = ("Thelen2003Muscle",)
#: Model options that do not change the dynamics (ignored here).
_DISPLAY_OPTIONS = ("geometry",)


def _ground(body: str) -> str:
    """OpenSim's name of a body (the MJCF builder calls the ground ``world``)."""
    return "ground" if body == "world" else body


def resolve_model(model: Any) -> tuple[str, Description]:
    """(preset label, description) of what an environment passes as its model.

    ``model`` is a path made by :func:`osim.models.model_path`, a preset name, or a description.
    A foreign ``.osim`` file is refused: this engine builds from the project's model descriptions.
    """
    from osim.models import UnknownModelError, model_description, model_source
    from osim.models.description import preset_name

    if isinstance(model, dict):
        return str(model.get("model", {}).get("name", "model")), model
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError("model must be a path made by osim.models.model_path or a preset name, "
                        f"got {type(model).__name__}")
    text = os.fspath(model)
    if os.path.isfile(text):
        try:
            preset, options = model_source(text)
        except ValueError:
            raise ValueError(
                f"the MuJoCo engine builds from the project's model descriptions: {text} is not a file made "
                "by osim.models.model_path(name, **options) (use engine='opensim' for other .osim files)"
            ) from None
    else:
        try:
            preset, options = preset_name(text), {}
        except UnknownModelError:
            raise ValueError(
                f"model {text!r} is neither a file nor a preset name; the MuJoCo engine takes a path made by "
                "osim.models.model_path(name, **options) or a preset name (osim.models.list_models())"
            ) from None
    options = {key: value for key, value in options.items() if key not in _DISPLAY_OPTIONS}
    muscle_model = options.get("muscle_model") or "Thelen2003"
    if f"{muscle_model}Muscle" not in SUPPORTED_MUSCLES:
        raise ValueError(f"the MuJoCo engine maps Thelen2003 muscles only (its fits are made for them); "
                         f"muscle_model={muscle_model!r} is not supported")
    return preset, model_description(preset, geometry=False, **options)


@cache
def _mjcf_text(key: str, timestep: float, fitted: bool) -> str:
    """The MJCF of a description (keyed by its JSON), built once per process."""
    import json

    return build_mjcf(json.loads(key), timestep=timestep, fitted=fitted)


class MujocoSimulation:
    """A model of the project built for MuJoCo, stepped in fixed control intervals.

    The MuJoCo implementation of :class:`osim.engine.interface.Engine`.

    Args:
        model: a path made by :func:`osim.models.model_path` (what the environments pass), a preset
            name, or a model description.
        step_size: the control interval (s).
        visualize: MuJoCo has no live viewer here; ``True`` warns once and is ignored.
        integrator: OpenSim's :class:`~osim.engine.IntegratorSettings`, accepted so that the same
            settings can be passed to either engine, and ignored (MuJoCo steps fixed steps).
        timestep: MuJoCo's step (s); ``step_size`` must be a whole number of them (default 2 ms).
        fitted: use the stored per-muscle fits (``False``: the direct mapping).
        compiled: compute the tracked points, the muscle arrays and the feet's ground forces with the
            numba kernels of :mod:`osim.compiled` (the same bits, faster); None: when numba is installed.
    """

    def __init__(self, model: Any, *, step_size: float = 0.01, visualize: bool = False, integrator: Any = None,
                 timestep: float = DEFAULT_TIMESTEP, fitted: bool = True, compiled: bool | None = None) -> None:
        mujoco = require_mujoco()
        self._kernels = load("osim.engine.mujoco._numba_kernels") if compiled is not False else None
        if compiled and self._kernels is None:
            raise RuntimeError("compiled=True needs numba (pip install 'osim-rl[mujoco]')")
        self._mujoco = mujoco
        self.step_size = float(step_size)
        if not (self.step_size > 0 and math.isfinite(self.step_size)):
            raise ValueError(f"step_size must be a positive number of seconds, got {step_size!r}")
        timestep = float(timestep)
        substeps = round(self.step_size / timestep) if timestep > 0 else 0
        if substeps < 1 or abs(substeps * timestep - self.step_size) > 1e-9 * self.step_size:
            raise ValueError(f"step_size ({self.step_size} s) must be a whole number of MuJoCo timesteps "
                             f"({timestep} s)")
        self.substeps = substeps
        self.timestep = timestep
        self.integrator = integrator  # accepted for the OpenSim engine's signature; unused here
        self.visualize = False
        if visualize:
            warnings.warn("the MuJoCo engine has no live viewer: visualize=True is ignored", stacklevel=2)
        self.model_name, description = resolve_model(model)
        self.fitted = bool(fitted)
        self._build(description)

    def _build(self, description: Description) -> None:
        """Compile ``description`` and index it; the engine is then at its default pose."""
        import json

        mujoco = self._mujoco
        try:
            text = _mjcf_text(json.dumps(description, sort_keys=True), self.timestep, self.fitted)
        except MjcfError as error:
            raise ValueError(f"the MuJoCo engine cannot build model {self.model_name!r}: {error}") from error
        self.description = description
        self.mj_model = mujoco.MjModel.from_xml_string(text)
        self.mj_data = mujoco.MjData(self.mj_model)
        self._index()
        self._structure = self._read_structure()
        self.muscle_names = [muscle.name for muscle in self._structure.muscles]
        self.n_muscles = len(self.muscle_names)
        self.istep = 0
        self.last_excitations = np.full(self.n_muscles, INITIAL_EXCITATION)
        self._arrays: StateArrays | None = None
        self._scratch: Any = None  # an MjData for describing a state the engine has stepped past
        self._scratch_of: StateArrays | None = None
        # (qpos, qvel, act) at which _forward last ran on mj_data: the next step may skip recomputing them
        self._forwarded: tuple[bytes, bytes, bytes] | None = None
        self._accelerated = False  # whether the acceleration stage ran after _forward on mj_data
        # _forward may run mj_forward's stages one by one (what it skips needs no sensors or energy)
        self._staged_forward = (self.mj_model.nsensor == 0
                                and not self.mj_model.opt.enableflags & int(mujoco.mjtEnableBit.mjENBL_ENERGY))
        # mj_step with forward/inverse comparison on does more than _first_substep reproduces
        self._skip_possible = not (self.mj_model.opt.enableflags & int(mujoco.mjtEnableBit.mjENBL_FWDINV))
        # Whether the actuator forces depend on the state alone, not on the controls: every actuator
        # has activation dynamics and acts with its current activation (not actearly). Then the
        # acceleration stage a read computed (constraint solver included) is the one the next step's
        # first substep would compute, whatever the new controls: that substep reuses it.
        model = self.mj_model
        self._forces_ignore_controls = bool(
            self._staged_forward and model.nu
            and np.all(model.actuator_dyntype != int(mujoco.mjtDyn.mjDYN_NONE))
            and not np.any(model.actuator_actearly))
        self._velocity_stage = mujoco.mjtStage.mjSTAGE_VEL
        integrator = self.mj_model.opt.integrator  # mj_step's integration, by the model's integrator
        if integrator == mujoco.mjtIntegrator.mjINT_EULER:
            self._integrate = mujoco.mj_Euler
        elif integrator == mujoco.mjtIntegrator.mjINT_RK4:
            self._integrate = lambda model, data: mujoco.mj_RungeKutta(model, data, 4)
        else:  # implicit and implicitfast
            self._integrate = mujoco.mj_implicit
        self._warmstart = np.zeros(self.mj_model.nv)
        self._failed: str | None = None
        # MuJoCo's integration state at the start of the step being taken (mj_getState into one
        # preallocated buffer each step): a step that diverges is undone to it, so the state after a
        # failure is the last valid one, as on OpenSim.
        self._state_signature = int(mujoco.mjtState.mjSTATE_INTEGRATION)
        self._step_start = np.empty(mujoco.mj_stateSize(self.mj_model, self._state_signature))
        # A live view of MuJoCo's warning counters: the divergence checks reset the data and count.
        self._warnings = self.mj_data.warning.number
        warning = mujoco.mjtWarning
        self._divergence_warnings = (int(warning.mjWARN_BADQPOS), int(warning.mjWARN_BADQVEL),
                                     int(warning.mjWARN_BADQACC))
        self.reset()
        self._measure_path_offsets()  # at the default pose

    def add_bodies(self, parts: Description) -> None:
        """Add bodies, the joints that carry them and their contact geometry and contact forces
        (model-description format, ``{"bodies": [...], "joints": [...], "contact_geometry": [...],
        "forces": [...]}``, the last two optional) to the model, after its own; the engine is
        rebuilt, at its default pose.

        What a scene adds to a model (the arm's target, RunEnv's obstacles: :mod:`osim.engine.scene`),
        as OpenSim's ``addBody``/``addJoint``/``addContactGeometry``/``addForce`` and ``initSystem``
        do: structure, state description and state variables list them after the model's own. A
        name already in the model is refused. The rebuilt model has its muscles at full strength
        (``set_strength`` again afterwards).
        """
        sections = ("bodies", "joints", "contact_geometry", "forces")
        added = {key: list(parts.get(key, [])) for key in sections}
        if not added["bodies"] or set(parts) - set(sections):
            raise ValueError("expected {'bodies': [...], 'joints': [...]} (and optionally 'contact_geometry' and "
                             f"'forces') with at least one body, got keys {sorted(parts)}")
        names = [item["name"] for key in sections for item in added[key]]
        known = {item["name"] for key in sections for item in self.description.get(key, [])}
        clashes = sorted(known & set(names))
        if clashes:
            raise ValueError(f"the model already has {clashes}")
        description = {**self.description,
                       **{key: [*self.description.get(key, []), *added[key]] for key in sections}}
        self._build(description)

    # -- indices (once) -------------------------------------------------------------------------

    def _id(self, kind: Any, name: str) -> int:
        index = int(self._mujoco.mj_name2id(self.mj_model, kind, name))
        if index < 0:
            raise ValueError(f"the MuJoCo model of {self.model_name!r} has no {kind.name[6:].lower()} {name!r}")
        return index

    def _index(self) -> None:
        """Name -> MuJoCo index maps and the arrays the description is computed from."""
        mujoco, model, description = self._mujoco, self.mj_model, self.description
        obj = mujoco.mjtObj
        self._coordinates = [c for joint in description["joints"] for c in joint.get("coordinates", [])]
        joint_ids = [self._id(obj.mjOBJ_JOINT, c["name"]) for c in self._coordinates]
        self._qadr = np.array([model.jnt_qposadr[j] for j in joint_ids], dtype=int)
        self._dadr = np.array([model.jnt_dofadr[j] for j in joint_ids], dtype=int)
        self._joint_ids = joint_ids
        self._coordinate_column = {c["name"]: k for k, c in enumerate(self._coordinates)}
        self._joint_slices: list[tuple[str, list[int]]] = []
        for joint in description["joints"]:
            self._joint_slices.append((joint["name"], [self._coordinate_column[c["name"]]
                                                       for c in joint.get("coordinates", [])]))
        # Each joint's coordinates are consecutive columns (the columns are numbered joint by joint).
        self._joint_ranges: list[tuple[str, int, int]] = []
        for name, columns in self._joint_slices:
            start = self._joint_ranges[-1][2] if self._joint_ranges else 0
            self._joint_ranges.append((name, start, start + len(columns)))
        self._body_names = [body["name"] for body in description["bodies"]]
        self._body_ids = np.array([self._id(obj.mjOBJ_BODY, name) for name in self._body_names], dtype=int)
        self._muscles = [force for force in description["forces"] if is_muscle(force)]
        self._actuators = np.array([self._id(obj.mjOBJ_ACTUATOR, m["name"]) for m in self._muscles], dtype=int)
        self._tendons = model.actuator_trnid[self._actuators, 0].astype(np.intp)
        self._act = model.actuator_actadr[self._actuators].astype(np.intp)
        self._built_forces = model.actuator_gainprm[self._actuators, 2].copy()  # set_strength scales these
        self.strength = np.ones(len(self._muscles))
        low, high = model.actuator_lengthrange[self._actuators].T
        self._optimal = high - low  # the mapping of mjcf.muscle_element: normalised range [0.5, 1.5]
        self._slack = low - 0.5 * self._optimal
        self._tendon_slack = np.array([float(m["properties"]["tendon_slack_length"]) for m in self._muscles])
        self._path_offset = np.zeros(len(self._muscles))  # set by _measure_path_offsets
        self._fiber_width = np.array([  # OpenSim's constant fibre width (the pennation model's)
            float(p["optimal_fiber_length"]) * math.sin(float(p.get("pennation_angle_at_optimal", 0.0)))
            for p in (m["properties"] for m in self._muscles)])
        self._initial_activation = np.array([float(m["properties"].get("default_activation", DEFAULT_ACTIVATION))
                                             for m in self._muscles])
        # Locked coordinates: the joint equality holding each one, to hold a set_pose value instead.
        self._locks: dict[str, int] = {}
        for index in range(model.neq):
            name = mujoco.mj_id2name(model, obj.mjOBJ_EQUALITY, index) or ""
            if name.startswith("lock_"):
                self._locks[name[5:]] = index
        self._lock_defaults = {name: float(model.eq_data[index, 0]) for name, index in self._locks.items()}
        geom_of = {name: self._id(obj.mjOBJ_GEOM, name) for name in
                   (g["name"] for g in description["contact_geometry"])}
        self._geom_body = {geom: int(model.geom_bodyid[geom]) for geom in geom_of.values()}
        self._geom_bodyid = model.geom_bodyid  # a view (property reads build a new one each time)
        self._forces: list[tuple[str, str, Any]] = []  # (name, kind, target) in the description's order
        # Which contact force each MuJoCo contact (geom pair) belongs to, as the contact forces are
        # numbered here; a pair of no force belongs to the extra last one (recorded by none).
        n_contact_forces = sum(force["type"] == "HuntCrossleyForce" for force in description["forces"])
        self._contact_owner = np.full((model.ngeom, model.ngeom), n_contact_forces, dtype=int)
        self._n_contact_forces = n_contact_forces
        contact_forces = 0
        for force in description["forces"]:
            kind = force["type"]
            if is_muscle(force):
                self._forces.append((force["name"], "muscle", self._muscles.index(force)))
            elif kind == "HuntCrossleyForce":
                geometry = [geom_of[name] for p in force["contact_parameters"] for name in p["geometry"]]
                spheres = [geom for geom in geometry if self._geom_body[geom] != 0]
                planes = [k for k, geom in enumerate(geometry) if self._geom_body[geom] == 0]
                self._forces.append((force["name"], "contact", (np.array(spheres, dtype=int), planes,
                                                                np.array(geometry, dtype=int), contact_forces)))
                self._own_contacts(contact_forces, geometry, planes)
                contact_forces += 1
            elif kind in ("CoordinateLimitForce", "SpringGeneralizedForce"):
                column = self._coordinate_column[force["properties"]["coordinate"]]
                self._forces.append((force["name"], "limit" if kind == "CoordinateLimitForce" else "spring", column))
            else:
                raise ValueError(f"the MuJoCo engine does not map force {force['name']!r} of type {kind!r}")
        self._force_kinds: dict[str, tuple[str, Any]] = {name: (kind, target) for name, kind, target in self._forces}
        # each contact force's spheres (its geometry on a body), as Python ints
        self._sphere_lists = {name: target[0].tolist() for name, kind, target in self._forces if kind == "contact"}
        # the contact forces whose first geometry is the ground's half-space (the feet's), for the
        # ground-force kernel: each one's row, owner and spheres (padded with -1)
        ground = [(name, target) for name, kind, target in self._forces if kind == "contact" and 0 in target[1]]
        self._ground_rows = {name: row for row, (name, _) in enumerate(ground)}
        self._ground_owners = np.array([target[3] for _, target in ground], dtype=np.intp)
        self._ground_sphere_counts = np.array([len(target[0]) for _, target in ground], dtype=np.intp)
        self._ground_spheres = np.full((len(ground), max(self._ground_sphere_counts, default=0)), -1, dtype=np.intp)
        for row, (_, target) in enumerate(ground):
            self._ground_spheres[row, :len(target[0])] = target[0]
        self._contact_result = np.zeros(6)
        markers = description.get("markers", [])
        self._marker_names = [m["name"] for m in markers]
        # Tracked points: body origins, body centres of mass (placed in _points), markers.
        marker_bodies = [self._id(obj.mjOBJ_BODY, frame_body(m["frame"])) for m in markers]
        self._point_bodies = np.array([*self._body_ids, *self._body_ids, *marker_bodies], dtype=int)
        self._point_offsets = np.zeros((len(self._point_bodies), 3))
        for k, marker in enumerate(markers):
            self._point_offsets[2 * len(self._body_ids) + k] = marker["location"]
        self._point_roots = model.body_rootid[self._point_bodies].astype(np.intp)
        self._body_masses = model.body_mass[self._body_ids].copy()
        self._total_mass = float(model.body_mass.sum())
        self._mass_fractions = self._body_masses / self._total_mass
        self._gravity = model.opt.gravity.copy()
        self._default_qpos = model.key_qpos[0].copy()
        self._index_sphere_pairs()

    def _own_contacts(self, owner: int, geometry: list[int], planes: list[int]) -> None:
        """Mark the geom pairs of one contact force's contacts as the force's: each sphere with the
        half-space, or (a force between spheres) its first sphere with each of the others."""
        if planes:
            pairs = [(geometry[p], g) for p in planes for k, g in enumerate(geometry) if k not in planes]
        else:
            pairs = [(geometry[0], g) for g in geometry[1:]]
        for a, b in pairs:
            self._contact_owner[a, b] = self._contact_owner[b, a] = owner

    def _index_sphere_pairs(self) -> None:
        """The explicit contact pairs of the forces between spheres, and their solref from the
        forces' laws (:mod:`osim.engine.mujoco.sphere_contact`)."""
        from .mjcf import sphere_pair_name

        mujoco, model = self._mujoco, self.mj_model
        self._weight = self._total_mass * float(np.linalg.norm(self._gravity))
        #: (pair id, force name, geom1, geom2) of every sphere pair
        self._sphere_pairs: list[tuple[int, str, int, int]] = []
        for force in self.description["forces"]:
            for parameters in force.get("contact_parameters", []):
                for other in parameters["geometry"][1:]:
                    name = sphere_pair_name(force["name"], other)
                    pair = int(mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_PAIR, name))
                    if pair >= 0:
                        self._sphere_pairs.append((pair, force["name"], int(model.pair_geom1[pair]),
                                                   int(model.pair_geom2[pair])))
        self._tune_sphere_pairs()

    def _tune_sphere_pairs(self) -> None:
        """Set each sphere pair's solref: MuJoCo's force at rest the spring matched to its force's
        Hunt-Crossley law where the contact carries the model's weight."""
        from .sphere_contact import matched_spring, pair_solref

        if not self._sphere_pairs:
            return
        model = self.mj_model
        laws = {force["name"]: force["contact_parameters"][0] for force in self.description["forces"]
                if force["type"] == "HuntCrossleyForce"}
        load = self._weight if self._weight > 0 else 1.0
        for pair, force, first, second in self._sphere_pairs:
            law = laws[force]
            radii = float(model.geom_size[first, 0]), float(model.geom_size[second, 0])
            _, spring, damping = matched_spring(float(law["stiffness"]), float(law["dissipation"]), *radii, load)
            bodies = model.geom_bodyid[[first, second]]
            inverse_weight = float(model.body_invweight0[bodies, 0].sum())
            model.pair_solref[pair] = pair_solref(spring, damping, inverse_weight)

    def _read_structure(self) -> ModelStructure:
        """The structure in OpenSim's names and order, MuJoCo's qpos/dof addresses as indices."""
        description = self.description
        coordinates = []
        motion = {axis["coordinate"]: "rotational" if axis["kind"] == "hinge" else "translational"
                  for joint in description["joints"] for axis in joint_axes(joint) if axis["function"] is None}
        for k, c in enumerate(self._coordinates):
            joint = next(j["name"] for j in description["joints"] if c in j.get("coordinates", []))
            low, high = (float(v) for v in c.get("range", (-math.inf, math.inf)))
            coordinates.append(CoordinateInfo(
                name=c["name"], joint=joint, motion_type=motion[c["name"]],  # type: ignore[arg-type]
                index=int(self._qadr[k]), speed_index=int(self._dadr[k]), value_column=2 * k,
                locked=bool(c.get("locked", False)), range=(low, high),
                default_value=float(c.get("default_value", 0.0))))
        joints = tuple(JointInfo(j["name"], _ground(frame_body(j["parent"])), _ground(frame_body(j["child"])),
                                 tuple(c["name"] for c in j.get("coordinates", []))) for j in description["joints"])
        n_values = 2 * len(self._coordinates)
        muscles = []
        for k, m in enumerate(self._muscles):
            p = m["properties"]
            muscles.append(MuscleInfo(
                name=m["name"], max_isometric_force=float(p["max_isometric_force"]),
                optimal_fiber_length=float(p["optimal_fiber_length"]),
                tendon_slack_length=float(p["tendon_slack_length"]),
                pennation_angle=float(p.get("pennation_angle_at_optimal", 0.0)),
                max_contraction_velocity=float(p.get("max_contraction_velocity", 10.0)),
                kind="mujoco.muscle (rigid tendon, fitted to Thelen2003Muscle)",
                activation_column=n_values + 2 * k))
        bodies = tuple(BodyInfo(b["name"], float(b["mass"]), _vec3(b["mass_center"]),
                                tuple(float(v) for v in b["inertia"]))  # type: ignore[arg-type]
                       for b in description["bodies"])
        contacts = tuple(ContactGeometryInfo(
            g["name"], _ground(frame_body(g["frame"])),
            "sphere" if g["type"] == "ContactSphere" else "half_space" if g["type"] == "ContactHalfSpace" else "other",
            float(g["radius"]) if "radius" in g else None, _vec3(g["location"]), _vec3(g["orientation"]))
            for g in description["contact_geometry"])
        markers = tuple(MarkerInfo(m["name"], _ground(frame_body(m["frame"])), _vec3(m["location"]))
                        for m in description.get("markers", []))
        state_variables = []
        for joint in description["joints"]:
            for c in joint.get("coordinates", []):
                state_variables += [f"/jointset/{joint['name']}/{c['name']}/value",
                                    f"/jointset/{joint['name']}/{c['name']}/speed"]
        for m in self._muscles:
            state_variables += [f"/forceset/{m['name']}/activation", f"/forceset/{m['name']}/fiber_length"]
        return ModelStructure(
            name=str(description["model"]["name"]), coordinates=tuple(coordinates), joints=joints,
            muscles=tuple(muscles), bodies=bodies, contact_geometry=contacts, markers=markers,
            forces=tuple(f["name"] for f in description["forces"]), state_variables=tuple(state_variables))

    # -- Engine interface -----------------------------------------------------------------------

    @property
    def structure(self) -> ModelStructure:
        """The model's structure (fixed: read from the description once)."""
        return self._structure

    @property
    def time(self) -> float:
        """Simulated time of the current state (s)."""
        return float(self.mj_data.time)

    def coordinate_locked(self, name: str) -> bool:
        """Whether coordinate ``name`` is locked (held by a joint equality), by default or in the current state."""
        info = self._structure.coordinate(name)
        lock = self._locks.get(name)
        return info.locked or (lock is not None and bool(self.mj_data.eq_active[lock]))

    def reset(self) -> None:
        """The default pose, zero speeds, time 0, activations at their default, excitations 1."""
        self._start({}, {})

    def set_pose(self, q: Mapping[str, float] | None = None, u: Mapping[str, float] | None = None) -> None:
        """:meth:`reset` with coordinate values ``q`` and speeds ``u`` by coordinate name.

        Coupled joints (the knee translations) follow their coordinate; a locked coordinate is held
        at the value given. Unknown names raise :class:`~osim.engine.UnknownComponentError`,
        non-finite values ``ValueError``, both before anything changes.
        """
        self._start(self._pose_entries(q or {}), self._pose_entries(u or {}))

    def _pose_entries(self, values: Mapping[str, float]) -> dict[int, float]:
        entries = {}
        for name, value in values.items():
            if name not in self._coordinate_column:
                self._structure.coordinate(name)  # raises, naming the valid coordinates
            number = float(value)
            if not math.isfinite(number):
                raise ValueError(f"coordinate {name!r} must be given a finite value, got {value!r}")
            entries[self._coordinate_column[name]] = number
        return entries

    def set_coordinates(self, values: Mapping[str, float], *, lock: Mapping[str, bool] | None = None) -> None:
        """Set coordinate values in the current state (speeds, time and the episode go on); ``lock``
        locks (True) or unlocks (False) coordinates at their value in this state.

        What OpenSim's ``Coordinate.setValue`` and ``setLocked`` on a state do, for the scenes
        (:mod:`osim.engine.scene`: the arm's target, RunEnv's obstacles). A coordinate can be locked here if the model
        locks it or marks it ``lockable``; a reset unlocks the lockable ones, as OpenSim's default
        state does. Unknown names and non-finite values are refused before anything changes.
        """
        entries = self._pose_entries(values)
        locks = dict(lock or {})
        for name in locks:
            self._structure.coordinate(name)  # an unknown name raises, naming the valid ones
            if name not in self._locks:
                raise ValueError(f"coordinate {name!r} cannot be locked on the MuJoCo engine: the model "
                                 "neither locks it nor marks it lockable")
        mujoco, model, data = self._mujoco, self.mj_model, self.mj_data
        self._keep_past(self._arrays)
        for column, value in entries.items():
            data.qpos[self._qadr[column]] = value
        for name, locked in locks.items():
            index = self._locks[name]
            model.eq_data[index, 0] = data.qpos[self._qadr[self._coordinate_column[name]]]
            data.eq_active[index] = locked
            if locked:
                data.qvel[self._dadr[self._coordinate_column[name]]] = 0.0  # a locked coordinate does not move
        mujoco.mj_forward(model, data)
        self._arrays = None
        self._forwarded = None

    def _drop_current(self) -> None:
        """The current state's arrays stop being the engine's without a snapshot (a reset, new
        strengths or contacts): compute what they left to be read later from the engine's data."""
        arrays = self._arrays
        if arrays is not None:
            arrays.fiber_force  # noqa: B018 - computes the muscle arrays while the data is this state's
        self._arrays = None

    def _start(self, values: dict[int, float], speeds: dict[int, float]) -> None:
        self._drop_current()
        mujoco, model, data = self._mujoco, self.mj_model, self.mj_data
        mujoco.mj_resetData(model, data)
        data.qpos[:] = self._default_qpos
        for name, index in self._locks.items():
            column = self._coordinate_column[name]
            model.eq_data[index, 0] = values.get(column, self._lock_defaults[name])
        for column, value in values.items():
            data.qpos[self._qadr[column]] = value
        apply_joint_equalities(model, data)
        for column, value in speeds.items():
            if not self._coordinates[column].get("locked"):  # a locked coordinate cannot move (OpenSim's lock)
                data.qvel[self._dadr[column]] = value
        data.act[self._act] = self._initial_activation
        data.ctrl[self._actuators] = INITIAL_EXCITATION
        data.time = 0.0
        mujoco.mj_forward(model, data)
        self.istep = 0
        self.last_excitations = np.full(self.n_muscles, INITIAL_EXCITATION)
        self._held = self.last_excitations  # what integrate() holds (actuate() sets it)
        self._arrays = None
        # mj_forward computed every stage at this state (from the warm start the first step uses):
        # reading the state and the first substep need not compute them again
        self._forwarded = self._forward_key(data)
        self._accelerated = True
        self._failed = None

    def step(self, excitations: Any) -> np.ndarray:
        """Hold ``excitations`` (validated and clipped as on OpenSim) for ``substeps`` MuJoCo steps."""
        values = validate_excitations(excitations, self.n_muscles)
        if self._failed is not None:
            raise SimulationError(f"the episode ended ({self._failed}): call reset() first")
        data = self.mj_data
        self._keep_past(self._arrays)
        data.ctrl[self._actuators] = values
        self._mujoco.mj_getState(self.mj_model, data, self._step_start, self._state_signature)
        remaining = self.substeps
        forwarded = self._forwarded_stages()
        if forwarded:
            self._first_substep(accelerated=forwarded == _ACCELERATED)
            remaining -= 1
        if remaining:
            self._mujoco.mj_step(self.mj_model, data, nstep=remaining)
        self.istep += 1
        self._arrays = None
        self.last_excitations = values
        # MuJoCo resets its data when the state diverges, and counts a warning.
        expected = self.istep * self.step_size
        counts, (bad_position, bad_velocity, bad_acceleration) = self._warnings, self._divergence_warnings
        if counts[bad_position] or counts[bad_velocity] or counts[bad_acceleration]:
            self._failed = self._divergence(expected)
            self._undo_step()
            raise SimulationError(self._failed)
        data.time = expected  # no drift from adding up substeps
        return values

    def actuate(self, excitations: Any) -> np.ndarray:
        """Hold ``excitations`` (validated and clipped as :meth:`step` does) for the next
        :meth:`integrate`, without stepping (the OpenSim engine's ``actuate``)."""
        self._held = validate_excitations(excitations, self.n_muscles)
        return self._held

    def integrate(self) -> None:
        """Advance one control interval with the excitations :meth:`actuate` set (since the last reset:
        the initial 1.0), as the OpenSim engine's ``integrate``."""
        self.step(self._held)

    def get_activations(self) -> list[float]:
        """Every muscle's activation in the current state, in excitation order."""
        return self.mj_data.act[self._act].tolist()

    def set_activations(self, activations: Any) -> None:
        """Write activations into the current state (the 2016-17 environments' action; the OpenSim
        engine's ``set_activations``). MuJoCo's activation dynamics take them from there."""
        values = np.asarray(activations, dtype=float)
        if values.shape != (self.n_muscles,):
            raise ValueError(f"activations must have shape ({self.n_muscles},), got {values.shape}")
        if not np.isfinite(values).all():
            raise ValueError("activations must be finite")
        self._keep_past(self._arrays)
        self.mj_data.act[self._act] = values
        # the forces follow the activations: nothing computed from the old ones is kept
        self._arrays = None
        self._forwarded = None

    def _forwarded_stages(self) -> int:
        """What :meth:`_forward` computed on the engine's data in the state it is in: 0 nothing (or it
        was another state), :data:`_FORWARDED` the position and velocity stages (the first substep need
        not compute them again), :data:`_ACCELERATED` also the acceleration stage, reusable by the
        first substep when the actuator forces do not depend on the new controls."""
        forwarded, self._forwarded = self._forwarded, None
        if forwarded is None or not self._skip_possible:
            return 0
        data = self.mj_data
        qpos, qvel, act = forwarded
        if qpos != data.qpos.tobytes() or qvel != data.qvel.tobytes():
            return 0
        if self._accelerated and self._forces_ignore_controls and act == data.act.tobytes():
            return _ACCELERATED
        return _FORWARDED

    def _first_substep(self, accelerated: bool) -> None:
        """``mj_step`` after :meth:`_forward` at the same state: MuJoCo's step (checks, forward,
        integration) without the position and velocity stages, which only depend on the state and
        are the ones ``_forward`` computed; the actuation stage (the activations' rates, from the new
        controls) is computed; the acceleration stage is computed unless ``accelerated`` (it ran after
        ``_forward``, from the same state and warm start, and the actuator forces do not depend on the
        controls: the same inputs, the same constraint forces and accelerations). The same numbers as
        ``mj_step``, one or two stage passes fewer per step."""
        mujoco, model, data = self._mujoco, self.mj_model, self.mj_data
        mujoco.mj_checkPos(model, data)
        mujoco.mj_checkVel(model, data)
        counts, (bad_position, bad_velocity, _) = self._warnings, self._divergence_warnings
        if counts[bad_position] or counts[bad_velocity]:
            mujoco.mj_forward(model, data)  # the checks reset the data: the stages are stale
        elif accelerated:
            mujoco.mj_fwdActuation(model, data)
        else:
            mujoco.mj_forwardSkip(model, data, self._velocity_stage, 0)
        mujoco.mj_checkAcc(model, data)
        self._integrate(model, data)

    def _undo_step(self) -> None:
        """Back to the state the diverged step started from (its description is read again from it)."""
        mujoco, model, data = self._mujoco, self.mj_model, self.mj_data
        mujoco.mj_setState(model, data, self._step_start, self._state_signature)
        self.istep -= 1
        mujoco.mj_forward(model, data)

    def _divergence(self, expected: float) -> str:
        mujoco, data = self._mujoco, self.mj_data
        checks = (("acceleration", mujoco.mjtWarning.mjWARN_BADQACC), ("position", mujoco.mjtWarning.mjWARN_BADQPOS),
                  ("velocity", mujoco.mjtWarning.mjWARN_BADQVEL))
        found = [(what, data.warning[kind].lastinfo) for what, kind in checks if data.warning[kind].number]
        what, dof = found[0] if found else ("state", -1)
        coordinate = next((c["name"] for k, c in enumerate(self._coordinates) if self._dadr[k] == dof), f"dof {dof}")
        return (f"the MuJoCo state diverged (non-finite or huge {what} at {coordinate}) during step {self.istep} "
                f"(t = {expected - self.step_size:.2f} s)")

    def state_variable_values(self) -> np.ndarray:
        """Coordinate values and speeds, then activation and fibre length per muscle (OpenSim's order)."""
        data = self.mj_data
        values = np.empty(len(self._structure.state_variables))
        n = len(self._coordinates)
        values[0:2 * n:2] = data.qpos[self._qadr]
        values[1:2 * n:2] = data.qvel[self._dadr]
        values[2 * n::2] = data.act[self._act]
        values[2 * n + 1::2] = self._fiber_lengths(data)[0]
        return values

    def state_vector(self) -> np.ndarray:
        """MuJoCo's continuous state: qpos, qvel, act."""
        data = self.mj_data
        return np.concatenate([data.qpos, data.qvel, data.act])

    # -- the state description ------------------------------------------------------------------

    def _fiber_lengths(self, data: Any) -> tuple[np.ndarray, np.ndarray]:
        """(fibre length, cosine of pennation) of every muscle: OpenSim's path length minus its
        tendon slack length (a rigid tendon), along OpenSim's constant-width fibre."""
        along = np.maximum(data.ten_length.take(self._tendons) - self._path_offset - self._tendon_slack, 1e-6)
        length = np.hypot(along, self._fiber_width)
        return length, along / length

    def _measure_path_offsets(self) -> None:
        """MuJoCo's tendon length minus OpenSim's path length of every muscle at the current pose.

        The fitted fixed sites reproduce OpenSim's moment arms (the length's slope), not its length:
        the difference is a constant per muscle, measured once from the description's own path
        points (conditional points where active, moving points where their functions put them)."""
        from .mjcf import function_values

        data = self.mj_data
        values = {f"/jointset/{joint}/{self._coordinates[k]['name']}": float(data.qpos[self._qadr[k]])
                  for joint, columns in self._joint_slices for k in columns}
        for k, muscle in enumerate(self._muscles):
            points = []
            for point in muscle["path"]["points"]:
                if point["type"] == "ConditionalPathPoint":
                    low, high = point["range"]
                    if not low <= values[point["coordinate"]] <= high:
                        continue
                if point["type"] == "MovingPathPoint":
                    location = np.array([function_values(point[axis]["function"],
                                                         np.array([values[point[axis]["coordinate"]]]))[0]
                                         for axis in "xyz"])
                else:
                    location = np.asarray(point["location"], float)
                body = self._id(self._mujoco.mjtObj.mjOBJ_BODY, frame_body(point["frame"]))
                points.append(data.xpos[body] + data.xmat[body].reshape(3, 3) @ location)
            length = float(np.sum(np.linalg.norm(np.diff(np.array(points), axis=0), axis=1)))
            self._path_offset[k] = float(data.ten_length[self._tendons[k]]) - length

    def _forward(self, data: Any) -> None:
        """What MuJoCo computes from ``data``'s state, leaving the next step as it was (its solver
        starts from the same warm start). On the engine's own data: ``mj_forward``'s position,
        velocity and actuation stages (kinematics, tendons, actuator forces), the acceleration
        stage (constraint forces, accelerations) waits for :meth:`_accelerate`."""
        mujoco, model = self._mujoco, self.mj_model
        if data is not self.mj_data or not self._staged_forward:
            np.copyto(self._warmstart, data.qacc_warmstart)
            mujoco.mj_forward(model, data)
            np.copyto(data.qacc_warmstart, self._warmstart)
            if data is self.mj_data:  # (a scratch MjData's pass says nothing about the engine's)
                self._accelerated = True
        else:
            # mj_forward's own sequence of stages (without sensors and energy: the model has none)
            mujoco.mj_fwdPosition(model, data)
            mujoco.mj_fwdVelocity(model, data)
            mujoco.mj_fwdActuation(model, data)
            self._accelerated = False
        if data is self.mj_data:
            self._forwarded = self._forward_key(data)

    @staticmethod
    def _forward_key(data: Any) -> tuple[bytes, bytes, bytes]:
        """What a forward pass's results depend on that can change between steps: qpos, qvel, act."""
        return data.qpos.tobytes(), data.qvel.tobytes(), data.act.tobytes()

    def _accelerate(self) -> None:
        """The rest of ``mj_forward`` on the engine's data after :meth:`_forward`: the acceleration
        stage (constraint solver: contact and limit forces, accelerations), once per state."""
        if self._accelerated:
            return
        mujoco, model, data = self._mujoco, self.mj_model, self.mj_data
        np.copyto(self._warmstart, data.qacc_warmstart)
        mujoco.mj_fwdAcceleration(model, data)
        mujoco.mj_fwdConstraint(model, data)
        np.copyto(data.qacc_warmstart, self._warmstart)
        self._accelerated = True

    # -- the state: arrays per state, the description on demand ---------------------------------

    def state_arrays(self) -> StateArrays:
        """The current state as arrays (:class:`~osim.engine.state_arrays.StateArrays`), made once per state."""
        arrays = self._arrays
        if arrays is None:
            arrays = self._arrays = self._make_arrays()
        return arrays

    def state_description(self) -> StateDescription:
        """The state-description dictionary (OpenSim's keys and layout), computed at most once per state."""
        return self.state_arrays().description()

    def _make_arrays(self) -> StateArrays:
        data = self.mj_data
        if self._forwarded is None or self._forwarded != self._forward_key(data):
            self._forward(data)  # (after a reset, mj_forward ran at this state already)
        position, velocity = self._points(data)
        count = len(self._body_ids)
        return StateArrays(
            self, q=data.qpos.take(self._qadr), qd=data.qvel.take(self._dadr), body_pos=position[:count],
            body_vel=velocity[:count], mass_center=self._mass_center, muscles=self._muscle_arrays,
            engine_data=_StateData(position, velocity))

    def _muscle_arrays(self, arrays: StateArrays) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Activation, fibre length, velocity and force of every muscle in the state of ``arrays``
        (computed when first read: from the engine's data while the state is current, else from a
        scratch MjData put back in it, which computes the same numbers)."""
        data = self.mj_data if arrays is self._arrays else self._data_of(arrays)
        kept: _StateData = arrays.engine_data
        if self._kernels is not None:
            activation, length, velocity, force, kept.tension = self._kernels.muscle_arrays(
                data.ten_length, data.ten_velocity, data.actuator_force, data.act, self._tendons, self._actuators,
                self._act, self._path_offset, self._tendon_slack, self._fiber_width)
            return activation, length, velocity, force
        fiber_length, cosine = self._fiber_lengths(data)
        tension = kept.tension = np.negative(data.actuator_force.take(self._actuators))
        return (data.act.take(self._act), fiber_length, data.ten_velocity.take(self._tendons) * cosine,
                tension / cosine)

    def _mass_center(self, arrays: StateArrays) -> tuple[np.ndarray, np.ndarray]:
        """The centre of mass and its velocity of the state of ``arrays`` (from its kept body centres
        of mass: computed when first read, the same numbers at any time)."""
        kept: _StateData = arrays.engine_data
        count, masses = len(self._body_ids), self._mass_fractions
        return masses @ kept.position[count:2 * count], masses @ kept.velocity[count:2 * count]

    def _keep_past(self, arrays: StateArrays | None) -> None:
        """Before the state of ``arrays`` is stepped past: keep what describes it later (a snapshot
        of MuJoCo's inputs), unless its description and forces are all computed already."""
        if arrays is None or arrays.has_description:
            return
        data = self.mj_data
        kept: _StateData = arrays.engine_data
        kept.snapshot = (data.qpos.copy(), data.qvel.copy(), data.act.copy(), data.ctrl.copy(),
                         data.qacc_warmstart.copy(), float(data.time))

    def _data_of(self, arrays: StateArrays) -> Any:
        """MjData in the state of ``arrays``, all of ``mj_forward`` computed: the engine's own while
        it is current, else a scratch MjData put back in that state (MuJoCo computes the same from
        the same inputs)."""
        if arrays is self._arrays:
            self._accelerate()
            return self.mj_data
        if self._scratch_of is arrays:
            return self._scratch
        kept: _StateData = arrays.engine_data
        if kept.snapshot is None:
            raise RuntimeError("this state is no longer the engine's and was not kept: describe it before stepping")
        mujoco, model = self._mujoco, self.mj_model
        if self._scratch is None:
            self._scratch = mujoco.MjData(model)
        scratch = self._scratch
        qpos, qvel, act, ctrl, warmstart, time = kept.snapshot
        scratch.qpos[:], scratch.qvel[:], scratch.act[:], scratch.ctrl[:] = qpos, qvel, act, ctrl
        scratch.qacc_warmstart[:], scratch.time = warmstart, time
        self._forward(scratch)
        self._scratch_of = arrays
        return scratch

    def _points(self, data: Any) -> tuple[np.ndarray, np.ndarray]:
        """Position and velocity (ground frame) of every tracked point: the body origins, the body
        centres of mass, then the markers (:attr:`_point_bodies` order)."""
        bodies, ids, count = self._point_bodies, self._body_ids, len(self._body_ids)
        if self._kernels is not None and not self._marker_names:
            return self._kernels.tracked_points(data.xpos, data.xipos, data.subtree_com, data.cvel, ids, bodies,
                                                self._point_roots)
        if self._marker_names:
            rotation = data.xmat[bodies].reshape(-1, 3, 3)
            position = data.xpos[bodies] + np.einsum("nij,nj->ni", rotation, self._point_offsets)
            position[count:2 * count] = data.xipos[ids]
        else:
            # Without markers every offset is zero: the rotated offset is +0.0 (the sum of products
            # starts from +0.0), so the origin is xpos + 0.0 (the same numbers, -0.0 made +0.0 too).
            position = np.empty((2 * count, 3))
            np.add(data.xpos.take(ids, 0), 0.0, out=position[:count])
            data.xipos.take(ids, 0, out=position[count:])
        offset = position - data.subtree_com.take(self._point_roots, 0)
        # cvel is a spatial vector about the subtree centre of mass
        spatial_velocity = data.cvel.take(bodies, 0)
        velocity = spatial_velocity[:, 3:] + _cross(spatial_velocity[:, :3], offset)
        return position, velocity

    def _point_accelerations(self, data: Any, position: np.ndarray, velocity: np.ndarray) -> np.ndarray:
        """Acceleration (ground frame) of the tracked points at ``position`` moving at ``velocity``
        (after ``mj_rnePostConstraint``)."""
        bodies = self._point_bodies
        offset = position - data.subtree_com[self._point_roots]
        spatial_acceleration = data.cacc[bodies]
        # cacc holds -gravity (what an accelerometer reads); the classical acceleration adds w x v.
        return (spatial_acceleration[:, 3:] + _cross(spatial_acceleration[:, :3], offset)
                + _cross(data.cvel[bodies, :3], velocity) + self._gravity)

    def describe_arrays(self, arrays: StateArrays) -> StateDescription:
        """The state description of the state of ``arrays`` (see :class:`StateArrays`), from its arrays."""
        data = self._data_of(arrays)
        self._mujoco.mj_rnePostConstraint(self.mj_model, data)
        kept: _StateData = arrays.engine_data
        q, qd, qdd = arrays.q.tolist(), arrays.qd.tolist(), data.qacc[self._dadr].tolist()
        ranges = self._joint_ranges
        joint_pos = {name: q[start:stop] for name, start, stop in ranges}
        joint_vel = {name: qd[start:stop] for name, start, stop in ranges}
        joint_acc = {name: qdd[start:stop] for name, start, stop in ranges}

        position, velocity = kept.position, kept.velocity
        acceleration = self._point_accelerations(data, position, velocity)
        ids, names, count = self._body_ids, self._body_names, len(self._body_ids)
        rotation = _body_fixed_xyz(data.xmat[ids].reshape(-1, 3, 3))
        body_pos = dict(zip(names, arrays.body_pos.tolist()))
        body_vel = dict(zip(names, arrays.body_vel.tolist()))
        body_acc = dict(zip(names, acceleration[:count].tolist()))
        body_pos_rot = dict(zip(names, rotation.tolist()))
        body_vel_rot = dict(zip(names, data.cvel[ids, :3].tolist()))
        body_acc_rot = dict(zip(names, data.cacc[ids, :3].tolist()))
        misc = {"mass_center_pos": arrays.mass_center_pos.tolist(),
                "mass_center_vel": arrays.mass_center_vel.tolist(),
                "mass_center_acc": (self._mass_fractions @ acceleration[count:2 * count]).tolist()}
        markers = {name: {"pos": p, "vel": v, "acc": a} for name, p, v, a in zip(
            self._marker_names, position[2 * count:].tolist(), velocity[2 * count:].tolist(),
            acceleration[2 * count:].tolist())}
        muscles = {name: {"activation": a, "fiber_length": length, "fiber_velocity": v, "fiber_force": f}
                   for name, a, length, v, f in zip(
                       self.muscle_names, arrays.activation.tolist(), arrays.fiber_length.tolist(),
                       arrays.fiber_velocity.tolist(), arrays.fiber_force.tolist())}
        forces = {name: arrays.force(name).tolist() for name, _, _ in self._forces}
        return {"joint_pos": joint_pos, "joint_vel": joint_vel, "joint_acc": joint_acc,
                "body_pos": body_pos, "body_vel": body_vel, "body_acc": body_acc,
                "body_pos_rot": body_pos_rot, "body_vel_rot": body_vel_rot, "body_acc_rot": body_acc_rot,
                "forces": forces, "muscles": muscles, "markers": markers, "misc": misc}

    def _contact_forces(self, data: Any) -> np.ndarray:
        """The force of every contact on its geom2 (normal 1 -> 2), ground frame, (ncon, 3)."""
        mujoco, model = self._mujoco, self.mj_model
        count = data.ncon
        results = np.empty((count, 6))
        for i in range(count):  # (for the few contacts here, faster than decoding efc_force in arrays)
            mujoco.mj_contactForce(model, data, i, results[i])
        forces = np.ascontiguousarray(results[:, :3])
        contacts = data.contact
        return np.einsum("nji,nj->ni", contacts.frame.reshape(count, 3, 3), forces)

    def _contact_wrenches(self, data: Any, forces: np.ndarray, torques: bool) -> np.ndarray:
        """Per contact force (the first axis, in :attr:`_forces` order) and geom (the second, of
        ``ngeom``), summed over the force's contacts of ``forces``: the force on the geom's body and,
        with ``torques``, the torque about the body origin and about the ground origin (ground frame).
        The force columns are the same either way (the same additions in the same order)."""
        wrenches = np.zeros((self._n_contact_forces + 1, self.mj_model.ngeom, 9 if torques else 3))
        if not len(forces):
            return wrenches
        contacts = data.contact
        points = contacts.pos
        owners = self._contact_owner[contacts.geom1, contacts.geom2]
        for geoms, signed in ((contacts.geom2, forces), (contacts.geom1, -forces)):
            bodies = self._geom_bodyid[geoms]
            if not bodies.any():
                continue  # all on the ground (the plane): its share is each force's reaction
            share = signed
            if torques:
                share = np.concatenate([signed, _cross(points - data.xpos[bodies], signed), _cross(points, signed)],
                                       axis=1)
            np.add.at(wrenches, (owners, geoms), share)
        return wrenches

    def ground_force(self, arrays: StateArrays, name: str) -> np.ndarray:
        """The first three values of force ``name``'s record: for a contact force whose first geometry is
        the ground's half-space, the force on the ground (the reaction of its spheres), computed
        without the torques."""
        kind, target = self._force_kinds.get(name, ("", None))
        if kind != "contact" or 0 not in target[1]:
            return self.force_record(arrays, name)[:3]
        kept: _StateData = arrays.engine_data
        if kept.wrenches is not None:
            return self.force_record(arrays, name)[:3]
        if self._kernels is not None:
            grounds = kept.ground_forces
            if grounds is None:
                grounds = kept.ground_forces = self._ground_forces(self._data_of(arrays))
            return grounds[self._ground_rows[name]]
        sums = kept.geom_forces
        if sums is None:
            sums = kept.geom_forces = self._geom_forces(self._data_of(arrays))
        # np.add.reduce over the spheres' rows (from the first row on), then negated, in floats;
        # only this force's own contacts (a foot sphere may also touch an obstacle)
        owner = target[3]
        spheres = self._sphere_lists[name]
        x, y, z = sums.get((owner, spheres[0]), _NO_FORCE)
        for sphere in spheres[1:]:
            dx, dy, dz = sums.get((owner, sphere), _NO_FORCE)
            x, y, z = x + dx, y + dy, z + dz
        return np.array([-x, -y, -z])

    def _ground_forces(self, data: Any) -> np.ndarray:
        """Every foot contact force's force on the ground (rows in :attr:`_ground_rows` order), by the
        kernel: the numbers of :meth:`ground_force`'s NumPy path."""
        mujoco, model, kernels = self._mujoco, self.mj_model, self._kernels
        assert kernels is not None  # (called only with the kernels loaded)
        results = np.empty((data.ncon, 6))
        for i in range(data.ncon):
            mujoco.mj_contactForce(model, data, i, results[i])
        contacts = data.contact
        return kernels.ground_forces(results, contacts.frame, contacts.geom1, contacts.geom2, self._contact_owner,
                                     self._ground_owners, self._ground_spheres, self._ground_sphere_counts)

    def _geom_forces(self, data: Any) -> dict[tuple[int, int], tuple[float, float, float]]:
        """The force columns of :meth:`_contact_wrenches` of every (contact force, geom) in a contact,
        as Python floats (a pair in none has zeros): the same operations in the same order as the contact forces'
        ``einsum`` (each component from 0.0 on) and the wrenches' ``np.add.at`` (the contacts'
        geom2 sides, then their geom1 sides with the force negated). The ground's sums, never read,
        may differ (the wrenches leave out a side that is all on the ground)."""
        mujoco, model = self._mujoco, self.mj_model
        count = data.ncon
        if not count:
            return {}
        contacts = data.contact
        frames, first, second = contacts.frame.tolist(), contacts.geom1.tolist(), contacts.geom2.tolist()
        owners = self._contact_owner[contacts.geom1, contacts.geom2].tolist()
        result = self._contact_result
        forces = []
        for i in range(count):
            mujoco.mj_contactForce(model, data, i, result)
            f0, f1, f2 = result.tolist()[:3]
            r = frames[i]  # the contact frame's rows: the force in the ground frame is frame.T @ f
            forces.append((0.0 + r[0] * f0 + r[3] * f1 + r[6] * f2, 0.0 + r[1] * f0 + r[4] * f1 + r[7] * f2,
                           0.0 + r[2] * f0 + r[5] * f1 + r[8] * f2))
        sums: dict[tuple[int, int], tuple[float, float, float]] = {}
        for geoms, sign in ((second, 1.0), (first, -1.0)):
            for owner, geom, (fx, fy, fz) in zip(owners, geoms, forces):
                x, y, z = sums.get((owner, geom), _NO_FORCE)
                if sign < 0:
                    fx, fy, fz = -fx, -fy, -fz
                sums[(owner, geom)] = (x + fx, y + fy, z + fz)
        return sums

    def _forces_of(self, arrays: StateArrays) -> np.ndarray:
        kept: _StateData = arrays.engine_data
        if kept.contact_forces is None:
            kept.contact_forces = self._contact_forces(self._data_of(arrays))
        return kept.contact_forces

    def force_record(self, arrays: StateArrays, name: str) -> np.ndarray:
        """OpenSim's record of force ``name`` in the state of ``arrays``: muscles 1 value (tendon
        force), contacts 6 per geometry, limits 2, springs 1."""
        if name not in self._force_kinds:
            raise KeyError(f"the model has no force {name!r}")
        kind, target = self._force_kinds[name]
        kept: _StateData = arrays.engine_data
        if kind == "muscle":
            if kept.tension is None:
                arrays.fiber_force  # noqa: B018 - computes the muscle arrays and their tensions
            assert kept.tension is not None
            return kept.tension[target:target + 1].copy()
        data = self._data_of(arrays)
        if kind == "contact":
            if kept.wrenches is None:
                kept.wrenches = self._contact_wrenches(data, self._forces_of(arrays), torques=True)
            # OpenSim's layout: 6 values per geometry of the force; the half-space gets the
            # reaction of this force's spheres only, its torque about the ground origin.
            spheres, planes, geometry, owner = target
            wrenches = kept.wrenches[owner]
            reaction = -wrenches[spheres].sum(axis=0)
            values = wrenches[geometry, :6]
            values[planes] = reaction.take(_FORCE_AND_GROUND_TORQUE)
            return values.ravel()
        if kind == "limit":
            if kept.limits is None:
                kept.limits = self._limit_forces(data)
            return np.array([kept.limits.get(self._joint_ids[target], 0.0), 0.0])
        dof = self._dadr[target]
        return np.array([float(data.qfrc_spring[dof] + data.qfrc_damper[dof])])

    def _limit_forces(self, data: Any) -> dict[int, float]:
        """MuJoCo joint id -> generalized force of its joint-limit constraint (absent: 0)."""
        model = self.mj_model
        forces: dict[int, float] = {}
        first = data.ne + data.nf  # constraint rows: equalities, friction, limits, contacts
        for row in range(first, first + data.nl):
            joint = int(data.efc_id[row])
            low, high = model.jnt_range[joint]
            # MuJoCo's limit row pushes up at the lower limit and down at the upper one.
            sign = 1.0 if data.qpos[model.jnt_qposadr[joint]] < 0.5 * (low + high) else -1.0
            forces[joint] = forces.get(joint, 0.0) + sign * float(data.efc_force[row])
        return forces

    def muscle_paths(self) -> list[np.ndarray]:
        """Each muscle's current path in the ground frame (``n_k x 3``, origin to insertion), in the
        muscles' order: the sites MuJoCo's tendon passes and its wrap tangent points, for drawing.
        With fitted sites the path runs through the fitted locations, as MuJoCo simulates it."""
        self.state_arrays()  # puts the position stage (tendon wrapping) in the current state
        data = self.mj_data
        # MuJoCo stores the path points of all tendons in one list, two to a row.
        points, objects = data.wrap_xpos.reshape(-1, 3), data.wrap_obj.reshape(-1)
        paths = []
        for tendon in self._tendons:
            start = int(data.ten_wrapadr[tendon])
            stop = start + int(data.ten_wrapnum[tendon])
            paths.append(points[start:stop][objects[start:stop] != _PULLEY])
        return paths

    def set_contact_spheres(self, radii: Mapping[str, float]) -> None:
        """Give contact spheres new radii (m), by name: what OpenSim's ``ContactSphere.setRadius``
        and ``initSystem`` do, at once (the scenes: RunEnv's obstacles, sized at every reset). The
        structure and the description follow; sphere pairs get their force's law again. Unknown
        names and radii that are not positive and finite are refused before anything changes."""
        values = self._positive_by_name(radii, {c.name for c in self._structure.contact_geometry if c.kind == "sphere"},
                                        "contact sphere", "radius")
        model = self.mj_model
        for name, radius in values.items():
            geom = self._id(self._mujoco.mjtObj.mjOBJ_GEOM, name)
            model.geom_size[geom, 0] = radius
            model.geom_rbound[geom] = radius  # the collision test's bounding sphere
            model.geom_aabb[geom, 3:] = radius
        geometry = [{**g, "radius": values[g["name"]]} if g["name"] in values else g
                    for g in self.description["contact_geometry"]]
        self.description = {**self.description, "contact_geometry": geometry}
        self._structure = dataclasses.replace(self._structure, contact_geometry=tuple(
            dataclasses.replace(c, radius=values[c.name]) if c.name in values else c
            for c in self._structure.contact_geometry))
        self._contacts_changed()

    def set_contact_stiffness(self, stiffness: Mapping[str, float]) -> None:
        """Give HuntCrossleyForces a new stiffness (OpenSim's ``setStiffness``, N/m^2 as there), by
        name. A force between spheres only (the scenes') changes its pairs' law; the ground forces'
        contacts are MuJoCo's own and do not take a stiffness, so naming one is refused."""
        forces = {f["name"]: f for f in self.description["forces"] if f["type"] == "HuntCrossleyForce"}
        paired = {force for _, force, _, _ in self._sphere_pairs}
        values = self._positive_by_name(stiffness, set(forces), "HuntCrossleyForce", "stiffness")
        grounded = sorted(set(values) - paired)
        if grounded:
            raise ValueError(f"the MuJoCo engine maps the stiffness of forces between spheres only; {grounded} "
                             "touch the ground through MuJoCo's own contact (see docs/engines.md)")
        self.description = {**self.description, "forces": [
            {**f, "contact_parameters": [{**p, "stiffness": values[f["name"]]} for p in f["contact_parameters"]]}
            if f["name"] in values else f for f in self.description["forces"]]}
        self._contacts_changed()

    def _positive_by_name(self, values: Mapping[str, float], names: set[str], kind: str,
                          quantity: str) -> dict[str, float]:
        checked = {}
        for name, value in dict(values).items():
            if name not in names:
                raise ValueError(f"the model has no {kind} {name!r}; expected one of {sorted(names)}")
            number = float(value)
            if not (number > 0 and math.isfinite(number)):
                raise ValueError(f"the {quantity} of {name!r} must be a positive finite number, got {value!r}")
            checked[name] = number
        return checked

    def _contacts_changed(self) -> None:
        self._tune_sphere_pairs()
        # The current state's contacts change: nothing computed from the old ones is kept (the
        # state's arrays keep what does not depend on them, as after new strengths).
        self._drop_current()
        self._forwarded = None
        self._scratch_of = None

    def set_strength(self, strength: Any) -> None:
        """Scale each muscle's maximum isometric force by ``strength[j]`` (1 = as built), as the OpenSim
        engine's ``set_strength``: the muscle actuator's force, in its gain and its bias."""
        values = validate_strength(strength, self.n_muscles)
        # The current state's forces change: nothing computed from the old ones is kept.
        self._drop_current()
        self._forwarded = None
        self.mj_model.actuator_gainprm[self._actuators, 2] = values * self._built_forces
        self.mj_model.actuator_biasprm[self._actuators, 2] = values * self._built_forces
        self.strength = values.copy()


class _StateData:
    """What the MuJoCo engine keeps with a :class:`StateArrays`: the tracked points, the muscle
    tensions, the contact wrenches and limit forces once computed, and (once the engine has stepped
    past the state) the snapshot that puts a scratch MjData back in it."""

    __slots__ = ("contact_forces", "geom_forces", "ground_forces", "limits", "position", "snapshot", "tension",
                 "velocity", "wrenches")

    def __init__(self, position: np.ndarray, velocity: np.ndarray) -> None:
        self.position, self.velocity = position, velocity
        self.tension: np.ndarray | None = None  # with the muscle arrays, when first read
        self.contact_forces: np.ndarray | None = None
        # the force columns of the wrenches of each geom in a contact, as floats (ground_force's)
        self.geom_forces: dict[tuple[int, int], tuple[float, float, float]] | None = None
        self.ground_forces: np.ndarray | None = None  # every foot's force on the ground (the kernel's)
        self.wrenches: np.ndarray | None = None
        self.limits: dict[int, float] | None = None
        self.snapshot: tuple[Any, ...] | None = None


def _vec3(values: Any) -> tuple[float, float, float]:
    return (float(values[0]), float(values[1]), float(values[2]))


#: ``wrap_obj`` of a tendon path's pulley entry (a branch marker, not a point).
_PULLEY = -2
#: What :meth:`MujocoSimulation._forwarded_stages` reports: the position and velocity stages computed
#: at the current state; the acceleration stage too.
_FORWARDED, _ACCELERATED = 1, 2
#: The force sums of a geom in no contact.
_NO_FORCE = (0.0, 0.0, 0.0)
#: A contact wrench row's force and torque about the ground origin (the half-space's record).
_FORCE_AND_GROUND_TORQUE = np.array([0, 1, 2, 6, 7, 8])
#: The components of a and b whose products make a cross product's terms: first the three positive
#: ones (a1 b2, a2 b0, a0 b1), then the three subtracted (a2 b1, a0 b2, a1 b0).
_CROSS_A, _CROSS_B = np.array([1, 2, 0, 2, 0, 1]), np.array([2, 0, 1, 1, 2, 0])


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cross product of (n, 3) arrays, in 4 array operations (``np.cross`` and a stack of the
    components cost several times more on the few rows here): the six products, then the differences
    ``a1 b2 - a2 b1``, ``a2 b0 - a0 b2``, ``a0 b1 - a1 b0``."""
    products = a.take(_CROSS_A, 1) * b.take(_CROSS_B, 1)
    return products[:, :3] - products[:, 3:]


def _body_fixed_xyz(rotations: np.ndarray) -> np.ndarray:
    """Body-fixed X-Y-Z angles of rotation matrices (n, 3, 3), as OpenSim's ``body_pos_rot``."""
    angles = np.empty((len(rotations), 3))
    np.arctan2(-rotations[:, 1, 2], rotations[:, 2, 2], out=angles[:, 0])
    # minimum/maximum: np.clip's dispatch costs more than the work on these few values (same result)
    np.arcsin(np.minimum(np.maximum(rotations[:, 0, 2], -1.0), 1.0), out=angles[:, 1])
    np.arctan2(-rotations[:, 0, 1], rotations[:, 0, 0], out=angles[:, 2])
    return angles
