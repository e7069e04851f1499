/**
 * The control loop on the simulated SO-101 under a manual clock, driven by a RemoteRunner whose
 * server is a real process (test/fakes/openpi-server): each tick waits for a request in flight to
 * settle, so a chunk lands one tick after its observation (the latency is the bench's business).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { SimCamera, SimRobot, SimWorld, SO101_JOINTS, type TaskFamily } from '../../../drivers/sim';
import { ControlLoop, type TickReport } from '../../../main/control/loop';
import { RemoteRunner, type RemoteRunnerOptions } from '../../../main/services/remote';
import { RemoteManifestSchema, type RemoteManifest } from '../../../models/remote/manifest';
import { RemotePolicy } from '../../../models/remote/RemotePolicy';
import { ManualClock } from '../../helpers/fakes';

export const RATE = 30;
export const DT = 1000 / RATE;

export function demoRemoteManifest(url: string, patch: (m: RemoteManifest) => void = () => undefined): RemoteManifest {
  const json = JSON.parse(readFileSync(new URL('../../../models/bundles/demo-remote/manifest.json', import.meta.url), 'utf8')) as { server: { url: string } };
  json.server.url = url;
  const m = RemoteManifestSchema.parse(json);
  patch(m);
  return m;
}

export interface Rig {
  clock: ManualClock;
  world: SimWorld;
  robot: SimRobot;
  loop: ControlLoop;
  runner: RemoteRunner;
  policy: RemotePolicy;
  /** One tick; then waits (real time) until no request is in flight. */
  step(): Promise<TickReport>;
}

export async function makeRig(m: RemoteManifest, opts: { seed: number; family: TaskFamily; runner?: Partial<RemoteRunnerOptions>; env?: Record<string, string> }): Promise<Rig> {
  const clock = new ManualClock(0);
  const world = new SimWorld({ seed: opts.seed, family: opts.family });
  const robot = new SimRobot(world, () => clock.nowMs());
  const cameras = (['front', 'wrist'] as const).map((k) => new SimCamera(world, k, { width: 32, height: 32, fps: RATE }, () => clock.nowMs()));
  const loop = new ControlLoop({ robot, cameras, clock, rateHz: RATE, task: world.task.instruction });
  await robot.connect();
  for (const c of cameras) await c.connect();
  const joints = [...SO101_JOINTS];
  const limits = Object.fromEntries(robot.joints.map((j) => [j.name, { min: j.min, max: j.max }]));
  const policy = new RemotePolicy(m, { robotJoints: joints, limits, ...(opts.env ? { env: opts.env } : {}) });
  const runner = new RemoteRunner(policy, { robotJoints: joints, limits, rateHz: RATE, backoffMs: { first: 100, max: 400 }, ...opts.runner });
  loop.setPolicy(runner);
  return {
    clock,
    world,
    robot,
    loop,
    runner,
    policy,
    step: async () => {
      clock.advance(DT);
      const r = await loop.tick();
      while (runner.busy) await new Promise((res) => setTimeout(res, 1));
      return r;
    },
  };
}

export async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for a server started later). */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}
