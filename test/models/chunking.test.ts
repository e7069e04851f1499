import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ActionQueue, meanSquaredJerk, type MergeMode } from '../../models/chunking/actionQueue';
import { rng } from './fakeLM';

test('queue: refill below g·H, stale actions dropped, pop returns the action for the tick', () => {
  const q = new ActionQueue({ chunk: 8, refillFraction: 0.5, mode: 'off' });
  assert.ok(q.needsRefill(0));
  q.push(0, Array.from({ length: 8 }, (_, i) => [i]), 2); // landed at tick 2: steps 0 and 1 are stale
  assert.equal(q.remaining(2), 6);
  assert.deepEqual(q.pop(2), [2]);
  assert.equal(q.needsRefill(3), false); // 5 left ≥ 4
  q.pop(3);
  q.pop(4);
  assert.equal(q.needsRefill(5), true); // 3 left < 4
  assert.equal(q.pop(100), undefined);
  q.clear();
  assert.equal(q.remaining(0), 0);
});

test('temporal ensembling (online) equals the offline ACT weighted average, oldest weighted most', () => {
  const m = 0.01;
  const H = 5;
  const q = new ActionQueue({ chunk: H, refillFraction: 1, mode: 'temporal', temporalCoeff: m });
  const r = rng(5);
  const chunks: number[][][] = [];
  for (let t = 0; t < 12; t++) {
    const c = Array.from({ length: H }, () => [r() * 10, r()]);
    chunks.push(c);
    q.push(t, c, t);
    const got = q.pop(t)!;
    // offline: predictions for step t from chunks started at t-H+1..t, oldest first, w_i = exp(-m i)
    const preds: number[][] = [];
    for (let s = Math.max(0, t - H + 1); s <= t; s++) preds.push(chunks[s]![t - s]!);
    const w = preds.map((_, i) => Math.exp(-m * i));
    const W = w.reduce((a, b) => a + b, 0);
    const want = [0, 1].map((d) => preds.reduce((acc, p, i) => acc + p[d]! * w[i]!, 0) / W);
    want.forEach((v, d) => assert.ok(Math.abs(got[d]! - v) < 1e-9, `t=${t} d=${d}: ${got[d]} vs ${v}`));
  }
});

test('blending ramps linearly from the old chunk to the new one over the overlap', () => {
  const q = new ActionQueue({ chunk: 4, refillFraction: 0.5, mode: 'blend' });
  q.push(0, [[0], [0], [0], [0]], 0);
  q.pop(0);
  q.push(1, [[3], [3], [3], [3]], 1); // overlap: steps 1,2,3 (3 steps): new weights 1/4, 2/4, 3/4
  assert.deepEqual([q.pop(1), q.pop(2), q.pop(3), q.pop(4)], [[0.75], [1.5], [2.25], [3]]);
});

/** Executes a run with delayed, noisy chunks of a smooth reference and returns the executed actions. */
function simulate(mode: MergeMode, seed: number): number[][] {
  const H = 10;
  const delay = 3;
  const q = new ActionQueue({ chunk: H, refillFraction: 0.6, mode });
  const r = rng(seed);
  const ref = (t: number): number => 20 * Math.sin(t / 15);
  const executed: number[][] = [];
  let inflight: { start: number; lands: number; chunk: number[][] } | undefined;
  let last = [ref(0)];
  for (let t = 0; t < 300; t++) {
    if (inflight !== undefined && t >= inflight.lands) {
      q.push(inflight.start, inflight.chunk, t);
      inflight = undefined;
    }
    if (inflight === undefined && q.needsRefill(t)) {
      const bias = (r() - 0.5) * 4; // each chunk is off by its own offset: switching jumps
      inflight = { start: t, lands: t + delay, chunk: Array.from({ length: H }, (_, i) => [ref(t + i) + bias + (r() - 0.5) * 0.5]) };
    }
    const a = q.pop(t);
    if (a !== undefined) last = a;
    executed.push(last);
  }
  return executed;
}

test('jerk metric: temporal ensembling and blending are smoother than naive switching on the same run', () => {
  const j = { off: 0, temporal: 0, blend: 0 };
  for (const seed of [1, 2, 3]) {
    j.off += meanSquaredJerk(simulate('off', seed));
    j.temporal += meanSquaredJerk(simulate('temporal', seed));
    j.blend += meanSquaredJerk(simulate('blend', seed));
  }
  assert.ok(j.temporal < j.off, JSON.stringify(j));
  assert.ok(j.blend < j.off, JSON.stringify(j));
  assert.equal(meanSquaredJerk([[0], [1], [2], [3], [4]]), 0);
  assert.equal(meanSquaredJerk([[0], [0], [0], [1]]), 1);
});
