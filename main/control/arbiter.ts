/**
 * The arbiter: who commands the arm this tick. E-stop > operator > policy > hold. Pure state machine.
 *
 * - E-stop engaged: the goal freezes at the positions where it was engaged, whatever else asks.
 * - Any operator input takes over at once (`operatorInput`) and keeps control until `handback`.
 * - The policy commands only when no operator holds control and it has an action this tick.
 * - Otherwise the arm holds (the frozen hold goal), e.g. while a policy's first chunk is in flight.
 */
import type { ControlSource } from '../common/types';

export interface ArbiterState {
  estop: boolean;
  operatorInControl: boolean;
  /** Goal frozen when the arm entered estop or hold; undefined while someone commands it. */
  holdGoal?: number[];
}

export type ArbiterEvent = { type: 'estop'; engaged: boolean } | { type: 'operatorInput' } | { type: 'handback' };

export const initialArbiterState: ArbiterState = { estop: false, operatorInControl: false };

export function reduceArbiter(s: ArbiterState, e: ArbiterEvent): ArbiterState {
  switch (e.type) {
    case 'estop':
      // Releasing the e-stop hands nothing to the policy by surprise: the arm holds until someone commands it.
      return e.engaged ? { ...s, estop: true } : { ...s, estop: false, holdGoal: undefined };
    case 'operatorInput':
      return s.estop ? s : { ...s, operatorInControl: true };
    case 'handback':
      return { ...s, operatorInControl: false };
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
  const hold = (source: ControlSource): ArbiterDecision => {
    const goal = s.holdGoal ?? [...inp.present];
    return { source, goal: [...goal], state: { ...s, holdGoal: goal } };
  };
  if (s.estop) return hold('estop');
  if (inp.watchdogHold) return hold('hold');
  if (s.operatorInControl) {
    if (inp.operatorGoal) return { source: 'operator', goal: [...inp.operatorGoal], state: { ...s, holdGoal: undefined } };
    return hold('hold');
  }
  if (inp.policyGoal) return { source: 'policy', goal: [...inp.policyGoal], state: { ...s, holdGoal: undefined } };
  return hold('hold');
}
