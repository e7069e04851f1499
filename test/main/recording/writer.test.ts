import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LeRobotDataset } from '../../../main/recording/dataset';
import { DatasetRecorder } from '../../../main/recording/recorder';
import { chooseVideoSettings } from '../../../main/recording/encoder';
import type { DatasetConfig } from '../../../main/recording/features';
import { JOINTS, feedEpisode, readRows, verifyDataset, syntheticStep, tempRecorder } from './helpers';

const CAMS = [
  { key: 'front', width: 64, height: 64 },
  { key: 'wrist', width: 64, height: 64 },
];
const TASK_A = 'pick up the red block and put it in the bowl';
const TASK_B = 'push the green cube to the left side of the table';

function config(): DatasetConfig {
  return { repoId: 'local/test', fps: 30, robotType: 'so101_follower', jointNames: JOINTS, cameras: CAMS, video: Object.fromEntries(CAMS.map((c) => [c.key, chooseVideoSettings(c)])) };
}

test('records 3 episodes that verify against the reference schema; resume; delete', async (t) => {
  const { root, rec } = await tempRecorder(t, 'reins-rec-', config());
  const lengths = [20, 25, 30];
  const tasks = [TASK_A, TASK_B, TASK_A];
  for (let e = 0; e < 3; e++) {
    await rec.startEpisode(tasks[e]!);
    await feedEpisode(rec, lengths[e]!, e, CAMS);
    const s = await rec.endEpisode();
    assert.equal(s.index, e);
    assert.equal(s.length, lengths[e]);
    assert.equal(s.dropped, 0);
  }
  await rec.close();
  const v = await verifyDataset(root);
  assert.equal(v.info.total_episodes, 3);
  assert.equal(v.info.total_frames, 75);
  assert.deepEqual(v.tasks, [TASK_A, TASK_B]);
  assert.equal(v.info.robot_type, 'so101_follower');
  assert.deepEqual(v.info.features.action.names, JOINTS.map((j) => `${j}.pos`));
  assert.deepEqual(v.info.features['observation.images.front'].shape, [64, 64, 3]);

  // values survive exactly (float32), plus the Reins columns and the annotation side file
  const rows = await readRows(join(root, 'data/chunk-000/file-001.parquet'));
  const expected = syntheticStep(7, 1, CAMS);
  assert.deepEqual(rows[7]!['observation.state'], expected.observation.state.map(Math.fround));
  assert.deepEqual(rows[7]!.action, expected.action.map(Math.fround));
  assert.equal(rows[1]!.intervention, true);
  assert.equal(rows[5]!.intervention, false);
  assert.equal(Number(rows[1]!.control_source), 2);
  assert.equal(Number(rows[5]!.control_source), 1);
  assert.equal(Number(rows[3]!.capture_time_us), 100000); // 3 frames at 30 fps, exact microseconds
  const ann = await readRows(join(root, 'annotations/chunk-000/file-001.parquet'));
  assert.equal(ann.length, 25);
  assert.equal(ann[6]!.subtask, 'sub 1');
  assert.equal(ann[6]!.visible_objects, 'red block [1, 2, 3, 4]');
  assert.equal(ann[0]!.task, null);
  assert.ok(Math.abs((ann[3]!['capture_time/front'] as number) - (0.1 - 0.002)) < 1e-9);
  const stats = JSON.parse(readFileSync(join(root, 'meta/stats.json'), 'utf8'));
  assert.equal(stats['observation.images.front'].mean.length, 3);
  assert.deepEqual(stats.frame_index.max, [29]);
  assert.ok(stats['observation.images.front'].max[0][0][0] <= 1);

  // resume: open the same folder and append
  const ds2 = await LeRobotDataset.open(root);
  assert.equal(ds2.episodes.length, 3);
  const rec2 = new DatasetRecorder(ds2);
  await rec2.startEpisode(TASK_B);
  await feedEpisode(rec2, 10, 3, CAMS);
  await rec2.endEpisode();
  await verifyDataset(root);

  // delete episode 1: later episodes move down, files rewritten, no gaps
  await ds2.deleteEpisode(1);
  const after = await verifyDataset(root);
  assert.equal(after.info.total_episodes, 3);
  assert.equal(after.info.total_frames, 60);
  assert.deepEqual(after.episodes.map((e) => Number(e.length)), [20, 30, 10]);
  const back = await ds2.readEpisode(1);
  assert.deepEqual(Array.from(back.columns.state.slice(0, 6)), syntheticStep(0, 2, CAMS).observation.state.map(Math.fround));
  assert.equal(back.columns.annotations.subtask[6], 'sub 1');
  await rec2.close();
  // no stray files remain
  const dataFiles = readdirSync(join(root, 'data/chunk-000'));
  assert.equal(dataFiles.length, 3, dataFiles.join(','));
  assert.ok(!existsSync(join(root, '.reins/open-episode')));
});

test('discard drops an episode without a trace; empty dataset is valid', async (t) => {
  const { root, rec } = await tempRecorder(t, 'reins-rec-', config());
  await rec.startEpisode(TASK_A);
  await feedEpisode(rec, 5, 0, CAMS);
  await rec.discardEpisode();
  await verifyDataset(root);
  await rec.startEpisode(TASK_A);
  await feedEpisode(rec, 8, 0, CAMS);
  const s = await rec.endEpisode();
  assert.equal(s.index, 0);
  await rec.close();
  const v = await verifyDataset(root);
  assert.equal(v.info.total_frames, 8);
  await assert.rejects(LeRobotDataset.create(root, config()), /already exists/);
});

test('a full queue drops steps instead of blocking the tick, and warns', async (t) => {
  const problems: string[] = [];
  const { root, rec } = await tempRecorder(t, 'reins-rec-', config(), { queueCapacity: 4, onProblem: (p) => problems.push(p.id) });
  await rec.startEpisode(TASK_A);
  for (let i = 0; i < 40; i++) rec.onStep(syntheticStep(i, 0, CAMS)); // synchronously: no chance to drain
  const st = rec.status();
  assert.equal(st.queueDepth, 4);
  assert.equal(st.dropped, 36);
  assert.ok(problems.includes('recorder:dropped'));
  const s = await rec.endEpisode();
  assert.equal(s.length, 4);
  await rec.close();
  await verifyDataset(root);
});

test('warns live when the achieved rate falls below fps', async (t) => {
  const problems: string[] = [];
  const { rec } = await tempRecorder(t, 'reins-rec-', config(), { onProblem: (p) => problems.push(p.id) });
  t.after(() => rec.close({ save: false }));
  await rec.startEpisode(TASK_A);
  for (let i = 0; i < 40; i++) {
    await rec.whenWritable();
    rec.onStep(syntheticStep(i, 0, CAMS, 20)); // steps 50 ms apart in a 30 fps dataset
  }
  assert.ok(problems.includes('recorder:rate'));
  assert.ok(rec.status().achievedFps < 21);
  await rec.close({ save: false });
});

test('service: missing camera frames repeat the last one (counted), review gives arrays and video spans', async (t) => {
  const { RecordingService } = await import('../../../main/recording/service');
  const root = mkdtempSync(join(tmpdir(), 'reins-rec-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const svc = new RecordingService();
  t.after(() => svc.closeDataset({ save: false }));
  const s = await svc.createDataset({ root, repoId: 'me/demo', fps: 30, robotType: 'so101_follower', jointNames: JOINTS, cameras: CAMS, task: TASK_A, codec: 'h264' });
  assert.equal(s.repoId, 'me/demo');
  assert.deepEqual(s.cameras.map((c) => c.codec), ['h264', 'h264']);
  assert.equal(s.openEpisode, null);
  await assert.rejects(svc.endEpisode(), /No episode is being recorded/);
  await svc.startEpisode();
  for (let i = 0; i < 12; i++) {
    const step = syntheticStep(i, 0, CAMS);
    if (i % 3 === 1) delete step.observation.images.wrist; // the wrist camera had no new frame
    await svc.whenWritable();
    svc.sink.onStep(step);
  }
  const st = svc.status();
  assert.equal(st.recorder?.state, 'recording');
  assert.equal(st.recorder?.frames, 12);
  const ep = await svc.endEpisode();
  assert.equal(ep.length, 12);
  assert.equal(svc.status().recorder?.missingFrames, 4);
  await verifyDataset(root, { codec: 'h264' });
  const r = await svc.readEpisode(0);
  assert.equal(r.task, TASK_A);
  assert.equal(r.state.length, 12);
  assert.deepEqual(r.jointNames, JOINTS.map((j) => `${j}.pos`));
  assert.equal(r.controlSource[0], 'operator');
  assert.equal(r.intervention[0], true);
  assert.ok(r.videos.front!.path.endsWith('videos/observation.images.front/chunk-000/file-000.mp4'));
  assert.equal(r.videos.wrist!.toS, 12 / 30);
  const ann = await readRows(join(root, 'annotations/chunk-000/file-000.parquet'));
  assert.equal(ann[1]!['capture_time/wrist'], null);
  const [listed] = svc.listEpisodes();
  assert.deepEqual({ ...listed, quality: undefined, warnings: undefined }, { index: 0, length: 12, task: TASK_A, durationS: 12 / 30, quality: undefined, warnings: undefined, scene: null }); // no simulator scene given
  // a repeated frame is a lost frame: counted in the episode's metadata and warned about in the list
  assert.equal(listed!.quality.repeatedFrames, 4);
  assert.equal(listed!.quality.blankFrames, 0);
  assert.equal(listed!.quality.interventionFrames, 5); // t % 10 < 3: frames 0, 1, 2, 10, 11
  assert.equal(listed!.quality.takeovers, 2);
  assert.ok(listed!.warnings.includes('4 repeated camera frame(s)'), listed!.warnings.join('; '));
  await assert.rejects(svc.deleteEpisode(5), (e: Error & { code?: string }) => e.code === 'not_found');
  assert.deepEqual(await svc.deleteEpisode(0), []);
  const v = await verifyDataset(root);
  assert.equal(v.info.total_episodes, 0);
});

test('deleting the only episode of a task removes the task; later task indices move down', async (t) => {
  const { root, ds, rec } = await tempRecorder(t, 'reins-rec-', config());
  const tasks = [TASK_A, TASK_B, 'stack the cubes', TASK_A];
  for (let e = 0; e < tasks.length; e++) {
    await rec.startEpisode(tasks[e]!);
    await feedEpisode(rec, 6, e, CAMS);
    await rec.endEpisode();
  }
  await ds.deleteEpisode(1);
  await rec.close();
  // pyread.py: pandas index == tasks, every task used, task_index of each episode matches its text
  const v = await verifyDataset(root);
  assert.deepEqual(v.tasks, [TASK_A, 'stack the cubes']);
  assert.deepEqual(v.episodes.map((e) => e.tasks), [[TASK_A], ['stack the cubes'], [TASK_A]]);
  const ds2 = await LeRobotDataset.open(root);
  assert.deepEqual(ds2.tasks, [TASK_A, 'stack the cubes']);
  assert.deepEqual(Array.from((await ds2.readEpisode(1)).columns.taskIndex, Number), [1, 1, 1, 1, 1, 1]);
  await ds2.close();
});

test('honest capture figures: a repeated camera frame is a lost frame; slow capture and drift are kept per episode', async (t) => {
  const problems: string[] = [];
  const { root, rec } = await tempRecorder(t, 'reins-rec-', config(), { onProblem: (p) => problems.push(p.id) });
  // episode 0: 30 fps dataset, the loop runs at 20 Hz and the front camera repeats every other frame
  // (the same frame object, same seq, as a camera that has nothing new returns it); the wrist
  // camera delivers nothing on the first two steps (black frames)
  await rec.startEpisode(TASK_A);
  let prev = syntheticStep(0, 0, CAMS, 20);
  for (let i = 0; i < 40; i++) {
    const s = syntheticStep(i, 0, CAMS, 20);
    if (i % 2 === 1) s.observation.images.front = prev.observation.images.front;
    if (i < 2) delete s.observation.images.wrist;
    prev = s;
    await rec.whenWritable();
    rec.onStep(s);
  }
  const sum = await rec.endEpisode();
  const live = rec.status(); // what the panel shows for the episode just recorded
  assert.equal(sum.quality.repeatedFrames, 20);
  assert.equal(sum.quality.blankFrames, 2);
  assert.equal(sum.quality.droppedSteps, 0);
  assert.ok(Math.abs(sum.quality.achievedFps - 20) < 1e-6, `achieved ${sum.quality.achievedFps}`);
  assert.ok(Math.abs(sum.quality.timestampDriftS - (39 / 20 - 39 / 30)) < 1e-6, `drift ${sum.quality.timestampDriftS}`);
  assert.equal(live.lostFrames, 22);
  assert.ok(problems.includes('recorder:repeated'));
  assert.deepEqual(sum.warnings, ['20 repeated camera frame(s)', '2 black camera frame(s)', 'recorded at 20.0 fps, below 30', `timestamps drift ${(39 / 20 - 39 / 30).toFixed(2)} s from the recording clock`]);
  // episode 1: clean, real time
  await rec.startEpisode(TASK_A);
  await feedEpisode(rec, 30, 1, CAMS);
  const clean = await rec.endEpisode();
  assert.deepEqual(clean.warnings, []);
  await rec.close();
  // the figures are in the committed metadata and survive a reopen
  const ds2 = await LeRobotDataset.open(root);
  assert.deepEqual(ds2.episodes.map((e) => [e.quality.repeatedFrames, e.quality.blankFrames]), [[20, 2], [0, 0]]);
  await ds2.close();
  const v = await verifyDataset(root);
  assert.deepEqual(v.episodes.map((e) => Number(e['reins/repeated_frames'])), [20, 0]);
});

test('ending an episode reports its save progress (tables, each camera, commit) until it is committed', async (t) => {
  const { rec } = await tempRecorder(t, 'reins-rec-', config());
  await rec.startEpisode(TASK_A);
  await feedEpisode(rec, 15, 0, CAMS);
  const seen: string[] = [];
  let polling = true;
  const poll = (): void => {
    const s = rec.status();
    if (s.saving) {
      const k = `${s.state}:${s.saving.step}:${s.saving.done}/${s.saving.total}`;
      if (seen[seen.length - 1] !== k) seen.push(k);
    }
    if (polling) setImmediate(poll);
  };
  poll();
  await rec.endEpisode();
  polling = false;
  assert.ok(seen.length >= 2, seen.join(' '));
  assert.ok(seen.every((k) => k.startsWith('saving:')), seen.join(' '));
  assert.ok(seen.some((k) => k.includes(':videos:')) && seen.some((k) => k.includes(':commit:')), seen.join(' '));
  assert.equal(rec.status().saving, undefined);
  await rec.close();
});

test('a dataset from an earlier Reins (capture_time float64) is refused for appending with the reason', async (t) => {
  const { writeFileSync } = await import('node:fs');
  const root = mkdtempSync(join(tmpdir(), 'reins-rec-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const ds = await LeRobotDataset.create(root, config());
  await ds.close();
  const info = JSON.parse(readFileSync(join(root, 'meta/info.json'), 'utf8'));
  delete info.features.capture_time_us;
  info.features.capture_time = { dtype: 'float64', shape: [1], names: null };
  writeFileSync(join(root, 'meta/info.json'), JSON.stringify(info));
  await assert.rejects(LeRobotDataset.open(root), /earlier Reins \(capture_time float64.*Record into a new dataset/);
});
