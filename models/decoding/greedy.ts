/**
 * Prefill and greedy decoding with a KV cache (transformers.js-style loop: forward → argmax →
 * stream → stop check → cache grows). Pure apart from the injected model.
 */
import { argmaxRows, shouldStop } from './stopping';
import type { CausalLM, GenerateOptions, GenerateResult } from './types';

/**
 * Prefills `model` so that its cache covers seq[0 .. seq.length-2] (all but the last token, which
 * the first decode step feeds). Reuses whatever prefix is already cached.
 */
export async function prefill(model: CausalLM, seq: readonly number[]): Promise<void> {
  const want = seq.length - 1;
  if (model.cacheLength > want) model.truncate(want);
  if (model.cacheLength < want) await model.forward(seq.slice(model.cacheLength, want));
}

export async function generateGreedy(model: CausalLM, prompt: readonly number[], opts: GenerateOptions): Promise<GenerateResult> {
  const seq = [...prompt];
  const generated: number[] = [];
  const stopping = opts.stopping ?? [];
  let calls = 0;
  await prefill(model, seq);
  while (generated.length < opts.maxNewTokens) {
    const logits = await model.forward(seq.slice(model.cacheLength));
    calls++;
    const [next] = argmaxRows(logits, model.vocabSize, logits.length / model.vocabSize - 1, opts.constraint && (() => opts.constraint!(generated)));
    seq.push(next!);
    generated.push(next!);
    opts.streamer?.put([next!]);
    if (shouldStop(stopping, generated)) break;
  }
  opts.streamer?.end();
  return { tokens: generated, targetCalls: calls, draftCalls: 0, acceptLengths: [], maxAcceptedDistance: 0 };
}
