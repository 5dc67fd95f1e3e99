{
  # The planner's MLP forward kernel, analytic dynamics, the rigid-body model's dynamics,
  # learners' features and cost expressions (one addon, see addon_exports.h). Built on the
  # machine that runs it (npm ci), hence -march=native; -ffp-contract=fast only fuses a*b+c
  # into FMA (no -ffast-math reassociation).
  "targets": [
    {
      "target_name": "mpcd_kernels",
      "sources": ["mlp_kernel.c", "analytic_kernel.c", "expression_kernel.c", "normal_kernel.c", "rigid_body_kernel.c", "thread_priority.c"],
      "cflags_c": ["-std=gnu11", "-O3", "-march=native", "-ffp-contract=fast"],
      "xcode_settings": {
        "OTHER_CFLAGS": ["-std=gnu11", "-O3", "-march=native", "-ffp-contract=fast"]
      }
    }
  ]
}
