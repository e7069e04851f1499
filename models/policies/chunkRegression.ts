/**
 * Chunk-regression policy (ACT / OFT style): one forward pass → a chunk [1, H, D] normalised to
 * [-1, 1] by the manifest's action bounds. No tokens, no reasoning.
 */
import type { Manifest } from '../runtime/manifest';
import type { FeedTensor, OrtSession } from '../runtime/ort';
import { absoluteChunk, imageToChw, normaliseState, type PolicyObservation } from './preprocess';
import type { DecodeSettings, InferResult, Policy } from './types';

export class ChunkRegressionPolicy implements Policy {
  constructor(
    readonly manifest: Manifest,
    private readonly graph: OrtSession,
    private readonly encoder: OrtSession | undefined,
    private readonly now: () => number,
  ) {
    if (manifest.policy.kind !== 'chunk_regression') throw new Error('not a chunk_regression bundle');
  }

  async infer(obs: PolicyObservation, _settings: DecodeSettings): Promise<InferResult> {
    const m = this.manifest;
    const p = m.policy;
    if (p.kind !== 'chunk_regression') throw new Error('not a chunk_regression bundle');
    const t0 = this.now();
    const feeds: Record<string, FeedTensor> = {};
    for (const cam of m.inputs.cameras) feeds[cam.input] = { type: 'float32', data: imageToChw(obs.images[cam.key], cam), dims: [1, 3, cam.height, cam.width] };
    const st = m.inputs.state;
    if (st !== undefined) feeds[st.input] = { type: 'float32', data: normaliseState(obs.state, st), dims: [1, st.joints.length] };
    if (p.encoder !== undefined && this.encoder !== undefined) {
      const ef: Record<string, FeedTensor> = {};
      for (const n of p.encoder.inputs) ef[n] = feeds[n]!;
      const eo = await this.encoder.run(ef);
      for (const n of p.encoder.outputs) feeds[n] = { type: 'float32', data: eo[n]!.data, dims: eo[n]!.dims };
    }
    const needed = new Set(this.graph.inputs.map((i) => i.name));
    const gf: Record<string, FeedTensor> = {};
    for (const [k, v] of Object.entries(feeds)) if (needed.has(k)) gf[k] = v;
    const tPre = this.now();
    const out = (await this.graph.run(gf))[p.graph.output]!;
    const H = m.action.chunk;
    const D = m.action.joints.length;
    const { low, high } = m.action.bounds!;
    const chunk: number[][] = [];
    for (let t = 0; t < H; t++) {
      const row: number[] = [];
      for (let d = 0; d < D; d++) row.push(low[d]! + ((out.data[t * D + d]! + 1) / 2) * (high[d]! - low[d]!));
      chunk.push(row);
    }
    const tEnd = this.now();
    return {
      chunk: absoluteChunk(chunk, m.action, m.inputs.state, obs.state),
      fields: {},
      tokens: [],
      valid: true,
      stats: {
        encoderMs: tPre - t0, prefillMs: tEnd - tPre, reasoningMs: 0, actionsMs: 0, totalMs: tEnd - t0, promptTokens: 0, tokens: 0,
        reasoningTokens: 0, actionTokens: 0, targetCalls: 1, draftCalls: 0, acceptedTokens: 0, acceptLength: 0, maxAcceptedDistance: 0, cacheHit: false,
      },
    };
  }

  reset(): void {}

  async dispose(): Promise<void> {
    await this.graph.dispose();
    await this.encoder?.dispose();
  }
}
