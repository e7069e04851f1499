/**
 * Uniform-bin action tokenizer (OpenVLA style, per-dimension quantile bounds).
 * Normalise x' = clip(2(x - low)/(high - low) - 1, -1, 1); bin = floor((x' + 1)/2 · bins), clamped
 * to [0, bins - 1]; token = firstTokenId + bin. Decoding returns the bin centre, so the round-trip
 * error inside [low, high] is at most half a bin: (high - low) / (2 · bins) per dimension.
 * (OpenVLA uses 256 edges / 255 centres; here 256 equal bins with 256 centres.) Pure.
 */
export interface UniformBinsConfig {
  bins: number;
  firstTokenId: number;
  low: readonly number[];
  high: readonly number[];
}

export class UniformBinTokenizer {
  readonly kind = 'uniform_bins' as const;
  readonly dims: number;
  constructor(readonly cfg: UniformBinsConfig) {
    this.dims = cfg.low.length;
  }
  isActionToken(id: number): boolean {
    return id >= this.cfg.firstTokenId && id < this.cfg.firstTokenId + this.cfg.bins;
  }
  binOf(id: number): number {
    return id - this.cfg.firstTokenId;
  }
  /** chunk [H][D] in robot units → H·D token ids, time-major. */
  encode(chunk: readonly (readonly number[])[]): number[] {
    const { bins, firstTokenId, low, high } = this.cfg;
    const out: number[] = [];
    for (const row of chunk) {
      for (let d = 0; d < this.dims; d++) {
        const x = Math.min(1, Math.max(-1, (2 * (row[d]! - low[d]!)) / (high[d]! - low[d]!) - 1));
        const b = Math.min(bins - 1, Math.max(0, Math.floor(((x + 1) / 2) * bins)));
        out.push(firstTokenId + b);
      }
    }
    return out;
  }
  /** Token ids (time-major) → chunk [H][D]; an incomplete last step is dropped; a non-action id throws. */
  decode(ids: readonly number[]): number[][] {
    const { bins, low, high } = this.cfg;
    const steps = Math.floor(ids.length / this.dims);
    const out: number[][] = [];
    for (let t = 0; t < steps; t++) {
      const row: number[] = [];
      for (let d = 0; d < this.dims; d++) {
        const id = ids[t * this.dims + d]!;
        if (!this.isActionToken(id)) throw new Error(`token ${id} is not an action token`);
        const x = ((this.binOf(id) + 0.5) / bins) * 2 - 1;
        row.push(low[d]! + ((x + 1) / 2) * (high[d]! - low[d]!));
      }
      out.push(row);
    }
    return out;
  }
}
