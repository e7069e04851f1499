/**
 * Per-episode and dataset statistics in LeRobot's layout (pure: no I/O).
 *
 * Vector features: per-dimension arrays; scalar features: 1-element arrays; cameras: per channel
 * as [[[r]], [[g]], [[b]]] on a 0..1 scale; `count` is [N]. Quantiles q01, q10, q50, q90, q99
 * (linear interpolation between order statistics). Dataset stats aggregate per-episode stats as
 * LeRobot does: weighted mean, pooled variance, min of mins, max of maxes, and quantiles as
 * bounds (min for q <= 50, max for q > 50).
 */
import { QUANTILES, STAT_KEYS, type StatKey } from './features';

/** Nested numeric arrays as stored in stats.json: number[] for vectors, number[][][] for images. */
export type StatValue = number[] | number[][][];
export type FeatureStats = Record<StatKey, StatValue>;
export type StatsMap = Record<string, FeatureStats>;

export function quantileKey(q: number): StatKey {
  return `q${String(Math.round(q * 100)).padStart(2, '0')}` as StatKey;
}

function quantileSorted(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * Stats of `rows` vectors of `dim` values stored row-major in `values`. With `skipNaN`, a row
 * holding a NaN (a frame without a value, e.g. the shadow columns while the policy acts) is left
 * out and `count` is the number of rows kept; with none kept every figure is 0 and count is [0].
 */
export function vectorStats(values: ArrayLike<number>, rows: number, dim: number, opts: { skipNaN?: boolean } = {}): FeatureStats {
  let keep: number[] | undefined;
  if (opts.skipNaN) {
    keep = [];
    for (let r = 0; r < rows; r++) {
      let ok = true;
      for (let d = 0; d < dim && ok; d++) ok = !Number.isNaN(Number(values[r * dim + d]));
      if (ok) keep.push(r);
    }
  }
  const n = keep ? keep.length : rows;
  const at = (i: number): number => (keep ? keep[i]! : i);
  const min: number[] = [], max: number[] = [], mean: number[] = [], std: number[] = [];
  const qs: number[][] = QUANTILES.map(() => []);
  const col = new Float64Array(n);
  for (let d = 0; d < dim; d++) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const v = Number(values[at(i) * dim + d]);
      col[i] = v;
      s += v;
    }
    const m = n > 0 ? s / n : 0;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += (col[i]! - m) ** 2;
    col.sort();
    min.push(n > 0 ? col[0]! : 0);
    max.push(n > 0 ? col[n - 1]! : 0);
    mean.push(m);
    std.push(n > 0 ? Math.sqrt(ss / n) : 0);
    QUANTILES.forEach((q, i) => qs[i]!.push(quantileSorted(col, q)));
  }
  const out = { min, max, mean, std, count: [n] } as Partial<FeatureStats>;
  QUANTILES.forEach((q, i) => (out[quantileKey(q)] = qs[i]!));
  return out as FeatureStats;
}

/**
 * Running per-channel image statistics from 256-bin histograms over subsampled pixels
 * (about 150 px on the long side, like LeRobot's downsampling). Feed every recorded frame.
 */
export class ImageStatsAccumulator {
  private readonly hist = [new Float64Array(256), new Float64Array(256), new Float64Array(256)];
  private frames = 0;
  private readonly stride: number;
  constructor(readonly width: number, readonly height: number) {
    this.stride = Math.max(1, Math.floor(Math.max(width, height) / 150));
  }
  add(rgb: Uint8Array): void {
    const { width, height, stride } = this;
    const [h0, h1, h2] = this.hist as [Float64Array, Float64Array, Float64Array];
    for (let y = 0; y < height; y += stride) {
      let o = y * width * 3;
      const step = stride * 3;
      for (let x = 0; x < width; x += stride, o += step) {
        h0[rgb[o]!]!++;
        h1[rgb[o + 1]!]!++;
        h2[rgb[o + 2]!]!++;
      }
    }
    this.frames++;
  }
  get count(): number {
    return this.frames;
  }
  result(): FeatureStats {
    const per = this.hist.map((h) => histStats(h));
    const wrap = (f: (s: HistStats) => number): number[][][] => per.map((s) => [[f(s) / 255]]);
    const out = {
      min: wrap((s) => s.min),
      max: wrap((s) => s.max),
      mean: wrap((s) => s.mean),
      std: wrap((s) => s.std),
      count: [this.frames],
    } as Partial<FeatureStats>;
    QUANTILES.forEach((q, i) => (out[quantileKey(q)] = wrap((s) => s.q[i]!)));
    return out as FeatureStats;
  }
}

interface HistStats {
  min: number;
  max: number;
  mean: number;
  std: number;
  q: number[];
}

function histStats(h: Float64Array): HistStats {
  let n = 0, s = 0, min = -1, max = 0;
  for (let v = 0; v < 256; v++) {
    const c = h[v]!;
    if (c === 0) continue;
    if (min < 0) min = v;
    max = v;
    n += c;
    s += c * v;
  }
  if (n === 0) return { min: 0, max: 0, mean: 0, std: 0, q: QUANTILES.map(() => 0) };
  const mean = s / n;
  let ss = 0;
  for (let v = 0; v < 256; v++) ss += h[v]! * (v - mean) ** 2;
  const q = QUANTILES.map((qq) => {
    const target = qq * (n - 1);
    let cum = 0;
    for (let v = 0; v < 256; v++) {
      cum += h[v]!;
      if (cum > target) return v;
    }
    return max;
  });
  return { min, max, mean, std: Math.sqrt(ss / n), q };
}

type Nested = number | Nested[];
function zipMap(values: Nested[], f: (xs: number[]) => number): Nested {
  const first = values[0]!;
  if (typeof first === 'number') return f(values as number[]);
  return (first as Nested[]).map((_, i) => zipMap(values.map((v) => (v as Nested[])[i]!), f));
}
function zipMap2(a: Nested[], b: Nested[], f: (xs: number[], ys: number[]) => number): Nested {
  const first = a[0]!;
  if (typeof first === 'number') return f(a as number[], b as number[]);
  return (first as Nested[]).map((_, i) =>
    zipMap2(
      a.map((v) => (v as Nested[])[i]!),
      b.map((v) => (v as Nested[])[i]!),
      f,
    ),
  );
}

/** Aggregate per-episode stats of one feature into dataset stats. */
export function aggregateFeatureStats(all: FeatureStats[]): FeatureStats {
  if (all.length === 0) throw new Error('no stats to aggregate');
  // parts without a value (count 0: an episode without shadow frames) carry no min/max/quantiles
  const withValues = all.filter((p) => Number((p.count as number[])[0]) > 0);
  const parts = withValues.length > 0 ? withValues : [all[0]!];
  const counts = parts.map((p) => Number((p.count as number[])[0]));
  const total = counts.reduce((a, b) => a + b, 0);
  const w = (xs: number[]): number => (total > 0 ? xs.reduce((acc, x, i) => acc + x * counts[i]!, 0) / total : 0);
  const mean = zipMap(parts.map((p) => p.mean as Nested), w);
  // pooled variance: sum n_i (var_i + (mean_i - mean)^2) / N, per element
  const meanArr = parts.map(() => mean);
  const devs = parts.map((p, i) => zipMap2([p.mean as Nested], [meanArr[i]!], (a, b) => (a[0]! - b[0]!) ** 2));
  const varTerms = parts.map((p, i) => zipMap2([p.std as Nested], [devs[i]!], (s, d) => s[0]! ** 2 + d[0]!));
  const variance = zipMap(varTerms, w);
  const std = zipMap([variance], (v) => Math.sqrt(Math.max(0, v[0]!)));
  const out = {
    min: zipMap(parts.map((p) => p.min as Nested), (xs) => Math.min(...xs)),
    max: zipMap(parts.map((p) => p.max as Nested), (xs) => Math.max(...xs)),
    mean,
    std,
    count: [total],
  } as Record<string, Nested>;
  for (const q of QUANTILES) {
    const k = quantileKey(q);
    out[k] = zipMap(parts.map((p) => p[k] as Nested), (xs) => (q <= 0.5 ? Math.min(...xs) : Math.max(...xs)));
  }
  return out as unknown as FeatureStats;
}

export function aggregateStats(episodes: StatsMap[]): StatsMap {
  const out: StatsMap = {};
  if (episodes.length === 0) return out;
  for (const key of Object.keys(episodes[0]!)) {
    const parts = episodes.map((e) => e[key]).filter((x): x is FeatureStats => x !== undefined);
    out[key] = aggregateFeatureStats(parts);
  }
  return out;
}

export function orderedStats(s: FeatureStats): FeatureStats {
  const out = {} as FeatureStats;
  for (const k of STAT_KEYS) out[k] = s[k];
  return out;
}
