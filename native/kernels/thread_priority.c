/*
 * How the daemon's threads share the machine with each other (Linux; elsewhere both report false):
 *
 * setThreadIdle(): puts the calling thread under SCHED_IDLE, so it runs only on CPU time no other
 * thread wants. The refit worker trains this way: a nice value of 19 still gets a share of a busy
 * core and delays the planner's wake-up, SCHED_IDLE yields at once. False where the OS has no
 * such policy or refuses it (the caller falls back to nice).
 *
 * setThreadAffinity(cpus: Int32Array, tid?: number): lets the calling thread (or thread `tid` of
 * this process, a Linux task id) run only on those CPUs. A trainer on cores of its own leaves the
 * planner's cores, and their caches, to the planner. False where the OS refuses the set (no such
 * CPU online, outside the process's cpuset, no such thread).
 */
#define _GNU_SOURCE
#include "addon_args.h"
#include "addon_exports.h"
#include <stdbool.h>
#include <stdint.h>
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

static napi_value set_thread_affinity(napi_env env, napi_callback_info info) {
  static const char *fn = "setThreadAffinity";
  napi_value argv[2];
  size_t argc;
  if (!arg_list_between(env, info, fn, "setThreadAffinity(cpus: Int32Array, tid?: number)", 1, 2, argv, &argc)) return NULL;
  int32_t *cpus = NULL;
  size_t count = 0;
  if (!arg_typed_array(env, argv[0], napi_int32_array, fn, "cpus", "an Int32Array", (void **)&cpus, &count)) return NULL;
  int64_t tid = 0; /* 0 = the calling thread */
  if (argc == 2 && !arg_integer(env, argv[1], fn, "tid", 0, 2147483647.0, &tid)) return NULL;
  if (count == 0) return arg_throw_range(env, "setThreadAffinity: cpus is empty; name at least one CPU");
  bool ok = false;
#ifdef __linux__
  cpu_set_t set;
  CPU_ZERO(&set);
  for (size_t i = 0; i < count; i++) {
    if (cpus[i] < 0 || cpus[i] >= CPU_SETSIZE) return arg_throw_range(env, "setThreadAffinity: a CPU number is out of range");
    CPU_SET(cpus[i], &set);
  }
  /* Linux affinity is per thread: a task id names one, 0 the calling thread. */
  ok = sched_setaffinity((pid_t)tid, sizeof set, &set) == 0;
#endif
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return result;
}

bool define_thread_priority(napi_env env, napi_value exports) {
  napi_property_descriptor d[] = {
      {"setThreadIdle", NULL, set_thread_idle, NULL, NULL, NULL, napi_default, NULL},
      {"setThreadAffinity", NULL, set_thread_affinity, NULL, NULL, NULL, napi_default, NULL},
  };
  return napi_define_properties(env, exports, 2, d) == napi_ok;
}
