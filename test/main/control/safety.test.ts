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
