/**
 * The part of the WebGPU API that mpcd uses, declared structurally: the `webgpu` package is an
 * optional dependency, so the build must not need its type declarations. Names and numbers
 * follow the WebGPU specification.
 */

export interface GpuAdapterInfo {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
}

export interface Gpu {
  requestAdapter(options?: { powerPreference?: 'low-power' | 'high-performance' }): Promise<GpuAdapter | null>;
}

export interface GpuAdapter {
  readonly info: GpuAdapterInfo;
  readonly limits: Readonly<Record<string, number>>;
  requestDevice(descriptor?: { requiredLimits?: Record<string, number> }): Promise<GpuDevice>;
}

export interface GpuCompilationMessage {
  readonly type: string;
  readonly message: string;
  readonly lineNum: number;
  readonly linePos: number;
}

export interface GpuShaderModule {
  getCompilationInfo(): Promise<{ readonly messages: readonly GpuCompilationMessage[] }>;
}

export type GpuBindGroupLayout = object;
export type GpuBindGroup = object;
export type GpuCommandBuffer = object;

export interface GpuComputePipeline {
  getBindGroupLayout(index: number): GpuBindGroupLayout;
}

export interface GpuBuffer {
  readonly size: number;
  mapAsync(mode: number, offset?: number, size?: number): Promise<void>;
  getMappedRange(offset?: number, size?: number): ArrayBuffer;
  unmap(): void;
  destroy(): void;
}

export interface GpuComputePass {
  setPipeline(pipeline: GpuComputePipeline): void;
  setBindGroup(index: number, group: GpuBindGroup): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  end(): void;
}

export interface GpuCommandEncoder {
  beginComputePass(): GpuComputePass;
  copyBufferToBuffer(source: GpuBuffer, sourceOffset: number, destination: GpuBuffer, destinationOffset: number, size: number): void;
  finish(): GpuCommandBuffer;
}

export interface GpuQueue {
  /** dataOffset and size count elements for a typed array, bytes for an ArrayBuffer. */
  writeBuffer(buffer: GpuBuffer, bufferOffset: number, data: ArrayBuffer | ArrayBufferView, dataOffset?: number, size?: number): void;
  submit(commands: readonly GpuCommandBuffer[]): void;
}

export interface GpuError {
  readonly message: string;
}

export interface GpuDevice {
  readonly queue: GpuQueue;
  readonly limits: Readonly<Record<string, number>>;
  createBuffer(descriptor: { size: number; usage: number; label?: string }): GpuBuffer;
  createShaderModule(descriptor: { code: string; label?: string }): GpuShaderModule;
  createComputePipelineAsync(descriptor: { layout: 'auto'; compute: { module: GpuShaderModule; entryPoint: string } }): Promise<GpuComputePipeline>;
  createBindGroup(descriptor: { layout: GpuBindGroupLayout; entries: readonly { binding: number; resource: { buffer: GpuBuffer } }[] }): GpuBindGroup;
  createCommandEncoder(): GpuCommandEncoder;
  pushErrorScope(filter: 'validation' | 'out-of-memory' | 'internal'): void;
  popErrorScope(): Promise<GpuError | null>;
  destroy(): void;
}

/** GPUBufferUsage flags. */
export const BufferUsage = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const;

/** GPUMapMode flags. */
export const MapMode = { READ: 0x0001 } as const;
