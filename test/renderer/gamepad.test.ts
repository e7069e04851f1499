import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEAD_ZONE, PAD_STEP, type PadSnapshot, padActions } from '../../renderer/src/lib/gamepad';

function pad(pressed: number[] = [], axes: number[] = [0, 0, 0, 0], values: Record<number, number> = {}): PadSnapshot {
  return {
    buttons: Array.from({ length: 17 }, (_, i) => ({ pressed: pressed.includes(i) || (values[i] ?? 0) > 0.5, value: values[i] ?? (pressed.includes(i) ? 1 : 0) })),
    axes,
  };
}

test('buttons act once on their press edge', () => {
  let r = padActions(pad([1]), []);
  assert.deepEqual(r.actions, [{ kind: 'estop-engage' }]);
  r = padActions(pad([1]), r.pressed);
  assert.deepEqual(r.actions, []);
  r = padActions(pad([5]), r.pressed);
  assert.deepEqual(r.actions, [{ kind: 'select-joint-delta', delta: 1 }]);
  r = padActions(pad([4, 9]), r.pressed);
  assert.deepEqual(r.actions, [{ kind: 'handback' }, { kind: 'select-joint-delta', delta: -1 }]);
});

test('D-pad jogs every poll while held; both directions cancel', () => {
  const a = padActions(pad([12]), []);
  const b = padActions(pad([12]), a.pressed);
  assert.deepEqual(a.actions, [{ kind: 'jog', delta: PAD_STEP.jogDeg }]);
  assert.deepEqual(b.actions, [{ kind: 'jog', delta: PAD_STEP.jogDeg }]);
  assert.deepEqual(padActions(pad([13]), []).actions, [{ kind: 'jog', delta: -PAD_STEP.jogDeg }]);
  assert.deepEqual(padActions(pad([12, 13]), []).actions, []);
});

test('sticks inside the dead zone do nothing; outside they scale with deflection', () => {
  assert.deepEqual(padActions(pad([], [DEAD_ZONE * 0.9, -DEAD_ZONE * 0.9, 0, 0.1]), []).actions, []);
  const full = padActions(pad([], [-1, -1, 0, 1]), []).actions;
  assert.deepEqual(full, [
    { kind: 'cartesian', axis: 'x', deltaM: PAD_STEP.cartesianM },
    { kind: 'cartesian', axis: 'y', deltaM: PAD_STEP.cartesianM },
    { kind: 'cartesian', axis: 'z', deltaM: -PAD_STEP.cartesianM },
  ]);
  const half = padActions(pad([], [0, 0.575, 0, 0]), []).actions[0];
  assert.equal(half?.kind, 'cartesian');
  assert.ok(half?.kind === 'cartesian' && half.deltaM < 0 && half.deltaM > -PAD_STEP.cartesianM);
});

test('triggers open and close the gripper; holding B suppresses all motion', () => {
  assert.deepEqual(padActions(pad([], [0, 0, 0, 0], { 7: 1 }), []).actions, [{ kind: 'jog-gripper', delta: PAD_STEP.gripperPct }]);
  assert.deepEqual(padActions(pad([], [0, 0, 0, 0], { 6: 1 }), []).actions, [{ kind: 'jog-gripper', delta: -PAD_STEP.gripperPct }]);
  const held = padActions(pad([1]), []);
  const next = padActions(pad([1, 12], [-1, 0, 0, 0], { 7: 1 }), held.pressed);
  assert.deepEqual(next.actions, []);
});
