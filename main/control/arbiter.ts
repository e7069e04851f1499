/**
 * The arbiter: who commands the arm this tick. E-stop > operator > policy > hold. Pure state machine.
 *
 * - E-stop engaged: the arm holds (the hold goal is the measured position of the first e-stop tick),
 *   whatever else asks.
 * - Releasing the e-stop (resetting it, ISO 13850) starts nothing: the arm stays in a latched HOLD
 *   until an explicit action — Start a policy or Hand back (`handback`), or a fresh operator command
 *   (a jog). A streaming teleop (leader arm) does not count as that action: its samples keep coming
 *   by themselves, so after a latched hold it drives again only after Hand back.
 * - Losing the operator (its client went away, its stream went stale: `operatorLost`) also lands in
 *   the latched HOLD at the measured position; the policy does not take over by surprise.
 * - Any operator command takes over at once (`operatorInput`) and keeps control until `handback`.
 * - The policy commands only when no operator holds control and it has an action this tick.
 * - Otherwise the arm holds (the frozen hold goal), e.g. while a policy's first chunk is in flight.
 */
import type { ControlSource } from '../common/types';

export interface ArbiterState {
  estop: boolean;
  operatorInControl: boolean;
  /** HOLD until an explicit Start / Hand back / operator command (after an e-stop release or a lost operator). */
  latched: boolean;
  /** Goal frozen when the arm entered estop or hold; undefined while someone commands it. */
  holdGoal?: number[];
}

export type ArbiterEvent =
  | { type: 'estop'; engaged: boolean }
  /** `streaming`: the input is a streaming teleop's sample, not an operator's explicit command. */
  | { type: 'operatorInput'; streaming?: boolean }
  | { type: 'handback' }
  | { type: 'operatorLost' };

export const initialArbiterState: ArbiterState = { estop: false, operatorInControl: false, latched: false };

export function reduceArbiter(s: ArbiterState, e: ArbiterEvent): ArbiterState {
  switch (e.type) {
    case 'estop':
      // Releasing the e-stop hands nothing to anyone: the arm holds where it stopped until an explicit action.
      // Engaging drops any older hold goal: the first e-stop tick holds the measured position (a second engage changes nothing).
      if (e.engaged) return s.estop ? s : { ...s, estop: true, holdGoal: undefined };
      return { ...s, estop: false, operatorInControl: false, latched: true };
    case 'operatorInput':
      if (s.estop || (s.latched && e.streaming === true)) return s;
      return { ...s, operatorInControl: true, latched: false };
    case 'handback':
      // The caller refuses a hand back during the e-stop; here it simply cannot release it.
      return s.estop ? s : { ...s, operatorInControl: false, latched: false };
    case 'operatorLost':
      return s.operatorInControl ? { ...s, operatorInControl: false, latched: true } : s;
  }
}

export interface ArbiterInputs {
  present: readonly number[];
  operatorGoal?: readonly number[];
  policyGoal?: readonly number[];
  /** The watchdog says inputs are stale: hold regardless of operator/policy. */
  watchdogHold: boolean;
}

export interface ArbiterDecision {
  source: ControlSource;
  goal: number[];
  state: ArbiterState;
}

export function decide(s: ArbiterState, inp: ArbiterInputs): ArbiterDecision {
  // A hold commands where the arm IS (measured) on its first tick, then keeps that goal.
  const hold = (source: ControlSource): ArbiterDecision => {
    const goal = s.holdGoal ?? [...inp.present];
    return { source, goal: [...goal], state: { ...s, holdGoal: goal } };
  };
  if (s.estop) return hold('estop');
  if (inp.watchdogHold) return hold('hold');
  if (s.latched) return hold('hold');
  if (s.operatorInControl) {
    if (inp.operatorGoal) return { source: 'operator', goal: [...inp.operatorGoal], state: { ...s, holdGoal: undefined } };
    return hold('hold');
  }
  if (inp.policyGoal) return { source: 'policy', goal: [...inp.policyGoal], state: { ...s, holdGoal: undefined } };
  return hold('hold');
}
