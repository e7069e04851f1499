/**
 * The shipped demo bundle (models/bundles/demo, trained by models/train/train_demo.py on recorded
 * simulator episodes): it validates against the SO-101's joints and produces a valid chunk with
 * ECoT reasoning from a rendered simulator observation, greedy and speculative alike.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SimCamera, SimWorld, SO101_JOINTS } from '../../drivers/sim';
import { validateBundle } from '../../models/runtime/bundle';
import { openPolicy } from '../../models/policies/open';
import type { Policy } from '../../models/policies/types';
import type { PolicyObservation } from '../../models/policies/preprocess';

const DEMO = process.env.REINS_DEMO_BUNDLE ?? 'models/bundles/demo';
let policy: Policy;

async function simObservation(seed: number): Promise<PolicyObservation> {
  const world = new SimWorld({ seed, family: 'pick_place' });
  const images: PolicyObservation['images'] = {};
  for (const key of ['front', 'wrist'] as const) {
    const cam = new SimCamera(world, key, { width: 32, height: 32, fps: 30 }, () => world.timeMs);
    await cam.connect();
    const f = cam.readLatest();
    assert.ok(f !== undefined, `camera ${key} rendered`);
    images[key] = { data: f.data, width: f.width, height: f.height };
  }
  return { state: world.getPositions(), images, instruction: world.task.instruction };
}

before(async () => {
  policy = await openPolicy(DEMO, { robotJoints: [...SO101_JOINTS], session: { intraOpNumThreads: 1 } });
});
after(async () => {
  await policy.dispose();
});

test('the demo bundle validates against the SO-101 joints', async () => {
  const report = await validateBundle(DEMO, { robotJoints: [...SO101_JOINTS] });
  assert.deepEqual(report.problems, []);
});

test('the demo bundle turns a simulator observation into reasoning and a full chunk', async () => {
  const obs = await simObservation(1_000_001);
  const g = await policy.infer(obs, { speculative: false, relaxedR: 0, planCache: false, reasoning: true });
  assert.ok(g.valid, 'greedy chunk valid');
  assert.equal(g.chunk.length, policy.manifest.action.chunk);
  assert.equal(g.chunk[0]!.length, 6);
  assert.ok((g.fields.TASK ?? '').length > 0, 'TASK field');
  const s = await policy.infer(obs, { speculative: true, relaxedR: 0, planCache: false, reasoning: true });
  assert.deepEqual(s.tokens, g.tokens, 'strict speculative == greedy');
  const a = await policy.infer(obs, { speculative: false, relaxedR: 0, planCache: false, reasoning: false });
  assert.ok(a.valid, 'actions-only chunk valid');
});
