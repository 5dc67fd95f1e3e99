/*
 * The kinematic tree of a checked params block (rigid_body_block.h) recast, once per call and in
 * double, into the form the kernel's passes run on (rigid_body_aba.inc). Nothing here changes
 * the dynamics; it changes the frames and drops what every sample would recompute:
 *
 *   - Welded nodes (no joint) are merged into the node they move with: their mass, centre of
 *     mass and inertia are added to its body, their points are carried in its frame. A node
 *     welded to the world moves nothing. So there is one node per dof, "compact" nodes, in tree
 *     order (a compact node's parent comes before it).
 *   - Each compact node's frame is its joint frame: z along the joint axis, the origin on the
 *     hinge axis at the point nearest the body's centre of mass (at the centre itself for a
 *     slide). A hinge then turns its frame about z (R = R0 Rz(delta): two columns change, the
 *     axis is R's third column, the anchor is the origin), a slide moves it along z, and the
 *     body's centre of mass has no z component on a hinge (none at all on a slide).
 *   - Orientation that cannot change is found and kept as constants: a node whose joint and every
 *     joint above it slide (RB_CF_FIXED_ROT) never turns, so its rotation, its world axis and its
 *     rotational inertia in the world are constants; its spatial velocity has no angular part and
 *     its bias acceleration is gravity's. A hinge on such a node (or on the world,
 *     RB_CF_PARENT_FIXED_ROT) turns a constant frame, so its rotational inertia in the world is a
 *     constant combination of 1, cos 2d, sin 2d, cos d and sin d, and its centre of mass one of
 *     cos d and sin d.
 *   - The fixed frame the passes work in has the world's axes and its origin at the centroid of
 *     the compact nodes' origins at qpos0 (float32 keeps more of m |c|^2 - m c c^T that way; a
 *     uniform gravity field is the same acceleration about any point).
 *
 * Precision-independent; rb_tree_build fills an rb_tree the caller allocates (it is large).
 */
#ifndef MPCD_RIGID_BODY_SETUP_H
#define MPCD_RIGID_BODY_SETUP_H

#include <math.h>
#include <string.h>

#include "rigid_body_block.h"

/* A rigid transform: x_outer = r x_inner + p, r row-major. */
typedef struct {
  double r[9], p[3];
} rb_pose;

/* Compact node flags. */
#define RB_CF_FIXED_ROT 1        /* the node never turns: a slide under slides (or the world) */
#define RB_CF_PARENT_FIXED_ROT 2 /* its parent never turns (or is the world) */
#define RB_CF_MASSLESS 4         /* no mass, no inertia */
#define RB_CF_IC_AXIAL 8         /* hinge under a fixed rotation: the inertia's xz and yz (joint frame) are 0, so the cos d and sin d terms vanish */
#define RB_CF_IB_DIAG 16         /* the inertia is diagonal in the joint frame */
#define RB_CF_PERM 32            /* o_r is a signed permutation: column c of it is sign[c] times the unit vector perm[c] */

typedef struct {
  int parent;   /* compact node, -1 = the world */
  int type;     /* RB_JOINT_HINGE or RB_JOINT_SLIDE */
  int dof;      /* index into q */
  int flags;    /* RB_CF_* */
  int children; /* compact children */
  int o_p_nz;   /* bit k set where o_p[k] != 0 */
  int perm[3];  /* RB_CF_PERM: o_r[perm[c]][c] = sign[c], the rest of column c 0 */
  double sign[3];
  double qpos0;
  double o_r[9], o_p[3]; /* the joint frame at qpos0 in the parent's joint frame (a root: in the fixed frame) */
  double r0[9];          /* RB_CF_PARENT_FIXED_ROT: the frame's world rotation before its joint (for RB_CF_FIXED_ROT its rotation) */
  double p_off[3];       /* RB_CF_PARENT_FIXED_ROT: the parent's rotation times o_p (o_p itself on a root) */
  double mass, com[3];   /* centre of mass in the joint frame: com[2] = 0 on a hinge, com = 0 on a slide */
  double ib[6];          /* rotational inertia about the centre of mass, joint frame: xx yy zz xy xz yz */
  /*
   * RB_CF_FIXED_ROT: ic[0] the rotational inertia in the world axes. A hinge with
   * RB_CF_PARENT_FIXED_ROT: Ic(d) = ic[0] + cos 2d ic[1] + sin 2d ic[2] + cos d ic[3] + sin d ic[4].
   */
  double ic[5][6];
  double cw_a[3], cw_b[3]; /* R com in the world axes: RB_CF_FIXED_ROT cw_a; a hinge with RB_CF_PARENT_FIXED_ROT cos d cw_a + sin d cw_b */
  double icw[5][3];        /* a hinge with RB_CF_PARENT_FIXED_ROT: ic[k] times its (constant) world axis */
  double mg[3];            /* -mass * gravity */
  double d_body;           /* armature + S^T I S of the body alone (its inertia about its own axis, or its mass on a slide): D of a leaf */
  /*
   * A hinge with RB_CF_PARENT_FIXED_ROT: its centre's offset from the axis is r = cos d cw_a + sin d
   * cw_b, perpendicular to the constant axis w; w x r = cos d wxa + sin d wxb; S.p (gravity's
   * torque about the axis) = cos d sp[0] + sin d sp[1]. Its parent a slide of axis wp (then a
   * root's child): wp.(I S) = cos d ps[0] + sin d ps[1], wp.r = cos d pr[0] + sin d pr[1],
   * wp.(-m g) = pg, wp.(I wp) = pm. A slide with RB_CF_FIXED_ROT: S.p = sp[0], and under a
   * slide wp.(I S) = ps[0], pg and pm as for a hinge.
   */
  double wxa[3], wxb[3], sp[2], ps[2], pr[2], pg, pm;
} rb_cnode;

typedef struct {
  int n; /* compact nodes: one per dof */
  rb_cnode node[RB_MAX_NODES];
  double origin[3]; /* the fixed frame's origin in the world */
  /* Per block node: the compact node its frame moves with (-1: the world) and its frame in that node's joint frame (in the world's frame, not shifted). */
  int attach[RB_MAX_NODES];
  rb_pose frame[RB_MAX_NODES];
} rb_tree;

static void rb_pose_mul(const rb_pose *a, const rb_pose *b, rb_pose *out) {
  rb_pose t;
  for (int i = 0; i < 3; i++) {
    for (int j = 0; j < 3; j++) t.r[3 * i + j] = a->r[3 * i] * b->r[j] + a->r[3 * i + 1] * b->r[3 + j] + a->r[3 * i + 2] * b->r[6 + j];
    t.p[i] = a->r[3 * i] * b->p[0] + a->r[3 * i + 1] * b->p[1] + a->r[3 * i + 2] * b->p[2] + a->p[i];
  }
  *out = t;
}

static void rb_pose_inv(const rb_pose *a, rb_pose *out) {
  rb_pose t;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) t.r[3 * i + j] = a->r[3 * j + i];
  for (int i = 0; i < 3; i++) t.p[i] = -(t.r[3 * i] * a->p[0] + t.r[3 * i + 1] * a->p[1] + t.r[3 * i + 2] * a->p[2]);
  *out = t;
}

static void rb_pose_identity(rb_pose *a) {
  memset(a, 0, sizeof *a);
  a->r[0] = a->r[4] = a->r[8] = 1;
}

/* y = r x (y may not alias x). */
static void rb_rotate(const double *r, const double *x, double *y) {
  for (int i = 0; i < 3; i++) y[i] = r[3 * i] * x[0] + r[3 * i + 1] * x[1] + r[3 * i + 2] * x[2];
}

/* y = a x + p. */
static void rb_pose_apply(const rb_pose *a, const double *x, double *y) {
  rb_rotate(a->r, x, y);
  for (int i = 0; i < 3; i++) y[i] += a->p[i];
}

/* out = r S r^T for a symmetric S given as xx yy zz xy xz yz (out the same). */
static void rb_sym_rotate(const double *r, const double *s, double *out) {
  const double m[9] = {s[0], s[3], s[4], s[3], s[1], s[5], s[4], s[5], s[2]};
  double t[9], u[9];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) t[3 * i + j] = r[3 * i] * m[j] + r[3 * i + 1] * m[3 + j] + r[3 * i + 2] * m[6 + j];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) u[3 * i + j] = t[3 * i] * r[3 * j] + t[3 * i + 1] * r[3 * j + 1] + t[3 * i + 2] * r[3 * j + 2];
  out[0] = u[0], out[1] = u[4], out[2] = u[8], out[3] = 0.5 * (u[1] + u[3]), out[4] = 0.5 * (u[2] + u[6]), out[5] = 0.5 * (u[5] + u[7]);
}

/* A rotation whose third column is the unit k (a signed permutation where k is a coordinate axis). */
static void rb_axis_frame(const double *k, double *r) {
  int least = 0;
  for (int e = 1; e < 3; e++)
    if (fabs(k[e]) < fabs(k[least])) least = e;
  double x[3] = {0, 0, 0};
  x[least] = 1;
  const double dot = x[0] * k[0] + x[1] * k[1] + x[2] * k[2];
  for (int e = 0; e < 3; e++) x[e] -= dot * k[e];
  const double len = sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
  for (int e = 0; e < 3; e++) x[e] /= len;
  const double y[3] = {k[1] * x[2] - k[2] * x[1], k[2] * x[0] - k[0] * x[2], k[0] * x[1] - k[1] * x[0]};
  for (int i = 0; i < 3; i++) r[3 * i] = x[i], r[3 * i + 1] = y[i], r[3 * i + 2] = k[i];
}

static void rb_tree_build(const rb_block *b, rb_tree *t) {
  const int n = b->n;
  rb_pose off[RB_MAX_NODES];     /* block node frame in its parent's at qpos0 */
  rb_pose in_node[RB_MAX_NODES]; /* block node frame in the frame of the jointed block node it moves with (or the world) */
  rb_pose joint[RB_MAX_NODES];   /* a jointed block node's joint frame in its node frame */
  int att[RB_MAX_NODES];         /* the jointed block node each block node moves with, -1 the world */
  int cidx[RB_MAX_NODES];        /* compact index of a jointed block node */
  double mass[RB_MAX_NODES], com[RB_MAX_NODES][3], inertia[RB_MAX_NODES][6]; /* merged bodies, node frames */

  for (int i = 0; i < n; i++) {
    const double *nd = b->node + (size_t)i * RB_NODE_STRIDE;
    const double w = nd[RB_N_QUAT], x = nd[RB_N_QUAT + 1], y = nd[RB_N_QUAT + 2], z = nd[RB_N_QUAT + 3];
    double *r = off[i].r; /* rotation.ts quatToMatrix */
    r[0] = 1 - 2 * (y * y + z * z), r[1] = 2 * (x * y - w * z), r[2] = 2 * (x * z + w * y);
    r[3] = 2 * (x * y + w * z), r[4] = 1 - 2 * (x * x + z * z), r[5] = 2 * (y * z - w * x);
    r[6] = 2 * (x * z - w * y), r[7] = 2 * (y * z + w * x), r[8] = 1 - 2 * (x * x + y * y);
    for (int e = 0; e < 3; e++) off[i].p[e] = nd[RB_N_POS + e];
    const int p = (int)nd[RB_N_PARENT];
    if ((int)nd[RB_N_TYPE] != RB_JOINT_NONE) {
      att[i] = i;
      rb_pose_identity(&in_node[i]);
    } else if (p < 0) {
      att[i] = -1;
      in_node[i] = off[i];
    } else {
      att[i] = att[p];
      rb_pose_mul(&in_node[p], &off[i], &in_node[i]);
    }
    mass[i] = 0;
    for (int e = 0; e < 3; e++) com[i][e] = 0;
    for (int e = 0; e < 6; e++) inertia[i][e] = 0;
  }

  /* Bodies merged into the jointed node they move with: mass, centre, then inertia about it. */
  for (int i = 0; i < n; i++) {
    const int a = att[i];
    const double *nd = b->node + (size_t)i * RB_NODE_STRIDE;
    if (a < 0 || nd[RB_N_MASS] == 0) continue;
    double c[3];
    rb_pose_apply(&in_node[i], nd + RB_N_COM, c);
    mass[a] += nd[RB_N_MASS];
    for (int e = 0; e < 3; e++) com[a][e] += nd[RB_N_MASS] * c[e];
  }
  for (int i = 0; i < n; i++)
    if (mass[i] > 0)
      for (int e = 0; e < 3; e++) com[i][e] /= mass[i];
  for (int i = 0; i < n; i++) {
    const int a = att[i];
    const double *nd = b->node + (size_t)i * RB_NODE_STRIDE;
    if (a < 0) continue;
    double ii[6], c[3], d[3];
    rb_sym_rotate(in_node[i].r, nd + RB_N_INERTIA, ii);
    const double m = nd[RB_N_MASS];
    if (m != 0) {
      rb_pose_apply(&in_node[i], nd + RB_N_COM, c);
      for (int e = 0; e < 3; e++) d[e] = c[e] - com[a][e];
      const double d2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
      ii[0] += m * (d2 - d[0] * d[0]), ii[1] += m * (d2 - d[1] * d[1]), ii[2] += m * (d2 - d[2] * d[2]);
      ii[3] -= m * d[0] * d[1], ii[4] -= m * d[0] * d[2], ii[5] -= m * d[1] * d[2];
    }
    for (int e = 0; e < 6; e++) inertia[a][e] += ii[e];
  }

  /* Joint frames and compact nodes. */
  int nc = 0;
  for (int i = 0; i < n; i++) {
    const double *nd = b->node + (size_t)i * RB_NODE_STRIDE;
    const int type = (int)nd[RB_N_TYPE];
    cidx[i] = -1;
    if (type == RB_JOINT_NONE) continue;
    cidx[i] = nc++;
    const double *k = nd + RB_N_AXIS, *anchor = nd + RB_N_ANCHOR;
    rb_axis_frame(k, joint[i].r);
    if (type == RB_JOINT_HINGE) {
      double along = 0;
      if (mass[i] > 0)
        for (int e = 0; e < 3; e++) along += (com[i][e] - anchor[e]) * k[e];
      for (int e = 0; e < 3; e++) joint[i].p[e] = anchor[e] + along * k[e];
    } else {
      for (int e = 0; e < 3; e++) joint[i].p[e] = mass[i] > 0 ? com[i][e] : 0;
    }
  }
  t->n = nc;

  /* Every block node's frame in its compact node's joint frame (or the world's). */
  for (int i = 0; i < n; i++) {
    const int a = att[i];
    t->attach[i] = a < 0 ? -1 : cidx[a];
    if (a < 0) {
      t->frame[i] = in_node[i];
    } else {
      rb_pose inv;
      rb_pose_inv(&joint[a], &inv);
      rb_pose_mul(&inv, &in_node[i], &t->frame[i]);
    }
  }

  /* Compact nodes: offsets, bodies in joint frames; world poses at qpos0 for the origin. */
  rb_pose world0[RB_MAX_NODES];
  for (int e = 0; e < 3; e++) t->origin[e] = 0;
  for (int i = 0; i < n; i++) {
    const int c = cidx[i];
    if (c < 0) continue;
    const double *nd = b->node + (size_t)i * RB_NODE_STRIDE;
    rb_cnode *x = &t->node[c];
    memset(x, 0, sizeof *x);
    const int p = (int)nd[RB_N_PARENT];
    x->type = (int)nd[RB_N_TYPE];
    x->dof = (int)nd[RB_N_DOF];
    x->qpos0 = b->dof[(size_t)x->dof * RB_DOF_STRIDE + RB_D_QPOS0];
    x->parent = p < 0 ? -1 : t->attach[p];
    /* The joint frame at qpos0 in the parent's joint frame: parent frame, offset, joint frame. */
    rb_pose o, tmp;
    rb_pose_mul(&off[i], &joint[i], &tmp);
    if (p < 0)
      o = tmp;
    else
      rb_pose_mul(&t->frame[p], &tmp, &o); /* in the world's frame when the parent is welded to it */
    memcpy(x->o_r, o.r, sizeof o.r);
    memcpy(x->o_p, o.p, sizeof o.p);
    if (x->parent < 0)
      world0[c] = o;
    else
      rb_pose_mul(&world0[x->parent], &o, &world0[c]);
    for (int e = 0; e < 3; e++) t->origin[e] += world0[c].p[e] / nc;
    /* The merged body in the joint frame. */
    x->mass = mass[i];
    if (mass[i] > 0) {
      rb_pose inv;
      rb_pose_inv(&joint[i], &inv);
      rb_pose_apply(&inv, com[i], x->com);
      if (x->type == RB_JOINT_HINGE)
        x->com[2] = 0; /* zero but for rounding: the origin is the axis' point nearest the centre */
      else
        x->com[0] = x->com[1] = x->com[2] = 0; /* the origin is the centre */
    }
    double rt[9]; /* joint frame -> node frame is joint[i].r; node -> joint is its transpose */
    for (int r = 0; r < 3; r++)
      for (int col = 0; col < 3; col++) rt[3 * r + col] = joint[i].r[3 * col + r];
    rb_sym_rotate(rt, inertia[i], x->ib);
    const double scale = fabs(x->ib[0]) + fabs(x->ib[1]) + fabs(x->ib[2]);
    for (int e = 3; e < 6; e++)
      if (fabs(x->ib[e]) <= 1e-13 * scale) x->ib[e] = 0;
    if (x->ib[3] == 0 && x->ib[4] == 0 && x->ib[5] == 0) x->flags |= RB_CF_IB_DIAG;
    x->d_body = b->dof[(size_t)x->dof * RB_DOF_STRIDE + RB_D_ARMATURE] +
                (x->type == RB_JOINT_HINGE ? x->ib[2] + x->mass * (x->com[0] * x->com[0] + x->com[1] * x->com[1]) : x->mass);
    bool massless = x->mass == 0;
    for (int e = 0; e < 6; e++) massless = massless && x->ib[e] == 0;
    if (massless) x->flags |= RB_CF_MASSLESS;
  }

  for (int c = 0; c < nc; c++) {
    rb_cnode *x = &t->node[c];
    if (x->parent < 0)
      for (int e = 0; e < 3; e++) x->o_p[e] -= t->origin[e];
    else
      t->node[x->parent].children++;
    for (int e = 0; e < 3; e++)
      if (x->o_p[e] != 0) x->o_p_nz |= 1 << e;
    /* A signed permutation (joint frames of axis-aligned joints are; snapped where rounding left 1e-16s). */
    bool perm = true;
    for (int col = 0; col < 3 && perm; col++) {
      int at = -1;
      for (int r = 0; r < 3; r++) {
        const double v = x->o_r[3 * r + col];
        if (fabs(v) <= 1e-12) continue;
        if (fabs(fabs(v) - 1) > 1e-12 || at >= 0) perm = false;
        at = r;
      }
      if (at < 0) perm = false;
      if (perm) x->perm[col] = at, x->sign[col] = x->o_r[3 * at + col] > 0 ? 1 : -1;
    }
    if (perm && x->perm[0] != x->perm[1] && x->perm[0] != x->perm[2] && x->perm[1] != x->perm[2]) {
      x->flags |= RB_CF_PERM;
      for (int e = 0; e < 9; e++) x->o_r[e] = 0;
      for (int col = 0; col < 3; col++) x->o_r[3 * x->perm[col] + col] = x->sign[col];
    }
    const rb_cnode *xp = x->parent < 0 ? NULL : &t->node[x->parent];
    const bool parent_fixed = xp == NULL || (xp->flags & RB_CF_FIXED_ROT);
    for (int e = 0; e < 3; e++) x->mg[e] = -x->mass * b->gravity[e];
    if (!parent_fixed) continue;
    x->flags |= RB_CF_PARENT_FIXED_ROT;
    static const double eye[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    const double *rp = xp == NULL ? eye : xp->r0;
    for (int r = 0; r < 3; r++)
      for (int col = 0; col < 3; col++) x->r0[3 * r + col] = rp[3 * r] * x->o_r[col] + rp[3 * r + 1] * x->o_r[3 + col] + rp[3 * r + 2] * x->o_r[6 + col];
    rb_rotate(rp, x->o_p, x->p_off);
    const double w[3] = {x->r0[2], x->r0[5], x->r0[8]};
    if (x->type == RB_JOINT_SLIDE) {
      x->flags |= RB_CF_FIXED_ROT;
      rb_sym_rotate(x->r0, x->ib, x->ic[0]);
      rb_rotate(x->r0, x->com, x->cw_a);
      x->sp[0] = w[0] * x->mg[0] + w[1] * x->mg[1] + w[2] * x->mg[2];
      if (xp != NULL) { /* its parent a slide too: wp.(I S) = m wp.w */
        const double wp[3] = {xp->r0[2], xp->r0[5], xp->r0[8]};
        x->ps[0] = x->mass * (wp[0] * w[0] + wp[1] * w[1] + wp[2] * w[2]);
        x->pg = wp[0] * x->mg[0] + wp[1] * x->mg[1] + wp[2] * x->mg[2];
        x->pm = x->mass * (wp[0] * wp[0] + wp[1] * wp[1] + wp[2] * wp[2]);
      }
    } else {
      /* Rz Ib Rz^T = M0 + cos 2d M1 + sin 2d M2 + cos d M3 + sin d M4 (xx yy zz xy xz yz), then r0 M r0^T each. */
      const double a = x->ib[0], bb = x->ib[1], g = x->ib[2], d = x->ib[3], e = x->ib[4], f = x->ib[5];
      const double basis[5][6] = {
          {0.5 * (a + bb), 0.5 * (a + bb), g, 0, 0, 0},
          {0.5 * (a - bb), -0.5 * (a - bb), 0, d, 0, 0},
          {-d, d, 0, 0.5 * (a - bb), 0, 0},
          {0, 0, 0, 0, e, f},
          {0, 0, 0, 0, -f, e},
      };
      for (int k = 0; k < 5; k++) {
        rb_sym_rotate(x->r0, basis[k], x->ic[k]);
        const double *l = x->ic[k], w[3] = {x->r0[2], x->r0[5], x->r0[8]};
        x->icw[k][0] = l[0] * w[0] + l[3] * w[1] + l[4] * w[2];
        x->icw[k][1] = l[3] * w[0] + l[1] * w[1] + l[5] * w[2];
        x->icw[k][2] = l[4] * w[0] + l[5] * w[1] + l[2] * w[2];
      }
      if (e == 0 && f == 0) x->flags |= RB_CF_IC_AXIAL;
      const double ca[3] = {x->com[0], x->com[1], 0}, cb[3] = {-x->com[1], x->com[0], 0};
      rb_rotate(x->r0, ca, x->cw_a);
      rb_rotate(x->r0, cb, x->cw_b);
      const double *va = x->cw_a, *vb = x->cw_b;
      x->wxa[0] = w[1] * va[2] - w[2] * va[1], x->wxa[1] = w[2] * va[0] - w[0] * va[2], x->wxa[2] = w[0] * va[1] - w[1] * va[0];
      x->wxb[0] = w[1] * vb[2] - w[2] * vb[1], x->wxb[1] = w[2] * vb[0] - w[0] * vb[2], x->wxb[2] = w[0] * vb[1] - w[1] * vb[0];
      x->sp[0] = x->mg[0] * x->wxa[0] + x->mg[1] * x->wxa[1] + x->mg[2] * x->wxa[2];
      x->sp[1] = x->mg[0] * x->wxb[0] + x->mg[1] * x->wxb[1] + x->mg[2] * x->wxb[2];
      if (xp != NULL) {
        const double wp[3] = {xp->r0[2], xp->r0[5], xp->r0[8]};
        x->ps[0] = x->mass * (wp[0] * x->wxa[0] + wp[1] * x->wxa[1] + wp[2] * x->wxa[2]);
        x->ps[1] = x->mass * (wp[0] * x->wxb[0] + wp[1] * x->wxb[1] + wp[2] * x->wxb[2]);
        x->pr[0] = wp[0] * va[0] + wp[1] * va[1] + wp[2] * va[2];
        x->pr[1] = wp[0] * vb[0] + wp[1] * vb[1] + wp[2] * vb[2];
        x->pg = wp[0] * x->mg[0] + wp[1] * x->mg[1] + wp[2] * x->mg[2];
        x->pm = x->mass * (wp[0] * wp[0] + wp[1] * wp[1] + wp[2] * wp[2]);
      }
    }
  }
}

#endif /* MPCD_RIGID_BODY_SETUP_H */
