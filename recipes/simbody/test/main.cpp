// Checks of the Simbody APIs that the recipe's patches add or change, each
// against a value computed independently (by hand, from the physics).
#include <Simbody.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

using namespace SimTK;

namespace {

int failures = 0;

void check(bool ok, const char* what) {
    std::printf("%s: %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) ++failures;
}

// A type with only == and <: the other relational operators come from
// Simbody's generic templates, which patch 0001 makes usable in constant
// expressions (as fmt >= 9 requires).
struct Rank {
    int value;
};
constexpr bool operator==(const Rank& a, const Rank& b) { return a.value == b.value; }
constexpr bool operator<(const Rank& a, const Rank& b) { return a.value < b.value; }

static_assert(Rank{1} != Rank{2}, "constexpr operator!=");
static_assert(Rank{3} > Rank{2}, "constexpr operator>");
static_assert(Rank{2} <= Rank{2}, "constexpr operator<=");
static_assert(Rank{2} >= Rank{1}, "constexpr operator>=");

void checkForceContributionsSum() {
    // A pendulum on a pin joint: gravity plus a torsional spring on the pin.
    MultibodySystem system;
    SimbodyMatterSubsystem matter(system);
    GeneralForceSubsystem forces(system);
    const Real mass = 2.0, length = 0.5, g = 9.81, stiffness = 7.0, q0 = 0.1;
    const Body::Rigid body(MassProperties(mass, Vec3(0), Inertia(0.01)));
    MobilizedBody::Pin pendulum(matter.Ground(), Transform(), body, Transform(Vec3(0, length, 0)));
    Force::Gravity gravity(forces, matter, -YAxis, g);
    Force::MobilityLinearSpring spring(forces, pendulum, MobilizerQIndex(0), stiffness, q0);

    State state = system.realizeTopology();
    const Real q = 0.4;
    pendulum.setOneQ(state, 0, q);
    system.realize(state, Stage::Velocity);

    Vector_<SpatialVec> bodyForces;
    Vector mobilityForces;
    Array_<ForceIndex> springOnly{spring.getForceIndex()};
    forces.calcForceContributionsSum(state, springOnly, bodyForces, mobilityForces);
    check(std::abs(mobilityForces[0] - (-stiffness * (q - q0))) < 1e-12,
          "spring alone: mobility force is -k (q - q0)");
    check(bodyForces.size() == matter.getNumBodies() && bodyForces.norm() == 0,
          "spring alone: no body forces");

    Array_<ForceIndex> both{gravity.getForceIndex(), spring.getForceIndex()};
    forces.calcForceContributionsSum(state, both, bodyForces, mobilityForces);
    const Vec3 weight = bodyForces[pendulum.getMobilizedBodyIndex()][1];
    check((weight - Vec3(0, -mass * g, 0)).norm() < 1e-12, "gravity: body force is m g downwards");
    check(std::abs(mobilityForces[0] - (-stiffness * (q - q0))) < 1e-12,
          "gravity and spring: mobility force unchanged");

    spring.disable(state);
    system.realize(state, Stage::Velocity);
    forces.calcForceContributionsSum(state, springOnly, bodyForces, mobilityForces);
    check(mobilityForces.norm() == 0, "a disabled force contributes nothing");
}

void checkXmlPrecision() {
    Xml::Element element("values");
    Array_<double> third{1.0 / 3.0};
    element.setValueAs(third, 4);
    const Array_<double> back = element.getValueAs<Array_<double>>();
    const double error = std::abs(back[0] - 1.0 / 3.0);
    check(back.size() == 1 && error < 1e-4 && error > 1e-6,
          "Xml setValueAs(value, precision) keeps 4 significant digits");
}

void checkConstMomentum() {
    MultibodySystem system;
    SimbodyMatterSubsystem matter(system);
    const Real mass = 2.0;
    const Body::Rigid body(MassProperties(mass, Vec3(0), Inertia(1.0)));
    MobilizedBody::Free free(matter.Ground(), Transform(), body, Transform());
    State state = system.realizeTopology();
    free.setUToFitLinearVelocity(state, Vec3(1, 2, 3));
    system.realize(state, Stage::Velocity);
    const MobilizedBody& constBody = free;  // the call below needs a const method
    const SpatialVec momentum = constBody.calcBodyMomentumAboutBodyOriginInGround(state);
    check((momentum[1] - mass * Vec3(1, 2, 3)).norm() < 1e-12 && momentum[0].norm() < 1e-12,
          "const calcBodyMomentumAboutBodyOriginInGround: p = m v, no spin");
}

}  // namespace

int main() {
    checkForceContributionsSum();
    checkXmlPrecision();
    checkConstMomentum();
    std::printf("%d check(s) failed\n", failures);
    return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
