/**
 * Speculative decoding with a draft model (chain drafting): draft k tokens, verify them in ONE
 * target pass of k+1 tokens on top of the cache, accept a prefix (strict or relaxed), commit the
 * accepted tokens plus the target's bonus token, truncate both caches to the committed prefix.
 * k adapts between kMin and kMax. Strict acceptance reproduces greedy target decoding token for
 * token (up to float ties between a batched and a one-token pass). Pure apart from the models.
 */
import { acceptDraft, nextDraftLength, type AcceptanceRule } from './acceptance';
import { prefill } from './greedy';
import { argmaxRows, commitTokens } from './stopping';
import type { CausalLM, GenerateOptions, GenerateResult } from './types';

export interface SpeculativeOptions extends GenerateOptions {
  acceptance: AcceptanceRule;
  /** Initial draft length. */
  k: number;
  kMin?: number;
  kMax?: number;
  adaptive?: boolean;
}

export async function generateSpeculative(
  target: CausalLM,
  draft: CausalLM,
  prompt: readonly number[],
  opts: SpeculativeOptions,
): Promise<GenerateResult> {
  const seq = [...prompt];
  const generated: number[] = [];
  const stopping = opts.stopping ?? [];
  const kMin = opts.kMin ?? 1;
  const kMax = opts.kMax ?? Math.max(opts.k, 8);
  let k = opts.k;
  let targetCalls = 0;
  let draftCalls = 0;
  let maxAcceptedDistance = 0;
  const acceptLengths: number[] = [];
  const cons = opts.constraint;
  await prefill(target, seq);
  await prefill(draft, seq);
  let done = false;
  while (!done && generated.length < opts.maxNewTokens) {
    const remaining = opts.maxNewTokens - generated.length;
    const kNow = Math.max(0, Math.min(k, remaining - 1));
    const base = seq.length;
    // 1. draft kNow tokens greedily
    const drafted: number[] = [];
    if (kNow > 0) {
      if (draft.cacheLength > base - 1) draft.truncate(base - 1);
      let logits = await draft.forward(seq.slice(draft.cacheLength));
      draftCalls++;
      for (;;) {
        const [d] = argmaxRows(logits, draft.vocabSize, logits.length / draft.vocabSize - 1, cons && (() => cons([...generated, ...drafted])));
        drafted.push(d!);
        if (drafted.length >= kNow) break;
        logits = await draft.forward([d!]);
        draftCalls++;
      }
    }
    // 2. verify: one target pass over the pending token(s) and the drafts
    const pending = seq.slice(target.cacheLength);
    const logits = await target.forward([...pending, ...drafted]);
    targetCalls++;
    // row i predicts the token after generated + drafted[0..i-1]
    const preds = argmaxRows(logits, target.vocabSize, pending.length - 1, cons && ((i) => cons([...generated, ...drafted.slice(0, i)])));
    const acc = acceptDraft(drafted, preds, opts.acceptance);
    maxAcceptedDistance = Math.max(maxAcceptedDistance, acc.maxDistance);
    if (kNow > 0) acceptLengths.push(acc.accepted);
    // 3. commit, honouring the stopping criteria token by token
    const { committed, done: stop } = commitTokens(acc.tokens, seq, generated, stopping, opts.maxNewTokens);
    done = stop;
    opts.streamer?.put(committed);
    // 4. keep only cache entries of committed tokens (all but the newest)
    target.truncate(Math.min(target.cacheLength, base + committed.length - 1));
    draft.truncate(Math.min(draft.cacheLength, base + committed.length - 1));
    if (opts.adaptive !== false && kNow > 0) k = nextDraftLength(kNow, acc.accepted, kMin, kMax);
  }
  opts.streamer?.end();
  return { tokens: generated, targetCalls, draftCalls, acceptLengths, maxAcceptedDistance };
}
