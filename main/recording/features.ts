/**
 * LeRobotDataset v3.0 metadata construction (pure: no I/O).
 *
 * Mirrors what LeRobot's own writer produces (shared/fixtures/lerobot-v3-reference):
 * info.json fields and key order, feature declarations, the file path templates and the
 * chunk/file index scheme. Reins adds three per-frame columns (declared as features, so
 * LeRobot's loader casts and returns them): `intervention`, `control_source`, `capture_time_us`
 * (int64 microseconds: LeRobot turns every scalar float feature into float32, an int64 stays exact).
 * None of them starts with `observation.` or `action`, so LeRobot policies do not take
 * them as inputs. New datasets also get the shadow-mode columns (SHADOW_FEATURE_KEYS), which
 * start neither with `observation.` nor with `action` for the same reason.
 */
import type { ControlSource } from '../common/types';

export const CODEBASE_VERSION = 'v3.0';
export const CHUNKS_SIZE = 1000;
export const DATA_FILES_SIZE_IN_MB = 100;
export const VIDEO_FILES_SIZE_IN_MB = 200;
export const DATA_PATH = 'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet';
export const VIDEO_PATH = 'videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4';
/** Reins side file: ECoT annotations and per-camera capture times, one file per data file. */
export const ANNOTATIONS_PATH = 'annotations/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet';
export const EPISODES_META_PATH = 'meta/episodes/chunk-000/file-000.parquet';
export const QUANTILES = [0.01, 0.1, 0.5, 0.9, 0.99] as const;
export const STAT_KEYS = ['min', 'max', 'mean', 'std', 'count', 'q01', 'q10', 'q50', 'q90', 'q99'] as const;
export type StatKey = (typeof STAT_KEYS)[number];

/** control_source column codes (int64). Documented in meta/reins.json and main/recording/README.md. */
export const CONTROL_SOURCE_CODES: Record<ControlSource, number> = { hold: 0, policy: 1, operator: 2, estop: 3 };
export const CONTROL_SOURCE_NAMES: ControlSource[] = ['hold', 'policy', 'operator', 'estop'];

export interface CameraSpec {
  key: string; // 'front' -> feature 'observation.images.front'
  width: number;
  height: number;
}

export interface VideoSettings {
  /** ffmpeg encoder name. */
  vcodec: 'libsvtav1' | 'libx264';
  /** Stream codec name as ffprobe reports it (what LeRobot writes into video.codec). */
  codec: 'av1' | 'h264';
  pixFmt: 'yuv420p' | 'yuv444p';
  g: number;
  crf: number;
  preset: number | string;
  fastDecode: number;
}

export interface DatasetConfig {
  repoId: string;
  fps: number;
  robotType: string | null;
  /** Joint names without suffix ('shoulder_pan'); features get '<name>.pos'. */
  jointNames: string[];
  cameras: CameraSpec[];
  /** Per camera key: encoder settings (AV1 needs >= 64x64, so small cameras may fall back to H.264). */
  video: Record<string, VideoSettings>;
  /**
   * Shadow-mode columns (`shadow_goal`, `shadow_disagreement`, `shadow_valid`): what the policy
   * asked for on frames the operator commanded. New datasets have them; datasets written before
   * them are appended to without them.
   */
  shadow?: boolean;
}

export interface FeatureSpec {
  dtype: string;
  shape: number[];
  names: string[] | null;
  info?: Record<string, unknown>;
}

export interface InfoJson {
  codebase_version: string;
  fps: number;
  features: Record<string, FeatureSpec>;
  total_episodes: number;
  total_frames: number;
  total_tasks: number;
  chunks_size: number;
  data_files_size_in_mb: number;
  video_files_size_in_mb: number;
  data_path: string;
  video_path: string | null;
  robot_type: string | null;
  splits: Record<string, string>;
}

export const DEFAULT_FEATURE_KEYS = ['timestamp', 'frame_index', 'episode_index', 'index', 'task_index'] as const;
export const EXTRA_FEATURE_KEYS = ['intervention', 'control_source', 'capture_time_us'] as const;
/**
 * Shadow mode: on a frame the operator commanded while a policy ran, `shadow_goal` is the goal the
 * policy asked for on that tick (joint order of `action`, degrees / gripper %) and
 * `shadow_disagreement` is `shadow_goal - action`; `shadow_valid` says the frame has them. On every
 * other frame (the policy in control, no policy, no action from it that tick) both are NaN and
 * `shadow_valid` is false. Their stats are over the valid frames only (`count` = valid frames).
 */
export const SHADOW_FEATURE_KEYS = ['shadow_goal', 'shadow_disagreement', 'shadow_valid'] as const;

export function videoKey(cameraKey: string): string {
  return `observation.images.${cameraKey}`;
}

export function jointFeatureNames(jointNames: string[]): string[] {
  return jointNames.map((n) => (n.endsWith('.pos') ? n : `${n}.pos`));
}

export function videoFeatureInfo(cam: CameraSpec, fps: number, v: VideoSettings): Record<string, unknown> {
  return {
    'video.height': cam.height,
    'video.width': cam.width,
    'video.codec': v.codec,
    'video.pix_fmt': v.pixFmt,
    'video.fps': fps,
    'video.channels': 3,
    has_audio: false,
    'video.g': v.g,
    'video.crf': v.crf,
    'video.preset': v.preset,
    'video.fast_decode': v.fastDecode,
    'video.video_backend': 'ffmpeg',
    'video.extra_options': {},
    is_depth_map: false,
  };
}

/** Features in LeRobot's order: user features (state, action, cameras, Reins extras), then the five defaults. */
export function buildFeatures(cfg: DatasetConfig): Record<string, FeatureSpec> {
  const names = jointFeatureNames(cfg.jointNames);
  const n = names.length;
  const f: Record<string, FeatureSpec> = {
    'observation.state': { dtype: 'float32', shape: [n], names },
    action: { dtype: 'float32', shape: [n], names: [...names] },
  };
  for (const cam of cfg.cameras) {
    const v = cfg.video[cam.key];
    if (!v) throw new Error(`no video settings for camera ${cam.key}`);
    f[videoKey(cam.key)] = {
      dtype: 'video',
      shape: [cam.height, cam.width, 3],
      names: ['height', 'width', 'channels'],
      info: videoFeatureInfo(cam, cfg.fps, v),
    };
  }
  f.intervention = { dtype: 'bool', shape: [1], names: null };
  f.control_source = { dtype: 'int64', shape: [1], names: null };
  f.capture_time_us = { dtype: 'int64', shape: [1], names: null };
  if (cfg.shadow) {
    f.shadow_goal = { dtype: 'float32', shape: [n], names: [...names] };
    f.shadow_disagreement = { dtype: 'float32', shape: [n], names: [...names] };
    f.shadow_valid = { dtype: 'bool', shape: [1], names: null };
  }
  f.timestamp = { dtype: 'float32', shape: [1], names: null };
  f.frame_index = { dtype: 'int64', shape: [1], names: null };
  f.episode_index = { dtype: 'int64', shape: [1], names: null };
  f.index = { dtype: 'int64', shape: [1], names: null };
  f.task_index = { dtype: 'int64', shape: [1], names: null };
  return f;
}

export function buildInfo(cfg: DatasetConfig, totals: { episodes: number; frames: number; tasks: number }): InfoJson {
  return {
    codebase_version: CODEBASE_VERSION,
    fps: cfg.fps,
    features: buildFeatures(cfg),
    total_episodes: totals.episodes,
    total_frames: totals.frames,
    total_tasks: totals.tasks,
    chunks_size: CHUNKS_SIZE,
    data_files_size_in_mb: DATA_FILES_SIZE_IN_MB,
    video_files_size_in_mb: VIDEO_FILES_SIZE_IN_MB,
    data_path: DATA_PATH,
    video_path: cfg.cameras.length > 0 ? VIDEO_PATH : null,
    robot_type: cfg.robotType,
    splits: { train: `0:${totals.episodes}` },
  };
}

/** Inverse of buildInfo for an existing dataset (resume). Throws a plain Error with the reason. */
export function configFromInfo(info: InfoJson, repoId: string): DatasetConfig {
  if (info.codebase_version !== CODEBASE_VERSION) throw new Error(`dataset is ${info.codebase_version}, Reins writes ${CODEBASE_VERSION} only`);
  const state = info.features['observation.state'];
  if (!state || !state.names) throw new Error('info.json has no observation.state feature with names');
  const cameras: CameraSpec[] = [];
  const video: Record<string, VideoSettings> = {};
  for (const [k, ft] of Object.entries(info.features)) {
    if (ft.dtype !== 'video' || !k.startsWith('observation.images.')) continue;
    const key = k.slice('observation.images.'.length);
    cameras.push({ key, height: ft.shape[0]!, width: ft.shape[1]! });
    const i = ft.info ?? {};
    const codec = i['video.codec'] === 'h264' ? 'h264' : 'av1';
    video[key] = {
      vcodec: codec === 'av1' ? 'libsvtav1' : 'libx264',
      codec,
      pixFmt: i['video.pix_fmt'] === 'yuv444p' ? 'yuv444p' : 'yuv420p',
      g: Number(i['video.g'] ?? 2),
      crf: Number(i['video.crf'] ?? 30),
      preset: (i['video.preset'] as number | string | undefined) ?? (codec === 'av1' ? 12 : 'veryfast'),
      fastDecode: Number(i['video.fast_decode'] ?? 0),
    };
  }
  return {
    repoId,
    fps: info.fps,
    robotType: info.robot_type,
    jointNames: state.names.map((n) => n.replace(/\.pos$/, '')),
    cameras,
    video,
    shadow: 'shadow_goal' in info.features,
  };
}

/** Global file sequence number -> (chunk, file), LeRobot's rollover: 1000 files a chunk. */
export function chunkFile(seq: number): { chunk: number; file: number } {
  return { chunk: Math.floor(seq / CHUNKS_SIZE), file: seq % CHUNKS_SIZE };
}

export function fileSeq(chunk: number, file: number): number {
  return chunk * CHUNKS_SIZE + file;
}

const pad3 = (n: number): string => String(n).padStart(3, '0');

export function dataPath(chunk: number, file: number): string {
  return `data/chunk-${pad3(chunk)}/file-${pad3(file)}.parquet`;
}
export function annotationsPath(chunk: number, file: number): string {
  return `annotations/chunk-${pad3(chunk)}/file-${pad3(file)}.parquet`;
}
export function videoPath(cameraKey: string, chunk: number, file: number): string {
  return `videos/${videoKey(cameraKey)}/chunk-${pad3(chunk)}/file-${pad3(file)}.mp4`;
}

/** The `huggingface` key/value metadata LeRobot's writer (HF datasets) puts in data parquet files. */
export function huggingfaceMetadata(features: Record<string, FeatureSpec>): string {
  const out: Record<string, unknown> = {};
  for (const [k, ft] of Object.entries(features)) {
    if (ft.dtype === 'video' || ft.dtype === 'image') continue;
    if (ft.shape.length === 1 && ft.shape[0] === 1) out[k] = { dtype: ft.dtype, _type: 'Value' };
    else out[k] = { feature: { dtype: ft.dtype, _type: 'Value' }, length: ft.shape[0], _type: 'List' };
  }
  return JSON.stringify({ info: { features: out } });
}

/** The `pandas` key LeRobot's loader needs in tasks.parquet to take the task text from the index. */
export function tasksPandasMetadata(): string {
  return JSON.stringify({
    index_columns: ['task'],
    column_indexes: [{ name: null, field_name: null, pandas_type: 'unicode', numpy_type: 'object', metadata: { encoding: 'UTF-8' } }],
    columns: [
      { name: 'task_index', field_name: 'task_index', pandas_type: 'int64', numpy_type: 'int64', metadata: null },
      { name: 'task', field_name: 'task', pandas_type: 'unicode', numpy_type: 'object', metadata: null },
    ],
    attributes: {},
    creator: { library: 'reins', version: '0.1.0' },
    pandas_version: '2.2.3',
  });
}
