/**
 * What the session publishes for supervision while the demo VLA runs: the control indicator says
 * POLICY or POLICY · waiting (never HOLD) while its queue is refilled in a healthy run, the queued
 * chunk (ghost) and its tip path are published, and the boxes' grid is the policy's input grid.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsoleSession, EXPERT_BOX_GRID } from '../../../main/services/session';
import { ManualClock } from '../../helpers/fakes';
import type { ReasoningEvent, Telemetry } from '../../../main/common/contract';

async function rig() {
  const clock = new ManualClock(0);
  const s = new ConsoleSession({ clock, seed: 4, cameraWidth: 320, cameraHeight: 240 });
  await s.robot.connect();
  for (const c of s.cameras) await c.connect();
  const telemetry: Telemetry[] = [];
  const reasoning: ReasoningEvent[] = [];
  const conn = s.api.connect({
    sendEvent: (n, p) => {
      if (n === 'telemetry') telemetry.push(p as Telemetry);
      if (n === 'reasoning') reasoning.push(p as ReasoningEvent);
    },
    sendFrame: () => {},
  });
  const tick = async (n = 1, realMs = 0) => {
    for (let i = 0; i < n; i++) {
      clock.advance(1000 / 30);
      await s.loop.tick();
      if (realMs > 0) await new Promise((r) => setTimeout(r, realMs));
    }
  };
  return { s, conn, tick, telemetry, reasoning };
}

test('idle: the indicator says HOLD with the reason; the expert: POLICY with boxes in its 224×224 grid', async () => {
  const { s, conn, tick, telemetry, reasoning } = await rig();
  await tick(3);
  assert.deepEqual(telemetry.at(-1)!.control, { mode: 'hold', reason: 'no policy running' });
  assert.ok((await conn.invoke('policy.start', { policy: 'expert' })).ok);
  await tick(5);
  assert.equal(telemetry.at(-1)!.control!.mode, 'policy');
  assert.deepEqual(reasoning.at(-1)!.grid, EXPERT_BOX_GRID);
  conn.command('estop', { engaged: true });
  await tick(2);
  assert.deepEqual(telemetry.at(-1)!.control, { mode: 'estop', reason: 'e-stop engaged' });
  conn.command('estop', { engaged: false });
  await s.stop();
});

test('the demo VLA: POLICY or POLICY · waiting while its queue refills (never HOLD), with its ghost and tip path', { timeout: 120_000 }, async () => {
  const { s, conn, tick, telemetry, reasoning } = await rig();
  const r = await conn.invoke('policy.start', { policy: 'demo' });
  assert.ok(r.ok, JSON.stringify(r));
  // tick in (nearly) real time, as the loop does, so inference lands between ticks
  await tick(150, 25);
  const modes = new Set(telemetry.map((t) => t.control!.mode));
  const holds = telemetry.filter((t) => t.control!.mode === 'hold').map((t) => t.control!.reason);
  assert.deepEqual(holds, [], `held while the policy ran: ${holds.join(' | ')}`);
  assert.ok(modes.has('waiting') && modes.has('policy'), [...modes].join(','));
  const withPlan = telemetry.filter((t) => t.plan !== undefined && t.plan.queued.length > 0);
  assert.ok(withPlan.length > 10, `only ${withPlan.length} ticks with a queued chunk`);
  const p = withPlan.at(-1)!.plan!;
  assert.equal(p.queued[0]!.length, 6);
  assert.equal(p.role, 'acting');
  assert.equal(p.tipPath!.points.length, p.queued.length);
  assert.ok(p.chunk !== undefined && p.chunk.goals.length === 8);
  const timed = reasoning.find((e) => e.timing !== undefined)!;
  assert.deepEqual(timed.grid, { camera: 'front', width: 32, height: 32, resize: 'center_crop' });
  assert.ok(timed.timing!.tokens! > 0 && timed.timing!.settings !== undefined);
  // shadow: the operator drives, the policy keeps planning and its disagreement is published
  conn.command('jog', { joint: 'elbow_flex', delta: 5 });
  const n0 = telemetry.length;
  await tick(60, 25);
  const shadow = telemetry.slice(n0).filter((t) => t.plan?.role === 'shadow');
  assert.ok(shadow.length > 20, `shadow ticks: ${shadow.length}`);
  assert.ok(shadow.some((t) => t.plan!.disagreement !== undefined && t.plan!.disagreement.length === 6));
  assert.ok(shadow.every((t) => t.control!.mode === 'operator'));
  await s.stop();
});

test('Reset with the start-up seed and the family shown gives the start-up scene again', async () => {
  const { s, conn } = await rig();
  const blocks = (): string => JSON.stringify(s.world.blocks.map((b) => [b.name, b.pos]));
  const start = blocks();
  const family = s.world.task.family;
  assert.ok((await conn.invoke('sim.reset', { seed: 11 })).ok);
  assert.notEqual(blocks(), start);
  // as the renderer sends it: the seed typed and the family in the menu
  assert.ok((await conn.invoke('sim.reset', { seed: 4, family: family as 'pick_place' | 'push' | 'stack' })).ok);
  assert.equal(blocks(), start);
  await s.stop();
});
