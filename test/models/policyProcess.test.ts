/**
 * The inference child process and the VLA runner on the fixture: inference off the caller's
 * thread, a bad bundle rejected with every problem, a crash surfacing as a typed event, the
 * runner's non-blocking step, joint mapping, reset and live settings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyCrashedError, PolicyLoadError, PolicyProcess } from '../../models/runtime/PolicyProcess';
import { createVlaRunner, type VlaReasoningEvent, type VlaStepTiming } from '../../main/services/vla/index';
import type { Observation } from '../../main/control/types';
import { rng } from './fakeLM';
import { randomObservation } from './observations';

const FIXTURE = 'models/bundles/fixture';
const JOINTS = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'];
const SETTINGS = { speculative: true, relaxedR: 0, planCache: true, reasoning: true };

test('child process: infers, keeps the event loop free while it runs, disposes', async () => {
  const proc = await PolicyProcess.start(FIXTURE, { robotJoints: JOINTS });
  try {
    assert.equal(proc.manifest.name, 'fixture');
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const fields: Record<string, string>[] = [];
    const r = await proc.infer(randomObservation(rng(1)), SETTINGS, (f) => fields.push(f));
    clearInterval(timer);
    assert.ok(r.valid);
    assert.equal(r.chunk.length, 8);
    assert.ok(fields.length > 1, 'reasoning fields stream while decoding');
    // the parent's event loop kept turning during inference (it ran in the child)
    assert.ok(ticks > 0);
    // calls queue: two at once both complete, in order
    const [a, b] = await Promise.all([proc.infer(randomObservation(rng(2)), SETTINGS), proc.infer(randomObservation(rng(3)), SETTINGS)]);
    assert.ok(a.valid && b.valid);
  } finally {
    await proc.dispose();
  }
  assert.equal(proc.alive, false);
});

test('child process: a bad bundle is rejected with every problem listed', async () => {
  await assert.rejects(PolicyProcess.start(FIXTURE, { robotJoints: ['a', 'b'] }), (e: unknown) => {
    assert.ok(e instanceof PolicyLoadError);
    assert.ok(e.problems.length >= 12, `${e.problems.length} problems`); // 6 action + 6 state joints
    assert.ok(e.problems.some((p) => p.path === 'inputs.state.joints[0]'));
    return true;
  });
});

test('child process: a crash rejects pending work and emits a typed event', async () => {
  const proc = await PolicyProcess.start(FIXTURE);
  const crashed = new Promise<PolicyCrashedError>((resolve) => proc.once('crashed', resolve));
  const pending = (async () => {
    for (;;) await proc.infer(randomObservation(rng(4)), SETTINGS);
  })();
  setTimeout(() => process.kill(proc.pid!, 'SIGKILL'), 50); // the child we started, by its pid
  await assert.rejects(pending, (e: unknown) => e instanceof PolicyCrashedError && e.signal === 'SIGKILL');
  const ev = await crashed;
  assert.equal(ev.code, 'POLICY_CRASHED');
  await assert.rejects(proc.infer(randomObservation(rng(5)), SETTINGS), PolicyCrashedError);
});

function obsFor(robotJoints: string[], t: number): Observation {
  const o = randomObservation(rng(7));
  // robot order differs from the bundle's and has an extra joint the policy does not drive
  const state = robotJoints.map((j) => (j === 'extra' ? 42 : o.state[JOINTS.indexOf(j)]!));
  return { timeMs: t, state, images: { front: { ...o.images.front!, captureTimeMs: t, seq: t } }, task: o.instruction };
}

test('VLA runner: non-blocking steps, chunk lands, joints mapped, reasoning and timing events, reset', async () => {
  const robot = ['gripper', 'extra', ...JOINTS.slice(0, 5)];
  const runner = await createVlaRunner(FIXTURE, robot, { settings: { ensemble: 'temporal' } });
  try {
    const reasoning: VlaReasoningEvent[] = [];
    const timing: VlaStepTiming[] = [];
    runner.on('reasoning', (e) => reasoning.push(e));
    runner.on('timing', (e) => timing.push(e));
    const t0 = performance.now();
    assert.equal(runner.step(obsFor(robot, 0)), undefined); // nothing queued yet: the loop holds
    assert.ok(performance.now() - t0 < 50, 'step must not wait for inference');
    // tick 1 comes after the chunk landed (this machine may be slower than the chunk's 8 ticks)
    await new Promise<void>((resolve) => runner.once('timing', () => resolve()));
    assert.equal(runner.step(obsFor(robot, 1)) !== undefined, true);
    const out = runner.step(obsFor(robot, 2));
    assert.ok(out !== undefined, 'a chunk landed');
    assert.equal(out.goal.length, robot.length);
    assert.equal(out.goal[1], 42); // the joint the policy does not drive keeps its state
    assert.ok(out.reasoning?.task !== undefined);
    assert.ok(reasoning.some((e) => !e.final) && reasoning.some((e) => e.final));
    assert.equal(timing.length >= 1, true);
    const tm = timing[0]!;
    for (const k of ['prefillMs', 'reasoningMs', 'actionsMs', 'acceptedTokens'] as const) assert.equal(typeof tm[k], 'number');
    assert.equal(typeof tm.cacheHit, 'boolean');
    runner.setSettings({ relaxedR: 4, ensemble: 'blend', reasoning: false });
    assert.equal(runner.settings.relaxedR, 4);
    runner.reset();
    assert.equal(runner.step(obsFor(robot, 1000)), undefined); // flushed
  } finally {
    await runner.stop();
  }
});

test('VLA runner: a bundle whose joints the robot lacks fails to start with the problems', async () => {
  await assert.rejects(createVlaRunner(FIXTURE, ['j1', 'j2']), PolicyLoadError);
});
