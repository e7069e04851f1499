/**
 * Operator input as the loop sees it: jog deltas and absolute goals arriving from the renderer
 * (keyboard, on-screen buttons, Cartesian jog solved by IK) and, optionally, a streaming Teleop
 * (leader arm). The loop drains it once per tick. No I/O.
 */
import type { Teleop } from '../../drivers/teleop/Teleop';

export interface OperatorTickInput {
  /** Absolute goal the operator asks for this tick (base + deltas, or the leader's positions). */
  goal?: number[];
  /** True when new input arrived this tick (a takeover trigger). */
  fresh: boolean;
  /** True when the new input includes an operator's explicit command (jog, absolute goal), not only a streaming sample. */
  explicit: boolean;
  /** Time of the newest streaming sample, when a streaming teleop is attached. */
  streamingTimeMs?: number;
}

export class OperatorInput {
  private delta: number[] | undefined;
  private absolute: number[] | undefined;
  private lastGoal: number[] | undefined;
  private lastStreamMs: number | undefined;
  teleop: Teleop | undefined;

  constructor(private readonly jointCount: number) {}

  jog(joint: number, delta: number): void {
    if (!Number.isInteger(joint) || joint < 0 || joint >= this.jointCount) throw new RangeError(`no joint at index ${joint}`);
    if (!Number.isFinite(delta)) throw new RangeError('jog delta must be a finite number');
    this.delta ??= new Array<number>(this.jointCount).fill(0);
    this.delta[joint]! += delta;
  }

  setAbsolute(goal: readonly number[]): void {
    if (goal.length !== this.jointCount || !goal.every(Number.isFinite)) throw new RangeError('operator goal must have one finite value per joint');
    this.absolute = [...goal];
    this.delta = undefined;
  }

  /** Forget the operator's goal (after handback, the next takeover starts from the arm's goal). */
  release(): void {
    this.lastGoal = undefined;
    this.delta = undefined;
    this.absolute = undefined;
  }

  /** `base` is the goal last sent to the arm; jogs are relative to the operator's own last goal or to it. */
  drain(nowMs: number, base: readonly number[]): OperatorTickInput {
    let fresh = false;
    let explicit = false;
    let goal = this.lastGoal;
    if (this.teleop) {
      const s = this.teleop.poll(nowMs);
      if (s) {
        if (this.teleop.streaming) this.lastStreamMs = s.timeMs;
        const from = goal ?? [...base];
        goal = s.command.kind === 'absolute' ? [...s.command.positions] : from.map((v, i) => v + (s.command.kind === 'delta' ? s.command.deltas[i] ?? 0 : 0));
        fresh = true;
        if (!this.teleop.streaming) explicit = true;
      }
    }
    if (this.absolute) {
      goal = this.absolute;
      this.absolute = undefined;
      fresh = true;
      explicit = true;
    }
    if (this.delta) {
      const from = goal ?? [...base];
      goal = from.map((v, i) => v + this.delta![i]!);
      this.delta = undefined;
      fresh = true;
      explicit = true;
    }
    this.lastGoal = goal;
    const out: OperatorTickInput = { fresh, explicit };
    if (goal) out.goal = [...goal];
    if (this.teleop?.streaming && this.lastStreamMs !== undefined) out.streamingTimeMs = this.lastStreamMs;
    return out;
  }

  /** Clip the operator's remembered goal to what was actually sent, so a jog past a limit doesn't wind up. */
  syncTo(sent: readonly number[]): void {
    if (this.lastGoal) this.lastGoal = [...sent];
  }
}
