/*
 * Cost expressions from config as a small stack program run over blocks of samples: each
 * instruction processes BLOCK samples at once (vectors of doubles), so the interpretation cost
 * is paid once per block, not per sample. src/costs/expression-program.ts compiles the programs
 * from the same parse trees and with the same semantics as the JavaScript expression compiler
 * (src/costs/expression-form.ts); everything is computed in double as there.
 *
 *   evalExpression(ops, consts, states, nx, actions, nu, count, weight, costs, mode): number
 *   expressionOpcodes(): string   (the opcode names in order, for the compiler to check)
 *
 * ops: Int32Array of [opcode, operand] pairs; consts: Float64Array the CONST operands index.
 * states [count, nx], actions [count, nu]; costs [count]: mode 0 adds weight * value into
 * costs[k], mode 1 writes it. Returns the total of weight * value over the samples.
 * The program is copied and checked (operands, stack depth) before it runs.
 */
#include "addon_args.h"
#include "addon_exports.h"
#include "row_transpose.h"
#include "vector_math.h"

#define VECTORS 8                  /* vectors per stack value: the top one lives in 8 named registers */
#define BLOCK (VECTORS * VM_LANES) /* samples per block (64 with AVX-512) */
#define MAX_STACK 32
#define MAX_INSTRUCTIONS 1024
#define MAX_CONSTS 1024
#define MAX_POWI 1024 /* |n| of an integer power */
#define MAX_HYPOT 64  /* arguments of one hypot */
#define MAX_WIDTH (1 << 20)

/* Keep in the order of OPCODE_NAMES, and in step with src/costs/expression-program.ts. */
enum opcode {
  OP_CONST,  /* push consts[operand] */
  OP_STATE,  /* push states[k * nx + operand] */
  OP_ACTION, /* push actions[k * nu + operand] */
  OP_ADD,
  OP_SUB,
  OP_MUL,
  OP_DIV,
  OP_NEG,
  OP_POW,  /* JavaScript's ** */
  OP_POWI, /* x ** operand, operand a small integer: repeated products */
  OP_MOD,  /* mathjs mod: floored, x mod 0 = x */
  OP_LT,   /* comparisons and logic push 1 or 0; NaN counts as false */
  OP_GT,
  OP_LE,
  OP_GE,
  OP_EQ,
  OP_NE,
  OP_NOT,
  OP_AND,
  OP_OR,
  OP_XOR,
  OP_SELECT, /* c, a, b -> c ? a : b */
  OP_SIN,
  OP_COS,
  OP_TAN,
  OP_EXP,
  OP_LOG,
  OP_LOG2,
  OP_LOG10,
  OP_SQRT,
  OP_ABS,
  OP_SIGN,
  OP_FLOOR,
  OP_CEIL,
  OP_ROUND, /* halves away from zero, as mathjs */
  OP_MIN,   /* Math.min of two: NaN wins, -0 < +0 */
  OP_MAX,
  OP_HYPOT, /* Math.hypot of the top `operand` values */
  OP_WRAP,  /* to [-pi, pi), as wrapAngle */
  OP_SQUARE,
  OP_SMOOTHABS, /* sqrt(x^2 + eps^2) - eps */
  OP_ADDC,      /* x + consts[operand]: arithmetic with a constant, one instruction fewer */
  OP_SUBC,      /* x - c */
  OP_RSUBC,     /* c - x */
  OP_MULC,      /* x * c */
  OP_DIVC,      /* x / c */
  OP_RDIVC,     /* c / x */
  OP_COUNT
};

static const char *const OPCODE_NAMES[OP_COUNT] = {
    "const", "state", "action", "add",   "sub",   "mul",   "div",   "neg",  "pow",  "powi", "mod", "lt",    "gt",  "le",
    "ge",    "eq",    "ne",     "not",   "and",   "or",    "xor",   "select", "sin", "cos",  "tan", "exp",   "log", "log2",
    "log10", "sqrt",  "abs",    "sign",  "floor", "ceil",  "round", "min",  "max",  "hypot", "wrap", "square", "smoothabs", "addc", "subc", "rsubc", "mulc",
    "divc",  "rdivc",
};

/* ---- the operations on vectors ---- */

/* JavaScript truthiness of a number: false for 0, -0 and NaN. */
VM_INLINE vl truthy(vd x) { return (x < 0.0) | (x > 0.0); }

VM_INLINE vd js_min(vd a, vd b) {
  vd r = vd_select(a < b, a, b);
  r = vd_select(a == b, (vd)((vl)a | (vl)b), r); /* min(+0, -0) = -0 */
  return vd_select(vd_isnan(a) | vd_isnan(b), a + b, r);
}

VM_INLINE vd js_max(vd a, vd b) {
  vd r = vd_select(a > b, a, b);
  r = vd_select(a == b, (vd)((vl)a & (vl)b), r); /* max(+0, -0) = +0 */
  return vd_select(vd_isnan(a) | vd_isnan(b), a + b, r);
}

VM_INLINE vd js_sign(vd x) { return vd_select(x > 0.0, vd_splat(1.0), vd_select(x < 0.0, vd_splat(-1.0), x)); }

/* mathjs round: halves away from zero. ceil(|x|), less one where that overshoots by more than a half. */
VM_INLINE vd js_round(vd x) {
  vd ax = vd_abs(x);
  vd r = vd_ceil(ax);
  r = vd_select(r - 0.5 > ax, r - 1.0, r);
  return vd_copysign(r, x);
}

VM_INLINE vd js_mod(vd x, vd y) {
  vd r = x - vd_mul_rounded(y, vd_floor(x / y));
  return vd_select(y == 0.0, x, r);
}

VM_INLINE vd js_wrap(vd a) {
  const double two_pi = 2 * M_PI;
  vd r = a - vd_mul_rounded(vd_splat(two_pi), vd_floor((a + M_PI) / two_pi));
  return vd_select(r >= M_PI, r - two_pi, r);
}

VM_INLINE vd js_smoothabs(vd x, vd eps) { return vd_sqrt(vd_mul_rounded(x, x) + vd_mul_rounded(eps, eps)) - eps; }

/* x ** n for an integer n by squaring; x ** 0 = 1 even for NaN, as in JavaScript. */
VM_INLINE vd js_powi(vd x, int n) {
  unsigned m = n < 0 ? (unsigned)(-(int64_t)n) : (unsigned)n;
  vd result = vd_splat(1.0), base = x;
  bool first = true;
  while (m != 0) {
    if (m & 1u) {
      result = first ? base : result * base;
      first = false;
    }
    m >>= 1;
    if (m != 0) base = base * base;
  }
  return n < 0 ? 1.0 / result : result;
}

/*
 * JavaScript's x ** y through exp(y log|x|), with its special cases: y = +-0 gives 1 (NaN base
 * included), |x| = 1 with y = +-Inf gives NaN, a finite negative base with a finite non-integer
 * exponent gives NaN, and a negative base (or -0, -Inf) with an odd integer exponent is negative.
 */
VM_INLINE vd js_pow(vd x, vd y) {
  vd r = vd_exp(y * vd_log(vd_abs(x)));
  vd ay = vd_abs(y);
  vl y_int = (vd_floor(y) == y) & (ay < INFINITY);
  vd half = y * 0.5;
  vl y_odd = y_int & (vd_floor(half) != half);
  vl x_signed = (vl)x < 0;
  r = vd_select(x_signed & y_odd, -r, r);
  vl complex_result = (x < 0.0) & (x > -INFINITY) & ~y_int & (ay < INFINITY);
  r = vd_select(complex_result, vd_splat(NAN), r);
  return vd_select(y == 0.0, vd_splat(1.0), r);
}

/* Math.hypot: +Inf if any argument is infinite, else NaN if any is NaN; scaled by the largest. */
static inline vd js_hypot(const double (*args)[BLOCK], int n, int v) {
  vd m = vd_splat(0.0);
  vl any_inf = (vl)vd_splat(0.0), any_nan = any_inf;
  for (int i = 0; i < n; i++) {
    vd a = vd_abs(vd_load(&args[i][v * VM_LANES]));
    any_inf |= a == INFINITY;
    any_nan |= vd_isnan(a);
    m = vd_select(a > m, a, m);
  }
  vd scale = vd_select(m == 0.0, vd_splat(1.0), m);
  vd sum = vd_splat(0.0);
  for (int i = 0; i < n; i++) {
    vd a = vd_load(&args[i][v * VM_LANES]) / scale;
    sum += a * a;
  }
  vd r = m * vd_sqrt(sum);
  r = vd_select(any_nan, vd_splat(NAN), r);
  return vd_select(any_inf, vd_splat(INFINITY), r);
}

/* ---- the program ---- */

typedef struct {
  int32_t op, operand;
} instruction;

/* Stack depth change of each instruction (hypot's depends on its operand). */
static int stack_effect(instruction in) {
  switch ((enum opcode)in.op) {
    case OP_CONST:
    case OP_STATE:
    case OP_ACTION:
      return 1;
    case OP_NEG:
    case OP_POWI:
    case OP_NOT:
    case OP_SIN:
    case OP_COS:
    case OP_TAN:
    case OP_EXP:
    case OP_LOG:
    case OP_LOG2:
    case OP_LOG10:
    case OP_SQRT:
    case OP_ABS:
    case OP_SIGN:
    case OP_FLOOR:
    case OP_CEIL:
    case OP_ROUND:
    case OP_WRAP:
    case OP_SQUARE:
    case OP_ADDC:
    case OP_SUBC:
    case OP_RSUBC:
    case OP_MULC:
    case OP_DIVC:
    case OP_RDIVC:
      return 0;
    case OP_SELECT:
      return -2;
    case OP_HYPOT:
      return 1 - in.operand;
    default:
      return -1; /* binary */
  }
}

/* Values an instruction pops (its operands on the stack). */
static int stack_inputs(instruction in) {
  switch ((enum opcode)in.op) {
    case OP_CONST:
    case OP_STATE:
    case OP_ACTION:
      return 0;
    case OP_SELECT:
      return 3;
    case OP_HYPOT:
      return in.operand;
    default:
      return 1 - stack_effect(in);
  }
}

/* Checks a program against the batch's widths; NULL if it is sound, else what is wrong. */
static const char *check_program(const instruction *prog, int n, int n_consts, int64_t nx, int64_t nu, char *message, size_t size) {
  int depth = 0;
  for (int i = 0; i < n; i++) {
    const instruction in = prog[i];
    if (in.op < 0 || in.op >= OP_COUNT) {
      snprintf(message, size, "instruction %d: unknown opcode %d", i, in.op);
      return message;
    }
    const int32_t a = in.operand;
    const char *bad = NULL;
    if ((in.op == OP_CONST || (in.op >= OP_ADDC && in.op <= OP_RDIVC)) && (a < 0 || a >= n_consts)) bad = "is not an index of consts";
    if (in.op == OP_STATE && (a < 0 || a >= nx)) bad = "is not a state index (< nx)";
    if (in.op == OP_ACTION && (a < 0 || a >= nu)) bad = "is not an action index (< nu)";
    if (in.op == OP_POWI && (a < -MAX_POWI || a > MAX_POWI)) bad = "is not an exponent in [-1024, 1024]";
    if (in.op == OP_HYPOT && (a < 1 || a > MAX_HYPOT)) bad = "is not an argument count in [1, 64]";
    if (bad != NULL) {
      snprintf(message, size, "instruction %d (%s): operand %d %s", i, OPCODE_NAMES[in.op], a, bad);
      return message;
    }
    if (depth < stack_inputs(in)) {
      snprintf(message, size, "instruction %d (%s) needs %d values on the stack, it holds %d", i, OPCODE_NAMES[in.op], stack_inputs(in), depth);
      return message;
    }
    depth += stack_effect(in);
    if (depth > MAX_STACK) {
      snprintf(message, size, "instruction %d (%s): the stack grows past %d values", i, OPCODE_NAMES[in.op], MAX_STACK);
      return message;
    }
  }
  if (depth != 1) {
    snprintf(message, size, "the program leaves %d values on the stack, not 1", depth);
    return message;
  }
  return NULL;
}

/*
 * out[k / VM_LANES][k % VM_LANES] = column[k * width] for k < n, zeros past n: one column of a
 * block of rows, gathered 16 at a time where the machine gathers (k * width fits 32 bits: width
 * <= MAX_WIDTH), read as vectors where the column is contiguous.
 */
static inline void load_column(const float *column, size_t width, int n, vd out[VECTORS]) {
  if (n == BLOCK && width == 1) {
    for (int v = 0; v < VECTORS; v++) out[v] = vd_from_f32(vf_load(column + v * VM_LANES));
    return;
  }
#if defined(__AVX512F__)
  if (n == BLOCK) {
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i index = _mm512_mullo_epi32(lane, _mm512_set1_epi32((int)width));
    for (int v = 0; v < VECTORS; v += 2) {
      __m512 g = _mm512_i32gather_ps(index, column + (size_t)v * VM_LANES * width, 4);
      out[v] = (vd)_mm512_cvtps_pd(_mm512_castps512_ps256(g));
      out[v + 1] = (vd)_mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(g), 1)));
    }
    return;
  }
#endif
  double values[BLOCK] __attribute__((aligned(64)));
  for (int k = 0; k < BLOCK; k++) values[k] = k < n ? column[(size_t)k * width] : 0.0;
  for (int v = 0; v < VECTORS; v++) out[v] = vd_load(values + v * VM_LANES);
}

/*
 * A full block's states [BLOCK, nx] as columns, cols [nx, BLOCK], for the widths the shuffles
 * transpose (2 and 4): a STATE instruction then reads vectors instead of gathering.
 */
static inline bool transpose_states(const float *rows, size_t nx, float *cols) {
  if (nx != 4 && nx != 2) return false;
  for (int r = 0; r < BLOCK; r += TRANSPOSE_ROWS) {
    if (nx == 4)
      rows4_to_columns(rows + (size_t)r * 4, cols + r, BLOCK);
    else
      rows2_to_columns(rows + (size_t)r * 2, cols + r, BLOCK);
  }
  return true;
}

/*
 * The stack: its top value in t0..t7 (named, so that they stay in registers across
 * instructions), the values under it in memory, stack[0] at the bottom; sp counts them all.
 * Unary operations never touch memory; binary ones read their left operand from it.
 */
#define AT(slot, v) (&stack[slot][(v) * VM_LANES])
#define EACH_TOP(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define TOP_STORE(i) vd_store(AT(sp - 1, i), t##i);
#define TOP_FROM(i) t##i = from[i];
#define TOP_TO(i) to[i] = t##i;
#define PUSH()                       \
  do {                               \
    if (sp > 0) { EACH_TOP(TOP_STORE) } \
    sp++;                            \
  } while (0)
#define UNARY_AT(i, EXPR) \
  {                       \
    vd a = t##i;          \
    t##i = (EXPR);        \
  }
#define BINARY_AT(i, EXPR)         \
  {                                \
    vd a = vd_load(AT(sp - 2, i)); \
    vd b = t##i;                   \
    t##i = (EXPR);                 \
  }
#define UNARY(EXPR)                                                                                                                        \
  UNARY_AT(0, EXPR) UNARY_AT(1, EXPR) UNARY_AT(2, EXPR) UNARY_AT(3, EXPR) UNARY_AT(4, EXPR) UNARY_AT(5, EXPR) UNARY_AT(6, EXPR) UNARY_AT(7, EXPR) \
  break
#define BINARY(EXPR)                                                                                                               \
  BINARY_AT(0, EXPR) BINARY_AT(1, EXPR) BINARY_AT(2, EXPR) BINARY_AT(3, EXPR) BINARY_AT(4, EXPR) BINARY_AT(5, EXPR) BINARY_AT(6, EXPR) \
  BINARY_AT(7, EXPR) sp -= 1;                                                                                                      \
  break

/*
 * Runs the program over samples [k0, k0 + n), n <= BLOCK, into value (the result of sample
 * k0 + k at value[k / VM_LANES][k % VM_LANES]). Lanes past n hold zeros in every load, and their
 * results are ignored. state_cols: the block's states as columns [nx, BLOCK], or NULL.
 */
static void run_block(const instruction *prog, int n_prog, const double *consts, const float *states, size_t nx, const float *state_cols, const float *actions,
                      size_t nu, size_t k0, int n, double (*stack)[BLOCK], vd value[VECTORS]) {
  int sp = 0;
  vd t0 = vd_splat(0.0), t1 = t0, t2 = t0, t3 = t0, t4 = t0, t5 = t0, t6 = t0, t7 = t0;
  for (int i = 0; i < n_prog; i++) {
    const instruction in = prog[i];
    switch ((enum opcode)in.op) {
      case OP_CONST: {
        PUSH();
        t0 = t1 = t2 = t3 = t4 = t5 = t6 = t7 = vd_splat(consts[in.operand]);
        break;
      }
      case OP_STATE:
      case OP_ACTION: {
        PUSH();
        const size_t width = in.op == OP_STATE ? nx : nu;
        vd from[VECTORS];
        if (in.op == OP_STATE && state_cols != NULL)
          load_column(state_cols + (size_t)in.operand * BLOCK, 1, n, from);
        else
          load_column((in.op == OP_STATE ? states : actions) + k0 * width + (size_t)in.operand, width, n, from);
        EACH_TOP(TOP_FROM)
        break;
      }
      case OP_ADD:
        BINARY(a + b);
      case OP_SUB:
        BINARY(a - b);
      case OP_MUL:
        BINARY(a * b);
      case OP_DIV:
        BINARY(a / b);
      case OP_NEG:
        UNARY(-a);
      case OP_POW:
        BINARY(js_pow(a, b));
      case OP_POWI:
        UNARY(js_powi(a, in.operand));
      case OP_MOD:
        BINARY(js_mod(a, b));
      case OP_LT:
        BINARY(vd_from_mask(a < b));
      case OP_GT:
        BINARY(vd_from_mask(a > b));
      case OP_LE:
        BINARY(vd_from_mask(a <= b));
      case OP_GE:
        BINARY(vd_from_mask(a >= b));
      case OP_EQ:
        BINARY(vd_from_mask(a == b));
      case OP_NE:
        BINARY(vd_from_mask(a != b));
      case OP_NOT:
        UNARY(vd_from_mask(~truthy(a)));
      case OP_AND:
        BINARY(vd_from_mask(truthy(a) & truthy(b)));
      case OP_OR:
        BINARY(vd_from_mask(truthy(a) | truthy(b)));
      case OP_XOR:
        BINARY(vd_from_mask(truthy(a) ^ truthy(b)));
      case OP_SELECT: /* c, a, top -> c ? a : top */
#define SELECT_AT(i) t##i = vd_select(truthy(vd_load(AT(sp - 3, i))), vd_load(AT(sp - 2, i)), t##i);
        EACH_TOP(SELECT_AT)
        sp -= 2;
        break;
      case OP_SIN:
      case OP_COS:
      case OP_TAN:
#define TRIG_AT(i)                                               \
  {                                                              \
    vd s, c;                                                     \
    vd_sincos(t##i, &s, &c);                                     \
    t##i = in.op == OP_SIN ? s : in.op == OP_COS ? c : s / c;    \
  }
        EACH_TOP(TRIG_AT)
        break;
      case OP_EXP:
        UNARY(vd_exp(a));
      case OP_LOG:
        UNARY(vd_log(a));
      case OP_LOG2:
        UNARY(vd_log2(a));
      case OP_LOG10:
        UNARY(vd_log10(a));
      case OP_SQRT:
        UNARY(vd_sqrt(a));
      case OP_ABS:
        UNARY(vd_abs(a));
      case OP_SIGN:
        UNARY(js_sign(a));
      case OP_FLOOR:
        UNARY(vd_floor(a));
      case OP_CEIL:
        UNARY(vd_ceil(a));
      case OP_ROUND:
        UNARY(js_round(a));
      case OP_MIN:
        BINARY(js_min(a, b));
      case OP_MAX:
        BINARY(js_max(a, b));
      case OP_HYPOT: {
        /* The top joins the others in memory, so that all arguments sit in consecutive slots. */
        const int args = in.operand;
        EACH_TOP(TOP_STORE)
        vd from[VECTORS];
        for (int v = 0; v < VECTORS; v++) from[v] = js_hypot((const double(*)[BLOCK])(stack + sp - args), args, v);
        EACH_TOP(TOP_FROM)
        sp -= args - 1;
        break;
      }
      case OP_WRAP:
        UNARY(js_wrap(a));
      case OP_SQUARE:
        UNARY(a * a);
      case OP_SMOOTHABS:
        BINARY(js_smoothabs(a, b));
      case OP_ADDC:
        UNARY(a + consts[in.operand]);
      case OP_SUBC:
        UNARY(a - consts[in.operand]);
      case OP_RSUBC:
        UNARY(consts[in.operand] - a);
      case OP_MULC:
        UNARY(a * consts[in.operand]);
      case OP_DIVC:
        UNARY(a / consts[in.operand]);
      case OP_RDIVC:
        UNARY(consts[in.operand] / a);
      case OP_COUNT:
        break;
    }
  }
  vd *to = value;
  EACH_TOP(TOP_TO)
}

/* costs[k] (+)= weight * value for k < n; returns the sum of weight * value. */
static double apply_block(const vd value[VECTORS], int n, double weight, float *costs, bool accumulate) {
  if (n == BLOCK) {
    vd total = vd_splat(0.0);
    for (int v = 0; v < VECTORS; v++) {
      vd c = weight * value[v];
      float *at = costs + v * VM_LANES;
      vf_store(at, vf_from_f64(accumulate ? vd_from_f32(vf_load(at)) + c : c));
      total += c;
    }
    double sum = 0;
    for (int i = 0; i < VM_LANES; i++) sum += total[i];
    return sum;
  }
  double sum = 0;
  for (int k = 0; k < n; k++) {
    const double c = weight * value[k / VM_LANES][k % VM_LANES];
    costs[k] = (float)(accumulate ? (double)costs[k] + c : c);
    sum += c;
  }
  return sum;
}

#define EVAL_FN "mlp_kernel.evalExpression"

static napi_value EvalExpression(napi_env env, napi_callback_info info) {
  char message[ARG_ERROR_SIZE];
  napi_value argv[11];
  size_t argc;
  if (!arg_list_between(env, info, EVAL_FN, "ops, consts, states, nx, actions, nu, count, weight, costs, mode[, totalOut]", 10, 11, argv, &argc)) return NULL;
  int32_t *ops_in;
  double *consts_in, weight;
  float *states, *actions, *costs;
  size_t ops_len, consts_len, states_len, actions_len, costs_len;
  int64_t nx, nu, count, mode;
  if (!arg_typed_array(env, argv[0], napi_int32_array, EVAL_FN, "ops", "an Int32Array", (void **)&ops_in, &ops_len)) return NULL;
  if (!arg_typed_array(env, argv[1], napi_float64_array, EVAL_FN, "consts", "a Float64Array", (void **)&consts_in, &consts_len)) return NULL;
  if (!arg_typed_array(env, argv[2], napi_float32_array, EVAL_FN, "states", "a Float32Array", (void **)&states, &states_len)) return NULL;
  if (!arg_integer(env, argv[3], EVAL_FN, "nx", 0, MAX_WIDTH, &nx)) return NULL;
  if (!arg_typed_array(env, argv[4], napi_float32_array, EVAL_FN, "actions", "a Float32Array", (void **)&actions, &actions_len)) return NULL;
  if (!arg_integer(env, argv[5], EVAL_FN, "nu", 0, MAX_WIDTH, &nu)) return NULL;
  if (!arg_integer(env, argv[6], EVAL_FN, "count", 0, 9007199254740991.0, &count)) return NULL;
  if (!arg_number(env, argv[7], EVAL_FN, "weight", &weight)) return NULL;
  if (!arg_typed_array(env, argv[8], napi_float32_array, EVAL_FN, "costs", "a Float32Array", (void **)&costs, &costs_len)) return NULL;
  if (!arg_integer(env, argv[9], EVAL_FN, "mode (0 accumulate, 1 write)", 0, 1, &mode)) return NULL;
  /* totalOut [1]: where the total goes instead of a returned number, which V8 would allocate. */
  double *total_out = NULL;
  size_t total_out_len = 0;
  const bool has_total_out = argc == 11;
  if (has_total_out && !arg_typed_array(env, argv[10], napi_float64_array, EVAL_FN, "totalOut", "a Float64Array", (void **)&total_out, &total_out_len)) return NULL;
  if (has_total_out && (total_out == NULL || total_out_len < 1)) return arg_throw_range(env, EVAL_FN ": totalOut must hold 1 number");

  /* The program is copied first, so that nothing the kernel writes can change it under it. */
  if (ops_len % 2 != 0 || ops_len == 0 || ops_len > 2 * MAX_INSTRUCTIONS) {
    snprintf(message, sizeof message, "%s: ops must hold 1 to %d [opcode, operand] pairs, got length %zu", EVAL_FN, MAX_INSTRUCTIONS, ops_len);
    return arg_throw_range(env, message);
  }
  if (consts_len > MAX_CONSTS) {
    snprintf(message, sizeof message, "%s: consts holds %zu values, more than %d", EVAL_FN, consts_len, MAX_CONSTS);
    return arg_throw_range(env, message);
  }
  instruction prog[MAX_INSTRUCTIONS];
  double consts[MAX_CONSTS];
  const int n_prog = (int)(ops_len / 2);
  for (int i = 0; i < n_prog; i++) prog[i] = (instruction){ops_in[2 * i], ops_in[2 * i + 1]};
  if (consts_len > 0) memcpy(consts, consts_in, consts_len * sizeof(double));
  char problem[ARG_ERROR_SIZE - 64];
  if (check_program(prog, n_prog, (int)consts_len, nx, nu, problem, sizeof problem) != NULL) {
    snprintf(message, sizeof message, "%s: bad program: %s", EVAL_FN, problem);
    return arg_throw_range(env, message);
  }

  const uint64_t n = (uint64_t)count;
  if (nx > 0 && (n > states_len || n * (uint64_t)nx > states_len)) {
    snprintf(message, sizeof message, "%s: states too short: count %llu * nx %lld > states.length %zu", EVAL_FN, (unsigned long long)n, (long long)nx, states_len);
    return arg_throw_range(env, message);
  }
  if (nu > 0 && (n > actions_len || n * (uint64_t)nu > actions_len)) {
    snprintf(message, sizeof message, "%s: actions too short: count %llu * nu %lld > actions.length %zu", EVAL_FN, (unsigned long long)n, (long long)nu, actions_len);
    return arg_throw_range(env, message);
  }
  if (n > costs_len) {
    snprintf(message, sizeof message, "%s: costs too short: count %llu > costs.length %zu", EVAL_FN, (unsigned long long)n, costs_len);
    return arg_throw_range(env, message);
  }
  const size_t cost_bytes = n * sizeof(float);
  if (arg_overlaps(costs, cost_bytes, states, n * (size_t)nx * sizeof(float)) || arg_overlaps(costs, cost_bytes, actions, n * (size_t)nu * sizeof(float)))
    return arg_throw_range(env, EVAL_FN ": costs must not share memory with states or actions");

  bool reads_states = false;
  for (int i = 0; i < n_prog; i++) reads_states |= prog[i].op == OP_STATE;
  double stack[MAX_STACK][BLOCK] __attribute__((aligned(64)));
  float state_cols[4 * BLOCK] __attribute__((aligned(64)));
  double total = 0;
  for (uint64_t k0 = 0; k0 < n; k0 += BLOCK) {
    const int block = n - k0 < BLOCK ? (int)(n - k0) : BLOCK;
    const bool transposed = reads_states && block == BLOCK && transpose_states(states + k0 * (size_t)nx, (size_t)nx, state_cols);
    vd value[VECTORS];
    run_block(prog, n_prog, consts, states, (size_t)nx, transposed ? state_cols : NULL, actions, (size_t)nu, (size_t)k0, block, stack, value);
    total += apply_block(value, block, weight, costs + k0, mode == 0);
  }
  if (total_out != NULL) {
    total_out[0] = total;
    return arg_undefined(env);
  }
  napi_value result;
  if (napi_create_double(env, total, &result) != napi_ok) return NULL;
  return result;
}

static napi_value ExpressionOpcodes(napi_env env, napi_callback_info info) {
  char names[1024];
  size_t at = 0;
  for (int i = 0; i < OP_COUNT; i++) at += (size_t)snprintf(names + at, sizeof names - at, i == 0 ? "%s" : ",%s", OPCODE_NAMES[i]);
  napi_value result;
  if (napi_create_string_utf8(env, names, at, &result) != napi_ok) return NULL;
  return result;
}

bool define_expression_kernel(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"evalExpression", NULL, EvalExpression, NULL, NULL, NULL, napi_default, NULL},
      {"expressionOpcodes", NULL, ExpressionOpcodes, NULL, NULL, NULL, napi_default, NULL},
  };
  return napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties) == napi_ok;
}
