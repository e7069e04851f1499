/**
 * Recording through the session's API as the renderer drives it: create a dataset, record an
 * episode of the simulated arm (worker-rendered cameras, real time), review it, replay it
 * through the loop, and read the data file back with an independent parquet reader.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsoleSession } from '../../../main/services/session';
import type { DatasetStatus, InvokeResults } from '../../../main/common/contract';
import { readRows } from '../recording/helpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('create → record → review → replay, all through the API', { timeout: 120_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'reins-home-'));
  const s = new ConsoleSession({ seed: 2, cameraWidth: 224, cameraHeight: 224, homeDir: home });
  await s.robot.connect();
  for (const c of s.cameras) await c.connect();
  const conn = s.api.connect({ sendEvent: () => {}, sendFrame: () => {} });
  const call = async <T>(name: string, args: unknown): Promise<T> => {
    const r = await conn.invoke(name, args);
    if (!r.ok) throw new Error(`${name}: ${r.error.code} ${r.error.message}`);
    return r.value as T;
  };
  const ticks = async (n: number) => {
    for (let i = 0; i < n; i++) {
      await s.loop.tick();
      await sleep(33);
    }
  };
  try {
    const parent = mkdtempSync(join(tmpdir(), 'reins-sess-'));
    const root = join(parent, 'lab/sim');
    const opened = await call<DatasetStatus>('dataset.open', { root: parent, repoId: 'lab/sim', fps: 30, task: s.world.task.instruction, create: true });
    assert.equal(opened.episodes, 0);
    await ticks(10); // the cameras deliver their first frames
    await call('policy.start', { policy: 'expert' });
    await call('dataset.startEpisode', {});
    await ticks(45);
    conn.command('jog', { joint: 'wrist_roll', delta: 5 }); // an operator correction mid-episode
    await ticks(15);
    const after = await call<DatasetStatus>('dataset.endEpisode', {});
    assert.equal(after.episodes, 1);
    assert.ok(after.frames >= 55, `frames ${after.frames}`);
    const eps = await call<InvokeResults['dataset.episodes']>('dataset.episodes', {});
    assert.equal(eps.length, 1);
    const ep = await call<InvokeResults['dataset.episode']>('dataset.episode', { index: 0 });
    assert.equal(ep.state.length, eps[0]!.length);
    assert.ok(ep.intervention.some((x) => x) && ep.intervention.some((x) => !x), 'the correction is flagged per frame');
    assert.match(ep.videos.front!.url, /^\/files\/dataset\/videos\/observation\.images\.front\//);
    assert.equal(s.fileRoots().get('dataset')?.allow(decodeURIComponent(ep.videos.front!.url.slice('/files/dataset/'.length))), true, 'the review video is servable');
    const rows = await readRows(join(root, 'data/chunk-000/file-000.parquet'));
    assert.equal(rows.length, eps[0]!.length);
    assert.deepEqual(rows.map((r) => Number(r.frame_index)), rows.map((_, i) => i));

    conn.command('handback', {});
    const rep = await call<{ frames: number }>('dataset.replay', { index: 0 });
    assert.equal(rep.frames, eps[0]!.length);
    await s.loop.tick(); // may hold: the loop was not ticking while we read the episode (the watchdog's tick gap)
    await sleep(33);
    const t = await s.loop.tick();
    assert.equal(t.source, 'policy');
    assert.equal(s.snapshot().policy.id, 'replay:0');
  } finally {
    await s.stop();
  }
});

test('opening a folder that is not a dataset is a clear error', async () => {
  const s = new ConsoleSession({ seed: 2, homeDir: mkdtempSync(join(tmpdir(), 'reins-home-')) });
  const conn = s.api.connect({ sendEvent: () => {}, sendFrame: () => {} });
  const r = await conn.invoke('dataset.open', { root: mkdtempSync(join(tmpdir(), 'reins-empty-')), repoId: 'x', fps: 30, task: 't', create: false });
  assert.ok(!r.ok);
  assert.ok(r.error.message.length > 10);
  await s.stop();
});

test('at start, the console tells the operator about an episode a crash interrupted in the last dataset', async () => {
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const home = mkdtempSync(join(tmpdir(), 'reins-home-'));
  const ds = mkdtempSync(join(tmpdir(), 'reins-ds-'));
  mkdirSync(join(ds, '.reins', 'open-episode'), { recursive: true });
  writeFileSync(join(ds, '.reins', 'open-episode', 'episode.json'), '{}');
  writeFileSync(join(home, 'state.json'), JSON.stringify({ lastDataset: ds }));
  const s = new ConsoleSession({ seed: 2, homeDir: home });
  await s.start();
  try {
    const p = s.snapshot().problems.find((x) => x.id === 'interrupted-episode');
    assert.ok(p, 'no interrupted-episode problem');
    assert.ok(p.message.includes(ds));
    assert.match(p.tip ?? '', /recover/);
  } finally {
    await s.stop();
  }
});
