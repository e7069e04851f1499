/**
 * Timing sparklines (the A/B view): a window of samples per series, p50/p95 over the window, an
 * SVG path per series, and markers where the decoding settings changed. Pure, no DOM.
 */
import type { PolicySettings } from '../../../main/common/contract';

export interface Sample {
  timeMs: number;
  value: number;
}

/** Linear-interpolated quantile (q in 0..1) of finite values; NaN when there are none. */
export function quantile(values: readonly number[], q: number): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const pos = (v.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return v[lo]! + (v[hi]! - v[lo]!) * (pos - lo);
}

export interface WindowStats {
  p50: number;
  p95: number;
  n: number;
}

/** p50 / p95 of the samples newer than `sinceMs`. */
export function windowStats(samples: readonly Sample[], sinceMs: number): WindowStats {
  const v = samples.filter((s) => s.timeMs >= sinceMs).map((s) => s.value);
  return { p50: quantile(v, 0.5), p95: quantile(v, 0.95), n: v.filter(Number.isFinite).length };
}

/** Keeps samples newer than `sinceMs` (the array is in time order). */
export function trimBefore<T extends { timeMs: number }>(samples: T[], sinceMs: number): T[] {
  let i = 0;
  while (i < samples.length && samples[i]!.timeMs < sinceMs) i++;
  return i === 0 ? samples : samples.slice(i);
}

/**
 * SVG path ("M x y L x y …") of the samples in [t0, t1] on a w×h box; y from `lo` (bottom) to `hi`
 * (top), clamped. A non-finite value breaks the line.
 */
export function sparkPath(samples: readonly Sample[], t0: number, t1: number, w: number, h: number, lo: number, hi: number): string {
  const span = t1 - t0 || 1;
  const range = hi - lo || 1;
  let d = '';
  let pen = false;
  for (const s of samples) {
    if (s.timeMs < t0 || s.timeMs > t1 || !Number.isFinite(s.value)) {
      pen = false;
      continue;
    }
    const x = ((s.timeMs - t0) / span) * w;
    const y = h - (Math.min(hi, Math.max(lo, s.value)) - lo) / range * h;
    d += `${pen ? 'L' : 'M'}${x.toFixed(1)} ${y.toFixed(1)} `;
    pen = true;
  }
  return d.trim();
}

/** A y range that holds the window's samples with a little headroom (and never a zero span). */
export function yRange(samples: readonly Sample[], t0: number, floor = 0): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of samples) {
    if (s.timeMs < t0 || !Number.isFinite(s.value)) continue;
    lo = Math.min(lo, s.value);
    hi = Math.max(hi, s.value);
  }
  if (!Number.isFinite(lo)) return [floor, floor + 1];
  lo = Math.min(lo, floor);
  const pad = (hi - lo) * 0.1 || 1;
  return [lo, hi + pad];
}

/** Which decoding settings differ, as a short label ("jacobi off, r 2"); '' when none. */
export function settingsChange(a: PolicySettings | undefined, b: PolicySettings | undefined): string {
  if (a === undefined || b === undefined) return '';
  const parts: string[] = [];
  const onOff = (v: boolean): string => (v ? 'on' : 'off');
  if (a.speculative !== b.speculative) parts.push(`speculative ${onOff(b.speculative)}`);
  if (a.jacobi !== b.jacobi) parts.push(`jacobi ${onOff(b.jacobi)}`);
  if (a.relaxedR !== b.relaxedR) parts.push(b.relaxedR === 0 ? 'strict' : `relaxed r ${b.relaxedR}`);
  if (a.ensemble !== b.ensemble) parts.push(`ensemble ${b.ensemble}`);
  if (a.planCache !== b.planCache) parts.push(`plan cache ${onOff(b.planCache)}`);
  if (a.reasoning !== b.reasoning) parts.push(`reasoning ${onOff(b.reasoning)}`);
  return parts.join(', ');
}
