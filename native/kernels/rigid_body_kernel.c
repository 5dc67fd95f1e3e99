/*
 * The generic rigid-body model's forward dynamics and control-period step: Featherstone's
 * articulated-body algorithm over a kinematic tree given at run time as a params block
 * (rigid_body_block.h; src/models/rigid-body/rigid-body-block.ts writes it), recast once per call
 * into a compact tree of joint frames (rigid_body_setup.h), with the samples across SIMD lanes
 * (rigid_body_aba.inc: one vector per number per node, LANES samples each); and the forward
 * kinematics of named points on the same tree.
 *
 *   rigidBodyStep(block, integrator, substeps, dt, states, actions, out, count[, exact]): void
 *   rigidBodyDerivatives(block, states, actions, deriv, count[, exact]): void
 *   rigidBodyPoints(block, points, states, count, out, stride, offset): void
 *
 * states, out and deriv [count, 2 nq], actions [count, nu], Float32Arrays, nq and nu from the
 * block's header; integrator 0 rk4, 1 semi-implicit Euler, integrated as
 * src/models/integrators.ts does (dt / substeps per sub-step, the same order); out may be states
 * itself. exact = false (default): float32 throughout (16 samples per AVX-512 vector, 8 per AVX,
 * 4 otherwise); true: double inside, rounded to float32 where the TypeScript stores into a
 * Float32Array (half the lanes, about twice the time).
 * rigidBodyPoints: points is a points block (rigid_body_block.h; rigidBodyPointsBlock writes it);
 * out[k * stride + offset + 6 j + c] is point j's world position (c = 0..2) and velocity (3..5)
 * at sample k, as src/models/rigid-body/point-kinematics.ts computes them, in float32; the rest
 * of each row is left as it is; out shares no memory with states.
 *
 * Scratch: per thread, built for a block (rb_prepare) and kept for the thread's next calls with
 * the same block, so that a tree's setup is not paid per call; nothing is shared between
 * threads.
 *
 * Articulated body or composite rigid body? Both were written (the CRBA variant: bias forces by
 * Newton-Euler, H from the composite inertias, tree-sparse L^T D L, on the same pass 1) and timed
 * against each other in one process, ns per sample-derivative at K = 1024, the least of 60
 * rounds, on one core of a 2-core AMD EPYC VM with AVX-512 shared with other work (gcc 12,
 * -O3 -march=native):
 *                                          ABA f32   CRBA f32   ABA exact   CRBA exact   TS twin
 *   branching tree (6 nodes, 6 dof)         48.0      49.5        93.2       101.1        2784
 *   7-hinge serial arm (7 nodes, 7 dof)     59.8      65.5       120.0       139.3        4183
 * The ABA is faster (and O(n), where CRBA's H is O(n * depth)), so only it is kept.
 *
 * The compact tree and the passes of rigid_body_aba.inc since (joint frames, constants where a
 * rotation cannot change, bias accelerations carried down, tiled transposes, two vector groups
 * per node, per-thread scratch), against the kernel before them in one session on the same VM,
 * the least of three alternating runs of 100 rounds each, K = 1024, through the addon
 * (ns per sample; f32 unless exact):
 *                                          derivative   exact   RK4 step   semi-implicit x2
 *   cart-pole (2 nodes)       before          13.7       26.4      42.9          23.7
 *                             after            3.1        5.3       9.8           5.5
 *   sim/models/arm7.xml       before          58.4      117.0     188.7         104.9
 *   (7 hinges)                after           34.7       71.5     135.2          69.3
 *   sim/models/arm7-plant.xml before          64.7      131.8     219.1         116.7
 *   (8 nodes, one welded)     after           38.5       80.5     144.1          73.2
 * The hand-written cart-pole of analytic_kernel.c takes about 4 ns per RK4 step.
 */
#include <stdlib.h>

#include "addon_args.h"
#include "addon_exports.h"
#include "rigid_body_block.h"
#include "rigid_body_math.h"
#include "rigid_body_setup.h"
#include "row_transpose.h"
#include "rigid_body_transpose.h"
#include "vector_math.h"
#include "vector_math_f32.h"

enum { RB_MODE_DERIVATIVES = 0, RB_MODE_RK4 = 1, RB_MODE_SIE = 2 };

#define RB_MAX_SUBSTEPS 1000000

/* Samples per block (multiples of TRANSPOSE_ROWS): transposed in, stepped a few vector groups at a time, transposed out. */
#define RB_BLOCK_MIN TRANSPOSE_ROWS
#define RB_BLOCK_MAX (2 * TRANSPOSE_ROWS)
#define RB_BLOCK_SMALL (4 * TRANSPOSE_ROWS)
#define RB_SMALL_TREE 4        /* dofs up to which blocks are RB_BLOCK_SMALL */
#define RB_INTERLEAVE_NODES 16 /* and RB_BLOCK_MAX, beyond RB_BLOCK_MIN */

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

/* ---- the two precisions ---- */

#define REAL double
#define VEC vd
#define LANES VM_LANES
#define SPLAT(x) vd_splat(x)
#define LOADF(p) vd_from_f32(vf_load(p))
#define STOREF(p, v) vf_store(p, vf_from_f64(v))
#define SELECT(m, a, b) vd_select(m, a, b)
#define SINCOS(x, s, c) vd_sincos(x, s, c)
#define TANH(x) vd_tanh(x)
#define RECIP(d) vd_recip(d)
#define ROUND(v) vd_round_f32(v)
#define NAME(f) CAT(f, _f64)
#include "rigid_body_aba.inc"
#undef REAL
#undef VEC
#undef LANES
#undef SPLAT
#undef LOADF
#undef STOREF
#undef SELECT
#undef SINCOS
#undef TANH
#undef RECIP
#undef ROUND
#undef NAME

#define REAL float
#define VEC vs
#define LANES VS_LANES
#define SPLAT(x) vs_splat(x)
#define LOADF(p) vs_load(p)
#define STOREF(p, v) vs_store(p, v)
#define SELECT(m, a, b) vs_select(m, a, b)
#define SINCOS(x, s, c) vs_sincos(x, s, c)
#define TANH(x) vs_tanh(x)
#define RECIP(d) vs_recip(d)
#define ROUND(v) (v)
#define NAME(f) CAT(f, _f32)
#include "rigid_body_aba.inc"
#undef REAL
#undef VEC
#undef LANES
#undef SPLAT
#undef LOADF
#undef STOREF
#undef SELECT
#undef SINCOS
#undef TANH
#undef RECIP
#undef ROUND
#undef NAME

/* ---- one call: scratch, then the batch ---- */

#define RB_MEM_ALIGN 64

/*
 * A thread's scratch for its calls: the compact tree and the model's constants in the
 * precision's scratch, built on a call with a block (and points block) and precision the thread
 * has not seen last, kept for its next calls with the same (a tree's setup costs about a
 * microsecond, a control period's step of a few hundred samples not much more). RB_CACHE_SLOTS
 * of them per thread, reused round-robin (a planner steps one model and may take its points'
 * kinematics in between). _Thread_local, so every worker thread has its own; freed with the
 * thread's environment (napi_add_env_cleanup_hook). A block that differs in any bit is a new one.
 */
#define RB_CACHE_SLOTS 4

typedef struct {
  double *key; /* the block's numbers, then the points block's */
  size_t key_len, block_len, key_cap;
  int np;
  bool exact, used;
  void *raw; /* tree and scratch, RB_MEM_ALIGN-aligned inside */
  size_t raw_cap;
  rb_block b; /* the key's block, checked */
  rb_scratch_f32 s32;
  rb_scratch_f64 s64;
} rb_slot;

typedef struct {
  rb_slot slot[RB_CACHE_SLOTS];
  int next;
} rb_cache;

static _Thread_local rb_cache *rb_thread_cache;

static void rb_cache_free(void *arg) {
  (void)arg;
  rb_cache *c = rb_thread_cache;
  if (c == NULL) return;
  for (int i = 0; i < RB_CACHE_SLOTS; i++) free(c->slot[i].key), free(c->slot[i].raw);
  free(c);
  rb_thread_cache = NULL;
}

/* false with a JS exception pending. */
static bool rb_out_of_memory(napi_env env, const char *fn, size_t size) {
  char message[ARG_ERROR_SIZE];
  snprintf(message, sizeof message, "%s: cannot allocate %zu bytes of scratch", fn, size);
  napi_throw_error(env, NULL, message);
  return false;
}

/*
 * The block argument (and the points block, where points is not NULL: plen numbers) checked and
 * made ready: *slot holds its checked block and the precision's scratch. false with a JS
 * exception pending (a RangeError naming the first field that is wrong).
 */
static bool rb_prepare(napi_env env, const char *fn, napi_value value, const double *points, size_t plen, bool exact, rb_slot **slot) {
  char message[ARG_ERROR_SIZE];
  double *data;
  size_t len;
  if (!arg_typed_array(env, value, napi_float64_array, fn, "block", "a Float64Array (rigidBodyBlock)", (void **)&data, &len)) return false;
  rb_cache *c = rb_thread_cache;
  if (c != NULL) {
    for (int i = 0; i < RB_CACHE_SLOTS; i++) {
      rb_slot *t = &c->slot[i];
      if (t->used && t->exact == exact && t->block_len == len && t->key_len == len + plen && memcmp(t->key, data, len * sizeof(double)) == 0 &&
          (plen == 0 || memcmp(t->key + len, points, plen * sizeof(double)) == 0)) {
        *slot = t;
        return true;
      }
    }
  }
  rb_block b;
  if (!rb_block_check(data, len, fn, &b, message, sizeof message)) {
    arg_throw_range(env, message);
    return false;
  }
  int np = 0;
  const double *pfields = NULL;
  if (points != NULL && !rb_points_check(points, plen, &b, fn, &np, &pfields, message, sizeof message)) {
    arg_throw_range(env, message);
    return false;
  }
  if (c == NULL) {
    c = calloc(1, sizeof *c);
    if (c == NULL) return rb_out_of_memory(env, fn, sizeof *c);
    if (napi_add_env_cleanup_hook(env, rb_cache_free, NULL) != napi_ok) {
      free(c);
      napi_throw_error(env, NULL, "cannot register the rigid-body kernel's cleanup");
      return false;
    }
    rb_thread_cache = c;
  }
  rb_slot *t = &c->slot[c->next];
  c->next = (c->next + 1) % RB_CACHE_SLOTS;
  t->used = false;
  if (t->key_cap < len + plen) {
    double *key = realloc(t->key, (len + plen) * sizeof(double));
    if (key == NULL) return rb_out_of_memory(env, fn, (len + plen) * sizeof(double));
    t->key = key, t->key_cap = len + plen;
  }
  memcpy(t->key, data, len * sizeof(double));
  if (plen > 0) memcpy(t->key + len, points, plen * sizeof(double));
  rb_block_check(t->key, len, fn, &t->b, message, sizeof message); /* the same block: its sections now point into the key */
  const size_t tree_size = (sizeof(rb_tree) + RB_MEM_ALIGN - 1) / RB_MEM_ALIGN * RB_MEM_ALIGN;
  const size_t size = tree_size + (exact ? rb_scratch_size_f64(&t->b, np) : rb_scratch_size_f32(&t->b, np)) + RB_MEM_ALIGN;
  if (t->raw_cap < size) {
    free(t->raw);
    t->raw = malloc(size);
    t->raw_cap = t->raw == NULL ? 0 : size;
    if (t->raw == NULL) return rb_out_of_memory(env, fn, size);
  }
  char *aligned = (char *)(((uintptr_t)t->raw + RB_MEM_ALIGN - 1) & ~(uintptr_t)(RB_MEM_ALIGN - 1));
  rb_tree *tree = (rb_tree *)aligned;
  rb_tree_build(&t->b, tree);
  const double *pkey = points == NULL ? NULL : t->key + len + (pfields - points);
  if (exact)
    rb_scratch_init_f64(&t->b, tree, pkey, np, aligned + tree_size, &t->s64);
  else
    rb_scratch_init_f32(&t->b, tree, pkey, np, aligned + tree_size, &t->s32);
  t->np = np, t->exact = exact, t->block_len = len, t->key_len = len + plen, t->used = true;
  *slot = t;
  return true;
}

/* One batch on a prepared slot. */
static void rb_run(const rb_slot *t, int mode, int substeps, double dt, const float *states, const float *actions, float *out, size_t count) {
  const double h = substeps > 0 ? dt / (double)substeps : 0;
  if (t->exact) {
    rb_scratch_f64 s = t->s64;
    rb_run_f64(&s, mode, substeps, h, states, actions, out, count);
  } else {
    rb_scratch_f32 s = t->s32;
    rb_run_f32(&s, mode, substeps, (float)h, states, actions, out, count);
  }
}

/* count rows of `width` floats fit in an array of `len`. */
static bool rb_rows_fit(napi_env env, const char *fn, const char *name, uint64_t count, int width, size_t len) {
  if (width == 0 || (count <= len && count * (uint64_t)width <= len)) return true;
  char message[ARG_ERROR_SIZE];
  snprintf(message, sizeof message, "%s: %s too short: count %llu * %d > %s.length %zu", fn, name, (unsigned long long)count, width, name, len);
  arg_throw_range(env, message);
  return false;
}

#define STEP_FN "mlp_kernel.rigidBodyStep"

static napi_value RigidBodyStep(napi_env env, napi_callback_info info) {
  char message[ARG_ERROR_SIZE];
  napi_value argv[9];
  size_t argc;
  if (!arg_list_between(env, info, STEP_FN, "block, integrator, substeps, dt, states, actions, out, count[, exact]", 8, 9, argv, &argc)) return NULL;
  int64_t integrator, substeps, count;
  double dt;
  bool exact = false;
  float *states, *actions, *out;
  size_t states_len, actions_len, out_len;
  rb_slot *slot;
  if (argc == 9 && !arg_bool(env, argv[8], STEP_FN, "exact", &exact)) return NULL;
  if (!rb_prepare(env, STEP_FN, argv[0], NULL, 0, exact, &slot)) return NULL;
  const rb_block b = slot->b;
  if (!arg_integer(env, argv[1], STEP_FN, "integrator (0 rk4, 1 semi-implicit Euler)", 0, 1, &integrator)) return NULL;
  if (!arg_integer(env, argv[2], STEP_FN, "substeps", 1, RB_MAX_SUBSTEPS, &substeps)) return NULL;
  if (!arg_number(env, argv[3], STEP_FN, "dt", &dt)) return NULL;
  if (!arg_typed_array(env, argv[4], napi_float32_array, STEP_FN, "states", "a Float32Array", (void **)&states, &states_len)) return NULL;
  if (!arg_typed_array(env, argv[5], napi_float32_array, STEP_FN, "actions", "a Float32Array", (void **)&actions, &actions_len)) return NULL;
  if (!arg_typed_array(env, argv[6], napi_float32_array, STEP_FN, "out", "a Float32Array", (void **)&out, &out_len)) return NULL;
  if (!arg_integer(env, argv[7], STEP_FN, "count", 0, 9007199254740991.0, &count)) return NULL;
  if (!isfinite(dt)) {
    snprintf(message, sizeof message, "%s: dt must be finite, got %g", STEP_FN, dt);
    return arg_throw_range(env, message);
  }
  const uint64_t n = (uint64_t)count;
  const int nx = 2 * b.nq;
  if (!rb_rows_fit(env, STEP_FN, "states", n, nx, states_len) || !rb_rows_fit(env, STEP_FN, "actions", n, b.nu, actions_len) ||
      !rb_rows_fit(env, STEP_FN, "out", n, nx, out_len))
    return NULL;
  if (n == 0 || nx == 0) return arg_undefined(env);
  /* Each group is read before it is written, so out may be states itself, but no other overlap. */
  const size_t state_bytes = n * (size_t)nx * sizeof(float), action_bytes = n * (size_t)b.nu * sizeof(float);
  if ((out != states && arg_overlaps(out, state_bytes, states, state_bytes)) || arg_overlaps(out, state_bytes, actions, action_bytes))
    return arg_throw_range(env, STEP_FN ": out must not share memory with actions, nor with states unless it is states itself");
  rb_run(slot, integrator == 0 ? RB_MODE_RK4 : RB_MODE_SIE, (int)substeps, dt, states, actions, out, (size_t)n);
  return arg_undefined(env);
}

#define DERIV_FN "mlp_kernel.rigidBodyDerivatives"

static napi_value RigidBodyDerivatives(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  size_t argc;
  if (!arg_list_between(env, info, DERIV_FN, "block, states, actions, deriv, count[, exact]", 5, 6, argv, &argc)) return NULL;
  int64_t count;
  bool exact = false;
  float *states, *actions, *deriv;
  size_t states_len, actions_len, deriv_len;
  rb_slot *slot;
  if (argc == 6 && !arg_bool(env, argv[5], DERIV_FN, "exact", &exact)) return NULL;
  if (!rb_prepare(env, DERIV_FN, argv[0], NULL, 0, exact, &slot)) return NULL;
  const rb_block b = slot->b;
  if (!arg_typed_array(env, argv[1], napi_float32_array, DERIV_FN, "states", "a Float32Array", (void **)&states, &states_len)) return NULL;
  if (!arg_typed_array(env, argv[2], napi_float32_array, DERIV_FN, "actions", "a Float32Array", (void **)&actions, &actions_len)) return NULL;
  if (!arg_typed_array(env, argv[3], napi_float32_array, DERIV_FN, "deriv", "a Float32Array", (void **)&deriv, &deriv_len)) return NULL;
  if (!arg_integer(env, argv[4], DERIV_FN, "count", 0, 9007199254740991.0, &count)) return NULL;
  const uint64_t n = (uint64_t)count;
  const int nx = 2 * b.nq;
  if (!rb_rows_fit(env, DERIV_FN, "states", n, nx, states_len) || !rb_rows_fit(env, DERIV_FN, "actions", n, b.nu, actions_len) ||
      !rb_rows_fit(env, DERIV_FN, "deriv", n, nx, deriv_len))
    return NULL;
  if (n == 0 || nx == 0) return arg_undefined(env);
  const size_t state_bytes = n * (size_t)nx * sizeof(float), action_bytes = n * (size_t)b.nu * sizeof(float);
  if (arg_overlaps(deriv, state_bytes, states, state_bytes) || arg_overlaps(deriv, state_bytes, actions, action_bytes))
    return arg_throw_range(env, DERIV_FN ": deriv must not share memory with states or actions");
  rb_run(slot, RB_MODE_DERIVATIVES, 0, 0, states, actions, deriv, (size_t)n);
  return arg_undefined(env);
}

#define POINTS_FN "mlp_kernel.rigidBodyPoints"

static napi_value RigidBodyPoints(napi_env env, napi_callback_info info) {
  char message[ARG_ERROR_SIZE];
  napi_value argv[7];
  if (!arg_list(env, info, POINTS_FN, "block, points, states, count, out, stride, offset", 7, argv)) return NULL;
  int64_t count, stride, offset;
  double *pdata;
  float *states, *out;
  size_t plen, states_len, out_len;
  rb_slot *slot;
  if (!arg_typed_array(env, argv[1], napi_float64_array, POINTS_FN, "points", "a Float64Array (rigidBodyPointsBlock)", (void **)&pdata, &plen)) return NULL;
  if (!rb_prepare(env, POINTS_FN, argv[0], pdata, plen, false, &slot)) return NULL;
  const rb_block b = slot->b;
  const int np = slot->np;
  if (!arg_typed_array(env, argv[2], napi_float32_array, POINTS_FN, "states", "a Float32Array", (void **)&states, &states_len)) return NULL;
  if (!arg_integer(env, argv[3], POINTS_FN, "count", 0, 9007199254740991.0, &count)) return NULL;
  if (!arg_typed_array(env, argv[4], napi_float32_array, POINTS_FN, "out", "a Float32Array", (void **)&out, &out_len)) return NULL;
  if (!arg_integer(env, argv[5], POINTS_FN, "stride", 1, 9007199254740991.0, &stride)) return NULL;
  if (!arg_integer(env, argv[6], POINTS_FN, "offset", 0, 9007199254740991.0, &offset)) return NULL;
  const uint64_t n = (uint64_t)count, width = 6 * (uint64_t)np;
  const int nx = 2 * b.nq;
  if (!rb_rows_fit(env, POINTS_FN, "states", n, nx, states_len)) return NULL;
  if ((uint64_t)offset + width > (uint64_t)stride) {
    snprintf(message, sizeof message, "%s: offset %lld + 6 * %d points must fit in stride %lld", POINTS_FN, (long long)offset, np, (long long)stride);
    return arg_throw_range(env, message);
  }
  if (n == 0) return arg_undefined(env);
  if (n > out_len || (n - 1) * (uint64_t)stride + (uint64_t)offset + width > out_len) {
    snprintf(message, sizeof message, "%s: out too short: (count %llu - 1) * stride %lld + offset %lld + %llu > out.length %zu", POINTS_FN, (unsigned long long)n,
             (long long)stride, (long long)offset, (unsigned long long)width, out_len);
    return arg_throw_range(env, message);
  }
  const size_t out_bytes = (size_t)(((n - 1) * (uint64_t)stride + (uint64_t)offset + width) * sizeof(float));
  if (arg_overlaps(out, out_bytes, states, (size_t)n * (size_t)nx * sizeof(float))) return arg_throw_range(env, POINTS_FN ": out must not share memory with states");
  rb_scratch_f32 s = slot->s32;
  rb_points_run_f32(&s, states, (size_t)n, out, (size_t)stride, (size_t)offset);
  return arg_undefined(env);
}

bool define_rigid_body_kernel(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"rigidBodyStep", NULL, RigidBodyStep, NULL, NULL, NULL, napi_default, NULL},
      {"rigidBodyDerivatives", NULL, RigidBodyDerivatives, NULL, NULL, NULL, napi_default, NULL},
      {"rigidBodyPoints", NULL, RigidBodyPoints, NULL, NULL, NULL, napi_default, NULL},
  };
  return napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties) == napi_ok;
}
