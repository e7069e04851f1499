import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordFromSim, parseArgs } from '../../../main/recording/cli';
import { readRows, verifyDataset } from './helpers';

test('headless record from the sim expert: successful episodes only, ECoT annotations, verifies', async (t) => {
  const out = join(mkdtempSync(join(tmpdir(), 'reins-sim-')), 'ds');
  t.after(() => rmSync(join(out, '..'), { recursive: true, force: true }));
  const logs: string[] = [];
  const summary = await recordFromSim(parseArgs(['--episodes', '2', '--out', out, '--task-family', 'push', '--seed', '1', '--size', '64x64']), (s) => logs.push(s));
  assert.equal(summary.attempted, 2);
  assert.equal(summary.kept + summary.discarded, 2);
  assert.ok(logs.some((l) => /only successful episodes are kept/.test(l)));
  const v = await verifyDataset(out);
  assert.equal(v.info.total_episodes, summary.kept);
  assert.equal(v.info.total_frames, summary.frames);
  assert.equal(v.info.robot_type, 'so101_follower');
  if (summary.kept > 0) {
    assert.match(v.tasks[0]!, /push/);
    const ann = await readRows(join(out, 'annotations/chunk-000/file-000.parquet'));
    assert.ok(ann.every((r) => typeof r.plan === 'string' && typeof r.subtask === 'string' && typeof r.move === 'string'));
    assert.ok(ann.some((r) => typeof r.visible_objects === 'string' && /\[/.test(r.visible_objects as string)));
    const data = await readRows(join(out, 'data/chunk-000/file-000.parquet'));
    assert.ok(data.every((r) => Number(r.control_source) === 1 && r.intervention === false));
  }
  // resume appends with the next seeds; without --resume the folder is refused
  await assert.rejects(recordFromSim(parseArgs(['--episodes', '1', '--out', out, '--size', '64x64'])), /--resume/);
  const s2 = await recordFromSim(parseArgs(['--episodes', '1', '--out', out, '--task-family', 'push', '--seed', '3', '--size', '64x64', '--resume']), () => undefined);
  const v2 = await verifyDataset(out);
  assert.equal(v2.info.total_episodes, summary.kept + s2.kept);
});

test('record CLI arguments are validated with clear messages', () => {
  assert.throws(() => parseArgs(['--out', 'x']), /--episodes and --out are required/);
  assert.throws(() => parseArgs(['--episodes', '1', '--out', 'x', '--size', '64']), /--size/);
  assert.throws(() => parseArgs(['--episodes', '1', '--out', 'x', '--task-family', 'juggle']), /pick_place, push, stack/);
  const a = parseArgs(['--episodes', '3', '--out', 'x', '--fps', '15', '--size', '96x64', '--seed', '7']);
  assert.deepEqual([a.episodes, a.fps, a.width, a.height, a.seed], [3, 15, 96, 64, 7]);
});
