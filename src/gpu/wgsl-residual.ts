import { foldInputNormalizer, type EnsembleSnapshot } from '../models/residual/ensemble-snapshot.js';
import { inputDim, sameSpec, type ResidualSpec } from '../models/residual/residual-spec.js';

/**
 * The residual ensemble in the rollout kernel: sample k's elite member's mean residual, in state
 * units, added to the analytic next state, exactly what ResidualPredictor.addResidual does
 * without disagreement. The architecture (widths) is compiled in; the weights live in one
 * storage buffer `W`, so installing another residual of the same spec is one buffer write.
 *
 * Weight buffer layout, per elite slot e (stride `memberFloats`), per layer l:
 *   weights transposed [out, in] (each output's inputs contiguous), then bias [out]
 * with the input normalizer folded into layer 0 and the target de-normalization into the last,
 * which keeps only the nx mean columns, as memberTensors() in residual-predictor.ts folds them.
 * Each block starts at a multiple of 4 floats; the kernel reads the buffer as array<vec4<f32>>.
 */
export interface ResidualLayout {
  readonly spec: ResidualSpec;
  /** Layer widths from input to output, the last being nx: [inputDim, ...hidden, nx]. */
  readonly widths: readonly number[];
  /** Per layer: float offsets of its weights and bias within one member's block. */
  readonly offsets: readonly { readonly weights: number; readonly bias: number }[];
  readonly memberFloats: number;
  /** Elite slots the buffer holds: the spec's member count, the most a snapshot can name. */
  readonly slots: number;
}

export function residualLayout(spec: ResidualSpec): ResidualLayout {
  const widths = [inputDim(spec), ...spec.hidden, spec.stateNames.length];
  const offsets: { weights: number; bias: number }[] = [];
  // Every block starts on a vec4 boundary, so rows of width 4n load as whole vec4s.
  const align = (n: number): number => Math.ceil(n / 4) * 4;
  let at = 0;
  for (let l = 0; l + 1 < widths.length; l++) {
    const weights = at;
    at = align(at + widths[l]! * widths[l + 1]!);
    offsets.push({ weights, bias: at });
    at = align(at + widths[l + 1]!);
  }
  return { spec, widths, offsets, memberFloats: at, slots: spec.members };
}

/**
 * Writes the snapshot's elites into `out` [slots, memberFloats] and returns how many there are.
 * Throws when the snapshot was trained for another robot or architecture.
 */
export function packResidualWeights(layout: ResidualLayout, s: EnsembleSnapshot, out: Float32Array): number {
  if (!sameSpec(layout.spec, s.spec)) throw new RangeError('the residual snapshot does not fit this config (robot names or network shape differ)');
  if (s.elites.length < 1 || s.elites.length > layout.slots) throw new RangeError(`a snapshot needs 1..${layout.slots} elites, got ${s.elites.length}`);
  const nx = s.spec.stateNames.length;
  const members = s.spec.members;
  const last = s.layers.length - 1;
  s.elites.forEach((member, slot) => {
    const base = slot * layout.memberFloats;
    s.layers.forEach((layer, l) => {
      const outW = layer.bias.length / members;
      const inW = layer.weights.length / members / outW;
      let W: Float32Array = layer.weights.subarray(member * inW * outW, (member + 1) * inW * outW); // [in, out]
      let b: Float32Array = layer.bias.subarray(member * outW, (member + 1) * outW);
      if (l === 0) ({ W, b } = foldInputNormalizer(s.input, W, b));
      const { weights, bias } = layout.offsets[l]!;
      const kept = l === last ? nx : outW; // the head's log-variance columns are never needed
      for (let j = 0; j < kept; j++) {
        const scale = l === last ? s.target.std[j]! : 1;
        for (let i = 0; i < inW; i++) out[base + weights + j * inW + i] = W[i * outW + j]! * scale;
        out[base + bias + j] = l === last ? b[j]! * scale + s.target.mean[j]! : b[j]!;
      }
    });
  });
  return s.elites.length;
}

/**
 *   fn add_residual(member: u32, s: array<f32, nx>, a: array<f32, nu>, next: array<f32, nx>) -> array<f32, nx>
 * Features of the state before the step and its action (sin, cos per angle, then actions), a
 * ReLU MLP, and next + the mean residual.
 *
 * Shaped so that no private array is indexed by a loop counter (GPU compilers put such arrays in
 * slow local memory), yet small enough to compile quickly (64x64 layers written out in full
 * take lavapipe minutes and gigabytes):
 *   - the first hidden layer is written out, one `let` per unit;
 *   - the last hidden layer is a loop over its units, each unit's ReLU output multiplied straight
 *     into the nx head accumulators, so that layer is never stored; its rows are read as vec4s;
 *   - hidden layers in between (3 or more hidden layers) go through private arrays, the slow way.
 * Loop bounds are the same in every invocation and weight addresses depend only on the
 * workgroup's member, so weight loads are uniform across a workgroup.
 */
export function emitResidual(layout: ResidualLayout): string {
  const { spec, widths, offsets, memberFloats } = layout;
  const nx = spec.stateNames.length;
  const nu = spec.actionNames.length;
  const last = widths.length - 2; // index of the head layer
  /** The float at `at` (+ a run-time index) of this member's block, from the vec4 view. */
  const w = (at: number, index?: string): string =>
    index === undefined ? `W[base + ${at >> 2}u][${at & 3}]` : `W[base + ((${at}u + ${index}) >> 2u)][(${at}u + ${index}) & 3u]`;
  const lines: string[] = [];
  const features: string[] = [];
  spec.angular.forEach((angular, i) => {
    if (!angular) {
      features.push(`s[${i}]`);
      return;
    }
    lines.push(`  let sc${i} = mpcd_sincos(s[${i}]);`);
    features.push(`sc${i}.x`, `sc${i}.y`);
  });
  for (let j = 0; j < nu; j++) features.push(`a[${j}]`);
  features.forEach((f, i) => lines.push(`  let x0_${i} = ${f};`));

  /** acc = row j of layer l's weights . its input: unrolled lets x{l}_i or a private array x{l}. */
  const dot = (l: number, unrolled: boolean): string[] => {
    const inW = widths[l]!;
    const at = offsets[l]!.weights;
    if (unrolled && inW % 4 === 0) {
      const terms = Array.from({ length: inW / 4 }, (_, q) => {
        const x = [0, 1, 2, 3].map((r) => `x${l}_${4 * q + r}`).join(', ');
        return `dot(vec4<f32>(${x}), W[row + ${q}u])`;
      });
      return [`    let row = base + ${at >> 2}u + j * ${inW >> 2}u;`, `    let acc = ${terms.join(' + ')};`];
    }
    if (unrolled) return [`    let acc = ${Array.from({ length: inW }, (_, i) => `x${l}_${i} * ${w(at + i, `j * ${inW}u`)}`).join(' + ')};`];
    return ['    var acc = 0.0f;', `    for (var i = 0u; i < ${inW}u; i++) { acc = acc + x${l}[i] * ${w(at, `j * ${inW}u + i`)}; }`];
  };
  let unrolledInput = true;
  let first = 0;
  if (last >= 2) {
    // The first hidden layer, written out. (The sum, then the bias: a matmul's order.)
    const { weights, bias } = offsets[0]!;
    const inW = widths[0]!;
    for (let j = 0; j < widths[1]!; j++) {
      const sum = Array.from({ length: inW }, (_, i) => `x0_${i} * ${w(weights + j * inW + i)}`).join(' + ');
      lines.push(`  let x1_${j} = max((${sum}) + ${w(bias + j)}, 0.0f);`);
    }
    first = 1;
  }
  for (let l = first; l < last - 1; l++) {
    lines.push(
      `  var x${l + 1}: array<f32, ${widths[l + 1]}>;`,
      `  for (var j = 0u; j < ${widths[l + 1]}u; j++) {`,
      ...dot(l, unrolledInput),
      `    x${l + 1}[j] = max(acc + ${w(offsets[l]!.bias, 'j')}, 0.0f);`,
      '  }',
    );
    unrolledInput = false;
  }
  // The last hidden layer, fused with the head.
  const h = last - 1;
  const head = offsets[last]!;
  const units = widths[h + 1]!;
  lines.push(
    ...Array.from({ length: nx }, (_, n) => `  var r${n} = 0.0f;`),
    `  for (var j = 0u; j < ${units}u; j++) {`,
    ...dot(h, unrolledInput),
    `    let z = max(acc + ${w(offsets[h]!.bias, 'j')}, 0.0f);`,
    ...Array.from({ length: nx }, (_, n) => `    r${n} = r${n} + z * ${w(head.weights + n * units, 'j')};`),
    '  }',
  );
  const out = Array.from({ length: nx }, (_, n) => `next[${n}] + (r${n} + ${w(head.bias + n)})`).join(',\n    ');
  return /* wgsl */ `
fn add_residual(member: u32, s: array<f32, ${nx}>, a: array<f32, ${nu}>, next: array<f32, ${nx}>) -> array<f32, ${nx}> {
  let base = member * ${memberFloats >> 2}u; // in vec4s
${lines.join('\n')}
  return array<f32, ${nx}>(
    ${out});
}
`;
}
