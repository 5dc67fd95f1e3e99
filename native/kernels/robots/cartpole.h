/*
 * Cart-pole, the C part of src/models/analytic/cartpole.ts (same formulas, same order).
 * q = [x, theta], qd = [x_dot, theta_dot], u = [u]; params block [Mt, J, ml, g, bx, bth, gear]
 * as cartpoleRobot.native.paramBlock computes it. Included once per precision by robots.h
 * (see robot_step.inc for REAL, VEC, NV, ROUND, SINCOS, RECIP, NAME).
 */
#ifndef MPCD_ROBOT_CARTPOLE_INFO
#define MPCD_ROBOT_CARTPOLE_INFO
#define cartpole_NQ 2
#define cartpole_NU 1
#define cartpole_NPARAMS 7
#define cartpole_PARAM_NAMES "Mt,J,ml,g,bx,bth,gear"
#endif

typedef struct {
  REAL Mt, J, ml, mlg, MtJ, bx, bth, gear;
} NAME(cartpole_consts);

static inline NAME(cartpole_consts) NAME(cartpole_setup)(const double *params) {
  const double Mt = params[0], J = params[1], ml = params[2], g = params[3];
  return (NAME(cartpole_consts)){
      .Mt = (REAL)Mt, .J = (REAL)J, .ml = (REAL)ml, .mlg = (REAL)(ml * g), .MtJ = (REAL)(Mt * J), .bx = (REAL)params[4], .bth = (REAL)params[5], .gear = (REAL)params[6]};
}

/* Accelerations (xdd, thdd) as cartpole.ts computes them (one reciprocal of det for both). */
VM_INLINE void NAME(cartpole_accel)(const NAME(cartpole_consts) * p, VEC q[][NV], VEC qd[][NV], VEC u[][NV], VEC qdd[][NV]) {
  for (int v = 0; v < NV; v++) {
    VEC s, c;
    SINCOS(q[1][v], &s, &c);
    const VEC xd = qd[0][v], thd = qd[1][v];
    VEC f1 = p->gear * u[0][v] - p->bx * xd + p->ml * s * thd * thd;
    VEC f2 = p->mlg * s - p->bth * thd;
    VEC b = p->ml * c;
    VEC inv_det = RECIP(p->MtJ - b * b);
    qdd[0][v] = ROUND((p->J * f1 - b * f2) * inv_det);
    qdd[1][v] = ROUND((p->Mt * f2 - b * f1) * inv_det);
  }
}

#define ROBOT cartpole
#include "../robot_step.inc"
#undef ROBOT
