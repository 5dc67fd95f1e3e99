/*
 * Forward pass of a small dense MLP (ReLU hidden layers, linear last layer) over a batch of
 * rows, for the planner's residual ensemble. Node-API addon, context-aware so that it also
 * loads in worker threads; it keeps no state between calls and allocates nothing.
 *
 *   forward(params, dims, x, xOffset, rows, y, yOffset, scratch, accumulate): void
 *   isa(): string  ('avx512' | 'avx2' | 'generic')
 *
 * params: per layer l, W_l [dims[l], dims[l+1]] row-major, then b_l [dims[l+1]].
 * x rows at x[xOffset + r * dims[0]], y rows at y[yOffset + r * dims[L]]; accumulate adds the
 * network's output into y instead of overwriting it. scratch holds two activation buffers.
 *
 * The inner kernel keeps a block of rows x columns of output in vector registers, and for each
 * input k broadcasts the rows' x[r][k] against the row k of W (register blocking): every W load
 * is reused by every row of the block, every broadcast by every column vector. Rows go through
 * all layers a tile at a time so that activations and weights stay in L1.
 *
 * Built with -march=native: the vector width is the widest the build machine has. The module
 * refuses to load on a CPU without those instructions (rather than die on an illegal one).
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "addon_args.h"
#include "addon_exports.h"

#if !defined(__GNUC__)
#error "mlp_kernel needs GCC or Clang (vector extensions)"
#endif

#if defined(__AVX512F__)
#include <immintrin.h>
#define MLP_ISA "avx512"
#define VL 16         /* floats per vector */
#define ROW_BLOCK 6   /* rows per register block: 6 x 4 accumulators + 4 W vectors of 32 registers */
#define COL_VECTORS 4 /* column vectors per register block (64 columns) */
#elif defined(__AVX2__) && defined(__FMA__)
#define MLP_ISA "avx2"
#define VL 8
#define ROW_BLOCK 6   /* 6 x 2 accumulators + 2 W vectors + 1 broadcast of 16 registers */
#define COL_VECTORS 2
#else
#define MLP_ISA "generic"
#define VL 4
#define ROW_BLOCK 6
#define COL_VECTORS 2
#endif

/* Rows pushed through all layers at once, so that both activation tiles stay in cache. */
#ifndef TILE_ROWS
#define TILE_ROWS (ROW_BLOCK * 8)
#endif
/* Bounds on the shapes, so that every size product below fits comfortably in 64 bits. */
#define MAX_LAYERS 64
#define MAX_WIDTH (1 << 20)

typedef float vf __attribute__((vector_size(VL * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(VL * sizeof(float))));

/* Unaligned vector access through memcpy: one vector load/store, no aliasing questions. */
static inline __attribute__((always_inline)) vf load_v(const float *p) {
  vf v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline __attribute__((always_inline)) void store_v(float *p, vf v) { memcpy(p, &v, sizeof v); }

/* The first n lanes (1 <= n <= VL) from p, zeros elsewhere; never touches p[n..]. */
static inline __attribute__((always_inline)) vf load_n(const float *p, int n) {
#if defined(__AVX512F__)
  return (vf)_mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1u), p);
#else
  if (n == VL) return load_v(p);
  vf v = {0};
  memcpy(&v, p, (size_t)n * sizeof(float));
  return v;
#endif
}

/* Writes the first n lanes (1 <= n <= VL) of v to p; never touches p[n..]. */
static inline __attribute__((always_inline)) void store_n(float *p, vf v, int n) {
#if defined(__AVX512F__)
  _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1u), (__m512)v);
#else
  if (n == VL) {
    store_v(p, v);
    return;
  }
  memcpy(p, &v, (size_t)n * sizeof(float));
#endif
}

/* s in every lane; s - 0 is exactly s (signed zeros and NaN included). */
static inline __attribute__((always_inline)) vf splat(float s) { return s - (vf){0}; }

/* max(v, 0) that keeps NaN as NaN, like the reference implementations. */
static inline __attribute__((always_inline)) vf relu(vf v) {
  vi negative = v < (vf){0};
  return (vf)((vi)v & ~negative);
}

enum epilogue { STORE, STORE_RELU, ADD_INTO };

/*
 * out[r][c] (=|+=) act(b[c] + sum_k in[r][k] * W[k][c]) for r < R, c < (NV - 1) * VL + tail.
 * R, NV and mode are constants at every call site, so the accumulators become registers.
 */
static inline __attribute__((always_inline)) void register_block(int R, int NV, int tail, enum epilogue mode, const float *in, size_t in_stride, int K,
                                                                 const float *W, size_t w_stride, const float *b, float *out, size_t out_stride) {
  vf acc[ROW_BLOCK][COL_VECTORS];
  for (int v = 0; v < NV; v++) {
    vf bv = v == NV - 1 ? load_n(b + v * VL, tail) : load_v(b + v * VL);
    for (int r = 0; r < R; r++) acc[r][v] = bv;
  }
  for (int k = 0; k < K; k++) {
    const float *wk = W + (size_t)k * w_stride;
    vf w[COL_VECTORS];
    for (int v = 0; v < NV; v++) w[v] = v == NV - 1 ? load_n(wk + v * VL, tail) : load_v(wk + v * VL);
    for (int r = 0; r < R; r++) {
      vf xs = splat(in[(size_t)r * in_stride + k]);
      for (int v = 0; v < NV; v++) acc[r][v] += xs * w[v];
    }
  }
  for (int r = 0; r < R; r++) {
    float *o = out + (size_t)r * out_stride;
    for (int v = 0; v < NV; v++) {
      int lanes = v == NV - 1 ? tail : VL;
      vf a = acc[r][v];
      if (mode == STORE_RELU) a = relu(a);
      if (mode == ADD_INTO) a += load_n(o + v * VL, lanes);
      store_n(o + v * VL, a, lanes);
    }
  }
}

/* All `rows` rows for one column block of NV vectors: full row blocks, then single rows. */
static inline __attribute__((always_inline)) void column_block(int NV, int tail, enum epilogue mode, const float *in, size_t in_stride, int K, const float *W,
                                                               size_t w_stride, const float *b, float *out, size_t out_stride, int rows) {
  int r = 0;
  for (; r + ROW_BLOCK <= rows; r += ROW_BLOCK)
    register_block(ROW_BLOCK, NV, tail, mode, in + (size_t)r * in_stride, in_stride, K, W, w_stride, b, out + (size_t)r * out_stride, out_stride);
  for (; r < rows; r++) register_block(1, NV, tail, mode, in + (size_t)r * in_stride, in_stride, K, W, w_stride, b, out + (size_t)r * out_stride, out_stride);
}

/* A full last vector gets its own instantiation, so it needs no lane mask or partial copy. */
#define COLUMN_BLOCK_CASE(NV, MODE)                                                                        \
  case NV:                                                                                                 \
    if (tail == VL)                                                                                        \
      column_block(NV, VL, MODE, in, in_stride, K, W + j0, w_stride, b + j0, out + j0, out_stride, rows);  \
    else                                                                                                   \
      column_block(NV, tail, MODE, in, in_stride, K, W + j0, w_stride, b + j0, out + j0, out_stride, rows); \
    break;

#if COL_VECTORS == 4
#define COLUMN_BLOCK_CASES(MODE) COLUMN_BLOCK_CASE(1, MODE) COLUMN_BLOCK_CASE(2, MODE) COLUMN_BLOCK_CASE(3, MODE) COLUMN_BLOCK_CASE(4, MODE)
#else
#define COLUMN_BLOCK_CASES(MODE) COLUMN_BLOCK_CASE(1, MODE) COLUMN_BLOCK_CASE(2, MODE)
#endif

/* One dense layer over `rows` rows: in [rows, K] (row stride in_stride), out [rows, N]. */
static void dense_layer(enum epilogue mode, const float *in, size_t in_stride, int K, int N, const float *W, const float *b, float *out, size_t out_stride,
                        int rows) {
  const size_t w_stride = (size_t)N;
  for (int j0 = 0; j0 < N; j0 += COL_VECTORS * VL) {
    int cols = N - j0 < COL_VECTORS * VL ? N - j0 : COL_VECTORS * VL;
    int nv = (cols + VL - 1) / VL;
    int tail = cols - (nv - 1) * VL;
    switch (mode) {
      case STORE:
        switch (nv) { COLUMN_BLOCK_CASES(STORE) }
        break;
      case STORE_RELU:
        switch (nv) { COLUMN_BLOCK_CASES(STORE_RELU) }
        break;
      case ADD_INTO:
        switch (nv) { COLUMN_BLOCK_CASES(ADD_INTO) }
        break;
    }
  }
}

/* The whole network over rows [0, rows), a tile of rows at a time. Shapes already validated. */
static void mlp_forward(const float *params, const int *dims, int layers, int max_hidden, const float *x, size_t rows, float *y, bool accumulate, float *scratch) {
  /* scratch [2, min(rows, TILE_ROWS), max_hidden]: a layer reads one half and writes the other. */
  const size_t tile_cap = rows < TILE_ROWS ? rows : TILE_ROWS;
  float *buffers[2] = {scratch, scratch + tile_cap * (size_t)max_hidden};
  const size_t in_width = (size_t)dims[0];
  const size_t out_width = (size_t)dims[layers];
  for (size_t r0 = 0; r0 < rows; r0 += TILE_ROWS) {
    int tile = rows - r0 < TILE_ROWS ? (int)(rows - r0) : TILE_ROWS;
    const float *in = x + r0 * in_width;
    size_t in_stride = in_width;
    const float *p = params;
    for (int l = 0; l < layers; l++) {
      const int K = dims[l];
      const int N = dims[l + 1];
      const float *W = p;
      const float *b = W + (size_t)K * (size_t)N;
      p = b + N;
      if (l == layers - 1) {
        dense_layer(accumulate ? ADD_INTO : STORE, in, in_stride, K, N, W, b, y + r0 * out_width, out_width, tile);
      } else {
        float *out = buffers[l & 1];
        dense_layer(STORE_RELU, in, in_stride, K, N, W, b, out, (size_t)N, tile);
        in = out;
        in_stride = (size_t)N;
      }
    }
  }
}

/* ---- Node-API glue: argument validation, every failure a JS exception. ---- */

#define ERROR_SIZE 256
#define FORWARD_FN "mlp_kernel.forward"

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static napi_value throw_range(napi_env env, const char *message) {
  napi_throw_range_error(env, NULL, message);
  return NULL;
}

/* A non-negative integer number (as Number.isSafeInteger), for offsets and counts. */
static bool get_index(napi_env env, napi_value value, const char *name, uint64_t *out) {
  char message[ERROR_SIZE];
  napi_valuetype kind;
  double d;
  if (napi_typeof(env, value, &kind) != napi_ok || kind != napi_number || napi_get_value_double(env, value, &d) != napi_ok) {
    snprintf(message, sizeof message, "mlp_kernel.forward: %s must be a number", name);
    throw_type(env, message);
    return false;
  }
  if (!(d >= 0 && d <= 9007199254740991.0 && d == floor(d))) {
    snprintf(message, sizeof message, "mlp_kernel.forward: %s must be a non-negative integer, got %g", name, d);
    throw_range(env, message);
    return false;
  }
  *out = (uint64_t)d;
  return true;
}

static napi_value Forward(napi_env env, napi_callback_info info) {
  char message[ERROR_SIZE];
  size_t argc = 9;
  napi_value argv[9];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return throw_type(env, "mlp_kernel.forward: cannot read arguments");
  if (argc != 9) {
    snprintf(message, sizeof message, "mlp_kernel.forward expects 9 arguments (params, dims, x, xOffset, rows, y, yOffset, scratch, accumulate), got %zu", argc);
    return throw_type(env, message);
  }

  float *params, *x, *y, *scratch;
  int32_t *dims_in;
  size_t params_len, dims_len, x_len, y_len, scratch_len;
  uint64_t x_offset, rows, y_offset;
  bool accumulate;
  if (!arg_typed_array(env, argv[0], napi_float32_array, FORWARD_FN, "params", "a Float32Array", (void **)&params, &params_len)) return NULL;
  if (!arg_typed_array(env, argv[1], napi_int32_array, FORWARD_FN, "dims", "an Int32Array", (void **)&dims_in, &dims_len)) return NULL;
  if (!arg_typed_array(env, argv[2], napi_float32_array, FORWARD_FN, "x", "a Float32Array", (void **)&x, &x_len)) return NULL;
  if (!get_index(env, argv[3], "xOffset", &x_offset)) return NULL;
  if (!get_index(env, argv[4], "rows", &rows)) return NULL;
  if (!arg_typed_array(env, argv[5], napi_float32_array, FORWARD_FN, "y", "a Float32Array", (void **)&y, &y_len)) return NULL;
  if (!get_index(env, argv[6], "yOffset", &y_offset)) return NULL;
  if (!arg_typed_array(env, argv[7], napi_float32_array, FORWARD_FN, "scratch", "a Float32Array", (void **)&scratch, &scratch_len)) return NULL;
  napi_valuetype kind;
  if (napi_typeof(env, argv[8], &kind) != napi_ok || kind != napi_boolean || napi_get_value_bool(env, argv[8], &accumulate) != napi_ok)
    return throw_type(env, "mlp_kernel.forward: accumulate must be a boolean");

  /* dims is copied first, so that nothing the kernel writes can change the shapes under it. */
  if (dims_len < 2 || dims_len > MAX_LAYERS + 1) {
    snprintf(message, sizeof message, "mlp_kernel.forward: dims must hold 2 to %d widths (input, hidden..., output), got %zu", MAX_LAYERS + 1, dims_len);
    return throw_range(env, message);
  }
  int dims[MAX_LAYERS + 1];
  const int layers = (int)dims_len - 1;
  int max_hidden = 0;
  uint64_t params_needed = 0;
  for (int l = 0; l <= layers; l++) {
    dims[l] = dims_in[l];
    if (dims[l] < 1 || dims[l] > MAX_WIDTH) {
      snprintf(message, sizeof message, "mlp_kernel.forward: dims[%d] is %d, must be in [1, %d]", l, dims[l], MAX_WIDTH);
      return throw_range(env, message);
    }
    if (l > 0) params_needed += (uint64_t)dims[l - 1] * (uint64_t)dims[l] + (uint64_t)dims[l];
    if (l > 0 && l < layers && dims[l] > max_hidden) max_hidden = dims[l];
  }
  if (params_needed != params_len) {
    snprintf(message, sizeof message, "mlp_kernel.forward: params.length is %zu, but dims need %llu (W [in, out] then b [out] per layer)", params_len,
             (unsigned long long)params_needed);
    return throw_range(env, message);
  }

  /* rows <= x.length first (every width >= 1), so the products below cannot overflow. */
  const uint64_t in_width = (uint64_t)dims[0], out_width = (uint64_t)dims[layers];
  if (x_offset > x_len || rows > x_len || rows * in_width > x_len - x_offset) {
    snprintf(message, sizeof message, "mlp_kernel.forward: x too short: xOffset %llu + rows %llu * %llu inputs > x.length %zu", (unsigned long long)x_offset,
             (unsigned long long)rows, (unsigned long long)in_width, x_len);
    return throw_range(env, message);
  }
  if (y_offset > y_len || rows * out_width > y_len - y_offset) {
    snprintf(message, sizeof message, "mlp_kernel.forward: y too short: yOffset %llu + rows %llu * %llu outputs > y.length %zu", (unsigned long long)y_offset,
             (unsigned long long)rows, (unsigned long long)out_width, y_len);
    return throw_range(env, message);
  }
  const uint64_t scratch_needed = 2 * rows * (uint64_t)max_hidden;
  if (scratch_needed > scratch_len) {
    snprintf(message, sizeof message, "mlp_kernel.forward: scratch too short: 2 * rows %llu * widest hidden %d = %llu > scratch.length %zu",
             (unsigned long long)rows, max_hidden, (unsigned long long)scratch_needed, scratch_len);
    return throw_range(env, message);
  }
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  if (rows == 0) return undefined;

  /* What the pass reads and writes; written ranges must not alias anything else it uses. */
  const float *x_used = x + x_offset;
  float *y_used = y + y_offset;
  const size_t x_count = rows * in_width, y_count = rows * out_width;
  const size_t scratch_count = 2 * (rows < TILE_ROWS ? (size_t)rows : TILE_ROWS) * (size_t)max_hidden;
  const size_t F = sizeof(float);
  if (arg_overlaps(y_used, y_count * F, x_used, x_count * F) || arg_overlaps(y_used, y_count * F, params, params_len * F) ||
      arg_overlaps(y_used, y_count * F, scratch, scratch_count * F) || arg_overlaps(scratch, scratch_count * F, x_used, x_count * F) ||
      arg_overlaps(scratch, scratch_count * F, params, params_len * F))
    return throw_range(env, "mlp_kernel.forward: y and scratch must not share memory with each other, x or params");

  mlp_forward(params, dims, layers, max_hidden, x_used, (size_t)rows, y_used, accumulate, scratch);
  return undefined;
}

static napi_value Isa(napi_env env, napi_callback_info info) {
  napi_value name;
  if (napi_create_string_utf8(env, MLP_ISA, NAPI_AUTO_LENGTH, &name) != napi_ok) return NULL;
  return name;
}

/*
 * The first instruction set the build enabled that this CPU lacks, or NULL. A .node built on
 * one machine and copied to an older one then fails to load (a catchable error) instead of
 * dying of SIGILL in the middle of a planning tick.
 */
static const char *missing_isa(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
#if defined(__AVX512F__)
  if (!__builtin_cpu_supports("avx512f")) return "avx512f";
#endif
#if defined(__AVX512VL__)
  if (!__builtin_cpu_supports("avx512vl")) return "avx512vl";
#endif
#if defined(__AVX512BW__)
  if (!__builtin_cpu_supports("avx512bw")) return "avx512bw";
#endif
#if defined(__AVX512DQ__)
  if (!__builtin_cpu_supports("avx512dq")) return "avx512dq";
#endif
#if defined(__AVX2__)
  if (!__builtin_cpu_supports("avx2")) return "avx2";
#endif
#if defined(__FMA__)
  if (!__builtin_cpu_supports("fma")) return "fma";
#endif
#if defined(__AVX__)
  if (!__builtin_cpu_supports("avx")) return "avx";
#endif
#if defined(__BMI2__)
  if (!__builtin_cpu_supports("bmi2")) return "bmi2";
#endif
#endif
  return NULL;
}

NAPI_MODULE_INIT() {
  const char *missing = missing_isa();
  if (missing != NULL) {
    char message[ERROR_SIZE];
    snprintf(message, sizeof message, "mlp_kernel was compiled for %s (-march=native) but this CPU lacks %s; rebuild it on this machine", MLP_ISA, missing);
    napi_throw_error(env, NULL, message);
    return NULL;
  }
  napi_property_descriptor properties[] = {
      {"forward", NULL, Forward, NULL, NULL, NULL, napi_default, NULL},
      {"isa", NULL, Isa, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties) != napi_ok) return NULL;
  if (!define_analytic_kernel(env, exports) || !define_expression_kernel(env, exports) || !define_normal_kernel(env, exports) ||
      !define_rigid_body_kernel(env, exports) || !define_thread_priority(env, exports))
    return NULL;
  return exports;
}
