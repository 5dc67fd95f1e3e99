/*
 * Argument checks shared by the addon's vector kernels: every failure is a JS exception whose
 * message starts with the function's name (TypeError for a wrong type, RangeError for a wrong
 * value), and the caller returns NULL right after.
 */
#ifndef MPCD_ADDON_ARGS_H
#define MPCD_ADDON_ARGS_H

#define NAPI_VERSION 8
#include <node_api.h>

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ARG_ERROR_SIZE 320

static inline napi_value arg_throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static inline napi_value arg_throw_range(napi_env env, const char *message) {
  napi_throw_range_error(env, NULL, message);
  return NULL;
}

/*
 * The callback's arguments into argv[0..max); between `min` and `max` of them (how many in *argc),
 * else a TypeError naming `usage`. Missing optional ones are left undefined.
 */
static inline bool arg_list_between(napi_env env, napi_callback_info info, const char *fn, const char *usage, size_t min, size_t max, napi_value *argv,
                                    size_t *argc) {
  char message[ARG_ERROR_SIZE];
  *argc = max;
  if (napi_get_cb_info(env, info, argc, argv, NULL, NULL) != napi_ok) {
    snprintf(message, sizeof message, "%s: cannot read arguments", fn);
    arg_throw_type(env, message);
    return false;
  }
  if (*argc < min || *argc > max) {
    if (min == max)
      snprintf(message, sizeof message, "%s expects %zu arguments (%s), got %zu", fn, min, usage, *argc);
    else
      snprintf(message, sizeof message, "%s expects %zu to %zu arguments (%s), got %zu", fn, min, max, usage, *argc);
    arg_throw_type(env, message);
    return false;
  }
  return true;
}

/* Exactly `want` arguments. */
static inline bool arg_list(napi_env env, napi_callback_info info, const char *fn, const char *usage, size_t want, napi_value *argv) {
  size_t argc;
  return arg_list_between(env, info, fn, usage, want, want, argv, &argc);
}

/* A boolean. */
static inline bool arg_bool(napi_env env, napi_value value, const char *fn, const char *name, bool *out) {
  char message[ARG_ERROR_SIZE];
  napi_valuetype kind;
  if (napi_typeof(env, value, &kind) != napi_ok || kind != napi_boolean || napi_get_value_bool(env, value, out) != napi_ok) {
    snprintf(message, sizeof message, "%s: %s must be a boolean", fn, name);
    arg_throw_type(env, message);
    return false;
  }
  return true;
}

/* A typed array of the given type: its first element and length (NULL when empty or detached). */
static inline bool arg_typed_array(napi_env env, napi_value value, napi_typedarray_type want, const char *fn, const char *name, const char *type_name,
                                   void **data, size_t *length) {
  char message[ARG_ERROR_SIZE];
  bool is_typed = false;
  napi_typedarray_type type;
  napi_value buffer;
  size_t byte_offset;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, value, &type, length, data, &buffer, &byte_offset) != napi_ok || type != want) {
    snprintf(message, sizeof message, "%s: %s must be %s", fn, name, type_name);
    arg_throw_type(env, message);
    return false;
  }
  if (*length == 0) *data = NULL;
  return true;
}

/* A number (any double). */
static inline bool arg_number(napi_env env, napi_value value, const char *fn, const char *name, double *out) {
  char message[ARG_ERROR_SIZE];
  napi_valuetype kind;
  if (napi_typeof(env, value, &kind) != napi_ok || kind != napi_number || napi_get_value_double(env, value, out) != napi_ok) {
    snprintf(message, sizeof message, "%s: %s must be a number", fn, name);
    arg_throw_type(env, message);
    return false;
  }
  return true;
}

/* An integer number in [lo, hi] (hi at most 2^53 - 1). */
static inline bool arg_integer(napi_env env, napi_value value, const char *fn, const char *name, double lo, double hi, int64_t *out) {
  char message[ARG_ERROR_SIZE];
  double d;
  if (!arg_number(env, value, fn, name, &d)) return false;
  if (!(d >= lo && d <= hi && d == floor(d))) {
    snprintf(message, sizeof message, "%s: %s must be an integer in [%.17g, %.17g], got %.17g", fn, name, lo, hi, d);
    arg_throw_range(env, message);
    return false;
  }
  *out = (int64_t)d;
  return true;
}

/* Whether byte ranges [a, a + na) and [b, b + nb) share memory (empty ranges share none). */
static inline bool arg_overlaps(const void *a, size_t na, const void *b, size_t nb) {
  if (na == 0 || nb == 0) return false;
  uintptr_t a0 = (uintptr_t)a, a1 = a0 + na;
  uintptr_t b0 = (uintptr_t)b, b1 = b0 + nb;
  return a0 < b1 && b0 < a1;
}

static inline napi_value arg_undefined(napi_env env) {
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  return undefined;
}

#endif /* MPCD_ADDON_ARGS_H */
