/**
 * Dual rate (settings.reasoningEvery): the full reasoning is decoded on one step in N; the steps
 * between prefill it and decode only the actions, for the same instruction only, and never across
 * reset(). On an unchanged observation a reused step decodes exactly the actions the full step did.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openPolicy } from '../../models/policies/open';
import type { DecodeSettings, Policy } from '../../models/policies/types';
import { rng } from './fakeLM';
import { randomObservation } from './observations';

const FIXTURE = 'models/bundles/fixture';
let policy: Policy;
before(async () => {
  policy = await openPolicy(FIXTURE);
});
after(async () => {
  await policy.dispose();
});

for (const [name, base] of [
  ['greedy', { speculative: false, relaxedR: 0, planCache: true, reasoning: true }],
  ['Jacobi', { speculative: true, relaxedR: 0, planCache: true, reasoning: true, jacobi: true }],
] as [string, DecodeSettings][]) {
  test(`dual rate (${name}): reasoning decoded one step in 3, actions every step`, async () => {
    const s: DecodeSettings = { ...base, reasoningEvery: 3 };
    const actionBegin = policy.manifest.tokens!.actionBegin;
    const reasoningEnd = policy.manifest.tokens!.reasoningEnd!;
    const o = randomObservation(rng(21));
    policy.reset();
    const full = await policy.infer(o, s);
    assert.equal(full.stats.reasoningReused, false);
    assert.ok(full.valid && full.tokens.includes(reasoningEnd));
    const r1 = await policy.infer(o, s);
    assert.equal(r1.stats.reasoningReused, true);
    assert.ok(r1.valid);
    assert.ok(!r1.tokens.includes(reasoningEnd) && !r1.tokens.includes(actionBegin), 'only the actions were decoded');
    assert.deepEqual(r1.fields, full.fields, 'the reused reasoning is reported as the step\'s fields');
    const fullActions = full.tokens.slice(full.tokens.indexOf(actionBegin) + 1);
    assert.deepEqual(r1.tokens, fullActions, 'prefilled reasoning decodes the actions the full step decoded');
    assert.deepEqual(r1.chunk, full.chunk);
    assert.equal((await policy.infer(o, s)).stats.reasoningReused, true);
    assert.equal((await policy.infer(o, s)).stats.reasoningReused, false, 'the 4th step reasons again');
    // another instruction reasons in full; reset forgets
    const other = { ...o, instruction: o.instruction.includes('red') ? o.instruction.replace('red', 'blue') : o.instruction.replace(/green|blue|yellow/, 'red') };
    assert.equal((await policy.infer(other, s)).stats.reasoningReused, false);
    assert.equal((await policy.infer(other, s)).stats.reasoningReused, true);
    policy.reset();
    assert.equal((await policy.infer(other, s)).stats.reasoningReused, false);
    // off by default
    policy.reset();
    await policy.infer(o, base);
    assert.equal((await policy.infer(o, base)).stats.reasoningReused, false);
  });
}
