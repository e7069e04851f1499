import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPolicy } from '../../models/policies/open';
import { validateBundle } from '../../models/runtime/bundle';

const DIR = 'test/models/fixtures/chunk_regression';
const JOINTS = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'];

test('chunk regression: validates, one forward pass gives an H×D chunk inside the action bounds', async () => {
  const r = await validateBundle(DIR, { robotJoints: JOINTS });
  assert.deepEqual(r.problems, []);
  const policy = await openPolicy(DIR);
  try {
    const img = new Uint8Array(20 * 10 * 3).fill(90);
    const res = await policy.infer(
      { state: [0, 10, -10, 5, 0, 50], images: { wrist: { data: img, width: 20, height: 10 } }, instruction: '' },
      { speculative: false, relaxedR: 0, planCache: false, reasoning: false },
    );
    assert.ok(res.valid);
    assert.equal(res.chunk.length, 4);
    for (const row of res.chunk) {
      assert.equal(row.length, 6);
      row.forEach((v, d) => assert.ok(d === 5 ? v >= 0 && v <= 100 : v >= -100 && v <= 100));
    }
    assert.equal(res.stats.targetCalls, 1);
  } finally {
    await policy.dispose();
  }
});

test('chunk regression: a chunk length that disagrees with the graph output is reported', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'reins-chunk-'));
  try {
    cpSync(DIR, dir, { recursive: true });
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    m.action.chunk = 10;
    m.policy.graph.output = 'actions';
    delete m.action.bounds;
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
    const r = await validateBundle(dir);
    const paths = r.problems.map((p) => p.path);
    assert.ok(paths.includes('action.chunk'), paths.join(', '));
    assert.ok(paths.includes('action.bounds'), paths.join(', '));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('relative actions: the decoded chunk is an offset from the observed state of each relative joint', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'reins-rel-'));
  const obs = (state: number[]) => ({ state, images: { wrist: { data: new Uint8Array(8 * 8 * 3).fill(120), width: 8, height: 8 } }, instruction: '' });
  const settings = { speculative: false, relaxedR: 0, planCache: false, reasoning: false };
  try {
    cpSync(DIR, dir, { recursive: true });
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    const absolute = await openPolicy(dir);
    const state = [12, -30, 7.5, 40, -3, 55];
    const a = await absolute.infer(obs(state), settings);
    await absolute.dispose();
    m.action.relative = [true, true, true, true, true, false];
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
    assert.deepEqual((await validateBundle(dir, { robotJoints: JOINTS })).problems, []);
    const relative = await openPolicy(dir);
    try {
      const r = await relative.infer(obs(state), settings);
      assert.equal(r.chunk.length, a.chunk.length);
      r.chunk.forEach((row, t) => row.forEach((v, d) => assert.ok(Math.abs(v - (a.chunk[t]![d]! + (d < 5 ? state[d]! : 0))) < 1e-9, `t=${t} d=${d}: ${v}`)));
    } finally {
      await relative.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('relative actions: a mask of the wrong length, or a relative joint the state does not give, is reported', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'reins-rel-'));
  try {
    cpSync(DIR, dir, { recursive: true });
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    m.action.relative = [true, true];
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
    assert.ok((await validateBundle(dir)).problems.some((p) => p.path === 'action.relative'));
    m.action.relative = [true, true, true, true, true, false];
    m.inputs.state.joints[0] = 'waist';
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
    const r = await validateBundle(dir);
    const p = r.problems.find((x) => x.path === 'action.relative[0]');
    assert.ok(p !== undefined, r.problems.map((x) => x.path).join(', '));
    assert.match(p.message, /shoulder_pan.*inputs\.state/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
