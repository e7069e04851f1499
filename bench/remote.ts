/**
 * Remote-policy benchmark (issue 14):
 *
 *   npm run bench:remote [-- --requests N] [--seeds N] [--families f,g] [--latencies 0,50,150] [--max-seconds T] [--url ws://...]
 *
 * 1. Round trip over loopback for the demo-sized observation (front + wrist 32×32 uint8, 6 joint
 *    state, prompt): the demo bundle (reasoning dropout, greedy) served by
 *    test/fakes/openpi-server/server.py (Python onnxruntime, 1 thread) through RemotePolicy, vs the
 *    same bundle and decoding in-process (Node onnxruntime, 1 thread): p50/p99 ms, the server's own
 *    inference time, bytes per request and reply. Plus the protocol alone: the server's `hold`
 *    policy (no inference) gives the round trip of encoding, WebSocket and decoding.
 * 2. Closed-loop success, remote vs local, at 0 / 50 / 150 ms of injected latency, under the
 *    simulated clock of bench/closed-loop.ts: the loop (real ControlLoop, SimRobot, SimCameras at
 *    32×32) ticks at 30 Hz on a manual clock; each inference is measured for real (wall clock) and
 *    its chunk lands d = max(1, ceil((measured + injected) / 33.3 ms)) ticks after its observation,
 *    with the runtime's queue semantics (stamped chunks, overtaken actions dropped, temporal
 *    ensemble) and the remote runner's refill rule (keep max(g·H, recent max latency in ticks + 1)
 *    actions queued). The injected latency is the same for both: it stands for the network.
 * Held-out seeds 1,000,000 + i. Few seeds by default (2 CPU cores are shared): noisy figures.
 * `--url` runs part 2 against a server already running (e.g. openpi's own) instead of starting one.
 * Prints a table and, last, one JSON line.
 */
import { benchArgs } from './args';
import { SimCamera, SimRobot, SimWorld, SO101_JOINTS, type TaskFamily } from '../drivers/sim';
import { ControlLoop } from '../main/control/loop';
import type { Clock, Observation, PolicyOutput, PolicyRunner } from '../main/control/types';
import { ActionQueue } from '../models/chunking/actionQueue';
import { openPolicy } from '../models/policies/open';
import type { DecodeSettings, InferResult, Policy } from '../models/policies/types';
import type { PolicyObservation } from '../models/policies/preprocess';
import { RemoteManifestSchema, type RemoteManifest } from '../models/remote/manifest';
import { RemotePolicy, type RemoteInferResult } from '../models/remote/RemotePolicy';
import { startFakeServer, type FakeServer } from '../test/fakes/openpi-server';
import { readFileSync } from 'node:fs';

const { arg } = benchArgs();
const REQUESTS = Number(arg('requests', '60'));
const SEEDS = Number(arg('seeds', '3'));
const FAMILIES = arg('families', 'push,pick_place').split(',') as TaskFamily[];
const LATENCIES = arg('latencies', '0,50,150').split(',').map(Number);
const MAX_SECONDS = Number(arg('max-seconds', '10'));
const EXTERNAL = arg('url', '');
const RATE = 30;
const DT = 1000 / RATE;
const EVAL_SEED0 = 1_000_000;
const DROPOUT: DecodeSettings = { speculative: false, relaxedR: 0, planCache: false, reasoning: false, jacobi: false };
const JOINTS = [...SO101_JOINTS];

const pct = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))]!;
};

function manifest(url: string, patch: (m: RemoteManifest) => void = () => undefined): RemoteManifest {
  const json = JSON.parse(readFileSync(new URL('../models/bundles/demo-remote/manifest.json', import.meta.url), 'utf8')) as { server: { url: string } };
  json.server.url = url;
  const m = RemoteManifestSchema.parse(json);
  m.server.requestTimeoutMs = 30_000; // a measurement, not a console: a loaded machine must not end the run
  patch(m);
  return m;
}

async function observationAt(seed: number): Promise<PolicyObservation> {
  const world = new SimWorld({ seed, family: 'push' });
  const robot = new SimRobot(world, () => 0);
  await robot.connect();
  const images: PolicyObservation['images'] = {};
  for (const k of ['front', 'wrist'] as const) {
    const c = new SimCamera(world, k, { width: 32, height: 32, fps: RATE }, () => 0);
    await c.connect();
    const f = c.readLatest()!;
    images[k] = { data: f.data, width: f.width, height: f.height };
  }
  return { state: (await robot.readState()).positions, images, instruction: world.task.instruction };
}

/** The runtime's queue semantics on the simulated clock; the bench runs the inference between ticks. */
class SimClockRunner implements PolicyRunner {
  readonly name = 'remote-bench';
  private tick = 0;
  pending: { obs: Observation; tick: number } | undefined;
  private landing: { start: number; chunk: number[][]; at: number } | undefined;
  private inflight = false;
  private readonly queue: ActionQueue;
  private readonly lat: number[] = [];
  acted = 0;
  ticks = 0;
  constructor(private readonly H: number, private readonly actionJoints: readonly string[]) {
    this.queue = new ActionQueue({ chunk: H, refillFraction: 0.5, mode: 'temporal' });
  }
  private get refillAt(): number {
    const g = Math.ceil(0.5 * this.H);
    return this.lat.length === 0 ? g : Math.min(this.H, Math.max(g, Math.ceil(Math.max(...this.lat.slice(-20)) / DT) + 1));
  }
  step(obs: Observation): PolicyOutput | undefined {
    const tick = this.tick++;
    this.ticks++;
    if (this.landing !== undefined && this.landing.at <= tick) {
      this.queue.push(this.landing.start, this.landing.chunk, tick);
      this.landing = undefined;
      this.inflight = false;
    }
    if (!this.inflight && this.queue.remaining(tick) < this.refillAt) {
      this.inflight = true;
      this.pending = { obs, tick };
    }
    const a = this.queue.pop(tick);
    if (a === undefined) return undefined;
    this.acted++;
    const goal = [...obs.state];
    this.actionJoints.forEach((j, i) => {
      const r = JOINTS.indexOf(j as (typeof JOINTS)[number]);
      if (r >= 0) goal[r] = a[i]!;
    });
    return { goal };
  }
  land(start: number, chunk: number[][], latencyMs: number): void {
    this.lat.push(latencyMs);
    this.landing = { start, chunk, at: start + Math.max(1, Math.ceil(latencyMs / DT)) };
  }
  reset(): void {}
  async stop(): Promise<void> {}
}

interface Ep {
  family: TaskFamily;
  seed: number;
  success: boolean;
  ticks: number;
  acted: number;
  inferMs: number[];
}

async function episode(policy: Policy<unknown>, H: number, actionJoints: readonly string[], family: TaskFamily, seed: number, injectedMs: number): Promise<Ep> {
  const clock: Clock & { t: number } = { t: 0, nowMs() { return this.t; } };
  const world = new SimWorld({ seed, family });
  const robot = new SimRobot(world, () => clock.t);
  const cams = (['front', 'wrist'] as const).map((k) => new SimCamera(world, k, { width: 32, height: 32, fps: RATE }, () => clock.t));
  const loop = new ControlLoop({ robot, cameras: cams, clock, rateHz: RATE, task: world.task.instruction });
  await robot.connect();
  for (const c of cams) await c.connect();
  const runner = new SimClockRunner(H, actionJoints);
  loop.setPolicy(runner);
  const inferMs: number[] = [];
  let success = false;
  let t = 0;
  for (; t < MAX_SECONDS * RATE && !success; t++) {
    clock.t += DT;
    await loop.tick();
    const p = runner.pending;
    if (p !== undefined) {
      runner.pending = undefined;
      const obs: PolicyObservation = {
        state: p.obs.state,
        images: Object.fromEntries(Object.entries(p.obs.images).map(([k, f]) => [k, f === undefined ? undefined : { data: f.data, width: f.width, height: f.height }])),
        instruction: p.obs.task,
      };
      const t0 = performance.now();
      const r: InferResult = await policy.infer(obs, DROPOUT);
      const ms = performance.now() - t0;
      inferMs.push(ms);
      runner.land(p.tick, r.valid ? r.chunk : [], ms + injectedMs);
    }
    success = world.isSuccess();
  }
  await robot.disconnect();
  return { family, seed, success, ticks: t, acted: runner.acted, inferMs };
}

async function main(): Promise<void> {
  const local = await openPolicy('models/bundles/demo', { robotJoints: JOINTS, session: { intraOpNumThreads: 1 } });
  let demoSrv: FakeServer | undefined;
  let holdSrv: FakeServer | undefined;
  try {
    demoSrv = await startFakeServer(['--policy', 'demo', '--threads', '1']);
    holdSrv = await startFakeServer(['--policy', 'hold']);
    const limits = Object.fromEntries(JOINTS.map((j) => [j, j === 'gripper' ? { min: 0, max: 100 } : { min: -180, max: 180 }]));
    const remote = new RemotePolicy(manifest(EXTERNAL !== '' ? EXTERNAL : demoSrv.url), { robotJoints: JOINTS, limits });
    const protocol = new RemotePolicy(manifest(holdSrv.url, (m) => (m.server.metadata = { policy: 'hold' })), { robotJoints: JOINTS, limits });
    await remote.connect();
    await protocol.connect();

    // ---- 1. round trip on one demo-sized observation ----
    const obs = await observationAt(EVAL_SEED0);
    const rt = { local: [] as number[], remote: [] as number[], server: [] as number[], network: [] as number[], protocol: [] as number[] };
    let bytesSent = 0;
    let bytesReceived = 0;
    for (let i = 0; i < 5; i++) {
      await local.infer(obs, DROPOUT);
      await remote.infer(obs);
      await protocol.infer(obs);
    }
    for (let i = 0; i < REQUESTS; i++) {
      let t0 = performance.now();
      await local.infer(obs, DROPOUT);
      rt.local.push(performance.now() - t0);
      t0 = performance.now();
      const r: RemoteInferResult = await remote.infer(obs);
      rt.remote.push(performance.now() - t0);
      if (r.remote.serverMs !== undefined) rt.server.push(r.remote.serverMs);
      if (r.remote.networkMs !== undefined) rt.network.push(r.remote.networkMs);
      bytesSent = r.remote.bytesSent;
      bytesReceived = r.remote.bytesReceived;
      t0 = performance.now();
      await protocol.infer(obs);
      rt.protocol.push(performance.now() - t0);
    }
    const fig = (xs: number[]) => ({ p50Ms: pct(xs, 0.5), p99Ms: pct(xs, 0.99) });
    const roundTrip = { inProcess: fig(rt.local), remote: fig(rt.remote), serverInfer: fig(rt.server), remoteMinusServer: fig(rt.network), protocolOnly: fig(rt.protocol), bytesPerRequest: bytesSent, bytesPerReply: bytesReceived, requests: REQUESTS };
    const f = (x: number) => x.toFixed(2);
    console.log(`round trip, ${REQUESTS} requests, demo-sized observation (2 × 32×32×3 uint8 + 6 × f32 + prompt), loopback:`);
    console.log(`  in-process (Node ORT)          p50 ${f(roundTrip.inProcess.p50Ms)} ms  p99 ${f(roundTrip.inProcess.p99Ms)} ms`);
    console.log(`  remote (Python ORT + protocol) p50 ${f(roundTrip.remote.p50Ms)} ms  p99 ${f(roundTrip.remote.p99Ms)} ms   (server infer p50 ${f(roundTrip.serverInfer.p50Ms)}, rest p50 ${f(roundTrip.remoteMinusServer.p50Ms)} / p99 ${f(roundTrip.remoteMinusServer.p99Ms)})`);
    console.log(`  protocol only (hold policy)    p50 ${f(roundTrip.protocolOnly.p50Ms)} ms  p99 ${f(roundTrip.protocolOnly.p99Ms)} ms`);
    console.log(`  bytes per request ${bytesSent}, per reply ${bytesReceived}`);
    await protocol.dispose();

    // ---- 2. closed loop, remote vs local, injected latency ----
    const rows: { policy: string; latencyMs: number; success: number; episodes: number; perFamily: Record<string, string>; inferP50Ms: number; actHz: number }[] = [];
    for (const L of LATENCIES) {
      for (const [name, pol, H, joints] of [
        ['local', local as Policy<unknown>, local.manifest.action.chunk, local.manifest.action.joints],
        ['remote', remote as Policy<unknown>, remote.manifest.action.horizon, remote.manifest.action.joints],
      ] as const) {
        const eps: Ep[] = [];
        for (let i = 0; i < SEEDS; i++) for (const fam of FAMILIES) eps.push(await episode(pol, H, joints, fam, EVAL_SEED0 + i, L));
        const perFamily = Object.fromEntries(FAMILIES.map((fam) => [fam, `${eps.filter((e) => e.family === fam && e.success).length}/${eps.filter((e) => e.family === fam).length}`]));
        const row = {
          policy: name,
          latencyMs: L,
          success: eps.filter((e) => e.success).length / eps.length,
          episodes: eps.length,
          perFamily,
          inferP50Ms: pct(eps.flatMap((e) => e.inferMs), 0.5),
          actHz: (RATE * eps.reduce((a, e) => a + e.acted, 0)) / eps.reduce((a, e) => a + e.ticks, 0),
        };
        rows.push(row);
        console.log(`  ${name.padEnd(6)} +${String(L).padStart(3)} ms  success ${(100 * row.success).toFixed(0)} % (${Object.entries(perFamily).map(([k, v]) => `${k} ${v}`).join(', ')})  infer p50 ${row.inferP50Ms.toFixed(1)} ms  act ${row.actHz.toFixed(1)} Hz`);
      }
    }
    await remote.dispose();
    console.log(JSON.stringify({ roundTrip, closedLoop: { families: FAMILIES, seedsPerFamily: SEEDS, evalSeed0: EVAL_SEED0, maxSeconds: MAX_SECONDS, rateHz: RATE, decoding: 'reasoning dropout, greedy', server: EXTERNAL !== '' ? EXTERNAL : 'test/fakes/openpi-server/server.py', rows } }));
  } finally {
    await local.dispose();
    await demoSrv?.stop();
    await holdSrv?.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
