/**
 * One scripted-expert episode in simulated time, the way the recorder runs it: world seeded with
 * `seed`, front and wrist SimCameras at the given size, one expert goal per tick. With
 * `actionNoiseDeg` > 0 (DART-style noise injection) the arm executes the expert's goal plus
 * Gaussian noise on the body joints in bursts (ticks 0–9 of every 30), while `onTick` gets the
 * expert's own goal as the label. Shared by `npm run record` (main/recording/cli.ts) and the
 * training-data generator (models/train/gen_sim.ts), so both see the same episodes.
 */
import type { Frame } from '../cameras/Camera';
import { ScriptedExpert, type ExpertAnnotation } from './expert';
import { mulberry32 } from './rng';
import { SimCamera } from './SimCamera';
import type { TaskFamily } from './tasks';
import { SimWorld } from './world';

export interface ExpertEpisodeOptions {
  seed: number;
  family?: TaskFamily;
  fps: number;
  width: number;
  height: number;
  maxSeconds: number;
  actionNoiseDeg: number;
}

export interface ExpertTick {
  tick: number;
  /** Simulated time of the observation (ms since reset). */
  timeMs: number;
  task: string;
  /** Joint positions observed at this tick (degrees; gripper 0..100). */
  state: number[];
  images: { front: Frame; wrist: Frame };
  /** The expert's goal for this tick: the action label (without the injected noise). */
  goal: number[];
  annotation: ExpertAnnotation;
}

export interface ExpertEpisodeResult {
  task: string;
  family: TaskFamily;
  ticks: number;
  success: boolean;
}

export async function runExpertEpisode(opts: ExpertEpisodeOptions, onTick: (t: ExpertTick) => void | Promise<void>): Promise<ExpertEpisodeResult> {
  const world = new SimWorld(opts.family ? { seed: opts.seed, family: opts.family } : { seed: opts.seed });
  const clock = (): number => world.timeMs;
  const cam = (key: 'front' | 'wrist'): SimCamera => new SimCamera(world, key, { width: opts.width, height: opts.height, fps: opts.fps }, clock);
  const front = cam('front');
  const wrist = cam('wrist');
  await front.connect();
  await wrist.connect();
  const expert = new ScriptedExpert(world, { fps: opts.fps, imageWidth: opts.width, imageHeight: opts.height });
  const task = world.task.instruction;
  const maxTicks = Math.round(opts.maxSeconds * opts.fps);
  const noiseRng = mulberry32(opts.seed ^ 0x5eed);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - noiseRng.next())) * Math.cos(2 * Math.PI * noiseRng.next());
  let noise = [0, 0, 0, 0, 0, 0];
  let tick = 0;
  for (; tick < maxTicks; tick++) {
    const timeMs = world.timeMs;
    const images = { front: front.readLatest()!, wrist: wrist.readLatest()! };
    const state = world.getPositions();
    const act = expert.act();
    if (opts.actionNoiseDeg > 0) {
      // bursts: a new offset for 10 ticks (a third of a second), then 20 ticks without, in which the
      // arm comes back onto the expert's path (the expert waits for the arm to settle at waypoints)
      const phase = tick % 30;
      if (phase === 0) noise = noise.map((_, j) => (j < 5 ? normal() * opts.actionNoiseDeg : 0));
      if (phase === 10) noise = [0, 0, 0, 0, 0, 0];
      world.setGoal(act.goal.map((g, j) => g + noise[j]!));
    } else world.setGoal(act.goal);
    await onTick({ tick, timeMs, task, state, images, goal: act.goal.slice(), annotation: { ...act.annotation } });
    world.step(1000 / opts.fps);
    if (act.done) {
      tick++;
      break;
    }
  }
  return { task, family: world.task.family, ticks: tick, success: world.isSuccess() };
}
