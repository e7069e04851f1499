/**
 * Policy benchmark: `npm run bench:policy -- --bundle DIR [--episodes 8] [--steps 8] [--threads 1] [--no-loop] [--loop-windows 12]`
 *
 * Runs every decoding configuration on the same observations (episodes of slowly drifting state
 * with a fixed instruction and scene, so the plan cache has something to reuse), in-process:
 * greedy, speculative strict, relaxed r = 1/4/9, Jacobi strict (seeded with the previous step's
 * answer, the first step of an episode by the draft), plan cache on/off, reasoning dropout. Reports
 * prefill ms, per-token ms, tokens/s, policy-step latency p50/p99, acceptance length, target
 * calls, cache hits, and how far each configuration's actions are from greedy's. Then measures a
 * 200 Hz loop's lateness p99 with the policy idle vs running in the low-priority child process.
 * Prints a table and, last, one JSON object.
 */
import { openPolicy } from '../models/policies/open';
import { benchArgs } from './args';
import { PolicyProcess } from '../models/runtime/PolicyProcess';
import type { DecodeSettings, InferResult } from '../models/policies/types';
import type { PolicyObservation } from '../models/policies/preprocess';
import { mulberry32 } from '../drivers/sim/rng';

const { arg, flag } = benchArgs();
const bundle = arg('bundle', 'models/bundles/fixture');
const episodes = Number(arg('episodes', '8'));
const steps = Number(arg('steps', '8'));
const threads = Number(arg('threads', '1'));
const runLoop = !flag('no-loop');
const loopWindows = Number(arg('loop-windows', '12'));

const rng = (seed: number): (() => number) => mulberry32(seed).next;

const COLORS: Record<string, [number, number, number]> = { red: [255, 25, 25], green: [25, 230, 25], blue: [25, 50, 255], yellow: [255, 230, 25] };
const TASKS = ['pick up the {c} block', 'push the {c} block left', 'put the {c} block in the bowl'];

function makeEpisodes(seed: number): PolicyObservation[][] {
  const r = rng(seed);
  const out: PolicyObservation[][] = [];
  for (let e = 0; e < episodes; e++) {
    const color = Object.keys(COLORS)[Math.floor(r() * 4)]!;
    const fam = Math.floor(r() * 3);
    const bx = Math.floor(r() * 13);
    const by = Math.floor(r() * 13);
    const img = new Uint8Array(16 * 16 * 3).fill(115);
    for (let y = by; y < by + 3; y++) for (let x = bx; x < bx + 3; x++) img.set(COLORS[color]!, (y * 16 + x) * 3);
    if (fam === 2) for (let y = 13; y < 16; y++) for (let x = 0; x < 4; x++) img.set([25, 25, 25], (y * 16 + x) * 3);
    const state = [0, 0, 0, 0, 0, 50].map((c, i) => c + (r() * 2 - 1) * (i === 5 ? 50 : 100));
    const ep: PolicyObservation[] = [];
    for (let s = 0; s < steps; s++) {
      ep.push({ state: state.map((v, i) => v + s * (i === 5 ? 0.2 : 0.4)), images: { front: { data: img, width: 16, height: 16 } }, instruction: TASKS[fam]!.replace('{c}', color) });
    }
    out.push(ep);
  }
  return out;
}

interface Row {
  config: string;
  prefillMs: number;
  perTokenMs: number;
  tokensPerS: number;
  stepP50Ms: number;
  stepP99Ms: number;
  tokensPerStep: number;
  targetCallsPerStep: number;
  acceptLength: number;
  cacheHitRate: number;
  validRate: number;
  /** Mean |action − greedy action| in robot units (degrees / gripper %), over all chunk entries. */
  actionDiffVsGreedy: number;
}

const q = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
};
const mean = (xs: number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

const CONFIGS: [string, DecodeSettings][] = [
  ['greedy', { speculative: false, relaxedR: 0, planCache: false, reasoning: true }],
  ['spec strict', { speculative: true, relaxedR: 0, planCache: false, reasoning: true }],
  ['spec relaxed r=1', { speculative: true, relaxedR: 1, planCache: false, reasoning: true }],
  ['spec relaxed r=4', { speculative: true, relaxedR: 4, planCache: false, reasoning: true }],
  ['spec relaxed r=9', { speculative: true, relaxedR: 9, planCache: false, reasoning: true }],
  ['greedy + plan cache', { speculative: false, relaxedR: 0, planCache: true, reasoning: true }],
  ['spec strict + plan cache', { speculative: true, relaxedR: 0, planCache: true, reasoning: true }],
  ['jacobi strict', { speculative: true, relaxedR: 0, planCache: false, reasoning: true, jacobi: true }],
  ['jacobi strict + plan cache', { speculative: true, relaxedR: 0, planCache: true, reasoning: true, jacobi: true }],
  ['greedy, actions only', { speculative: false, relaxedR: 0, planCache: false, reasoning: false }],
  ['spec strict, actions only', { speculative: true, relaxedR: 0, planCache: false, reasoning: false }],
];

async function main(): Promise<void> {
  // one policy per configuration (each keeps its own plan cache); configurations are interleaved
  // observation by observation so load from other processes hits them all alike
  const policies = [];
  for (let i = 0; i < CONFIGS.length; i++) policies.push(await openPolicy(bundle, { session: { intraOpNumThreads: threads } }));
  const eps = makeEpisodes(1);
  for (let i = 0; i < CONFIGS.length; i++) await policies[i]!.infer(eps[0]![0]!, CONFIGS[i]![1]); // warm-up
  const results: InferResult[][] = CONFIGS.map(() => []);
  for (const ep of eps) {
    policies.forEach((p) => p.reset());
    for (const obs of ep) {
      for (let i = 0; i < CONFIGS.length; i++) results[i]!.push(await policies[i]!.infer(obs, CONFIGS[i]![1]));
    }
  }
  for (const p of policies) await p.dispose();
  const greedyChunks = results[0]!.map((r) => r.chunk);
  const rows: Row[] = CONFIGS.map(([name], ci) => {
    const rs = results[ci]!;
    const perToken = rs.map((r) => (r.stats.reasoningMs + r.stats.actionsMs) / Math.max(1, r.stats.tokens));
    const diffs: number[] = [];
    rs.forEach((r, i) => {
      const g = greedyChunks[i];
      if (g === undefined || !r.valid || g.length !== r.chunk.length) return;
      r.chunk.forEach((row, t) => row.forEach((v, d) => diffs.push(Math.abs(v - g[t]![d]!))));
    });
    // steps that verified guesses: drafted (speculative) or seeded by the previous answer (Jacobi)
    const specSteps = rs.filter((r) => r.stats.draftCalls > 0 || r.stats.acceptedTokens > 0);
    return {
      config: name,
      prefillMs: q(rs.map((r) => r.stats.prefillMs), 0.5),
      perTokenMs: q(perToken, 0.5),
      tokensPerS: 1000 / q(perToken, 0.5),
      stepP50Ms: q(rs.map((r) => r.stats.totalMs), 0.5),
      stepP99Ms: q(rs.map((r) => r.stats.totalMs), 0.99),
      tokensPerStep: mean(rs.map((r) => r.stats.tokens)),
      targetCallsPerStep: mean(rs.map((r) => r.stats.targetCalls)),
      acceptLength: specSteps.length === 0 ? 0 : mean(specSteps.map((r) => r.stats.acceptLength)),
      cacheHitRate: mean(rs.map((r) => (r.stats.cacheHit ? 1 : 0))),
      validRate: mean(rs.map((r) => (r.valid ? 1 : 0))),
      actionDiffVsGreedy: diffs.length === 0 ? NaN : mean(diffs),
    };
  });

  const head = ['config', 'prefill ms', 'ms/token', 'tok/s', 'step p50', 'step p99', 'tok/step', 'target calls', 'accept len', 'cache hit', 'valid', '|Δa| vs greedy'];
  const fmt = (r: Row): string[] => [
    r.config,
    r.prefillMs.toFixed(2),
    r.perTokenMs.toFixed(3),
    r.tokensPerS.toFixed(0),
    r.stepP50Ms.toFixed(1),
    r.stepP99Ms.toFixed(1),
    r.tokensPerStep.toFixed(1),
    r.targetCallsPerStep.toFixed(1),
    r.acceptLength.toFixed(2),
    `${(100 * r.cacheHitRate).toFixed(0)}%`,
    `${(100 * r.validRate).toFixed(0)}%`,
    Number.isNaN(r.actionDiffVsGreedy) ? '-' : r.actionDiffVsGreedy.toFixed(2),
  ];
  const table = [head, ...rows.map(fmt)];
  const widths = head.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  console.log(`bundle ${bundle}, ${episodes}×${steps} observations per config (interleaved), intraOp ${threads}, in-process; ms/token and tok/s are medians over steps; accept len = drafts accepted per verify pass (bonus excluded)`);
  for (const r of table) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));

  let loop: { idleP99Ms: number; policyP99Ms: number; idleP50Ms: number; policyP50Ms: number; inferences: number } | undefined;
  if (runLoop) {
    loop = await loopLateness(eps.flat());
    console.log(`200 Hz loop lateness: idle p50 ${loop.idleP50Ms.toFixed(2)} / p99 ${loop.idleP99Ms.toFixed(2)} ms; with the policy in the child process p50 ${loop.policyP50Ms.toFixed(2)} / p99 ${loop.policyP99Ms.toFixed(2)} ms (${loop.inferences} inferences)`);
  }
  console.log(JSON.stringify({ bundle, episodes, steps, intraOpNumThreads: threads, rows, loop }));
}

/** Lateness of a 200 Hz setTimeout loop (hybrid: sleep to 2 ms before the deadline, then spin). */
async function measureLoop(ms: number): Promise<number[]> {
  const period = 5;
  const late: number[] = [];
  let next = performance.now() + period;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const wait = next - performance.now() - 2;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    while (performance.now() < next) {
      /* spin to the deadline */
    }
    late.push(performance.now() - next);
    next += period;
    if (performance.now() > next) next = performance.now() + period;
  }
  return late;
}

async function loopLateness(obs: PolicyObservation[]) {
  // alternating 1 s windows (--loop-windows, default 12), idle and with the child inferring back to back, so background load
  // from other processes hits both alike
  const proc = await PolicyProcess.start(bundle, { session: { intraOpNumThreads: threads } });
  let running = false;
  let n = 0;
  let stop = false;
  const driver = (async () => {
    while (!stop) {
      if (!running) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      await proc.infer(obs[n % obs.length]!, { speculative: true, relaxedR: 0, planCache: true, reasoning: true });
      n++;
    }
  })();
  const idle: number[] = [];
  const busy: number[] = [];
  for (let w = 0; w < loopWindows; w++) {
    running = w % 2 === 1;
    if (running) await new Promise((r) => setTimeout(r, 100)); // let the first inference start
    (running ? busy : idle).push(...(await measureLoop(1000)));
  }
  stop = true;
  running = false;
  await driver;
  await proc.dispose();
  return { idleP50Ms: q(idle, 0.5), idleP99Ms: q(idle, 0.99), policyP50Ms: q(busy, 0.5), policyP99Ms: q(busy, 0.99), inferences: n };
}

await main();
