import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptDraft, acceptsToken, nextDraftLength, type AcceptanceRule } from '../../models/decoding/acceptance';
import { generateGreedy } from '../../models/decoding/greedy';
import { generateSpeculative } from '../../models/decoding/speculative';
import { generateJacobi } from '../../models/decoding/jacobi';
import type { CausalLM } from '../../models/decoding/types';
import { argmaxRows, maxNewTokens, stopAfterActions, stopOnTokens } from '../../models/decoding/stopping';
import { CallbackStreamer } from '../../models/decoding/streamer';
import { FakeLM, rng } from './fakeLM';

const V = 64;
const ACT: [number, number] = [32, 64];
const isAction = (id: number): boolean => id >= ACT[0] && id < ACT[1];

test('acceptDraft: strict accepts the matching prefix and adds the bonus token', () => {
  const strict: AcceptanceRule = { kind: 'strict' };
  assert.deepEqual(acceptDraft([5, 6, 7], [5, 6, 9, 1], strict), { accepted: 2, tokens: [5, 6, 9], maxDistance: 0 });
  assert.deepEqual(acceptDraft([5, 6], [5, 6, 8], strict), { accepted: 2, tokens: [5, 6, 8], maxDistance: 0 });
  assert.deepEqual(acceptDraft([], [3], strict), { accepted: 0, tokens: [3], maxDistance: 0 });
  assert.throws(() => acceptDraft([1], [1], strict));
});

test('acceptDraft: relaxed keeps the draft token within r bins, only between action tokens', () => {
  const rule: AcceptanceRule = { kind: 'relaxed', r: 2, isRelaxable: isAction };
  assert.deepEqual(acceptDraft([40, 45, 50], [41, 47, 54, 33], rule), { accepted: 2, tokens: [40, 45, 54], maxDistance: 2 });
  // reasoning tokens stay strict even when close
  assert.equal(acceptsToken(10, 11, rule), false);
  // an action token never relaxes towards a non-action one
  assert.equal(acceptsToken(32, 31, rule), false);
  assert.equal(acceptsToken(33, 35, rule), true);
  assert.equal(acceptsToken(33, 36, rule), false);
});

test('adaptive draft length grows on full acceptance, shrinks on none', () => {
  assert.equal(nextDraftLength(4, 4, 1, 8), 5);
  assert.equal(nextDraftLength(8, 8, 1, 8), 8);
  assert.equal(nextDraftLength(4, 0, 1, 8), 3);
  assert.equal(nextDraftLength(1, 0, 1, 8), 1);
  assert.equal(nextDraftLength(4, 2, 1, 8), 4);
});

test('stopping criteria and argmax rows', () => {
  assert.equal(maxNewTokens(3)([1, 2]), false);
  assert.equal(maxNewTokens(3)([1, 2, 3]), true);
  assert.equal(stopOnTokens([2])([5, 2]), true);
  assert.equal(stopOnTokens([2])([2, 5]), false);
  const s = stopAfterActions(6, 3, isAction);
  assert.equal(s([40, 6, 40, 41]), false);
  assert.equal(s([40, 6, 40, 41, 42]), true);
  assert.deepEqual(argmaxRows(Float32Array.from([0, 1, 0, 3, 2, 1]), 3), [1, 0]);
  assert.deepEqual(argmaxRows(Float32Array.from([0, 1, 0, 3, 2, 1]), 3, 1), [0]);
});

test('greedy streams every token once and stops on EOS or the budget', async () => {
  const lm = new FakeLM({ vocab: V, seed: 1 });
  const streamer = new CallbackStreamer();
  const r = await generateGreedy(lm, [1, 2, 3], { maxNewTokens: 20, stopping: [stopOnTokens([0])], streamer });
  assert.deepEqual(streamer.tokens, r.tokens);
  assert.ok(streamer.ended);
  assert.ok(r.tokens.length <= 20);
  if (r.tokens.length < 20) assert.equal(r.tokens.at(-1), 0);
  assert.equal(r.targetCalls, r.tokens.length);
  // cache covers everything but the newest token
  assert.equal(lm.cacheLength, 3 + r.tokens.length - 1);
});

test('strict speculative decoding equals greedy on 300 random prompts (fake LMs, exact caches)', async () => {
  const rand = rng(42);
  let drafted = 0;
  let accepted = 0;
  for (let n = 0; n < 300; n++) {
    const prompt = Array.from({ length: 1 + Math.floor(rand() * 8) }, () => 1 + Math.floor(rand() * (V - 1)));
    const maxNew = 5 + Math.floor(rand() * 40);
    const stopping = [stopOnTokens([0])];
    const g = await generateGreedy(new FakeLM({ vocab: V, seed: 9, actionRange: ACT }), prompt, { maxNewTokens: maxNew, stopping });
    const target = new FakeLM({ vocab: V, seed: 9, actionRange: ACT });
    const draft = new FakeLM({ vocab: V, seed: 9, actionRange: ACT, disagree: rand() * 0.6, spread: 3 });
    const streamer = new CallbackStreamer();
    const s = await generateSpeculative(target, draft, prompt, {
      maxNewTokens: maxNew,
      stopping,
      streamer,
      acceptance: { kind: 'strict' },
      k: 1 + Math.floor(rand() * 5),
      kMax: 8,
    });
    assert.deepEqual(s.tokens, g.tokens, `prompt ${prompt.join(',')}`);
    assert.deepEqual(streamer.tokens, s.tokens);
    assert.equal(s.maxAcceptedDistance, 0);
    assert.ok(s.targetCalls <= g.targetCalls);
    drafted += s.draftCalls;
    accepted += s.acceptLengths.reduce((a, b) => a + b, 0);
  }
  assert.ok(accepted > 0 && drafted > 0);
});

test('relaxed speculative decoding never accepts a draft token further than r from the target', async () => {
  const rand = rng(7);
  for (const r of [1, 2, 4]) {
    let relaxedSomewhere = false;
    for (let n = 0; n < 60; n++) {
      const prompt = [1 + Math.floor(rand() * 30), ACT[0] + Math.floor(rand() * 32)];
      const target = new FakeLM({ vocab: V, seed: 3, actionRange: ACT });
      const draft = new FakeLM({ vocab: V, seed: 3, actionRange: ACT, disagree: 0.5, spread: r + 2 });
      const s = await generateSpeculative(target, draft, prompt, {
        maxNewTokens: 40,
        acceptance: { kind: 'relaxed', r, isRelaxable: isAction },
        k: 4,
      });
      assert.ok(s.maxAcceptedDistance <= r, `r=${r}: accepted distance ${s.maxAcceptedDistance}`);
      if (s.maxAcceptedDistance > 0) relaxedSomewhere = true;
      assert.equal(s.tokens.length, 40);
    }
    assert.ok(relaxedSomewhere, `r=${r} never relaxed: the test would prove nothing`);
  }
});

test('speculative truncates both caches to the committed prefix', async () => {
  const target = new FakeLM({ vocab: V, seed: 5, actionRange: ACT });
  const draft = new FakeLM({ vocab: V, seed: 5, actionRange: ACT, disagree: 0.4 });
  const prompt = [3, 4, 5];
  const s = await generateSpeculative(target, draft, prompt, { maxNewTokens: 30, acceptance: { kind: 'strict' }, k: 3 });
  const total = prompt.length + s.tokens.length;
  assert.ok(target.cacheLength <= total - 1);
  assert.ok(draft.cacheLength <= total - 1);
  // verification is one target pass per step: fewer calls than tokens when drafts are accepted
  assert.ok(s.targetCalls < s.tokens.length);
});

test('a token constraint applies to greedy steps, drafts and verification alike: strict speculation equals constrained greedy', async () => {
  const rand = rng(7);
  // a toy grammar: after an even id only odd ids, never id 3
  const constraint = (g: readonly number[]): ((id: number) => boolean) | undefined =>
    g.length === 0 ? undefined : g[g.length - 1]! % 2 === 0 ? (id: number) => id % 2 === 1 && id !== 3 : undefined;
  let constrainedSteps = 0;
  for (let n = 0; n < 150; n++) {
    const prompt = Array.from({ length: 1 + Math.floor(rand() * 8) }, () => 1 + Math.floor(rand() * (V - 1)));
    const maxNew = 5 + Math.floor(rand() * 30);
    const g = await generateGreedy(new FakeLM({ vocab: V, seed: 9, actionRange: ACT }), prompt, { maxNewTokens: maxNew, constraint });
    for (let i = 1; i < g.tokens.length; i++) {
      if (g.tokens[i - 1]! % 2 === 0) {
        constrainedSteps++;
        assert.ok(g.tokens[i]! % 2 === 1 && g.tokens[i] !== 3, `token ${g.tokens[i]} after ${g.tokens[i - 1]} breaks the constraint`);
      }
    }
    const s = await generateSpeculative(
      new FakeLM({ vocab: V, seed: 9, actionRange: ACT }),
      new FakeLM({ vocab: V, seed: 9, actionRange: ACT, disagree: rand() * 0.6, spread: 3 }),
      prompt,
      { maxNewTokens: maxNew, constraint, acceptance: { kind: 'strict' }, k: 1 + Math.floor(rand() * 5), kMax: 8 },
    );
    assert.deepEqual(s.tokens, g.tokens, `prompt ${prompt.join(',')}`);
  }
  assert.ok(constrainedSteps > 100, `the constraint was exercised (${constrainedSteps} steps)`);
  // an empty allowed set falls back to the plain argmax instead of inventing an id
  assert.deepEqual(argmaxRows(Float32Array.from([0, 5, 1]), 3, 0, () => () => false), [1]);
});

test('strict Jacobi decoding equals greedy whatever the guess (exact, random, perturbed, empty), with stopping and a constraint', async () => {
  const rand = rng(11);
  const constraint = (g: readonly number[]): ((id: number) => boolean) | undefined =>
    g.length > 0 && g[g.length - 1]! % 7 === 0 ? (id: number) => id % 2 === 0 : undefined;
  let exactOnePass = 0;
  for (let n = 0; n < 300; n++) {
    const prompt = Array.from({ length: 1 + Math.floor(rand() * 8) }, () => 1 + Math.floor(rand() * (V - 1)));
    const maxNew = 5 + Math.floor(rand() * 40);
    const stopping = [stopOnTokens([0])];
    const useCons = n % 3 === 0 ? constraint : undefined;
    const g = await generateGreedy(new FakeLM({ vocab: V, seed: 9, actionRange: ACT }), prompt, { maxNewTokens: maxNew, stopping, constraint: useCons });
    const kind = n % 4;
    const guess =
      kind === 0 ? [...g.tokens]
      : kind === 1 ? Array.from({ length: Math.floor(rand() * 50) }, () => Math.floor(rand() * V))
      : kind === 2 ? g.tokens.map((t) => (rand() < 0.2 ? (t + 1) % V : t))
      : [];
    const lm = new FakeLM({ vocab: V, seed: 9, actionRange: ACT });
    const streamer = new CallbackStreamer();
    const window = n % 2 === 0 ? undefined : 1 + Math.floor(rand() * 12);
    const j = await generateJacobi(lm, prompt, { maxNewTokens: maxNew, stopping, constraint: useCons, streamer, guess, window });
    assert.deepEqual(j.tokens, g.tokens, `prompt ${prompt.join(',')} guess kind ${kind}`);
    assert.deepEqual(streamer.tokens, j.tokens);
    assert.ok(j.targetCalls <= g.targetCalls, 'never more passes than greedy');
    assert.ok(lm.cacheLength <= prompt.length + j.tokens.length - 1, 'cache holds committed tokens only');
    if (kind === 0 && window === undefined) {
      assert.equal(j.targetCalls, 1, 'the right answer as the guess is verified in one pass');
      exactOnePass++;
    }
  }
  assert.ok(exactOnePass > 30);
});

/** A model whose next token depends only on its position: the Jacobi update fixes every later guess at once. */
class PositionalLM implements CausalLM {
  readonly vocabSize = V;
  private len = 0;
  calls = 0;
  static choice = (pos: number): number => 1 + ((pos * 13) % (V - 1));
  get cacheLength(): number {
    return this.len;
  }
  async forward(tokens: readonly number[]): Promise<Float32Array> {
    this.calls++;
    const out = new Float32Array(tokens.length * V);
    tokens.forEach((_, i) => (out[i * V + PositionalLM.choice(this.len + i + 1)] = 1));
    this.len += tokens.length;
    return out;
  }
  truncate(length: number): void {
    this.len = Math.min(this.len, length);
  }
  reset(): void {
    this.len = 0;
  }
}

test('the Jacobi update: a wrong guess is replaced by the target\'s own predictions, so context-free tokens converge in two passes', async () => {
  const prompt = [5, 6, 7];
  const want = Array.from({ length: 30 }, (_, i) => PositionalLM.choice(prompt.length + i));
  const g = await generateGreedy(new PositionalLM(), prompt, { maxNewTokens: 30 });
  assert.deepEqual(g.tokens, want);
  const lm = new PositionalLM();
  const wrong = want.map((t) => (t % (V - 1)) + 1 === t ? t + 1 : (t % (V - 1)) + 1);
  const j = await generateJacobi(lm, prompt, { maxNewTokens: 30, guess: wrong });
  assert.deepEqual(j.tokens, want);
  // pass 1 commits one token and rewrites the other 29 guesses with the target's argmaxes; pass 2 accepts them all
  assert.equal(j.targetCalls, 2);
  assert.deepEqual(j.acceptLengths, [0, 28]);
  // a window of 10: the update covers the window only; past it the old (here wrong) guess stays,
  // so passes alternate between fixing a window (1 token) and accepting it (11): 1, 11, 1, 11, 1, 5
  const w = await generateJacobi(new PositionalLM(), prompt, { maxNewTokens: 30, guess: wrong, window: 10 });
  assert.deepEqual(w.tokens, want);
  assert.deepEqual(w.acceptLengths, [0, 10, 0, 10, 0, 4]);
});

test('relaxed Jacobi keeps a guessed action bin only within r of the target and never relaxes other tokens', async () => {
  const rand = rng(5);
  let relaxed = false;
  for (let n = 0; n < 80; n++) {
    const prompt = [1 + Math.floor(rand() * 30), ACT[0] + Math.floor(rand() * 32)];
    const g = await generateGreedy(new FakeLM({ vocab: V, seed: 3, actionRange: ACT }), prompt, { maxNewTokens: 30 });
    const guess = g.tokens.map((t) => (isAction(t) && rand() < 0.5 ? Math.min(ACT[1] - 1, t + 1 + Math.floor(rand() * 3)) : t));
    const j = await generateJacobi(new FakeLM({ vocab: V, seed: 3, actionRange: ACT }), prompt, {
      maxNewTokens: 30,
      guess,
      acceptance: { kind: 'relaxed', r: 2, isRelaxable: isAction },
    });
    assert.ok(j.maxAcceptedDistance <= 2);
    assert.equal(j.tokens.length, 30);
    if (j.maxAcceptedDistance > 0) relaxed = true;
  }
  assert.ok(relaxed, 'relaxed acceptance was exercised');
});
