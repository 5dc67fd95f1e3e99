#!/usr/bin/env node
/**
 * A terminal cost for balancing tasks: the LQR cost-to-go x^T P x of a config's nominal model,
 * linearized at a goal state, written as a task cost expression (angles wrapped).
 *
 *   npm run build
 *   node scripts/lqr-terminal-cost.mjs <config> --q NAME=W,... [--r ACTION=W,...] [--at NAME=V,...] [--cap C]
 *
 * The model is the config's `model` (the planner's own, stepped at control.period as the
 * planner steps it); A and B come from central differences of one step at the goal state
 * (--at, default every state 0) with the actions at 0. P solves the discrete-time Riccati
 * equation for the stage cost x^T Q x + u^T R u with diagonal Q (--q, states not named weigh 0)
 * and R (--r, default 1 per action), both in the planner's units (per control step, actions as
 * the planner sees them, e.g. in [-1, 1]). So P is in the same units as a sum of stage costs
 * over the horizon, and the expression can go in as a `terminal_weight: 1, weight: 0` cost term.
 * --cap C wraps it in min(..., C): the quadratic only means something near the goal, and a flat
 * value elsewhere leaves the rest of the task to the stage costs.
 *
 * Prints the expression on stdout; the gains and the closed-loop spectral radius on stderr.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '..');
const load = (p) => import(pathToFileURL(resolve(root, 'dist', p)).href);
const { loadConfig } = await load('src/config/load-config.js');
const { buildAnalyticModel } = await load('src/models/build-model.js');

function usage(message) {
  if (message) console.error(`lqr-terminal-cost: ${message}`);
  console.error('usage: node scripts/lqr-terminal-cost.mjs <config> --q NAME=W,... [--r ACTION=W,...] [--at NAME=V,...] [--cap C]');
  process.exit(2);
}

function parseList(text, flag) {
  const out = new Map();
  for (const item of text.split(',').filter((s) => s.length > 0)) {
    const [name, value] = item.split('=');
    const v = Number(value);
    if (!name || !Number.isFinite(v)) usage(`${flag}: expected NAME=NUMBER, got "${item}"`);
    out.set(name.trim(), v);
  }
  return out;
}

const args = process.argv.slice(2);
const configPath = args.shift();
if (!configPath || configPath.startsWith('--')) usage('no config given');
const opts = {};
while (args.length > 0) {
  const flag = args.shift();
  const value = args.shift();
  if (value === undefined) usage(`${flag} needs a value`);
  if (flag === '--q' || flag === '--r' || flag === '--at') opts[flag.slice(2)] = parseList(value, flag);
  else if (flag === '--cap') opts.cap = Number(value);
  else usage(`unknown option ${flag}`);
}
if (!opts.q) usage('--q is required');

const { config } = await loadConfig(configPath);
const model = buildAnalyticModel(config, 1);
const names = model.stateNames;
const actions = model.actionNames;
const n = names.length;
const m = actions.length;
const dt = config.control.period;
for (const [flag, map, known] of [['--q', opts.q, names], ['--at', opts.at, names], ['--r', opts.r, actions]]) {
  for (const name of map?.keys() ?? []) if (!known.includes(name)) usage(`${flag}: "${name}" is not one of ${known.join(', ')}`);
}

// Linearization x' = A x + B u at the goal by central differences of one planner step.
const x0 = Float32Array.from(names, (s) => opts.at?.get(s) ?? 0);
const u0 = new Float32Array(m);
const out = new Float32Array(n);
function step(x, u) {
  model.step(Float32Array.from(x), Float32Array.from(u), out, 1, dt);
  return Float64Array.from(out);
}
const EPS = 1e-3;
const A = Array.from({ length: n }, () => new Float64Array(n));
const B = Array.from({ length: n }, () => new Float64Array(m));
for (let j = 0; j < n + m; j++) {
  const xp = Float64Array.from(x0);
  const xm = Float64Array.from(x0);
  const up = Float64Array.from(u0);
  const um = Float64Array.from(u0);
  if (j < n) {
    xp[j] += EPS;
    xm[j] -= EPS;
  } else {
    up[j - n] += EPS;
    um[j - n] -= EPS;
  }
  const fp = step(xp, up);
  const fm = step(xm, um);
  for (let i = 0; i < n; i++) {
    const d = (fp[i] - fm[i]) / (2 * EPS);
    if (j < n) A[i][j] = d;
    else B[i][j - n] = d;
  }
}

// Small dense linear algebra (n and m are a handful).
const zeros = (r, c) => Array.from({ length: r }, () => new Float64Array(c));
function mul(X, Y) {
  const Z = zeros(X.length, Y[0].length);
  for (let i = 0; i < X.length; i++) for (let k = 0; k < Y.length; k++) for (let j = 0; j < Y[0].length; j++) Z[i][j] += X[i][k] * Y[k][j];
  return Z;
}
const tr = (X) => Array.from({ length: X[0].length }, (_, j) => Float64Array.from(X, (row) => row[j]));
const add = (X, Y) => X.map((row, i) => row.map((v, j) => v + Y[i][j]));
const sub = (X, Y) => X.map((row, i) => row.map((v, j) => v - Y[i][j]));
/** X^-1 Y by Gauss-Jordan elimination with partial pivoting. */
function solve(X, Y) {
  const k = X.length;
  const M = X.map((row, i) => [...row, ...Y[i]]);
  for (let c = 0; c < k; c++) {
    let p = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    const piv = M[c][c];
    for (let j = 0; j < M[c].length; j++) M[c][j] /= piv;
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = M[r][c];
      for (let j = 0; j < M[r].length; j++) M[r][j] -= f * M[c][j];
    }
  }
  return M.map((row) => Float64Array.from(row.slice(k)));
}

const Q = zeros(n, n);
names.forEach((s, i) => (Q[i][i] = opts.q.get(s) ?? 0));
const R = zeros(m, m);
actions.forEach((a, i) => (R[i][i] = opts.r?.get(a) ?? 1));

// Riccati recursion to its fixed point: P <- Q + A'PA - A'PB (R + B'PB)^-1 B'PA.
const At = tr(A);
const Bt = tr(B);
let P = Q.map((row) => Float64Array.from(row));
let K = zeros(m, n);
let converged = false;
for (let it = 0; it < 100000; it++) {
  const PA = mul(P, A);
  const PB = mul(P, B);
  K = solve(add(R, mul(Bt, PB)), mul(Bt, PA));
  const next = sub(add(Q, mul(At, PA)), mul(mul(At, PB), K));
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    diff = Math.max(diff, Math.abs(next[i][j] - P[i][j]));
    scale = Math.max(scale, Math.abs(next[i][j]));
  }
  P = next;
  if (!Number.isFinite(scale)) break;
  if (diff <= 1e-10 * scale) {
    converged = true;
    break;
  }
}
if (!converged) {
  console.error('lqr-terminal-cost: the Riccati recursion did not converge (is the goal stabilizable, and does Q see its unstable modes?)');
  process.exit(1);
}

// Spectral radius of A - B K from the growth of ||(A - BK)^k|| between k = 1000 and 2000
// (renormalized as it goes), which tends to rho per step.
const Acl = sub(A, mul(B, K));
let Mk = Acl;
let logNorm = 0;
let logAt1000 = 0;
for (let k = 1; k <= 2000; k++) {
  let norm = 0;
  for (const row of Mk) for (const v of row) norm = Math.max(norm, Math.abs(v));
  if (norm === 0) break;
  logNorm += Math.log(norm);
  Mk = mul(Mk.map((row) => row.map((v) => v / norm)), Acl);
  if (k === 1000) logAt1000 = logNorm;
}
const rho = Math.exp((logNorm - logAt1000) / 1000);

const fmt = (v) => Number(v.toPrecision(6)).toString();
const dev = names.map((s, i) => {
  const at = x0[i];
  const d = at === 0 ? s : `(${s} - ${fmt(at)})`;
  return model.angular[i] ? `wrap(${d})` : d;
});
const terms = [];
for (let i = 0; i < n; i++) {
  for (let j = i; j < n; j++) {
    const c = i === j ? P[i][j] : 2 * P[i][j];
    if (Math.abs(c) < 1e-9 * Math.abs(P[0][0] || 1)) continue;
    terms.push(i === j ? `${fmt(c)}*${dev[i]}^2` : `${fmt(c)}*${dev[i]}*${dev[j]}`);
  }
}
const quad = terms.join(' + ').replaceAll('+ -', '- ');
console.log(opts.cap !== undefined ? `min(${quad}, ${fmt(opts.cap)})` : quad);
console.error(`states ${names.join(', ')}; actions ${actions.join(', ')}; dt ${dt} s`);
console.error(`K (u = -K x): ${K.map((row) => Array.from(row, fmt).join(' ')).join('; ')}`);
console.error(`closed-loop spectral radius on the nominal model: ${rho.toFixed(4)}`);
process.exit(0);
