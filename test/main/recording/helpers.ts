/**
 * Test helpers: synthetic steps (the reference dataset's signal recipe), and an INDEPENDENT
 * verifier that reads a dataset with hyparquet and ffprobe (not the writer's parquet-wasm).
 */
import assert from 'node:assert/strict';
import { readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
import type { StepRecord } from '../../../main/control/types';
import type { ControlSource } from '../../../main/common/types';
import type { TestContext } from 'node:test';
import { DatasetRecorder, type RecordedStep, type RecorderOptions } from '../../../main/recording/recorder';
import { LeRobotDataset } from '../../../main/recording/dataset';
import type { DatasetConfig } from '../../../main/recording/features';

export const REF = '/work/shared/fixtures/lerobot-v3-reference';
export const refRoot = (): string => (existsSync(REF) ? REF : join(process.cwd(), '../shared/fixtures/lerobot-v3-reference'));
export const JOINTS = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'];

export function syntheticImage(w: number, h: number, t: number, ep: number, cam: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  const phi = 3 * t + 40 * ep + 90 * cam;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      out[o] = Math.round(127.5 + 127.5 * Math.sin((x + phi) / 20));
      out[o + 1] = Math.round(127.5 + 127.5 * Math.sin((y + phi / 2) / 15));
      out[o + 2] = 64 + 32 * cam + 8 * ep;
    }
  return out;
}

/** Operator frames (t % 10 < 3) carry a shadow goal (the policy's, 3 units off the operator's action); recorded only by datasets with the shadow columns. */
export function syntheticStep(t: number, ep: number, cams: { key: string; width: number; height: number }[], fps = 30, t0Ms = 1000): RecordedStep {
  const state = JOINTS.map((_, j) => 10 * Math.sin(0.1 * t + j + ep));
  const timeMs = t0Ms + (t * 1000) / fps;
  const images: StepRecord['observation']['images'] = {};
  cams.forEach((c, i) => (images[c.key] = { data: syntheticImage(c.width, c.height, t, ep, i), width: c.width, height: c.height, captureTimeMs: timeMs - 2, seq: t }));
  const source: ControlSource = t % 10 < 3 ? 'operator' : 'policy';
  return {
    tick: t,
    timeMs,
    observation: { timeMs, state, images, task: 'synthetic' },
    action: state.map((v) => v + 0.5),
    source,
    intervention: source === 'operator',
    ...(source === 'operator' ? { shadowGoal: state.map((v) => v + 3.5) } : {}),
    clamped: false,
    watchdog: [],
    reasoning: { plan: 'reach, grasp, lift', subtask: `sub ${Math.floor(t / 5)}`, move: 'move left', gripper: 'open', visibleObjects: 'red block [1, 2, 3, 4]' },
  };
}

/** A new dataset in a temporary folder (removed after the test) and a recorder on it. */
export async function tempRecorder(t: TestContext, prefix: string, config: DatasetConfig, opts?: RecorderOptions): Promise<{ root: string; ds: LeRobotDataset; rec: DatasetRecorder }> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const ds = await LeRobotDataset.create(root, config);
  return { root, ds, rec: new DatasetRecorder(ds, opts) };
}

/** Feeds n synthetic steps, waiting for queue room (simulated time). */
export async function feedEpisode(rec: DatasetRecorder, n: number, ep: number, cams: { key: string; width: number; height: number }[], fps = 30): Promise<void> {
  for (let t = 0; t < n; t++) {
    await rec.whenWritable();
    rec.onStep(syntheticStep(t, ep, cams, fps));
  }
}

export function bytes(path: string): ArrayBuffer {
  const b = readFileSync(path);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
}

export async function readRows(path: string): Promise<Record<string, unknown>[]> {
  return parquetReadObjects({ file: bytes(path) });
}

type SchemaNode = ReturnType<typeof parquetSchema>;
function describe(n: SchemaNode): string {
  const e = n.element;
  const self = `${e.type ?? ''}/${e.converted_type ?? ''}/${e.repetition_type ?? ''}`;
  return n.children.length ? `${self}[${n.children.map(describe).join(',')}]` : self;
}
/** column name -> physical/logical shape string, from the parquet schema (hyparquet). */
export function schemaOf(path: string): Map<string, string> {
  const md = parquetMetadata(bytes(path));
  return new Map(parquetSchema(md).children.map((c) => [c.element.name, describe(c)]));
}
export function kvOf(path: string): Record<string, string> {
  const md = parquetMetadata(bytes(path));
  return Object.fromEntries((md.key_value_metadata ?? []).map((k) => [k.key, k.value ?? '']));
}
export function rowGroups(path: string): number {
  return parquetMetadata(bytes(path)).row_groups.length;
}

export interface ProbedVideo {
  codec: string;
  pixFmt: string;
  frames: number;
  duration: number;
  timeBase: string;
}
export function ffprobe(path: string): ProbedVideo {
  const r = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=codec_name,pix_fmt,nb_read_packets,duration,time_base', '-of', 'json', path], { encoding: 'utf8' });
  assert.equal(r.status, 0, `ffprobe failed on ${path}: ${r.stderr}`);
  const s = (JSON.parse(r.stdout) as { streams: Record<string, string>[] }).streams[0]!;
  return { codec: s.codec_name!, pixFmt: s.pix_fmt!, frames: Number(s.nb_read_packets), duration: Number(s.duration), timeBase: s.time_base! };
}

const num = (v: unknown): number => Number(v);

/** Presentation times (s) of every frame, in display order. */
export function framePts(path: string): number[] {
  const r = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', path], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').filter(Boolean).map(Number).sort((a, b) => a - b);
}

export interface PandasRead {
  tasks: string[];
  episodes: number;
  frames: number;
  dtypes?: Record<string, string>;
  episode_columns?: string[];
  /** Frames with shadow_valid (datasets with the shadow-mode columns). */
  shadow_frames?: number;
}

/**
 * Reads the dataset with pyarrow + pandas (test/main/recording/pyread.py), the way LeRobot's
 * loader does: task text from the pandas index, data schemas vs info.json, stats recomputed.
 * Needs python3 with pyarrow and pandas (REINS_PYTHON names another interpreter); .ci/run
 * installs them.
 */
export function verifyWithPandas(root: string): PandasRead {
  const py = process.env.REINS_PYTHON ?? 'python3';
  const r = spawnSync(py, [join(import.meta.dirname, 'pyread.py'), root], { encoding: 'utf8' });
  assert.ok(!r.error, `cannot run ${py} (install python3 with pyarrow and pandas: pip install pyarrow pandas): ${String(r.error)}`);
  assert.equal(r.status, 0, `pyarrow/pandas read of ${root} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as PandasRead;
}

export interface VerifyResult {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  info: Record<string, any>;
  episodes: Record<string, unknown>[];
  tasks: string[];
}

/**
 * Verifies a dataset with independent readers against LeRobot's rules:
 * schema vs the reference, row counts, index continuity, timestamps, videos, totals.
 */
export async function verifyDataset(root: string, opts: { codec?: string } = {}): Promise<VerifyResult> {
  const info = JSON.parse(readFileSync(join(root, 'meta/info.json'), 'utf8')) as Record<string, any>;
  const ref = JSON.parse(readFileSync(join(refRoot(), 'meta/info.json'), 'utf8')) as Record<string, any>;
  assert.equal(info.codebase_version, 'v3.0');
  for (const k of Object.keys(ref)) assert.ok(k in info, `info.json lacks ${k}`);
  for (const k of ['timestamp', 'frame_index', 'episode_index', 'index', 'task_index']) assert.deepEqual(info.features[k], ref.features[k]);
  const fps = info.fps as number;
  const videoKeys = Object.keys(info.features).filter((k) => info.features[k].dtype === 'video');
  for (const vk of videoKeys) {
    const refInfo = ref.features['observation.images.front'].info as Record<string, unknown>;
    assert.deepEqual(Object.keys(info.features[vk].info), Object.keys(refInfo), 'video info keys as LeRobot');
    assert.deepEqual(info.features[vk].names, ['height', 'width', 'channels']);
  }

  // the way LeRobot reads it (pyarrow + pandas), then the second, independent reader below
  const pandasRead = verifyWithPandas(root);

  // tasks
  const tasksPath = join(root, 'meta/tasks.parquet');
  const pandas = JSON.parse(kvOf(tasksPath).pandas ?? '{}') as { index_columns?: string[]; columns?: unknown[] };
  assert.deepEqual(pandas.index_columns, ['task'], 'tasks.parquet: task is the pandas index');
  assert.ok(Array.isArray(pandas.columns));
  const taskRows = await readRows(tasksPath);
  const tasks: string[] = [];
  taskRows.forEach((r, i) => {
    assert.equal(num(r.task_index), i);
    tasks.push(String(r.task));
  });
  assert.equal(info.total_tasks, tasks.length);
  assert.deepEqual(pandasRead.tasks, tasks, 'pandas index == task strings');

  const epPath = join(root, 'meta/episodes/chunk-000/file-000.parquet');
  if (info.total_episodes === 0) {
    assert.equal(info.total_frames, 0);
    return { info, episodes: [], tasks };
  }
  // episodes table: columns as the reference (camera keys mapped), same types
  const refEp = schemaOf(join(refRoot(), 'meta/episodes/chunk-000/file-000.parquet'));
  const ourEp = schemaOf(epPath);
  const mapRefCol = (c: string): string[] => {
    if (c.includes('observation.images.front')) return videoKeys.map((vk) => c.replace('observation.images.front', vk));
    if (c.includes('observation.images.wrist')) return [];
    return [c];
  };
  for (const [c, t] of refEp) for (const m of mapRefCol(c)) assert.equal(ourEp.get(m), t, `episodes column ${m}: type`);
  const expectedOrder = [...refEp.keys()].flatMap(mapRefCol);
  const ours = [...ourEp.keys()].filter((c) => expectedOrder.includes(c));
  // per camera blocks keep the reference's relative order
  assert.deepEqual(ours.filter((c) => !c.startsWith('videos/') && !c.startsWith('stats/observation.images')), expectedOrder.filter((c) => !c.startsWith('videos/') && !c.startsWith('stats/observation.images')));
  const extraFeatures = Object.keys(info.features).filter((k) => !(k in ref.features) && info.features[k].dtype !== 'video');
  for (const f of extraFeatures) for (const s of ['min', 'max', 'mean', 'std', 'count', 'q01', 'q10', 'q50', 'q90', 'q99']) assert.ok(ourEp.has(`stats/${f}/${s}`), `stats/${f}/${s}`);

  const episodes = await readRows(epPath);
  assert.equal(episodes.length, info.total_episodes);
  assert.equal(info.splits.train, `0:${episodes.length}`);
  let expectFrom = 0;
  const refData = schemaOf(join(refRoot(), 'data/chunk-000/file-000.parquet'));
  for (let e = 0; e < episodes.length; e++) {
    const ep = episodes[e]!;
    assert.equal(num(ep.episode_index), e, 'no episode index gaps');
    assert.equal(num(ep.dataset_from_index), expectFrom, 'global index continuity');
    const len = num(ep.length);
    assert.ok(len > 0);
    assert.equal(num(ep.dataset_to_index), expectFrom + len);
    const dp = join(root, `data/chunk-${String(num(ep['data/chunk_index'])).padStart(3, '0')}/file-${String(num(ep['data/file_index'])).padStart(3, '0')}.parquet`);
    const ds = schemaOf(dp);
    for (const [c, t] of refData) assert.equal(ds.get(c), t, `data column ${c}: type as the reference`);
    assert.deepEqual([...ds.keys()].slice(-5), ['timestamp', 'frame_index', 'episode_index', 'index', 'task_index']);
    assert.deepEqual([...ds.keys()].slice(0, 2), ['observation.state', 'action']);
    const nonVideo = Object.keys(info.features).filter((k) => info.features[k].dtype !== 'video');
    assert.deepEqual([...ds.keys()], nonVideo, 'data columns = non-video features, in order');
    assert.ok(kvOf(dp).huggingface, 'huggingface key present');
    assert.equal(rowGroups(dp), 1);
    const rows = (await readRows(dp)).filter((r) => num(r.episode_index) === e);
    assert.equal(rows.length, len, `episode ${e}: parquet rows == length`);
    const taskIndex = num(rows[0]!.task_index);
    assert.deepEqual(ep.tasks, [tasks[taskIndex]]);
    rows.forEach((r, i) => {
      assert.equal(num(r.frame_index), i);
      assert.equal(num(r.index), expectFrom + i);
      assert.equal(r.timestamp, Math.fround(i / fps));
      assert.equal(num(r.task_index), taskIndex);
      assert.equal((r['observation.state'] as number[]).length, info.features['observation.state'].shape[0]);
    });
    for (const vk of videoKeys) {
      const vp = join(root, `videos/${vk}/chunk-${String(num(ep[`videos/${vk}/chunk_index`])).padStart(3, '0')}/file-${String(num(ep[`videos/${vk}/file_index`])).padStart(3, '0')}.mp4`);
      const from = num(ep[`videos/${vk}/from_timestamp`]);
      const to = num(ep[`videos/${vk}/to_timestamp`]);
      assert.equal(from, 0);
      assert.ok(Math.abs(to - len / fps) < 1e-9);
      const p = ffprobe(vp);
      assert.equal(p.frames, len, `${vk} episode ${e}: video frames == parquet rows`);
      assert.equal(p.codec, opts.codec ?? info.features[vk].info['video.codec']);
      assert.equal(p.pixFmt, 'yuv420p');
      assert.equal(p.timeBase, `1/${512 * fps}`);
      assert.ok(Math.abs(p.duration - len / fps) < 1e-3, `duration ${p.duration} vs ${len / fps}`);
      // LeRobot seeks frame k at from_timestamp + k / fps with tolerance 1e-4 s
      const pts = framePts(vp);
      assert.equal(pts.length, len);
      pts.forEach((t, k) => assert.ok(Math.abs(from + k / fps - t) < 1e-4, `${vk} episode ${e} frame ${k} at ${t}`));
    }
    expectFrom += len;
  }
  assert.equal(info.total_frames, expectFrom);
  const stats = JSON.parse(readFileSync(join(root, 'meta/stats.json'), 'utf8')) as Record<string, Record<string, unknown>>;
  for (const k of Object.keys(info.features)) {
    assert.ok(stats[k], `stats.json has ${k}`);
    assert.deepEqual(Object.keys(stats[k]!), ['min', 'max', 'mean', 'std', 'count', 'q01', 'q10', 'q50', 'q90', 'q99']);
    // the shadow columns' stats count only the frames with a shadow goal (pyread.py recomputes them)
    if (k !== 'shadow_goal' && k !== 'shadow_disagreement') assert.deepEqual(stats[k]!.count, [expectFrom]);
    else assert.deepEqual(stats[k]!.count, [pandasRead.shadow_frames]);
  }
  return { info, episodes, tasks };
}
