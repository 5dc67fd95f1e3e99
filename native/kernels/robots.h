/*
 * The native kernel's robots: THE table, one X(name) per robot, and each robot's own file.
 * A robot's file (robots/<name>.h) defines <name>_NQ, <name>_NU, <name>_NPARAMS,
 * <name>_PARAM_NAMES, and per precision its consts struct, <name>_setup(params) and
 * <name>_accel(consts, q, qd, u, qdd); robot_step.inc integrates it for any nq and nu.
 * The robot's id in analyticStep is its index here; the TypeScript finds it by name through
 * analyticRobots() (a robot's descriptor names its entry in native.kernel).
 *
 * Included once per precision (analytic_dynamics.inc), so no include guard.
 */
#define MPCD_ROBOTS(X) \
  X(cartpole)          \
  X(pendulum)

#include "robots/cartpole.h"
#include "robots/pendulum.h"
