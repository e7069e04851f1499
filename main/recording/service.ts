/**
 * RecordingService: the API the console (IPC / headless host) wires to the renderer's
 * recording flow. One dataset open at a time; `sink` is the StepSink to attach to the loop
 * once (it forwards to whichever recorder is current and ignores steps while idle).
 */
import type { StepSink } from '../control/types';
import type { ControlSource, Problem } from '../common/types';
import { ReinsError } from '../common/errors';
import { LeRobotDataset, type OpenEpisodeInfo } from './dataset';
import { DatasetRecorder, type EpisodeSummary, type RecordedStep, type RecorderStatus } from './recorder';
import { availableParallelism } from 'node:os';
import { autoCodec, chooseVideoSettings, requireFfmpeg, type VideoCodecChoice } from './encoder';
import { CONTROL_SOURCE_NAMES, jointFeatureNames, type CameraSpec, type DatasetConfig } from './features';
import type { EpisodeMeta, EpisodeQuality, SceneRef } from './parquet';
import { qualityWarnings } from './episode';
import type { ReasoningFields } from '../common/types';
import { ANNOTATION_FIELDS } from './episode';

export interface CreateDatasetOptions {
  /** Folder of the dataset (created). */
  root: string;
  /** '<user>/<name>' or a plain name; defaults to the folder name. */
  repoId?: string;
  fps: number;
  /** LeRobot robot type, e.g. 'so101_follower'. */
  robotType: string | null;
  /** e.g. ['shoulder_pan', ..., 'gripper'] */
  jointNames: string[];
  cameras: CameraSpec[];
  /** Default task text for new episodes. */
  task?: string;
  /** 'auto' (default): AV1 if this machine can encode all cameras in real time, else H.264 (see autoCodec). */
  codec?: VideoCodecChoice | 'auto';
  /** Recorder queue capacity in steps (default: one second). */
  queueCapacity?: number;
  /** Shadow-mode columns (default true; false writes the dataset as Reins did before them). */
  shadow?: boolean;
}

export interface OpenDatasetOptions {
  root: string;
  repoId?: string;
  task?: string;
  queueCapacity?: number;
  /**
   * What the caller will record (resume): the dataset is refused, with a message naming every
   * difference, unless fps, cameras (keys and sizes) and joints equal the dataset's. Joint names
   * compare as written in the dataset (`<joint>.pos`), with or without the suffix.
   */
  expect?: { fps?: number; cameras?: CameraSpec[]; jointNames?: string[] };
}

/** Every way the dataset differs from what is about to be recorded into it (empty: none). */
function datasetDifferences(c: DatasetConfig, expect: NonNullable<OpenDatasetOptions['expect']>): string[] {
  const out: string[] = [];
  if (expect.fps !== undefined && expect.fps !== c.fps) out.push(`fps: the dataset is ${c.fps} fps, this recording ${expect.fps} fps`);
  if (expect.jointNames) {
    const have = jointFeatureNames(c.jointNames);
    const want = jointFeatureNames(expect.jointNames);
    if (have.join(',') !== want.join(',')) out.push(`joints: the dataset has ${have.join(', ')}; this robot has ${want.join(', ')}`);
  }
  if (expect.cameras) {
    const have = new Map(c.cameras.map((x) => [x.key, x]));
    const want = new Map(expect.cameras.map((x) => [x.key, x]));
    for (const [k, h] of have) {
      const w = want.get(k);
      if (!w) out.push(`camera "${k}" (${h.width}x${h.height}) is in the dataset but not connected`);
      else if (w.width !== h.width || w.height !== h.height) out.push(`camera "${k}": the dataset records ${h.width}x${h.height}, the camera gives ${w.width}x${w.height}`);
    }
    for (const [k, w] of want) if (!have.has(k)) out.push(`camera "${k}" (${w.width}x${w.height}) is connected but not in the dataset`);
  }
  return out;
}

export interface DatasetSummary {
  root: string;
  repoId: string;
  fps: number;
  robotType: string | null;
  jointNames: string[];
  cameras: (CameraSpec & { codec: string })[];
  totalEpisodes: number;
  totalFrames: number;
  tasks: string[];
  task: string | null;
  /** An episode interrupted by a crash, waiting for recover() or discardOpen(). */
  openEpisode: OpenEpisodeInfo | null;
}

export interface EpisodeInfo {
  index: number;
  length: number;
  task: string;
  durationS: number;
  /** Capture figures kept in the episode's metadata. */
  quality: EpisodeQuality;
  /** Why the episode is not real-time clean (empty when it is). */
  warnings: string[];
  /** The simulator scene it was recorded in (null: a real arm, or recorded before Reins kept it). */
  scene: SceneRef | null;
}

export interface EpisodeReview extends EpisodeInfo {
  fps: number;
  /** Feature names, e.g. 'shoulder_pan.pos'. */
  jointNames: string[];
  /** frame_index / fps, seconds. */
  timestamps: number[];
  /** Real capture time of each step, seconds since the episode's first step. */
  captureTimes: number[];
  state: number[][];
  action: number[][];
  intervention: boolean[];
  controlSource: ControlSource[];
  /** ECoT annotations per frame (null where none). */
  annotations: Record<keyof ReasoningFields, (string | null)[]>;
  /** Per camera key: the mp4 and the episode's span in it (seek to from + timestamp). */
  videos: Record<string, { path: string; fromS: number; toS: number }>;
}

export interface ReplayEpisode {
  index: number;
  fps: number;
  jointNames: string[];
  actions: number[][];
  scene: SceneRef | null;
}

export interface RecordingStatus {
  dataset: { root: string; totalEpisodes: number; totalFrames: number; openEpisode: OpenEpisodeInfo | null } | null;
  recorder: RecorderStatus | null;
}

export interface RecordingServiceOptions {
  onProblem?: (p: Problem) => void;
}

export class RecordingService {
  private ds?: LeRobotDataset;
  private rec?: DatasetRecorder;
  private task: string | null = null;
  /** The interrupted episode as last read from disk (status() is synchronous and polled often). */
  private pending: OpenEpisodeInfo | null = null;
  private readonly opts: RecordingServiceOptions;
  /** Attach once to the loop; forwards steps to the current recorder. */
  readonly sink: StepSink & { onStep(s: RecordedStep): void } = { onStep: (s: RecordedStep) => this.rec?.onStep(s) };

  constructor(opts: RecordingServiceOptions = {}) {
    this.opts = opts;
  }

  async createDataset(o: CreateDatasetOptions): Promise<DatasetSummary> {
    await this.ensureClosed();
    requireFfmpeg();
    const codec = o.codec !== undefined && o.codec !== 'auto' ? o.codec : autoCodec(o.cameras, o.fps, availableParallelism());
    const config: DatasetConfig = {
      repoId: o.repoId ?? o.root.split(/[\\/]/).filter(Boolean).slice(-1)[0] ?? 'dataset',
      fps: o.fps,
      robotType: o.robotType,
      jointNames: o.jointNames,
      cameras: o.cameras.map((c) => ({ key: c.key, width: c.width, height: c.height })),
      video: Object.fromEntries(o.cameras.map((c) => [c.key, chooseVideoSettings(c, codec)])),
      shadow: o.shadow ?? true,
    };
    this.ds = await LeRobotDataset.create(o.root, config);
    this.rec = new DatasetRecorder(this.ds, this.recorderOpts(o.queueCapacity));
    this.task = o.task ?? null;
    return this.summary();
  }

  /** Opens an existing dataset to append (resume), review, delete or recover. */
  async openDataset(o: OpenDatasetOptions): Promise<DatasetSummary> {
    await this.ensureClosed();
    const ds = await LeRobotDataset.open(o.root, o.repoId);
    if (o.expect) {
      const diff = datasetDifferences(ds.config, o.expect);
      if (diff.length > 0) {
        await ds.close(); // no stale lock
        throw new ReinsError('bad_request', `Cannot append to ${o.root}: ${diff.join('; ')}. Record with the dataset's settings, or into a new dataset.`, { differences: diff });
      }
    }
    this.ds = ds;
    this.rec = new DatasetRecorder(this.ds, this.recorderOpts(o.queueCapacity));
    this.task = o.task ?? this.ds.tasks[this.ds.tasks.length - 1] ?? null;
    return this.summary();
  }

  /** Closes the dataset; an episode in progress is saved unless save is false. */
  async closeDataset(opts: { save?: boolean } = {}): Promise<void> {
    this.pending = null;
    await this.rec?.close(opts);
    this.rec = undefined;
    this.ds = undefined;
  }

  private async ensureClosed(): Promise<void> {
    if (this.rec?.status().state === 'recording') throw new ReinsError('busy', 'An episode is being recorded; end or discard it before switching datasets.');
    await this.closeDataset();
  }

  private recorderOpts(queueCapacity?: number): ConstructorParameters<typeof DatasetRecorder>[1] {
    const o: ConstructorParameters<typeof DatasetRecorder>[1] = {};
    if (this.opts.onProblem) o.onProblem = this.opts.onProblem;
    if (queueCapacity !== undefined) o.queueCapacity = queueCapacity;
    return o;
  }

  private need(): { ds: LeRobotDataset; rec: DatasetRecorder } {
    if (!this.ds || !this.rec) throw new ReinsError('recording_error', 'No dataset is open: create or open one first.');
    return { ds: this.ds, rec: this.rec };
  }

  async summary(): Promise<DatasetSummary> {
    const { ds } = this.need();
    const c = ds.config;
    return {
      root: ds.root,
      repoId: c.repoId,
      fps: c.fps,
      robotType: c.robotType,
      jointNames: jointFeatureNames(c.jointNames),
      cameras: c.cameras.map((cam) => ({ ...cam, codec: c.video[cam.key]!.codec })),
      totalEpisodes: ds.episodes.length,
      totalFrames: ds.totalFrames,
      tasks: [...ds.tasks],
      task: this.task,
      openEpisode: await this.interrupted(),
    };
  }

  /** The staging folder holds the episode being recorded while one is: only report it as interrupted when none is. */
  private async interrupted(): Promise<OpenEpisodeInfo | null> {
    const { ds, rec } = this.need();
    const st = rec.status().state;
    if (st === 'recording' || st === 'saving') return null;
    this.pending = (await ds.openEpisode()) ?? null;
    return this.pending;
  }

  setTask(task: string): void {
    if (!task.trim()) throw new ReinsError('bad_request', 'The task text is empty.');
    this.task = task;
  }

  /** Starts recording the next episode (index = current episode count). */
  async startEpisode(task?: string, scene: SceneRef | null = null): Promise<{ index: number; task: string }> {
    const { ds, rec } = this.need();
    const t = task ?? this.task;
    if (!t) throw new ReinsError('bad_request', 'Set the task text (what the robot should do) before recording.');
    await rec.startEpisode(t, scene);
    this.task = t;
    return { index: ds.episodes.length, task: t };
  }

  endEpisode(): Promise<EpisodeSummary> {
    return this.need().rec.endEpisode();
  }

  discardEpisode(): Promise<void> {
    return this.need().rec.discardEpisode();
  }

  /** Cancels the save of the episode being ended while its videos are being finished (the episode is discarded). */
  cancelSave(): Promise<void> {
    return this.need().rec.cancelSave();
  }

  listEpisodes(): EpisodeInfo[] {
    const { ds } = this.need();
    return ds.episodes.map((e) => this.episodeInfo(e));
  }

  private episodeInfo(e: EpisodeMeta): EpisodeInfo {
    const fps = this.need().ds.config.fps;
    return { index: e.episodeIndex, length: e.length, task: e.tasks[0] ?? '', durationS: e.length / fps, quality: e.quality, warnings: qualityWarnings(e.quality, fps, e.length), scene: e.scene ?? null };
  }

  /** Marks the episode being recorded as a success or failure (the simulator knows). */
  setOutcome(success: boolean | null): void {
    this.rec?.setOutcome(success);
  }

  async deleteEpisode(index: number): Promise<EpisodeInfo[]> {
    const { ds, rec } = this.need();
    const st = rec.status().state;
    if (st === 'recording' || st === 'saving') throw new ReinsError('busy', 'Finish the current episode before deleting one.');
    await ds.deleteEpisode(index);
    return this.listEpisodes();
  }

  async readEpisode(index: number): Promise<EpisodeReview> {
    const { ds } = this.need();
    const { columns: c, videos } = await ds.readEpisode(index);
    const meta = ds.episodes[index]!;
    const rows = (a: Float32Array): number[][] => Array.from({ length: c.length }, (_, i) => Array.from(a.subarray(i * c.dim, (i + 1) * c.dim)));
    const annotations = Object.fromEntries(ANNOTATION_FIELDS.map((f) => [f, c.annotations[f]])) as EpisodeReview['annotations'];
    return {
      ...this.episodeInfo(meta),
      length: c.length,
      durationS: c.length / ds.config.fps,
      fps: ds.config.fps,
      jointNames: jointFeatureNames(ds.config.jointNames),
      timestamps: Array.from(c.timestamp),
      captureTimes: Array.from(c.captureTimeUs, (us) => Number(us) / 1e6),
      state: rows(c.state),
      action: rows(c.action),
      intervention: c.intervention,
      controlSource: Array.from(c.controlSource, (v) => CONTROL_SOURCE_NAMES[Number(v)] ?? 'hold'),
      annotations,
      videos: Object.fromEntries(Object.entries(videos).map(([k, v]) => [k, { path: v.path, fromS: v.from, toS: v.to }])),
    };
  }

  /** The recorded actions of an episode, for replay through the loop (the safety clamp still applies there). */
  async readActions(index: number): Promise<ReplayEpisode> {
    const r = await this.readEpisode(index);
    return { index, fps: r.fps, jointNames: r.jointNames, actions: r.action, scene: r.scene };
  }

  async recoveryInfo(): Promise<OpenEpisodeInfo | null> {
    return this.interrupted();
  }

  /** Saves the episode a crash interrupted (as many frames as survived). */
  async recover(): Promise<EpisodeInfo | null> {
    const { rec } = this.need();
    const m = await rec.recover();
    this.pending = null;
    if (!m) return null;
    return this.episodeInfo(m);
  }

  async discardOpen(): Promise<void> {
    await this.need().rec.discardOpen();
    this.pending = null;
  }

  status(): RecordingStatus {
    if (!this.ds || !this.rec) return { dataset: null, recorder: null };
    return { dataset: { root: this.ds.root, totalEpisodes: this.ds.episodes.length, totalFrames: this.ds.totalFrames, openEpisode: this.pending }, recorder: this.rec.status() };
  }

  /** For producers in simulated time: resolves when the recorder's queue has room. */
  whenWritable(): Promise<void> {
    return this.rec?.whenWritable() ?? Promise.resolve();
  }
}

export type { EpisodeSummary, RecorderStatus, OpenEpisodeInfo, CameraSpec };
