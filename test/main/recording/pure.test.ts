import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildInfo, chunkFile, type DatasetConfig } from '../../../main/recording/features';
import { autoCodec } from '../../../main/recording/encoder';
import { vectorStats, aggregateFeatureStats, ImageStatsAccumulator } from '../../../main/recording/stats';
import { EpisodeBuilder, columnStats, decodeJournal, encodeJournalLine, type FrameRow } from '../../../main/recording/episode';
import { JOINTS, refRoot } from './helpers';

const av1 = { vcodec: 'libsvtav1', codec: 'av1', pixFmt: 'yuv420p', g: 2, crf: 30, preset: 12, fastDecode: 0 } as const;

test('info.json matches the LeRobot-written reference (plus the Reins columns)', () => {
  const ref = JSON.parse(readFileSync(join(refRoot(), 'meta/info.json'), 'utf8'));
  const cams = [{ key: 'front', width: 128, height: 96 }, { key: 'wrist', width: 128, height: 96 }];
  const cfg: DatasetConfig = { repoId: 'local/ref', fps: 30, robotType: 'so101_follower', jointNames: JOINTS, cameras: cams, video: { front: { ...av1 }, wrist: { ...av1 } } };
  const info = buildInfo(cfg, { episodes: 3, frames: 75, tasks: 2 }) as unknown as Record<string, any>;
  const { features: rf, ...restRef } = ref;
  const { features: of, ...restOurs } = info;
  assert.deepEqual(restOurs, restRef);
  for (const [k, v] of Object.entries(rf as Record<string, any>)) {
    const ours = structuredClone(of[k]);
    if (ours.info) ours.info['video.video_backend'] = v.info['video.video_backend'];
    assert.deepEqual(ours, v, k);
  }
  assert.deepEqual(Object.keys(of).filter((k) => !(k in rf)), ['intervention', 'control_source', 'capture_time_us']);
});

test('stats: per-dimension vectors, quantiles, and aggregation as LeRobot', () => {
  const s = vectorStats([1, 10, 2, 20, 3, 30, 4, 40], 4, 2);
  assert.deepEqual(s.min, [1, 10]);
  assert.deepEqual(s.max, [4, 40]);
  assert.deepEqual(s.mean, [2.5, 25]);
  assert.ok(Math.abs((s.std as number[])[0]! - Math.sqrt(1.25)) < 1e-12);
  assert.deepEqual(s.q50, [2.5, 25]);
  assert.deepEqual(s.count, [4]);
  const a = vectorStats([1, 2, 3], 3, 1);
  const b = vectorStats([10, 20], 2, 1);
  const all = vectorStats([1, 2, 3, 10, 20], 5, 1);
  const agg = aggregateFeatureStats([a, b]);
  assert.ok(Math.abs((agg.mean as number[])[0]! - (all.mean as number[])[0]!) < 1e-12);
  assert.ok(Math.abs((agg.std as number[])[0]! - (all.std as number[])[0]!) < 1e-12);
  assert.deepEqual(agg.min, [1]);
  assert.deepEqual(agg.max, [20]);
  assert.deepEqual(agg.count, [5]);
  assert.deepEqual(agg.q01, [Math.min((a.q01 as number[])[0]!, (b.q01 as number[])[0]!)]);
  assert.deepEqual(agg.q99, [Math.max((a.q99 as number[])[0]!, (b.q99 as number[])[0]!)]);
});

test('image stats are per channel, 0..1, shaped [[[r]], [[g]], [[b]]]', () => {
  const acc = new ImageStatsAccumulator(4, 2);
  const img = new Uint8Array(4 * 2 * 3);
  for (let i = 0; i < 8; i++) img.set([255, 0, i < 4 ? 0 : 255], i * 3);
  acc.add(img);
  const r = acc.result();
  assert.deepEqual(r.min, [[[1]], [[0]], [[0]]]);
  assert.deepEqual(r.mean, [[[1]], [[0]], [[0.5]]]);
  assert.deepEqual(r.count, [1]);
});

test('episode builder: timestamp = frame_index / fps, capture time, global index; journal round trip with a torn line', () => {
  const b = new EpisodeBuilder(6, 30, ['front']);
  const rows: FrameRow[] = [0, 1, 2].map((i) => ({ state: [i, 0, 0, 0, 0, 0], action: [i, 1, 1, 1, 1, 1], timeMs: 500 + i * 40, cameraTimesMs: { front: i === 1 ? null : 498 + i * 40 }, source: i === 2 ? 'operator' : 'policy', intervention: i === 2, reasoning: { subtask: `s${i}` } }));
  rows.forEach((r) => b.add(r));
  const c = b.columns(4, 100, 1);
  assert.deepEqual(Array.from(c.timestamp), [0, Math.fround(1 / 30), Math.fround(2 / 30)]);
  assert.deepEqual(Array.from(c.captureTimeUs, Number), [0, 40000, 80000]);
  assert.deepEqual(Array.from(c.index), [100n, 101n, 102n]);
  assert.deepEqual(Array.from(c.episodeIndex), [4n, 4n, 4n]);
  assert.deepEqual(Array.from(c.controlSource), [1n, 1n, 2n]);
  assert.ok(Number.isNaN(c.cameraTimes.front![1]!));
  assert.ok(Math.abs(b.achievedFps() - 25) < 1e-9);
  assert.throws(() => b.add({ ...rows[0]!, state: [1, 2] }), /6 joints/);
  const text = rows.map(encodeJournalLine).join('') + '{"t": 12, "c":'; // torn by a crash
  assert.deepEqual(decodeJournal(text), rows);
  assert.deepEqual(chunkFile(1234), { chunk: 1, file: 234 });
});

test('auto codec: AV1 only where the machine can encode every camera in real time', () => {
  const two = [{ key: 'front', width: 640, height: 480 }, { key: 'wrist', width: 640, height: 480 }];
  assert.equal(autoCodec(two, 30, 2), 'h264');
  assert.equal(autoCodec(two, 30, 8), 'av1');
  assert.equal(autoCodec([{ key: 'front', width: 128, height: 96 }], 30, 1), 'av1');
});

test('shadow columns: NaN without a shadow goal, goal − action with one; stats skip NaN rows; the journal keeps the goal', () => {
  const rows: FrameRow[] = [0, 1, 2, 3].map((i) => ({ state: [i, 0], action: [i, 10], timeMs: i * 33, cameraTimesMs: {}, source: i >= 2 ? 'operator' : 'policy', intervention: i >= 2 }));
  rows[2]!.shadowGoal = [5, 12];
  rows[3]!.shadowGoal = [7, 4];
  const b = new EpisodeBuilder(2, 30, []);
  rows.forEach((r) => b.add(r));
  const c = b.columns(0, 0, 0);
  assert.deepEqual(c.shadowValid, [false, false, true, true]);
  assert.ok(Array.from(c.shadowGoal.subarray(0, 4)).every(Number.isNaN));
  assert.deepEqual(Array.from(c.shadowGoal.subarray(4)), [5, 12, 7, 4]);
  assert.deepEqual(Array.from(c.shadowDisagreement.subarray(4)), [3, 2, 4, -6]);
  const s = columnStats(c, true);
  assert.deepEqual(s.shadow_goal!.count, [2]);
  assert.deepEqual(s.shadow_goal!.min, [5, 4]);
  assert.deepEqual(s.shadow_goal!.mean, [6, 8]);
  assert.deepEqual(s.shadow_valid!.mean, [0.5]);
  assert.ok(!('shadow_goal' in columnStats(c, false)));
  // an episode without shadow frames: zeros and count 0, which aggregation leaves out
  const none = vectorStats([NaN, NaN, NaN, NaN], 2, 2, { skipNaN: true });
  assert.deepEqual(none.count, [0]);
  assert.deepEqual(none.min, [0, 0]);
  const agg = aggregateFeatureStats([none, s.shadow_goal!]);
  assert.deepEqual(agg.min, [5, 4]);
  assert.deepEqual(agg.max, [7, 12]);
  assert.deepEqual(agg.mean, [6, 8]);
  assert.deepEqual(agg.count, [2]);
  assert.deepEqual(decodeJournal(rows.map(encodeJournalLine).join('')), rows);
  assert.throws(() => b.add({ ...rows[0]!, shadowGoal: [1] }), /shadow goal of 1 values/);
});
