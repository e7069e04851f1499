/**
 * Chunk-regression policy (ACT / OFT style): one forward pass → a chunk [1, H, D] normalised to
 * [-1, 1] by the manifest's action bounds, or by its action mean/std (LeRobot ACT imports). No
 * tokens, no reasoning.
 */
import type { ActionSpec, Manifest } from '../runtime/manifest';
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
    const chunk = unnormaliseChunk(out.data, H, D, m.action);
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

/** The graph's normalised chunk [H·D] back to robot units: bounds ([-1, 1] ↔ [low, high]) or mean/std (x·std + mean). */
export function unnormaliseChunk(data: ArrayLike<number>, H: number, D: number, action: ActionSpec): number[][] {
  const chunk: number[][] = [];
  const ms = action.meanStd;
  const b = action.bounds;
  if (ms === undefined && b === undefined) throw new Error('chunk_regression bundle has neither action.bounds nor action.meanStd');
  for (let t = 0; t < H; t++) {
    const row: number[] = [];
    for (let d = 0; d < D; d++) {
      const v = data[t * D + d]!;
      row.push(ms !== undefined ? v * ms.std[d]! + ms.mean[d]! : b!.low[d]! + ((v + 1) / 2) * (b!.high[d]! - b!.low[d]!));
    }
    chunk.push(row);
  }
  return chunk;
}
