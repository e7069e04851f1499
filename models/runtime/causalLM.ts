/**
 * A KV-cached ONNX decoder as a `CausalLM` (models/decoding). Feeds input_ids, position_ids (if the
 * graph has them), attention_mask (if it has one: all ones over past + new), static inputs (e.g.
 * obs_embedding from the encoder), and past_key_values.{i}.key|value [1, heads, past, headDim]
 * (zero-length on the first call); keeps present.{i}.* as the next past. `truncate` slices every
 * cache tensor along the sequence axis (a typed-array copy per head).
 */
import type { CausalLM } from '../decoding/types';
import type { DecoderGraph } from './manifest';
import type { FeedTensor, OrtSession } from './ort';

export class OnnxCausalLM implements CausalLM {
  readonly vocabSize: number;
  private keys: Float32Array[] = [];
  private values: Float32Array[] = [];
  private len = 0;
  private staticFeeds: Record<string, FeedTensor> = {};
  private readonly hasPositions: boolean;
  private readonly hasMask: boolean;

  constructor(private readonly session: OrtSession, private readonly spec: DecoderGraph) {
    this.vocabSize = spec.vocabSize;
    const names = new Set(session.inputs.map((i) => i.name));
    this.hasPositions = names.has('position_ids');
    this.hasMask = names.has('attention_mask');
    this.reset();
  }

  /** Inputs that stay the same for a whole generation (the observation's embedding). */
  setStaticInputs(feeds: Record<string, FeedTensor>): void {
    this.staticFeeds = feeds;
  }

  get cacheLength(): number {
    return this.len;
  }

  async forward(tokens: readonly number[]): Promise<Float32Array> {
    const T = tokens.length;
    if (T === 0) throw new Error('forward needs at least one token');
    if (this.len + T > this.spec.maxPositions) throw new Error(`sequence would exceed ${this.spec.maxPositions} positions`);
    const { layers, kvHeads, headDim } = this.spec;
    const feeds: Record<string, FeedTensor> = { ...this.staticFeeds };
    feeds.input_ids = { type: 'int64', data: BigInt64Array.from(tokens, (t) => BigInt(t)), dims: [1, T] };
    if (this.hasPositions) {
      const pos = new BigInt64Array(T);
      for (let i = 0; i < T; i++) pos[i] = BigInt(this.len + i);
      feeds.position_ids = { type: 'int64', data: pos, dims: [1, T] };
    }
    if (this.hasMask) feeds.attention_mask = { type: 'int64', data: new BigInt64Array(this.len + T).fill(1n), dims: [1, this.len + T] };
    const dims = [1, kvHeads, this.len, headDim];
    for (let i = 0; i < layers; i++) {
      feeds[`past_key_values.${i}.key`] = { type: 'float32', data: this.keys[i]!, dims };
      feeds[`past_key_values.${i}.value`] = { type: 'float32', data: this.values[i]!, dims };
    }
    const out = await this.session.run(feeds);
    for (let i = 0; i < layers; i++) {
      this.keys[i] = out[`present.${i}.key`]!.data;
      this.values[i] = out[`present.${i}.value`]!.data;
    }
    this.len += T;
    return out.logits!.data;
  }

  truncate(length: number): void {
    if (length >= this.len) return;
    const { layers, kvHeads, headDim } = this.spec;
    const cut = (src: Float32Array): Float32Array => {
      const dst = new Float32Array(kvHeads * length * headDim);
      for (let h = 0; h < kvHeads; h++) {
        dst.set(src.subarray(h * this.len * headDim, h * this.len * headDim + length * headDim), h * length * headDim);
      }
      return dst;
    };
    for (let i = 0; i < layers; i++) {
      this.keys[i] = cut(this.keys[i]!);
      this.values[i] = cut(this.values[i]!);
    }
    this.len = length;
  }

  reset(): void {
    this.keys = Array.from({ length: this.spec.layers }, () => new Float32Array(0));
    this.values = Array.from({ length: this.spec.layers }, () => new Float32Array(0));
    this.len = 0;
  }
}
