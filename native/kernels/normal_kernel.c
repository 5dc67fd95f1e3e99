/*
 * normalFill(state, tables, out, offset, count): count standard normal deviates into
 * out[offset ..], the same stream as src/core/rng.ts (xoshiro128** and the 128-layer ziggurat),
 * whose tables it is handed so both use the very same numbers. The planner draws K*H*nu of them
 * per iteration on its own thread; here each costs a few ns instead of ~15 in JavaScript.
 * state: Int32Array [4], the generator's words, advanced in place.
 * tables: Float64Array [129 + 129 + 128]: the layers' edges X, the density at them F, X / 2^24.
 */
#include "addon_args.h"
#include "addon_exports.h"
#include <math.h>

#define NORMAL_FN "normalFill"
#define ZIG_R 3.442619855899

typedef struct {
  uint32_t s[4];
} xoshiro;

static inline uint32_t next_u32(xoshiro *g) {
  uint32_t *s = g->s;
  const uint32_t s0 = s[0], s1 = s[1];
  const uint32_t s2 = s[2] ^ s0, s3 = s[3] ^ s1;
  const uint32_t m = s1 * 5u;
  const uint32_t result = ((m << 7) | (m >> 25)) * 9u;
  s[0] = s0 ^ s3;
  s[1] = s1 ^ s2;
  s[2] = s2 ^ (s1 << 9);
  s[3] = (s3 << 11) | (s3 >> 21);
  return result;
}

static inline double uniform(xoshiro *g) { return (double)next_u32(g) / 4294967296.0; }

/* Mirrors Rng.normal(): one draw per deviate in the layers' rectangles, else tail or wedge. */
static double normal(xoshiro *g, const double *X, const double *F, const double *SCALE) {
  for (;;) {
    const uint32_t b = next_u32(g);
    const uint32_t i = b & 127u;
    const double x = (double)(b >> 8) * SCALE[i];
    const int negative = (b & 128u) != 0;
    if (x < X[i + 1]) return negative ? -x : x;
    if (i == 0) {
      for (;;) {
        const double a = -log(1 - uniform(g)) / ZIG_R;
        const double y = -log(1 - uniform(g));
        if (2 * y >= a * a) return negative ? -(ZIG_R + a) : ZIG_R + a;
      }
    }
    const double f = F[i + 1] + uniform(g) * (F[i] - F[i + 1]);
    if (f < exp(-0.5 * x * x)) return negative ? -x : x;
  }
}

static napi_value NormalFill(napi_env env, napi_callback_info info) {
  char message[ARG_ERROR_SIZE];
  napi_value argv[5];
  if (!arg_list(env, info, NORMAL_FN, "state, tables, out, offset, count", 5, argv)) return NULL;
  int32_t *state;
  double *tables;
  float *out;
  size_t state_len, tables_len, out_len;
  int64_t offset, count;
  if (!arg_typed_array(env, argv[0], napi_int32_array, NORMAL_FN, "state", "an Int32Array", (void **)&state, &state_len)) return NULL;
  if (!arg_typed_array(env, argv[1], napi_float64_array, NORMAL_FN, "tables", "a Float64Array", (void **)&tables, &tables_len)) return NULL;
  if (!arg_typed_array(env, argv[2], napi_float32_array, NORMAL_FN, "out", "a Float32Array", (void **)&out, &out_len)) return NULL;
  if (!arg_integer(env, argv[3], NORMAL_FN, "offset", 0, 9007199254740991.0, &offset)) return NULL;
  if (!arg_integer(env, argv[4], NORMAL_FN, "count", 0, 9007199254740991.0, &count)) return NULL;
  if (state_len != 4) return arg_throw_range(env, NORMAL_FN ": state must hold 4 words");
  if (tables_len != 129 + 129 + 128) return arg_throw_range(env, NORMAL_FN ": tables must hold 386 numbers (X, F, SCALE)");
  if ((uint64_t)offset + (uint64_t)count > out_len) {
    snprintf(message, sizeof message, "%s: offset %lld + count %lld > out.length %zu", NORMAL_FN, (long long)offset, (long long)count, out_len);
    return arg_throw_range(env, message);
  }
  xoshiro g;
  for (int i = 0; i < 4; i++) g.s[i] = (uint32_t)state[i];
  const double *X = tables, *F = tables + 129, *SCALE = tables + 258;
  float *o = out + offset;
  for (int64_t k = 0; k < count; k++) o[k] = (float)normal(&g, X, F, SCALE);
  for (int i = 0; i < 4; i++) state[i] = (int32_t)g.s[i];
  return arg_undefined(env);
}

bool define_normal_kernel(napi_env env, napi_value exports) {
  napi_property_descriptor d = {"normalFill", NULL, NormalFill, NULL, NULL, NULL, napi_default, NULL};
  return napi_define_properties(env, exports, 1, &d) == napi_ok;
}
