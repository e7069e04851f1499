/**
 * A remote policy through the session's API, as the renderer uses it: listed with kind 'remote'
 * (an invalid manifest with its JSON paths), started while its server is down (the start succeeds,
 * the arm holds, the problem is in the snapshot), run once the server is up and the operator hands
 * back, its round trip / server / network time in the reasoning events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsoleSession } from '../../../main/services/session';
import type { PolicyInfo } from '../../../main/common/contract';
import { ManualClock } from '../../helpers/fakes';
import { startFakeServer } from '../../fakes/openpi-server';
import { freePort, until } from './remoteRig';

const MANIFEST = JSON.parse(readFileSync(new URL('../../../models/bundles/demo-remote/manifest.json', import.meta.url), 'utf8')) as any;

test('a remote policy in the session: listed, started with its server down, held, resumed on hand-back with timing shown', async () => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'reins-bundles-'));
  mkdirSync(join(dir, 'gpu'));
  writeFileSync(join(dir, 'gpu', 'manifest.json'), JSON.stringify({ ...MANIFEST, server: { ...MANIFEST.server, url: `ws://127.0.0.1:${port}`, metadata: { policy: 'hold' } } }));
  mkdirSync(join(dir, 'broken'));
  writeFileSync(join(dir, 'broken', 'manifest.json'), JSON.stringify({ ...MANIFEST, action: { ...MANIFEST.action, joints: ['shoulder_pan', 'knee'] } }));
  const clock = new ManualClock(0);
  const s = new ConsoleSession({ clock, seed: 4, cameraWidth: 64, cameraHeight: 48, bundlesDir: dir });
  await s.robot.connect();
  for (const c of s.cameras) await c.connect();
  const reasoning: { timing?: { roundTripMs?: number; serverMs?: number; networkMs?: number } }[] = [];
  const conn = s.api.connect({ sendEvent: (n, p) => void (n === 'reasoning' && reasoning.push(p as never)), sendFrame: () => {} });
  const tick = async (n = 1) => {
    for (let i = 0; i < n; i++) {
      clock.advance(1000 / 30);
      await s.loop.tick();
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  try {
    const list = await conn.invoke('policy.list', {});
    assert.ok(list.ok);
    const policies = list.value as PolicyInfo[];
    const gpu = policies.find((p) => p.id === 'gpu')!;
    assert.deepEqual([gpu.kind, gpu.valid], ['remote', true]);
    const broken = policies.find((p) => p.id === 'broken')!;
    assert.equal(broken.valid, false);
    assert.ok(broken.problems.some((p: string) => p.startsWith('action.joints[1]: joint "knee" is not a joint of this robot')));
    assert.ok(broken.problems.some((p: string) => p.startsWith('action.delta: has 6 values for 2 action joints')));

    const started = await conn.invoke('policy.start', { policy: 'gpu' });
    assert.ok(started.ok, JSON.stringify(started));
    await tick(5);
    const snap = s.snapshot();
    assert.equal(snap.source, 'policy'); // intended source; it commands nothing:
    assert.ok(snap.problems.some((p) => p.id === 'remote-policy' && /unreachable: cannot reach ws:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/.test(p.message)));
    const held = s.loop.lastGoal!;
    const srv = await startFakeServer(['--policy', 'hold'], port);
    try {
      await until(() => s.snapshot().problems.some((p) => p.id === 'remote-policy' && /Reconnected/.test(p.message)), 8000, 'reconnect');
      await tick(5);
      assert.deepEqual(s.loop.lastGoal, held, 'the arm moved before hand-back');
      assert.equal(reasoning.filter((r) => r.timing?.roundTripMs !== undefined).length, 0);
      conn.command('handback', {});
      await tick(10);
      assert.ok(!s.snapshot().problems.some((p) => p.id === 'remote-policy'));
      const t = reasoning.map((r) => r.timing).filter((x) => x?.roundTripMs !== undefined).at(-1)!;
      assert.ok(t.roundTripMs! > 0 && t.serverMs! >= 0 && t.networkMs! >= 0, JSON.stringify(t));
      assert.ok((await conn.invoke('policy.stop', {})).ok);
    } finally {
      await srv.stop();
    }
  } finally {
    await s.stop();
  }
});
