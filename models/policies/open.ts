/**
 * Opens a validated bundle as a Policy (in whatever process calls it — the inference child in
 * production, the bench and tests directly). Throws BundleError listing every problem.
 */
import { join } from 'node:path';
import { loadBundle, type ValidateOptions } from '../runtime/bundle';
import { OnnxCausalLM } from '../runtime/causalLM';
import { OrtSession, type SessionConfig } from '../runtime/ort';
import { loadHfTokenizer } from '../tokenizers/instruction';
import { FastTokenizer } from '../tokenizers/fast';
import { UniformBinTokenizer } from '../tokenizers/uniformBins';
import { AutoregressivePolicy } from './autoregressive';
import { ChunkRegressionPolicy } from './chunkRegression';
import type { Policy } from './types';

export interface OpenPolicyOptions extends ValidateOptions {
  session?: SessionConfig;
  /** Separate options for the draft (e.g. 1 thread). Defaults to `session`. */
  draftSession?: SessionConfig;
  now?: () => number;
  planCacheThreshold?: number;
  planCacheMaxUses?: number;
}

export async function openPolicy(dir: string, opts: OpenPolicyOptions = {}): Promise<Policy> {
  const m = await loadBundle(dir, opts);
  const now = opts.now ?? (() => performance.now());
  const p = m.policy;
  const encoder = p.encoder !== undefined ? await OrtSession.create(join(dir, p.encoder.file), opts.session) : undefined;
  if (p.kind === 'chunk_regression') {
    const graph = await OrtSession.create(join(dir, p.graph.file), opts.session);
    return new ChunkRegressionPolicy(m, graph, encoder, now);
  }
  const targetSession = await OrtSession.create(join(dir, p.target.file), opts.session);
  const draftSession = p.draft !== undefined ? await OrtSession.create(join(dir, p.draft.file), opts.draftSession ?? opts.session) : undefined;
  const instruction = loadHfTokenizer(join(dir, m.inputs.instruction!.tokenizer));
  const tk = m.action.tokenizer!;
  const actions =
    tk.kind === 'uniform_bins'
      ? new UniformBinTokenizer(tk)
      : new FastTokenizer({ ...tk, chunk: m.action.chunk }, loadHfTokenizer(join(dir, tk.tokenizer)));
  return new AutoregressivePolicy({
    manifest: m,
    encoder,
    target: new OnnxCausalLM(targetSession, p.target),
    draft: draftSession !== undefined && p.draft !== undefined ? new OnnxCausalLM(draftSession, p.draft) : undefined,
    instruction,
    actions,
    now,
    planCacheThreshold: opts.planCacheThreshold,
    planCacheMaxUses: opts.planCacheMaxUses,
    onDispose: async () => {
      await targetSession.dispose();
      await draftSession?.dispose();
      await encoder?.dispose();
    },
  });
}
