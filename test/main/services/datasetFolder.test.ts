/**
 * Issue 12, finding 9 (the dataset side): `dataset.open` refuses `..` and stray separators in the
 * repo id, and never creates a dataset inside a non-empty folder that is not one (the host then
 * served everything under it). Checked through the session's API, as a client would send it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsoleSession } from '../../../main/services/session';
import { isDatasetVideo, repoIdProblem } from '../../../main/services/datasetFolder';

test('dataset.open refuses traversal in the repo id and a non-empty folder that is not a dataset', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'reins-dsopen-'));
  const root = join(dir, 'root');
  mkdirSync(join(root, 'docs'), { recursive: true });
  writeFileSync(join(root, 'docs', 'notes.txt'), 'private');
  const s = new ConsoleSession({ homeDir: join(dir, 'home'), cameraWidth: 224, cameraHeight: 224 });
  const conn = s.api.connect({ sendEvent: () => {}, sendFrame: () => {} });
  const open = (repoId: string, create = true) => conn.invoke('dataset.open', { root, repoId, fps: 30, task: 'pick', create });
  try {
    for (const id of ['..', '../x', 'x/..', 'a/../../etc', '.', './x', 'a\\b', 'a/b/c', '..\\..\\x', '.hidden', 'x/.git']) {
      const r = await open(id);
      assert.equal(r.ok, false, id);
      if (!r.ok) assert.equal(r.error.code, 'bad_request', `${id}: ${r.error.message}`);
    }
    // An existing folder with other files in it: refused, and left as it was.
    const r = await open('docs');
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.error.message, /not empty and is not a LeRobot dataset/);
    assert.deepEqual(readdirSync(join(root, 'docs')), ['notes.txt']);
    assert.equal(existsSync(join(root, 'docs', 'meta')), false);
  } finally {
    conn.close();
    await s.stop();
  }
});

test('repo ids and servable dataset files', () => {
  for (const ok of ['pick', 'lab/pick_place-v2', 'user_1/so101.demos']) assert.equal(repoIdProblem(ok), undefined, ok);
  for (const bad of ['', '..', 'a/..', 'a/b/c', 'a\\b', '.x', 'a..b', 'a/', '/a']) assert.ok(repoIdProblem(bad), bad);
  assert.equal(isDatasetVideo('videos/observation.images.front/chunk-000/file-000.mp4'), true);
  for (const bad of ['meta/info.json', 'data/chunk-000/file-000.parquet', 'videos/../meta/info.json', 'videos/x/chunk-000/file-000.mp4/../../y', 'videos/.x/chunk-000/file-000.mp4']) assert.equal(isDatasetVideo(bad), false, bad);
});
