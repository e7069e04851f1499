/** Small display formatters. Pure. */

export function fixed(v: number | undefined | null, digits = 1, fallback = '—'): string {
  return v === undefined || v === null || !Number.isFinite(v) ? fallback : v.toFixed(digits);
}

/** Seconds as m:ss (or h:mm:ss). */
export function clock(seconds: number | undefined | null): string {
  if (seconds === undefined || seconds === null || !Number.isFinite(seconds) || seconds < 0) return '0:00';
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export function jointUnit(unit: 'deg' | 'percent'): string {
  return unit === 'deg' ? '°' : '%';
}

/** Position of `v` in [min, max] as 0..1 (clamped), for range bars. */
export function fraction(v: number, min: number, max: number): number {
  if (!Number.isFinite(v) || !(max > min)) return 0;
  return Math.min(1, Math.max(0, (v - min) / (max - min)));
}
