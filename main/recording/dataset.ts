/**
 * LeRobotDataset v3.0 on disk (I/O). Owns the folder: creates or opens it, appends finished
 * episodes, deletes episodes, recovers an episode interrupted by a crash.
 *
 * Durability model (see README.md):
 * - every episode gets its own data file, annotations file and one mp4 per camera (LeRobot's
 *   "split" layout; LeRobot itself writes this with small size limits), written to a temp name,
 *   fsynced and renamed, so no file that the metadata references is ever rewritten in place;
 * - `meta/episodes/chunk-000/file-000.parquet` is the commit point: it is replaced atomically
 *   (temp + fsync + rename + directory fsync) after the episode's files are durable; then
 *   `meta/stats.json` and `meta/info.json` are replaced the same way;
 * - on open, files nobody references (a crash before the commit) and temp files are removed,
 *   and info.json/stats.json are rebuilt from the episodes table if a crash hit between the
 *   commit and their rewrite. Episode indices are positional, so they never have gaps;
 * - the episode being recorded lives in `.reins/open-episode/` (a frame journal plus one
 *   fragmented mp4 per camera); after a kill it is reported by `openEpisode()` and can be
 *   recovered (`recoverOpen`) or discarded (`discardOpen`).
 */
import { promises as fsp } from 'node:fs';
import { spawn } from 'node:child_process';
import { join, relative } from 'node:path';
import { ReinsError } from '../common/errors';
import {
  buildFeatures,
  buildInfo,
  chunkFile,
  configFromInfo,
  dataPath,
  annotationsPath,
  videoPath,
  fileSeq,
  huggingfaceMetadata,
  videoKey,
  EPISODES_META_PATH,
  CONTROL_SOURCE_CODES,
  type DatasetConfig,
  type InfoJson,
} from './features';
import { buildColumns, columnStats, decodeJournal, episodeQuality, orderStatsByFeatures, ANNOTATION_COLUMNS, ANNOTATION_FIELDS, type EpisodeColumns, type FrameRow } from './episode';
import { decodeColumns, decodeEpisodesTable, decodeTasksTable, encodeAnnotationsTable, encodeDataTable, encodeEpisodesTable, encodeTasksTable, type EpisodeMeta, type SceneRef } from './parquet';
import { aggregateStats, orderedStats, vectorStats, ImageStatsAccumulator, type FeatureStats, type StatsMap } from './stats';
import { atomicWrite, durableRename, exists, fsyncPath, ioError, isTmpName } from './fsutil';
import { countDecodableFrames, ffmpegBin, remuxEpisode } from './encoder';

export const STAGING_DIR = '.reins/open-episode';
/** An episode's files are written here and moved into data/, annotations/ and videos/ only just before the commit. */
const COMMIT_DIR = '.reins/commit';
const LOCK_FILE = '.reins/lock';
const REINS_META = 'meta/reins.json';

export interface StagedEpisodeManifest {
  /** Random id, stored with the committed episode: recovery drops a staging folder whose episode is already committed. */
  id?: string;
  task: string;
  startedAt: string; // ISO wall-clock time
  fps: number;
  cameras: string[];
  /** The simulator scene at the episode's start (kept through a recovery). */
  scene?: SceneRef | null;
}

export interface OpenEpisodeInfo {
  task: string;
  startedAt: string;
  /** Complete frames in the journal (the recoverable length may be shorter if a video is cut shorter). */
  frames: number;
  cameras: string[];
}

export interface FinishedEpisode {
  task: string;
  /** The staged episode's id (StagedEpisodeManifest.id). */
  id?: string;
  /** Steps the recorder dropped (queue full); the other capture figures come from the rows. */
  droppedSteps?: number;
  /** Task outcome where known (the simulator). */
  success?: boolean | null;
  /** The simulator scene (seed, task family) the episode was recorded in. */
  scene?: SceneRef | null;
  rows: readonly FrameRow[];
  /** Per camera key: staged fragmented mp4 and how many frames it holds. */
  videos: Record<string, { staged: string; frames: number }>;
  /** Per camera key: image stats (ImageStatsAccumulator.result()). */
  imageStats: Record<string, FeatureStats>;
}

/** Where a save stands: tables written, videos remuxed (one step per camera), commit, done. */
export interface SaveProgress {
  /** 'encoding': the recorder is finishing the episode's videos (before the dataset's own steps). */
  step: 'encoding' | 'tables' | 'videos' | 'commit' | 'done';
  done: number;
  total: number;
}

export interface EpisodeData {
  columns: EpisodeColumns;
  /** Absolute mp4 path and the episode's range inside it, per camera key. */
  videos: Record<string, { path: string; from: number; to: number }>;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readBytes(path: string): Promise<Uint8Array> {
  const b = await fsp.readFile(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export class LeRobotDataset {
  private eps: EpisodeMeta[] = [];
  private taskList: string[] = [];
  private locked = false;

  private constructor(
    readonly root: string,
    readonly config: DatasetConfig,
  ) {}

  // ---------- lifecycle ----------

  /** Creates a new, empty dataset. Refuses a folder that already holds one. */
  static async create(root: string, config: DatasetConfig): Promise<LeRobotDataset> {
    validateConfig(config);
    if (await exists(join(root, 'meta/info.json'))) {
      throw new ReinsError('recording_error', `A dataset already exists in ${root}. Open it to append episodes, or choose another folder.`);
    }
    const ds = new LeRobotDataset(root, config);
    try {
      await fsp.mkdir(join(root, 'meta'), { recursive: true });
      await ds.acquireLock();
      await atomicWrite(join(root, 'meta/tasks.parquet'), encodeTasksTable([]));
      await ds.writeReinsMeta();
      await atomicWrite(join(root, 'meta/info.json'), JSON.stringify(ds.info(), null, 4));
    } catch (err) {
      await ds.close();
      throw ioError(err, 'creating the dataset');
    }
    return ds;
  }

  /** Opens an existing dataset written by Reins for appending, review, delete and recovery. */
  static async open(root: string, repoId?: string): Promise<LeRobotDataset> {
    let info: InfoJson;
    try {
      info = JSON.parse(await fsp.readFile(join(root, 'meta/info.json'), 'utf8')) as InfoJson;
    } catch (err) {
      throw new ReinsError('not_found', `No LeRobot dataset in ${root} (meta/info.json is missing or unreadable).`, { cause: String(err) });
    }
    let config: DatasetConfig;
    try {
      config = configFromInfo(info, repoId ?? root.split(/[\\/]/).filter(Boolean).slice(-1)[0] ?? 'dataset');
    } catch (err) {
      throw new ReinsError('recording_error', `Cannot open ${root}: ${(err as Error).message}.`);
    }
    const expected = Object.keys(buildFeatures(config));
    const actual = Object.keys(info.features);
    if (info.features.capture_time?.dtype === 'float64') {
      throw new ReinsError('recording_error', `${root} was recorded by an earlier Reins (capture_time float64, and task metadata pyarrow cannot see): LeRobot's loader rejects it, and Reins does not append to it. Record into a new dataset.`);
    }
    if (expected.length !== actual.length || expected.some((k) => !(k in info.features))) {
      throw new ReinsError('recording_error', `${root} was not written by Reins (features ${actual.join(', ')}); Reins can read it but not append to it.`);
    }
    const ds = new LeRobotDataset(root, config);
    await ds.acquireLock();
    try {
      const tasksPath = join(root, 'meta/tasks.parquet');
      ds.taskList = (await exists(tasksPath)) ? decodeTasksTable(await readBytes(tasksPath)) : [];
      const epPath = join(root, EPISODES_META_PATH);
      ds.eps = (await exists(epPath)) ? decodeEpisodesTable(await readBytes(epPath)) : [];
      ds.eps.forEach((e, i) => {
        if (e.episodeIndex !== i) throw new ReinsError('recording_error', `Episode table of ${root} is inconsistent: row ${i} holds episode ${e.episodeIndex}.`);
      });
      await ds.collectGarbage();
      await ds.repairTasks();
      await ds.dropCommittedStaging();
      const totals = ds.totals();
      if (info.total_episodes !== totals.episodes || info.total_frames !== totals.frames || info.total_tasks !== totals.tasks || !(await exists(join(root, 'meta/stats.json')))) {
        await ds.writeSummaryMeta(); // a crash hit between the commit and the info/stats rewrite
      }
    } catch (err) {
      await ds.close();
      throw err instanceof ReinsError ? err : ioError(err, 'opening the dataset');
    }
    return ds;
  }

  async close(): Promise<void> {
    if (!this.locked) return;
    this.locked = false;
    await fsp.rm(join(this.root, LOCK_FILE), { force: true }).catch(() => undefined);
  }

  private async acquireLock(): Promise<void> {
    const path = join(this.root, LOCK_FILE);
    await fsp.mkdir(join(this.root, '.reins'), { recursive: true });
    try {
      const pid = parseInt(await fsp.readFile(path, 'utf8'), 10);
      if (Number.isFinite(pid) && pid !== process.pid && pidAlive(pid)) {
        throw new ReinsError('busy', `The dataset in ${this.root} is open in another Reins process (pid ${pid}). Close it there first.`);
      }
    } catch (err) {
      if (err instanceof ReinsError) throw err;
    }
    await atomicWrite(path, String(process.pid));
    this.locked = true;
  }

  // ---------- queries ----------

  get episodes(): readonly EpisodeMeta[] {
    return this.eps;
  }
  get tasks(): readonly string[] {
    return this.taskList;
  }
  get totalFrames(): number {
    return this.eps.length > 0 ? this.eps[this.eps.length - 1]!.to : 0;
  }
  get cameraKeys(): string[] {
    return this.config.cameras.map((c) => c.key);
  }
  stagingDir(): string {
    return join(this.root, STAGING_DIR);
  }

  totals(): { episodes: number; frames: number; tasks: number } {
    return { episodes: this.eps.length, frames: this.totalFrames, tasks: this.taskList.length };
  }

  info(): InfoJson {
    return buildInfo(this.config, this.totals());
  }

  private featureKeys(): string[] {
    return Object.keys(buildFeatures(this.config));
  }

  private nextSeq(): number {
    let max = -1;
    for (const e of this.eps) {
      max = Math.max(max, fileSeq(e.dataChunk, e.dataFile));
      for (const v of Object.values(e.videos)) max = Math.max(max, fileSeq(v.chunk, v.file));
    }
    return max + 1;
  }

  private async readManifest(): Promise<StagedEpisodeManifest | undefined> {
    try {
      return JSON.parse(await fsp.readFile(join(this.stagingDir(), 'episode.json'), 'utf8')) as StagedEpisodeManifest;
    } catch {
      return undefined;
    }
  }

  /**
   * A staging folder whose episode is already committed (a kill between the commit and the
   * folder's removal) is removed: recovering it again would duplicate the episode.
   */
  private async dropCommittedStaging(): Promise<boolean> {
    const m = await this.readManifest();
    if (!m?.id || !this.eps.some((e) => e.id === m.id)) return false;
    await fsp.rm(this.stagingDir(), { recursive: true, force: true });
    return true;
  }

  /** The interrupted episode left by a crash, if any. */
  async openEpisode(): Promise<OpenEpisodeInfo | undefined> {
    const dir = this.stagingDir();
    const manifest = await this.readManifest();
    if (!manifest || (await this.dropCommittedStaging())) return undefined;
    const journal = await fsp.readFile(join(dir, 'frames.ndjson'), 'utf8').catch(() => '');
    return { task: manifest.task, startedAt: manifest.startedAt, frames: decodeJournal(journal).length, cameras: manifest.cameras };
  }

  // ---------- writing ----------

  /**
   * Makes a finished episode durable and commits it. The dataset on disk is unchanged if this throws.
   * The episode's files are written under .reins/commit/ and moved into data/, annotations/ and
   * videos/ only once all are durable, right before the commit (so LeRobot's loader, which loads
   * every data/chunk-NNN/file-NNN.parquet, never sees a half-saved episode for longer than a few renames).
   */
  async appendEpisode(ep: FinishedEpisode, onProgress?: (p: SaveProgress) => void): Promise<EpisodeMeta> {
    const cams = this.cameraKeys;
    let n = ep.rows.length;
    for (const k of cams) n = Math.min(n, ep.videos[k]?.frames ?? 0);
    if (n === 0) throw new ReinsError('recording_error', 'The episode has no frames; nothing was saved.');
    const rows = ep.rows.slice(0, n);
    if (ep.id && this.eps.some((e) => e.id === ep.id)) throw new ReinsError('recording_error', `This episode is already saved (episode ${this.eps.findIndex((e) => e.id === ep.id)}).`);
    const progress = (step: SaveProgress['step'], done: number, total: number): void => {
      try {
        onProgress?.({ step, done, total });
      } catch {
        // a listener's failure must not stop the save
      }
    };
    const total = 2 + cams.length;
    progress('tables', 0, total);

    const episodeIndex = this.eps.length;
    const from = this.totalFrames;
    const newTasks = this.taskList.includes(ep.task) ? this.taskList : [...this.taskList, ep.task];
    const taskIndex = newTasks.indexOf(ep.task);
    const { chunk, file } = chunkFile(this.nextSeq());
    const cols = buildColumns(rows, this.config.jointNames.length, this.config.fps, cams, episodeIndex, from, taskIndex);
    const stats = columnStats(cols, this.config.shadow === true);
    for (const k of cams) stats[videoKey(k)] = orderedStats(ep.imageStats[k] ?? new ImageStatsAccumulator(1, 1).result());

    const meta: EpisodeMeta = {
      episodeIndex,
      tasks: [ep.task],
      length: n,
      dataChunk: chunk,
      dataFile: file,
      from,
      to: from + n,
      videos: {},
      stats: orderStatsByFeatures(stats, this.featureKeys()),
      id: ep.id ?? '',
      scene: ep.scene ?? null,
      quality: episodeQuality(rows, this.config.fps, cams, ep.droppedSteps ?? rows[rows.length - 1]?.droppedSoFar ?? 0, ep.success ?? null),
    };
    const staging = join(this.root, COMMIT_DIR);
    const moves: [string, string][] = []; // [staged, final]
    const placed: string[] = [];
    try {
      await this.freshCommitDir();
      await this.stageTables(cols, chunk, file, moves);
      progress('videos', 1, total);
      let done = 1;
      await Promise.all(
        cams.map(async (k) => {
          const rel = videoPath(k, chunk, file);
          const p = this.commitPath(rel);
          await remuxEpisode(ep.videos[k]!.staged, p, n, this.config.fps);
          await fsyncPath(p);
          moves.push([p, join(this.root, rel)]);
          meta.videos[videoKey(k)] = { chunk, file, from: 0, to: n / this.config.fps };
          progress('videos', ++done, total);
        }),
      );
      meta.videos = Object.fromEntries(cams.map((k) => [videoKey(k), meta.videos[videoKey(k)]!]));
      progress('commit', total - 1, total);
      await this.placeStaged(moves, placed);
      if (newTasks !== this.taskList) await atomicWrite(join(this.root, 'meta/tasks.parquet'), encodeTasksTable(newTasks));
      await this.commitEpisodes([...this.eps, meta]);
    } catch (err) {
      for (const p of placed) await fsp.rm(p, { force: true }).catch(() => undefined);
      if (newTasks !== this.taskList) await atomicWrite(join(this.root, 'meta/tasks.parquet'), encodeTasksTable(this.taskList)).catch(() => undefined);
      await fsp.rm(staging, { recursive: true, force: true }).catch(() => undefined);
      throw ioError(err, 'saving the episode');
    }
    this.eps.push(meta);
    this.taskList = newTasks;
    await fsp.rm(staging, { recursive: true, force: true }).catch(() => undefined);
    await this.writeSummaryMeta().catch((err: unknown) => {
      // committed already; info/stats are rebuilt on next open
      throw ioError(err, 'updating info.json');
    });
    progress('done', total, total);
    return meta;
  }

  private async commitEpisodes(rows: EpisodeMeta[]): Promise<void> {
    const bytes = encodeEpisodesTable(rows, this.cameraKeys.map(videoKey), this.featureKeys());
    await atomicWrite(join(this.root, EPISODES_META_PATH), bytes);
  }

  private async writeSummaryMeta(): Promise<void> {
    if (this.eps.length > 0) {
      const agg = aggregateStats(this.eps.map((e) => e.stats));
      await atomicWrite(join(this.root, 'meta/stats.json'), JSON.stringify(orderStatsByFeatures(agg, this.featureKeys()), null, 4));
    } else {
      await fsp.rm(join(this.root, 'meta/stats.json'), { force: true });
    }
    await atomicWrite(join(this.root, 'meta/info.json'), JSON.stringify(this.info(), null, 4));
  }

  private async writeReinsMeta(): Promise<void> {
    const doc = {
      writer: 'reins',
      note: 'Extra per-frame columns and side files written by Reins; LeRobot ignores this file.',
      extra_columns: {
        intervention: 'bool: the operator (not the policy) commanded this frame',
        control_source: { dtype: 'int64', codes: CONTROL_SOURCE_CODES },
        capture_time_us: 'int64: microseconds since the episode\'s first frame on the recording clock (timestamp is frame_index / fps)',
        ...(this.config.shadow
          ? {
              shadow_goal: 'float32 per joint: the goal the policy asked for on a frame the operator commanded (shadow mode); NaN on other frames',
              shadow_disagreement: 'float32 per joint: shadow_goal - action; NaN on other frames',
              shadow_valid: 'bool: the frame has shadow_goal / shadow_disagreement (their stats count only these frames)',
            }
          : {}),
      },
      annotations: {
        path: 'annotations/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet (same chunk/file index as the data file)',
        columns: ['index', 'episode_index', 'frame_index', ...ANNOTATION_FIELDS.map((f) => ANNOTATION_COLUMNS[f]), 'capture_time/<camera key>'],
      },
    };
    await atomicWrite(join(this.root, REINS_META), JSON.stringify(doc, null, 2));
  }

  /**
   * tasks.parquet as the committed episodes say (each episode's task text and its task_index,
   * from its stats): a crash between writing tasks.parquet and committing the episodes table
   * (append: a new task; delete: a task removed) is repaired here.
   */
  private async repairTasks(): Promise<void> {
    const byIndex = new Map<number, string>();
    for (const e of this.eps) {
      const ti = Number((e.stats.task_index?.min as number[] | undefined)?.[0]);
      const text = e.tasks[0];
      if (!Number.isInteger(ti) || text === undefined) return; // not derivable: leave the file as it is
      byIndex.set(ti, text);
    }
    const tasks: string[] = [];
    for (let i = 0; i < byIndex.size; i++) {
      const t = byIndex.get(i);
      if (t === undefined) return;
      tasks.push(t);
    }
    if (tasks.length === this.taskList.length && tasks.every((t, i) => t === this.taskList[i])) return;
    this.taskList = tasks;
    await atomicWrite(join(this.root, 'meta/tasks.parquet'), encodeTasksTable(tasks));
  }

  /**
   * Removes an episode; later episodes move down by one and a task no episode uses any more
   * leaves tasks.parquet. Rewritten data files are staged under .reins/commit/ and get new file
   * indices; the episodes table is committed atomically; then the old files are removed.
   */
  async deleteEpisode(index: number): Promise<void> {
    if (!Number.isInteger(index) || index < 0 || index >= this.eps.length) {
      throw new ReinsError('not_found', `There is no episode ${index} (the dataset has ${this.eps.length}).`);
    }
    const del = this.eps[index]!;
    const remaining = this.eps.filter((_, i) => i !== index);
    const used = new Set(remaining.flatMap((e) => e.tasks));
    const newTasks = this.taskList.filter((t) => used.has(t));
    const oldFiles: string[] = [...this.episodeFiles(del)];
    const staging = join(this.root, COMMIT_DIR);
    const moves: [string, string][] = [];
    const placed: string[] = [];
    const next: EpisodeMeta[] = [];
    let seq = this.nextSeq();
    let from = 0;
    try {
      await this.freshCommitDir();
      for (const [i, e] of remaining.entries()) {
        const task = e.tasks[0] ?? '';
        const oldTi = this.taskList.indexOf(task);
        const newTi = newTasks.indexOf(task);
        if (i === e.episodeIndex && oldTi === newTi) {
          next.push(e);
          from += e.length;
          continue;
        }
        const data = await this.readColumns(e);
        const cols: EpisodeColumns = {
          ...data,
          episodeIndex: data.episodeIndex.map(() => BigInt(i)),
          index: data.index.map((_, k) => BigInt(from + k)),
          taskIndex: data.taskIndex.map(() => BigInt(newTi)),
        };
        const { chunk, file } = chunkFile(seq++);
        await this.stageTables(cols, chunk, file, moves);
        oldFiles.push(join(this.root, dataPath(e.dataChunk, e.dataFile)), join(this.root, annotationsPath(e.dataChunk, e.dataFile)));
        const stats: StatsMap = { ...e.stats };
        stats.episode_index = vectorStats(Float64Array.from(cols.episodeIndex, Number), cols.length, 1);
        stats.index = vectorStats(Float64Array.from(cols.index, Number), cols.length, 1);
        stats.task_index = vectorStats(Float64Array.from(cols.taskIndex, Number), cols.length, 1);
        next.push({ ...e, episodeIndex: i, from, to: from + e.length, dataChunk: chunk, dataFile: file, stats: orderStatsByFeatures(stats, this.featureKeys()) });
        from += e.length;
      }
      await this.placeStaged(moves, placed);
      await this.commitEpisodes(next);
    } catch (err) {
      for (const p of placed) await fsp.rm(p, { force: true }).catch(() => undefined);
      await fsp.rm(staging, { recursive: true, force: true }).catch(() => undefined);
      throw ioError(err, `deleting episode ${index}`);
    }
    this.eps = next;
    await fsp.rm(staging, { recursive: true, force: true }).catch(() => undefined);
    if (newTasks.length !== this.taskList.length) await atomicWrite(join(this.root, 'meta/tasks.parquet'), encodeTasksTable(newTasks));
    this.taskList = newTasks;
    await this.writeSummaryMeta();
    for (const p of oldFiles) await fsp.rm(p, { force: true }).catch(() => undefined);
  }

  /** An empty .reins/commit/: an episode's files are written there first and moved into place just before the commit. */
  private async freshCommitDir(): Promise<void> {
    const dir = join(this.root, COMMIT_DIR);
    await fsp.rm(dir, { recursive: true, force: true });
    await fsp.mkdir(dir, { recursive: true });
  }

  /** Where the file `rel` (relative to the root) is staged in .reins/commit/. */
  private commitPath(rel: string): string {
    return join(this.root, COMMIT_DIR, rel.replaceAll('/', '__'));
  }

  /** Stages an episode's data and annotations tables in .reins/commit/; their moves ([staged, final]) go to `moves`. */
  private async stageTables(cols: EpisodeColumns, chunk: number, file: number, moves: [string, string][]): Promise<void> {
    for (const [rel, bytes] of [
      [dataPath(chunk, file), encodeDataTable(cols, huggingfaceMetadata(buildFeatures(this.config)), this.config.shadow === true)],
      [annotationsPath(chunk, file), encodeAnnotationsTable(cols, this.cameraKeys)],
    ] as const) {
      const p = this.commitPath(rel);
      await atomicWrite(p, bytes);
      moves.push([p, join(this.root, rel)]);
    }
  }

  /** Moves the staged files into place, durably; `placed` collects each one moved (for the rollback). */
  private async placeStaged(moves: [string, string][], placed: string[]): Promise<void> {
    for (const [src, dst] of moves) {
      await durableRename(src, dst);
      placed.push(dst);
    }
  }

  private episodeFiles(e: EpisodeMeta): string[] {
    const out = [join(this.root, dataPath(e.dataChunk, e.dataFile)), join(this.root, annotationsPath(e.dataChunk, e.dataFile))];
    for (const k of this.cameraKeys) {
      const v = e.videos[videoKey(k)];
      if (v) out.push(join(this.root, videoPath(k, v.chunk, v.file)));
    }
    return out;
  }

  /** Removes temp files and files no committed episode references (left by a crash before a commit). */
  private async collectGarbage(): Promise<void> {
    const keep = new Set<string>();
    for (const e of this.eps) for (const p of this.episodeFiles(e)) keep.add(relative(this.root, p));
    const walk = async (dir: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await fsp.readdir(join(this.root, dir), { withFileTypes: true });
      } catch {
        return;
      }
      for (const ent of entries) {
        const rel = join(dir, ent.name);
        if (ent.isDirectory()) await walk(rel);
        else if (isTmpName(ent.name)) await fsp.rm(join(this.root, rel), { force: true });
        else if (dir !== 'meta' && !dir.startsWith('meta') && /^file-\d{3}\.(parquet|mp4)$/.test(ent.name) && !keep.has(rel)) {
          await fsp.rm(join(this.root, rel), { force: true });
        }
      }
    };
    for (const top of ['data', 'videos', 'annotations', 'meta']) await walk(top);
    await fsp.rm(join(this.root, COMMIT_DIR), { recursive: true, force: true });
  }

  // ---------- reading back ----------

  private async readColumns(e: EpisodeMeta): Promise<EpisodeColumns> {
    const { columns: d, rows } = decodeColumns(await readBytes(join(this.root, dataPath(e.dataChunk, e.dataFile))));
    const annPath = join(this.root, annotationsPath(e.dataChunk, e.dataFile));
    const ann = (await exists(annPath)) ? decodeColumns(await readBytes(annPath)).columns : {};
    const pick: number[] = [];
    for (let i = 0; i < rows; i++) if (Number(d.episode_index![i]) === e.episodeIndex) pick.push(i);
    const dim = this.config.jointNames.length;
    const n = pick.length;
    const flat = (col: unknown[]): Float32Array => {
      const out = new Float32Array(n * dim);
      pick.forEach((r, i) => out.set(col[r] as number[], i * dim));
      return out;
    };
    const big = (col: unknown[] | undefined): BigInt64Array => BigInt64Array.from(pick, (r) => BigInt(Number(col?.[r] ?? 0)));
    const annotations = Object.fromEntries(ANNOTATION_FIELDS.map((f) => [f, pick.map((r) => (ann[ANNOTATION_COLUMNS[f]]?.[r] as string | null | undefined) ?? null)])) as EpisodeColumns['annotations'];
    const cameraTimes: Record<string, Float64Array> = {};
    for (const k of this.cameraKeys) cameraTimes[k] = Float64Array.from(pick, (r) => (ann[`capture_time/${k}`]?.[r] as number | null | undefined) ?? NaN);
    const nanOr = (col: unknown[] | undefined): Float32Array => (col ? flat(col) : new Float32Array(n * dim).fill(NaN));
    return {
      length: n,
      dim,
      state: flat(d['observation.state']!),
      action: flat(d.action!),
      intervention: pick.map((r) => Boolean(d.intervention?.[r])),
      controlSource: big(d.control_source),
      captureTimeUs: big(d.capture_time_us),
      timestamp: Float32Array.from(pick, (r) => Number(d.timestamp![r])),
      frameIndex: big(d.frame_index),
      episodeIndex: big(d.episode_index),
      index: big(d.index),
      taskIndex: big(d.task_index),
      annotations,
      cameraTimes,
      shadowGoal: nanOr(d.shadow_goal),
      shadowDisagreement: nanOr(d.shadow_disagreement),
      shadowValid: pick.map((r) => d.shadow_valid?.[r] === true),
    };
  }

  async readEpisode(index: number): Promise<EpisodeData> {
    const e = this.eps[index];
    if (!e) throw new ReinsError('not_found', `There is no episode ${index} (the dataset has ${this.eps.length}).`);
    const columns = await this.readColumns(e);
    const videos: EpisodeData['videos'] = {};
    for (const k of this.cameraKeys) {
      const v = e.videos[videoKey(k)]!;
      videos[k] = { path: join(this.root, videoPath(k, v.chunk, v.file)), from: v.from, to: v.to };
    }
    return { columns, videos };
  }

  // ---------- crash recovery ----------

  /** Saves the interrupted episode (as many frames as every camera and the journal hold). */
  async recoverOpen(): Promise<EpisodeMeta | undefined> {
    const dir = this.stagingDir();
    const open = await this.openEpisode();
    if (!open) return undefined;
    const rows = decodeJournal(await fsp.readFile(join(dir, 'frames.ndjson'), 'utf8').catch(() => ''));
    let n = rows.length;
    const videos: FinishedEpisode['videos'] = {};
    for (const cam of this.config.cameras) {
      const staged = join(dir, `${cam.key}.mp4`);
      const frames = (await exists(staged)) ? await countDecodableFrames(staged) : 0;
      videos[cam.key] = { staged, frames };
      n = Math.min(n, frames);
    }
    if (n === 0) {
      await this.discardOpen();
      return undefined;
    }
    const imageStats: Record<string, FeatureStats> = {};
    for (const cam of this.config.cameras) imageStats[cam.key] = await imageStatsFromVideo(videos[cam.key]!.staged, n, cam.width, cam.height);
    const manifest = await this.readManifest();
    const fin: FinishedEpisode = { task: open.task, rows: rows.slice(0, n), videos, imageStats };
    if (manifest?.id) fin.id = manifest.id;
    if (manifest?.scene) fin.scene = manifest.scene;
    const meta = await this.appendEpisode(fin);
    await fsp.rm(dir, { recursive: true, force: true });
    return meta;
  }

  async discardOpen(): Promise<void> {
    await fsp.rm(this.stagingDir(), { recursive: true, force: true });
  }
}

function validateConfig(c: DatasetConfig): void {
  const bad = (m: string): never => {
    throw new ReinsError('bad_request', m);
  };
  if (!Number.isInteger(c.fps) || c.fps <= 0 || c.fps > 1000) bad(`fps must be a positive integer (got ${c.fps}).`);
  if (c.jointNames.length === 0) bad('At least one joint name is needed.');
  const keys = new Set<string>();
  for (const cam of c.cameras) {
    if (!/^[A-Za-z0-9_-]+$/.test(cam.key)) bad(`Camera key "${cam.key}" may only use letters, digits, _ and -.`);
    if (keys.has(cam.key)) bad(`Camera key "${cam.key}" is used twice.`);
    keys.add(cam.key);
    if (cam.width % 2 || cam.height % 2 || cam.width < 16 || cam.height < 16) bad(`Camera "${cam.key}" size ${cam.width}x${cam.height}: width and height must be even and at least 16 (yuv420p).`);
    if (!c.video[cam.key]) bad(`No video settings for camera "${cam.key}".`);
  }
}

/** Decodes the first `frames` frames at <= 150 px and accumulates LeRobot-style image stats. */
export async function imageStatsFromVideo(path: string, frames: number, width: number, height: number): Promise<FeatureStats> {
  const scale = Math.min(1, 150 / Math.max(width, height));
  const w = Math.max(2, Math.round((width * scale) / 2) * 2);
  const h = Math.max(2, Math.round((height * scale) / 2) * 2);
  const acc = new ImageStatsAccumulator(w, h);
  const frameBytes = w * h * 3;
  await new Promise<void>((resolve, reject) => {
    const p = spawn(ffmpegBin(), ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', path, '-frames:v', String(frames), '-vf', `scale=${w}:${h}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let buf = Buffer.alloc(0);
    p.stdout.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= frameBytes) {
        acc.add(new Uint8Array(buf.buffer, buf.byteOffset, frameBytes));
        buf = buf.subarray(frameBytes);
      }
    });
    p.on('error', reject);
    p.on('close', () => resolve());
  });
  return acc.result();
}
