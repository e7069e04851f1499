/**
 * The int8 variant of the demo bundle (models/bundles/demo-int8, made by
 * models/quantize/quantize_bundle.py): the existing loader validates it against the SO-101, its
 * decoders really are quantised, and it turns a rendered simulator observation into reasoning and
 * a full chunk. Its answers are not the fp32 bundle's token for token (dynamic activation scales:
 * models/README.md "Runtime variants" gives the measured agreement), so only validity is asserted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { SimCamera, SimWorld, SO101_JOINTS } from '../../drivers/sim';
import { validateBundle } from '../../models/runtime/bundle';
import { openPolicy } from '../../models/policies/open';
import type { PolicyObservation } from '../../models/policies/preprocess';

const INT8 = 'models/bundles/demo-int8';
const FP32 = 'models/bundles/demo';

test('demo-int8 validates with the existing loader and keeps the fp32 bundle\'s contract', async () => {
  const report = await validateBundle(INT8, { robotJoints: [...SO101_JOINTS] });
  assert.deepEqual(report.problems, []);
  const a = JSON.parse(readFileSync(`${FP32}/manifest.json`, 'utf8')) as Record<string, unknown>;
  const b = JSON.parse(readFileSync(`${INT8}/manifest.json`, 'utf8')) as Record<string, unknown>;
  for (const k of Object.keys(a)) if (k !== 'name' && k !== 'description') assert.deepEqual(b[k], a[k], `manifest ${k}`);
  // int8 weights: the decoders shrink to under a third; their graphs hold the quantiser's integer ops
  for (const f of ['target.onnx', 'draft.onnx']) {
    assert.ok(statSync(`${INT8}/${f}`).size < 0.45 * statSync(`${FP32}/${f}`).size, `${f} quantised`);
    assert.ok(readFileSync(`${INT8}/${f}`).includes('MatMulInteger'), `${f} has MatMulInteger nodes`);
  }
});

test('demo-int8 decodes a simulator observation into reasoning and a full chunk (greedy and Jacobi)', async () => {
  const policy = await openPolicy(INT8, { robotJoints: [...SO101_JOINTS], session: { intraOpNumThreads: 1 } });
  try {
    const world = new SimWorld({ seed: 1_000_001, family: 'pick_place' });
    const images: PolicyObservation['images'] = {};
    for (const key of ['front', 'wrist'] as const) {
      const cam = new SimCamera(world, key, { width: 32, height: 32, fps: 30 }, () => world.timeMs);
      await cam.connect();
      const f = cam.readLatest()!;
      images[key] = { data: f.data, width: f.width, height: f.height };
    }
    const obs: PolicyObservation = { state: world.getPositions(), images, instruction: world.task.instruction };
    const g = await policy.infer(obs, { speculative: false, relaxedR: 0, planCache: false, reasoning: true });
    assert.ok(g.valid);
    assert.equal(g.chunk.length, policy.manifest.action.chunk);
    assert.ok((g.fields.TASK ?? '').length > 0);
    const j1 = await policy.infer(obs, { speculative: true, relaxedR: 0, planCache: true, reasoning: true, jacobi: true });
    const j2 = await policy.infer(obs, { speculative: true, relaxedR: 0, planCache: true, reasoning: true, jacobi: true });
    assert.ok(j1.valid && j2.valid);
  } finally {
    await policy.dispose();
  }
});
