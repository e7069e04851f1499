/**
 * The one control loop. Each tick runs named, timed stages:
 *   observe   — read the robot's state and the newest camera frames
 *   decide    — drain operator input; ask the policy for its next action (never waits on inference)
 *   arbitrate — e-stop > operator > policy > hold, with the watchdog able to force a hold
 *   clamp     — joint limits and maximum change per tick (always on)
 *   send      — robot.writeGoal
 *   publish   — StepRecord to every sink (telemetry, recorder); sinks must not block
 * `tick()` is a plain async function, so tests drive it under a fake clock; `start()` paces it in
 * real time with a deadline timer (setTimeout to just before the deadline, then a short spin,
 * because a bare setTimeout fires up to ~2 ms early or late) and counts overruns.
 */
import type { Camera, Frame } from '../../drivers/cameras/Camera';
import type { Robot } from '../../drivers/robots/Robot';
import type { ControlSource, LoopStats, Problem, ReasoningFields } from '../common/types';
import { decide, initialArbiterState, reduceArbiter, type ArbiterState } from './arbiter';
import { OperatorInput } from './operator';
import { clampGoal, type ClampResult } from './safety';
import { RollingWindow } from './stats';
import type { Clock, Observation, PolicyRunner, StepRecord, StepSink } from './types';
import { checkWatchdog, defaultWatchdogConfig, type WatchdogConfig, type WatchdogReason } from './watchdog';

export const STAGES = ['observe', 'decide', 'arbitrate', 'clamp', 'send', 'publish'] as const;
export type Stage = (typeof STAGES)[number];

export interface LoopOptions {
  robot: Robot;
  cameras: readonly Camera[];
  clock: Clock;
  rateHz?: number;
  /** Maximum change per tick for each joint; default: 300 units/s divided by the rate. */
  maxStep?: number[];
  watchdog?: Partial<WatchdogConfig>;
  task?: string;
  /** Called when a problem appears or clears (undefined message = cleared). */
  onProblem?: (p: Problem | { id: string; cleared: true }) => void;
  /** Ticks in the rolling statistics window (default: 10 s worth). */
  windowTicks?: number;
}

export interface TickReport extends StepRecord {
  clampResult: ClampResult;
  stageMs: Record<Stage, number>;
}

export class ControlLoop {
  readonly robot: Robot;
  readonly cameras: readonly Camera[];
  readonly operator: OperatorInput;
  readonly rateHz: number;
  private readonly clock: Clock;
  private readonly limits: { min: number; max: number }[];
  private readonly maxStep: number[];
  private readonly wdConfig: WatchdogConfig;
  private readonly sinks = new Set<StepSink>();
  private arbiter: ArbiterState = initialArbiterState;
  private policy: PolicyRunner | undefined;
  private policyLastActionMs: number | undefined;
  private lastSent: number[] | undefined;
  private prevTickMs: number | undefined;
  private tickCount = 0;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private lastReasoning: ReasoningFields | undefined;
  private activeProblems = new Set<string>();
  private lastStallMs: number | undefined;
  task: string;
  private readonly onProblem: LoopOptions['onProblem'];

  // statistics
  private readonly tickWin: RollingWindow;
  private readonly lateWin: RollingWindow;
  private readonly periodWin: RollingWindow;
  private readonly stageWins: Record<Stage, RollingWindow>;
  private overruns = 0;

  constructor(o: LoopOptions) {
    this.robot = o.robot;
    this.cameras = o.cameras;
    this.clock = o.clock;
    this.rateHz = o.rateHz ?? 30;
    if (!(this.rateHz > 0 && this.rateHz <= 1000)) throw new RangeError(`loop rate must be in (0, 1000] Hz, got ${this.rateHz}`);
    this.limits = o.robot.joints.map((j) => ({ min: j.min, max: j.max }));
    this.maxStep = o.maxStep ?? o.robot.joints.map(() => 300 / this.rateHz);
    this.wdConfig = { ...defaultWatchdogConfig(this.rateHz), ...o.watchdog };
    this.operator = new OperatorInput(o.robot.joints.length);
    this.task = o.task ?? '';
    this.onProblem = o.onProblem;
    const w = o.windowTicks ?? Math.max(100, Math.round(this.rateHz * 10));
    this.tickWin = new RollingWindow(w);
    this.lateWin = new RollingWindow(w);
    this.periodWin = new RollingWindow(w);
    this.stageWins = Object.fromEntries(STAGES.map((s) => [s, new RollingWindow(w)])) as Record<Stage, RollingWindow>;
  }

  // ---- control surface (called by services on commands; never by the policy) ----

  setEstop(engaged: boolean): void {
    this.arbiter = reduceArbiter(this.arbiter, { type: 'estop', engaged });
  }
  get estop(): boolean {
    return this.arbiter.estop;
  }
  get operatorInControl(): boolean {
    return this.arbiter.operatorInControl;
  }

  /** Give control back to the policy: the operator's goal is dropped and the policy starts fresh from the present state. */
  handback(): void {
    this.arbiter = reduceArbiter(this.arbiter, { type: 'handback' });
    this.operator.release();
    this.policy?.reset();
    this.policyLastActionMs = undefined;
  }

  /** The robot's state jumped (scene reset, reconnect): forget the last goal, any hold and operator goal. */
  resync(): void {
    this.lastSent = undefined;
    this.arbiter = { ...this.arbiter, holdGoal: undefined };
    this.operator.release();
  }

  setPolicy(p: PolicyRunner | undefined): void {
    this.policy = p;
    this.policyLastActionMs = undefined;
    this.lastReasoning = undefined;
  }
  get currentPolicy(): PolicyRunner | undefined {
    return this.policy;
  }

  addSink(s: StepSink): () => void {
    this.sinks.add(s);
    return () => this.sinks.delete(s);
  }

  get lastGoal(): number[] | undefined {
    return this.lastSent ? [...this.lastSent] : undefined;
  }

  // ---- one tick ----

  async tick(): Promise<TickReport> {
    const stageMs = {} as Record<Stage, number>;
    let t0 = this.clock.nowMs();
    const tickStart = t0;
    const mark = (s: Stage) => {
      const t = this.clock.nowMs();
      stageMs[s] = t - t0;
      this.stageWins[s].push(t - t0);
      t0 = t;
    };

    // observe
    const state = await this.robot.readState();
    const images: Record<string, Frame | undefined> = {};
    for (const c of this.cameras) images[c.key] = c.readLatest();
    const observation: Observation = { timeMs: tickStart, state: state.positions, images, task: this.task };
    mark('observe');

    // decide
    const base = this.lastSent ?? state.positions;
    const op = this.operator.drain(tickStart, base);
    if (op.fresh) {
      this.arbiter = reduceArbiter(this.arbiter, { type: 'operatorInput' });
    }
    let policyGoal: number[] | undefined;
    let reasoning: ReasoningFields | undefined;
    if (this.policy) {
      let out;
      try {
        out = this.policy.step(observation);
      } catch (err) {
        this.raise({ id: 'policy-error', severity: 'error', source: 'policy', message: `The policy failed: ${(err as Error).message}. The arm holds.`, tip: 'Stop the policy and check its bundle; the operator can still jog.', timeMs: tickStart });
        out = undefined;
      }
      if (out) {
        policyGoal = out.goal;
        reasoning = out.reasoning;
        this.policyLastActionMs = tickStart;
        this.lastReasoning = reasoning ?? this.lastReasoning;
      } else if (this.policyLastActionMs === undefined) {
        this.policyLastActionMs = tickStart; // stall timer starts when the policy is first asked
      }
    }
    mark('decide');

    // arbitrate (watchdog first: it can force a hold)
    const policyIntended = this.policy !== undefined && !this.arbiter.operatorInControl && !this.arbiter.estop;
    const wd = checkWatchdog(this.wdConfig, {
      nowMs: tickStart,
      prevTickMs: this.prevTickMs,
      stateTimeMs: state.timeMs,
      streamingInputMs: this.arbiter.operatorInControl ? op.streamingTimeMs : undefined,
      policyLastActionMs: policyIntended ? this.policyLastActionMs : undefined,
    });
    this.updateWatchdogProblems(wd, tickStart);
    // A policy stall is reported but already means "hold" (no action): only tick/state/input force it.
    const forceHold = wd.some((r) => r !== 'policy');
    const d = decide(this.arbiter, { present: state.positions, operatorGoal: op.goal, policyGoal, watchdogHold: forceHold });
    this.arbiter = d.state;
    mark('arbitrate');

    // clamp
    const reference = this.lastSent ?? state.positions;
    const clampResult = clampGoal(d.goal, reference, this.limits, this.maxStep);
    mark('clamp');

    // send
    const sent = await this.robot.writeGoal(clampResult.goal);
    this.lastSent = sent;
    if (d.source === 'operator') this.operator.syncTo(sent);
    mark('send');

    // publish
    const source: ControlSource = d.source;
    const record: TickReport = {
      tick: this.tickCount++,
      timeMs: tickStart,
      observation,
      action: sent,
      source,
      intervention: source === 'operator',
      clamped: clampResult.clamped,
      watchdog: wd,
      clampResult,
      stageMs,
      ...(source === 'policy' && reasoning ? { reasoning } : {}),
    };
    for (const s of this.sinks) {
      try {
        s.onStep(record);
      } catch (err) {
        this.raise({ id: 'sink-error', severity: 'error', source: 'loop', message: `A step consumer failed: ${(err as Error).message}`, timeMs: tickStart });
      }
    }
    mark('publish');

    const work = this.clock.nowMs() - tickStart;
    this.tickWin.push(work);
    if (this.prevTickMs !== undefined) this.periodWin.push(tickStart - this.prevTickMs);
    if (work > 1000 / this.rateHz) this.overruns++;
    this.prevTickMs = tickStart;
    return record;
  }

  private updateWatchdogProblems(reasons: WatchdogReason[], nowMs: number): void {
    const text: Record<WatchdogReason, [string, string]> = {
      tick: ['The control loop stalled; the arm held position for this tick.', 'Close other heavy programs; see tick p99 in the status bar.'],
      state: ['The robot state is stale; the arm holds position.', 'Check the robot connection (cable, power).'],
      input: ['The teleop stream (leader arm) went stale; the arm holds position.', 'Check the leader arm connection.'],
      policy: ['The policy has produced no action for a while; the arm holds position.', 'Inference may be too slow or failed; take over or stop the policy.'],
    };
    for (const r of ['tick', 'state', 'input', 'policy'] as const) {
      const id = `watchdog-${r}`;
      if (reasons.includes(r)) {
        this.raise({ id, severity: 'warning', source: 'watchdog', message: text[r][0], tip: text[r][1], timeMs: nowMs });
        if (r === 'tick') this.lastStallMs = nowMs;
      } else if (this.activeProblems.has(id) && (r !== 'tick' || nowMs - (this.lastStallMs ?? 0) > 5000)) {
        // a stall is momentary: keep it listed a few seconds so the operator sees it, then clear it
        this.clear(id);
      }
    }
  }

  raise(p: Problem): void {
    this.activeProblems.add(p.id);
    this.onProblem?.(p);
  }
  clear(id: string): void {
    if (this.activeProblems.delete(id)) this.onProblem?.({ id, cleared: true });
  }

  get lastReasoningFields(): ReasoningFields | undefined {
    return this.lastReasoning;
  }

  stats(): LoopStats {
    const periods = this.periodWin.values();
    const meanPeriod = periods.length ? periods.reduce((a, b) => a + b, 0) / periods.length : 0;
    const stages: Record<string, number> = {};
    for (const s of STAGES) stages[s] = this.stageWins[s].stats().p50Ms;
    return {
      rateHz: this.rateHz,
      achievedHz: meanPeriod > 0 ? 1000 / meanPeriod : 0,
      tick: this.tickWin.stats(),
      lateness: this.lateWin.stats(),
      overruns: this.overruns,
      ticks: this.tickCount,
      stages,
    };
  }

  resetStats(): void {
    this.tickWin.clear();
    this.lateWin.clear();
    this.periodWin.clear();
    for (const s of STAGES) this.stageWins[s].clear();
    this.overruns = 0;
  }

  // ---- real-time runner ----

  /** Runs ticks at rateHz until stop(). Uses performance.now(): the injected clock must be the real one here. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const period = 1000 / this.rateHz;
    let deadline = performance.now() + period;
    const SPIN_MS = 1.5;
    const run = async (): Promise<void> => {
      if (!this.running) return;
      while (performance.now() < deadline) {
        /* short spin to the deadline: setTimeout alone fires up to ~2 ms off */
      }
      const late = performance.now() - deadline;
      this.lateWin.push(late);
      try {
        await this.tick();
      } catch (err) {
        this.raise({ id: 'tick-error', severity: 'error', source: 'loop', message: `A control tick failed: ${(err as Error).message}`, tip: 'The arm holds its last goal. Check the robot connection.', timeMs: performance.now() });
      }
      deadline += period;
      const now = performance.now();
      if (now > deadline) {
        // Overran: skip missed deadlines rather than bursting to catch up.
        const missed = Math.ceil((now - deadline) / period);
        deadline += missed * period;
      }
      if (!this.running) return;
      this.timer = setTimeout(() => void run(), Math.max(0, deadline - performance.now() - SPIN_MS));
    };
    this.timer = setTimeout(() => void run(), Math.max(0, period - SPIN_MS));
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  get isRunning(): boolean {
    return this.running;
  }
}
