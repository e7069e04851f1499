/**
 * The fixture's ONNX graphs through the real runtime: KV-cached decoding, strict speculative ==
 * greedy on 200 random observations, relaxed acceptance bounded by r, plan cache, dropout.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openPolicy } from '../../models/policies/open';
import type { Policy } from '../../models/policies/types';
import { rng } from './fakeLM';
import { randomObservation } from './observations';

const FIXTURE = 'models/bundles/fixture';
let policy: Policy;
before(async () => {
  policy = await openPolicy(FIXTURE, { session: { intraOpNumThreads: 1 } });
});
after(async () => {
  await policy.dispose();
});

test('greedy decoding produces reasoning fields and a full, valid chunk', async () => {
  const r = await policy.infer(randomObservation(rng(1)), { speculative: false, relaxedR: 0, planCache: false, reasoning: true });
  assert.ok(r.valid);
  assert.equal(r.chunk.length, 8);
  assert.equal(r.chunk[0]!.length, 6);
  for (const f of ['TASK', 'PLAN', 'SUBTASK', 'MOVE', 'GRIPPER']) assert.ok((r.fields[f] ?? '').length > 0, `field ${f}`);
  assert.equal(r.stats.targetCalls, r.tokens.length);
});

test('strict speculative output equals greedy output on 200 random observations', async () => {
  const r = rng(2024);
  let verify = 0;
  let tokens = 0;
  let mismatches = 0;
  for (let n = 0; n < 200; n++) {
    const obs = randomObservation(r);
    const reasoning = n % 4 === 0; // a quarter with ECoT reasoning, the rest actions only (keeps the suite short)
    const g = await policy.infer(obs, { speculative: false, relaxedR: 0, planCache: false, reasoning });
    const s = await policy.infer(obs, { speculative: true, relaxedR: 0, planCache: false, reasoning, draftK: 1 + (n % 6) });
    if (s.tokens.join() !== g.tokens.join()) mismatches++;
    assert.deepEqual(s.tokens, g.tokens, `observation ${n}`);
    assert.deepEqual(s.chunk, g.chunk);
    assert.equal(s.stats.maxAcceptedDistance, 0);
    verify += s.stats.targetCalls;
    tokens += s.tokens.length;
  }
  assert.equal(mismatches, 0);
  assert.ok(verify < tokens, 'the draft never helped: verification calls should be fewer than tokens');
});

test('Jacobi decoding seeded with the previous step\'s answer equals greedy, step after step, with fewer target passes', async () => {
  // a second instance decodes with Jacobi, so its seed is its own previous answer (another observation)
  const jac = await openPolicy(FIXTURE, { session: { intraOpNumThreads: 1 } });
  const r = rng(77);
  let passes = 0;
  let greedyPasses = 0;
  let seeded = 0;
  for (let ep = 0; ep < 6; ep++) {
    jac.reset();
    let obs = randomObservation(r);
    for (let step = 0; step < 5; step++) {
      const reasoning = ep % 3 !== 2;
      const g = await policy.infer(obs, { speculative: false, relaxedR: 0, planCache: false, reasoning });
      const j = await jac.infer(obs, { speculative: true, relaxedR: 0, planCache: false, reasoning, jacobi: true });
      assert.deepEqual(j.tokens, g.tokens, `episode ${ep} step ${step}`);
      assert.deepEqual(j.chunk, g.chunk);
      if (step === 0) {
        assert.ok(j.stats.draftCalls > 0, 'no previous answer yet: the draft runs the first step');
        continue;
      }
      assert.equal(j.stats.draftCalls, 0, 'a seeded step runs no draft');
      seeded++;
      passes += j.stats.targetCalls;
      greedyPasses += g.stats.targetCalls;
      obs = { ...obs, state: obs.state.map((v) => v + (r() - 0.5) * 4) };
    }
  }
  await jac.dispose();
  assert.equal(seeded, 24);
  assert.ok(passes < greedyPasses, `Jacobi passes ${passes} vs greedy ${greedyPasses}`);
});

test('relaxed acceptance never accepts an action token more than r bins from the target', async () => {
  const r = rng(99);
  for (const rr of [1, 4, 9]) {
    let maxSeen = 0;
    for (let n = 0; n < 6; n++) {
      const res = await policy.infer(randomObservation(r), { speculative: true, relaxedR: rr, planCache: false, reasoning: true });
      assert.ok(res.stats.maxAcceptedDistance <= rr, `r=${rr}: ${res.stats.maxAcceptedDistance}`);
      maxSeen = Math.max(maxSeen, res.stats.maxAcceptedDistance);
      assert.ok(res.valid);
    }
    assert.ok(maxSeen > 0, `r=${rr}: relaxed acceptance never kicked in`);
  }
});

test('plan cache: same instruction and scene → TASK/PLAN prefilled, fewer tokens generated, same fields', async () => {
  policy.reset();
  const obs = randomObservation(rng(5));
  const s = { speculative: false, relaxedR: 0, planCache: true, reasoning: true };
  const first = await policy.infer(obs, s);
  const second = await policy.infer({ ...obs, state: obs.state.map((v) => v + 0.01) }, s);
  assert.equal(first.stats.cacheHit, false);
  assert.equal(second.stats.cacheHit, true);
  assert.ok(second.stats.tokens < first.stats.tokens);
  assert.equal(second.fields.TASK, first.fields.TASK);
  assert.equal(second.fields.PLAN, first.fields.PLAN);
  assert.ok(second.valid);
  const other = await policy.infer({ ...obs, instruction: 'push the red block left' }, s);
  assert.equal(other.stats.cacheHit, false);
});

test('reasoning dropout: actions only, no fields, a valid chunk', async () => {
  const res = await policy.infer(randomObservation(rng(6)), { speculative: false, relaxedR: 0, planCache: false, reasoning: false });
  assert.ok(res.valid);
  assert.deepEqual(res.fields, {});
  assert.equal(res.stats.reasoningTokens, 0);
  assert.ok(res.tokens.length <= 8 * 6 + 2);
});
