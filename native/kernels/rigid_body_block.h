/*
 * The rigid-body kernel's params block (src/models/rigid-body/rigid-body-block.ts writes it; the
 * layout is written out there too, and a change to one is a change to both and a new version):
 * one Float64Array, all numbers doubles.
 *
 *   header, RB_HEADER doubles:
 *     0  layout version (RB_LAYOUT_VERSION)
 *     1  node count n (1..RB_MAX_NODES)
 *     2  nq (0..n): hinge and slide joints
 *     3  nu (0..RB_MAX_ACTUATORS): actuators
 *     4  friction velocity v_s (> 0): dry friction is -frictionloss * tanh(q_dot / v_s)
 *     5  gravity x, 6 y, 7 z (m/s^2, world frame)
 *   n nodes, RB_NODE_STRIDE doubles each, in tree order:
 *     0  parent node (-1 = the world; otherwise < the node's own index)
 *     1  joint type (0 none, 1 hinge, 2 slide)
 *     2  dof (index into q; -1 for a node without a joint; every dof on exactly one node)
 *     3..6    quat w x y z: the node's frame in its parent's at qpos0
 *     7..9    pos
 *     10..12  joint axis (node frame, unit)
 *     13..15  joint anchor (node frame)
 *     16      mass
 *     17..19  centre of mass (node frame)
 *     20..25  inertia about the centre of mass (node frame): xx yy zz xy xz yz
 *   nq dofs, RB_DOF_STRIDE doubles each:
 *     0 qpos0, 1 damping, 2 armature, 3 stiffness, 4 spring reference, 5 frictionloss,
 *     6 actuator force clamp low, 7 high (of the total actuator force at the joint)
 *   nu actuators, RB_ACTUATOR_STRIDE doubles each:
 *     0 dof, 1 gear, 2..4 gain g0 g1 g2, 5..7 bias b0 b1 b2,
 *     8 ctrl clamp low, 9 high, 10 force clamp low, 11 high
 *
 * Length RB_HEADER + n * RB_NODE_STRIDE + nq * RB_DOF_STRIDE + nu * RB_ACTUATOR_STRIDE exactly.
 * Absent clamps are -Infinity and +Infinity themselves (no sentinel); every other number must be
 * finite. rb_block_check checks all of it and names the first field that is wrong.
 *
 * The points block (rigidBodyPointsBlock in rigid-body-block.ts), for forward kinematics of named
 * points, is a second Float64Array:
 *   header, RB_POINTS_HEADER doubles: 0 layout version (RB_POINTS_LAYOUT_VERSION), 1 point count
 *     np (1..RB_MAX_POINTS)
 *   np points, RB_POINT_STRIDE doubles each: 0 node (-1 = the world, else a node of the tree's
 *     block), 1..3 position in that node's frame
 * Length RB_POINTS_HEADER + np * RB_POINT_STRIDE exactly, every number finite; rb_points_check.
 */
#ifndef MPCD_RIGID_BODY_BLOCK_H
#define MPCD_RIGID_BODY_BLOCK_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define RB_LAYOUT_VERSION 1
#define RB_HEADER 8
#define RB_NODE_STRIDE 26
#define RB_DOF_STRIDE 8
#define RB_ACTUATOR_STRIDE 12
#define RB_MAX_NODES 64
#define RB_MAX_ACTUATORS 256
#define RB_POINTS_LAYOUT_VERSION 1
#define RB_POINTS_HEADER 2
#define RB_POINT_STRIDE 4
#define RB_MAX_POINTS 256

enum { RB_JOINT_NONE = 0, RB_JOINT_HINGE = 1, RB_JOINT_SLIDE = 2 };

/* Node fields (offsets within a node's RB_NODE_STRIDE doubles). */
enum {
  RB_N_PARENT = 0,
  RB_N_TYPE = 1,
  RB_N_DOF = 2,
  RB_N_QUAT = 3,
  RB_N_POS = 7,
  RB_N_AXIS = 10,
  RB_N_ANCHOR = 13,
  RB_N_MASS = 16,
  RB_N_COM = 17,
  RB_N_INERTIA = 20,
};
/* Dof fields. */
enum { RB_D_QPOS0 = 0, RB_D_DAMPING, RB_D_ARMATURE, RB_D_STIFFNESS, RB_D_SPRINGREF, RB_D_FRICTION, RB_D_ACTFRC_LO, RB_D_ACTFRC_HI };
/* Actuator fields. */
enum { RB_A_DOF = 0, RB_A_GEAR = 1, RB_A_GAIN = 2, RB_A_BIAS = 5, RB_A_CTRL_LO = 8, RB_A_CTRL_HI = 9, RB_A_FORCE_LO = 10, RB_A_FORCE_HI = 11 };

/* Point fields. */
enum { RB_P_NODE = 0, RB_P_POS = 1 };

/* A checked block: its sizes and where its sections start. */
typedef struct {
  int n, nq, nu;
  double friction_velocity;
  double gravity[3];
  const double *node, *dof, *act; /* [n, RB_NODE_STRIDE], [nq, RB_DOF_STRIDE], [nu, RB_ACTUATOR_STRIDE] */
} rb_block;

static inline bool rb_is_index(double v, int lo, int hi) { return v >= lo && v <= hi && v == floor(v); }

/*
 * Checks a block of `len` doubles; fills *out, or returns false with a message (prefixed by fn)
 * naming the first field that is wrong.
 */
static bool rb_block_check(const double *b, size_t len, const char *fn, rb_block *out, char *msg, size_t msg_size) {
  if (len < RB_HEADER) {
    snprintf(msg, msg_size, "%s: the rigid-body block has %zu numbers, fewer than its %d-number header", fn, len, RB_HEADER);
    return false;
  }
  if (b[0] != RB_LAYOUT_VERSION) {
    snprintf(msg, msg_size, "%s: the rigid-body block has layout version %.17g, this addon reads version %d (rebuild with npm run build:native)", fn, b[0],
             RB_LAYOUT_VERSION);
    return false;
  }
  if (!rb_is_index(b[1], 1, RB_MAX_NODES)) {
    snprintf(msg, msg_size, "%s: the rigid-body block's node count must be an integer in [1, %d], got %.17g", fn, RB_MAX_NODES, b[1]);
    return false;
  }
  const int n = (int)b[1];
  if (!rb_is_index(b[2], 0, n)) {
    snprintf(msg, msg_size, "%s: the rigid-body block's nq must be an integer in [0, %d] (the node count), got %.17g", fn, n, b[2]);
    return false;
  }
  if (!rb_is_index(b[3], 0, RB_MAX_ACTUATORS)) {
    snprintf(msg, msg_size, "%s: the rigid-body block's nu must be an integer in [0, %d], got %.17g", fn, RB_MAX_ACTUATORS, b[3]);
    return false;
  }
  const int nq = (int)b[2], nu = (int)b[3];
  const size_t want = RB_HEADER + (size_t)n * RB_NODE_STRIDE + (size_t)nq * RB_DOF_STRIDE + (size_t)nu * RB_ACTUATOR_STRIDE;
  if (len != want) {
    snprintf(msg, msg_size, "%s: the rigid-body block has %zu numbers, but its header (layout %d, %d nodes, nq %d, nu %d) needs %zu", fn, len, RB_LAYOUT_VERSION, n, nq,
             nu, want);
    return false;
  }
  if (!(b[4] > 0 && isfinite(b[4]))) {
    snprintf(msg, msg_size, "%s: the rigid-body block's friction velocity must be finite and > 0, got %.17g", fn, b[4]);
    return false;
  }
  for (int e = 5; e < 8; e++) {
    if (!isfinite(b[e])) {
      snprintf(msg, msg_size, "%s: the rigid-body block's gravity must be finite, got %.17g", fn, b[e]);
      return false;
    }
  }
  out->n = n;
  out->nq = nq;
  out->nu = nu;
  out->friction_velocity = b[4];
  out->gravity[0] = b[5], out->gravity[1] = b[6], out->gravity[2] = b[7];
  out->node = b + RB_HEADER;
  out->dof = out->node + (size_t)n * RB_NODE_STRIDE;
  out->act = out->dof + (size_t)nq * RB_DOF_STRIDE;

  int dof_node[RB_MAX_NODES];
  for (int d = 0; d < nq; d++) dof_node[d] = -1;
  for (int i = 0; i < n; i++) {
    const double *nd = out->node + (size_t)i * RB_NODE_STRIDE;
    for (int e = 0; e < RB_NODE_STRIDE; e++) {
      if (!isfinite(nd[e])) {
        snprintf(msg, msg_size, "%s: the rigid-body block's node %d field %d must be finite, got %.17g", fn, i, e, nd[e]);
        return false;
      }
    }
    if (!rb_is_index(nd[RB_N_PARENT], -1, i - 1)) {
      snprintf(msg, msg_size, "%s: the rigid-body block's node %d has parent %.17g; a parent is -1 (the world) or an earlier node", fn, i, nd[RB_N_PARENT]);
      return false;
    }
    if (!rb_is_index(nd[RB_N_TYPE], RB_JOINT_NONE, RB_JOINT_SLIDE)) {
      snprintf(msg, msg_size, "%s: the rigid-body block's node %d has joint type %.17g (0 none, 1 hinge, 2 slide)", fn, i, nd[RB_N_TYPE]);
      return false;
    }
    const bool jointed = nd[RB_N_TYPE] != RB_JOINT_NONE;
    if (jointed ? !rb_is_index(nd[RB_N_DOF], 0, nq - 1) : nd[RB_N_DOF] != -1) {
      snprintf(msg, msg_size, "%s: the rigid-body block's node %d has dof %.17g; a node %s", fn, i, nd[RB_N_DOF],
               jointed ? "with a joint has a dof in [0, nq)" : "without a joint has dof -1");
      return false;
    }
    if (jointed) {
      const int d = (int)nd[RB_N_DOF];
      if (dof_node[d] >= 0) {
        snprintf(msg, msg_size, "%s: the rigid-body block's nodes %d and %d both move dof %d", fn, dof_node[d], i, d);
        return false;
      }
      dof_node[d] = i;
    }
    if (!(nd[RB_N_MASS] >= 0)) {
      snprintf(msg, msg_size, "%s: the rigid-body block's node %d has mass %.17g, below 0", fn, i, nd[RB_N_MASS]);
      return false;
    }
  }
  for (int d = 0; d < nq; d++) {
    if (dof_node[d] < 0) {
      snprintf(msg, msg_size, "%s: the rigid-body block's dof %d is on no node", fn, d);
      return false;
    }
    const double *dd = out->dof + (size_t)d * RB_DOF_STRIDE;
    for (int e = 0; e < RB_D_ACTFRC_LO; e++) {
      if (!isfinite(dd[e])) {
        snprintf(msg, msg_size, "%s: the rigid-body block's dof %d field %d must be finite, got %.17g", fn, d, e, dd[e]);
        return false;
      }
    }
    if (isnan(dd[RB_D_ACTFRC_LO]) || isnan(dd[RB_D_ACTFRC_HI]) || dd[RB_D_ACTFRC_LO] > dd[RB_D_ACTFRC_HI]) {
      snprintf(msg, msg_size, "%s: the rigid-body block's dof %d has actuator force clamp [%.17g, %.17g]", fn, d, dd[RB_D_ACTFRC_LO], dd[RB_D_ACTFRC_HI]);
      return false;
    }
  }
  for (int a = 0; a < nu; a++) {
    const double *ad = out->act + (size_t)a * RB_ACTUATOR_STRIDE;
    for (int e = 0; e < RB_A_CTRL_LO; e++) {
      if (!isfinite(ad[e])) {
        snprintf(msg, msg_size, "%s: the rigid-body block's actuator %d field %d must be finite, got %.17g", fn, a, e, ad[e]);
        return false;
      }
    }
    if (!rb_is_index(ad[RB_A_DOF], 0, nq - 1)) {
      snprintf(msg, msg_size, "%s: the rigid-body block's actuator %d drives dof %.17g, not one in [0, %d)", fn, a, ad[RB_A_DOF], nq);
      return false;
    }
    for (int e = RB_A_CTRL_LO; e <= RB_A_FORCE_LO; e += 2) {
      if (isnan(ad[e]) || isnan(ad[e + 1]) || ad[e] > ad[e + 1]) {
        snprintf(msg, msg_size, "%s: the rigid-body block's actuator %d has %s clamp [%.17g, %.17g]", fn, a, e == RB_A_CTRL_LO ? "ctrl" : "force", ad[e], ad[e + 1]);
        return false;
      }
    }
  }
  return true;
}

/*
 * Checks a points block of `len` doubles for the tree of the checked block b; sets *np and *points
 * (the first point's fields), or returns false with a message (prefixed by fn).
 */
static bool rb_points_check(const double *p, size_t len, const rb_block *b, const char *fn, int *np, const double **points, char *msg, size_t msg_size) {
  if (len < RB_POINTS_HEADER) {
    snprintf(msg, msg_size, "%s: the points block has %zu numbers, fewer than its %d-number header", fn, len, RB_POINTS_HEADER);
    return false;
  }
  if (p[0] != RB_POINTS_LAYOUT_VERSION) {
    snprintf(msg, msg_size, "%s: the points block has layout version %.17g, this addon reads version %d (rebuild with npm run build:native)", fn, p[0],
             RB_POINTS_LAYOUT_VERSION);
    return false;
  }
  if (!rb_is_index(p[1], 1, RB_MAX_POINTS)) {
    snprintf(msg, msg_size, "%s: the points block's point count must be an integer in [1, %d], got %.17g", fn, RB_MAX_POINTS, p[1]);
    return false;
  }
  const int n = (int)p[1];
  const size_t want = RB_POINTS_HEADER + (size_t)n * RB_POINT_STRIDE;
  if (len != want) {
    snprintf(msg, msg_size, "%s: the points block has %zu numbers, but its header (layout %d, %d points) needs %zu", fn, len, RB_POINTS_LAYOUT_VERSION, n, want);
    return false;
  }
  for (int j = 0; j < n; j++) {
    const double *pt = p + RB_POINTS_HEADER + (size_t)j * RB_POINT_STRIDE;
    if (!rb_is_index(pt[RB_P_NODE], -1, b->n - 1)) {
      snprintf(msg, msg_size, "%s: the points block's point %d is on node %.17g; a node is -1 (the world) or one of the tree's %d", fn, j, pt[RB_P_NODE], b->n);
      return false;
    }
    for (int e = 0; e < 3; e++) {
      if (!isfinite(pt[RB_P_POS + e])) {
        snprintf(msg, msg_size, "%s: the points block's point %d position must be finite, got %.17g", fn, j, pt[RB_P_POS + e]);
        return false;
      }
    }
  }
  *np = n;
  *points = p + RB_POINTS_HEADER;
  return true;
}

#endif /* MPCD_RIGID_BODY_BLOCK_H */
