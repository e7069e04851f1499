/**
 * Observation → graph inputs (pure): RGB24 frames resized (nearest) to the bundle's size and
 * normalised to CHW float32; state normalised by the manifest's mean/std. Plus the scene signature
 * the plan cache compares (normalised state + an 4×4 mean-colour thumbnail per camera).
 */
import type { ActionSpec, CameraInput, StateInput } from '../runtime/manifest';

export interface RgbFrame {
  data: Uint8Array;
  width: number;
  height: number;
}

export interface PolicyObservation {
  /** State in the bundle's state joint order, robot units. */
  state: readonly number[];
  /** Frames by camera key. */
  images: Record<string, RgbFrame | undefined>;
  instruction: string;
}

/**
 * Nearest-neighbour sampling shared by every image input: for each of the W×H output pixels
 * (row-major), the byte offset of its source pixel in an RGB24 frame. The source window is the
 * whole frame ('stretch') or its centre cut to the output's aspect ratio ('center_crop').
 */
export function nearestSourceOffsets(frame: { width: number; height: number }, W: number, H: number, resize: 'stretch' | 'center_crop'): Uint32Array {
  const out = new Uint32Array(W * H);
  let x0 = 0;
  let y0 = 0;
  let sw = frame.width;
  let sh = frame.height;
  if (resize === 'center_crop') {
    if (frame.width * H > frame.height * W) sw = (frame.height * W) / H;
    else sh = (frame.width * H) / W;
    x0 = (frame.width - sw) / 2;
    y0 = (frame.height - sh) / 2;
  }
  for (let y = 0; y < H; y++) {
    const sy = Math.min(frame.height - 1, Math.floor(y0 + ((y + 0.5) * sh) / H));
    for (let x = 0; x < W; x++) {
      const sx = Math.min(frame.width - 1, Math.floor(x0 + ((x + 0.5) * sw) / W));
      out[y * W + x] = (sy * frame.width + sx) * 3;
    }
  }
  return out;
}

export function imageToChw(frame: RgbFrame | undefined, cam: CameraInput): Float32Array {
  const { width: W, height: H } = cam;
  const out = new Float32Array(3 * H * W);
  if (frame === undefined) return out; // a missing camera feeds zeros (the validator already named the key)
  const src = nearestSourceOffsets(frame, W, H, cam.resize);
  for (let i = 0; i < W * H; i++) {
    const o = src[i]!;
    for (let c = 0; c < 3; c++) out[c * H * W + i] = (frame.data[o + c]! / 255 - cam.mean[c]!) / cam.std[c]!;
  }
  return out;
}

export function normaliseState(state: readonly number[], spec: StateInput): Float32Array {
  return Float32Array.from(spec.joints, (_, i) => ((state[i] ?? 0) - spec.mean[i]!) / spec.std[i]!);
}

/** Normalised state followed by a 4×4 mean-colour thumbnail (0..1) of each camera. */
export function sceneSignature(state: Float32Array, images: Record<string, RgbFrame | undefined>, cams: readonly CameraInput[]): Float32Array {
  const parts: number[] = Array.from(state);
  for (const cam of cams) {
    const f = images[cam.key];
    for (let gy = 0; gy < 4; gy++) {
      for (let gx = 0; gx < 4; gx++) {
        for (let c = 0; c < 3; c++) {
          if (f === undefined) {
            parts.push(0);
            continue;
          }
          let s = 0;
          let n = 0;
          const y0 = Math.floor((gy * f.height) / 4);
          const y1 = Math.floor(((gy + 1) * f.height) / 4);
          const x0 = Math.floor((gx * f.width) / 4);
          const x1 = Math.floor(((gx + 1) * f.width) / 4);
          for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) {
            s += f.data[(y * f.width + x) * 3 + c]!;
            n++;
          }
          parts.push(n === 0 ? 0 : s / n / 255);
        }
      }
    }
  }
  return Float32Array.from(parts);
}

/**
 * Relative actions back to absolute goals: adds each relative joint's observed state (the state the
 * policy was given, in the bundle's state joint order) to every row of the chunk. A chunk of a bundle
 * without `action.relative` comes back unchanged. checkManifest guarantees every relative joint is a
 * state joint.
 */
export function absoluteChunk(chunk: number[][], action: ActionSpec, state: StateInput | undefined, observed: readonly number[]): number[][] {
  const rel = action.relative;
  if (rel === undefined || !rel.some(Boolean)) return chunk;
  const offset = action.joints.map((j, i) => {
    if (rel[i] !== true) return 0;
    const k = state?.joints.indexOf(j) ?? -1;
    const v = observed[k];
    if (k < 0 || v === undefined || !Number.isFinite(v)) throw new Error(`relative action joint "${j}" has no observed state`);
    return v;
  });
  return chunk.map((row) => row.map((v, i) => v + offset[i]!));
}
