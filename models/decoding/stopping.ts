/** Stopping criteria and helpers. Pure. */
import type { StoppingCriterion } from './types';

export const maxNewTokens =
  (n: number): StoppingCriterion =>
  (g) =>
    g.length >= n;

export const stopOnTokens = (ids: readonly number[]): StoppingCriterion => {
  const set = new Set(ids);
  return (g) => g.length > 0 && set.has(g[g.length - 1]!);
};

/** Stops once `count` tokens satisfying `isAction` follow `beginId` (e.g. H·D action tokens). */
export const stopAfterActions =
  /** `begun`: the action marker is already in the prompt (reasoning dropout, dual rate): count from the first generated token. */
  (beginId: number, count: number, isAction: (id: number) => boolean, begun = false): StoppingCriterion =>
  (g) => {
    const at = g.lastIndexOf(beginId);
    if (at < 0 && !begun) return false;
    let n = 0;
    for (let i = at + 1; i < g.length; i++) if (isAction(g[i]!)) n++;
    return n >= count;
  };

export function shouldStop(criteria: readonly StoppingCriterion[], generated: readonly number[]): boolean {
  for (const c of criteria) if (c(generated)) return true;
  return false;
}

/**
 * Appends verified tokens to `seq` and `generated` one at a time, stopping at the first that meets
 * a stopping criterion or the budget (the rest are dropped). Returns what was committed and
 * whether generation is done.
 */
export function commitTokens(
  tokens: readonly number[],
  seq: number[],
  generated: number[],
  stopping: readonly StoppingCriterion[],
  maxNewTokens: number,
): { committed: number[]; done: boolean } {
  const committed: number[] = [];
  for (const t of tokens) {
    seq.push(t);
    generated.push(t);
    committed.push(t);
    if (shouldStop(stopping, generated) || generated.length >= maxNewTokens) return { committed, done: true };
  }
  return { committed, done: false };
}

/**
 * Argmax of each row of a row-major [rows][vocab] logits array; `allowed(row)` (optional) limits
 * the candidates of a row (row index counted from `fromRow`). A row with no allowed id falls back
 * to the plain argmax.
 */
export function argmaxRows(logits: Float32Array, vocab: number, fromRow = 0, allowed?: (row: number) => ((id: number) => boolean) | undefined): number[] {
  const rows = logits.length / vocab;
  const out: number[] = [];
  for (let r = fromRow; r < rows; r++) {
    const ok = allowed?.(r - fromRow);
    let best = -1;
    let bv = -Infinity;
    const o = r * vocab;
    for (let i = 0; i < vocab; i++) {
      const v = logits[o + i]!;
      if (v > bv && (ok === undefined || ok(i))) {
        bv = v;
        best = i;
      }
    }
    if (best < 0) best = argmaxRows(logits.subarray(o, o + vocab), vocab)[0]!;
    out.push(best);
  }
  return out;
}
