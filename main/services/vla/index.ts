/**
 * VLA policy runner: turns a model bundle into the loop's PolicyRunner.
 *
 * `step(obs)` never blocks: it takes the action for this tick from the action queue; when the
 * queue holds fewer than g·H actions and no inference is in flight, it starts one in the inference
 * child process on this (the newest) observation. When the chunk lands it is merged into the queue
 * (ensemble 'off' | 'temporal' | 'blend'), stamped with the tick its observation was taken at, so
 * actions already overtaken by time are dropped. A crash of the child surfaces as a 'problem'
 * event with a PolicyCrashedError; `step` then returns undefined and the loop holds.
 */
import { EventEmitter } from 'node:events';
import { DEFAULT_POLICY_SETTINGS } from '../../common/settings';
import type { Observation, PolicyOutput, PolicyRunner } from '../../control/types';
import type { ReasoningFields } from '../../common/types';
import { ActionQueue, type MergeMode } from '../../../models/chunking/actionQueue';
import { PolicyProcess, type PolicyProcessOptions } from '../../../models/runtime/PolicyProcess';
import type { Manifest } from '../../../models/runtime/manifest';
import type { InferResult } from '../../../models/policies/types';
import type { PolicyObservation, RgbFrame } from '../../../models/policies/preprocess';

export { PolicyCrashedError, PolicyInferenceError, PolicyLoadError } from '../../../models/runtime/PolicyProcess';

/** Live settings; every field can change while the policy runs. */
export interface VlaSettings {
  speculative: boolean;
  /** Relaxed acceptance radius in bins for action tokens; 0 = strict. */
  relaxedR: number;
  ensemble: MergeMode;
  planCache: boolean;
  /** false = reasoning dropout (actions only). */
  reasoning: boolean;
  /** Jacobi decoding seeded with the previous answer (exact under strict acceptance); the draft runs the first step. */
  jacobi: boolean;
}

export const DEFAULT_VLA_SETTINGS: Readonly<VlaSettings> = DEFAULT_POLICY_SETTINGS;

export interface VlaRunnerOptions extends Pick<PolicyProcessOptions, 'session' | 'draftSession' | 'niceness' | 'planCacheThreshold' | 'env' | 'childEntry'> {
  name?: string;
  settings?: Partial<VlaSettings>;
  /** Refill threshold g: start inference when fewer than g·H actions remain. Default 0.5. */
  refillFraction?: number;
  /** ACT temporal-ensemble coefficient m. Default: the bundle's policy.temporalCoeff, else 0.01. */
  temporalCoeff?: number;
}

/** Per-inference latency breakdown (the reasoning panel's numbers). */
export interface VlaStepTiming {
  inferenceId: number;
  encoderMs: number;
  prefillMs: number;
  reasoningMs: number;
  actionsMs: number;
  /** Inside the child, encoder to last token. */
  totalMs: number;
  /** From the request on the loop's side to the chunk landing (includes IPC and queueing). */
  roundTripMs: number;
  tokens: number;
  reasoningTokens: number;
  actionTokens: number;
  acceptedTokens: number;
  acceptLength: number;
  cacheHit: boolean;
  valid: boolean;
  /** Ticks elapsed between the observation and the chunk landing (the inference delay d). */
  delayTicks: number;
  settings: VlaSettings;
}

export interface VlaReasoningEvent {
  inferenceId: number;
  fields: ReasoningFields;
  /** false while decoding (fields still arriving), true with the finished step. */
  final: boolean;
  cacheHit?: boolean;
}

export interface VlaRunnerEvents {
  reasoning: [VlaReasoningEvent];
  timing: [VlaStepTiming];
  /** A crash (PolicyCrashedError) or a failed inference (PolicyInferenceError). */
  problem: [Error];
}

/** What the runner has queued, relative to its next step (the console's ghost). Goals in robot joint order. */
export interface VlaPlan {
  queued: number[][];
  merged: number[];
  chunk?: { id: number; offset: number; goals: number[][] };
  inflight: boolean;
}

export interface VlaRunner extends PolicyRunner, EventEmitter<VlaRunnerEvents> {
  /** The queued goals from the next step on, and the newest chunk as predicted. */
  plan(): VlaPlan;
  readonly manifest: Manifest;
  readonly settings: Readonly<VlaSettings>;
  setSettings(patch: Partial<VlaSettings>): void;
  /** True once the inference process has crashed (the runner then only returns undefined). */
  readonly crashed: boolean;
}

/** The temporal-ensemble coefficient m a runner uses: its own option, else the bundle's (ACT imports carry ACT's), else the queue's 0.01. */
export function temporalCoeffFor(manifest: Manifest, option?: number): number | undefined {
  return option ?? (manifest.policy.kind === 'chunk_regression' ? manifest.policy.temporalCoeff : undefined);
}

const FIELD_KEYS: Record<string, keyof ReasoningFields> = {
  TASK: 'task',
  PLAN: 'plan',
  SUBTASK: 'subtask',
  MOVE: 'move',
  GRIPPER: 'gripper',
  'GRIPPER POSITION': 'gripper',
  'VISIBLE OBJECTS': 'visibleObjects',
};

export function toReasoningFields(fields: Record<string, string>): ReasoningFields {
  const out: ReasoningFields = {};
  for (const [k, v] of Object.entries(fields)) {
    const key = FIELD_KEYS[k];
    if (key !== undefined) out[key] = v;
  }
  return out;
}

class VlaRunnerImpl extends EventEmitter<VlaRunnerEvents> implements VlaRunner {
  readonly name: string;
  private s: VlaSettings;
  private readonly queue: ActionQueue;
  private tick = 0;
  private inflight = false;
  private generation = 0;
  private nextInference = 1;
  private lastFields: ReasoningFields | undefined;
  private lastState: number[] = [];
  private lastChunk: { id: number; start: number; goals: number[][] } | undefined;
  private stopped = false;
  crashed = false;
  private readonly stateIdx: number[];
  private readonly actionIdx: number[];

  constructor(private readonly proc: PolicyProcess, readonly manifest: Manifest, robotJoints: readonly string[], opts: VlaRunnerOptions) {
    super();
    this.name = opts.name ?? `vla:${manifest.name}`;
    this.s = { ...DEFAULT_VLA_SETTINGS, ...opts.settings };
    this.queue = new ActionQueue({
      chunk: manifest.action.chunk,
      refillFraction: opts.refillFraction ?? 0.5,
      mode: this.s.ensemble,
      temporalCoeff: temporalCoeffFor(manifest, opts.temporalCoeff),
    });
    const idx = (j: string): number => robotJoints.indexOf(j);
    this.stateIdx = (manifest.inputs.state?.joints ?? []).map(idx);
    this.actionIdx = manifest.action.joints.map(idx);
    proc.on('crashed', (e) => {
      this.crashed = true;
      this.queue.clear();
      this.emit('problem', e);
    });
  }

  get settings(): Readonly<VlaSettings> {
    return this.s;
  }

  setSettings(patch: Partial<VlaSettings>): void {
    this.s = { ...this.s, ...patch };
    this.queue.mode = this.s.ensemble;
  }

  step(obs: Observation): PolicyOutput | undefined {
    const tick = this.tick++;
    this.lastState = obs.state;
    if (this.crashed || this.stopped) return undefined;
    if (!this.inflight && this.queue.needsRefill(tick)) this.start(obs, tick);
    const action = this.queue.pop(tick);
    if (action === undefined) return undefined;
    const goal = this.toRobotGoal(action, obs.state);
    return this.lastFields !== undefined ? { goal, reasoning: this.lastFields } : { goal };
  }

  /** A bundle action (its joint order) → a robot goal; joints the bundle does not drive keep `state`. */
  private toRobotGoal(action: readonly number[], state: readonly number[]): number[] {
    const goal = [...state];
    this.actionIdx.forEach((ri, ai) => {
      if (ri >= 0) goal[ri] = action[ai]!;
    });
    return goal;
  }

  plan(): VlaPlan {
    const next = this.tick;
    const q = this.queue.peek(next);
    const c = this.lastChunk;
    return {
      queued: q.map((e) => this.toRobotGoal(e.action, this.lastState)),
      merged: q.map((e) => e.count),
      ...(c !== undefined ? { chunk: { id: c.id, offset: c.start - next, goals: c.goals.map((a) => this.toRobotGoal(a, this.lastState)) } } : {}),
      inflight: this.inflight,
    };
  }

  /** Observation (robot order) → the bundle's inputs (its state joint order, its camera keys). */
  private toPolicyObservation(obs: Observation): PolicyObservation {
    const images: Record<string, RgbFrame | undefined> = {};
    for (const cam of this.manifest.inputs.cameras) {
      const f = obs.images[cam.key];
      images[cam.key] = f === undefined ? undefined : { data: f.data, width: f.width, height: f.height };
    }
    return { state: this.stateIdx.map((i) => (i >= 0 ? obs.state[i]! : 0)), images, instruction: obs.task };
  }

  private start(obs: Observation, tick: number): void {
    this.inflight = true;
    const gen = this.generation;
    const id = this.nextInference++;
    const t0 = performance.now();
    const settings = { ...this.s };
    this.proc
      .infer(
        this.toPolicyObservation(obs),
        { speculative: settings.speculative, relaxedR: settings.relaxedR, planCache: settings.planCache, reasoning: settings.reasoning, jacobi: settings.jacobi },
        (fields) => {
          if (gen === this.generation) this.emit('reasoning', { inferenceId: id, fields: toReasoningFields(fields), final: false });
        },
      )
      .then((res: InferResult) => {
        if (gen !== this.generation || this.stopped) return;
        if (res.valid) {
          this.queue.push(tick, res.chunk, this.tick);
          this.lastChunk = { id, start: tick, goals: res.chunk.map((r) => [...r]) };
        }
        const fields = toReasoningFields(res.fields);
        if (Object.keys(fields).length > 0) this.lastFields = fields;
        this.emit('reasoning', { inferenceId: id, fields, final: true, cacheHit: res.stats.cacheHit });
        const st = res.stats;
        this.emit('timing', {
          inferenceId: id,
          encoderMs: st.encoderMs,
          prefillMs: st.prefillMs,
          reasoningMs: st.reasoningMs,
          actionsMs: st.actionsMs,
          totalMs: st.totalMs,
          roundTripMs: performance.now() - t0,
          tokens: st.tokens,
          reasoningTokens: st.reasoningTokens,
          actionTokens: st.actionTokens,
          acceptedTokens: st.acceptedTokens,
          acceptLength: st.acceptLength,
          cacheHit: st.cacheHit,
          valid: res.valid,
          delayTicks: this.tick - tick,
          settings,
        });
      })
      .catch((e: Error) => {
        if (!this.crashed) this.emit('problem', e);
      })
      .finally(() => {
        if (gen === this.generation) this.inflight = false;
      });
  }

  reset(): void {
    // an inference still in flight is discarded when it lands; the next step starts a fresh one
    // once the child is free (the child serves one inference at a time)
    this.generation++;
    this.queue.clear();
    this.lastFields = undefined;
    this.lastChunk = undefined;
    if (this.inflight) void this.waitIdle();
  }

  private async waitIdle(): Promise<void> {
    const gen = this.generation;
    while (this.proc.busy && !this.crashed && !this.stopped) await new Promise((r) => setTimeout(r, 2));
    if (gen === this.generation) this.inflight = false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.clear();
    await this.proc.dispose();
  }
}

/**
 * Starts the inference child, validates the bundle there against the robot's joints (throws
 * PolicyLoadError listing every problem), and returns the runner.
 */
export async function createVlaRunner(bundleDir: string, robotJointNames: readonly string[], options: VlaRunnerOptions = {}): Promise<VlaRunner> {
  const proc = await PolicyProcess.start(bundleDir, {
    robotJoints: [...robotJointNames],
    session: options.session,
    draftSession: options.draftSession,
    niceness: options.niceness,
    planCacheThreshold: options.planCacheThreshold,
    env: options.env,
    childEntry: options.childEntry,
  });
  return new VlaRunnerImpl(proc, proc.manifest, robotJointNames, options);
}
