import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quantile, settingsChange, sparkPath, trimBefore, windowStats, yRange } from '../../renderer/src/lib/sparkline';
import { DEFAULT_POLICY_SETTINGS } from '../../main/common/settings';

test('quantiles interpolate between ranks and ignore non-finite values', () => {
  assert.equal(quantile([3, 1, 2], 0.5), 2);
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.ok(Math.abs(quantile(Array.from({ length: 101 }, (_, i) => i), 0.95) - 95) < 1e-9);
  assert.equal(quantile([Number.NaN, 5], 0.5), 5);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});

test('window stats cover only the window', () => {
  const s = [0, 1, 2, 3, 4, 5].map((i) => ({ timeMs: i * 1000, value: i < 3 ? 1000 : i }));
  const w = windowStats(s, 3000);
  assert.deepEqual([w.p50, w.n], [4, 3]);
  assert.ok(Math.abs(w.p95 - 4.9) < 1e-9);
  assert.equal(trimBefore(s, 2500).length, 3);
});

test('the path spans the box, breaks at gaps and clamps to the range', () => {
  const s = [
    { timeMs: 0, value: 0 },
    { timeMs: 50, value: 10 },
    { timeMs: 75, value: Number.NaN },
    { timeMs: 100, value: 99 },
  ];
  assert.equal(sparkPath(s, 0, 100, 100, 20, 0, 10), 'M0.0 20.0 L50.0 0.0 M100.0 0.0');
  const [lo, hi] = yRange(s, 0);
  assert.equal(lo, 0);
  assert.ok(Math.abs(hi - 108.9) < 1e-9, String(hi));
});

test('a settings change is named; the same settings are not a change', () => {
  const a = { ...DEFAULT_POLICY_SETTINGS };
  assert.equal(settingsChange(a, { ...a }), '');
  assert.equal(settingsChange(a, { ...a, jacobi: false, relaxedR: 2 }), 'jacobi off, relaxed r 2');
  assert.equal(settingsChange(undefined, a), '');
});
