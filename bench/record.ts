/**
 * Recording benchmark: 2 cameras at 640x480, 30 fps, plus joint state, recorded in real time
 * through the DatasetRecorder (bounded queue, streaming ffmpeg encoders) for N minutes.
 *
 *   npm run bench:record -- [--minutes 5] [--episode-seconds 60] [--source testsrc|sim]
 *                           [--codec auto|av1|h264] [--size 640x480] [--fps 30] [--out DIR] [--keep]
 *
 * Sources: ffmpeg test patterns (default; each camera is its own ffmpeg process, like USB
 * capture) or the simulator's software-rendered cameras (rendered on the loop's thread).
 * Reports frames dropped (recorder queue full, camera gaps), encoding speed vs real time, CPU %
 * (this process plus its ffmpeg children), peak RSS, bytes per minute. Last line: one JSON object.
 * --offline feeds pre-captured frames as fast as the recorder accepts them (no pacing, no drops):
 * encodeSpeedVsRealTime is then the encoders' own speed (media seconds per wall second).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileCamera } from '../drivers/cameras/file';
import type { Camera } from '../drivers/cameras/Camera';
import { SimWorld, SimCamera, ScriptedExpert } from '../drivers/sim';
import { RecordingService } from '../main/recording/service';
import type { StepRecord } from '../main/control/types';

interface Opts {
  minutes: number;
  episodeSeconds: number;
  source: 'testsrc' | 'sim';
  codec?: 'av1' | 'h264' | 'auto';
  width: number;
  height: number;
  fps: number;
  out?: string;
  keep: boolean;
  /** Feed frames as fast as the recorder takes them (its backpressure) to measure encoder speed. */
  offline: boolean;
}

function parse(argv: string[]): Opts {
  const o: Opts = { minutes: 5, episodeSeconds: 60, source: 'testsrc', width: 640, height: 480, fps: 30, keep: false, offline: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = (): string => argv[++i] ?? '';
    if (k === '--minutes') o.minutes = Number(v());
    else if (k === '--episode-seconds') o.episodeSeconds = Number(v());
    else if (k === '--source') o.source = v() === 'sim' ? 'sim' : 'testsrc';
    else if (k === '--codec') {
      const c = v();
      o.codec = c === 'h264' || c === 'av1' ? c : 'auto';
    }
    else if (k === '--size') [o.width, o.height] = v().split('x').map(Number) as [number, number];
    else if (k === '--fps') o.fps = Number(v());
    else if (k === '--out') o.out = v();
    else if (k === '--keep') o.keep = true;
    else if (k === '--offline') o.offline = true;
    else throw new Error(`unknown option ${k}`);
  }
  if (!(o.minutes > 0)) throw new Error('--minutes must be > 0');
  return o;
}

const TICK = (): number => 100; // clock ticks per second in /proc (USER_HZ, 100 on Linux)

/** CPU seconds of this process and its waited-for children (Linux /proc; else this process only). */
function cpuSeconds(): { self: number; children: number } {
  try {
    const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    const n = (i: number): number => Number(f[i - 2]);
    return { self: (n(14) + n(15)) / TICK(), children: (n(16) + n(17)) / TICK() };
  } catch {
    const u = process.cpuUsage();
    return { self: (u.user + u.system) / 1e6, children: 0 };
  }
}

/** CPU seconds and RSS of running children (the live ffmpeg processes). */
function liveChildren(): { cpu: number; rssMB: number } {
  let cpu = 0, rss = 0;
  try {
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      } catch {
        continue;
      }
      const f = stat.split(') ')[1]!.split(' ');
      if (Number(f[1]) !== process.pid) continue;
      cpu += (Number(f[11]) + Number(f[12])) / TICK();
      rss += (Number(f[21]) * 4096) / 1048576;
    }
  } catch {
    // not Linux
  }
  return { cpu, rssMB: rss };
}

function dirBytes(p: string): number {
  let total = 0;
  for (const e of readdirSync(p, { withFileTypes: true })) {
    const q = join(p, e.name);
    total += e.isDirectory() ? dirBytes(q) : statSync(q).size;
  }
  return total;
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const root = o.out ?? join(mkdtempSync(join(tmpdir(), 'reins-bench-')), 'ds');
  const problems: string[] = [];
  const svc = new RecordingService({ onProblem: (p) => problems.push(p.id) });
  const camSpecs = ['front', 'wrist'].map((key) => ({ key, width: o.width, height: o.height }));
  const created: Parameters<RecordingService['createDataset']>[0] = { root, fps: o.fps, robotType: 'so101_follower', jointNames: ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'], cameras: camSpecs, task: 'benchmark' };
  if (o.codec) created.codec = o.codec;
  const summary = await svc.createDataset(created);
  const codec = summary.cameras[0]!.codec;

  const world = new SimWorld({ seed: 1 });
  const expert = new ScriptedExpert(world, { fps: o.fps, imageWidth: o.width, imageHeight: o.height });
  const cameras: Camera[] =
    o.source === 'sim'
      ? camSpecs.map((c) => new SimCamera(world, c.key, { width: c.width, height: c.height, fps: o.fps }, () => performance.now()))
      : camSpecs.map((c, i) => new FileCamera({ key: c.key, width: c.width, height: c.height, fps: o.fps, source: { kind: 'testsrc', pattern: i === 0 ? 'testsrc2' : 'testsrc' } }));
  for (const c of cameras) await c.connect();
  const pools = new Map<string, StepRecord['observation']['images'][string][]>();
  if (o.offline) for (const c of cameras) {
    const pool = [];
    for (let i = 0; i < 30; i++) pool.push(await c.nextFrame(5000));
    pools.set(c.key, pool);
  }
  if (o.offline) for (const c of cameras) await c.disconnect(); // their CPU is not part of encoding

  const period = 1000 / o.fps;
  const totalTicks = Math.round(o.minutes * 60 * o.fps);
  const ticksPerEpisode = Math.max(1, Math.round(o.episodeSeconds * o.fps));
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  let peakChildRss = 0, peakTotalRss = 0, lastSample = 0;
  let tick = 0, lateTicks = 0, dropped = 0, missing = 0, written = 0;
  const saveTimes: number[] = [];
  let recordingWallMs = 0;
  while (tick < totalTicks) {
    await svc.startEpisode('benchmark');
    const epStart = performance.now();
    const n = Math.min(ticksPerEpisode, totalTicks - tick);
    for (let i = 0; i < n; i++, tick++) {
      let now: number;
      const images: StepRecord['observation']['images'] = {};
      if (o.offline) {
        await svc.whenWritable();
        now = epStart + i * period; // simulated time
        for (const c of cameras) {
          const f = pools.get(c.key)![i % 30]!;
          images[c.key] = { ...f, captureTimeMs: now, seq: i };
        }
      } else {
        const deadline = epStart + i * period;
        const wait = deadline - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        else if (wait < -period) lateTicks++;
        now = performance.now();
        for (const c of cameras) images[c.key] = c.readLatest(500);
      }
      const state = world.getPositions();
      const act = expert.act();
      world.setGoal(act.goal);
      world.step(period);
      svc.sink.onStep({ tick, timeMs: now, observation: { timeMs: now, state, images, task: 'benchmark' }, action: act.goal, source: 'policy', intervention: false, clamped: false, watchdog: [] });
      if (now - lastSample > 1000) {
        lastSample = now;
        const ch = liveChildren();
        peakChildRss = Math.max(peakChildRss, ch.rssMB);
        peakTotalRss = Math.max(peakTotalRss, ch.rssMB + process.memoryUsage().rss / 1048576);
      }
    }
    const recEnd = performance.now();
    recordingWallMs += recEnd - epStart;
    const st = svc.status().recorder!;
    dropped += st.dropped;
    missing += st.missingFrames;
    const lagStart = performance.now();
    const s = await svc.endEpisode();
    const saveMs = performance.now() - lagStart;
    saveTimes.push(saveMs);
    written += s.length;
    process.stdout.write(`episode ${s.index}: ${s.length} frames, dropped ${st.dropped}, achieved ${s.achievedFps.toFixed(2)} fps, save ${(saveMs / 1000).toFixed(2)} s\n`);
  }
  const camStats = cameras.map((c) => ({ key: c.key, ...c.stats() }));
  for (const c of cameras) await c.disconnect();
  await svc.closeDataset();
  const wallS = (performance.now() - t0) / 1000;
  const cpu1 = cpuSeconds(); // children are counted once they have exited (encoders, camera processes)
  const bytes = dirBytes(root);
  const cpuTotal = cpu1.self - cpu0.self + (cpu1.children - cpu0.children);
  const mediaS = written / o.fps;
  const result = {
    bench: 'record',
    mode: o.offline ? 'offline' : 'realtime',
    source: o.source,
    codec,
    cameras: 2,
    size: `${o.width}x${o.height}`,
    fps: o.fps,
    minutes: o.minutes,
    episodes: saveTimes.length,
    ticks: totalTicks,
    framesWritten: written,
    framesDropped: dropped,
    cameraFramesMissing: missing,
    cameraDropped: camStats.reduce((a, c) => a + c.dropped, 0),
    lateTicks,
    // media seconds written per wall second spent recording + saving (>= 1: keeps up with real time)
    encodeSpeedVsRealTime: Number((mediaS / ((recordingWallMs + saveTimes.reduce((a, b) => a + b, 0)) / 1000)).toFixed(3)),
    saveSecondsMean: Number((saveTimes.reduce((a, b) => a + b, 0) / saveTimes.length / 1000).toFixed(2)),
    saveSecondsMax: Number((Math.max(...saveTimes) / 1000).toFixed(2)),
    cpuPercentOfOneCore: Number(((cpuTotal / wallS) * 100).toFixed(1)),
    cpuPercentOfMachine: Number(((cpuTotal / wallS / cpus().length) * 100).toFixed(1)),
    cores: cpus().length,
    peakRssMB: Number((process.resourceUsage().maxRSS / 1024).toFixed(1)),
    peakEncoderRssMB: Number(peakChildRss.toFixed(1)),
    peakTotalRssMB: Number(peakTotalRss.toFixed(1)),
    bytes,
    bytesPerMinute: Math.round(bytes / (mediaS / 60)),
    warnings: [...new Set(problems)],
    wallSeconds: Number(wallS.toFixed(1)),
    dataset: o.keep ? root : null,
  };
  if (!o.keep && !o.out) rmSync(join(root, '..'), { recursive: true, force: true });
  console.log(JSON.stringify(result));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
