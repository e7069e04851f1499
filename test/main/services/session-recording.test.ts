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

/** A simulated session with its robot and cameras connected, an API connection, and helpers: `call` throws on an error result; `ticks` runs the loop in real time (33 ms apart), `each` before every tick. */
async function simSession(opts: ConstructorParameters<typeof ConsoleSession>[0]) {
  const s = new ConsoleSession(opts);
  await s.robot.connect();
  for (const c of s.cameras) await c.connect();
  const conn = s.api.connect({ sendEvent: () => {}, sendFrame: () => {} });
  const call = async <T>(name: string, args: unknown): Promise<T> => {
    const r = await conn.invoke(name, args);
    if (!r.ok) throw new Error(`${name}: ${r.error.code} ${r.error.message}`);
    return r.value as T;
  };
  const ticks = async (n: number, each?: () => void) => {
    for (let i = 0; i < n; i++) {
      each?.();
      await s.loop.tick();
      await sleep(33);
    }
  };
  return { s, conn, call, ticks };
}

test('create → record → review → replay, all through the API', { timeout: 120_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'reins-home-'));
  const { s, conn, call, ticks } = await simSession({ seed: 2, cameraWidth: 224, cameraHeight: 224, homeDir: home });
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

test('the console reopens its own dataset: open → append → recover, all through the API', { timeout: 180_000 }, async () => {
  const { cpSync, rmSync, existsSync } = await import('node:fs');
  const { verifyDataset } = await import('../recording/helpers');
  const home = mkdtempSync(join(tmpdir(), 'reins-home-'));
  const parent = process.env.REINS_KEEP_CONSOLE_DATASET ?? mkdtempSync(join(tmpdir(), 'reins-sess-'));
  const root = join(parent, 'lab/takeovers');
  const session = () => simSession({ seed: 3, cameraWidth: 64, cameraHeight: 64, homeDir: home });
  const task = 'put the red block in the bowl';
  // 1. create and record one episode with an operator takeover
  let c = await session();
  try {
    await c.call('dataset.open', { root: parent, repoId: 'lab/takeovers', fps: 30, task, create: true });
    await c.ticks(10);
    await c.call('policy.start', { policy: 'expert' });
    const started = await c.call<DatasetStatus>('dataset.startEpisode', {});
    assert.equal(started.openEpisode, undefined, 'the episode being recorded is not reported as interrupted');
    await c.ticks(20);
    c.conn.command('jog', { joint: 'wrist_roll', delta: 5 });
    await c.ticks(10);
    c.conn.command('handback', {});
    await c.ticks(10);
    await c.call('dataset.endEpisode', {});
    await c.call('dataset.close', {});
  } finally {
    await c.s.stop();
  }
  // 2. a new session reopens it (joints compared as written: shoulder_pan.pos), appends, and is
  //    killed mid-episode (the staging folder as a kill leaves it)
  c = await session();
  const saved = join(parent, 'staged-copy');
  try {
    const opened = await c.call<DatasetStatus>('dataset.open', { root: parent, repoId: 'lab/takeovers', fps: 30, task, create: false });
    assert.equal(opened.episodes, 1);
    await c.ticks(5);
    await c.call('policy.start', { policy: 'expert' });
    await c.call('dataset.startEpisode', {});
    await c.ticks(30);
    await c.call('dataset.endEpisode', {}); // appended
    await c.call('dataset.startEpisode', {});
    await c.ticks(15);
    c.conn.command('jog', { joint: 'elbow_flex', delta: -4 });
    await c.ticks(10);
    c.conn.command('handback', {});
    await c.ticks(20);
    // what a kill leaves: the staging folder of an episode that was never ended
    cpSync(join(root, '.reins/open-episode'), saved, { recursive: true });
    await c.call('dataset.discardEpisode', {});
    await c.call('dataset.close', {});
  } finally {
    await c.s.stop();
  }
  cpSync(saved, join(root, '.reins/open-episode'), { recursive: true });
  rmSync(saved, { recursive: true });
  // 3. reopen: the interrupted episode is offered and recovered through the API
  c = await session();
  try {
    const opened = await c.call<DatasetStatus>('dataset.open', { root: parent, repoId: 'lab/takeovers', fps: 30, task, create: false });
    assert.equal(opened.episodes, 2, 'one recorded, one appended');
    assert.ok(opened.openEpisode && opened.openEpisode.frames > 0, 'the interrupted episode is offered');
    // and stays offered in the status the telemetry emits 4 times a second
    assert.deepEqual(c.s.datasetStatus().openEpisode, opened.openEpisode);
    const rec = await c.call<DatasetStatus>('dataset.recover', { action: 'recover' });
    assert.equal(rec.episodes, 3);
    assert.equal(rec.openEpisode, undefined);
    const eps = await c.call<InvokeResults['dataset.episodes']>('dataset.episodes', {});
    assert.deepEqual(eps.map((e) => e.task), [task, task, task]);
    assert.ok(eps[0]!.takeovers >= 1 && eps[2]!.takeovers >= 1, `takeovers ${eps.map((e) => e.takeovers)}`);
    assert.ok(eps[2]!.interventionFrames > 0);
    // the sim's outcome is kept for ended episodes; a recovered one's is unknown
    assert.deepEqual(eps.map((e) => typeof e.success), ['boolean', 'boolean', 'object']);
    assert.ok(eps.every((e) => Array.isArray(e.warnings) && e.achievedFps !== null && e.driftS !== null));
    await c.call('dataset.close', {});
  } finally {
    await c.s.stop();
  }
  assert.ok(!existsSync(join(root, '.reins/open-episode')));
  const v = await verifyDataset(root);
  assert.equal(v.info.total_episodes, 3);
  assert.deepEqual(v.tasks, [task]);
});

test('reopening a dataset with other cameras or another rate is refused, naming the difference', async () => {
  const home = mkdtempSync(join(tmpdir(), 'reins-home-'));
  const parent = mkdtempSync(join(tmpdir(), 'reins-sess-'));
  const a = new ConsoleSession({ seed: 2, cameraWidth: 64, cameraHeight: 64, homeDir: home });
  const ca = a.api.connect({ sendEvent: () => {}, sendFrame: () => {} });
  assert.ok((await ca.invoke('dataset.open', { root: parent, repoId: 'x/y', fps: 30, task: 't', create: true })).ok);
  await ca.invoke('dataset.close', {});
  await a.stop();
  const b = new ConsoleSession({ seed: 2, cameraWidth: 96, cameraHeight: 64, homeDir: home });
  const cb = b.api.connect({ sendEvent: () => {}, sendFrame: () => {} });
  const r = await cb.invoke('dataset.open', { root: parent, repoId: 'x/y', fps: 30, task: 't', create: false });
  assert.ok(!r.ok);
  assert.match(r.error.message, /camera "front": the dataset records 64x64, the camera gives 96x64/);
  await b.stop();
});

test('without a root folder, datasets go to <REINS_HOME>/datasets, which the snapshot names', async () => {
  const { existsSync } = await import('node:fs');
  const home = mkdtempSync(join(tmpdir(), 'reins-home-'));
  const s = new ConsoleSession({ seed: 2, cameraWidth: 64, cameraHeight: 64, homeDir: home });
  const conn = s.api.connect({ sendEvent: () => {}, sendFrame: () => {} });
  try {
    assert.equal(s.snapshot().datasetsRoot, join(home, 'datasets'));
    const r = await conn.invoke('dataset.open', { repoId: 'lab/default', fps: 30, task: 't', create: true });
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal((r.value as DatasetStatus).root, join(home, 'datasets', 'lab/default'));
    assert.ok(existsSync(join(home, 'datasets/lab/default/meta/info.json')));
    await conn.invoke('dataset.close', {});
  } finally {
    await s.stop();
  }
});

test('shadow mode: while the operator drives, the policy goal and its disagreement are recorded per frame (read back with pyarrow)', { timeout: 120_000 }, async () => {
  const { verifyDataset } = await import('../recording/helpers');
  const home = mkdtempSync(join(tmpdir(), 'reins-home-'));
  const { s, conn, call, ticks } = await simSession({ seed: 5, cameraWidth: 64, cameraHeight: 64, homeDir: home });
  try {
    const parent = mkdtempSync(join(tmpdir(), 'reins-sess-'));
    const root = join(parent, 'lab/shadow');
    await call('dataset.open', { root: parent, repoId: 'lab/shadow', fps: 30, task: s.world.task.instruction, create: true });
    await ticks(5);
    await call('policy.start', { policy: 'expert' }); // the scripted expert keeps planning while the operator drives
    await call('dataset.startEpisode', {});
    await ticks(15);
    // the operator takes over and drives the elbow away from where the expert wants it
    await ticks(15, () => conn.command('jog', { joint: 'elbow_flex', delta: 2 }));
    conn.command('handback', {});
    await ticks(10);
    await call('dataset.endEpisode', {});
    const info = JSON.parse((await import('node:fs')).readFileSync(join(root, 'meta/info.json'), 'utf8'));
    const names = s.robot.joints.map((j) => `${j.name}.pos`);
    assert.deepEqual(info.features.shadow_goal, { dtype: 'float32', shape: [6], names });
    assert.deepEqual(info.features.shadow_disagreement, { dtype: 'float32', shape: [6], names });
    assert.deepEqual(info.features.shadow_valid, { dtype: 'bool', shape: [1], names: null });
    // pyarrow + pandas (pyread.py): schema as declared, shadow_valid where shadow_goal has values,
    // disagreement = goal - action, stats over the valid frames
    await verifyDataset(root);
    const rows = await readRows(join(root, 'data/chunk-000/file-000.parquet'));
    const iv = rows.filter((r) => r.intervention === true);
    assert.ok(iv.length >= 10, `operator frames: ${iv.length}`);
    // every operator frame has the expert's goal (the expert answers every tick), and no policy frame has one
    for (const r of rows) assert.equal(r.shadow_valid, r.intervention === true, `frame ${String(r.frame_index)}`);
    for (const r of rows.filter((x) => x.intervention !== true)) assert.ok((r.shadow_goal as number[]).every(Number.isNaN));
    const dis = iv.map((r) => r.shadow_disagreement as number[]);
    for (const [k, r] of iv.entries()) {
      const g = r.shadow_goal as number[];
      const a = r.action as number[];
      g.forEach((v, j) => assert.ok(Math.abs(v - a[j]! - dis[k]![j]!) < 1e-3));
    }
    // the operator pushed the elbow on (2° a tick): by the end of the takeover the expert disagrees on it
    const elbow = names.indexOf('elbow_flex.pos');
    assert.ok(Math.abs(dis.at(-1)![elbow]!) > 1, `elbow disagreement at the end of the takeover: ${dis.at(-1)![elbow]}`);
    const stats = JSON.parse((await import('node:fs')).readFileSync(join(root, 'meta/stats.json'), 'utf8'));
    assert.deepEqual(stats.shadow_goal.count, [iv.length]);
    assert.ok((stats.shadow_goal.mean as number[]).every(Number.isFinite));
  } finally {
    await s.stop();
  }
});

test('replay restores the recorded scene: the episode keeps its seed and task family, and replay resets the world to it before the approach', { timeout: 120_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'reins-home-'));
  const { s, conn, call, ticks } = await simSession({ seed: 6, family: 'push', cameraWidth: 64, cameraHeight: 64, homeDir: home });
  try {
    const parent = mkdtempSync(join(tmpdir(), 'reins-sess-'));
    const recorded = { seed: s.snapshot().sim!.seed, family: s.world.task.family, instruction: s.world.task.instruction };
    const layout = JSON.stringify(s.world.blocks.map((b) => b.pos));
    await call('dataset.open', { root: parent, repoId: 'lab/scene', fps: 30, task: recorded.instruction, create: true });
    await ticks(5);
    await call('dataset.startEpisode', {});
    await ticks(3);
    conn.command('jog', { joint: 'shoulder_pan', delta: 10 });
    await ticks(10);
    await call('dataset.endEpisode', {});
    await call('dataset.close', {});
    // reopened from disk: the scene comes from the episodes table (reins/scene_seed, reins/task_family)
    await call('dataset.open', { root: parent, repoId: 'lab/scene', fps: 30, task: recorded.instruction, create: false });
    const [ep] = await call<InvokeResults['dataset.episodes']>('dataset.episodes', {});
    assert.deepEqual(ep!.scene, { seed: recorded.seed, family: recorded.family });
    // another scene now; replay without restoring leaves it, replay with restoring brings the recorded one back
    await call('sim.reset', { seed: 41, family: 'stack' });
    assert.notEqual(JSON.stringify(s.world.blocks.map((b) => b.pos)), layout);
    conn.command('handback', {});
    await call('dataset.replay', { index: 0 });
    assert.equal(s.snapshot().sim!.seed, 41);
    await call('policy.stop', {});
    const rep = await call<InvokeResults['dataset.replay']>('dataset.replay', { index: 0, restoreScene: true });
    assert.deepEqual(rep.scene, { seed: recorded.seed, family: recorded.family });
    assert.deepEqual(s.snapshot().sim, { seed: recorded.seed, family: recorded.family, instruction: recorded.instruction });
    assert.equal(JSON.stringify(s.world.blocks.map((b) => b.pos)), layout, 'the blocks are where they were when the episode was recorded');
    assert.equal(s.snapshot().policy.id, 'replay:0');
    await ticks(2);
    const t = await s.loop.tick();
    assert.equal(t.source, 'policy'); // the slow approach runs
  } finally {
    await s.stop();
  }
});

test('an episode save can be cancelled through the API while its videos are finished: it is discarded, the next one saves', { timeout: 120_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'reins-home-'));
  const { s, conn, call, ticks } = await simSession({ seed: 3, cameraWidth: 224, cameraHeight: 224, homeDir: home });
  try {
    const parent = mkdtempSync(join(tmpdir(), 'reins-sess-'));
    await call('dataset.open', { root: parent, repoId: 'lab/cancel', fps: 30, task: s.world.task.instruction, create: true });
    await ticks(10);
    const bad = await conn.invoke('dataset.cancelSave', { now: true });
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.equal(bad.error.code, 'bad_request');
    const none = await conn.invoke('dataset.cancelSave', {});
    assert.equal(none.ok, false);
    if (!none.ok) assert.equal(none.error.code, 'recording_error');

    await call('dataset.startEpisode', {});
    await ticks(40);
    const ending = conn.invoke('dataset.endEpisode', {});
    await sleep(0);
    const mid = await call<DatasetStatus>('dataset.status', {});
    assert.equal(mid.saving?.cancellable, true, 'the status offers the cancel while the videos are finished');
    const after = await call<DatasetStatus>('dataset.cancelSave', {});
    assert.equal(after.recording, false);
    assert.equal(after.episodes, 0);
    assert.equal(after.openEpisode, undefined, 'nothing left to recover');
    const r = await ending;
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.error.code, 'cancelled');
      assert.match(r.error.message, /discarded/);
    }

    await call('dataset.startEpisode', {});
    await ticks(30);
    const saved = await call<DatasetStatus>('dataset.endEpisode', {});
    assert.equal(saved.episodes, 1);
    assert.ok(saved.frames >= 25, `frames ${saved.frames}`);
  } finally {
    await s.stop();
  }
});
