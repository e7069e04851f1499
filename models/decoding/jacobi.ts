/**
 * Jacobi (parallel fixed-point) decoding seeded with a guess — PD-VLA's parallel decoding of an
 * action chunk, here also for the reasoning, seeded with the previous step's answer (which differs
 * from this step's in a few tokens: a box coordinate, the subtask, the action bins).
 *
 * Each iteration feeds the pending token plus the current guess for the next `window` positions in
 * ONE target pass on top of the cache, and reads the target's argmax at every position. The
 * longest prefix of the guess that equals those argmaxes is committed with the target's token
 * after it (as in speculative verification, so strict acceptance equals greedy decoding); the
 * argmaxes past that point, conditioned on the partly wrong guess, become the next guess (the
 * Jacobi update) — they are right wherever the wrong token did not matter. Every iteration
 * commits at least one token, so it never needs more passes than greedy.
 * Pure apart from the model.
 */
import { acceptDraft, type AcceptanceRule } from './acceptance';
import { prefill } from './greedy';
import { argmaxRows, commitTokens } from './stopping';
import type { CausalLM, GenerateOptions, GenerateResult } from './types';

export interface JacobiOptions extends GenerateOptions {
  /** Initial guess for the tokens after the prompt (e.g. the previous step's answer). */
  guess: readonly number[];
  /** Most guessed tokens fed in one pass (default: all that remain). */
  window?: number;
  /** strict (default) reproduces greedy decoding; relaxed keeps guessed action bins within r. */
  acceptance?: AcceptanceRule;
}

export async function generateJacobi(model: CausalLM, prompt: readonly number[], opts: JacobiOptions): Promise<GenerateResult> {
  const seq = [...prompt];
  const generated: number[] = [];
  const stopping = opts.stopping ?? [];
  const rule = opts.acceptance ?? { kind: 'strict' };
  const cons = opts.constraint;
  let guess = [...opts.guess];
  let calls = 0;
  let maxAcceptedDistance = 0;
  const acceptLengths: number[] = [];
  await prefill(model, seq);
  let done = false;
  while (!done && generated.length < opts.maxNewTokens) {
    const remaining = opts.maxNewTokens - generated.length;
    const w = Math.max(0, Math.min(guess.length, remaining - 1, opts.window ?? Infinity));
    const window = guess.slice(0, w);
    const base = seq.length;
    const pending = seq.slice(model.cacheLength);
    const logits = await model.forward([...pending, ...window]);
    calls++;
    // row i: the target's choice after generated + window[0..i-1]
    const preds = argmaxRows(logits, model.vocabSize, pending.length - 1, cons && ((i) => cons([...generated, ...window.slice(0, i)])));
    const acc = acceptDraft(window, preds, rule);
    maxAcceptedDistance = Math.max(maxAcceptedDistance, acc.maxDistance);
    if (w > 0) acceptLengths.push(acc.accepted);
    const { committed, done: stop } = commitTokens(acc.tokens, seq, generated, stopping, opts.maxNewTokens);
    done = stop;
    opts.streamer?.put(committed);
    // Jacobi update: the target's argmaxes after the committed point, then the untouched guess
    guess = [...preds.slice(acc.accepted + 1), ...guess.slice(w + 1)];
    // keep cache entries of committed tokens only (all but the newest)
    model.truncate(Math.min(model.cacheLength, base + committed.length - 1));
  }
  opts.streamer?.end();
  return { tokens: generated, targetCalls: calls, draftCalls: 0, acceptLengths, maxAcceptedDistance };
}
