import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkManifest } from '../../models/runtime/manifest';
import { loadBundle, validateBundle, BundleError } from '../../models/runtime/bundle';

const FIXTURE = 'models/bundles/fixture';
const JOINTS = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'];

test('the fixture bundle is valid for an SO-101 joint set', async () => {
  const r = await validateBundle(FIXTURE, { robotJoints: JOINTS });
  assert.deepEqual(r.problems, []);
  assert.ok(r.ok);
  assert.equal(r.manifest?.policy.kind, 'autoregressive');
});

test('a broken bundle yields every problem at once, each with its JSON path', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'reins-bundle-'));
  try {
    cpSync(FIXTURE, dir, { recursive: true });
    rmSync(join(dir, 'draft.onnx'));
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    m.action.joints[5] = 'claw'; // the robot has no such joint
    m.inputs.cameras[0].width = 32; // the encoder graph takes 16×16
    m.policy.target.kvHeads = 8; // the graph has 4
    m.policy.target.vocabSize = 300; // the graph's logits have 320
    m.policy.reasoning.fields.push('MOOD'); // no marker token for it
    m.inputs.state.mean = [0, 0]; // 2 values for 6 joints
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
    const r = await validateBundle(dir, { robotJoints: JOINTS });
    assert.equal(r.ok, false);
    const paths = r.problems.map((p) => p.path);
    for (const want of [
      'policy.draft.file',
      'action.joints[5]',
      'policy.encoder.inputs[0]',
      'policy.target.kvHeads',
      'policy.target.vocabSize',
      'policy.reasoning.fields[6]',
      'inputs.state.mean',
    ]) {
      assert.ok(paths.includes(want), `missing ${want} in:\n${r.problems.map((p) => `${p.path}: ${p.message}`).join('\n')}`);
    }
    const claw = r.problems.find((p) => p.path === 'action.joints[5]')!;
    assert.match(claw.message, /"claw" is not a joint of this robot/);
    await assert.rejects(loadBundle(dir, { robotJoints: JOINTS }), (e: unknown) => e instanceof BundleError && e.problems.length === r.problems.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('schema problems are listed with their paths before any file is opened', () => {
  const r = checkManifest({ format: 'reins-bundle', version: 1, name: 'x', inputs: {}, policy: { kind: 'autoregressive' }, action: { joints: [], chunk: 0 } });
  const paths = r.problems.map((p) => p.path);
  assert.ok(paths.includes('policy.target'), paths.join(', '));
  assert.ok(paths.includes('policy.maxNewTokens'), paths.join(', '));
  assert.ok(paths.includes('action.joints'), paths.join(', '));
  assert.ok(paths.includes('action.chunk'), paths.join(', '));
});

test('a missing or unreadable manifest is one clear problem', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'reins-bundle-'));
  try {
    let r = await validateBundle(dir);
    assert.match(r.problems[0]!.message, /manifest.json not found/);
    writeFileSync(join(dir, 'manifest.json'), '{ nope');
    r = await validateBundle(dir);
    assert.match(r.problems[0]!.message, /not valid JSON/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
