import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LeRobotDataset } from '../../../main/recording/dataset';
import { RecordingService } from '../../../main/recording/service';
import { verifyDataset } from './helpers';

function recordAndKill(root: string, mode: 'mid' | 'after-commit' | 'before-commit' = 'mid'): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'crash-child.ts'), root, mode], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    const timer = setTimeout(() => {
      process.kill(-child.pid!, 'SIGKILL');
      reject(new Error(`child never got ready: ${err}`));
    }, 60_000);
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('READY')) {
        clearTimeout(timer);
        process.kill(-child.pid!, 'SIGKILL'); // the recorder and its ffmpeg encoders, at once
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`child exited ${code}: ${err}`));
    });
  });
}

test('kill -9 mid-episode: finished episodes load, the open one is reported and recovered', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'reins-crash-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  await recordAndKill(root);

  // every finished episode verifies as it is on disk, before anything is repaired
  const before = await verifyDataset(root);
  assert.equal(before.info.total_episodes, 2);
  assert.equal(before.info.total_frames, 45);

  const svc = new RecordingService();
  const summary = await svc.openDataset({ root });
  assert.equal(summary.totalEpisodes, 2);
  assert.ok(summary.openEpisode, 'the interrupted episode is reported');
  assert.equal(summary.openEpisode.task, 'the interrupted one');
  assert.ok(summary.openEpisode.frames >= 40, `journal holds ${summary.openEpisode.frames} frames`);
  await assert.rejects(svc.startEpisode('new'), (e: Error & { code?: string }) => e.code === 'busy');

  const rec = await svc.recover();
  assert.ok(rec, 'recovered');
  assert.equal(rec.index, 2);
  assert.ok(rec.length > 0 && rec.length <= summary.openEpisode.frames, `recovered ${rec.length} frames`);
  assert.equal(await svc.recoveryInfo(), null);
  const after = await verifyDataset(root);
  assert.equal(after.info.total_episodes, 3);
  assert.equal(after.info.total_frames, 45 + rec.length);
  assert.deepEqual(svc.listEpisodes().map((e) => [e.index, e.task]), [[0, 'task 0'], [1, 'task 1'], [2, 'the interrupted one']]);
  const replay = await svc.readActions(0);
  assert.equal(replay.actions.length, 20);
  assert.equal(replay.actions[0]!.length, 6);
  assert.equal(svc.status().dataset?.totalEpisodes, 3);
  const review = await svc.readEpisode(2);
  assert.equal(review.task, 'the interrupted one');
  // the simulator scene (staged manifest) and the shadow goals (frame journal) survive the kill
  assert.deepEqual(svc.listEpisodes()[2]!.scene, { seed: 9, family: 'stack' });
  assert.deepEqual(svc.listEpisodes()[0]!.scene, null);
  const { readRows } = await import('./helpers');
  const recovered = (await readRows(join(root, 'data/chunk-000/file-002.parquet'))).filter((r) => Number(r.episode_index) === 2);
  assert.ok(recovered.some((r) => r.shadow_valid === true));
  for (const r of recovered) assert.equal(r.shadow_valid, r.intervention === true);
  assert.equal(review.state.length, rec.length);
  await svc.closeDataset();
  assert.ok(!existsSync(join(root, '.reins/open-episode')));
});

test('kill -9 mid-episode, then discard: the dataset keeps its finished episodes', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'reins-crash-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  await recordAndKill(root);
  const ds = await LeRobotDataset.open(root);
  assert.ok(await ds.openEpisode());
  await ds.discardOpen();
  assert.equal(await ds.openEpisode(), undefined);
  await ds.close();
  const v = await verifyDataset(root);
  assert.equal(v.info.total_episodes, 2);
});

for (const mode of ['after-commit', 'before-commit'] as const) {
  test(`kill -9 inside the commit window (${mode}): no episode lost, none duplicated`, async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'reins-crash-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    await recordAndKill(root, mode);
    // LeRobot loads data/*/*.parquet: what is on disk must already be consistent for the committed episodes
    if (mode === 'after-commit') {
      const v = await verifyDataset(root);
      assert.equal(v.info.total_episodes, 3, 'the commit was durable before the kill');
    }
    const svc = new RecordingService();
    const s = await svc.openDataset({ root });
    if (mode === 'after-commit') assert.equal(s.openEpisode, null, 'an episode already committed is not offered again');
    else assert.ok(s.openEpisode, 'the uncommitted episode is offered for recovery');
    await svc.recover();
    assert.deepEqual(svc.listEpisodes().map((e) => [e.index, e.task, e.length]), [[0, 'task 0', 20], [1, 'task 1', 25], [2, 'the interrupted one', 30]]);
    await svc.closeDataset();
    // once more: reopening finds nothing to recover, nothing duplicated
    const again = await svc.openDataset({ root });
    assert.equal(again.openEpisode, null);
    assert.equal(again.totalEpisodes, 3);
    await svc.closeDataset();
    const v = await verifyDataset(root);
    assert.equal(v.info.total_frames, 75);
    assert.ok(!existsSync(join(root, '.reins/open-episode')));
    assert.ok(!existsSync(join(root, '.reins/commit')));
  });
}
