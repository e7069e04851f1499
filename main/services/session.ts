/**
 * The console session: composes the robot, cameras, control loop, policies, recorder and the API
 * handlers. One per process; the Electron app and the headless host both create it and attach
 * their transport to `session.api`.
 */
import { SimCameraWorker, SimRobot, SimWorld, ScriptedExpert, TASK_FAMILIES, forwardKinematics, inverseKinematics, type TaskFamily } from '../../drivers/sim';
import type { Camera } from '../../drivers/cameras/Camera';
import type { Robot } from '../../drivers/robots/Robot';
import type { CommandArgs, PolicyInfo, PolicySettings, PolicyStatus, SessionSnapshot, Telemetry } from '../common/contract';
import { ReinsError } from '../common/errors';
import type { CameraInfo, Problem } from '../common/types';
import { ControlLoop } from '../control/loop';
import type { Clock, PolicyRunner, StepRecord } from '../control/types';
import { ApiServer, type CommandHandlers, type InvokeHandlers } from './api';
import { ExpertRunner } from './expertRunner';

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
}

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
  private settings: PolicySettings = { speculative: true, relaxedR: 0, ensemble: 'temporal', planCache: true, reasoning: true };
  private lastTelemetryMs = -Infinity;
  private lastFrameSeq = new Map<string, number>();
  private readonly telemetryPeriodMs: number;
  private readonly opts: SessionOptions;

  constructor(opts: SessionOptions = {}) {
    this.opts = opts;
    this.clock = opts.clock ?? realClock;
    this.seed = opts.seed ?? 1;
    this.telemetryPeriodMs = 1000 / (opts.telemetryHz ?? 30);
    this.world = new SimWorld({ seed: this.seed, family: opts.family });
    const now = () => this.clock.nowMs();
    this.robot = new SimRobot(this.world, now);
    const w = opts.cameraWidth ?? 320;
    const h = opts.cameraHeight ?? 240;
    this.cameras = new SimCameraWorker(this.world, (['front', 'wrist'] as const).map((key) => ({ key, width: w, height: h, fps: 30 })), {
      clock: now,
      onError: (e) => this.onProblem({ id: 'camera:sim', severity: 'error', source: 'camera:sim', message: e.message, tip: 'Restart the console to restart the simulated cameras.', timeMs: now() }),
    }).cameras;
    this.loop = this.makeLoop();
    this.api = new ApiServer(this.invokeHandlers(), this.commandHandlers(), now);
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
    loop.addSink({ onStep: (s) => this.publish(s) });
    return loop;
  }

  async start(): Promise<void> {
    await this.robot.connect();
    for (const c of this.cameras) await c.connect();
    this.loop.start();
  }

  async stop(): Promise<void> {
    this.loop.stop();
    await this.loop.currentPolicy?.stop();
    for (const c of this.cameras) await c.disconnect();
    await this.robot.disconnect();
  }

  /** Folders the host may serve read-only under /files/<name>/ (dataset videos for review). */
  fileRoots(): Record<string, string> {
    return {};
  }

  // ---- problems ----

  private onProblem(p: Problem | { id: string; cleared: true }): void {
    if ('cleared' in p) this.problems.delete(p.id);
    else this.problems.set(p.id, p);
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
      clamped: s.clamped,
      watchdog: (s as { watchdog?: unknown[] }).watchdog?.length ? true : false,
      stats: this.loop.stats(),
      cameras: this.cameraInfo(),
      success: this.world.isSuccess(),
    };
    this.api.emit('telemetry', t);
    if (s.reasoning) this.api.emit('reasoning', { timeMs: now, fields: s.reasoning, partial: false });
    for (const [key, f] of Object.entries(s.observation.images)) {
      if (!f || this.lastFrameSeq.get(key) === f.seq) continue;
      this.lastFrameSeq.set(key, f.seq);
      this.api.offerFrame({ camera: key, width: f.width, height: f.height, seq: f.seq, timeMs: f.captureTimeMs, data: f.data });
    }
  }

  private cameraInfo(): CameraInfo[] {
    return this.cameras.map((c) => ({ key: c.key, width: c.width, height: c.height, fps: c.fps, ...c.stats() }));
  }

  snapshot(): SessionSnapshot {
    const p = this.loop.currentPolicy;
    const policy: PolicyStatus = p ? { running: true, id: this.policyId, task: this.loop.task, settings: this.settings } : { running: false };
    return {
      robot: { type: this.robot.type, id: this.robot.id, connected: this.robot.isConnected, joints: this.robot.joints.map((j) => ({ ...j })) },
      cameras: this.cameraInfo(),
      sim: { seed: this.seed, family: this.world.task.family, instruction: this.world.task.instruction },
      rateHz: this.loop.rateHz,
      estop: this.loop.estop,
      source: this.loop.estop ? 'estop' : this.loop.operatorInControl ? 'operator' : p ? 'policy' : 'hold',
      policy,
      problems: [...this.problems.values()],
    };
  }

  // ---- policies ----

  listPolicies(): PolicyInfo[] {
    return [{ id: 'expert', name: 'Scripted expert (simulator)', kind: 'scripted', valid: true, problems: [] }];
  }

  async startPolicy(id: string, task?: string): Promise<PolicyStatus> {
    if (this.loop.estop) throw new ReinsError('busy', 'The e-stop is engaged. Release it (button or Space) before starting a policy.');
    let runner: PolicyRunner;
    if (id === 'expert') {
      if (task && task !== this.world.task.instruction) throw new ReinsError('bad_request', `The scripted expert solves the scene's own task ("${this.world.task.instruction}"); reset the scene to change it.`);
      runner = new ExpertRunner(() => new ScriptedExpert(this.world));
    } else {
      throw new ReinsError('not_found', `No policy "${id}". Choose one from the list (policy.list).`);
    }
    await this.loop.currentPolicy?.stop();
    this.loop.handback();
    this.loop.setPolicy(runner);
    this.policyId = id;
    this.api.emit('session', this.snapshot());
    return this.snapshot().policy;
  }

  async stopPolicy(): Promise<PolicyStatus> {
    const p = this.loop.currentPolicy;
    this.loop.setPolicy(undefined);
    this.policyId = undefined;
    await p?.stop();
    this.api.emit('session', this.snapshot());
    return { running: false };
  }

  resetScene(seed?: number, family?: TaskFamily): SessionSnapshot {
    this.seed = seed ?? this.seed + 1;
    this.world.reset({ seed: this.seed, family });
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
      'policy.settings': (a) => {
        this.settings = { ...this.settings, ...Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) };
        return this.settings;
      },
      ...this.hardwareHandlers(),
      ...this.datasetHandlers(),
    };
  }

  private hardwareHandlers(): Pick<InvokeHandlers, 'hardware.listPorts' | 'hardware.connect' | 'hardware.disconnect' | 'hardware.torque' | 'hardware.health' | 'calibration.begin' | 'calibration.sample' | 'calibration.finish'> {
    const none = (): never => {
      throw new ReinsError('not_connected', 'Hardware support is not wired into this session yet.');
    };
    return { 'hardware.listPorts': none, 'hardware.connect': none, 'hardware.disconnect': none, 'hardware.torque': none, 'hardware.health': none, 'calibration.begin': none, 'calibration.sample': none, 'calibration.finish': none };
  }

  private datasetHandlers(): Pick<InvokeHandlers, 'dataset.open' | 'dataset.status' | 'dataset.startEpisode' | 'dataset.endEpisode' | 'dataset.discardEpisode' | 'dataset.close' | 'dataset.episodes' | 'dataset.episode' | 'dataset.deleteEpisode' | 'dataset.recover' | 'dataset.replay'> {
    const none = (): never => {
      throw new ReinsError('not_found', 'Recording is not wired into this session yet.');
    };
    return { 'dataset.open': none, 'dataset.status': () => null, 'dataset.startEpisode': none, 'dataset.endEpisode': none, 'dataset.discardEpisode': none, 'dataset.close': none, 'dataset.episodes': none, 'dataset.episode': none, 'dataset.deleteEpisode': none, 'dataset.recover': none, 'dataset.replay': none };
  }

  private commandHandlers(): CommandHandlers {
    return {
      estop: (a) => {
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
        this.loop.handback();
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

export { TASK_FAMILIES };
