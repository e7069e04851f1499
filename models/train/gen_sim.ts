/**
 * Training-data generator: runs the simulator's scripted expert exactly as `npm run record` does
 * (drivers/sim/expertEpisode.ts: same worlds, seeds, cameras, noise bursts and ECoT annotations) but
 * writes the frames raw instead of into a LeRobot dataset, for making many more layouts on a
 * machine without ffmpeg (the GPU machine's 16 cores). The frames are the renderer's own bytes —
 * what the policy sees in the simulator — where the recorded dataset's pass through lossless
 * H.264 4:4:4 moves them by RGB↔YUV rounding (≤ 3 levels).
 *
 *   npx tsx models/train/gen_sim.ts --first-seed S --episodes N --out PREFIX [--size 32] [--action-noise 1.5] [--max-seconds 30]
 *
 * Writes PREFIX.frames (uint8; per kept frame the front then the wrist image, H×W×3 each) and
 * PREFIX.jsonl (one line per kept episode: seed, task, family, frames, state[], action[] and the
 * annotation fields, one value per frame). Only successful episodes are kept, as in the recorder.
 * train_demo.py `train --extra PREFIX...` reads them. The last line printed is a JSON summary.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { runExpertEpisode } from '../../drivers/sim/expertEpisode';

function parse(argv: string[]): { firstSeed: number; episodes: number; out: string; size: number; noise: number; maxSeconds: number } {
  const get = (k: string, def?: string): string => {
    const i = argv.indexOf(`--${k}`);
    const v = i >= 0 ? argv[i + 1] : def;
    if (v === undefined) throw new Error(`--${k} is required`);
    return v;
  };
  const num = (k: string, def?: string): number => {
    const n = Number(get(k, def));
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${k} must be a non-negative number`);
    return n;
  };
  return { firstSeed: num('first-seed'), episodes: num('episodes'), out: get('out'), size: num('size', '32'), noise: num('action-noise', '1.5'), maxSeconds: num('max-seconds', '30') };
}

const a = parse(process.argv.slice(2));
const frames = openSync(`${a.out}.frames`, 'w');
const meta = openSync(`${a.out}.jsonl`, 'w');
const t0 = performance.now();
let kept = 0;
let nFrames = 0;
const failed: number[] = [];
try {
  for (let i = 0; i < a.episodes; i++) {
    const seed = a.firstSeed + i;
    const imgs: Uint8Array[] = [];
    const state: number[][] = [];
    const action: number[][] = [];
    const ann: Record<string, string[]> = { task: [], plan: [], visible_objects: [], subtask: [], move: [], gripper: [] };
    const ep = await runExpertEpisode({ seed, fps: 30, width: a.size, height: a.size, maxSeconds: a.maxSeconds, actionNoiseDeg: a.noise }, (t) => {
      imgs.push(t.images.front.data.slice(), t.images.wrist.data.slice());
      state.push(t.state);
      action.push(t.goal);
      const n = t.annotation;
      ann.task!.push(n.task);
      ann.plan!.push(n.plan);
      ann.visible_objects!.push(n.visibleObjects);
      ann.subtask!.push(n.subtask);
      ann.move!.push(n.move);
      ann.gripper!.push(n.gripper);
    });
    if (!ep.success) {
      failed.push(seed);
      continue;
    }
    for (const im of imgs) writeSync(frames, im);
    writeSync(meta, `${JSON.stringify({ seed, task: ep.task, family: ep.family, frames: state.length, state, action, ann })}\n`);
    kept++;
    nFrames += state.length;
  }
} finally {
  closeSync(frames);
  closeSync(meta);
}
console.log(JSON.stringify({ out: a.out, attempted: a.episodes, kept, failed, frames: nFrames, wallS: Number(((performance.now() - t0) / 1000).toFixed(1)) }));
