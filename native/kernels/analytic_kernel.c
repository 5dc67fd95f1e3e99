/*
 * The analytic robots' control-period step and the learners' input features, vectorized across
 * samples: 16 samples at a time are transposed from the [count, nx] layout into vectors (one
 * column per state), stepped through every integrator sub-step in registers, and transposed back.
 *
 *   analyticStep(robot, params, integrator, substeps, dt, states, actions, out, count[, exact]): void
 *   stateFeatures(angularMask, states, nx, actions, nu, count, out): void
 *
 *   analyticRobots(): string   the robot table, one line per robot: "name nx nu param,param,..."
 *
 * The robots are those of the one table in robots.h (each in robots/<name>.h, the C part of its
 * src/models/analytic/<name>.ts descriptor); the robot argument is its index there, and nx and nu
 * are checked against it. Any nq and nu: robot_step.inc integrates a robot as
 * src/models/integrators.ts does, in the same order, in one of two precisions:
 *   exact = false (default): float32 throughout, 16 lanes per AVX-512 vector and no rounding
 *     steps; a few float32 ulps from the TypeScript per step (about 1e-6 relative over 30 steps).
 *   exact = true: double, as JavaScript computes, rounded to float32 exactly where the TypeScript
 *     stores into a Float32Array (derivatives, RK4 probes, the new state); the results match it
 *     to the last float32 bit nearly always (FMA contraction, the reciprocal and the sin/cos
 *     polynomials differ from V8 by about an ulp of a double), at about three times the cost.
 * stateFeatures computes sin and cos in double, as Math.sin and Math.cos, then rounds.
 */
#include "addon_args.h"
#include "addon_exports.h"
#include "vector_math.h"
#include "vector_math_f32.h"
#include "row_transpose.h"

enum integrator { INTEGRATOR_RK4 = 0, INTEGRATOR_SEMI_IMPLICIT_EULER = 1 };

#define MAX_SUBSTEPS 1000000

#define BLOCK TRANSPOSE_ROWS /* samples per block */

/* ---- the two precisions ---- */

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

#define REAL double
#define VEC vd
#define NV (BLOCK / VM_LANES)
#define ROUND(v) vd_round_f32(v)
#define SINCOS(x, s, c) vd_sincos(x, s, c)
#define RECIP(d) vd_recip(d)
#define COL_LOAD(p) vd_from_f32(vf_load(p))
#define COL_STORE(p, v) vf_store(p, vf_from_f64(v))
#define NAME(f) CAT(f, _f64)
#include "analytic_dynamics.inc"
typedef robot_step_fn_f64 step_fn_f64;
#undef REAL
#undef VEC
#undef NV
#undef ROUND
#undef SINCOS
#undef RECIP
#undef COL_LOAD
#undef COL_STORE
#undef NAME

#define REAL float
#define VEC vs
#define NV (BLOCK / VS_LANES)
#define ROUND(v) (v)
#define SINCOS(x, s, c) vs_sincos(x, s, c)
#define RECIP(d) vs_recip(d)
#define COL_LOAD(p) vs_load(p)
#define COL_STORE(p, v) vs_store(p, v)
#define NAME(f) CAT(f, _f32)
#include "analytic_dynamics.inc"
typedef robot_step_fn_f32 step_fn_f32;
#undef REAL
#undef VEC
#undef NV
#undef ROUND
#undef SINCOS
#undef RECIP
#undef COL_LOAD
#undef COL_STORE
#undef NAME

/* ---- the robot table ---- */

typedef struct {
  const char *name, *param_names;
  int nq, nu, nparams;
  step_fn_f32 step_f32;
  step_fn_f64 step_f64;
} robot_entry;

#define ROBOT_ENTRY(r) {#r, CAT(r, _PARAM_NAMES), CAT(r, _NQ), CAT(r, _NU), CAT(r, _NPARAMS), CAT(r, _step_f32), CAT(r, _step_f64)},
static const robot_entry ROBOTS[] = {MPCD_ROBOTS(ROBOT_ENTRY)};
#undef ROBOT_ENTRY
#define ROBOT_COUNT ((int)(sizeof ROBOTS / sizeof ROBOTS[0]))

#define STEP_FN "mlp_kernel.analyticStep"

static napi_value AnalyticStep(napi_env env, napi_callback_info info) {
  char message[ARG_ERROR_SIZE];
  napi_value argv[12];
  size_t argc;
  if (!arg_list_between(env, info, STEP_FN, "robot, params, nx, nu, integrator, substeps, dt, states, actions, out, count[, exact]", 11, 12, argv, &argc))
    return NULL;
  int64_t robot, nx, nu, integrator, substeps, count;
  bool exact = false;
  double dt, *params;
  float *states, *actions, *out;
  size_t params_len, states_len, actions_len, out_len;
  if (!arg_integer(env, argv[0], STEP_FN, "robot (an index into analyticRobots())", 0, ROBOT_COUNT - 1, &robot)) return NULL;
  if (!arg_typed_array(env, argv[1], napi_float64_array, STEP_FN, "params", "a Float64Array", (void **)&params, &params_len)) return NULL;
  if (!arg_integer(env, argv[2], STEP_FN, "nx", 1, 1 << 16, &nx)) return NULL;
  if (!arg_integer(env, argv[3], STEP_FN, "nu", 1, 1 << 16, &nu)) return NULL;
  if (!arg_integer(env, argv[4], STEP_FN, "integrator (0 rk4, 1 semi-implicit Euler)", 0, 1, &integrator)) return NULL;
  if (!arg_integer(env, argv[5], STEP_FN, "substeps", 1, MAX_SUBSTEPS, &substeps)) return NULL;
  if (!arg_number(env, argv[6], STEP_FN, "dt", &dt)) return NULL;
  if (!arg_typed_array(env, argv[7], napi_float32_array, STEP_FN, "states", "a Float32Array", (void **)&states, &states_len)) return NULL;
  if (!arg_typed_array(env, argv[8], napi_float32_array, STEP_FN, "actions", "a Float32Array", (void **)&actions, &actions_len)) return NULL;
  if (!arg_typed_array(env, argv[9], napi_float32_array, STEP_FN, "out", "a Float32Array", (void **)&out, &out_len)) return NULL;
  if (!arg_integer(env, argv[10], STEP_FN, "count", 0, 9007199254740991.0, &count)) return NULL;
  if (argc == 12 && !arg_bool(env, argv[11], STEP_FN, "exact", &exact)) return NULL;
  const robot_entry *r = &ROBOTS[robot];

  if (!isfinite(dt)) {
    snprintf(message, sizeof message, "%s: dt must be finite, got %g", STEP_FN, dt);
    return arg_throw_range(env, message);
  }
  if (nx != 2 * r->nq || nu != r->nu) {
    snprintf(message, sizeof message, "%s: the %s has nx %d and nu %d, but nx %lld and nu %lld were passed", STEP_FN, r->name, 2 * r->nq, r->nu, (long long)nx,
             (long long)nu);
    return arg_throw_range(env, message);
  }
  if (params_len != (size_t)r->nparams) {
    snprintf(message, sizeof message, "%s: params.length is %zu, but the %s needs %d (%s)", STEP_FN, params_len, r->name, r->nparams, r->param_names);
    return arg_throw_range(env, message);
  }
  for (size_t i = 0; i < params_len; i++) {
    if (!isfinite(params[i])) {
      snprintf(message, sizeof message, "%s: params[%zu] must be finite, got %g", STEP_FN, i, params[i]);
      return arg_throw_range(env, message);
    }
  }
  /* count <= every length first (nx, nu >= 1), so the products below cannot overflow. */
  const uint64_t n = (uint64_t)count;
  if (n > states_len || n * (uint64_t)nx > states_len) {
    snprintf(message, sizeof message, "%s: states too short: count %llu * %lld states > states.length %zu", STEP_FN, (unsigned long long)n, (long long)nx, states_len);
    return arg_throw_range(env, message);
  }
  if (n > actions_len || n * (uint64_t)nu > actions_len) {
    snprintf(message, sizeof message, "%s: actions too short: count %llu * %lld actions > actions.length %zu", STEP_FN, (unsigned long long)n, (long long)nu,
             actions_len);
    return arg_throw_range(env, message);
  }
  if (n > out_len || n * (uint64_t)nx > out_len) {
    snprintf(message, sizeof message, "%s: out too short: count %llu * %lld states > out.length %zu", STEP_FN, (unsigned long long)n, (long long)nx, out_len);
    return arg_throw_range(env, message);
  }
  if (n == 0) return arg_undefined(env);
  /* Each block is read before it is written, so out may be states itself, but no other overlap. */
  const size_t state_bytes = n * (size_t)nx * sizeof(float), action_bytes = n * (size_t)nu * sizeof(float);
  if ((out != states && arg_overlaps(out, state_bytes, states, state_bytes)) || arg_overlaps(out, state_bytes, actions, action_bytes))
    return arg_throw_range(env, STEP_FN ": out must not share memory with actions, nor with states unless it is states itself");

  if (exact)
    r->step_f64(params, (int)integrator, (int)substeps, dt, states, actions, out, (size_t)n);
  else
    r->step_f32(params, (int)integrator, (int)substeps, dt, states, actions, out, (size_t)n);
  return arg_undefined(env);
}

/* The robot table, one line per robot in index order: "name nx nu param,param,...". */
static napi_value AnalyticRobots(napi_env env, napi_callback_info info) {
  (void)info;
  char table[4096];
  size_t at = 0;
  for (int i = 0; i < ROBOT_COUNT && at < sizeof table; i++)
    at += (size_t)snprintf(table + at, sizeof table - at, "%s%s %d %d %s", i == 0 ? "" : "\n", ROBOTS[i].name, 2 * ROBOTS[i].nq, ROBOTS[i].nu, ROBOTS[i].param_names);
  if (at >= sizeof table) at = sizeof table - 1;
  napi_value result;
  if (napi_create_string_utf8(env, table, at, &result) != napi_ok) return NULL;
  return result;
}

/* ---- learners' input features ---- */

#define FEATURES_FN "mlp_kernel.stateFeatures"
#define MAX_FEATURE_WIDTH (1 << 16)

/*
 * out [count, d] with d = (2 per angular state, 1 per other) + nu: per sample, each state's
 * sin and cos (angular) or value, then the actions, as writeFeatures in residual-spec.ts.
 * Column by column over blocks of BLOCK samples, so that sin and cos vectorize.
 */
static void state_features(const uint8_t *angular, const float *states, size_t nx, const float *actions, size_t nu, size_t count, float *out, size_t d) {
  float column[BLOCK] __attribute__((aligned(64)));
  float sin_column[BLOCK] __attribute__((aligned(64)));
  float cos_column[BLOCK] __attribute__((aligned(64)));
  for (size_t k0 = 0; k0 < count; k0 += BLOCK) {
    const size_t n = count - k0 < BLOCK ? count - k0 : BLOCK;
    const float *s = states + k0 * nx;
    float *o = out + k0 * d;
    size_t at = 0;
    for (size_t i = 0; i < nx; i++) {
      if (!angular[i]) {
        for (size_t k = 0; k < n; k++) o[k * d + at] = s[k * nx + i];
        at += 1;
        continue;
      }
      for (size_t k = 0; k < BLOCK; k++) column[k] = k < n ? s[k * nx + i] : 0.0f;
      for (int v = 0; v < BLOCK / VM_LANES; v++) {
        vd sv, cv;
        vd_sincos(vd_from_f32(vf_load(column + v * VM_LANES)), &sv, &cv);
        vf_store(sin_column + v * VM_LANES, vf_from_f64(sv));
        vf_store(cos_column + v * VM_LANES, vf_from_f64(cv));
      }
      for (size_t k = 0; k < n; k++) {
        o[k * d + at] = sin_column[k];
        o[k * d + at + 1] = cos_column[k];
      }
      at += 2;
    }
    for (size_t k = 0; k < n && nu > 0; k++)
      for (size_t j = 0; j < nu; j++) o[k * d + at + j] = actions[(k0 + k) * nu + j];
  }
}

static napi_value StateFeatures(napi_env env, napi_callback_info info) {
  char message[ARG_ERROR_SIZE];
  napi_value argv[7];
  if (!arg_list(env, info, FEATURES_FN, "angularMask, states, nx, actions, nu, count, out", 7, argv)) return NULL;
  uint8_t *angular;
  float *states, *actions, *out;
  size_t angular_len, states_len, actions_len, out_len;
  int64_t nx, nu, count;
  if (!arg_typed_array(env, argv[0], napi_uint8_array, FEATURES_FN, "angularMask", "a Uint8Array", (void **)&angular, &angular_len)) return NULL;
  if (!arg_typed_array(env, argv[1], napi_float32_array, FEATURES_FN, "states", "a Float32Array", (void **)&states, &states_len)) return NULL;
  if (!arg_integer(env, argv[2], FEATURES_FN, "nx", 1, MAX_FEATURE_WIDTH, &nx)) return NULL;
  if (!arg_typed_array(env, argv[3], napi_float32_array, FEATURES_FN, "actions", "a Float32Array", (void **)&actions, &actions_len)) return NULL;
  if (!arg_integer(env, argv[4], FEATURES_FN, "nu", 0, MAX_FEATURE_WIDTH, &nu)) return NULL;
  if (!arg_integer(env, argv[5], FEATURES_FN, "count", 0, 9007199254740991.0, &count)) return NULL;
  if (!arg_typed_array(env, argv[6], napi_float32_array, FEATURES_FN, "out", "a Float32Array", (void **)&out, &out_len)) return NULL;

  if (angular_len != (size_t)nx) {
    snprintf(message, sizeof message, "%s: angularMask.length is %zu, but nx is %lld", FEATURES_FN, angular_len, (long long)nx);
    return arg_throw_range(env, message);
  }
  size_t d = (size_t)nu;
  for (size_t i = 0; i < angular_len; i++) d += angular[i] ? 2 : 1;
  const uint64_t n = (uint64_t)count;
  if (n > states_len || n * (uint64_t)nx > states_len) {
    snprintf(message, sizeof message, "%s: states too short: count %llu * nx %lld > states.length %zu", FEATURES_FN, (unsigned long long)n, (long long)nx, states_len);
    return arg_throw_range(env, message);
  }
  if (nu > 0 && (n > actions_len || n * (uint64_t)nu > actions_len)) {
    snprintf(message, sizeof message, "%s: actions too short: count %llu * nu %lld > actions.length %zu", FEATURES_FN, (unsigned long long)n, (long long)nu, actions_len);
    return arg_throw_range(env, message);
  }
  if (n > out_len || n * (uint64_t)d > out_len) {
    snprintf(message, sizeof message, "%s: out too short: count %llu * %zu features > out.length %zu", FEATURES_FN, (unsigned long long)n, d, out_len);
    return arg_throw_range(env, message);
  }
  if (n == 0) return arg_undefined(env);
  const size_t out_bytes = n * d * sizeof(float);
  if (arg_overlaps(out, out_bytes, states, n * nx * sizeof(float)) || arg_overlaps(out, out_bytes, actions, n * nu * sizeof(float)) ||
      arg_overlaps(out, out_bytes, angular, angular_len))
    return arg_throw_range(env, FEATURES_FN ": out must not share memory with angularMask, states or actions");
  state_features(angular, states, (size_t)nx, actions, (size_t)nu, (size_t)n, out, d);
  return arg_undefined(env);
}

bool define_analytic_kernel(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"analyticStep", NULL, AnalyticStep, NULL, NULL, NULL, napi_default, NULL},
      {"analyticRobots", NULL, AnalyticRobots, NULL, NULL, NULL, napi_default, NULL},
      {"stateFeatures", NULL, StateFeatures, NULL, NULL, NULL, napi_default, NULL},
  };
  return napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties) == napi_ok;
}
