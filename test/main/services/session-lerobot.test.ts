/**
 * An imported LeRobot ACT (models/bundles/act-sim) in the console session, through the API as the
 * renderer drives it: listed as valid for the simulated SO-101, started, and in control of the arm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsoleSession } from '../../../main/services/session';
import { ManualClock } from '../../helpers/fakes';

test('act-sim (imported LeRobot ACT): listed, started from the API, drives the simulated arm', async () => {
  const clock = new ManualClock(0);
  const s = new ConsoleSession({ clock, seed: 4, cameraWidth: 320, cameraHeight: 240 });
  await s.robot.connect();
  const conn = s.api.connect({ sendEvent: () => {}, sendFrame: () => {} });
  const act = (await s.listPolicies()).find((p) => p.id === 'act-sim');
  assert.ok(act !== undefined && act.valid, JSON.stringify(act));
  const r = await conn.invoke('policy.start', { policy: 'act-sim' });
  assert.ok(r.ok, JSON.stringify(r));
  try {
    const start = [...s.loop.lastGoal ?? []];
    let inControl = false;
    // ticks by hand; the chunk lands from the inference child process in real time
    for (let i = 0; i < 400 && !inControl; i++) {
      clock.advance(1000 / 30);
      await s.loop.tick();
      inControl = s.snapshot().source === 'policy';
      if (!inControl) await new Promise((res) => setTimeout(res, 10));
    }
    assert.ok(inControl, 'the policy took control');
    for (let i = 0; i < 20; i++) {
      clock.advance(1000 / 30);
      await s.loop.tick();
    }
    const goal = s.loop.lastGoal!;
    assert.ok(goal.every((v) => Number.isFinite(v)));
    assert.ok(start.length === 0 || goal.some((v, j) => Math.abs(v - start[j]!) > 1e-6), 'the arm was moved');
  } finally {
    await conn.invoke('policy.stop', {});
  }
});
