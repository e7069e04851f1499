/**
 * Action queue keyed by absolute control step, with three ways to merge a chunk that lands while
 * older actions are still queued. Pure.
 *
 * - 'off': the new chunk replaces whatever is queued (naive async switching).
 * - 'temporal': ACT temporal ensembling, online form (LeRobot ACTTemporalEnsembler): the n-th
 *   prediction to arrive for a step gets weight w_n = exp(−m·n) (n = 0 oldest), m = 0.01 default;
 *   the running average is updated as avg ← (avg·W[n−1] + x·w[n]) / W[n], W = cumsum(w).
 * - 'blend': boundary blending: over the overlapping steps the new chunk's weight ramps linearly
 *   from 1/(n+1) to n/(n+1), so the hand-over from old to new is gradual.
 *
 * A chunk is stamped with the step its observation was taken at: action i is for step start+i.
 * Actions for steps already executed are dropped, so inference delay never replays stale actions.
 * `needsRefill` says when the queue has fallen below g·H so a new inference should start; a tick
 * never waits for it.
 */
export type MergeMode = 'off' | 'temporal' | 'blend';

export interface ActionQueueOptions {
  /** Chunk length H. */
  chunk: number;
  /** Refill threshold g in (0, 1]: start inference when fewer than g·H actions remain. */
  refillFraction: number;
  mode: MergeMode;
  /** ACT's m (0.01). Negative values favour newer predictions. */
  temporalCoeff?: number;
}

interface Entry {
  action: number[];
  count: number;
}

export class ActionQueue {
  private readonly q = new Map<number, Entry>();
  private lastPopped = -Infinity;
  mode: MergeMode;

  constructor(private readonly opts: ActionQueueOptions) {
    this.mode = opts.mode;
  }

  /** Queued actions for steps ≥ step. */
  remaining(step: number): number {
    let n = 0;
    for (const s of this.q.keys()) if (s >= step) n++;
    return n;
  }

  needsRefill(step: number): boolean {
    return this.remaining(step) < this.opts.refillFraction * this.opts.chunk;
  }

  /** Merges a chunk whose action i is for step start + i; steps before `now` are dropped. */
  push(start: number, chunk: readonly (readonly number[])[], now: number): void {
    const first = Math.max(now, this.lastPopped + 1);
    if (this.mode === 'off') this.q.clear();
    const overlap: number[] = [];
    chunk.forEach((_, i) => {
      if (start + i >= first && this.q.has(start + i)) overlap.push(start + i);
    });
    const m = this.opts.temporalCoeff ?? 0.01;
    chunk.forEach((a, i) => {
      const s = start + i;
      if (s < first) return;
      const e = this.q.get(s);
      if (e === undefined) {
        this.q.set(s, { action: [...a], count: 1 });
        return;
      }
      if (this.mode === 'temporal') {
        const n = e.count;
        const wPrev = cumWeight(m, n - 1);
        const wAll = cumWeight(m, n);
        const wn = Math.exp(-m * n);
        e.action = e.action.map((v, d) => (v * wPrev + a[d]! * wn) / wAll);
        e.count = n + 1;
      } else {
        const j = overlap.indexOf(s);
        const alpha = (j + 1) / (overlap.length + 1);
        e.action = e.action.map((v, d) => (1 - alpha) * v + alpha * a[d]!);
        e.count++;
      }
    });
  }

  /** The queued actions for steps ≥ `step`, in step order, with how many predictions each merges (read-only copies). */
  peek(step: number): { step: number; action: number[]; count: number }[] {
    return [...this.q.entries()]
      .filter(([s]) => s >= step)
      .sort((a, b) => a[0] - b[0])
      .map(([s, e]) => ({ step: s, action: [...e.action], count: e.count }));
  }

  /** The action for `step` (removing it and everything older), or undefined when none is queued. */
  pop(step: number): number[] | undefined {
    const e = this.q.get(step);
    for (const s of [...this.q.keys()]) if (s <= step) this.q.delete(s);
    this.lastPopped = Math.max(this.lastPopped, step);
    return e?.action;
  }

  clear(): void {
    this.q.clear();
    this.lastPopped = -Infinity;
  }
}

/** Σ_{i=0..n} exp(−m·i). */
function cumWeight(m: number, n: number): number {
  if (m === 0) return n + 1;
  return (1 - Math.exp(-m * (n + 1))) / (1 - Math.exp(-m));
}

/** Mean squared third difference of an executed action sequence (per step, averaged over dims): lower is smoother. */
export function meanSquaredJerk(actions: readonly (readonly number[])[]): number {
  let s = 0;
  let n = 0;
  for (let t = 3; t < actions.length; t++) {
    const a = actions[t]!;
    for (let d = 0; d < a.length; d++) {
      const j = a[d]! - 3 * actions[t - 1]![d]! + 3 * actions[t - 2]![d]! - actions[t - 3]![d]!;
      s += j * j;
      n++;
    }
  }
  return n === 0 ? 0 : s / n;
}
