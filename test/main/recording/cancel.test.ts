import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { DatasetRecorder } from '../../../main/recording/recorder';
import { chooseVideoSettings } from '../../../main/recording/encoder';
import { ReinsError } from '../../../main/common/errors';
import type { DatasetConfig } from '../../../main/recording/features';
import { JOINTS, feedEpisode, tempRecorder, verifyDataset } from './helpers';

const CAMS = [
  { key: 'front', width: 64, height: 64 },
  { key: 'wrist', width: 64, height: 64 },
];
const TASK = 'pick up the red block and put it in the bowl';

function config(): DatasetConfig {
  return { repoId: 'local/cancel', fps: 30, robotType: 'so101_follower', jointNames: JOINTS, cameras: CAMS, video: Object.fromEntries(CAMS.map((c) => [c.key, chooseVideoSettings(c)])) };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Waits until every step handed over is written (journal + encoders), so endEpisode goes straight to finishing the videos. */
async function written(rec: DatasetRecorder, n: number): Promise<void> {
  while (rec.status().written < n || rec.status().queueDepth > 0) await tick();
}

test('cancelling the save while the videos are finished discards that episode only; the next one records normally', async (t) => {
  const { root, ds, rec } = await tempRecorder(t, 'reins-cancel-', config());
  await rec.startEpisode(TASK);
  await feedEpisode(rec, 20, 0, CAMS);
  assert.equal((await rec.endEpisode()).index, 0);

  // episode 1: end it, then cancel while ffmpeg is still finishing the videos
  await rec.startEpisode(TASK);
  await feedEpisode(rec, 60, 1, CAMS);
  await written(rec, 60);
  const ending = rec.endEpisode();
  const st = rec.status();
  assert.equal(st.state, 'saving');
  assert.equal(st.cancellable, true);
  assert.equal(st.saving?.step, 'encoding');
  await tick();
  assert.equal(rec.status().saving?.step, 'encoding', 'the cancel lands while the encoders are finishing');
  await rec.cancelSave();
  await assert.rejects(ending, (e: unknown) => e instanceof ReinsError && e.code === 'cancelled' && /discarded/.test(e.message));
  assert.equal(rec.status().state, 'idle');
  assert.equal(rec.status().cancellable, undefined);
  assert.equal(existsSync(ds.stagingDir()), false, 'no staging left');
  assert.equal(await rec.openEpisode(), undefined, 'no interrupted episode to recover');
  assert.equal(ds.episodes.length, 1);
  const v1 = await verifyDataset(root);
  assert.equal(v1.info.total_episodes, 1);
  assert.equal(v1.info.total_frames, 20);
  await assert.rejects(rec.cancelSave(), (e: unknown) => e instanceof ReinsError && e.code === 'recording_error');

  // the next episode records and commits normally, as episode 1
  await rec.startEpisode(TASK);
  await feedEpisode(rec, 25, 2, CAMS);
  const s2 = await rec.endEpisode();
  assert.equal(s2.index, 1);
  assert.equal(s2.length, 25);

  // once the commit has begun it is too late: refused, and the episode is saved
  await rec.startEpisode(TASK);
  await feedEpisode(rec, 15, 3, CAMS);
  const ending3 = rec.endEpisode();
  while (rec.status().state === 'saving' && rec.status().cancellable === true) await tick();
  assert.equal(rec.status().state, 'saving', 'still committing');
  await assert.rejects(rec.cancelSave(), (e: unknown) => e instanceof ReinsError && e.code === 'busy' && /too late to cancel: the episode is being committed/.test(e.message));
  assert.equal((await ending3).index, 2);

  await rec.close();
  const v = await verifyDataset(root);
  assert.equal(v.info.total_episodes, 3);
  assert.equal(v.info.total_frames, 20 + 25 + 15);
});
