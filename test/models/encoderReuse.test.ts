/**
 * Temporal reuse of the encoder's output (settings.encoderReuse): reused only while every camera
 * and the state stay within the thresholds of the frame the encoding was made from, at most
 * maxUses steps in a row, never across reset(); a reused step decodes what the encoder's own
 * output would have given when the inputs are unchanged.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openPolicy } from '../../models/policies/open';
import type { DecodeSettings, Policy } from '../../models/policies/types';
import type { PolicyObservation } from '../../models/policies/preprocess';
import { rng } from './fakeLM';
import { randomObservation } from './observations';

const FIXTURE = 'models/bundles/fixture';
const BASE: DecodeSettings = { speculative: false, relaxedR: 0, planCache: false, reasoning: true };
const REUSE: DecodeSettings = { ...BASE, encoderReuse: { pixel: 2, state: 0.05, maxUses: 2 } };
let policy: Policy;
let plain: Policy;

before(async () => {
  policy = await openPolicy(FIXTURE);
  plain = await openPolicy(FIXTURE);
});
after(async () => {
  await policy.dispose();
  await plain.dispose();
});

/** The same observation with `n` pixels' red channel raised by `by` levels and the first joint moved by `dq`. */
function perturbed(o: PolicyObservation, n: number, by: number, dq = 0): PolicyObservation {
  const f = o.images.front!;
  const data = new Uint8Array(f.data);
  for (let i = 0; i < n; i++) data[i * 3] = Math.min(255, data[i * 3]! + by);
  return { ...o, state: o.state.map((v, i) => (i === 0 ? v + dq : v)), images: { front: { ...f, data } } };
}

test('an unchanged observation reuses the encoding and decodes exactly what a fresh encoding gives', async () => {
  const o = randomObservation(rng(11));
  policy.reset();
  const first = await policy.infer(o, REUSE);
  assert.equal(first.stats.encoderReused, false);
  const second = await policy.infer(o, REUSE);
  assert.equal(second.stats.encoderReused, true);
  const fresh = await plain.infer(o, BASE);
  assert.deepEqual(second.tokens, fresh.tokens);
  assert.equal(fresh.stats.encoderReused, false);
});

test('reuse stops at maxUses, at a frame change past the threshold, at a state change, and at reset', async () => {
  const o = randomObservation(rng(12));
  policy.reset();
  const used = async (obs: PolicyObservation): Promise<boolean> => (await policy.infer(obs, REUSE)).stats.encoderReused === true;
  assert.equal(await used(o), false);
  assert.equal(await used(o), true);
  assert.equal(await used(o), true);
  assert.equal(await used(o), false, 'maxUses 2: the third step re-encodes');
  // 16x16 = 256 pixels x 3 channels: 40 pixels +30 levels = 1.56 levels mean |Δ| (reused); 60 pixels = 2.34 (not)
  assert.equal(await used(perturbed(o, 40, 30)), true, 'small change reused');
  assert.equal(await used(perturbed(o, 60, 30)), false, 'change past 2 levels re-encodes');
  // compared with the frame the encoding came from, not the previous step: slow drift cannot creep in
  policy.reset();
  assert.equal(await used(o), false);
  assert.equal(await used(perturbed(o, 40, 30)), true, '1.56 levels from the encoded frame');
  assert.equal(await used(perturbed(o, 40, 60)), false, '1.56 from the previous step but 3.1 from the encoded frame');
  // the state is an encoder input too: fixture std is large, so move a joint far
  const std = policy.manifest.inputs.state!.std[0]!;
  assert.equal(await used(perturbed(o, 0, 0, 0.1 * std)), false, 'state moved 0.1 std');
  policy.reset();
  assert.equal(await used(o), false, 'reset forgets the encoding');
  // off unless asked
  assert.equal((await policy.infer(o, BASE)).stats.encoderReused, false);
  assert.equal((await policy.infer(o, BASE)).stats.encoderReused, false);
});
