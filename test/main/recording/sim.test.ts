import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
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
  // a resume with other settings is refused, naming the difference, and leaves no lock behind
  await assert.rejects(recordFromSim(parseArgs(['--episodes', '1', '--out', out, '--resume'])), /camera "front": the dataset records 64x64, the camera gives 224x224.*--size 64x64/);
  assert.ok(!existsSync(join(out, '.reins/lock')), 'no stale lock after a refused resume (size)');
  await assert.rejects(recordFromSim(parseArgs(['--episodes', '1', '--out', out, '--size', '64x64', '--fps', '15', '--resume'])), /fps: the dataset is 30 fps, this recording 15 fps/);
  assert.ok(!existsSync(join(out, '.reins/lock')), 'no stale lock after a refused resume (fps)');
  const s2 = await recordFromSim(parseArgs(['--episodes', '1', '--out', out, '--task-family', 'push', '--seed', '3', '--size', '64x64', '--resume']), () => undefined);
  const v2 = await verifyDataset(out);
  assert.equal(v2.info.total_episodes, summary.kept + s2.kept);
  // the sim knows the outcome: kept episodes are marked successful in their metadata
  assert.ok(v2.episodes.every((e) => e['reins/success'] === true));
});

test('record CLI arguments are validated with clear messages', () => {
  assert.throws(() => parseArgs(['--out', 'x']), /--episodes and --out are required/);
  assert.throws(() => parseArgs(['--episodes', '1', '--out', 'x', '--size', '64']), /--size/);
  assert.throws(() => parseArgs(['--episodes', '1', '--out', 'x', '--task-family', 'juggle']), /pick_place, push, stack/);
  const a = parseArgs(['--episodes', '3', '--out', 'x', '--fps', '15', '--size', '96x64', '--seed', '7']);
  assert.deepEqual([a.episodes, a.fps, a.width, a.height, a.seed], [3, 15, 96, 64, 7]);
});

test('lossless training data: decoded frames equal the rendered ones; --action-noise moves the arm, not the labels', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const { readFileSync } = await import('node:fs');
  const { SimWorld, SimCamera } = await import('../../../drivers/sim');
  const root = mkdtempSync(join(tmpdir(), 'reins-lossless-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const clean = join(root, 'clean');
  const noisy = join(root, 'noisy');
  const common = ['--episodes', '1', '--task-family', 'pick_place', '--seed', '11', '--size', '32x32', '--codec', 'h264-lossless'];
  const a = await recordFromSim(parseArgs([...common, '--out', clean]), () => undefined);
  const b = await recordFromSim(parseArgs([...common, '--out', noisy, '--action-noise', '2']), () => undefined);
  assert.equal(a.kept, 1);
  assert.equal(b.kept, 1, 'the expert still completes the task with noise bursts');
  const info = JSON.parse(readFileSync(join(clean, 'meta/info.json'), 'utf8')) as { features: Record<string, { info?: Record<string, unknown> }> };
  assert.equal(info.features['observation.images.front']!.info!['video.pix_fmt'], 'yuv444p');
  assert.equal(info.features['observation.images.front']!.info!['video.crf'], 0);
  // first frame decoded by ffmpeg vs the same scene rendered again
  const dec = spawnSync('ffmpeg', ['-v', 'error', '-i', join(clean, 'videos/observation.images.front/chunk-000/file-000.mp4'), '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
  assert.equal(dec.status, 0, String(dec.stderr));
  const world = new SimWorld({ seed: 11, family: 'pick_place' });
  const cam = new SimCamera(world, 'front', { width: 32, height: 32, fps: 30 }, () => world.timeMs);
  await cam.connect();
  const ref = cam.readLatest()!.data;
  assert.equal(dec.stdout.length, ref.length);
  let maxDiff = 0;
  for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(dec.stdout[i]! - ref[i]!));
  assert.ok(maxDiff <= 3, `lossless round trip differs by ${maxDiff} grey levels (RGB <-> YUV 4:4:4 rounding only)`);
  // with noise the executed path differs from the labels: state lags the commanded goal by more
  const lag = async (ds: string): Promise<number> => {
    const rows = await readRows(join(ds, 'data/chunk-000/file-000.parquet'));
    const st = rows.map((r) => Array.from(r['observation.state'] as ArrayLike<number>));
    const ac = rows.map((r) => Array.from(r.action as ArrayLike<number>));
    let s = 0;
    for (let i = 0; i + 3 < rows.length; i++) for (let j = 0; j < 5; j++) s += Math.abs(st[i + 3]![j]! - ac[i]![j]!);
    return s / (rows.length * 5);
  };
  assert.ok((await lag(noisy)) > (await lag(clean)), 'noise bursts push the arm off the labelled path');
  assert.throws(() => parseArgs(['--episodes', '1', '--out', 'x', '--action-noise', '-1']), /--action-noise/);
  assert.throws(() => parseArgs(['--episodes', '1', '--out', 'x', '--codec', 'png']), /h264-lossless/);
});
