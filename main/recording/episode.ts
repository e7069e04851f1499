/**
 * Episode/frame builder (pure: no I/O). Turns the loop's steps into the columns of one
 * LeRobot episode: `timestamp = frame_index / fps` (float32, as LeRobot), the real capture
 * time in its own column, who was in control, and the ECoT annotations for the side file.
 */
import type { ControlSource, ReasoningFields } from '../common/types';
import { CONTROL_SOURCE_CODES, CONTROL_SOURCE_NAMES, videoKey } from './features';
import { vectorStats, type FeatureStats, type StatsMap } from './stats';
import type { EpisodeQuality } from './parquet';

export interface FrameRow {
  state: number[];
  action: number[];
  /** Monotonic ms of the step (the observation's time). */
  timeMs: number;
  /** Monotonic ms each camera frame was captured (null when no frame came and the last one was repeated). */
  cameraTimesMs: Record<string, number | null>;
  source: ControlSource;
  intervention: boolean;
  reasoning?: ReasoningFields;
  /** Steps dropped by the recorder's queue so far in this episode (cumulative; journal only). */
  droppedSoFar?: number;
  /** Shadow mode: the goal the policy asked for on a tick the operator commanded (absent otherwise). */
  shadowGoal?: number[];
}

export const ANNOTATION_FIELDS = ['task', 'plan', 'subtask', 'move', 'gripper', 'visibleObjects'] as const;
export type AnnotationField = (typeof ANNOTATION_FIELDS)[number];
/** Column names in the annotations side file (snake_case). */
export const ANNOTATION_COLUMNS: Record<AnnotationField, string> = {
  task: 'task',
  plan: 'plan',
  subtask: 'subtask',
  move: 'move',
  gripper: 'gripper',
  visibleObjects: 'visible_objects',
};

export interface EpisodeColumns {
  length: number;
  dim: number;
  state: Float32Array;
  action: Float32Array;
  intervention: boolean[];
  controlSource: BigInt64Array;
  /** Microseconds since the episode's first step, on the real (or simulated) clock. */
  captureTimeUs: BigInt64Array;
  timestamp: Float32Array;
  frameIndex: BigInt64Array;
  episodeIndex: BigInt64Array;
  index: BigInt64Array;
  taskIndex: BigInt64Array;
  /** Per annotation field, one string (or null) per frame. */
  annotations: Record<AnnotationField, (string | null)[]>;
  /** Per camera key: capture time in seconds since the episode's first step (NaN when repeated). */
  cameraTimes: Record<string, Float64Array>;
  /** Shadow mode (n × dim each): the policy's goal and goal − action on operator frames, NaN elsewhere. */
  shadowGoal: Float32Array;
  shadowDisagreement: Float32Array;
  shadowValid: boolean[];
}

export class EpisodeBuilder {
  private readonly rows: FrameRow[] = [];
  constructor(
    readonly dim: number,
    readonly fps: number,
    readonly cameraKeys: string[],
  ) {}

  get length(): number {
    return this.rows.length;
  }

  /** Throws on a malformed row (a programming error upstream, not an operator condition). */
  add(row: FrameRow): void {
    if (row.state.length !== this.dim || row.action.length !== this.dim) {
      throw new Error(`step has ${row.state.length} state / ${row.action.length} action values, dataset has ${this.dim} joints`);
    }
    if (row.shadowGoal !== undefined && row.shadowGoal.length !== this.dim) {
      throw new Error(`step has a shadow goal of ${row.shadowGoal.length} values, dataset has ${this.dim} joints`);
    }
    this.rows.push(row);
  }

  allRows(): readonly FrameRow[] {
    return this.rows;
  }

  /** Keep only the first n rows (recovery: rows beyond the shortest video are dropped). */
  truncate(n: number): void {
    this.rows.length = Math.min(this.rows.length, n);
  }

  /** Measured rate over the whole episode (NaN with fewer than 2 frames). */
  achievedFps(): number {
    const n = this.rows.length;
    if (n < 2) return NaN;
    const span = this.rows[n - 1]!.timeMs - this.rows[0]!.timeMs;
    return span > 0 ? ((n - 1) * 1000) / span : NaN;
  }

  columns(episodeIndex: number, fromIndex: number, taskIndex: number): EpisodeColumns {
    return buildColumns(this.rows, this.dim, this.fps, this.cameraKeys, episodeIndex, fromIndex, taskIndex);
  }
}

export function buildColumns(
  rows: readonly FrameRow[],
  dim: number,
  fps: number,
  cameraKeys: string[],
  episodeIndex: number,
  fromIndex: number,
  taskIndex: number,
): EpisodeColumns {
  const n = rows.length;
  const t0 = n > 0 ? rows[0]!.timeMs : 0;
  const state = new Float32Array(n * dim);
  const action = new Float32Array(n * dim);
  const captureTimeUs = new BigInt64Array(n);
  const timestamp = new Float32Array(n);
  const frameIndex = new BigInt64Array(n);
  const episodeIdx = new BigInt64Array(n);
  const index = new BigInt64Array(n);
  const taskIdx = new BigInt64Array(n);
  const controlSource = new BigInt64Array(n);
  const intervention: boolean[] = new Array(n);
  const annotations = Object.fromEntries(ANNOTATION_FIELDS.map((f) => [f, new Array<string | null>(n)])) as Record<AnnotationField, (string | null)[]>;
  const cameraTimes: Record<string, Float64Array> = Object.fromEntries(cameraKeys.map((k) => [k, new Float64Array(n)]));
  const shadowGoal = new Float32Array(n * dim).fill(NaN);
  const shadowDisagreement = new Float32Array(n * dim).fill(NaN);
  const shadowValid: boolean[] = new Array(n).fill(false);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    state.set(r.state, i * dim);
    action.set(r.action, i * dim);
    captureTimeUs[i] = BigInt(Math.round((r.timeMs - t0) * 1000));
    timestamp[i] = i / fps;
    frameIndex[i] = BigInt(i);
    episodeIdx[i] = BigInt(episodeIndex);
    index[i] = BigInt(fromIndex + i);
    taskIdx[i] = BigInt(taskIndex);
    controlSource[i] = BigInt(CONTROL_SOURCE_CODES[r.source] ?? 0);
    intervention[i] = r.intervention;
    const g = r.shadowGoal;
    if (g !== undefined && g.length === dim && g.every(Number.isFinite)) {
      shadowValid[i] = true;
      for (let j = 0; j < dim; j++) {
        shadowGoal[i * dim + j] = g[j]!;
        shadowDisagreement[i * dim + j] = g[j]! - r.action[j]!;
      }
    }
    for (const f of ANNOTATION_FIELDS) annotations[f][i] = r.reasoning?.[f] ?? null;
    for (const k of cameraKeys) {
      const t = r.cameraTimesMs[k];
      cameraTimes[k]![i] = t === null || t === undefined ? NaN : (t - t0) / 1000;
    }
  }
  return { length: n, dim, state, action, intervention, controlSource, captureTimeUs, timestamp, frameIndex, episodeIndex: episodeIdx, index, taskIndex: taskIdx, annotations, cameraTimes, shadowGoal, shadowDisagreement, shadowValid };
}

/**
 * Capture figures of an episode from its rows: a camera time of null means the camera had no
 * new frame for that step (the previous one was written again, or black before its first frame).
 */
export function episodeQuality(rows: readonly FrameRow[], fps: number, cameraKeys: string[], droppedSteps: number, success: boolean | null = null): EpisodeQuality {
  const n = rows.length;
  let repeatedFrames = 0;
  let blankFrames = 0;
  for (const k of cameraKeys) {
    let seen = false;
    for (const r of rows) {
      const t = r.cameraTimesMs[k];
      if (t === null || t === undefined) {
        if (seen) repeatedFrames++;
        else blankFrames++;
      } else seen = true;
    }
  }
  let interventionFrames = 0;
  let takeovers = 0;
  rows.forEach((r, i) => {
    if (!r.intervention) return;
    interventionFrames++;
    if (i === 0 || !rows[i - 1]!.intervention) takeovers++;
  });
  const spanS = n > 1 ? (rows[n - 1]!.timeMs - rows[0]!.timeMs) / 1000 : 0;
  return {
    droppedSteps,
    repeatedFrames,
    blankFrames,
    achievedFps: n > 1 && spanS > 0 ? (n - 1) / spanS : NaN,
    timestampDriftS: n > 1 ? spanS - (n - 1) / fps : 0,
    interventionFrames,
    takeovers,
    success,
  };
}

/** Why an episode's capture is not real-time clean (lost frames, low rate, timestamp drift), in the operator's words; empty when it is. */
export function qualityWarnings(q: EpisodeQuality, fps: number, length: number): string[] {
  const w: string[] = [];
  if (q.droppedSteps > 0) w.push(`${q.droppedSteps} step(s) dropped`);
  if (q.repeatedFrames > 0) w.push(`${q.repeatedFrames} repeated camera frame(s)`);
  if (q.blankFrames > 0) w.push(`${q.blankFrames} black camera frame(s)`);
  if (Number.isFinite(q.achievedFps) && q.achievedFps < 0.9 * fps) w.push(`recorded at ${q.achievedFps.toFixed(1)} fps, below ${fps}`);
  const durS = length / fps;
  if (Number.isFinite(q.timestampDriftS) && Math.abs(q.timestampDriftS) > Math.max(0.1, 0.05 * durS)) w.push(`timestamps drift ${q.timestampDriftS.toFixed(2)} s from the recording clock`);
  return w;
}

/** Stats for every non-video feature of an episode (video stats come from ImageStatsAccumulator). */
export function columnStats(c: EpisodeColumns, shadow = false): StatsMap {
  const num = (a: ArrayLike<number | bigint | boolean>): Float64Array => Float64Array.from(Array.from(a, (x) => Number(x)));
  const shadowStats: StatsMap = shadow
    ? {
        shadow_goal: vectorStats(c.shadowGoal, c.length, c.dim, { skipNaN: true }),
        shadow_disagreement: vectorStats(c.shadowDisagreement, c.length, c.dim, { skipNaN: true }),
        shadow_valid: vectorStats(num(c.shadowValid), c.length, 1),
      }
    : {};
  return {
    ...shadowStats,
    'observation.state': vectorStats(c.state, c.length, c.dim),
    action: vectorStats(c.action, c.length, c.dim),
    intervention: vectorStats(num(c.intervention), c.length, 1),
    control_source: vectorStats(num(c.controlSource), c.length, 1),
    capture_time_us: vectorStats(num(c.captureTimeUs), c.length, 1),
    timestamp: vectorStats(c.timestamp, c.length, 1),
    frame_index: vectorStats(num(c.frameIndex), c.length, 1),
    episode_index: vectorStats(num(c.episodeIndex), c.length, 1),
    index: vectorStats(num(c.index), c.length, 1),
    task_index: vectorStats(num(c.taskIndex), c.length, 1),
  };
}

/** Stats in the dataset's feature order (features minus none: cameras included). */
export function orderStatsByFeatures(stats: StatsMap, featureKeys: string[]): StatsMap {
  const out: StatsMap = {};
  for (const k of featureKeys) {
    const s = stats[k];
    if (s) out[k] = s;
  }
  return out;
}

export function cameraStatsKey(cameraKey: string): string {
  return videoKey(cameraKey);
}

// ---- journal (crash staging) encoding: one JSON line per frame ----

interface JournalLine {
  d?: number;
  t: number;
  c: Record<string, number | null>;
  s: number[];
  a: number[];
  src: ControlSource;
  iv: boolean;
  r?: ReasoningFields;
  /** shadow goal */
  g?: number[];
}

export function encodeJournalLine(r: FrameRow): string {
  const line: JournalLine = { t: r.timeMs, c: r.cameraTimesMs, s: r.state, a: r.action, src: r.source, iv: r.intervention };
  if (r.reasoning) line.r = r.reasoning;
  if (r.droppedSoFar) line.d = r.droppedSoFar;
  if (r.shadowGoal) line.g = r.shadowGoal;
  return JSON.stringify(line) + '\n';
}

/** Parses complete lines; a torn last line (the crash point) is ignored. */
export function decodeJournal(text: string): FrameRow[] {
  const out: FrameRow[] = [];
  const lines = text.split('\n');
  // the last element is '' after a complete final line, or a torn fragment: skip it either way
  for (let i = 0; i < lines.length - 1; i++) {
    const l = lines[i]!;
    if (!l) continue;
    let j: JournalLine;
    try {
      j = JSON.parse(l) as JournalLine;
    } catch {
      break;
    }
    if (!Array.isArray(j.s) || !Array.isArray(j.a) || !CONTROL_SOURCE_NAMES.includes(j.src)) break;
    const row: FrameRow = { state: j.s, action: j.a, timeMs: j.t, cameraTimesMs: j.c ?? {}, source: j.src, intervention: !!j.iv };
    if (j.r) row.reasoning = j.r;
    if (j.d) row.droppedSoFar = j.d;
    if (Array.isArray(j.g) && j.g.length === j.a.length) row.shadowGoal = j.g;
    out.push(row);
  }
  return out;
}

export type { FeatureStats };
