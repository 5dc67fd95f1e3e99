import { nativeVectorKernels, type NativeVectorKernels } from '../models/residual/native-vector-kernels.js';
import type { CostTerm } from './cost-term.js';
import type { BatchExpression, ExpressionScope } from './expression-compiler.js';
import { ExpressionCost, type ExpressionCostSpec } from './expression-cost.js';
import { EXPRESSION_OPCODES, expressionProgram, type ExpressionProgram } from './expression-program.js';

/**
 * An expression cost term evaluated by the native kernel: the expression's stack program runs
 * over blocks of samples in SIMD registers. Same costs as ExpressionCost (doubles throughout,
 * float32 sums into `costs`), to an ulp or two of a double; layouts as in CostTerm. Live params
 * are copied into the program's consts slots before each kernel call, so each call sees the
 * values of the moment, as the JavaScript closures do.
 */
export class NativeExpressionCost implements CostTerm {
  readonly name: string;
  readonly weight: number;
  readonly terminalWeight: number;
  /** The JavaScript compilation, for diagnostics (evaluateOne) as on ExpressionCost. */
  readonly expression: BatchExpression;
  private readonly nx: number;
  private readonly nu: number;
  private readonly total = new Float64Array(1); // [1] the kernel's total, without a heap number per call
  private readonly consts: Float64Array; // [consts] the program's, live slots rewritten per call
  private readonly liveSlots: Int32Array; // [live slots, 2] consts index, live index
  private readonly liveValues: Float64Array; // [live params]

  constructor(
    private readonly kernels: NativeVectorKernels,
    readonly program: ExpressionProgram,
    js: ExpressionCost,
    scope: ExpressionScope,
  ) {
    this.name = js.name;
    this.weight = js.weight;
    this.terminalWeight = js.terminalWeight;
    this.expression = js.expression;
    this.nx = scope.stateNames.length;
    this.nu = scope.actionNames.length;
    this.consts = program.consts.slice();
    this.liveSlots = program.liveSlots;
    this.liveValues = js.expression.form.live.values;
  }

  addRunning(states: Float32Array, actions: Float32Array, count: number, costs: Float32Array): number {
    if (this.weight === 0) return 0;
    this.readLive();
    this.kernels.evalExpression(this.program.ops, this.consts, states, this.nx, actions, this.nu, count, this.weight, costs, 0, this.total);
    return this.total[0]!;
  }

  addTerminal(states: Float32Array, actions: Float32Array, count: number, costs: Float32Array): number {
    if (this.terminalWeight === 0) return 0;
    this.readLive();
    this.kernels.evalExpression(this.program.ops, this.consts, states, this.nx, actions, this.nu, count, this.terminalWeight, costs, 0, this.total);
    return this.total[0]!;
  }

  private readLive(): void {
    const { consts, liveSlots, liveValues } = this;
    for (let i = 0; i < liveSlots.length; i += 2) consts[liveSlots[i]!] = liveValues[liveSlots[i + 1]!]!;
  }
}

const opcodesChecked = new WeakMap<NativeVectorKernels, boolean>();

/** Whether the loaded addon runs programs with this compiler's opcodes (a stale build does not). */
function sameOpcodes(kernels: NativeVectorKernels): boolean {
  let same = opcodesChecked.get(kernels);
  if (same === undefined) {
    same = kernels.expressionOpcodes() === EXPRESSION_OPCODES.join(',');
    opcodesChecked.set(kernels, same);
  }
  return same;
}

/**
 * The cost term for an expression from config: native where the addon loads (MPCD_NO_NATIVE=1
 * forces JavaScript) and the expression has a program, else the JavaScript ExpressionCost.
 * Throws ExpressionCost's errors for bad expressions and weights either way. `kernels` defaults
 * to nativeVectorKernels().
 */
export function expressionCostTerm(
  spec: ExpressionCostSpec,
  scope: ExpressionScope,
  fieldPath?: string,
  kernels: NativeVectorKernels | undefined = nativeVectorKernels(),
): ExpressionCost | NativeExpressionCost {
  const js = new ExpressionCost(spec, scope, fieldPath);
  if (kernels === undefined || !sameOpcodes(kernels)) return js;
  // The form the JavaScript compilation validated, emitted once more: no second parse.
  const program = expressionProgram(js.expression.form);
  return program === undefined ? js : new NativeExpressionCost(kernels, program, js, scope);
}
