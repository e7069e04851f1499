/**
 * FAST action tokenizer (π0-FAST): quantile normalisation → orthonormal DCT-II over time per
 * dimension → scale γ and round half to even → flatten frequency-major (all dims of frequency 0,
 * then frequency 1, ...) → one character per coefficient, chr(q − minToken) → byte-level BPE
 * (tokenizer.json trained by models/train/train_fast_bpe.py, applied through a real HF tokenizers
 * implementation). Decode reverses it; a wrong-length sequence is zero-padded / truncated
 * (LeRobot's relaxed decoding).
 *
 * Round-trip bound (no clamping): every DCT coefficient is off by at most 0.5/γ; the orthonormal
 * inverse preserves the L2 norm, so each dimension's normalised trajectory is off by at most
 * 0.5·√T/γ in L2 (hence per element too); in robot units multiply by (high − low)/2.
 * Pure: the BPE is injected as a `TextCodec`.
 */
import { dctOrtho, idctOrtho, roundHalfEven } from './dct';

export interface TextCodec {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}

export interface FastConfig {
  scale: number;
  minToken: number;
  /** FAST token 0 ↦ decoder id firstTokenId. */
  firstTokenId: number;
  vocabSize: number;
  low: readonly number[];
  high: readonly number[];
  chunk: number;
}

export class FastTokenizer {
  readonly kind = 'fast' as const;
  readonly dims: number;
  constructor(readonly cfg: FastConfig, private readonly bpe: TextCodec) {
    this.dims = cfg.low.length;
  }
  isActionToken(id: number): boolean {
    return id >= this.cfg.firstTokenId && id < this.cfg.firstTokenId + this.cfg.vocabSize;
  }
  /** chunk [T][D] in robot units → quantised DCT coefficients, frequency-major. */
  coefficients(chunk: readonly (readonly number[])[]): number[] {
    const { low, high, scale } = this.cfg;
    const T = chunk.length;
    const perDim: number[][] = [];
    for (let d = 0; d < this.dims; d++) {
      const x = chunk.map((row) => ((row[d]! - low[d]!) / (high[d]! - low[d]! + 1e-6)) * 2 - 1);
      perDim.push(dctOrtho(x).map((c) => roundHalfEven(c * scale)));
    }
    const flat: number[] = [];
    for (let k = 0; k < T; k++) for (let d = 0; d < this.dims; d++) flat.push(perDim[d]![k]!);
    return flat;
  }
  /** Coefficients → characters; values below minToken are clamped (chr() of a negative fails in the reference). */
  toText(coeffs: readonly number[]): string {
    return coeffs.map((q) => String.fromCodePoint(Math.max(0, q - this.cfg.minToken))).join('');
  }
  encode(chunk: readonly (readonly number[])[]): number[] {
    return this.bpe.encode(this.toText(this.coefficients(chunk))).map((id) => id + this.cfg.firstTokenId);
  }
  decodeCoefficients(coeffs: readonly number[]): number[][] {
    const { low, high, scale, chunk: T } = this.cfg;
    const D = this.dims;
    const q = coeffs.slice(0, T * D);
    while (q.length < T * D) q.push(0);
    const out: number[][] = Array.from({ length: T }, () => new Array<number>(D).fill(0));
    for (let d = 0; d < D; d++) {
      const X: number[] = [];
      for (let k = 0; k < T; k++) X.push(q[k * D + d]! / scale);
      const x = idctOrtho(X);
      for (let t = 0; t < T; t++) out[t]![d] = ((x[t]! + 1) / 2) * (high[d]! - low[d]! + 1e-6) + low[d]!;
    }
    return out;
  }
  decode(ids: readonly number[]): number[][] {
    const text = this.bpe.decode(ids.map((id) => id - this.cfg.firstTokenId));
    const coeffs = Array.from(text, (c) => c.codePointAt(0)! + this.cfg.minToken);
    return this.decodeCoefficients(coeffs);
  }
}
