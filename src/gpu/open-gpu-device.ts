import type { Gpu, GpuDevice } from './webgpu-api.js';

/** Why the GPU path cannot run here, said so a person can act on it. */
export interface Unsupported {
  readonly unsupported: string;
}

export interface GpuContext {
  readonly device: GpuDevice;
  /** Driver description and device name, e.g. 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6) / llvmpipe-...'. */
  readonly adapterName: string;
}

/** Buffer sizes, in bytes, the caller will bind; the device is requested with limits that fit them. */
export interface BufferNeeds {
  readonly largestStorageBinding: number;
  readonly largestBuffer: number;
}

// WebGPU's default limits: asking for more needs the adapter's consent.
const DEFAULT_MAX_STORAGE_BINDING = 134_217_728;
const DEFAULT_MAX_BUFFER = 268_435_456;

let gpuInstance: Promise<Gpu | Unsupported> | undefined;

/** One GPU entry point per process: Dawn's `create` starts its instance once. */
function loadGpu(): Promise<Gpu | Unsupported> {
  gpuInstance ??= (async () => {
    // A variable specifier keeps the optional package out of the type check.
    const specifier = 'webgpu';
    try {
      const mod = (await import(specifier)) as { create?: (options: string[]) => Gpu };
      if (typeof mod.create !== 'function') return { unsupported: 'the "webgpu" package has no create(); expected dawn.node 0.6' };
      return mod.create([]);
    } catch (err) {
      return { unsupported: `the optional package "webgpu" (Dawn for Node) is not installed or does not load: ${err instanceof Error ? err.message : String(err)}` };
    }
  })();
  return gpuInstance;
}

/** A WebGPU device with limits raised to fit `needs`, or why there is none. */
export async function openGpuDevice(needs: BufferNeeds): Promise<GpuContext | Unsupported> {
  const gpu = await loadGpu();
  if ('unsupported' in gpu) return gpu;
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (adapter === null) return { unsupported: 'WebGPU found no adapter (no Vulkan/Metal/D3D12 driver, not even a software one such as lavapipe)' };
  const info = adapter.info;
  const adapterName = [info.description, info.device].filter((s) => s !== '').join(' / ') || info.vendor || 'unnamed adapter';
  const requiredLimits: Record<string, number> = {};
  for (const [limit, need, fallback] of [
    ['maxStorageBufferBindingSize', needs.largestStorageBinding, DEFAULT_MAX_STORAGE_BINDING],
    ['maxBufferSize', needs.largestBuffer, DEFAULT_MAX_BUFFER],
  ] as const) {
    if (need <= fallback) continue;
    const most = adapter.limits[limit] ?? fallback;
    if (need > most) return { unsupported: `${adapterName}: a buffer of ${need} bytes exceeds ${limit} = ${most}; use fewer samples or a shorter horizon` };
    requiredLimits[limit] = need;
  }
  const device = await adapter.requestDevice({ requiredLimits });
  return { device, adapterName };
}
