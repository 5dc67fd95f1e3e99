import { loadNativeVectorKernels, type NativeVectorKernels } from '../src/models/residual/native-vector-kernels.js';

/** Where the native addon may be missing (a machine without a compiler), its tests are skipped. */
const ALLOW_NO_NATIVE = process.env.MPCD_ALLOW_NO_NATIVE === '1';

/** The native kernels (whatever MPCD_NO_NATIVE says), or undefined after skipping where they may be absent. */
export function kernelsOrSkip(t: { skip(why: string): void }): NativeVectorKernels | undefined {
  try {
    return loadNativeVectorKernels();
  } catch (err) {
    if (!ALLOW_NO_NATIVE) throw err;
    t.skip(`native kernels absent (MPCD_ALLOW_NO_NATIVE=1): ${String(err)}`);
    return undefined;
  }
}
