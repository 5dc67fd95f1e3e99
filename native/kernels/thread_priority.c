/*
 * setThreadIdle(): puts the calling thread under SCHED_IDLE (Linux), so it runs only on CPU time
 * no other thread wants. The refit worker trains this way: a nice value of 19 still gets a
 * share of a busy core and delays the planner's wake-up, SCHED_IDLE yields at once. Returns
 * false where the OS has no such policy or refuses it (the caller falls back to nice).
 */
#define _GNU_SOURCE
#include "addon_exports.h"
#include <stdbool.h>
#ifdef __linux__
#include <sched.h>
#endif

static napi_value set_thread_idle(napi_env env, napi_callback_info info) {
  (void)info;
  bool ok = false;
#if defined(__linux__) && defined(SCHED_IDLE)
  struct sched_param param = {0};
  /* pid 0 = the calling thread: a Linux scheduling policy is per thread. */
  ok = sched_setscheduler(0, SCHED_IDLE, &param) == 0;
#endif
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return result;
}

bool define_thread_priority(napi_env env, napi_value exports) {
  napi_property_descriptor d = {"setThreadIdle", NULL, set_thread_idle, NULL, NULL, NULL, napi_default, NULL};
  return napi_define_properties(env, exports, 1, &d) == napi_ok;
}
