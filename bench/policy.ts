/**
 * Policy benchmark: `npm run bench:policy -- --bundle DIR [--episodes 8] [--steps 8] [--threads 1] [--no-loop] [--loop-windows 12]
 *                    [--only table|loop|compare] [--placements nice19,idle,idle+cpu1,nice19+cpu1,idle+t2]
 *                    [--variant DIR] [--reuse PIXELS[:STATE]] [--reasoning-every N] [--seeds 3] [--decode jacobi|greedy|spec]`
 *
 * Runs every decoding configuration on the same observations (episodes of slowly drifting state
 * with a fixed instruction and scene, so the plan cache has something to reuse), in-process:
 * greedy, speculative strict, relaxed r = 1/4/9, Jacobi strict (seeded with the previous step's
 * answer, the first step of an episode by the draft), plan cache on/off, reasoning dropout. Reports
 * prefill ms, per-token ms, tokens/s, policy-step latency p50/p99, acceptance length, target
 * calls, cache hits, and how far each configuration's actions are from greedy's. Then measures a
 * 200 Hz loop's lateness p99 with the policy idle vs running in the low-priority child process,
 * for each child placement of --placements (`+`-joined: `idle` = SCHED_IDLE via chrt, `nice19` /
 * `nice0` = SCHED_OTHER at that niceness, `cpuN` = pinned to CPU N via taskset, none = unpinned, `tN` = N
 * intra-op threads, `default` = the runtime's default: nice 19 pinned to the last CPU): one child per placement, 1 s windows rotating idle, A busy, idle, B busy, … so load
 * from other processes hits all alike; the idle windows are the same-run baseline.
 * Observations: the fixture-style synthetic episodes, or (bundles with a wrist camera) frames of
 * held-out simulator episodes driven by the bundle itself.
 *
 * `--only compare`: a runtime variant against the reference on the same observations — held-out
 * simulator episodes (pick-and-place, seeds 1,000,000 + i) driven by the reference policy, every
 * observation decoded by both: `--variant DIR` (another bundle, e.g. models/bundles/demo-int8) and/or
 * `--reuse P[:S]` (settings.encoderReuse: pixel / state thresholds), `--reasoning-every N` (dual rate,
 * settings.reasoningEvery). Reports step time p50 of both
 * (interleaved), answer-token agreement, action-token agreement, exact-answer rate, mean |Δaction|
 * in robot units, and for reuse the hit rate.
 *
 * `--only dump --out DIR [--first-seed 10000]`: episodes of training-range seeds (families in turn)
 * decoded greedily with full reasoning (no plan cache), written for models/quantize/early_exit.py and
 * quantize_bundle.py --static: DIR/steps.json (prompt and generated ids per step) and
 * DIR/inputs.f32 (each step's normalised encoder inputs, in the manifest's encoder input order).
 * Prints a table and, last, one JSON object.
 */
import { openPolicy } from '../models/policies/open';
import { benchArgs } from './args';
import { simRollout } from './simEpisodes';
import { printTable } from './table';
import { PolicyProcess } from '../models/runtime/PolicyProcess';
import type { DecodeSettings, InferResult, Policy } from '../models/policies/types';
import type { PolicyObservation } from '../models/policies/preprocess';
import { mulberry32 } from '../drivers/sim/rng';
import { SO101_JOINTS, TASK_FAMILIES } from '../drivers/sim';
import type { SchedClass } from '../models/runtime/placement';

const { arg, flag } = benchArgs();
const bundle = arg('bundle', 'models/bundles/fixture');
const episodes = Number(arg('episodes', '8'));
const steps = Number(arg('steps', '8'));
const threads = Number(arg('threads', '1'));
const runLoop = !flag('no-loop');
const loopWindows = Number(arg('loop-windows', '12'));
const only = arg('only', '');
if (!['', 'table', 'loop', 'compare', 'dump'].includes(only)) throw new Error(`--only must be table, loop, compare or dump, not ${only}`);
const placements = arg('placements', 'default,nice19,idle,idle+cpu1,nice19+cpu1,idle+t2').split(',');
const simSeeds = Number(arg('seeds', '3'));
const decode = arg('decode', 'jacobi');
if (!['spec', 'greedy', 'jacobi'].includes(decode)) throw new Error(`--decode must be spec, greedy or jacobi, not ${decode}`);
/** The settings of the loop measurement and the compare mode: the console's default (Jacobi, plan cache) unless --decode. */
const SIM_SETTINGS: DecodeSettings = { speculative: decode !== 'greedy', relaxedR: 0, planCache: true, reasoning: true, jacobi: decode === 'jacobi' };

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
  const out: Record<string, unknown> = { bundle, episodes, steps, intraOpNumThreads: threads };
  if (only === '' || only === 'table') out.rows = await table();
  if (only === 'loop' || (only === '' && runLoop)) {
    const loop = await loopLateness(await loopObservations());
    out.loop = loop;
  }
  if (only === 'compare') out.compare = await compare();
  if (only === 'dump') out.dump = await dump(arg('out', '.data/steps'));
  console.log(JSON.stringify(out));
}

async function table(): Promise<Row[]> {
  // one policy per configuration (each keeps its own plan cache); configurations are interleaved
  // observation by observation so load from other processes hits them all alike
  const policies = [];
  for (let i = 0; i < CONFIGS.length; i++) policies.push(await openPolicy(bundle, { session: { intraOpNumThreads: threads } }));
  const eps = await tableEpisodes();
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
  console.log(`bundle ${bundle}, ${episodes}×${steps} observations per config (interleaved), intraOp ${threads}, in-process; ms/token and tok/s are medians over steps; accept len = drafts accepted per verify pass (bonus excluded)`);
  printTable(head, rows.map(fmt));
  return rows;
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

interface Placement {
  name: string;
  sched: SchedClass;
  niceness: number;
  cpus?: number[] | 'any';
  threads: number;
}

function parsePlacement(spec: string): Placement {
  const p: Placement = { name: spec, sched: 'normal', niceness: 19, threads, cpus: 'any' };
  for (const part of spec.split('+')) {
    let m: RegExpMatchArray | null;
    if (part === 'default') p.cpus = undefined; // the runtime's default placement (PolicyProcess)
    else if (part === 'idle') p.sched = 'idle';
    else if ((m = /^nice(\d+)$/.exec(part)) !== null) p.niceness = Number(m[1]);
    else if ((m = /^cpu([\d.]+)$/.exec(part)) !== null) p.cpus = m[1]!.split('.').map(Number);
    else if ((m = /^t(\d+)$/.exec(part)) !== null) p.threads = Number(m[1]);
    else throw new Error(`--placements: "${part}" in "${spec}" is not default, idle, niceN, cpuN[.M] or tN`);
  }
  return p;
}

interface LoopRow {
  placement: string;
  effective: string;
  idleP50Ms: number;
  idleP99Ms: number;
  policyP50Ms: number;
  policyP99Ms: number;
  policyMaxMs: number;
  inferences: number;
  inferencesPerS: number;
  stepP50Ms: number;
}

async function loopLateness(obs: PolicyObservation[]): Promise<{ idleP50Ms: number; idleP99Ms: number; placements: LoopRow[] }> {
  // one child per placement; 1 s windows rotate idle, A busy, idle, B busy, ... (--loop-windows rounds
  // of idle + busy per placement), so background load from other processes hits all alike
  const specs = placements.map(parsePlacement);
  const procs: PolicyProcess[] = [];
  for (const p of specs) {
    // no cpuN: explicitly unpinned ('any'), not the runtime's default affinity
    procs.push(await PolicyProcess.start(bundle, { session: { intraOpNumThreads: p.threads }, sched: p.sched, niceness: p.niceness, cpus: p.cpus }));
  }
  let active = -1;
  let stop = false;
  const counts = specs.map(() => 0);
  const stepMs: number[][] = specs.map(() => []);
  const drivers = procs.map(async (proc, i) => {
    let n = 0;
    while (!stop) {
      if (active !== i) {
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      const r = await proc.infer(obs[n % obs.length]!, SIM_SETTINGS);
      n++;
      if (active === i) {
        counts[i]!++;
        stepMs[i]!.push(r.stats.totalMs);
      }
    }
  });
  const idle: number[] = [];
  const busy: number[][] = specs.map(() => []);
  const rounds = Math.max(1, Math.round(loopWindows / 2));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < specs.length; i++) {
      active = -1;
      await new Promise((res) => setTimeout(res, 150)); // let the previous inference finish
      idle.push(...(await measureLoop(1000)));
      active = i;
      await new Promise((res) => setTimeout(res, 100)); // let the first inference start
      busy[i]!.push(...(await measureLoop(1000)));
    }
  }
  stop = true;
  active = -1;
  await Promise.all(drivers);
  const rows: LoopRow[] = specs.map((p, i) => ({
    placement: p.name,
    effective: `${procs[i]!.placement}, intraOp ${p.threads}`,
    idleP50Ms: q(idle, 0.5),
    idleP99Ms: q(idle, 0.99),
    policyP50Ms: q(busy[i]!, 0.5),
    policyP99Ms: q(busy[i]!, 0.99),
    policyMaxMs: Math.max(...busy[i]!),
    inferences: counts[i]!,
    inferencesPerS: counts[i]! / rounds,
    stepP50Ms: q(stepMs[i]!, 0.5),
  }));
  for (const p of procs) await p.dispose();
  console.log(`200 Hz loop lateness (hybrid timer), ${rounds} × 1 s windows each; idle baseline (same run, interleaved): p50 ${q(idle, 0.5).toFixed(3)} / p99 ${q(idle, 0.99).toFixed(3)} ms`);
  const head = ['placement', 'child runs with', 'p50 ms', 'p99 ms', 'max ms', 'inferences/s', 'step p50 ms'];
  const lines = rows.map((r) => [r.placement, r.effective, r.policyP50Ms.toFixed(3), r.policyP99Ms.toFixed(3), r.policyMaxMs.toFixed(2), r.inferencesPerS.toFixed(1), r.stepP50Ms.toFixed(1)]);
  printTable(head, lines, 2);
  return { idleP50Ms: q(idle, 0.5), idleP99Ms: q(idle, 0.99), placements: rows };
}

/** True when the bundle reads the simulator's wrist camera (the demo): its observations come from the simulator. */
async function usesSim(): Promise<boolean> {
  const { readFileSync } = await import('node:fs');
  const m = JSON.parse(readFileSync(`${bundle}/manifest.json`, 'utf8')) as { inputs: { cameras: { key: string }[] } };
  return m.inputs.cameras.some((c) => c.key === 'wrist');
}

/** Observations for the loop measurement: synthetic for the fixture, simulator frames for the demo. */
async function loopObservations(): Promise<PolicyObservation[]> {
  if (!(await usesSim())) return makeEpisodes(1).flat();
  const policy = await openPolicy(bundle, { robotJoints: [...SO101_JOINTS] });
  const obs: PolicyObservation[] = [];
  await simRollout(policy, 1, SIM_SETTINGS, async (o) => {
    obs.push(o);
  });
  await policy.dispose();
  return obs;
}

/** Table observations: synthetic episodes for the fixture; for the demo, simulator frames in episodes of `steps`. */
async function tableEpisodes(): Promise<PolicyObservation[][]> {
  if (!(await usesSim())) return makeEpisodes(1);
  const flat = await loopObservations();
  const out: PolicyObservation[][] = [];
  for (let e = 0; e < episodes && e * steps < flat.length; e++) out.push(flat.slice(e * steps, (e + 1) * steps));
  return out;
}

async function dump(dir: string): Promise<{ dir: string; steps: number }> {
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const { imageToChw, normaliseState } = await import('../models/policies/preprocess');
  const { loadHfTokenizer } = await import('../models/tokenizers/instruction');
  const policy = await openPolicy(bundle, { robotJoints: [...SO101_JOINTS] });
  const m = policy.manifest;
  if (m.policy.kind !== 'autoregressive' || m.policy.encoder === undefined) throw new Error('--only dump needs an autoregressive bundle with an encoder');
  const enc = m.policy.encoder;
  const tok = loadHfTokenizer(`${bundle}/${m.inputs.instruction!.tokenizer}`);
  const steps: { prompt: number[]; generated: number[] }[] = [];
  const floats: number[] = [];
  const settings: DecodeSettings = { speculative: false, relaxedR: 0, planCache: false, reasoning: true };
  // calibration / diagnosis data: seeds of the generated training range (models/train/README.md), all families
  const seed0 = Number(arg('first-seed', '10000'));
  await simRollout(policy, simSeeds, settings, async (obs, r) => {
    const instr = tok.encode(obs.instruction).slice(0, m.inputs.instruction?.maxTokens ?? 64);
    steps.push({ prompt: [m.tokens!.bos, ...instr, m.tokens!.reasoningBegin!], generated: r.tokens });
    for (const name of enc.inputs) {
      const cam = m.inputs.cameras.find((c) => c.input === name);
      const data = cam !== undefined ? imageToChw(obs.images[cam.key], cam) : normaliseState(obs.state, m.inputs.state!);
      for (const v of data) floats.push(v);
    }
  }, seed0, TASK_FAMILIES);
  await policy.dispose();
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/steps.json`, JSON.stringify({ bundle, encoderInputs: enc.inputs, steps }));
  writeFileSync(`${dir}/inputs.f32`, Buffer.from(Float32Array.from(floats).buffer));
  console.log(`wrote ${steps.length} steps to ${dir}`);
  return { dir, steps: steps.length };
}

interface CompareRow {
  variant: string;
  steps: number;
  refStepP50Ms: number;
  variantStepP50Ms: number;
  refStepMeanMs: number;
  variantStepMeanMs: number;
  speedup: number;
  refEncoderP50Ms: number;
  variantEncoderP50Ms: number;
  /** Generated answer tokens equal at the same position, over the reference's length (NaN: the variant prefilled reasoning). */
  tokenAgreement: number;
  /** Action tokens equal at the same position of the chunk. */
  actionTokenAgreement: number;
  /** Steps whose action tokens are all equal. */
  exactActionRate: number;
  /** Mean |Δ| between the chunks, robot units (degrees / gripper %), steps where both are valid. */
  actionDiff: number;
  variantValidRate: number;
  targetCallsPerStep: number;
  reuseHitRate: number;
}

async function compare(): Promise<CompareRow[]> {
  const variantDir = arg('variant', '');
  const reuseArg = arg('reuse', '');
  const every = Number(arg('reasoning-every', '1'));
  if (variantDir === '' && reuseArg === '' && every <= 1) throw new Error('--only compare needs --variant DIR, --reuse PIXELS[:STATE] and/or --reasoning-every N');
  const [px, st] = reuseArg.split(':');
  const reuse = reuseArg === '' ? undefined : { pixel: Number(px), ...(st !== undefined ? { state: Number(st) } : {}) };
  const opts = { robotJoints: [...SO101_JOINTS], session: { intraOpNumThreads: threads } };
  const ref = await openPolicy(bundle, opts);
  // the reference's step time is measured on a second instance of it (same bundle, same settings),
  // decoded in rotating order with the variants: the first decode after rendering a frame runs on
  // colder caches, and the driving instance always goes first. Its agreement must be 1.000.
  const variants: { name: string; policy: Policy; settings: DecodeSettings }[] = [{ name: 'reference (again, the timing baseline)', policy: await openPolicy(bundle, opts), settings: SIM_SETTINGS }];
  if (variantDir !== '') variants.push({ name: variantDir, policy: await openPolicy(variantDir, opts), settings: SIM_SETTINGS });
  if (reuse !== undefined) variants.push({ name: `encoder reuse ${reuseArg}`, policy: await openPolicy(bundle, opts), settings: { ...SIM_SETTINGS, encoderReuse: reuse } });
  if (variantDir !== '' && reuse !== undefined) variants.push({ name: `${variantDir} + encoder reuse ${reuseArg}`, policy: await openPolicy(variantDir, opts), settings: { ...SIM_SETTINGS, encoderReuse: reuse } });
  if (every > 1) variants.push({ name: `dual rate: reasoning every ${every}`, policy: await openPolicy(bundle, opts), settings: { ...SIM_SETTINGS, reasoningEvery: every } });
  const acc = variants.map(() => ({ v: [] as number[], vEnc: [] as number[], tokEq: 0, tokN: 0, actEq: 0, actN: 0, exact: 0, n: 0, diffs: [] as number[], valid: 0, reused: 0, calls: [] as number[] }));
  const isAct = (id: number): boolean => id >= (ref.manifest.action.tokenizer as { firstTokenId: number }).firstTokenId;
  const actionBegin = ref.manifest.tokens!.actionBegin;
  const actionsOf = (ts: readonly number[]): number[] => ts.slice(ts.lastIndexOf(actionBegin) + 1).filter(isAct);
  let lastSeed = -1;
  let stepNo = 0;
  await simRollout(ref, simSeeds, SIM_SETTINGS, async (obs, r, seed) => {
    if (seed !== lastSeed) {
      for (const v of variants) v.policy.reset();
      lastSeed = seed;
    }
    const n = variants.length;
    const start = stepNo++ % n;
    for (let j = 0; j < n; j++) {
      const i = (start + j) % n;
      const v = variants[i]!;
      const a = acc[i]!;
      const rv = await v.policy.infer(obs, v.settings);
      a.v.push(rv.stats.totalMs);
      a.vEnc.push(rv.stats.encoderMs);
      a.calls.push(rv.stats.targetCalls);
      a.n++;
      if (rv.valid) a.valid++;
      if (rv.stats.encoderReused === true) a.reused++;
      // actions: the generated tokens after the last action marker (all of them when the marker was prefilled)
      const ra = actionsOf(r.tokens);
      const va = actionsOf(rv.tokens);
      for (let k = 0; k < ra.length; k++) {
        a.actN++;
        if (va[k] === ra[k]) a.actEq++;
      }
      // whole answers position by position; not comparable when the variant prefilled its reasoning (dual rate)
      if (rv.stats.reasoningReused === true) a.tokN = NaN;
      for (let k = 0; k < r.tokens.length; k++) {
        a.tokN++;
        if (rv.tokens[k] === r.tokens[k]) a.tokEq++;
      }
      if (ra.length === va.length && ra.every((t, k) => t === va[k])) a.exact++;
      if (r.valid && rv.valid) r.chunk.forEach((row, t) => row.forEach((x, d) => a.diffs.push(Math.abs(x - rv.chunk[t]![d]!))));
    }
  });
  await ref.dispose();
  for (const v of variants) await v.policy.dispose();
  const rows: CompareRow[] = variants.map((v, i) => {
    const a = acc[i]!;
    const base = acc[0]!;
    return {
      variant: v.name,
      steps: a.n,
      refStepP50Ms: q(base.v, 0.5),
      variantStepP50Ms: q(a.v, 0.5),
      refStepMeanMs: mean(base.v),
      variantStepMeanMs: mean(a.v),
      speedup: q(base.v, 0.5) / q(a.v, 0.5),
      refEncoderP50Ms: q(base.vEnc, 0.5),
      variantEncoderP50Ms: q(a.vEnc, 0.5),
      tokenAgreement: a.tokEq / Math.max(1, a.tokN),
      actionTokenAgreement: a.actEq / Math.max(1, a.actN),
      exactActionRate: a.exact / Math.max(1, a.n),
      actionDiff: mean(a.diffs),
      variantValidRate: a.valid / Math.max(1, a.n),
      targetCallsPerStep: mean(a.calls),
      reuseHitRate: a.reused / Math.max(1, a.n),
    };
  });
  console.log(`compare against ${bundle} (decode ${decode}, plan cache, intraOp ${threads}), ${simSeeds} held-out pick-and-place episodes driven by the reference; every observation decoded by each in rotating order; token agreement against the driving reference's answer`);
  const head = ['variant', 'steps', 'ref p50 ms', 'variant p50 ms', 'ref/var mean ms', 'speed-up', 'enc ms ref/var', 'token agree', 'action-token agree', 'chunk exact', '|Δa|', 'valid', 'target calls', 'reuse hits'];
  const lines = rows.map((r) => [
    r.variant,
    String(r.steps),
    r.refStepP50Ms.toFixed(1),
    r.variantStepP50Ms.toFixed(1),
    `${r.refStepMeanMs.toFixed(1)}/${r.variantStepMeanMs.toFixed(1)}`,
    `${r.speedup.toFixed(2)}×`,
    `${r.refEncoderP50Ms.toFixed(2)}/${r.variantEncoderP50Ms.toFixed(2)}`,
    Number.isNaN(r.tokenAgreement) ? '—' : r.tokenAgreement.toFixed(3),
    r.actionTokenAgreement.toFixed(3),
    r.exactActionRate.toFixed(2),
    r.actionDiff.toFixed(3),
    r.variantValidRate.toFixed(2),
    r.targetCallsPerStep.toFixed(1),
    r.reuseHitRate.toFixed(2),
  ]);
  printTable(head, lines);
  return rows;
}

await main();
