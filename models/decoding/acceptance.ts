/**
 * Speculative acceptance (pure). `targetArgmax[i]` is the target's greedy choice after the prefix
 * plus draft[0..i-1]; it has draft.length + 1 entries. Accept draft tokens while they pass the rule;
 * the first failure (or the end) contributes the target's token as the bonus.
 *
 * strict: draft[i] === targetArgmax[i] — the output equals greedy target decoding.
 * relaxed (Spec-VLA): when both ids are action-bin tokens, accept if |draft − target| ≤ r and keep
 * the draft's token; anything else (reasoning, markers) is strict.
 */
export type AcceptanceRule =
  | { kind: 'strict' }
  | { kind: 'relaxed'; r: number; isRelaxable: (id: number) => boolean };

export interface Acceptance {
  /** Draft tokens accepted (bonus excluded). */
  accepted: number;
  /** Tokens to commit: accepted drafts then the bonus. */
  tokens: number[];
  /** Largest |draft − target| among accepted tokens. */
  maxDistance: number;
}

export function acceptsToken(draftId: number, targetId: number, rule: AcceptanceRule): boolean {
  if (draftId === targetId) return true;
  if (rule.kind === 'strict') return false;
  return rule.isRelaxable(draftId) && rule.isRelaxable(targetId) && Math.abs(draftId - targetId) <= rule.r;
}

export function acceptDraft(draft: readonly number[], targetArgmax: readonly number[], rule: AcceptanceRule): Acceptance {
  if (targetArgmax.length !== draft.length + 1) throw new Error(`need ${draft.length + 1} target tokens, got ${targetArgmax.length}`);
  let n = 0;
  let maxDistance = 0;
  while (n < draft.length && acceptsToken(draft[n]!, targetArgmax[n]!, rule)) {
    maxDistance = Math.max(maxDistance, Math.abs(draft[n]! - targetArgmax[n]!));
    n++;
  }
  return { accepted: n, tokens: [...draft.slice(0, n), targetArgmax[n]!], maxDistance };
}

/** Adaptive draft length: grow after a fully accepted draft, shrink after a fully rejected one. */
export function nextDraftLength(k: number, accepted: number, min: number, max: number): number {
  if (accepted >= k) return Math.min(max, k + 1);
  if (accepted === 0) return Math.max(min, k - 1);
  return k;
}
