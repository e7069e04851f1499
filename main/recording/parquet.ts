/**
 * Parquet encoding/decoding of the dataset's tables through apache-arrow + parquet-wasm
 * (no hand-written parquet). Pure functions bytes <-> columns; the caller does the file I/O.
 * Settings follow LeRobot's writer: snappy, dictionary encoding on, every column nullable,
 * one row group per file (each file holds one episode, or one metadata table).
 */
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm/node';
import { STAT_KEYS, tasksPandasMetadata } from './features';
import { ANNOTATION_COLUMNS, ANNOTATION_FIELDS, type EpisodeColumns } from './episode';
import type { FeatureStats, StatsMap } from './stats';

const f32 = () => new arrow.Float32();
const f64 = () => new arrow.Float64();
const i64 = () => new arrow.Int64();
const elem = (t: arrow.DataType) => new arrow.Field('element', t, true);

function i64Vector(values: BigInt64Array | number[]): arrow.Vector {
  const data = values instanceof BigInt64Array ? values : BigInt64Array.from(values, (v) => BigInt(v));
  return arrow.makeVector(arrow.makeData({ type: i64(), length: data.length, data }));
}
function fixedList(values: Float32Array, rows: number, dim: number): arrow.Vector {
  const type = new arrow.FixedSizeList(dim, elem(f32()));
  const child = arrow.makeData({ type: f32(), length: rows * dim, data: values });
  return arrow.makeVector(arrow.makeData({ type, length: rows, nullCount: 0, child }));
}

/**
 * `kv` goes on the Arrow schema itself: parquet-wasm embeds the schema as `ARROW:schema` and
 * pyarrow (so pandas, HF datasets and LeRobot) takes the schema's key/value metadata from there,
 * not from the file's own list — a `pandas` or `huggingface` key written only to the file's list
 * is invisible to them. The same keys also go to the file's list, for raw footer readers.
 */
function toParquet(fields: [string, arrow.Vector][], kv: Record<string, string> = {}): Uint8Array {
  const schema = new arrow.Schema(
    fields.map(([name, v]) => new arrow.Field(name, v.type, true)),
    new Map(Object.entries(kv)),
  );
  const length = fields[0]?.[1].length ?? 0;
  const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length, nullCount: 0, children: fields.map(([, v]) => v.data[0]!) });
  const table = new arrow.Table([new arrow.RecordBatch(schema, struct)]);
  const wasmTable = pw.Table.fromIPCStream(arrow.tableToIPC(table, 'stream'));
  let b = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.SNAPPY).setDictionaryEnabled(true).setMaxRowGroupSize(Math.max(1, length));
  // and in the file's own list too, as pyarrow writes it (the reference holds both)
  if (Object.keys(kv).length > 0) b = b.setKeyValueMetadata(new Map(Object.entries(kv)));
  return pw.writeParquet(wasmTable, b.build());
}

/** One episode's per-frame table: user features in feature order, then the five defaults. */
export function encodeDataTable(c: EpisodeColumns, huggingfaceKey: string, shadow = false): Uint8Array {
  const shadowCols: [string, arrow.Vector][] = shadow
    ? [
        ['shadow_goal', fixedList(c.shadowGoal, c.length, c.dim)],
        ['shadow_disagreement', fixedList(c.shadowDisagreement, c.length, c.dim)],
        ['shadow_valid', arrow.vectorFromArray(c.shadowValid, new arrow.Bool())],
      ]
    : [];
  return toParquet(
    [
      ['observation.state', fixedList(c.state, c.length, c.dim)],
      ['action', fixedList(c.action, c.length, c.dim)],
      ['intervention', arrow.vectorFromArray(c.intervention, new arrow.Bool())],
      ['control_source', i64Vector(c.controlSource)],
      ['capture_time_us', i64Vector(c.captureTimeUs)],
      ...shadowCols,
      ['timestamp', arrow.makeVector(c.timestamp)],
      ['frame_index', i64Vector(c.frameIndex)],
      ['episode_index', i64Vector(c.episodeIndex)],
      ['index', i64Vector(c.index)],
      ['task_index', i64Vector(c.taskIndex)],
    ],
    { huggingface: huggingfaceKey },
  );
}

/** Reins side file: ECoT annotation strings and per-camera capture times, aligned row by row with the data file. */
export function encodeAnnotationsTable(c: EpisodeColumns, cameraKeys: string[]): Uint8Array {
  const fields: [string, arrow.Vector][] = [
    ['index', i64Vector(c.index)],
    ['episode_index', i64Vector(c.episodeIndex)],
    ['frame_index', i64Vector(c.frameIndex)],
  ];
  for (const f of ANNOTATION_FIELDS) fields.push([ANNOTATION_COLUMNS[f], arrow.vectorFromArray(c.annotations[f], new arrow.Utf8())]);
  for (const k of cameraKeys) {
    const t = c.cameraTimes[k]!;
    fields.push([`capture_time/${k}`, arrow.vectorFromArray(Array.from(t, (x) => (Number.isNaN(x) ? null : x)), f64())]);
  }
  return toParquet(fields);
}

export function encodeTasksTable(tasks: string[]): Uint8Array {
  return toParquet(
    [
      ['task_index', i64Vector(tasks.map((_, i) => i))],
      ['task', arrow.vectorFromArray(tasks, new arrow.Utf8())],
    ],
    { pandas: tasksPandasMetadata() },
  );
}

export interface VideoRange {
  chunk: number;
  file: number;
  from: number;
  to: number;
}

/**
 * Reins' per-episode capture figures, kept as `reins/…` columns at the end of the episodes table
 * (committed atomically with the episode; LeRobot's loader ignores columns it does not use).
 */
export interface EpisodeQuality {
  /** Loop steps never recorded (the recorder's queue was full). */
  droppedSteps: number;
  /** Camera frames written again because the camera had no new frame for the step (or none of the dataset's size); all cameras summed. */
  repeatedFrames: number;
  /** Camera frames written black because the camera had delivered no usable frame yet. */
  blankFrames: number;
  /** Steps per second of the recording clock over the episode (NaN when unknown). */
  achievedFps: number;
  /** Recording-clock span minus timestamp span ((length-1)/fps), seconds: > 0 means the data runs slow against real time. */
  timestampDriftS: number;
  /** Frames commanded by the operator (intervention = true). */
  interventionFrames: number;
  /** Operator takeovers (runs of intervention frames). */
  takeovers: number;
  /** Task outcome where known (the simulator); null otherwise. */
  success: boolean | null;
}

/** The simulator scene an episode was recorded in (seed and task family), to restore it on replay. */
export interface SceneRef {
  seed: number;
  family: string;
}

/** One row of meta/episodes/…parquet. */
export interface EpisodeMeta {
  episodeIndex: number;
  tasks: string[];
  length: number;
  dataChunk: number;
  dataFile: number;
  from: number; // dataset_from_index
  to: number; // dataset_to_index (exclusive)
  videos: Record<string, VideoRange>; // by video key (observation.images.<cam>)
  /** Per feature (feature order), LeRobot's stats layout. */
  stats: StatsMap;
  /** The staged episode's id (recovery recognises an episode already committed by it); '' if unknown. */
  id: string;
  quality: EpisodeQuality;
  /** The simulator scene (`reins/scene_seed`, `reins/task_family`); null for a real arm or an older dataset. */
  scene?: SceneRef | null;
}

/** Columns in the reference's order: ids, data range, per-video ranges, stats, meta/episodes location. */
export function encodeEpisodesTable(rows: EpisodeMeta[], videoKeys: string[], statFeatures: string[]): Uint8Array {
  const fields: [string, arrow.Vector][] = [
    ['episode_index', i64Vector(rows.map((r) => r.episodeIndex))],
    ['tasks', arrow.vectorFromArray(rows.map((r) => r.tasks), new arrow.List(elem(new arrow.Utf8())))],
    ['length', i64Vector(rows.map((r) => r.length))],
    ['data/chunk_index', i64Vector(rows.map((r) => r.dataChunk))],
    ['data/file_index', i64Vector(rows.map((r) => r.dataFile))],
    ['dataset_from_index', i64Vector(rows.map((r) => r.from))],
    ['dataset_to_index', i64Vector(rows.map((r) => r.to))],
  ];
  for (const vk of videoKeys) {
    const v = (r: EpisodeMeta): VideoRange => {
      const x = r.videos[vk];
      if (!x) throw new Error(`episode ${r.episodeIndex} has no video range for ${vk}`);
      return x;
    };
    fields.push([`videos/${vk}/chunk_index`, i64Vector(rows.map((r) => v(r).chunk))]);
    fields.push([`videos/${vk}/file_index`, i64Vector(rows.map((r) => v(r).file))]);
    fields.push([`videos/${vk}/from_timestamp`, arrow.vectorFromArray(rows.map((r) => v(r).from), f64())]);
    fields.push([`videos/${vk}/to_timestamp`, arrow.vectorFromArray(rows.map((r) => v(r).to), f64())]);
  }
  const list1 = new arrow.List(elem(f64()));
  const list3 = new arrow.List(elem(new arrow.List(elem(new arrow.List(elem(f64()))))));
  for (const feat of statFeatures) {
    const image = videoKeys.includes(feat);
    for (const sk of STAT_KEYS) {
      const col = `stats/${feat}/${sk}`;
      const values = rows.map((r) => {
        const s = r.stats[feat];
        if (!s) throw new Error(`episode ${r.episodeIndex} has no stats for ${feat}`);
        return s[sk];
      });
      if (sk === 'count') fields.push([col, arrow.vectorFromArray(values.map((v) => (v as number[]).map((x) => BigInt(x))), new arrow.List(elem(i64())))]);
      else fields.push([col, arrow.vectorFromArray(values, image ? list3 : list1)]);
    }
  }
  fields.push(['meta/episodes/chunk_index', i64Vector(rows.map(() => 0))]);
  fields.push(['meta/episodes/file_index', i64Vector(rows.map(() => 0))]);
  fields.push(['reins/episode_id', arrow.vectorFromArray(rows.map((r) => r.id), new arrow.Utf8())]);
  const q = <K extends keyof EpisodeQuality>(k: K): EpisodeQuality[K][] => rows.map((r) => r.quality[k]);
  fields.push(['reins/dropped_steps', i64Vector(q('droppedSteps'))]);
  fields.push(['reins/repeated_frames', i64Vector(q('repeatedFrames'))]);
  fields.push(['reins/blank_frames', i64Vector(q('blankFrames'))]);
  fields.push(['reins/achieved_fps', arrow.vectorFromArray(q('achievedFps').map((v) => (Number.isFinite(v) ? v : null)), f64())]);
  fields.push(['reins/timestamp_drift_s', arrow.vectorFromArray(q('timestampDriftS').map((v) => (Number.isFinite(v) ? v : null)), f64())]);
  fields.push(['reins/intervention_frames', i64Vector(q('interventionFrames'))]);
  fields.push(['reins/takeovers', i64Vector(q('takeovers'))]);
  fields.push(['reins/success', arrow.vectorFromArray(q('success'), new arrow.Bool())]);
  fields.push(['reins/scene_seed', arrow.vectorFromArray(rows.map((r) => (r.scene ? BigInt(r.scene.seed) : null)), i64())]);
  fields.push(['reins/task_family', arrow.vectorFromArray(rows.map((r) => r.scene?.family ?? null), new arrow.Utf8())]);
  return toParquet(fields);
}

// ---- reading (parquet-wasm -> arrow -> plain JS) ----

function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof arrow.Vector) return Array.from(v as Iterable<unknown>, plain);
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<unknown>, plain);
  return v;
}

/** Reads a parquet file into column arrays of plain JS values (bigints become numbers). */
export function decodeColumns(bytes: Uint8Array): { rows: number; columns: Record<string, unknown[]> } {
  const table = arrow.tableFromIPC(pw.readParquet(bytes).intoIPCStream());
  const columns: Record<string, unknown[]> = {};
  for (const f of table.schema.fields) {
    const col = table.getChild(f.name)!;
    columns[f.name] = Array.from({ length: table.numRows }, (_, i) => plain(col.get(i)));
  }
  return { rows: table.numRows, columns };
}

export function decodeEpisodesTable(bytes: Uint8Array): EpisodeMeta[] {
  const { rows, columns } = decodeColumns(bytes);
  const out: EpisodeMeta[] = [];
  const videoKeys = new Set<string>();
  const statFeatures: string[] = [];
  for (const name of Object.keys(columns)) {
    const m = /^videos\/(.+)\/chunk_index$/.exec(name);
    if (m) videoKeys.add(m[1]!);
    const s = /^stats\/(.+)\/min$/.exec(name);
    if (s) statFeatures.push(s[1]!);
  }
  for (let i = 0; i < rows; i++) {
    const n = (k: string): number => Number(columns[k]![i]);
    const videos: Record<string, VideoRange> = {};
    for (const vk of videoKeys) {
      videos[vk] = { chunk: n(`videos/${vk}/chunk_index`), file: n(`videos/${vk}/file_index`), from: n(`videos/${vk}/from_timestamp`), to: n(`videos/${vk}/to_timestamp`) };
    }
    const stats: StatsMap = {};
    for (const feat of statFeatures) {
      const fs = {} as FeatureStats;
      for (const sk of STAT_KEYS) {
        const v = columns[`stats/${feat}/${sk}`]?.[i];
        if (v !== undefined) fs[sk] = v as FeatureStats[typeof sk];
      }
      stats[feat] = fs;
    }
    const opt = (k: string): number => {
      const v = columns[k]?.[i];
      return v === null || v === undefined ? NaN : Number(v);
    };
    const cnt = (k: string): number => (Number.isFinite(opt(k)) ? opt(k) : 0);
    const success = columns['reins/success']?.[i];
    const seed = columns['reins/scene_seed']?.[i];
    const family = columns['reins/task_family']?.[i];
    out.push({
      id: String(columns['reins/episode_id']?.[i] ?? ''),
      quality: {
        droppedSteps: cnt('reins/dropped_steps'),
        repeatedFrames: cnt('reins/repeated_frames'),
        blankFrames: cnt('reins/blank_frames'),
        achievedFps: opt('reins/achieved_fps'),
        timestampDriftS: opt('reins/timestamp_drift_s'),
        interventionFrames: cnt('reins/intervention_frames'),
        takeovers: cnt('reins/takeovers'),
        success: typeof success === 'boolean' ? success : null,
      },
      scene: seed !== null && seed !== undefined && typeof family === 'string' ? { seed: Number(seed), family } : null,
      episodeIndex: n('episode_index'),
      tasks: (columns.tasks?.[i] as string[] | undefined) ?? [],
      length: n('length'),
      dataChunk: n('data/chunk_index'),
      dataFile: n('data/file_index'),
      from: n('dataset_from_index'),
      to: n('dataset_to_index'),
      videos,
      stats,
    });
  }
  return out;
}

export function decodeTasksTable(bytes: Uint8Array): string[] {
  const { rows, columns } = decodeColumns(bytes);
  const tasks: string[] = new Array(rows);
  for (let i = 0; i < rows; i++) tasks[Number(columns.task_index![i])] = String(columns.task![i]);
  return tasks;
}
