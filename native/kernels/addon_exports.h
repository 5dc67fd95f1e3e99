/*
 * The addon's kernels beside the MLP forward pass, each defined in its own file; the module init
 * (mlp_kernel.c) adds their functions to the exports. Each returns false with a JS exception
 * pending when it cannot.
 */
#ifndef MPCD_ADDON_EXPORTS_H
#define MPCD_ADDON_EXPORTS_H

#define NAPI_VERSION 8
#include <node_api.h>
#include <stdbool.h>

/* analyticStep, stateFeatures (analytic_kernel.c) */
bool define_analytic_kernel(napi_env env, napi_value exports);

/* evalExpression, expressionOpcodes (expression_kernel.c) */
bool define_expression_kernel(napi_env env, napi_value exports);

/* normalFill (normal_kernel.c) */
bool define_normal_kernel(napi_env env, napi_value exports);

/* rigidBodyStep, rigidBodyDerivatives, rigidBodyPoints (rigid_body_kernel.c) */
bool define_rigid_body_kernel(napi_env env, napi_value exports);

/* setThreadIdle, setThreadAffinity (thread_priority.c) */
bool define_thread_priority(napi_env env, napi_value exports);

#endif /* MPCD_ADDON_EXPORTS_H */
