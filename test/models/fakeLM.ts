/**
 * A pure in-memory causal LM with exact KV-cache semantics, for decoding tests: the logits at a
 * position are a deterministic function of the whole prefix (a hash), so any cache bug (wrong
 * truncation, a token fed twice or skipped) changes the output. A draft is the same function with
 * a controllable disagreement: with probability `disagree` its argmax moves by up to `spread` ids.
 */
import type { CausalLM } from '../../models/decoding/types';
import { mulberry32 } from '../../drivers/sim/rng';

export interface FakeLMOptions {
  vocab: number;
  seed: number;
  disagree?: number;
  spread?: number;
  /** Ids in [lo, hi) are "action" ids; disagreement stays inside this range. */
  actionRange?: [number, number];
}

function mix(h: number, x: number): number {
  h ^= x + 0x9e3779b9 + (h << 6) + (h >>> 2);
  return h >>> 0;
}

export class FakeLM implements CausalLM {
  readonly vocabSize: number;
  private cache: number[] = [];
  private prefixHash: number[] = [];
  calls = 0;
  fedTokens = 0;

  constructor(private readonly o: FakeLMOptions) {
    this.vocabSize = o.vocab;
  }

  get cacheLength(): number {
    return this.cache.length;
  }

  /** The "true" greedy next token after a prefix whose running hash is h. */
  private targetChoice(h: number): number {
    const [lo, hi] = this.o.actionRange ?? [0, 0];
    // after an action-ish prefix keep producing actions most of the time, so relaxed rules get exercised
    return h % 5 < 3 && hi > lo ? lo + (h % (hi - lo)) : h % this.o.vocab;
  }

  async forward(tokens: readonly number[]): Promise<Float32Array> {
    this.calls++;
    this.fedTokens += tokens.length;
    const V = this.o.vocab;
    const out = new Float32Array(tokens.length * V);
    tokens.forEach((t, i) => {
      const prev = this.prefixHash.length === 0 ? 2166136261 : this.prefixHash[this.prefixHash.length - 1]!;
      const h = mix(prev, t + 1);
      this.cache.push(t);
      this.prefixHash.push(h);
      let choice = this.targetChoice(mix(h, 7));
      const r = mix(h, this.o.seed) % 1000;
      if (this.o.disagree !== undefined && r < this.o.disagree * 1000) {
        const [lo, hi] = this.o.actionRange ?? [0, V];
        const spread = this.o.spread ?? 3;
        const delta = (mix(h, this.o.seed + 1) % (2 * spread + 1)) - spread || 1;
        choice = choice >= lo && choice < hi ? Math.min(hi - 1, Math.max(lo, choice + delta)) : (choice + 1) % V;
      }
      for (let v = 0; v < V; v++) out[i * V + v] = ((mix(h, v) % 1000) / 1000) * 0.5;
      out[i * V + choice] = 2;
    });
    return out;
  }

  truncate(length: number): void {
    this.cache.length = Math.min(this.cache.length, length);
    this.prefixHash.length = this.cache.length;
  }

  reset(): void {
    this.cache = [];
    this.prefixHash = [];
  }
}

/** Deterministic PRNG for tests: the simulator's mulberry32. */
export function rng(seed: number): () => number {
  return mulberry32(seed).next;
}
