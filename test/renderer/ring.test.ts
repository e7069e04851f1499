import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TimeSeriesRing } from '../../renderer/src/lib/ring';

test('ring keeps rows in age order until full', () => {
  const r = new TimeSeriesRing(4, 2);
  assert.equal(r.length, 0);
  assert.equal(r.lastTime, undefined);
  r.push(10, [1, 2]);
  r.push(20, [3, 4]);
  assert.equal(r.length, 2);
  assert.equal(r.lastTime, 20);
  const [t, a, b] = r.toColumns();
  assert.deepEqual([...t!], [10, 20]);
  assert.deepEqual([...a!], [1, 3]);
  assert.deepEqual([...b!], [2, 4]);
});

test('ring overwrites the oldest rows once full and reads across the wrap', () => {
  const r = new TimeSeriesRing(3, 1);
  for (let i = 0; i < 7; i++) r.push(i, [i * 10]);
  assert.equal(r.length, 3);
  const [t, v] = r.toColumns();
  assert.deepEqual([...t!], [4, 5, 6]);
  assert.deepEqual([...v!], [40, 50, 60]);
  assert.equal(r.timeAt(0), 4);
  assert.equal(r.valueAt(2, 0), 60);
  assert.throws(() => r.timeAt(3), RangeError);
});

test('toColumns(since) returns only the window, even across the wrap', () => {
  const r = new TimeSeriesRing(5, 1);
  for (let i = 0; i < 8; i++) r.push(i * 100, [i]); // keeps t = 300..700
  const [t, v] = r.toColumns(450);
  assert.deepEqual([...t!], [500, 600, 700]);
  assert.deepEqual([...v!], [5, 6, 7]);
  assert.equal(r.toColumns(10_000)[0]!.length, 0);
  assert.equal(r.toColumns(0)[0]!.length, 5);
});

test('missing and non-finite values become NaN gaps; extra values are ignored', () => {
  const r = new TimeSeriesRing(2, 3);
  r.push(1, [1, Number.POSITIVE_INFINITY]);
  r.push(2, [1, 2, 3, 4]);
  const cols = r.toColumns();
  assert.equal(cols.length, 4);
  assert.ok(Number.isNaN(cols[2]![0]!));
  assert.ok(Number.isNaN(cols[3]![0]!));
  assert.equal(cols[3]![1], 3);
});

test('clear empties the ring; bad sizes are refused', () => {
  const r = new TimeSeriesRing(2, 1);
  r.push(1, [1]);
  r.clear();
  assert.equal(r.length, 0);
  assert.equal(r.toColumns()[0]!.length, 0);
  assert.throws(() => new TimeSeriesRing(0, 1), RangeError);
  assert.throws(() => new TimeSeriesRing(2.5, 1), RangeError);
});
