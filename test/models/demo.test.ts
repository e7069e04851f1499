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

test('the demo bundle under Jacobi decoding, seeded with the previous tick\'s answer, decodes exactly what greedy does', async () => {
  const jac = await openPolicy(DEMO, { robotJoints: [...SO101_JOINTS], session: { intraOpNumThreads: 1 } });
  const world = new SimWorld({ seed: 1_000_002, family: 'pick_place' });
  const cams = (['front', 'wrist'] as const).map((k) => new SimCamera(world, k, { width: 64, height: 48, fps: 30 }, () => world.timeMs));
  for (const c of cams) await c.connect();
  let seeded = 0;
  for (let step = 0; step < 4; step++) {
    const images: PolicyObservation['images'] = {};
    for (const c of cams) {
      const f = c.readLatest()!;
      images[c.key] = { data: f.data, width: f.width, height: f.height };
    }
    const obs = { state: world.getPositions(), images, instruction: world.task.instruction };
    const g = await policy.infer(obs, { speculative: false, relaxedR: 0, planCache: false, reasoning: true });
    const j = await jac.infer(obs, { speculative: true, relaxedR: 0, planCache: false, reasoning: true, jacobi: true });
    assert.deepEqual(j.tokens, g.tokens, `step ${step}`);
    if (step > 0) {
      assert.equal(j.stats.draftCalls, 0);
      assert.ok(j.stats.targetCalls < g.stats.targetCalls / 2, `${j.stats.targetCalls} Jacobi passes vs ${g.stats.targetCalls} greedy`);
      seeded++;
    }
    for (const a of g.chunk.slice(0, 3)) {
      world.setGoal(a);
      world.step(1000 / 30);
    }
  }
  await jac.dispose();
  assert.equal(seeded, 3);
});
