/**
 * Orthonormal DCT-II / DCT-III (inverse) over the time axis, matching scipy.fft.dct/idct with
 * norm="ortho", and numpy's round-half-to-even. Pure; O(T²) per dimension (T is a chunk length).
 */
export function dctOrtho(x: readonly number[]): number[] {
  const T = x.length;
  const out = new Array<number>(T);
  for (let k = 0; k < T; k++) {
    let s = 0;
    for (let n = 0; n < T; n++) s += x[n]! * Math.cos((Math.PI * k * (2 * n + 1)) / (2 * T));
    out[k] = s * (k === 0 ? Math.sqrt(1 / T) : Math.sqrt(2 / T));
  }
  return out;
}

export function idctOrtho(X: readonly number[]): number[] {
  const T = X.length;
  const out = new Array<number>(T);
  for (let n = 0; n < T; n++) {
    let s = Math.sqrt(1 / T) * X[0]!;
    for (let k = 1; k < T; k++) s += Math.sqrt(2 / T) * X[k]! * Math.cos((Math.PI * k * (2 * n + 1)) / (2 * T));
    out[n] = s;
  }
  return out;
}

/** numpy.around: halves go to the even neighbour (2.5 → 2, 3.5 → 4, -0.5 → -0). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
