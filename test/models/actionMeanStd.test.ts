import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { checkManifest } from '../../models/runtime/manifest';
import { unnormaliseChunk } from '../../models/policies/chunkRegression';

const base = JSON.parse(readFileSync('test/models/fixtures/chunk_regression/manifest.json', 'utf8'));

test('chunk_regression action.meanStd: accepted instead of bounds; both, neither or wrong lengths are named', () => {
  const withMs = structuredClone(base);
  delete withMs.action.bounds;
  withMs.action.meanStd = { mean: [1, 2, 3, 4, 5, 6], std: [2, 2, 2, 2, 2, 2] };
  withMs.policy.temporalCoeff = 0.02;
  const ok = checkManifest(withMs);
  assert.deepEqual(ok.problems, []);
  assert.equal(ok.manifest!.policy.kind === 'chunk_regression' ? ok.manifest!.policy.temporalCoeff : undefined, 0.02);

  const both = structuredClone(withMs);
  both.action.bounds = base.action.bounds;
  assert.deepEqual(checkManifest(both).problems.map((p) => p.path), ['action.meanStd']);

  const neither = structuredClone(withMs);
  delete neither.action.meanStd;
  assert.deepEqual(checkManifest(neither).problems.map((p) => p.path), ['action.bounds']);

  const short = structuredClone(withMs);
  short.action.meanStd.std = [1, 1];
  assert.deepEqual(checkManifest(short).problems.map((p) => p.path), ['action.meanStd.std']);

  const zeroStd = structuredClone(withMs);
  zeroStd.action.meanStd.std[0] = 0;
  assert.ok(checkManifest(zeroStd).problems.some((p) => p.path === 'action.meanStd.std[0]'));
});

test('unnormaliseChunk: mean/std (x·std + mean) and bounds ([-1, 1] -> [low, high])', () => {
  const data = Float32Array.from([0, 1, -1, 0.5]);
  const ms = unnormaliseChunk(data, 2, 2, { joints: ['a', 'b'], chunk: 2, meanStd: { mean: [10, -5], std: [2, 4] } });
  assert.deepEqual(ms, [[10, -1], [8, -3]]);
  const b = unnormaliseChunk(data, 2, 2, { joints: ['a', 'b'], chunk: 2, bounds: { low: [0, -10], high: [10, 10] } });
  assert.deepEqual(b, [[5, 10], [0, 5]]);
  assert.throws(() => unnormaliseChunk(data, 2, 2, { joints: ['a', 'b'], chunk: 2 }), /neither action\.bounds nor action\.meanStd/);
});
