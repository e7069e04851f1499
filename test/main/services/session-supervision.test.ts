/**
 * What the session publishes for supervision while the demo VLA runs: the control indicator says
 * POLICY or POLICY · waiting (never HOLD) while its queue is refilled in a healthy run, the queued
 * chunk (ghost) and its tip path are published, and the boxes' grid is the policy's input grid.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsoleSession, EXPERT_BOX_GRID } from '../../../main/services/session';
import { ManualClock } from '../../helpers/fakes';
import type { ReasoningEvent, Telemetry } from '../../../main/common/contract';

async function rig() {
  const clock = new ManualClock(0);
  const s = new ConsoleSession({ clock, seed: 4, cameraWidth: 320, cameraHeight: 240 });
  // a failed assertion must not leave the inference process (and the test run) alive
  after(() => s.stop());
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
  /**
   * Ticks as on a machine where a policy step takes `inferTicks` ticks: the manual clock stands
   * still while an inference runs longer than that (how long it really takes here depends on the
   * load of the machine running the tests, which must not decide the outcome).
   */
  const inflight = (): boolean => (s as unknown as { vla?: { plan(): { inflight: boolean } } }).vla?.plan().inflight ?? false;
  let inflightTicks = 0;
  const policyTick = async (inferTicks = 3) => {
    await tick(1, 5);
    inflightTicks = inflight() ? inflightTicks + 1 : 0;
    if (inflightTicks >= inferTicks) {
      for (let k = 0; k < 3000 && inflight(); k++) await new Promise((r) => setTimeout(r, 5));
      inflightTicks = 0;
    }
  };
  return { s, conn, tick, policyTick, telemetry, reasoning };
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
});

test('the demo VLA: POLICY or POLICY · waiting while its queue refills (never HOLD), with its ghost and tip path', { timeout: 120_000 }, async () => {
  const { s, conn, tick, policyTick, telemetry, reasoning } = await rig();
  const r = await conn.invoke('policy.start', { policy: 'demo' });
  assert.ok(r.ok, JSON.stringify(r));
  // tick in (nearly) real time, as the loop does, so inference lands between ticks, until three
  // chunks have landed (a loaded machine takes longer; the count, not the time, is what matters)
  for (let i = 0; i < 2000 && reasoning.filter((e) => e.timing !== undefined).length < 3; i++) await policyTick();
  for (let i = 0; i < 3; i++) await policyTick();
  const modes = new Set(telemetry.map((t) => t.control!.mode));
  const holds = telemetry.filter((t) => t.control!.mode === 'hold').map((t) => t.control!.reason);
  assert.deepEqual(holds, [], `held while the policy ran: ${holds.join(' | ')}`);
  assert.ok(modes.has('waiting') && modes.has('policy'), [...modes].join(','));
  // The newest chunk is published once it lands, with its overtaken steps (negative offsets) and
  // what is still queued. (How many ticks find actions queued depends on how late chunks land: on a
  // loaded machine most of a chunk is overtaken.)
  const withChunk = telemetry.filter((t) => t.plan?.chunk !== undefined);
  assert.ok(withChunk.length >= 1, 'no chunk published');
  for (const t of withChunk) {
    const p = t.plan!;
    assert.equal(p.chunk!.goals.length, 8);
    assert.equal(p.chunk!.goals[0]!.length, 6);
    assert.equal(p.role, 'acting');
    assert.equal(p.tipPath!.points.length, p.queued.length);
    assert.equal(p.tipPath!.chunk!.length, 8);
    // what is queued never reaches past the newest chunk's end
    assert.ok(p.queued.length <= Math.max(0, p.chunk!.offset + 8), `${p.queued.length} queued, chunk offset ${p.chunk!.offset}`);
    assert.equal(p.merged.length, p.queued.length);
  }
  const timed = reasoning.find((e) => e.timing !== undefined)!;
  assert.deepEqual(timed.grid, { camera: 'front', width: 32, height: 32, resize: 'center_crop' });
  assert.ok(timed.timing!.tokens! > 0 && timed.timing!.settings !== undefined);
  // shadow: the operator drives, the policy keeps planning and its disagreement is published
  conn.command('jog', { joint: 'elbow_flex', delta: 5 });
  const n0 = telemetry.length;
  for (let i = 0; i < 2000 && !telemetry.slice(n0).some((t) => t.plan?.disagreement !== undefined); i++) await policyTick();
  for (let i = 0; i < 10; i++) await policyTick();
  const shadow = telemetry.slice(n0).filter((t) => t.plan?.role === 'shadow');
  assert.ok(shadow.length > 5, `shadow ticks: ${shadow.length}`);
  assert.ok(shadow.some((t) => t.plan!.disagreement !== undefined && t.plan!.disagreement.length === 6));
  assert.ok(shadow.every((t) => t.control!.mode === 'operator'));
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
});

test('a policy start can be cancelled while it loads: the arm is not handed to it', { timeout: 60_000 }, async () => {
  const { s, conn } = await rig();
  const start = conn.invoke('policy.start', { policy: 'demo' });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(s.snapshot().policy.loading?.id, 'demo');
  assert.deepEqual(await conn.invoke('policy.cancelLoad', {}), { ok: true, value: { cancelled: true } });
  const r = await start;
  assert.ok(!r.ok && r.error.code === 'cancelled', JSON.stringify(r));
  assert.equal(s.snapshot().policy.running, false);
  assert.equal(s.snapshot().policy.loading, undefined);
  assert.deepEqual(await conn.invoke('policy.cancelLoad', {}), { ok: true, value: { cancelled: false } });
});

test('the session names its instance: a restarted host has another', async () => {
  const a = (await rig()).s;
  const b = (await rig()).s;
  assert.notEqual(a.snapshot().instance, b.snapshot().instance);
  assert.equal(a.snapshot().instance, a.snapshot().instance);
});
