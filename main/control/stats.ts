/**
 * Rolling timing statistics for fixed-rate loops: a fixed-size window of samples and their
 * percentiles. Pure; the caller supplies the numbers.
 */
import type { TimingStats } from '../common/types';

export class RollingWindow {
  private readonly buf: Float64Array;
  private n = 0;
  private head = 0;
  constructor(readonly capacity: number) {
    this.buf = new Float64Array(capacity);
  }
  push(v: number): void {
    this.buf[this.head] = v;
    this.head = (this.head + 1) % this.capacity;
    if (this.n < this.capacity) this.n++;
  }
  get size(): number {
    return this.n;
  }
  values(): number[] {
    return Array.from(this.buf.subarray(0, this.n));
  }
  clear(): void {
    this.n = 0;
    this.head = 0;
  }
  stats(): TimingStats {
    return summarize(this.values());
  }
}

/** Nearest-rank percentile of an unsorted array (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[rank]!;
}

export function summarize(values: readonly number[]): TimingStats {
  if (values.length === 0) return { p50Ms: 0, p99Ms: 0, maxMs: 0 };
  return { p50Ms: percentile(values, 50), p99Ms: percentile(values, 99), maxMs: Math.max(...values) };
}
