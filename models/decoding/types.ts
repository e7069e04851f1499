/**
 * What decoding is written against: a causal LM with a KV cache. The ONNX implementation lives
 * in models/runtime (OnnxCausalLM); tests use pure in-memory models. Invariant kept by the
 * decoders: before each step the cache covers every committed token except the last one.
 */
export interface CausalLM {
  readonly vocabSize: number;
  /** Tokens whose keys/values are cached (positions 0 .. cacheLength-1). */
  readonly cacheLength: number;
  /**
   * Feeds `tokens` at positions cacheLength .. cacheLength+T-1 in one pass, extends the cache by T,
   * and returns logits [T][vocabSize] row-major.
   */
  forward(tokens: readonly number[]): Promise<Float32Array>;
  /** Drops cached positions ≥ length (rejected draft tokens). */
  truncate(length: number): void;
  /** Empties the cache. */
  reset(): void;
}

/** Receives committed tokens as they are decided (reasoning parser, UI stream). */
export interface Streamer {
  put(tokens: readonly number[]): void;
  end(): void;
}

/** True when generation must stop after the tokens generated so far. */
export type StoppingCriterion = (generated: readonly number[]) => boolean;

/**
 * Constrained decoding: which token ids may come next after the tokens generated so far
 * (undefined: any). Applied to every argmax — greedy steps, each drafted token and each verified
 * position — so strict speculation still equals (constrained) greedy decoding.
 */
export type TokenConstraint = (generated: readonly number[]) => ((id: number) => boolean) | undefined;

export interface GenerateOptions {
  maxNewTokens: number;
  stopping?: readonly StoppingCriterion[];
  streamer?: Streamer;
  constraint?: TokenConstraint;
}

export interface GenerateResult {
  /** New tokens only (the prompt excluded). */
  tokens: number[];
  /** Target forward passes after the prefill (greedy: one per token; speculative: one per verify). */
  targetCalls: number;
  draftCalls: number;
  /** Draft tokens accepted at each verify step (bonus token excluded; Spec-VLA's accept_length). */
  acceptLengths: number[];
  /** Largest |draft − target| id distance over accepted draft tokens (0 under strict acceptance). */
  maxAcceptedDistance: number;
}
