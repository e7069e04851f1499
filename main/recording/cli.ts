/**
 * Headless recording from the simulator's scripted expert, in simulated time (faster than real
 * time): the training data of the demo policy, with ECoT annotations in the annotations side file.
 *
 *   npm run record -- --episodes N --out DIR [--task-family F] [--seed S] [--fps F] [--size WxH]
 *                     [--max-seconds T] [--codec av1|h264|h264-lossless] [--action-noise DEG] [--resume]
 *
 * Episode i runs the world seeded with S + i. Only successful episodes are kept: a failed
 * attempt is discarded and reported, so the dataset may hold fewer than N episodes.
 * --action-noise (DART-style noise injection): the arm executes the expert's goal plus Gaussian
 * noise of that many degrees on the body joints (in bursts of 10 ticks out of 30), while the dataset
 * records the expert's own goal as the action — the policy sees states slightly off the expert's
 * path, labelled with the expert's correction.
 * The last line printed is one JSON object (the summary).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TASK_FAMILIES, type TaskFamily } from '../../drivers/sim';
import { runExpertEpisode } from '../../drivers/sim/expertEpisode';
import { toErrorData } from '../common/errors';
import { RecordingService } from './service';
import type { VideoCodecChoice } from './encoder';

interface Args {
  episodes: number;
  out: string;
  family?: TaskFamily;
  seed: number;
  fps: number;
  width: number;
  height: number;
  maxSeconds: number;
  codec?: VideoCodecChoice;
  actionNoiseDeg: number;
  resume: boolean;
}

const USAGE = 'usage: npm run record -- --episodes N --out DIR [--task-family pick_place|push|stack] [--seed S] [--fps F] [--size WxH] [--max-seconds T] [--codec av1|h264|h264-lossless] [--action-noise DEG] [--resume]';

function parseArgs(argv: string[]): Args {
  const a: Partial<Args> & { resume: boolean } = { seed: 0, fps: 30, width: 224, height: 224, maxSeconds: 30, actionNoiseDeg: 0, resume: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value`);
      return x;
    };
    const int = (name: string, s: string, min: number): number => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min} (got ${s})`);
      return n;
    };
    switch (k) {
      case '--episodes': a.episodes = int(k, v(), 1); break;
      case '--out': a.out = v(); break;
      case '--task-family': {
        const f = v();
        if (!(TASK_FAMILIES as readonly string[]).includes(f)) throw new Error(`--task-family must be one of ${TASK_FAMILIES.join(', ')}`);
        a.family = f as TaskFamily;
        break;
      }
      case '--seed': a.seed = int(k, v(), 0); break;
      case '--fps': a.fps = int(k, v(), 1); break;
      case '--size': {
        const m = /^(\d+)x(\d+)$/.exec(v());
        if (!m) throw new Error('--size must look like 224x224');
        a.width = Number(m[1]);
        a.height = Number(m[2]);
        break;
      }
      case '--max-seconds': a.maxSeconds = Number(v()); break;
      case '--codec': {
        const c = v();
        if (c !== 'av1' && c !== 'h264' && c !== 'h264-lossless') throw new Error('--codec must be av1, h264 or h264-lossless');
        a.codec = c;
        break;
      }
      case '--action-noise': {
        const s = v();
        const n = Number(s);
        if (!Number.isFinite(n) || n < 0 || n > 10) throw new Error(`--action-noise must be a number of degrees between 0 and 10 (got ${s})`);
        a.actionNoiseDeg = n;
        break;
      }
      case '--resume': a.resume = true; break;
      case '--help': case '-h': console.log(USAGE); process.exit(0); break;
      default: throw new Error(`unknown option ${k}`);
    }
  }
  if (!a.episodes || !a.out) throw new Error('--episodes and --out are required');
  return a as Args;
}

/** The options a --resume of this dataset needs, read from its info.json. */
function resumeHint(out: string): string {
  try {
    const info = JSON.parse(readFileSync(join(out, 'meta/info.json'), 'utf8')) as { fps: number; features: Record<string, { dtype: string; shape: number[] }> };
    const cam = Object.values(info.features).find((f) => f.dtype === 'video');
    return `--fps ${info.fps}${cam ? ` --size ${cam.shape[1]}x${cam.shape[0]}` : ''}`;
  } catch {
    return 'see meta/info.json';
  }
}

const JOINTS = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'];

export interface RecordSummary {
  out: string;
  attempted: number;
  kept: number;
  discarded: number;
  discardedSeeds: number[];
  frames: number;
  simulatedSeconds: number;
  wallSeconds: number;
  speedVsRealTime: number;
}

export async function recordFromSim(args: Args, log: (s: string) => void = (s) => console.log(s)): Promise<RecordSummary> {
  const svc = new RecordingService({ onProblem: (p) => log(`[${p.severity}] ${p.message}`) });
  const cams = [
    { key: 'front', width: args.width, height: args.height },
    { key: 'wrist', width: args.width, height: args.height },
  ];
  if (existsSync(join(args.out, 'meta/info.json'))) {
    if (!args.resume) throw new Error(`${args.out} already holds a dataset; pass --resume to append to it`);
    // refused (lock released) unless fps, camera sizes and joints are the dataset's: frames of
    // another size would otherwise be written as repeated or black frames
    const s = await svc.openDataset({ root: args.out, expect: { fps: args.fps, cameras: cams, jointNames: JOINTS } }).catch((err: unknown) => {
      const d = (err as { details?: { differences?: string[] } }).details?.differences;
      if (!d) throw err;
      throw new Error(`cannot --resume ${args.out}: ${d.join('; ')}. Pass the dataset's settings (${resumeHint(args.out)}).`);
    });
    if (s.openEpisode) {
      log(`recovering the interrupted episode (${s.openEpisode.frames} frames)`);
      await svc.recover();
    }
  } else {
    const o: Parameters<RecordingService['createDataset']>[0] = { root: args.out, repoId: `local/${args.out.split(/[\\/]/).filter(Boolean).pop() ?? 'sim'}`, fps: args.fps, robotType: 'so101_follower', jointNames: JOINTS, cameras: cams };
    o.codec = args.codec ?? 'av1'; // simulated time: no real-time deadline, so LeRobot's default AV1
    await svc.createDataset(o);
  }
  const started = performance.now();
  const kept: { seed: number; episode: number; frames: number }[] = [];
  const failed: number[] = [];
  let simSeconds = 0;
  try {
    for (let i = 0; i < args.episodes; i++) {
      const seed = args.seed + i;
      let index = -1;
      const ep = await runExpertEpisode(
        { seed, family: args.family, fps: args.fps, width: args.width, height: args.height, maxSeconds: args.maxSeconds, actionNoiseDeg: args.actionNoiseDeg },
        async (t) => {
          if (t.tick === 0) index = (await svc.startEpisode(t.task)).index;
          await svc.whenWritable();
          svc.sink.onStep({
            tick: t.tick,
            timeMs: t.timeMs,
            observation: { timeMs: t.timeMs, state: t.state, images: { ...t.images }, task: t.task },
            action: t.goal,
            source: 'policy', // the scripted expert is a (scripted) policy; no operator intervention
            intervention: false,
            clamped: false,
            watchdog: [],
            reasoning: { ...t.annotation },
          });
        },
      );
      const task = ep.task;
      const tick = ep.ticks;
      simSeconds += tick / args.fps;
      if (ep.success) {
        svc.setOutcome(true);
        const s = await svc.endEpisode();
        kept.push({ seed, episode: s.index, frames: s.length });
        log(`episode ${s.index}: seed ${seed}, "${task}", ${s.length} frames (${(s.length / args.fps).toFixed(1)} s) kept`);
      } else {
        await svc.discardEpisode();
        failed.push(seed);
        log(`seed ${seed}: "${task}" not completed in ${(tick / args.fps).toFixed(1)} s, discarded (episode ${index} will be the next success)`);
      }
    }
  } finally {
    await svc.closeDataset({ save: false });
  }
  const wallS = (performance.now() - started) / 1000;
  const summary: RecordSummary = {
    out: args.out,
    attempted: args.episodes,
    kept: kept.length,
    discarded: failed.length,
    discardedSeeds: failed,
    frames: kept.reduce((a, k) => a + k.frames, 0),
    simulatedSeconds: Number(simSeconds.toFixed(2)),
    wallSeconds: Number(wallS.toFixed(2)),
    speedVsRealTime: Number((simSeconds / wallS).toFixed(2)),
  };
  log(`kept ${kept.length} of ${args.episodes} episodes (only successful episodes are kept)`);
  return summary;
}

const isMain = process.argv[1] !== undefined && /cli\.ts$/.test(process.argv[1]);
if (isMain) {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  recordFromSim(args)
    .then((summary) => {
      console.log(JSON.stringify(summary));
    })
    .catch((err: unknown) => {
      const e = toErrorData(err);
      console.error(`record failed: ${e.message}`);
      console.log(JSON.stringify({ error: e }));
      process.exit(1);
    });
}

export { parseArgs };
