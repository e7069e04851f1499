/**
 * The console session: composes the robot, cameras, control loop, policies, recorder and the API
 * handlers. One per process; the Electron app and the headless host both create it and attach
 * their transport to `session.api`.
 */
import { SimCameraWorker, SimRobot, SimWorld, ScriptedExpert, TASK_FAMILIES, forwardKinematics, inverseKinematics, type TaskFamily } from '../../drivers/sim';
import type { Camera } from '../../drivers/cameras/Camera';
import type { Robot } from '../../drivers/robots/Robot';
import type { ActionPlan, BoxGrid, CommandArgs, ControlState, PolicyInfo, PolicySettings, PolicyStatus, SessionSnapshot, Telemetry } from '../common/contract';
import { ReinsError } from '../common/errors';
import { DEFAULT_POLICY_SETTINGS } from '../common/settings';
import type { CameraInfo, Problem } from '../common/types';
import { ControlLoop } from '../control/loop';
import type { Clock, PolicyRunner, StepRecord } from '../control/types';
import { ApiServer, type CommandHandlers, type InvokeHandlers } from './api';
import { ExpertRunner } from './expertRunner';
import { BundleCatalog } from './policies';
import { mapActions, ReplayRunner } from './replay';
import { createVlaRunner, type VlaRunner } from './vla';
import { createRemoteRunner, REMOTE_PROBLEM_ID, type RemoteRunner } from './remote';
import { ghostCamera, projectTipPath, TappedRunner } from './ghost';
import { RecordingService, type DatasetSummary } from '../recording/service';
import type { RecordedStep } from '../recording/recorder';
import type { DatasetStatus } from '../common/contract';
import { join, relative, resolve, sep } from 'node:path';
import { homedir } from 'node:os';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { HardwareService } from './hardware';
import { checkNewDatasetFolder, isDatasetVideo, repoIdProblem } from './datasetFolder';
import type { FileRoot } from '../host/server';
import type { HostCameraSpec } from '../host/args';
import { FfmpegCamera } from '../../drivers/cameras/ffmpeg';
import { FileCamera } from '../../drivers/cameras/file/FileCamera';
import type { InvokeArgs } from '../common/contract';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';

export interface SessionOptions {
  rateHz?: number;
  seed?: number;
  family?: TaskFamily;
  cameraWidth?: number;
  cameraHeight?: number;
  /** Telemetry events per second at most (the loop may tick faster). */
  telemetryHz?: number;
  clock?: Clock;
  log?: (msg: string) => void;
  /** Folder of model bundles (default: models/bundles of this checkout). */
  bundlesDir?: string;
  /** How the inference child is started from a bundled build (Electron); default: child.ts via tsx. */
  policyChildEntry?: { path: string; execArgv: string[] };
  /** The simulated cameras' worker entry in a bundled build (Electron); default: the TS source via tsx. */
  simCameraWorkerUrl?: URL;
  /** The bundle validator's worker entry in a bundled build (Electron); default: the TS source via tsx. */
  bundleValidatorUrl?: URL;
  /** The console's own folder: calibration files, remembered state. Default: $REINS_HOME or ~/.reins. */
  homeDir?: string;
  /** Where calibration files live (LeRobot's layout below it). Default: <homeDir>/calibration. */
  calibrationDir?: string;
  /** Cameras to use with a real arm (host-side capture through ffmpeg). */
  hardwareCameras?: HostCameraSpec[];
  /** Extra reply-timeout margin on serial buses (USB adapters with a long latency timer, loaded machines). */
  serialLatencyMarginMs?: number;
}

/** The scripted expert writes its boxes in a 224×224 render of the front camera; at the camera's fov that is the frame's centre square. */
export const EXPERT_BOX_GRID: BoxGrid = { camera: 'front', width: 224, height: 224, resize: 'center_crop' };

/**
 * How long a running policy may go without an action before the indicator says HOLD instead of
 * "POLICY · waiting": far beyond a healthy step (the demo VLA takes 106-420 ms a step beside Chromium
 * on 2 cores, README), so a hung inference reads as a hold while a slow first step does not.
 */
const STALL_HOLD_MS = 5000;

/** Why the loop holds, in the operator's words, by watchdog reason. */
const HOLD_REASONS: Record<string, string> = {
  tick: 'the control loop stalled',
  state: 'the robot state is stale',
  input: 'the leader arm stream is stale',
  policy: 'the policy produced no action for over a second',
};

const DEFAULT_BUNDLES = resolve(fileURLToPath(new URL('../../models/bundles', import.meta.url)));

const realClock: Clock = { nowMs: () => performance.now() };

export class ConsoleSession {
  readonly api: ApiServer;
  readonly clock: Clock;
  world: SimWorld;
  robot: Robot;
  cameras: Camera[];
  loop: ControlLoop;
  private seed: number;
  private readonly problems = new Map<string, Problem>();
  private policyId: string | undefined;
  private settings: PolicySettings = { ...DEFAULT_POLICY_SETTINGS };
  private lastTelemetryMs = -Infinity;
  private lastFrameSeq = new Map<string, number>();
  private readonly telemetryPeriodMs: number;
  private readonly opts: SessionOptions;
  readonly recording: RecordingService;
  readonly hardware: HardwareService;
  private readonly home: string;
  private readonly sim: { robot: Robot; cameras: Camera[] };
  private calibrating: { homed: boolean } | undefined;
  private lastRecordingEmitMs = -Infinity;
  private vla: VlaRunner | undefined;
  private remote: RemoteRunner | undefined;
  private catalogCache: BundleCatalog | undefined;
  private tap: TappedRunner | undefined;
  private readonly instance = randomUUID();
  /** A policy start still loading, with its cancel switch. */
  private loading: { id: string; sinceMs: number; cancelled: boolean } | undefined;
  private vlaGrid: BoxGrid | undefined;

  constructor(opts: SessionOptions = {}) {
    this.opts = opts;
    this.clock = opts.clock ?? realClock;
    this.seed = opts.seed ?? 1;
    this.telemetryPeriodMs = 1000 / (opts.telemetryHz ?? 30);
    this.world = new SimWorld(sceneOptions(this.seed, opts.family));
    const now = () => this.clock.nowMs();
    this.robot = new SimRobot(this.world, now);
    const w = opts.cameraWidth ?? 320;
    const h = opts.cameraHeight ?? 240;
    this.cameras = new SimCameraWorker(this.world, (['front', 'wrist'] as const).map((key) => ({ key, width: w, height: h, fps: 30 })), {
      clock: now,
      ...(opts.simCameraWorkerUrl ? { workerUrl: opts.simCameraWorkerUrl } : {}),
      onError: (e) => this.onProblem({ id: 'camera:sim', severity: 'error', source: 'camera:sim', message: e.message, tip: 'Restart the console to restart the simulated cameras.', timeMs: now() }),
    }).cameras;
    this.sim = { robot: this.robot, cameras: this.cameras };
    this.recording = new RecordingService({ onProblem: (p) => this.onProblem(p) });
    this.home = opts.homeDir ?? process.env.REINS_HOME ?? join(homedir(), '.reins');
    this.hardware = new HardwareService({ calibrationDir: opts.calibrationDir ?? join(this.home, 'calibration') });
    this.loop = this.makeLoop();
    this.api = new ApiServer(this.invokeHandlers(), this.commandHandlers(), now);
    // The client that jogged the arm went away (socket closed, window gone): the arm falls to HOLD where it is.
    this.api.onOperatorGone = () => {
      if (this.loop.operatorLost('client')) this.api.emit('session', this.snapshot());
    };
  }

  private makeLoop(): ControlLoop {
    const loop = new ControlLoop({
      robot: this.robot,
      cameras: this.cameras,
      clock: this.clock,
      rateHz: this.opts.rateHz ?? 30,
      task: this.world.task.instruction,
      onProblem: (p) => this.onProblem(p),
    });
    loop.addSink({ onStep: (s) => this.recording.sink.onStep(this.withShadow(s)) });
    loop.addSink({ onStep: (s) => this.publish(s) });
    return loop;
  }

  private started = false;

  /**
   * Shadow mode for the recorder: on a tick the operator commanded, the goal the policy asked for
   * on that same tick (the tap saw it before the arbiter gave the tick to the operator).
   */
  private withShadow(s: StepRecord): RecordedStep {
    const goal = this.shadowGoal(s);
    return goal === undefined ? s : { ...s, shadowGoal: goal };
  }

  /** On a tick the operator commanded: the goal the policy asked for on that same tick (undefined otherwise). */
  private shadowGoal(s: StepRecord): number[] | undefined {
    const tap = this.tap;
    const last = tap?.last;
    return s.source === 'operator' && tap !== undefined && last !== undefined && last.tick === tap.ticks - 1 ? last.goal : undefined;
  }

  async start(): Promise<void> {
    this.started = true;
    this.checkInterruptedEpisode();
    await this.robot.connect();
    for (const c of this.cameras) await c.connect();
    this.loop.start();
  }

  async stop(): Promise<void> {
    this.started = false;
    this.loop.stop();
    await this.loop.currentPolicy?.stop();
    // An episode in progress is saved, not lost, when the console shuts down.
    await this.recording.closeDataset({ save: true }).catch((err: Error) => this.onProblem({ id: 'recorder-close', severity: 'error', source: 'recorder', message: `Closing the dataset failed: ${err.message}`, timeMs: this.clock.nowMs() }));
    for (const c of this.cameras) await c.disconnect();
    await this.catalogCache?.dispose();
    if (this.robot === this.sim.robot) await this.robot.disconnect();
    else await this.hardware.disconnect(); // torque off: an arm left powered must not keep resisting
  }

  /** Folders the host may serve read-only under /files/<name>/: the open dataset's videos, for review. */
  fileRoots(): ReadonlyMap<string, FileRoot> {
    const root = this.recording.status().dataset?.root;
    return new Map(root ? [['dataset', { dir: root, allow: isDatasetVideo }]] : []);
  }

  // ---- problems ----

  private lastProblemsEmitMs = -Infinity;
  private onProblem(p: Problem | { id: string; cleared: true }): void {
    const now = this.clock.nowMs();
    if ('cleared' in p) {
      if (!this.problems.delete(p.id)) return;
    } else {
      const prev = this.problems.get(p.id);
      this.problems.set(p.id, p);
      // The same problem raised again (a watchdog tripping every tick) refreshes its time but is re-sent at most once a second.
      if (prev && prev.message === p.message && prev.severity === p.severity && now - this.lastProblemsEmitMs < 1000) return;
    }
    this.lastProblemsEmitMs = now;
    this.api.emit('problems', [...this.problems.values()]);
  }

  // ---- publishing (on the tick: cheap, no I/O; transports queue) ----

  private publish(s: StepRecord): void {
    const now = s.timeMs;
    if (now - this.lastTelemetryMs < this.telemetryPeriodMs - 1) return;
    this.lastTelemetryMs = now;
    const t: Telemetry = {
      timeMs: now,
      tick: s.tick,
      positions: s.observation.state,
      goal: s.action,
      source: s.source,
      estop: this.loop.estop,
      latched: this.loop.latched,
      clamped: s.clamped,
      watchdog: s.watchdog.length > 0,
      stats: this.loop.stats(),
      cameras: this.cameraInfo(),
      success: this.world.isSuccess(),
      control: this.controlState(s),
    };
    const plan = this.actionPlan(s);
    if (plan !== undefined) t.plan = plan;
    this.api.emit('telemetry', t);
    if (now - this.lastRecordingEmitMs > 250 && this.recording.status().dataset) {
      this.lastRecordingEmitMs = now;
      this.api.emit('recording', this.datasetStatus());
    }
    // A VLA streams its reasoning through its own events (as it decodes); the expert's annotations ride on the step.
    if (s.reasoning && !this.vla) this.api.emit('reasoning', { timeMs: now, fields: s.reasoning, partial: false, ...(this.policyId === 'expert' ? { grid: EXPERT_BOX_GRID } : {}) });
    for (const [key, f] of Object.entries(s.observation.images)) {
      if (!f || this.lastFrameSeq.get(key) === f.seq) continue;
      this.lastFrameSeq.set(key, f.seq);
      this.api.offerFrame({ camera: key, width: f.width, height: f.height, seq: f.seq, timeMs: f.captureTimeMs, data: f.data });
    }
  }

  /** The indicator: who commands the arm and, when it holds, why. */
  private controlState(s: StepRecord): ControlState {
    const inner = this.tap?.inner;
    if (s.source === 'estop') return { mode: 'estop', reason: 'e-stop engaged' };
    if (s.source === 'hold' && this.loop.latched) return { mode: 'hold', latched: true, reason: 'e-stop released or operator lost: ▶ Start, H or a jog resumes' };
    if (s.source === 'operator') return { mode: 'operator' };
    if (s.source === 'policy') {
      if (inner instanceof ReplayRunner) return inner.phase === 'approach' ? { mode: 'approach', reason: `moving slowly to episode ${inner.episodeIndex}'s start pose` } : { mode: 'replay', reason: inner.phase === 'done' ? `episode ${inner.episodeIndex} finished: holding its last pose` : `episode ${inner.episodeIndex}, frame ${inner.played} of ${inner.frames}` };
      return { mode: 'policy' };
    }
    const forced = s.watchdog.filter((r) => r !== 'policy');
    if (forced.length > 0) return { mode: 'hold', reason: forced.map((r) => HOLD_REASONS[r]).join('; ') };
    if (inner === undefined) return { mode: 'hold', reason: this.loop.operatorInControl ? 'operator in control, no input yet' : 'no policy running' };
    if (this.loop.operatorInControl) return { mode: 'hold', reason: 'operator in control, no input yet' };
    if (this.vla?.crashed === true) return { mode: 'hold', reason: 'the policy crashed' };
    // The policy is in control and its next chunk is being inferred: the arm keeps its last goal
    // (the watchdog's policy-stall warning is a report, not a forced hold). Only when nothing is
    // coming (no inference running) or the wait is far beyond any healthy step does it become HOLD.
    const since = this.tap?.lastActionMs ?? this.tap?.firstAskedMs ?? s.timeMs;
    const waitedMs = s.timeMs - since;
    const inflight = this.vla?.plan().inflight ?? false;
    if (this.vla !== undefined && !inflight) return { mode: 'hold', reason: 'the policy returned no action and is not inferring' };
    if (waitedMs > STALL_HOLD_MS) return { mode: 'hold', reason: `no action from the policy for ${(waitedMs / 1000).toFixed(1)} s` };
    const first = this.tap?.lastActionMs === undefined;
    return { mode: 'waiting', reason: `${first ? 'first inference' : 'inference'} in flight (${(waitedMs / 1000).toFixed(1)} s)` };
  }

  /** The running VLA's queued chunk (the ghost), its tip path on the front camera, and its disagreement with the operator. */
  private actionPlan(s: StepRecord): ActionPlan | undefined {
    const v = this.vla;
    if (v === undefined) return undefined;
    const p = v.plan();
    const plan: ActionPlan = { ...p, role: s.source === 'operator' ? 'shadow' : 'acting' };
    const calibs = Object.fromEntries((this.robot.type === 'sim_so101' ? [] : (this.opts.hardwareCameras ?? [])).map((c) => [c.key, c.calibration]));
    const g = ghostCamera(this.robot.type, this.cameras, calibs);
    if (g !== undefined) {
      const [current = null, ...points] = projectTipPath([s.observation.state, ...p.queued], g.width, g.height, g.model);
      plan.tipPath = { camera: g.key, points, current };
      if (p.chunk !== undefined) plan.tipPath.chunk = projectTipPath(p.chunk.goals, g.width, g.height, g.model);
    }
    const shadow = this.shadowGoal(s);
    if (shadow !== undefined) plan.disagreement = shadow.map((g, i) => g - (s.action[i] ?? g));
    return plan;
  }

  private cameraInfo(): CameraInfo[] {
    return this.cameras.map((c) => ({ key: c.key, width: c.width, height: c.height, fps: c.fps, ...c.stats() }));
  }

  snapshot(): SessionSnapshot {
    const p = this.loop.currentPolicy;
    const policy: PolicyStatus = p ? { running: true, id: this.policyId, task: this.loop.task, settings: this.settings } : { running: false };
    if (this.loading !== undefined) policy.loading = { id: this.loading.id, sinceMs: this.loading.sinceMs };
    return {
      instance: this.instance,
      robot: { type: this.robot.type, id: this.robot.id, connected: this.robot.isConnected, joints: this.robot.joints.map((j) => ({ ...j })) },
      cameras: this.cameraInfo(),
      sim: { seed: this.seed, family: this.world.task.family, instruction: this.world.task.instruction },
      rateHz: this.loop.rateHz,
      estop: this.loop.estop,
      latched: this.loop.latched,
      source: this.loop.estop ? 'estop' : this.loop.latched ? 'hold' : this.loop.operatorInControl ? 'operator' : p ? 'policy' : 'hold',
      policy,
      problems: [...this.problems.values()],
      ...(this.recording.status().dataset ? { dataset: this.datasetStatus() } : {}),
      datasetsRoot: this.datasetsRoot,
    };
  }

  // ---- policies ----

  private get bundlesDir(): string {
    return this.opts.bundlesDir ?? DEFAULT_BUNDLES;
  }

  /** Bundles, validated off the loop's thread and only when they change (./policies.ts). */
  get catalog(): BundleCatalog {
    this.catalogCache ??= new BundleCatalog(this.bundlesDir, this.opts.bundleValidatorUrl ? { workerUrl: this.opts.bundleValidatorUrl } : {});
    return this.catalogCache;
  }

  async listPolicies(): Promise<PolicyInfo[]> {
    const bundles = await this.catalog.list(this.robot.joints.map((j) => j.name), this.cameras.map((c) => c.key));
    const expert: PolicyInfo[] = this.robot.type === 'sim_so101' ? [{ id: 'expert', name: 'expert', description: 'Scripted expert (simulator): solves the scene from ground truth; its boxes are the true ones.', kind: 'scripted', valid: true, problems: [] }] : [];
    // The shipped demo VLA (models/bundles/demo) comes first, so it is what "start policy" runs on a
    // first start; in the simulator the scripted expert follows (it always solves the scene's task).
    const listed = bundles.map(({ dir: _dir, ...info }) => info);
    const demo = listed.filter((b) => b.id === 'demo' && b.valid);
    return [...demo, ...expert, ...listed.filter((b) => !demo.includes(b))];
  }

  async startPolicy(id: string, task?: string): Promise<PolicyStatus> {
    if (this.loop.estop) throw new ReinsError('busy', 'The e-stop is engaged. Release it first (the Release button, or Shift+R): the arm then holds until you start the policy.');
    let runner: PolicyRunner;
    let vla: VlaRunner | undefined;
    let remote: RemoteRunner | undefined;
    if (id === 'expert') {
      if (this.robot.type !== 'sim_so101') throw new ReinsError('bad_request', 'The scripted expert only drives the simulator.');
      if (task && task !== this.world.task.instruction) throw new ReinsError('bad_request', `The scripted expert solves the scene's own task ("${this.world.task.instruction}"); reset the scene to change it.`);
      runner = new ExpertRunner(() => new ScriptedExpert(this.world, { imageWidth: EXPERT_BOX_GRID.width, imageHeight: EXPERT_BOX_GRID.height }));
    } else {
      if (this.loading !== undefined) throw new ReinsError('busy', `Policy "${this.loading.id}" is still loading. Wait for it or cancel it.`);
      const loading = { id, sinceMs: this.clock.nowMs(), cancelled: false };
      this.loading = loading;
      this.api.emit('session', this.snapshot());
      try {
        const bundle = (await this.catalog.list(this.robot.joints.map((j) => j.name), this.cameras.map((c) => c.key))).find((b) => b.id === id);
        if (!bundle) throw new ReinsError('not_found', `No policy "${id}". Choose one from the list; bundles live in ${this.bundlesDir}.`);
        if (!bundle.valid) throw new ReinsError('bundle_invalid', `Bundle "${id}" cannot run on ${this.robot.type}:\n${bundle.problems.join('\n')}`, bundle.problems);
        if (loading.cancelled) throw new ReinsError('cancelled', `Loading "${id}" was cancelled; the arm was not handed to it.`);
        if (bundle.kind === 'remote') {
          remote = await this.startRemote(id, bundle.dir);
        } else {
          try {
            vla = await createVlaRunner(bundle.dir, this.robot.joints.map((j) => j.name), {
              name: id,
              settings: this.settings,
              ...(this.opts.policyChildEntry ? { childEntry: this.opts.policyChildEntry } : {}),
            });
          } catch (err) {
            const problems = (err as { problems?: { path: string; message: string }[] }).problems;
            throw new ReinsError('bundle_invalid', `Bundle "${id}" failed to load: ${(err as Error).message}`, problems);
          }
        }
      } finally {
        this.loading = undefined;
      }
      if (loading.cancelled) {
        // the inference process (or the server connection) finished starting after the cancel: stop it, change nothing
        await vla?.stop();
        await remote?.stop();
        if (remote !== undefined && this.remote === remote) this.remote = undefined;
        this.api.emit('session', this.snapshot());
        throw new ReinsError('cancelled', `Loading "${id}" was cancelled; the arm was not handed to it.`);
      }
      if (vla) {
        this.attachVla(vla);
        runner = vla;
      } else runner = remote as RemoteRunner;
    }
    await this.stopCurrentPolicy();
    if (remote === undefined) this.clearRemoteProblems();
    try {
      this.loop.handback(); // Start is an explicit resume; refused if the e-stop was engaged meanwhile
    } catch (err) {
      await vla?.stop();
      await remote?.stop();
      throw err;
    }
    if (task) this.loop.task = task;
    this.setRunner(runner);
    this.vla = vla;
    this.vlaGrid = vla ? boxGridOf(vla) : undefined;
    this.remote = remote;
    this.policyId = id;
    this.onProblem({ id: 'policy-error', cleared: true });
    this.api.emit('session', this.snapshot());
    return this.snapshot().policy;
  }

  private attachVla(v: VlaRunner): void {
    v.on('reasoning', (e) => {
      if (this.vla === v) this.api.emit('reasoning', { timeMs: this.clock.nowMs(), fields: e.fields, partial: !e.final, ...(this.vlaGrid ? { grid: this.vlaGrid } : {}) });
    });
    v.on('timing', (t) => {
      if (this.vla !== v) return;
      this.api.emit('reasoning', {
        timeMs: this.clock.nowMs(),
        fields: this.loop.lastReasoningFields ?? {},
        partial: false,
        timing: {
          prefillMs: t.prefillMs + t.encoderMs,
          reasoningMs: t.reasoningMs,
          actionsMs: t.actionsMs,
          totalMs: t.roundTripMs,
          acceptedTokens: t.acceptedTokens,
          acceptanceLength: t.acceptLength,
          cacheHit: t.cacheHit,
          stepMs: t.totalMs,
          tokens: t.tokens,
          settings: { ...t.settings },
        },
        ...(this.vlaGrid ? { grid: this.vlaGrid } : {}),
      });
    });
    v.on('problem', (err) => {
      // The runner returns no actions after a crash: the arm holds (the arbiter's hold), the operator can jog.
      this.onProblem({ id: 'policy-error', severity: 'error', source: 'policy', message: `The policy failed: ${err.message} The arm holds position.`, tip: 'Stop the policy and start it again; if it keeps failing, check the bundle.', timeMs: this.clock.nowMs() });
    });
  }

  /**
   * A remote policy (models/remote): validated, then connected before the loop gets it. A server
   * that is down does not fail the start: the runner holds, names the cause and reconnects; the
   * operator hands back once it is up.
   */
  private async startRemote(id: string, dir: string): Promise<RemoteRunner> {
    let r: RemoteRunner;
    try {
      r = await createRemoteRunner(dir, {
        name: id,
        robotJoints: this.robot.joints.map((j) => j.name),
        cameras: this.cameras.map((c) => c.key),
        limits: Object.fromEntries(this.robot.joints.map((j) => [j.name, { min: j.min, max: j.max }])),
        rateHz: this.loop.rateHz,
        ensemble: this.settings.ensemble,
      });
    } catch (err) {
      const problems = (err as { problems?: { path: string; message: string }[] }).problems;
      throw new ReinsError('bundle_invalid', `Remote policy "${id}" cannot start: ${(err as Error).message}`, problems);
    }
    r.on('problem', (p) => {
      if (this.remote !== r && !('cleared' in p)) return;
      this.onProblem('cleared' in p ? p : { ...p, timeMs: this.clock.nowMs() });
    });
    r.on('timing', (t) => {
      if (this.remote !== r) return;
      this.api.emit('reasoning', {
        timeMs: this.clock.nowMs(),
        fields: {},
        partial: false,
        timing: { prefillMs: 0, reasoningMs: 0, actionsMs: 0, totalMs: t.roundTripMs, roundTripMs: t.roundTripMs, ...(t.serverMs !== undefined ? { serverMs: t.serverMs, networkMs: t.networkMs } : {}) },
      });
    });
    this.clearRemoteProblems();
    this.remote = r; // its first problems (server down) are shown while it starts
    await r.start();
    return r;
  }

  private clearRemoteProblems(): void {
    this.onProblem({ id: REMOTE_PROBLEM_ID, cleared: true });
    this.onProblem({ id: `${REMOTE_PROBLEM_ID}-slow`, cleared: true });
    this.onProblem({ id: `${REMOTE_PROBLEM_ID}-input`, cleared: true });
  }

  /** Every runner goes through a tap, so the session sees the policy's own goal even on ticks the operator commands. */
  private setRunner(runner: PolicyRunner): void {
    this.tap = new TappedRunner(runner);
    this.loop.setPolicy(this.tap);
  }

  private async stopCurrentPolicy(): Promise<void> {
    const p = this.loop.currentPolicy;
    this.loop.setPolicy(undefined);
    this.tap = undefined;
    this.vla = undefined;
    this.remote = undefined;
    this.policyId = undefined;
    await p?.stop();
  }

  async stopPolicy(): Promise<PolicyStatus> {
    await this.stopCurrentPolicy();
    this.clearRemoteProblems();
    this.api.emit('session', this.snapshot());
    return { running: false };
  }

  setPolicySettings(a: Partial<PolicySettings>): PolicySettings {
    this.settings = { ...this.settings, ...Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) };
    this.vla?.setSettings(this.settings);
    this.remote?.setEnsemble(this.settings.ensemble);
    return this.settings;
  }

  resetScene(seed?: number, family?: TaskFamily): SessionSnapshot {
    this.seed = seed ?? this.seed + 1;
    this.world.reset(sceneOptions(this.seed, family));
    this.loop.task = this.world.task.instruction;
    this.loop.resync();
    if (this.loop.currentPolicy) this.loop.currentPolicy.reset();
    const snap = this.snapshot();
    this.api.emit('session', snap);
    return snap;
  }

  // ---- handlers ----

  private invokeHandlers(): InvokeHandlers {
    return {
      'session.get': () => this.snapshot(),
      'sim.reset': (a) => this.resetScene(a.seed, a.family),
      'policy.list': () => this.listPolicies(),
      'policy.start': (a) => this.startPolicy(a.policy, a.task),
      'policy.stop': () => this.stopPolicy(),
      'policy.cancelLoad': () => {
        if (this.loading === undefined || this.loading.cancelled) return { cancelled: false };
        this.loading.cancelled = true;
        return { cancelled: true };
      },
      'policy.settings': (a) => this.setPolicySettings(a),
      ...this.hardwareHandlers(),
      ...this.datasetHandlers(),
    };
  }

  /** Swaps the robot the loop drives (sim ⇄ real arm): the loop is rebuilt and restarted; no policy carries over. */
  private async switchRobot(robot: Robot, cameras: Camera[]): Promise<void> {
    const r = this.recording.status().recorder;
    if (r && (r.state === 'recording' || r.state === 'saving')) throw new ReinsError('busy', 'An episode is being recorded. End or discard it before changing the robot.');
    if (this.recording.status().dataset) await this.recording.closeDataset({ save: true });
    await this.stopCurrentPolicy();
    const estop = this.loop.estop;
    this.loop.stop();
    if (cameras !== this.cameras) for (const c of this.cameras) await c.disconnect();
    this.robot = robot;
    this.cameras = cameras;
    for (const c of cameras) if (!c.isConnected) await c.connect();
    this.loop = this.makeLoop();
    if (estop) this.loop.setEstop(true); // an engaged e-stop stays engaged across the switch
    this.lastFrameSeq.clear();
    this.calibrating = undefined;
    this.onProblem({ id: 'calibrating', cleared: true });
    if (this.started) this.loop.start();
    this.api.emit('session', this.snapshot());
  }

  private async connectHardware(a: InvokeArgs<'hardware.connect'>): Promise<SessionSnapshot> {
    if (a.type === 'sim_so101') {
      if (this.robot !== this.sim.robot) {
        await this.hardware.disconnect();
        await this.switchRobot(this.sim.robot, this.sim.cameras);
      }
      return this.snapshot();
    }
    if (!a.port) throw new ReinsError('bad_request', `Choose the serial port of the ${a.type} (refresh the port list if it is missing).`);
    if (this.robot !== this.sim.robot) throw new ReinsError('already_connected', 'A robot is already connected. Disconnect it first.');
    const robot = await this.hardware.connect({
      type: a.type,
      port: a.port,
      id: a.id,
      ...(a.leader ? { leader: a.leader } : {}),
      ...(this.opts.serialLatencyMarginMs !== undefined ? { latencyMarginMs: this.opts.serialLatencyMarginMs } : {}),
    });
    let cameras: Camera[];
    try {
      cameras = await this.openHardwareCameras();
    } catch (err) {
      await this.hardware.disconnect();
      throw err;
    }
    await this.switchRobot(robot, cameras);
    this.attachTeleop();
    for (const p of this.hardware.status().problems ?? []) this.onProblem({ id: `hardware:${p.slice(0, 40)}`, severity: 'warning', source: 'robot', message: p, timeMs: this.clock.nowMs() });
    return this.snapshot();
  }

  private async openHardwareCameras(): Promise<Camera[]> {
    const out: Camera[] = [];
    for (const c of this.opts.hardwareCameras ?? []) {
      const base = { key: c.key, width: c.width, height: c.height, fps: c.fps };
      const cam =
        c.source.kind === 'device'
          ? new FfmpegCamera({ ...base, device: c.source.device })
          : new FileCamera({ ...base, source: c.source.kind === 'file' ? { kind: 'file', path: c.source.path } : { kind: 'testsrc' } });
      try {
        await cam.connect();
      } catch (err) {
        for (const o of out) await o.disconnect();
        throw new ReinsError('io_error', `Camera "${c.key}" did not start: ${(err as Error).message}`);
      }
      out.push(cam);
    }
    return out;
  }

  /** The leader arm (once calibrated) is the operator's streaming input: moving it takes over. */
  private attachTeleop(): void {
    this.loop.operator.teleop = this.hardware.teleop;
  }

  private hardwareHandlers(): Pick<InvokeHandlers, 'hardware.listPorts' | 'hardware.connect' | 'hardware.disconnect' | 'hardware.torque' | 'hardware.health' | 'calibration.begin' | 'calibration.sample' | 'calibration.finish' | 'calibration.cancel'> {
    const needArm = (): void => {
      if (this.robot === this.sim.robot) throw new ReinsError('not_connected', 'No arm is connected: the simulator has no servos. Connect an arm first (Robot → Connect).');
    };
    return {
      'hardware.listPorts': async () => {
        const l = await this.hardware.listPorts();
        return {
          ports: l.ports.map((p) => ({ path: p.byId ?? p.path, description: [p.manufacturer, p.serialNumber, p.byId ? p.path : undefined].filter(Boolean).join(' · ') || undefined })),
          method: l.method,
          ...(l.note ? { warning: l.note } : {}),
        };
      },
      'hardware.connect': (a) => this.connectHardware(a),
      'hardware.disconnect': async () => {
        if (this.robot !== this.sim.robot) {
          await this.hardware.disconnect();
          await this.switchRobot(this.sim.robot, this.sim.cameras);
        }
        return this.snapshot();
      },
      'hardware.torque': async (a) => {
        needArm();
        await this.hardware.setTorque(a.enabled);
        if (a.enabled) this.loop.resync(); // hold where the arm is now, not where it was
        return { enabled: a.enabled };
      },
      'hardware.health': async () => {
        needArm();
        return this.hardware.readHealth();
      },
      'calibration.begin': async (a) => {
        needArm();
        // The loop must not command an arm whose calibration is being rewritten.
        this.loop.stop();
        const r = await this.hardware.beginCalibration(a.target);
        this.calibrating = { homed: false };
        this.onProblem({ id: 'calibrating', severity: 'info', source: 'robot', message: 'Calibrating: the control loop is paused and torque is off.', tip: 'Finish the calibration (or disconnect the arm) to resume.', timeMs: this.clock.nowMs() });
        return { step: r.step, instructions: `${r.instructions} When every joint is near the middle, press "Record range": the homing offsets are written at that moment; then move every joint through its whole range.` };
      },
      'calibration.sample': async () => {
        if (!this.calibrating) throw new ReinsError('calibration_error', 'No calibration in progress. Start one first.');
        if (!this.calibrating.homed) {
          await this.hardware.setCalibrationHoming();
          this.calibrating.homed = true;
        }
        const ranges = await this.hardware.readRangeSample();
        return { joints: ranges.map((r) => ({ name: r.joint, min: r.min, max: r.max, present: r.position })) };
      },
      'calibration.cancel': async () => {
        if (!this.calibrating) return { cancelled: false };
        this.hardware.cancelCalibration();
        this.calibrating = undefined;
        this.onProblem({ id: 'calibrating', cleared: true });
        this.loop.resync();
        if (this.started) this.loop.start();
        return { cancelled: true };
      },
      'calibration.finish': async () => {
        if (!this.calibrating?.homed) throw new ReinsError('calibration_error', 'Record the range of every joint before finishing.');
        const r = await this.hardware.finishCalibration();
        this.calibrating = undefined;
        this.onProblem({ id: 'calibrating', cleared: true });
        this.loop.resync();
        this.attachTeleop(); // a freshly calibrated leader becomes usable
        if (this.started) this.loop.start();
        return { path: r.path };
      },
    };
  }

  datasetStatus(summary?: DatasetSummary): DatasetStatus {
    const st = this.recording.status();
    const r = st.recorder;
    const recording = r !== null && (r.state === 'recording' || r.state === 'saving');
    const fps = r?.fps ?? summary?.fps ?? 0;
    const open = summary?.openEpisode ?? st.dataset?.openEpisode;
    return {
      root: st.dataset?.root ?? summary?.root ?? '',
      repoId: summary?.repoId ?? this.datasetRepoId ?? '',
      fps,
      episodes: st.dataset?.totalEpisodes ?? 0,
      frames: st.dataset?.totalFrames ?? 0,
      recording,
      ...(recording && r!.episodeIndex !== null ? { episodeIndex: r!.episodeIndex, episodeFrames: r!.frames, episodeSeconds: fps ? r!.frames / fps : 0 } : {}),
      dropped: r?.lostFrames ?? 0,
      ...(r?.state === 'saving' && r.saving ? { saving: { done: r.saving.done, total: r.saving.total, cancellable: r.cancellable === true } } : {}),
      ...(r && Number.isFinite(r.achievedFps) ? { achievedFps: r.achievedFps } : {}),
      // the interrupted episode stays reported in every status (telemetry emits one 4 times a second) until recovered or discarded
      ...(open ? { openEpisode: { index: st.dataset?.totalEpisodes ?? 0, frames: open.frames } } : {}),
    };
  }

  private datasetRepoId: string | undefined;

  private get stateFile(): string {
    return join(this.home, 'state.json');
  }

  /** Remembers the last dataset, so the next start can tell the operator about an interrupted episode. */
  private rememberDataset(root: string): void {
    try {
      mkdirSync(this.home, { recursive: true });
      const tmp = `${this.stateFile}.tmp`;
      writeFileSync(tmp, JSON.stringify({ lastDataset: resolve(root) }));
      renameSync(tmp, this.stateFile);
    } catch (err) {
      this.onProblem({ id: 'state-file', severity: 'info', source: 'console', message: `Could not remember the last dataset (${(err as Error).message}); an interrupted episode will still be offered for recovery when you open the dataset.`, timeMs: this.clock.nowMs() });
    }
  }

  /** At start: did the console stop while recording an episode of the last dataset? */
  private checkInterruptedEpisode(): void {
    let last: string | undefined;
    try {
      last = (JSON.parse(readFileSync(this.stateFile, 'utf8')) as { lastDataset?: string }).lastDataset;
    } catch {
      return; // no state yet
    }
    if (last && existsSync(join(last, '.reins', 'open-episode', 'episode.json'))) {
      this.onProblem({ id: 'interrupted-episode', severity: 'warning', source: 'recorder', message: `An episode of the dataset ${last} was being recorded when the console stopped. Its earlier episodes are intact.`, tip: 'Open that dataset (Record → Open) to recover the interrupted episode or discard it.', timeMs: this.clock.nowMs() });
    }
  }

  /** The default root of datasets: <REINS_HOME or ~/.reins>/datasets. */
  get datasetsRoot(): string {
    return join(this.home, 'datasets');
  }

  /** The dataset folder is <root>/<repoId>, as LeRobot lays out $HF_LEROBOT_HOME/<repo_id>; root defaults to datasetsRoot. */
  private async openDataset(a: { root?: string | undefined; repoId: string; fps: number; task: string; create: boolean }): Promise<DatasetStatus> {
    const bad = repoIdProblem(a.repoId);
    if (bad) throw new ReinsError('bad_request', `Invalid repo id: ${bad}.`);
    const folder = join(a.root === undefined || a.root.trim() === '' ? this.datasetsRoot : a.root, a.repoId);
    if (a.create) await checkNewDatasetFolder(folder);
    const summary = a.create
      ? await this.recording.createDataset({
          root: folder,
          repoId: a.repoId,
          fps: a.fps,
          robotType: this.robot.type,
          jointNames: this.robot.joints.map((j) => j.name),
          cameras: this.cameras.map((c) => ({ key: c.key, width: c.width, height: c.height })),
          task: a.task,
        })
      : // refused, naming every difference, unless the loop rate, cameras and joints (compared as
        // written in the dataset: `<joint>.pos`) are the dataset's
        await this.recording.openDataset({
          root: folder,
          repoId: a.repoId,
          task: a.task,
          expect: { fps: this.loop.rateHz, jointNames: this.robot.joints.map((j) => j.name), cameras: this.cameras.map((c) => ({ key: c.key, width: c.width, height: c.height })) },
        });
    this.datasetRepoId = summary.repoId;
    this.rememberDataset(summary.root);
    this.onProblem({ id: 'interrupted-episode', cleared: true });
    return this.datasetStatus(summary);
  }

  private async episodeForReview(index: number) {
    const r = await this.recording.readEpisode(index);
    const root = this.recording.status().dataset!.root;
    const videos: Record<string, { url: string; fromS: number; toS: number }> = {};
    for (const [key, v] of Object.entries(r.videos)) {
      const rel = relative(root, v.path).split(sep).map(encodeURIComponent).join('/');
      videos[key] = { url: `/files/dataset/${rel}`, fromS: v.fromS, toS: v.toS };
    }
    return { index, fps: r.fps, names: r.jointNames, state: r.state, action: r.action, intervention: r.intervention, videos };
  }

  private async replay(index: number, restoreScene = false): Promise<{ frames: number; scene?: { seed: number; family: string } }> {
    if (this.loop.estop) throw new ReinsError('busy', 'The e-stop is engaged. Release it first (the Release button, or Shift+R), then replay.');
    const ep = await this.recording.readActions(index);
    const actions = mapActions(ep.jointNames, this.robot.joints.map((j) => j.name), ep.actions);
    if (typeof actions === 'string') throw new ReinsError('bad_request', actions);
    let scene: { seed: number; family: TaskFamily } | undefined;
    if (restoreScene) {
      if (!(this.robot instanceof SimRobot)) throw new ReinsError('bad_request', 'Restoring the scene works in the simulator only: a real scene has to be set up by hand. Replay without restoring it.');
      if (ep.scene === null) throw new ReinsError('bad_request', `Episode ${index} has no recorded scene (recorded with a real arm, or by an earlier Reins). Replay without restoring it.`);
      if (!TASK_FAMILIES.includes(ep.scene.family as TaskFamily)) throw new ReinsError('bad_request', `Episode ${index} was recorded in a task family this simulator does not have ("${ep.scene.family}"). Replay without restoring it.`);
      scene = { seed: ep.scene.seed, family: ep.scene.family as TaskFamily };
    }
    await this.stopCurrentPolicy();
    // the world goes back to the recorded scene before the slow approach starts from wherever the arm is then
    if (scene !== undefined) this.resetScene(scene.seed, scene.family);
    this.loop.handback();
    const gripperIndex = this.robot.joints.findIndex((j) => j.unit === 'percent');
    this.setRunner(new ReplayRunner(actions, index, { rateHz: this.loop.rateHz, gripperIndex }));
    this.policyId = `replay:${index}`;
    this.api.emit('session', this.snapshot());
    return { frames: actions.length, ...(scene ? { scene } : {}) };
  }

  private datasetHandlers(): Pick<InvokeHandlers, 'dataset.open' | 'dataset.status' | 'dataset.startEpisode' | 'dataset.endEpisode' | 'dataset.discardEpisode' | 'dataset.cancelSave' | 'dataset.close' | 'dataset.episodes' | 'dataset.episode' | 'dataset.deleteEpisode' | 'dataset.recover' | 'dataset.replay'> {
    const status = async () => this.datasetStatus(await this.recording.summary());
    return {
      'dataset.open': (a) => this.openDataset(a),
      'dataset.status': async () => (this.recording.status().dataset ? status() : null),
      'dataset.startEpisode': async (a) => {
        // The task typed when the dataset was opened, unless this episode names its own.
        // the simulator's scene (seed, task family) is kept with the episode, so replay can restore it
        await this.recording.startEpisode(a.task, this.robot instanceof SimRobot ? { seed: this.seed, family: this.world.task.family } : null);
        return status();
      },
      'dataset.endEpisode': async () => {
        // the simulator knows whether the task was done: kept in the episode's metadata
        if (this.robot instanceof SimRobot) this.recording.setOutcome(this.world.isSuccess());
        await this.recording.endEpisode();
        return status();
      },
      'dataset.discardEpisode': async () => {
        await this.recording.discardEpisode();
        return status();
      },
      'dataset.cancelSave': async () => {
        await this.recording.cancelSave();
        return status();
      },
      'dataset.close': async () => {
        await this.recording.closeDataset({ save: true });
        return { closed: true };
      },
      'dataset.episodes': () =>
        this.recording.listEpisodes().map((e) => ({
          index: e.index,
          length: e.length,
          task: e.task,
          seconds: e.durationS,
          lostFrames: e.quality.droppedSteps + e.quality.repeatedFrames + e.quality.blankFrames,
          achievedFps: Number.isFinite(e.quality.achievedFps) ? e.quality.achievedFps : null,
          driftS: Number.isFinite(e.quality.timestampDriftS) ? e.quality.timestampDriftS : null,
          interventionFrames: e.quality.interventionFrames,
          takeovers: e.quality.takeovers,
          success: e.quality.success,
          warnings: e.warnings,
          scene: e.scene,
        })),
      'dataset.episode': (a) => this.episodeForReview(a.index),
      'dataset.deleteEpisode': async (a) => {
        await this.recording.deleteEpisode(a.index);
        return status();
      },
      'dataset.recover': async (a) => {
        if (a.action === 'recover') await this.recording.recover();
        else await this.recording.discardOpen();
        return status();
      },
      'dataset.replay': (a) => this.replay(a.index, a.restoreScene === true),
    };
  }

  private commandHandlers(): CommandHandlers {
    return {
      estop: (a) => {
        // Engage always; release (reset) only lands in a latched HOLD: motion needs ▶ Start, Hand back or a jog.
        this.loop.setEstop(a.engaged);
        this.api.emit('session', this.snapshot());
      },
      jog: (a: CommandArgs<'jog'>) => {
        const i = this.robot.joints.findIndex((j) => j.name === a.joint);
        if (i < 0) throw new ReinsError('bad_request', `No joint "${a.joint}" on ${this.robot.type}. Joints: ${this.robot.joints.map((j) => j.name).join(', ')}.`);
        this.loop.operator.jog(i, a.delta);
      },
      jogCartesian: (a) => this.jogCartesian(a.axis, a.deltaM),
      handback: () => {
        this.loop.handback(); // refused (busy) during the e-stop: never remembered for the release
        this.api.emit('session', this.snapshot());
      },
    };
  }

  /** Moves the gripper tip along a world axis by IK on the SO-101 geometry, keeping its pitch, roll and grip. */
  private jogCartesian(axis: 'x' | 'y' | 'z', deltaM: number): void {
    if (!/so10[01]/.test(this.robot.type)) throw new ReinsError('bad_request', `Cartesian jog needs the SO-100/SO-101 geometry; ${this.robot.type} has no kinematic model here. Jog single joints instead (1–6, ↑/↓).`);
    const q = this.loop.lastGoal;
    if (!q) throw new ReinsError('busy', 'The loop has not run yet; try again in a moment.');
    const pose = forwardKinematics(q);
    const target: [number, number, number] = [...pose.tip];
    target['xyz'.indexOf(axis)]! += deltaM;
    const ik = inverseKinematics({ position: target, pitchDeg: pose.pitchDeg, rollDeg: q[4], gripper: q[5], panHintDeg: q[0] });
    if (!ik.reachable || !ik.withinLimits) throw new ReinsError('bad_request', `The gripper cannot move further along ${axis}: the target is out of the arm's reach or past a joint limit.`);
    this.loop.operator.setAbsolute(ik.joints);
  }
}


/** The grid a VLA's boxes are in: its 'front' camera input (else its first camera), with that input's resize. */
function boxGridOf(v: VlaRunner): BoxGrid | undefined {
  const cams = v.manifest.inputs.cameras;
  const c = cams.find((k) => k.key === 'front') ?? cams[0];
  return c === undefined ? undefined : { camera: c.key, width: c.width, height: c.height, resize: c.resize };
}

/**
 * The scene a seed stands for, whatever way the family is given. SimWorld draws the family from
 * the seed only when none is given, so naming the seed's own family yields another layout: the
 * start-up scene (no family) would differ from Reset with the same seed (the renderer always names
 * the family shown). Naming the seed's own family is therefore the same as naming none.
 */
function sceneOptions(seed: number, family: TaskFamily | undefined): { seed: number; family?: TaskFamily } {
  if (family === undefined) return { seed };
  const own = new SimWorld({ seed }).task.family;
  return own === family ? { seed } : { seed, family };
}
