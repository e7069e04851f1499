import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, initialArbiterState, reduceArbiter, type ArbiterEvent, type ArbiterState } from '../../../main/control/arbiter';

const present = [1, 2, 3];

function run(events: (ArbiterEvent | { tick: { op?: number[]; pol?: number[]; wd?: boolean; present?: number[] } })[]) {
  let s: ArbiterState = initialArbiterState;
  const out: { source: string; goal: number[] }[] = [];
  for (const e of events) {
    if ('tick' in e) {
      const d = decide(s, { present: e.tick.present ?? present, operatorGoal: e.tick.op, policyGoal: e.tick.pol, watchdogHold: e.tick.wd ?? false });
      s = d.state;
      out.push({ source: d.source, goal: d.goal });
    } else s = reduceArbiter(s, e);
  }
  return out;
}

test('priority: e-stop > operator > policy > hold, recorded as a whole sequence', () => {
  const seq = run([
    { tick: {} },
    { tick: { pol: [5, 5, 5] } },
    { type: 'operatorInput' },
    { tick: { op: [7, 7, 7], pol: [5, 5, 5] } },
    { type: 'estop', engaged: true },
    { tick: { op: [8, 8, 8], pol: [5, 5, 5], present: [9, 9, 9] } },
    { tick: { op: [8, 8, 8], present: [10, 10, 10] } },
    { type: 'estop', engaged: false },
    { tick: { op: [8, 8, 8], pol: [5, 5, 5], present: [11, 11, 11] } },
    { type: 'operatorInput' },
    { tick: { op: [8, 8, 8] } },
    { type: 'handback' },
    { tick: { pol: [6, 6, 6] } },
  ]);
  assert.deepEqual(seq, [
    { source: 'hold', goal: present },
    { source: 'policy', goal: [5, 5, 5] },
    { source: 'operator', goal: [7, 7, 7] },
    { source: 'estop', goal: [9, 9, 9] }, // the measured position of the first e-stop tick
    { source: 'estop', goal: [9, 9, 9] }, // stays frozen even if the arm sags
    { source: 'hold', goal: [9, 9, 9] }, // released: HOLD where it stopped, neither operator nor policy resumes
    { source: 'operator', goal: [8, 8, 8] }, // an explicit operator command
    { source: 'policy', goal: [6, 6, 6] },
  ]);
});

test('releasing the e-stop lands in a latched HOLD: the policy resumes only on Hand back (ISO 13850)', () => {
  let s = reduceArbiter(initialArbiterState, { type: 'estop', engaged: true });
  s = reduceArbiter(s, { type: 'handback' });
  assert.equal(s.estop, true, 'hand back cannot release the e-stop');
  s = reduceArbiter(s, { type: 'estop', engaged: false });
  for (let i = 0; i < 3; i++) {
    const d = decide(s, { present, policyGoal: [5, 5, 5], watchdogHold: false });
    assert.equal(d.source, 'hold');
    s = d.state;
  }
  // a streaming teleop's samples are not an explicit action
  s = reduceArbiter(s, { type: 'operatorInput', streaming: true });
  assert.equal(decide(s, { present, operatorGoal: [4, 4, 4], policyGoal: [5, 5, 5], watchdogHold: false }).source, 'hold');
  s = reduceArbiter(s, { type: 'handback' });
  assert.equal(decide(s, { present, policyGoal: [5, 5, 5], watchdogHold: false }).source, 'policy');
});

test('losing the operator lands in a latched HOLD at the measured position', () => {
  let s = reduceArbiter(initialArbiterState, { type: 'operatorInput' });
  s = decide(s, { present, operatorGoal: [4, 4, 4], watchdogHold: false }).state;
  s = reduceArbiter(s, { type: 'operatorLost' });
  const d = decide(s, { present: [3.5, 3.5, 3.5], operatorGoal: [4, 4, 4], policyGoal: [5, 5, 5], watchdogHold: false });
  assert.deepEqual({ source: d.source, goal: d.goal }, { source: 'hold', goal: [3.5, 3.5, 3.5] });
  // operatorLost without an operator in control changes nothing
  assert.deepEqual(reduceArbiter(initialArbiterState, { type: 'operatorLost' }), initialArbiterState);
});

test('operator input during e-stop does not take control', () => {
  let s = reduceArbiter(initialArbiterState, { type: 'estop', engaged: true });
  s = reduceArbiter(s, { type: 'operatorInput' });
  assert.equal(s.operatorInControl, false);
});

test('the watchdog forces a hold over operator and policy', () => {
  const s = reduceArbiter(initialArbiterState, { type: 'operatorInput' });
  const d = decide(s, { present, operatorGoal: [4, 4, 4], policyGoal: [5, 5, 5], watchdogHold: true });
  assert.equal(d.source, 'hold');
  assert.deepEqual(d.goal, present);
});

test('engaging the e-stop holds the measured position of its first tick, even over an older hold goal', () => {
  let s = decide(initialArbiterState, { present, watchdogHold: true }).state; // holding at [1, 2, 3]
  s = reduceArbiter(s, { type: 'estop', engaged: true });
  let d = decide(s, { present: [1.5, 2, 3], watchdogHold: false });
  assert.deepEqual(d.goal, [1.5, 2, 3]);
  s = reduceArbiter(d.state, { type: 'estop', engaged: true }); // engaging again (Space held) re-latches nothing
  d = decide(s, { present: [1.7, 2, 3], watchdogHold: false });
  assert.deepEqual(d.goal, [1.5, 2, 3]);
});
