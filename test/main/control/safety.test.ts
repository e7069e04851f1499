import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clampGoal } from '../../../main/control/safety';

const limits = [
  { min: -90, max: 90 },
  { min: 0, max: 100 },
];

test('a goal inside limits and within the step passes unchanged', () => {
  const r = clampGoal([10, 50], [8, 48], limits, [5, 5]);
  assert.deepEqual(r.goal, [10, 50]);
  assert.equal(r.clamped, false);
});

test('a jump is cut to the maximum step relative to the previous goal', () => {
  const r = clampGoal([80, 50], [0, 50], limits, [10, 10]);
  assert.deepEqual(r.goal, [10, 50]);
  assert.deepEqual(r.changes, [{ joint: 0, requested: 80, sent: 10, reason: 'step' }]);
});

test('limits win over the step', () => {
  const r = clampGoal([200, -5], [88, 2], limits, [10, 10]);
  assert.deepEqual(r.goal, [90, 0]);
  assert.equal(r.clamped, true);
});

test('NaN and Infinity hold the joint at its reference', () => {
  const r = clampGoal([NaN, Infinity], [3, 4], limits, [10, 10]);
  assert.deepEqual(r.goal, [3, 4]);
  assert.deepEqual(r.changes.map((c) => c.reason), ['invalid', 'invalid']);
});

test('a length mismatch is an error, never a silent partial goal', () => {
  assert.throws(() => clampGoal([1], [0, 0], limits, [1, 1]), /length mismatch/);
});

test('a goal never leads the measured position by more than the bound', () => {
  const r = clampGoal([40, 50], [30, 50], limits, [20, 20], { measured: [10, 50], maxLead: [15, Infinity] });
  assert.deepEqual(r.goal, [25, 50]);
  assert.deepEqual(r.changes, [{ joint: 0, requested: 40, sent: 25, reason: 'lead' }]);
  // below the arm as well, and limits still win
  const d = clampGoal([-90, 0], [-80, 0], limits, [20, 20], { measured: [-85, 0], maxLead: [3, 3] });
  assert.deepEqual(d.goal, [-88, 0]);
  assert.equal(clampGoal([95, 0], [88, 0], limits, [20, 20], { measured: [89, 0], maxLead: [10, 10] }).goal[0], 90);
});
