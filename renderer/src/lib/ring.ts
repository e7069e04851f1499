/**
 * Fixed-capacity ring buffer of time-stamped rows (one time column + `width` value columns),
 * kept outside Svelte's reactivity: telemetry arrives at the loop's rate and the plot reads a
 * window of it at most once per animation frame. Pure, no DOM.
 */
export class TimeSeriesRing {
  readonly capacity: number;
  readonly width: number;
  private readonly t: Float64Array;
  private readonly cols: Float64Array[];
  private head = 0; // index of the next write
  private len = 0;

  constructor(capacity: number, width: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    if (!Number.isInteger(width) || width < 0) throw new RangeError(`width must be a non-negative integer, got ${width}`);
    this.capacity = capacity;
    this.width = width;
    this.t = new Float64Array(capacity);
    this.cols = Array.from({ length: width }, () => new Float64Array(capacity));
  }

  get length(): number {
    return this.len;
  }

  /** Time of the newest row, or undefined when empty. */
  get lastTime(): number | undefined {
    return this.len === 0 ? undefined : this.t[(this.head - 1 + this.capacity) % this.capacity];
  }

  /** Appends a row; values beyond `width` are ignored, missing ones become NaN (a gap in the plot). */
  push(time: number, values: ArrayLike<number>): void {
    const i = this.head;
    this.t[i] = time;
    for (let c = 0; c < this.width; c++) {
      const v = c < values.length ? values[c]! : Number.NaN;
      this.cols[c]![i] = Number.isFinite(v) ? v : Number.NaN;
    }
    this.head = (i + 1) % this.capacity;
    if (this.len < this.capacity) this.len++;
  }

  clear(): void {
    this.head = 0;
    this.len = 0;
  }

  /** Row `k` in age order (0 = oldest). */
  timeAt(k: number): number {
    return this.t[this.indexOf(k)]!;
  }

  valueAt(k: number, col: number): number {
    return this.cols[col]![this.indexOf(k)]!;
  }

  /**
   * Oldest-to-newest copies of the rows whose time is ≥ `since` (all rows when omitted):
   * `[times, col0, col1, …]`, the column layout uPlot wants.
   */
  toColumns(since?: number): Float64Array[] {
    let start = 0;
    if (since !== undefined) {
      // times are pushed in non-decreasing order: binary search the first row ≥ since
      let lo = 0;
      let hi = this.len;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.timeAt(mid) < since) lo = mid + 1;
        else hi = mid;
      }
      start = lo;
    }
    const n = this.len - start;
    const out: Float64Array[] = [copyRange(this.t, this.firstIndex() + start, n, this.capacity)];
    for (const col of this.cols) out.push(copyRange(col, this.firstIndex() + start, n, this.capacity));
    return out;
  }

  private firstIndex(): number {
    return (this.head - this.len + this.capacity) % this.capacity;
  }

  private indexOf(k: number): number {
    if (k < 0 || k >= this.len) throw new RangeError(`row ${k} out of range 0..${this.len - 1}`);
    return (this.firstIndex() + k) % this.capacity;
  }
}

function copyRange(src: Float64Array, from: number, n: number, cap: number): Float64Array {
  const out = new Float64Array(n);
  const a = from % cap;
  const firstPart = Math.min(n, cap - a);
  out.set(src.subarray(a, a + firstPart), 0);
  if (firstPart < n) out.set(src.subarray(0, n - firstPart), firstPart);
  return out;
}
