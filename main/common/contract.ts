/**
 * The typed API contract between main and the renderer, one file for both transports
 * (Electron IPC and the headless host's WebSocket):
 *   invoke   — request → response (errors cross as data: {code, message})
 *   commands — renderer → main, fire-and-forget (e-stop, jog, frame acks)
 *   events   — main → renderer streams (telemetry, problems, reasoning, frames)
 * Every request and command payload is validated at run time with zod: the renderer is untrusted.
 */
import { z } from 'zod';
import type { ApiErrorData } from './errors';
import type { CommandName, EventName, InvokeName } from './channels';
import type { CameraInfo, ControlSource, JointInfo, LoopStats, Problem, ReasoningFields } from './types';

const finite = z.number().finite();
const name = z.string().min(1).max(64);
const taskFamily = z.enum(['pick_place', 'push', 'stack']);
const path = z.string().min(1).max(1024);

export const invokeSchemas = {
  'session.get': z.object({}).strict(),
  'sim.reset': z.object({ seed: z.number().int().min(0).max(2 ** 31 - 1).optional(), family: taskFamily.optional() }).strict(),
  'policy.list': z.object({}).strict(),
  'policy.start': z.object({ policy: name, task: z.string().max(500).optional() }).strict(),
  'policy.stop': z.object({}).strict(),
  'policy.cancelLoad': z.object({}).strict(),
  'policy.settings': z
    .object({
      speculative: z.boolean().optional(),
      relaxedR: z.number().int().min(0).max(64).optional(),
      ensemble: z.enum(['off', 'temporal', 'blend']).optional(),
      planCache: z.boolean().optional(),
      reasoning: z.boolean().optional(),
      jacobi: z.boolean().optional(),
    })
    .strict(),
  'hardware.listPorts': z.object({}).strict(),
  'hardware.connect': z
    .object({
      type: z.enum(['sim_so101', 'so100_follower', 'so101_follower', 'koch_follower']),
      port: path.optional(),
      id: name,
      leader: z.object({ type: z.enum(['so100_leader', 'so101_leader', 'koch_leader']), port: path, id: name }).strict().optional(),
    })
    .strict(),
  'hardware.disconnect': z.object({}).strict(),
  'hardware.torque': z.object({ enabled: z.boolean() }).strict(),
  'hardware.health': z.object({}).strict(),
  'calibration.begin': z.object({ target: z.enum(['follower', 'leader']) }).strict(),
  'calibration.sample': z.object({}).strict(),
  'calibration.finish': z.object({}).strict(),
  'calibration.cancel': z.object({}).strict(),
  'dataset.open': z
    .object({
      /** Folder that holds <repoId>/; default: the session's datasetsRoot (<REINS_HOME or ~/.reins>/datasets). */
      root: path.optional(),
      repoId: z
        .string()
        .min(1)
        .max(128)
        .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)?$/, 'use "name" or "namespace/name": letters, digits, "_", "-", "." (not first)')
        .refine((id) => !id.includes('..'), 'a repo id never contains ".."'),
      fps: z.number().int().min(1).max(120),
      task: z.string().min(1).max(500),
      create: z.boolean(),
    })
    .strict(),
  'dataset.status': z.object({}).strict(),
  'dataset.startEpisode': z.object({ task: z.string().min(1).max(500).optional() }).strict(),
  'dataset.endEpisode': z.object({}).strict(),
  'dataset.discardEpisode': z.object({}).strict(),
  'dataset.cancelSave': z.object({}).strict(),
  'dataset.close': z.object({}).strict(),
  'dataset.episodes': z.object({}).strict(),
  'dataset.episode': z.object({ index: z.number().int().min(0) }).strict(),
  'dataset.deleteEpisode': z.object({ index: z.number().int().min(0) }).strict(),
  'dataset.recover': z.object({ action: z.enum(['recover', 'discard']) }).strict(),
  /** restoreScene: in the simulator, reset the world to the episode's recorded scene (seed, task family) before the slow approach. */
  'dataset.replay': z.object({ index: z.number().int().min(0), restoreScene: z.boolean().optional() }).strict(),
} satisfies Record<InvokeName, z.ZodType>;

export const commandSchemas = {
  estop: z.object({ engaged: z.boolean() }).strict(),
  jog: z.object({ joint: name, delta: finite.min(-20).max(20) }).strict(),
  jogCartesian: z.object({ axis: z.enum(['x', 'y', 'z']), deltaM: finite.min(-0.05).max(0.05) }).strict(),
  handback: z.object({}).strict(),
  frameAck: z.object({ camera: name }).strict(),
} satisfies Record<CommandName, z.ZodType>;

export type InvokeArgs<K extends InvokeName> = z.input<(typeof invokeSchemas)[K]>;
export type CommandArgs<K extends CommandName> = z.input<(typeof commandSchemas)[K]>;

// ---- responses and events (main → renderer; typed, not validated) ----

export interface PolicyInfo {
  id: string; // 'expert' or a bundle folder name
  /** Short, for the menu. */
  name: string;
  /** What it is (the bundle manifest's description), for a detail line. */
  description?: string;
  kind: 'scripted' | 'autoregressive' | 'chunk_regression' | 'remote';
  valid: boolean;
  problems: string[];
}

export interface PolicyStatus {
  running: boolean;
  id?: string;
  /** A policy start in progress (loading its bundle, starting the inference process). */
  loading?: { id: string; sinceMs: number };
  task?: string;
  settings?: PolicySettings;
}

export interface PolicySettings {
  speculative: boolean;
  relaxedR: number;
  ensemble: 'off' | 'temporal' | 'blend';
  planCache: boolean;
  reasoning: boolean;
  /** Parallel (Jacobi) decoding seeded with the previous step's answer. */
  jacobi: boolean;
}

export interface SessionSnapshot {
  /** Differs after the host restarted (the renderer says so and reloads what the host has). */
  instance: string;
  robot: { type: string; id: string; connected: boolean; joints: JointInfo[] };
  cameras: CameraInfo[];
  sim?: { seed: number; family: string; instruction: string };
  rateHz: number;
  estop: boolean;
  source: ControlSource;
  /** The arm is in a latched HOLD (e-stop released, or its operator lost): only ▶ Start, Hand back or a jog moves it. */
  latched?: boolean;
  policy: PolicyStatus;
  problems: Problem[];
  dataset?: DatasetStatus;
  /** Where datasets go unless the operator picks another folder: <REINS_HOME or ~/.reins>/datasets. */
  datasetsRoot?: string;
}

export interface Telemetry {
  timeMs: number;
  tick: number;
  positions: number[];
  goal: number[];
  source: ControlSource;
  estop: boolean;
  /** See SessionSnapshot.latched. */
  latched?: boolean;
  clamped: boolean;
  watchdog: boolean;
  stats: LoopStats;
  cameras: CameraInfo[];
  success?: boolean;
  /** Who commands the arm and why, as the top bar shows it (finer than `source`). */
  control?: ControlState;
  /** The policy's queued actions (the ghost), while a policy runs — also while the operator drives (shadow). */
  plan?: ActionPlan;
}

/**
 * The control indicator. `waiting`: a policy is in control but its next chunk is still being
 * inferred (the arm keeps its last goal; not a hold). `hold`: the loop really holds, `reason` says why.
 * `replay`: a recorded episode drives the arm (`approach` while it first moves slowly to the start pose).
 */
export interface ControlState {
  mode: 'policy' | 'waiting' | 'operator' | 'hold' | 'estop' | 'replay' | 'approach';
  reason?: string;
  /** A latched HOLD (e-stop released, or its operator lost): only ▶ Start, Hand back or a jog moves the arm. */
  latched?: boolean;
}

/**
 * A policy's queued action chunk, as a ghost of what it is about to do. Goals are absolute, in the
 * robot's joint order; `queued[0]` is the goal for the next tick, one row per tick.
 */
export interface ActionPlan {
  queued: number[][];
  /** Predictions merged into each queued goal (1: one chunk; more: ensembled or blended). */
  merged: number[];
  /** The newest chunk as predicted: row i is for `offset + i` ticks from now (negative offsets: overtaken by time before it landed). */
  chunk?: { id: number; offset: number; goals: number[][] };
  /** An inference is running. */
  inflight: boolean;
  /** 'shadow': the operator drives and the policy's plan is not executed. */
  role: 'acting' | 'shadow';
  /** The gripper tip along the queued goals, projected into a camera (forward kinematics + the camera model), 0..1 of the frame; null where behind the camera. */
  tipPath?: {
    camera: string;
    /** Along `queued`. */
    points: ([number, number] | null)[];
    /** The tip now. */
    current: [number, number] | null;
    /** Along the newest chunk as predicted (`chunk.goals`), so its overtaken steps can be drawn. */
    chunk?: ([number, number] | null)[];
  };
  /** While the operator drives: the policy's goal for this tick minus the operator's, per joint. */
  disagreement?: number[];
}

/**
 * Where the boxes of VISIBLE OBJECTS live: pixel coordinates of a `width`×`height` grid made from
 * `camera`'s frame by `resize` (the policy's own input preprocessing, or the expert's render size).
 */
export interface BoxGrid {
  camera: string;
  width: number;
  height: number;
  resize: 'stretch' | 'center_crop';
}

export interface ReasoningEvent {
  timeMs: number;
  fields: ReasoningFields;
  partial: boolean; // true while decoding streams a field
  timing?: {
    prefillMs: number;
    reasoningMs: number;
    actionsMs: number;
    totalMs: number;
    acceptedTokens?: number;
    acceptanceLength?: number;
    cacheHit?: boolean;
    /** Remote policies: request to reply, the server's own inference time, and the rest (network, encoding). */
    roundTripMs?: number;
    serverMs?: number;
    networkMs?: number;
    /** Inside the inference process, encoder to last token (`totalMs` is the loop's round trip). */
    stepMs?: number;
    /** Tokens decoded this step. */
    tokens?: number;
    /** The decoding settings the step ran with (the timing view marks where they changed). */
    settings?: PolicySettings;
  };
  /** The grid the boxes of `fields.visibleObjects` are given in. */
  grid?: BoxGrid;
}

export interface DatasetStatus {
  root: string;
  repoId: string;
  fps: number;
  episodes: number;
  frames: number;
  recording: boolean;
  episodeIndex?: number;
  episodeFrames?: number;
  episodeSeconds?: number;
  /** Frames of the current episode that are not fresh captures: steps the recorder dropped plus camera frames repeated (a repeated frame is a dropped frame). */
  dropped: number;
  achievedFps?: number;
  openEpisode?: { index: number; frames: number };
  /** While the ended episode is being saved: parts done of total (tables, one per camera, commit). */
  saving?: { done: number; total: number; /** The videos are still being finished: the save can be cancelled (the episode is then discarded). */ cancellable: boolean };
}

/** One row of the episode list: the capture figures kept in the episode's metadata. */
export interface EpisodeListItem {
  index: number;
  length: number;
  task: string;
  seconds: number;
  /** Steps dropped + camera frames repeated or black. */
  lostFrames: number;
  achievedFps: number | null;
  /** Recording-clock span minus timestamp span, seconds (> 0: the data runs slow against real time). */
  driftS: number | null;
  interventionFrames: number;
  takeovers: number;
  /** Task outcome where known (simulator); null otherwise. */
  success: boolean | null;
  /** Why the episode is not real-time clean (empty when it is). */
  warnings: string[];
  /** The simulator scene it was recorded in (replay can restore it); null for a real arm or an older dataset. */
  scene: { seed: number; family: string } | null;
}

export interface FramePacket {
  camera: string;
  width: number;
  height: number;
  seq: number;
  timeMs: number;
  /** RGB24 row-major. */
  data: Uint8Array;
}

export interface EventPayloads {
  telemetry: Telemetry;
  problems: Problem[];
  reasoning: ReasoningEvent;
  session: SessionSnapshot;
  recording: DatasetStatus;
  frame: FramePacket;
}

export interface InvokeResults {
  'session.get': SessionSnapshot;
  'sim.reset': SessionSnapshot;
  'policy.list': PolicyInfo[];
  'policy.start': PolicyStatus;
  'policy.stop': PolicyStatus;
  /** Cancels a policy start that is still loading its bundle; `cancelled` false when nothing was loading. */
  'policy.cancelLoad': { cancelled: boolean };
  'policy.settings': PolicySettings;
  'hardware.listPorts': { ports: { path: string; description?: string }[]; method: string; warning?: string };
  'hardware.connect': SessionSnapshot;
  'hardware.disconnect': SessionSnapshot;
  'hardware.torque': { enabled: boolean };
  'hardware.health': { joint: string; id: number; temperatureC?: number; voltageV?: number; load?: number; errorBits: string[] }[];
  'calibration.begin': { step: string; instructions: string };
  'calibration.sample': { joints: { name: string; min: number; max: number; present: number }[] };
  'calibration.finish': { path: string };
  'calibration.cancel': { cancelled: boolean };
  'dataset.open': DatasetStatus;
  'dataset.status': DatasetStatus | null;
  'dataset.startEpisode': DatasetStatus;
  'dataset.endEpisode': DatasetStatus;
  'dataset.discardEpisode': DatasetStatus;
  /** Cancels the save of the episode being ended (discarding it) while its videos are being finished; 'busy' once the commit has begun. */
  'dataset.cancelSave': DatasetStatus;
  'dataset.close': { closed: boolean };
  'dataset.episodes': EpisodeListItem[];
  'dataset.episode': { index: number; fps: number; names: string[]; state: number[][]; action: number[][]; intervention: boolean[]; videos: Record<string, { url: string; fromS: number; toS: number }> };
  'dataset.deleteEpisode': DatasetStatus;
  'dataset.recover': DatasetStatus;
  'dataset.replay': { frames: number; scene?: { seed: number; family: string } };
}

/** Wire shape of an invoke answer. */
export type InvokeReply<K extends InvokeName> = { ok: true; value: InvokeResults[K] } | { ok: false; error: ApiErrorData };

/** The object the renderer programs against, whichever transport carries it. */
export interface ReinsApi {
  invoke<K extends InvokeName>(name: K, args: InvokeArgs<K>): Promise<InvokeResults[K]>;
  send<K extends CommandName>(name: K, args: CommandArgs<K>): void;
  on<K extends EventName>(name: K, cb: (payload: EventPayloads[K]) => void): () => void;
}

export type { InvokeName, CommandName, EventName };

/**
 * What the Electron preload exposes as `window.reins`: like ReinsApi, but `invoke` resolves to the
 * reply as data (errors lose their fields when they cross contextBridge).
 */
export interface ReinsBridge {
  invoke<K extends InvokeName>(name: K, args: InvokeArgs<K>): Promise<InvokeReply<K>>;
  send<K extends CommandName>(name: K, args: CommandArgs<K>): void;
  on<K extends EventName>(name: K, cb: (payload: EventPayloads[K]) => void): () => void;
}
