/** Held-out simulator episodes driven by a policy, shared by bench/policy.ts and bench/step-profile.ts. */
import { SimCamera, SimWorld, type TaskFamily } from '../drivers/sim';
import type { PolicyObservation, RgbFrame } from '../models/policies/preprocess';
import type { DecodeSettings, InferResult, Policy } from '../models/policies/types';

/**
 * Held-out episodes (seeds seed0 + i, cameras 320×240) driven by `policy`: each chunk applied from
 * the next tick, refill when half the queue is left, at most 300 ticks of 1/30 s or until success.
 * `onStep` sees every observation the policy decoded, its result and the wall time of `infer` in ms.
 */
export async function simRollout(
  policy: Policy,
  seeds: number,
  settings: DecodeSettings,
  onStep: (obs: PolicyObservation, r: InferResult, seed: number, inferMs: number) => Promise<void> | void,
  seed0 = 1_000_000,
  families: readonly TaskFamily[] = ['pick_place'],
): Promise<void> {
  const H = policy.manifest.action.chunk;
  for (let s = 0; s < seeds; s++) {
    const world = new SimWorld({ seed: seed0 + s, family: families[s % families.length]! });
    const cams = policy.manifest.inputs.cameras.map((c) => new SimCamera(world, c.key as 'front' | 'wrist', { width: 320, height: 240, fps: 30 }, () => world.timeMs));
    for (const c of cams) await c.connect();
    policy.reset();
    let queue: number[][] = [];
    for (let t = 0; t < 300 && !world.isSuccess(); t++) {
      if (queue.length <= Math.floor(H / 2)) {
        const images: Record<string, RgbFrame> = {};
        for (const c of cams) {
          const f = c.readLatest()!;
          images[c.key] = { data: new Uint8Array(f.data), width: f.width, height: f.height };
        }
        const obs: PolicyObservation = { state: world.getPositions(), images, instruction: world.task.instruction };
        const t0 = performance.now();
        const r = await policy.infer(obs, settings);
        await onStep(obs, r, s, performance.now() - t0);
        if (r.valid) queue = r.chunk.slice();
      }
      const a = queue.shift();
      if (a !== undefined) world.setGoal(a);
      world.step(1000 / 30);
    }
    for (const c of cams) await c.disconnect();
  }
}
