/*
 * Pendulum, the C part of src/models/analytic/pendulum.ts. q = [theta], qd = [theta_dot],
 * u = [u]; params block [mgl, J, b, gear] as pendulumRobot.native.paramBlock computes it.
 * Included once per precision by robots.h (see robot_step.inc for the macros).
 */
#ifndef MPCD_ROBOT_PENDULUM_INFO
#define MPCD_ROBOT_PENDULUM_INFO
#define pendulum_NQ 1
#define pendulum_NU 1
#define pendulum_NPARAMS 4
#define pendulum_PARAM_NAMES "mgl,J,b,gear"
#endif

typedef struct {
  REAL mgl, inv_J, b, gear;
} NAME(pendulum_consts);

static inline NAME(pendulum_consts) NAME(pendulum_setup)(const double *params) {
  return (NAME(pendulum_consts)){.mgl = (REAL)params[0], .inv_J = (REAL)(1.0 / params[1]), .b = (REAL)params[2], .gear = (REAL)params[3]};
}

/* pendulum.ts divides by J; the reciprocal multiplies (within an ulp, before rounding). */
VM_INLINE void NAME(pendulum_accel)(const NAME(pendulum_consts) * p, VEC q[][NV], VEC qd[][NV], VEC u[][NV], VEC qdd[][NV]) {
  for (int v = 0; v < NV; v++) {
    VEC s, c;
    SINCOS(q[0][v], &s, &c);
    qdd[0][v] = ROUND((p->mgl * s - p->b * qd[0][v] + p->gear * u[0][v]) * p->inv_J);
  }
}

#define ROBOT pendulum
#include "../robot_step.inc"
#undef ROBOT
