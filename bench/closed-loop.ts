/**
 * Closed-loop benchmark of a VLA bundle in the simulator:
 *
 *   npm run bench:closed-loop [-- --quick] [--seeds N] [--bundle DIR] [--configs a,b] [--families f,g] [--max-seconds T]
 *                             [--first-seed I] [--save FILE]              (also write every episode and inference sample to FILE)
 *   npm run bench:closed-loop -- --merge F1,F2,...     (one table from runs saved with --save, e.g. run in
 *                                                      parallel over configurations or families)
 *
 * Defaults: bundle models/bundles/demo, 100 seeds per family, 15 s episodes, all configurations
 * (keys greedy, default, r4, r9, jacobi, ens-off, ens-blend, full, dropout, int8, reuse, dual; int8 = the Jacobi
 * row on models/bundles/demo-int8, reuse = the Jacobi row with settings.encoderReuse, dual = the Jacobi row
 * with settings.reasoningEvery 3). --quick: 1 seed per family,
 * 10 s, greedy / default / dropout (about 1–2 minutes on the 2-core machine).
 *
 * Success rate on held-out seeds per task family (seeds 1,000,000 + i, disjoint from the training
 * seeds 0 … 2,199 and 10,000 … 45,999 of models/train/README.md), with policy-step latency p50/p99, achieved control
 * rate, tokens per step, tokens/s and acceptance length — one row per configuration: greedy;
 * speculative strict; speculative relaxed (r = 4, 9); parallel (Jacobi) strict, seeded with the
 * previous step's answer; ensemble off / temporal / blend; reasoning full / plan cache / dropout.
 * The base configuration (speculative strict, temporal ensemble, plan cache; key `default`) is
 * the "speculative strict", "ensemble temporal" and "plan cache" row at once; it is run once and
 * printed under each name; every other row changes one thing from it. (The console's default,
 * DEFAULT_VLA_SETTINGS, is the Jacobi row: the base with Jacobi decoding on.) Prints the table
 * and, last, one JSON object.
 *
 * Method (simulated clock, real latency). On 2 CPU cores, hundreds of real-time episodes per
 * configuration would take hours, so the control loop (the real ControlLoop, SimRobot, SimCamera
 * at the bundle's image size) ticks at 30 Hz under a manual clock, and every inference is
 * measured for real (wall clock, in-process ONNX Runtime, 1 intra-op thread — the child
 * process's default). The policy runner here keeps the runtime's semantics (same ActionQueue,
 * refill at g·H with g = 0.5, same merge modes): when the queue needs a refill it takes this
 * tick's observation, runs the inference to completion, and the chunk lands
 * d = max(1, ceil(latency / 33.3 ms)) ticks later — the runner's `delayTicks` — while the
 * world and the loop go on ticking with what is queued (or hold when it is empty). So a slow
 * inference costs success exactly as it would in real time (the arm holds, the chunk starts
 * stale and its overtaken actions are dropped); only the IPC round trip to the child process
 * (≈0.2–0.5 ms) is left out. "act Hz" is the achieved control rate: 30 Hz × the fraction of
 * ticks on which the policy had an action (the rest the loop held the arm).
 * An episode succeeds when the world's success predicate holds at any tick before
 * --max-seconds (default 15 s; the expert needs 2–5 s). `--zero-latency` (diagnosis only, never
 * the reported numbers) lands every chunk on the next tick, to separate policy quality from latency.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { benchArgs } from './args';
import { printTable } from './table';
import { SimCamera, SimRobot, SimWorld, SO101_JOINTS, TASK_FAMILIES, type TaskFamily } from '../drivers/sim';
import { ControlLoop } from '../main/control/loop';
import type { Clock, Observation, PolicyOutput, PolicyRunner } from '../main/control/types';
import { ActionQueue, type MergeMode } from '../models/chunking/actionQueue';
import { openPolicy } from '../models/policies/open';
import type { DecodeSettings, InferResult, Policy } from '../models/policies/types';
import type { PolicyObservation } from '../models/policies/preprocess';

const { arg, flag } = benchArgs();
const quick = flag('quick');
const bundle = arg('bundle', 'models/bundles/demo');
const seedsPerFamily = Number(arg('seeds', quick ? '1' : '100'));
/** Index of the first held-out seed (to split one family's seeds over parallel runs). */
const firstSeed = Number(arg('first-seed', '0'));
const maxSeconds = Number(arg('max-seconds', quick ? '10' : '15'));
const families = arg('families', TASK_FAMILIES.join(',')).split(',') as TaskFamily[];
const RATE = 30;
const DT = 1000 / RATE;
const EVAL_SEED0 = 1_000_000;
/** Diagnosis only: every chunk lands on the next tick whatever the latency (the policy's quality without the cost of time). */
const zeroLatency = flag('zero-latency');

interface Config {
  key: string;
  rows: string[];
  speculative: boolean;
  relaxedR: number;
  ensemble: MergeMode;
  planCache: boolean;
  reasoning: boolean;
  jacobi: boolean;
  /** Another bundle for this row (a runtime variant of the same model, e.g. its int8 quantisation). */
  bundle?: string;
  /** settings.encoderReuse for this row. */
  encoderReuse?: DecodeSettings['encoderReuse'];
  /** settings.reasoningEvery (dual rate) for this row. */
  reasoningEvery?: number;
}
const base = { speculative: true, relaxedR: 0, ensemble: 'temporal' as MergeMode, planCache: true, reasoning: true, jacobi: false };
const ALL: Config[] = [
  { key: 'greedy', rows: ['greedy'], ...base, speculative: false },
  { key: 'default', rows: ['speculative strict', 'ensemble temporal', 'reasoning plan cache'], ...base },
  { key: 'r4', rows: ['speculative relaxed r=4'], ...base, relaxedR: 4 },
  { key: 'r9', rows: ['speculative relaxed r=9'], ...base, relaxedR: 9 },
  { key: 'jacobi', rows: ['parallel (Jacobi) strict'], ...base, jacobi: true },
  { key: 'ens-off', rows: ['ensemble off'], ...base, ensemble: 'off' },
  { key: 'ens-blend', rows: ['ensemble blend'], ...base, ensemble: 'blend' },
  { key: 'full', rows: ['reasoning full'], ...base, planCache: false },
  { key: 'dropout', rows: ['reasoning dropout'], ...base, reasoning: false },
  // runtime variants of the console's default (the Jacobi row), models/README.md "Runtime variants"
  { key: 'int8', rows: ['int8 bundle (demo-int8), Jacobi'], ...base, jacobi: true, bundle: 'models/bundles/demo-int8' },
  { key: 'reuse', rows: ['encoder reuse (2 levels, 0.05 std), Jacobi'], ...base, jacobi: true, encoderReuse: { pixel: 2, state: 0.05 } },
  { key: 'dual', rows: ['dual rate: reasoning every 3rd step, Jacobi'], ...base, jacobi: true, reasoningEvery: 3 },
];
const ROW_ORDER = ['greedy', 'speculative strict', 'speculative relaxed r=4', 'speculative relaxed r=9', 'parallel (Jacobi) strict', 'ensemble off', 'ensemble temporal', 'ensemble blend', 'reasoning full', 'reasoning plan cache', 'reasoning dropout', 'int8 bundle (demo-int8), Jacobi', 'encoder reuse (2 levels, 0.05 std), Jacobi', 'dual rate: reasoning every 3rd step, Jacobi'];
// --quick (CI-style, ~1–2 min on 2 cores): 1 seed per family, 10 s episodes, greedy / default / dropout
const wanted = arg('configs', quick ? 'greedy,default,dropout' : ALL.map((c) => c.key).join(',')).split(',');
const configs = ALL.filter((c) => wanted.includes(c.key));

class ManualClock implements Clock {
  t = 0;
  nowMs(): number {
    return this.t;
  }
}

/** PolicyRunner with the runtime's queue semantics; inference is run by the bench between ticks. */
class SimClockRunner implements PolicyRunner {
  readonly name = 'vla-bench';
  tick = 0;
  pending: { obs: Observation; tick: number } | undefined;
  private landing: { start: number; chunk: number[][]; at: number } | undefined;
  private inflight = false;
  readonly queue: ActionQueue;
  acted = 0;
  ticks = 0;
  constructor(readonly policy: Policy, mode: MergeMode) {
    const p = policy.manifest.policy;
    this.queue = new ActionQueue({ chunk: policy.manifest.action.chunk, refillFraction: 0.5, mode, temporalCoeff: p.kind === 'chunk_regression' ? p.temporalCoeff : undefined });
  }
  step(obs: Observation): PolicyOutput | undefined {
    const tick = this.tick++;
    this.ticks++;
    if (this.landing !== undefined && this.landing.at <= tick) {
      if (this.landing.chunk.length > 0) this.queue.push(this.landing.start, this.landing.chunk, tick);
      this.landing = undefined;
      this.inflight = false;
    }
    if (!this.inflight && this.queue.needsRefill(tick)) {
      this.inflight = true;
      this.pending = { obs, tick };
    }
    const a = this.queue.pop(tick);
    if (a === undefined) return undefined;
    this.acted++;
    const goal = [...obs.state];
    this.policy.manifest.action.joints.forEach((j, i) => {
      const r = SO101_JOINTS.indexOf(j as (typeof SO101_JOINTS)[number]);
      if (r >= 0) goal[r] = a[i]!;
    });
    return { goal };
  }
  land(start: number, chunk: number[][], latencyMs: number): void {
    this.landing = { start, chunk, at: start + (zeroLatency ? 1 : Math.max(1, Math.ceil(latencyMs / DT))) };
  }
  reset(): void {
    this.queue.clear();
    this.landing = undefined;
    this.inflight = false;
    this.pending = undefined;
  }
  async stop(): Promise<void> {}
}

interface Sample {
  ms: number;
  tokens: number;
  decodeMs: number;
  acceptLength: number;
  spec: boolean;
  valid: boolean;
  cacheHit: boolean;
  delay: number;
}

interface EpisodeResult {
  family: TaskFamily;
  seed: number;
  success: boolean;
  ticks: number;
  acted: number;
}

async function runEpisode(policy: Policy, cfg: Config, family: TaskFamily, seed: number, samples: Sample[]): Promise<EpisodeResult> {
  const clock = new ManualClock();
  const world = new SimWorld({ seed, family });
  const robot = new SimRobot(world, () => clock.nowMs());
  const cams = policy.manifest.inputs.cameras.map((c) => new SimCamera(world, c.key as 'front' | 'wrist', { width: c.width, height: c.height, fps: RATE }, () => clock.nowMs()));
  const loop = new ControlLoop({ robot, cameras: cams, clock, rateHz: RATE, task: world.task.instruction });
  await robot.connect();
  for (const c of cams) await c.connect();
  policy.reset();
  const runner = new SimClockRunner(policy, cfg.ensemble);
  loop.setPolicy(runner);
  const settings: DecodeSettings = { speculative: cfg.speculative, relaxedR: cfg.relaxedR, planCache: cfg.planCache, reasoning: cfg.reasoning, jacobi: cfg.jacobi, encoderReuse: cfg.encoderReuse, reasoningEvery: cfg.reasoningEvery };
  const maxTicks = Math.round(maxSeconds * RATE);
  let success = false;
  let t = 0;
  for (; t < maxTicks && !success; t++) {
    clock.t += DT;
    await loop.tick();
    const p = runner.pending;
    if (p !== undefined) {
      runner.pending = undefined;
      const obs: PolicyObservation = {
        state: policy.manifest.inputs.state!.joints.map((j) => p.obs.state[SO101_JOINTS.indexOf(j as (typeof SO101_JOINTS)[number])] ?? 0),
        images: Object.fromEntries(policy.manifest.inputs.cameras.map((c) => {
          const f = p.obs.images[c.key];
          return [c.key, f === undefined ? undefined : { data: f.data, width: f.width, height: f.height }];
        })),
        instruction: p.obs.task,
      };
      const t0 = performance.now();
      const r: InferResult = await policy.infer(obs, settings);
      const ms = performance.now() - t0;
      runner.land(p.tick, r.valid ? r.chunk : [], ms);
      samples.push({
        ms,
        tokens: r.stats.tokens,
        decodeMs: r.stats.reasoningMs + r.stats.actionsMs,
        acceptLength: r.stats.acceptLength,
        spec: cfg.speculative,
        valid: r.valid,
        cacheHit: r.stats.cacheHit,
        delay: Math.max(1, Math.ceil(ms / DT)),
      });
    }
    success = world.isSuccess();
  }
  await robot.disconnect();
  return { family, seed, success, ticks: t, acted: runner.acted };
}

const pct = (xs: number[], q: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))]!;
};
const mean = (xs: number[]): number => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);

interface Row {
  config: string;
  key: string;
  success: Record<string, { ok: number; n: number; rate: number }>;
  successAll: number;
  stepP50Ms: number;
  stepP99Ms: number;
  actHz: number;
  tokensPerStep: number;
  tokensPerS: number;
  acceptLength: number | null;
  cacheHitRate: number;
  validRate: number;
  meanDelayTicks: number;
  inferences: number;
  episodes: number;
  wallS: number;
}

interface Run {
  key: string;
  eps: EpisodeResult[];
  samples: Sample[];
  wallS: number;
}

interface Saved {
  bundle: string;
  name: string;
  maxSeconds: number;
  zeroLatency: boolean;
  runs: Run[];
}

function summarise(cfg: Config, run: Run, fams: TaskFamily[]): Row {
  const { eps, samples } = run;
  const success: Row['success'] = {};
  for (const f of fams) {
    const e = eps.filter((x) => x.family === f);
    const ok = e.filter((x) => x.success).length;
    success[f] = { ok, n: e.length, rate: e.length === 0 ? NaN : ok / e.length };
  }
  const spec = samples.filter((s) => s.spec);
  return {
    config: cfg.rows.join(' = '),
    key: cfg.key,
    success,
    successAll: eps.filter((e) => e.success).length / eps.length,
    stepP50Ms: pct(samples.map((s) => s.ms), 0.5),
    stepP99Ms: pct(samples.map((s) => s.ms), 0.99),
    actHz: (RATE * eps.reduce((a, e) => a + e.acted, 0)) / eps.reduce((a, e) => a + e.ticks, 0),
    tokensPerStep: mean(samples.map((s) => s.tokens)),
    tokensPerS: (1000 * samples.reduce((a, s) => a + s.tokens, 0)) / samples.reduce((a, s) => a + s.decodeMs, 0),
    acceptLength: spec.length > 0 ? mean(spec.map((s) => s.acceptLength)) : null,
    cacheHitRate: mean(samples.map((s) => (s.cacheHit ? 1 : 0))),
    validRate: mean(samples.map((s) => (s.valid ? 1 : 0))),
    meanDelayTicks: mean(samples.map((s) => s.delay)),
    inferences: samples.length,
    episodes: eps.length,
    wallS: run.wallS,
  };
}

async function main(): Promise<void> {
  const mergeFiles = arg('merge', '');
  const save = arg('save', '');
  let saved: Saved;
  if (mergeFiles !== '') {
    const parts = mergeFiles.split(',').map((f) => JSON.parse(readFileSync(f, 'utf8')) as Saved);
    const runs = new Map<string, Run>();
    for (const p of parts) {
      if (p.bundle !== parts[0]!.bundle || p.maxSeconds !== parts[0]!.maxSeconds || p.zeroLatency !== parts[0]!.zeroLatency) {
        throw new Error('--merge: the saved runs differ in bundle, --max-seconds or --zero-latency');
      }
      for (const r of p.runs) {
        const into = runs.get(r.key);
        if (into === undefined) runs.set(r.key, { ...r, eps: [...r.eps], samples: [...r.samples] });
        else {
          into.eps.push(...r.eps);
          into.samples.push(...r.samples);
          into.wallS += r.wallS;
        }
      }
    }
    saved = { ...parts[0]!, runs: [...runs.values()] };
    console.log(`merged ${parts.length} saved runs of ${saved.bundle}`);
  } else {
    const policy = await openPolicy(bundle, { robotJoints: [...SO101_JOINTS], session: { intraOpNumThreads: 1 } });
    const m = policy.manifest;
    saved = { bundle, name: m.name, maxSeconds, zeroLatency, runs: [] };
    console.log(`bundle ${bundle} (${m.name}); ${families.join('/')} × ${seedsPerFamily} held-out seeds from ${EVAL_SEED0}; ${RATE} Hz simulated clock, chunks land after the measured latency; max ${maxSeconds} s per episode`);
    for (const cfg of configs) {
      const rowPolicy = cfg.bundle === undefined ? policy : await openPolicy(cfg.bundle, { robotJoints: [...SO101_JOINTS], session: { intraOpNumThreads: 1 } });
      const t0 = performance.now();
      const run: Run = { key: cfg.key, eps: [], samples: [], wallS: 0 };
      saved.runs.push(run);
      for (let i = firstSeed; i < firstSeed + seedsPerFamily; i++) {
        for (const family of families) {
          run.eps.push(await runEpisode(rowPolicy, cfg, family, EVAL_SEED0 + i, run.samples));
          run.wallS = (performance.now() - t0) / 1000;
          // saved after every episode: a run stopped by a time limit keeps what it finished
          if (save !== '') writeFileSync(save, JSON.stringify(saved));
        }
      }
      if (rowPolicy !== policy) await rowPolicy.dispose();
      const row = summarise(cfg, run, families);
      console.error(`[${cfg.key}] valid ${row.validRate.toFixed(2)}, ${run.eps.length} episodes, success ${(row.successAll * 100).toFixed(1)} %, p50 ${row.stepP50Ms.toFixed(1)} ms, ${row.wallS.toFixed(0)} s`);
    }
    await policy.dispose();
  }
  const fams = TASK_FAMILIES.filter((f) => saved.runs.some((r) => r.eps.some((e) => e.family === f)));
  const rows = saved.runs.map((r) => summarise(ALL.find((c) => c.key === r.key)!, r, fams));
  const seedCounts = Object.fromEntries(fams.map((f) => [f, Math.max(...saved.runs.map((r) => r.eps.filter((e) => e.family === f).length))]));

  const f1 = (x: number | null, d = 1): string => (x === null || Number.isNaN(x) ? '—' : x.toFixed(d));
  const head = ['config', ...fams.map((f) => `${f} %`), 'all %', 'step p50 ms', 'step p99 ms', 'act Hz', 'tok/step', 'tok/s', 'accept len', 'cache hit', 'delay ticks'];
  const lines: string[][] = [];
  for (const name of ROW_ORDER) {
    const r = rows.find((x) => ALL.find((c) => c.key === x.key)!.rows.includes(name));
    if (r === undefined) continue;
    lines.push([
      name,
      ...fams.map((f) => `${f1(100 * r.success[f]!.rate, 0)} (${r.success[f]!.ok}/${r.success[f]!.n})`),
      f1(100 * r.successAll, 1),
      f1(r.stepP50Ms),
      f1(r.stepP99Ms),
      f1(r.actHz),
      f1(r.tokensPerStep),
      f1(r.tokensPerS, 0),
      f1(r.acceptLength, 2),
      f1(r.cacheHitRate, 2),
      f1(r.meanDelayTicks, 2),
    ]);
  }
  printTable(head, lines);
  console.log(JSON.stringify({ bundle: saved.bundle, name: saved.name, episodesPerFamily: seedCounts, evalSeed0: EVAL_SEED0, families: fams, maxSeconds: saved.maxSeconds, rateHz: RATE, quick, zeroLatency: saved.zeroLatency, rows }));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
