/**
 * DatasetRecorder: the loop's StepSink for recording. `onStep` only copies references into a
 * bounded queue (it never blocks and never does I/O); a pump drains the queue off the tick:
 * frame journal, one ffmpeg encoder per camera, image stats. When the queue is full the step
 * is dropped and counted (the loop must never wait for the disk).
 *
 * Frames handed over in a StepRecord must not be mutated afterwards (cameras allocate a new
 * buffer per frame).
 */
import { promises as fsp } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { StepRecord, StepSink } from '../control/types';
import type { Problem } from '../common/types';
import { ReinsError, toErrorData, type ApiErrorData } from '../common/errors';
import { EpisodeBuilder, encodeJournalLine, type FrameRow } from './episode';
import { ImageStatsAccumulator } from './stats';
import { VideoEncoder } from './encoder';
import { atomicWrite, ioError } from './fsutil';
import type { FinishedEpisode, LeRobotDataset, OpenEpisodeInfo, SaveProgress, StagedEpisodeManifest } from './dataset';
import type { EpisodeMeta, EpisodeQuality, SceneRef } from './parquet';
import { qualityWarnings } from './episode';

/**
 * A loop step as the recorder takes it: the session adds, on a tick the operator commanded, the
 * goal the policy asked for on that tick (shadow mode), recorded in the shadow columns.
 */
export type RecordedStep = StepRecord & { shadowGoal?: number[] };

export type RecorderState = 'idle' | 'recording' | 'saving' | 'failed' | 'closed';

export interface RecorderOptions {
  /** Steps the queue holds before new ones are dropped (default: one second of frames). */
  queueCapacity?: number;
  /** Live problems: achieved rate below fps, dropped steps, missing camera frames, failures. */
  onProblem?: (p: Problem) => void;
  /** Clock for problem timestamps (ms). */
  nowMs?: () => number;
  /** Warn when the achieved rate over the last second is below this fraction of fps (default 0.9). */
  rateWarnFraction?: number;
  /** fsync the frame journal at most this often (ms of step time; default 1000). */
  journalSyncMs?: number;
}

export interface RecorderStatus {
  state: RecorderState;
  /** Index the current episode will get (null when idle). */
  episodeIndex: number | null;
  task: string | null;
  /** Steps accepted into the current episode. */
  frames: number;
  /** Steps written (journal + encoders) so far. */
  written: number;
  /** Steps dropped because the queue was full. */
  dropped: number;
  /** Camera frames that were missing, the wrong size or not new (same seq as the previous step): the previous frame was repeated (or black before the camera's first frame). All cameras summed. */
  missingFrames: number;
  /** Steps dropped plus camera frames repeated: every frame that is not a fresh capture. */
  lostFrames: number;
  /** While saving: which part of the save is done. */
  saving?: SaveProgress;
  /** While saving: the save can still be cancelled (the videos are being finished; the commit has not begun). */
  cancellable?: boolean;
  queueDepth: number;
  queueCapacity: number;
  /** Measured over the last second of steps (NaN before two steps). */
  achievedFps: number;
  fps: number;
  error?: ApiErrorData;
}

export interface EpisodeSummary {
  index: number;
  length: number;
  task: string;
  durationS: number;
  dropped: number;
  achievedFps: number;
  quality: EpisodeQuality;
  /** Operator-facing reasons the episode is not real-time clean (empty when it is). */
  warnings: string[];
}

export class DatasetRecorder implements StepSink {
  private state: RecorderState = 'idle';
  private queue: RecordedStep[] = [];
  private pumping?: Promise<void>;
  private builder?: EpisodeBuilder;
  private encoders = new Map<string, VideoEncoder>();
  private imageStats = new Map<string, ImageStatsAccumulator>();
  private lastFrames = new Map<string, Uint8Array>();
  private lastSeq = new Map<string, number>();
  private sizeWarned = new Set<string>();
  private episodeId = '';
  private success: boolean | null = null;
  private scene: SceneRef | null = null;
  private saveProgress?: SaveProgress;
  /** The operator cancelled the save of the episode being ended (before its commit). */
  private cancelling = false;
  /** The episode being ended is being committed to the dataset: too late to cancel. */
  private committing = false;
  private cancelDone?: Promise<void>;
  private resolveCancel?: () => void;
  private journal?: fsp.FileHandle;
  private lastSyncMs = -Infinity;
  private task: string | null = null;
  private accepted = 0;
  private dropped = 0;
  private missing = 0;
  private failure?: ReinsError;
  private recentTimes: number[] = [];
  private lastRateWarn = -Infinity;
  private lastDropWarn = -Infinity;
  private lastRepeatWarn = -Infinity;
  private writableWaiters: (() => void)[] = [];
  readonly queueCapacity: number;
  private readonly opts: RecorderOptions;

  constructor(
    readonly dataset: LeRobotDataset,
    opts: RecorderOptions = {},
  ) {
    this.opts = opts;
    this.queueCapacity = Math.max(2, opts.queueCapacity ?? dataset.config.fps);
  }

  private get fps(): number {
    return this.dataset.config.fps;
  }

  /** Begins an episode: staging folder, frame journal, one encoder per camera. `scene`: the simulator scene it starts in. */
  async startEpisode(task: string, scene: SceneRef | null = null): Promise<void> {
    if (this.state === 'closed') throw new ReinsError('recording_error', 'The recorder is closed.');
    if (this.state === 'recording' || this.state === 'saving') throw new ReinsError('busy', 'An episode is already being recorded; end or discard it first.');
    if (!task.trim()) throw new ReinsError('bad_request', 'Give the episode a task description (what the robot should do).');
    await this.reset(); // after a failure: release the old encoders and journal
    if (await this.dataset.openEpisode()) {
      throw new ReinsError('busy', 'An interrupted episode from an earlier session is waiting: recover or discard it before recording a new one.');
    }
    const dir = this.dataset.stagingDir();
    const { config } = this.dataset;
    try {
      await fsp.mkdir(dir, { recursive: true });
      this.episodeId = randomUUID();
      const manifest: StagedEpisodeManifest = { id: this.episodeId, task, startedAt: new Date().toISOString(), fps: config.fps, cameras: config.cameras.map((c) => c.key), scene };
      await atomicWrite(join(dir, 'episode.json'), JSON.stringify(manifest));
      this.journal = await fsp.open(join(dir, 'frames.ndjson'), 'w');
    } catch (err) {
      await fsp.rm(dir, { recursive: true, force: true }).catch(() => undefined);
      throw ioError(err, 'starting the episode');
    }
    this.builder = new EpisodeBuilder(config.jointNames.length, config.fps, config.cameras.map((c) => c.key));
    this.encoders.clear();
    this.imageStats.clear();
    this.lastFrames.clear();
    this.lastSeq.clear();
    this.sizeWarned.clear();
    this.success = null;
    this.scene = scene;
    this.saveProgress = undefined;
    for (const cam of config.cameras) {
      const enc = new VideoEncoder(cam, config.fps, config.video[cam.key]!, join(dir, `${cam.key}.mp4`));
      enc.start();
      this.encoders.set(cam.key, enc);
      this.imageStats.set(cam.key, new ImageStatsAccumulator(cam.width, cam.height));
    }
    this.task = task;
    this.queue = [];
    this.accepted = 0;
    this.dropped = 0;
    this.missing = 0;
    this.failure = undefined;
    this.recentTimes = [];
    this.lastSyncMs = -Infinity;
    this.lastRepeatWarn = -Infinity;
    this.state = 'recording';
  }

  /** StepSink: called on every tick. O(1), no I/O, never throws. */
  onStep(step: RecordedStep): void {
    if (this.state !== 'recording') return;
    const t = step.observation.timeMs;
    this.recentTimes.push(t);
    while (this.recentTimes.length > 2 && t - this.recentTimes[0]! > 1000) this.recentTimes.shift();
    if (this.queue.length >= this.queueCapacity) {
      this.dropped++;
      if (t - this.lastDropWarn > 2000) {
        this.lastDropWarn = t;
        this.problem('recorder:dropped', 'warning', `The recorder is falling behind: ${this.dropped} frame(s) dropped in this episode.`, 'Use fewer or smaller cameras, or a faster disk.');
      }
      return;
    }
    this.queue.push(step);
    this.accepted++;
    this.checkRate(t);
    if (!this.pumping) this.pumping = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.pump());
  }

  /** Resolves when the queue has room (for producers in simulated time, which may wait). */
  whenWritable(): Promise<void> {
    if (this.queue.length < this.queueCapacity || this.state !== 'recording') return Promise.resolve();
    return new Promise((resolve) => this.writableWaiters.push(resolve));
  }

  private checkRate(t: number): void {
    const r = this.recentTimes;
    if (r.length < 3 || (r.length < this.fps && t - r[0]! < 900)) return;
    const rate = this.achievedFps();
    const frac = this.opts.rateWarnFraction ?? 0.9;
    if (rate < this.fps * frac && t - this.lastRateWarn > 2000) {
      this.lastRateWarn = t;
      this.problem('recorder:rate', 'warning', `Recording at ${rate.toFixed(1)} fps, below the dataset's ${this.fps} fps: timestamps (frame_index / fps) will run slow against real time.`, 'Lower the camera resolution or fps, or close other programs.');
    }
  }

  private achievedFps(): number {
    const r = this.recentTimes;
    if (r.length < 2) return NaN;
    const span = r[r.length - 1]! - r[0]!;
    return span > 0 ? ((r.length - 1) * 1000) / span : NaN;
  }

  private problem(id: string, severity: Problem['severity'], message: string, tip?: string): void {
    const p: Problem = { id, severity, source: 'recorder', message, timeMs: this.opts.nowMs?.() ?? Date.now() };
    if (tip) p.tip = tip;
    try {
      this.opts.onProblem?.(p);
    } catch {
      // a listener's failure must not stop recording
    }
  }

  private async pump(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.failure) {
        const step = this.queue.shift()!;
        if (this.queue.length < this.queueCapacity) this.releaseWaiters();
        await this.writeStep(step);
      }
    } catch (err) {
      // a cancelled save kills the encoders under the pump: that is not a failure
      if (!this.cancelling) this.fail(err);
    } finally {
      this.pumping = undefined;
      this.releaseWaiters();
      if (this.queue.length > 0 && !this.failure && this.state !== 'idle') this.pumping = this.pump();
    }
  }

  private releaseWaiters(): void {
    const w = this.writableWaiters;
    this.writableWaiters = [];
    for (const r of w) r();
  }

  private fail(err: unknown): void {
    if (this.failure) return;
    this.failure = ioError(err, 'recording');
    this.state = 'failed';
    this.queue = [];
    for (const e of this.encoders.values()) void e.abort();
    this.problem('recorder:failed', 'error', this.failure.message);
    this.releaseWaiters();
  }

  private async writeStep(step: RecordedStep): Promise<void> {
    const { config } = this.dataset;
    const cameraTimesMs: Record<string, number | null> = {};
    const frames: [VideoEncoder, Uint8Array][] = [];
    for (const cam of config.cameras) {
      const f = step.observation.images[cam.key];
      let data: Uint8Array;
      const fits = f !== undefined && f.width === cam.width && f.height === cam.height && f.data.length === cam.width * cam.height * 3;
      if (fits && this.lastSeq.get(cam.key) !== f.seq) {
        data = f.data;
        cameraTimesMs[cam.key] = f.captureTimeMs;
        this.lastSeq.set(cam.key, f.seq);
      } else {
        // no new frame: the previous one is written again (black before the first), and counted
        this.missing++;
        cameraTimesMs[cam.key] = null;
        const last = this.lastFrames.get(cam.key);
        data = last ?? new Uint8Array(cam.width * cam.height * 3);
        if (step.observation.timeMs - this.lastRepeatWarn > 2000) {
          this.lastRepeatWarn = step.observation.timeMs;
          this.problem('recorder:repeated', 'warning', `Camera "${cam.key}" had no new frame for a step: ${last ? 'the previous frame was written again' : 'a black frame was written'} (${this.missing} such frame(s) in this episode, counted as dropped and kept in the episode's metadata).`, 'Lower the camera size or fps, or close other programs.');
        }
        if (f && !fits && !this.sizeWarned.has(cam.key)) {
          this.sizeWarned.add(cam.key);
          this.problem(`recorder:size:${cam.key}`, 'error', `Camera "${cam.key}" delivers ${f.width}x${f.height} frames but the dataset records ${cam.width}x${cam.height}: its frames are not recorded (${last ? 'the last good frame is repeated' : 'black frames are written'}) and the episode is marked.`, 'Discard this episode and set the camera to the dataset\'s size, or record into a new dataset.');
        }
      }
      this.lastFrames.set(cam.key, data);
      this.imageStats.get(cam.key)!.add(data);
      frames.push([this.encoders.get(cam.key)!, data]);
    }
    const row: FrameRow = {
      state: step.observation.state,
      action: step.action,
      timeMs: step.observation.timeMs,
      cameraTimesMs,
      source: step.source,
      intervention: step.intervention,
    };
    if (step.reasoning) row.reasoning = step.reasoning;
    if (step.shadowGoal !== undefined && this.dataset.config.shadow) row.shadowGoal = [...step.shadowGoal];
    if (this.dropped > 0) row.droppedSoFar = this.dropped;
    this.builder!.add(row);
    await Promise.all([this.appendJournal(row), ...frames.map(([enc, data]) => enc.write(data))]);
  }

  private async appendJournal(row: FrameRow): Promise<void> {
    const j = this.journal!;
    await j.write(encodeJournalLine(row));
    const every = this.opts.journalSyncMs ?? 1000;
    if (row.timeMs - this.lastSyncMs >= every) {
      this.lastSyncMs = row.timeMs;
      await j.sync();
    }
  }

  private async drain(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  /** Ends the episode: drains the queue, finishes the videos, commits the episode durably. */
  async endEpisode(): Promise<EpisodeSummary> {
    if (this.state === 'failed') throw this.failure!;
    if (this.state !== 'recording') throw new ReinsError('recording_error', 'No episode is being recorded.');
    this.state = 'saving';
    this.cancelling = false;
    this.committing = false;
    const encoders = [...this.encoders.values()];
    this.saveProgress = { step: 'encoding', done: 0, total: encoders.length };
    await this.drain();
    try {
      if (this.failure && !this.cancelling) throw this.failure;
      await this.journal?.sync();
      await this.journal?.close();
      this.journal = undefined;
      let finished = 0;
      await Promise.all(
        encoders.map(async (e) => {
          await e.finish();
          finished++;
          if (!this.cancelling) this.saveProgress = { step: 'encoding', done: finished, total: encoders.length };
        }),
      );
    } catch (err) {
      if (!this.cancelling) {
        this.fail(err);
        throw this.failure!;
      }
    }
    // the last moment the operator may cancel: from here on the episode is committed
    if (this.cancelling) throw await this.finishCancel();
    this.committing = true;
    const builder = this.builder!;
    if (builder.length === 0) {
      await this.discardStaging();
      this.state = 'idle';
      throw new ReinsError('recording_error', 'The episode has no frames (the loop sent no steps); nothing was saved.');
    }
    const videos: Record<string, { staged: string; frames: number }> = {};
    const imageStats: Record<string, ReturnType<ImageStatsAccumulator['result']>> = {};
    for (const [k, e] of this.encoders) {
      videos[k] = { staged: e.outPath, frames: e.frames };
      imageStats[k] = this.imageStats.get(k)!.result();
    }
    let meta: EpisodeMeta;
    try {
      const fin: FinishedEpisode = { id: this.episodeId, task: this.task!, rows: builder.allRows(), videos, imageStats, droppedSteps: this.dropped, success: this.success, scene: this.scene };
      meta = await this.dataset.appendEpisode(fin, (p) => (this.saveProgress = p));
    } catch (err) {
      // the staged episode stays on disk: it can be recovered once the cause (e.g. a full disk) is fixed
      this.failure = ioError(err, 'saving the episode');
      this.state = 'failed';
      this.problem('recorder:failed', 'error', this.failure.message);
      throw this.failure;
    }
    await fsp.rm(this.dataset.stagingDir(), { recursive: true, force: true });
    const summary: EpisodeSummary = {
      index: meta.episodeIndex,
      length: meta.length,
      task: this.task!,
      durationS: meta.length / this.fps,
      dropped: this.dropped,
      achievedFps: builder.achievedFps(),
      quality: meta.quality,
      warnings: qualityWarnings(meta.quality, this.fps, meta.length),
    };
    this.saveProgress = undefined;
    this.committing = false;
    this.state = 'idle';
    this.task = null;
    this.builder = undefined;
    return summary;
  }

  /**
   * Cancels the save of the episode being ended, while its videos are still being finished: the
   * encoders are stopped, the episode's staging is removed (nothing already committed is touched)
   * and endEpisode rejects with 'cancelled'. Once the commit has begun it is refused ('busy').
   * Resolves when the episode is gone and the recorder is idle again.
   */
  async cancelSave(): Promise<void> {
    if (this.state !== 'saving' || this.builder === undefined) throw new ReinsError('recording_error', 'No episode is being saved.');
    if (this.committing) throw new ReinsError('busy', 'too late to cancel: the episode is being committed.');
    if (!this.cancelling) {
      this.cancelling = true;
      this.queue = [];
      this.cancelDone = new Promise<void>((resolve) => (this.resolveCancel = resolve));
      this.releaseWaiters();
      for (const e of this.encoders.values()) await e.abort();
    }
    await this.cancelDone;
  }

  /** endEpisode's side of a cancel: the staging goes, the recorder is idle again; returns the error endEpisode rejects with. */
  private async finishCancel(): Promise<ReinsError> {
    const index = this.dataset.episodes.length;
    for (const e of this.encoders.values()) await e.abort();
    await this.journal?.close().catch(() => undefined);
    this.journal = undefined;
    try {
      await this.discardStaging();
    } finally {
      this.failure = undefined;
      this.saveProgress = undefined;
      this.cancelling = false;
      this.state = 'idle';
      this.task = null;
      this.builder = undefined;
      this.resolveCancel?.();
      this.resolveCancel = undefined;
    }
    return new ReinsError('cancelled', `Saving was cancelled: episode ${index} was discarded (the episodes already saved are untouched).`);
  }

  /** The task outcome of the episode being recorded, where known (the simulator); kept in its metadata. */
  setOutcome(success: boolean | null): void {
    if (this.state === 'recording' || this.state === 'saving') this.success = success;
  }

  /** Throws the episode away (re-record). */
  async discardEpisode(): Promise<void> {
    if (this.state !== 'recording' && this.state !== 'failed') throw new ReinsError('recording_error', 'No episode is being recorded.');
    this.state = 'saving';
    this.queue = [];
    await this.drain();
    for (const e of this.encoders.values()) await e.abort();
    await this.journal?.close().catch(() => undefined);
    this.journal = undefined;
    await this.discardStaging();
    this.failure = undefined;
    this.state = 'idle';
    this.task = null;
    this.builder = undefined;
    this.releaseWaiters();
  }

  private async discardStaging(): Promise<void> {
    await this.dataset.discardOpen();
  }

  /** After a failure: clears the error so recording can go on (the staged episode stays until recovered or discarded). */
  async reset(): Promise<void> {
    if (this.state !== 'failed') return;
    for (const e of this.encoders.values()) await e.abort();
    await this.journal?.close().catch(() => undefined);
    this.journal = undefined;
    this.failure = undefined;
    this.state = 'idle';
    this.task = null;
  }

  openEpisode(): Promise<OpenEpisodeInfo | undefined> {
    return this.dataset.openEpisode();
  }

  async recover(): Promise<EpisodeMeta | undefined> {
    if (this.state === 'recording' || this.state === 'saving') throw new ReinsError('busy', 'End the current episode before recovering an interrupted one.');
    await this.reset();
    return this.dataset.recoverOpen();
  }

  async discardOpen(): Promise<void> {
    if (this.state === 'recording' || this.state === 'saving') throw new ReinsError('busy', 'End the current episode first.');
    await this.reset();
    await this.dataset.discardOpen();
  }

  status(): RecorderStatus {
    const s: RecorderStatus = {
      state: this.state,
      episodeIndex: this.state === 'recording' || this.state === 'saving' ? this.dataset.episodes.length : null,
      task: this.task,
      frames: this.accepted,
      written: this.builder?.length ?? 0,
      dropped: this.dropped,
      missingFrames: this.missing,
      lostFrames: this.dropped + this.missing,
      queueDepth: this.queue.length,
      queueCapacity: this.queueCapacity,
      achievedFps: this.achievedFps(),
      fps: this.fps,
    };
    if (this.failure) s.error = toErrorData(this.failure);
    if (this.state === 'saving' && this.saveProgress) s.saving = { ...this.saveProgress };
    if (this.state === 'saving') s.cancellable = !this.committing && !this.cancelling && this.builder !== undefined;
    return s;
  }

  /** Stops recording. By default an episode in progress is saved (like lerobot-record's Esc); pass save:false to discard it. */
  async close(opts: { save?: boolean } = {}): Promise<void> {
    if (this.state === 'closed') return;
    if (this.state === 'recording') {
      if (opts.save === false) await this.discardEpisode();
      else await this.endEpisode().catch(() => undefined);
    }
    for (const e of this.encoders.values()) await e.abort();
    await this.journal?.close().catch(() => undefined);
    this.state = 'closed';
    await this.dataset.close();
  }
}
