/**
 * The one control loop. Each tick runs named, timed stages:
 *   observe   — read the robot's state and the newest camera frames
 *   decide    — drain operator input; ask the policy for its next action (never waits on inference)
 *   arbitrate — e-stop > operator > policy > hold, with the watchdog able to force a hold
 *   clamp     — joint limits, maximum change per tick, bounded lead over the measured position (always on)
 *   send      — robot.writeGoal
 *   publish   — StepRecord to every sink (telemetry, recorder); sinks must not block
 * `tick()` is a plain async function, so tests drive it under a fake clock; `start()` paces it in
 * real time with a deadline timer (setTimeout to just before the deadline, then a short spin,
 * because a bare setTimeout fires up to ~2 ms early or late) and counts overruns.
 *
 * Stopping: the e-stop and every hold (watchdog, latched hold) command the arm's MEASURED position
 * on the next tick, never a goal rate-limited toward where the arm was told to go before; and no
 * goal may lead the measured position by more than `maxLead`, so nothing can wind a goal up ahead of
 * servos that lag. Releasing the e-stop leaves the arm in a latched HOLD (see arbiter.ts).
 */
import type { Camera, Frame } from '../../drivers/cameras/Camera';
import type { Robot } from '../../drivers/robots/Robot';
import { ReinsError } from '../common/errors';
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
  /**
   * Largest lead of a goal over the measured position, per joint (units). Default: the servo's speed
   * (`RobotJoint.maxSpeed`, else the clamp's 300 units/s) times max(3 ticks, 100 ms); unbounded for
   * 'percent' joints (a gripper squeezes an object by commanding past where its jaws stop).
   */
  maxLead?: number[];
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
  readonly maxLead: readonly number[];
  /** Joints whose requested goal is past a limit: time they were last pinned (for a one-time problem). */
  private readonly pinned = new Map<number, number>();
  private readonly wdConfig: WatchdogConfig;
  private readonly sinks = new Set<StepSink>();
  private arbiter: ArbiterState = initialArbiterState;
  private policy: PolicyRunner | undefined;
  private policyLastActionMs: number | undefined;
  /** The measured positions of the previous tick (a gripper that did not move between two ticks is stalled). */
  private prevMeasured: number[] | undefined;
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
    const leadS = Math.max(3 / this.rateHz, 0.1);
    this.maxLead = o.maxLead ?? o.robot.joints.map((j, i) => (j.unit === 'percent' ? Infinity : (j.maxSpeed ?? this.maxStep[i]! * this.rateHz) * leadS));
    if (this.maxLead.length !== o.robot.joints.length || !this.maxLead.every((v) => v > 0)) throw new RangeError(`maxLead needs one positive value per joint (${o.robot.joints.length})`);
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

  /** Engage, or release (reset) the e-stop. Releasing leaves the arm in a latched HOLD: nothing moves until Start / Hand back / a jog. */
  setEstop(engaged: boolean): void {
    this.arbiter = reduceArbiter(this.arbiter, { type: 'estop', engaged });
    // Operator input given before or during the e-stop is dropped: a release must not replay it.
    this.operator.release();
  }
  get estop(): boolean {
    return this.arbiter.estop;
  }
  get operatorInControl(): boolean {
    return this.arbiter.operatorInControl;
  }
  /** The arm is in a latched HOLD (after an e-stop release or a lost operator) until Start / Hand back / a jog. */
  get latched(): boolean {
    return this.arbiter.latched;
  }

  /**
   * Give control back to the policy (or, with none, leave the arm holding): the operator's goal is dropped and the
   * policy starts fresh from the present state. Also the explicit "resume" after a latched hold. Refused during the e-stop.
   */
  handback(): void {
    if (this.arbiter.estop) throw new ReinsError('busy', 'The e-stop is engaged: hand back is refused. Release the e-stop first (the arm then holds), then hand back.');
    this.arbiter = reduceArbiter(this.arbiter, { type: 'handback' });
    this.clear('operator-lost');
    this.operator.release();
    this.policy?.reset();
    this.policyLastActionMs = undefined;
  }

  /**
   * The operator is gone (its client disconnected, its teleop stream went stale): if it had control, the arm falls
   * to a latched HOLD at its measured position on the next tick. Returns whether the operator had control.
   */
  operatorLost(why: 'client' | 'stream', nowMs = this.clock.nowMs()): boolean {
    if (!this.arbiter.operatorInControl) return false;
    this.arbiter = { ...reduceArbiter(this.arbiter, { type: 'operatorLost' }), holdGoal: undefined };
    this.operator.release();
    const what = why === 'client' ? 'The console that had control of the arm disconnected' : 'The teleop stream (leader arm) that had control went stale';
    this.raise({ id: 'operator-lost', severity: 'warning', source: 'loop', message: `${what}; the arm holds where it is.`, tip: 'Jog to take control, or Hand back (H) to let the policy (or the leader arm) drive again.', timeMs: nowMs });
    return true;
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
    if (this.arbiter.estop) {
      this.operator.release(); // jogs pressed during the e-stop are dropped, not saved up for the release
    } else if (op.fresh) {
      const wasLatched = this.arbiter.latched;
      this.arbiter = reduceArbiter(this.arbiter, { type: 'operatorInput', streaming: !op.explicit });
      if (wasLatched && !this.arbiter.latched) this.clear('operator-lost');
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
    // A stale stream while it had control: the operator is gone; the arm holds (latched) at its measured position.
    if (wd.includes('input')) this.operatorLost('stream', tickStart);
    // A policy stall is reported but already means "hold" (no action): only tick/state/input force it.
    const forceHold = wd.some((r) => r !== 'policy');
    const holdWasSet = this.arbiter.holdGoal !== undefined;
    const d = decide(this.arbiter, { present: state.positions, operatorGoal: op.goal, policyGoal, watchdogHold: forceHold });
    if (!holdWasSet && d.state.holdGoal !== undefined) {
      // A hold just began at the measured position. A gripper squeezing an object (its goal past
      // where its jaws stopped, and not moving) keeps its squeeze: holding its measured position
      // would take the grip force away and drop what it holds. A gripper still moving stops where it is.
      const kept = keepGrip(d.goal, this.lastSent, state.positions, this.prevMeasured, this.robot.joints.map((j) => j.unit === 'percent'));
      d.goal.splice(0, d.goal.length, ...kept);
      d.state.holdGoal = [...kept];
    }
    this.prevMeasured = [...state.positions];
    this.arbiter = d.state;
    mark('arbitrate');

    // clamp: a hold is stepped from where the arm IS, never toward a goal it was sent before
    const holding = d.source === 'estop' || d.source === 'hold';
    // (a squeezing gripper's kept goal is stepped from the goal it was sent: its jaws are blocked)
    const reference = holding ? state.positions.map((m, i) => (this.lastSent !== undefined && d.goal[i] === this.lastSent[i] ? this.lastSent[i]! : m)) : (this.lastSent ?? state.positions);
    const clampResult = clampGoal(d.goal, reference, this.limits, this.maxStep, { measured: state.positions, maxLead: this.maxLead });
    this.reportPinned(holding ? undefined : d.goal, d.source, tickStart); // a hold's goal is the measured position: never pinned
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

  /**
   * A joint whose requested goal lies past its limit is pinned there by the clamp: say so once (one problem per
   * joint), and clear it only after the joint has been free for 2 s, so a goal hovering at a limit cannot flood
   * the operator with problems.
   */
  private reportPinned(requested: readonly number[] | undefined, source: ControlSource, nowMs: number): void {
    const joints = this.robot.joints;
    if (requested) {
      for (let i = 0; i < this.limits.length; i++) {
        const v = requested[i]!;
        const lim = this.limits[i]!;
        if (!Number.isFinite(v) || (v <= lim.max && v >= lim.min)) continue;
        if (!this.pinned.has(i)) {
          const j = joints[i]!;
          const unit = j.unit === 'deg' ? '°' : ' %';
          const side = v > lim.max ? `upper limit (${lim.max}${unit})` : `lower limit (${lim.min}${unit})`;
          const who = source === 'operator' ? 'the operator asks' : 'the policy asks';
          this.raise({
            id: `limit:${j.name}`,
            severity: 'warning',
            source: 'safety',
            message: `${j.name} is pinned at its ${side}: ${who} for ${v.toFixed(1)}${unit}, and the goal is cut to the limit.`,
            tip: source === 'operator' ? 'Jog the other way.' : 'Take over or stop the policy; if the range is too tight, recalibrate the arm (Robot → Calibrate).',
            timeMs: nowMs,
          });
        }
        this.pinned.set(i, nowMs);
      }
    }
    for (const [i, t] of this.pinned) {
      if (t === nowMs || nowMs - t < 2000) continue;
      this.pinned.delete(i);
      this.clear(`limit:${joints[i]!.name}`);
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

/** A gripper whose goal leads its measured position by more than this (units of 0..100) is squeezing. */
export const GRIP_SQUEEZE_MIN = 2;
/** ...and that moved less than this since the last tick is stalled on an object. */
export const GRIP_STALL_MAX = 0.5;

/**
 * The hold goal for the first tick of a hold: the measured position for every joint, except a
 * gripper ('percent' joint) that is squeezing an object — its last goal leads its measured position
 * by more than GRIP_SQUEEZE_MIN toward closed and it did not move since the last tick — which keeps
 * its last goal, so the hold keeps the grip force (its jaws are blocked: keeping the goal moves
 * nothing). Pure.
 */
export function keepGrip(hold: readonly number[], lastSent: readonly number[] | undefined, measured: readonly number[], prevMeasured: readonly number[] | undefined, isGripper: readonly boolean[]): number[] {
  return hold.map((h, i) => {
    if (!isGripper[i] || lastSent === undefined || prevMeasured === undefined) return h;
    const last = lastSent[i]!;
    const m = measured[i]!;
    const squeezing = last - m > GRIP_SQUEEZE_MIN && Math.abs(m - prevMeasured[i]!) < GRIP_STALL_MAX;
    return squeezing ? last : h;
  });
}
