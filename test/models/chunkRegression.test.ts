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
