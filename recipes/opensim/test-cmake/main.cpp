// A body sliding down under gravity for 0.5 s, integrated by OpenSim; the
// result is compared with the closed form y(t) = -g t^2 / 2.
#include <OpenSim/OpenSim.h>

#include <cmath>
#include <cstdio>

int main() {
    using namespace OpenSim;
    const double g = 9.81, duration = 0.5;
    Model model;
    model.setGravity(SimTK::Vec3(0, -g, 0));
    auto* body = new Body("block", 1.0, SimTK::Vec3(0), SimTK::Inertia(0.1));
    model.addBody(body);
    auto* slider = new SliderJoint("slider", model.getGround(), SimTK::Vec3(0),
            SimTK::Vec3(0, 0, SimTK::Pi / 2), *body, SimTK::Vec3(0),
            SimTK::Vec3(0, 0, SimTK::Pi / 2));
    model.addJoint(slider);
    SimTK::State& state = model.initSystem();
    Manager manager(model);
    manager.setIntegratorAccuracy(1e-9);
    manager.initialize(state);
    const SimTK::State& end = manager.integrate(duration);
    const double y = slider->getCoordinate().getValue(end);
    const double expected = -0.5 * g * duration * duration;
    std::printf("OpenSim %s: y(%.1f) = %.9f, closed form %.9f\n",
            GetVersionAndDate().c_str(), duration, y, expected);
    return std::abs(y - expected) < 1e-6 ? 0 : 1;
}
