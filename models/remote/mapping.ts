/**
 * Console ↔ server mapping for remote policies (pure). `buildRequest` turns the console's
 * observation (frames, joint state in robot units, task) into the server's observation map;
 * `decodeActions` turns a reply into a chunk in robot units, or says exactly why it cannot: no
 * action array, wrong rank, a column count other than the manifest's joints, fewer rows than the
 * horizon, a value that is not finite or lies far outside the robot's joint range. A rejected
 * chunk moves nothing.
 */
import { keyPath, type RemoteImage, type RemoteManifest } from './manifest';
import { isWireMap, NdArray, type WireValue } from './msgpackNumpy';
import { nearestSourceOffsets, type RgbFrame } from '../policies/preprocess';

export interface ConsoleObservation {
  /** Joint positions by robot joint name, robot units (degrees, gripper 0..100). */
  state: Readonly<Record<string, number>>;
  images: Readonly<Record<string, RgbFrame | undefined>>;
  task: string;
}

export class RemoteObservationError extends Error {
  readonly code = 'REMOTE_OBSERVATION';
  constructor(message: string) {
    super(message);
    this.name = 'RemoteObservationError';
  }
}

export class RemoteActionError extends Error {
  readonly code = 'REMOTE_BAD_ACTIONS';
  constructor(message: string) {
    super(message);
    this.name = 'RemoteActionError';
  }
}

const DEG = Math.PI / 180;

/** Robot units → the server's, for one joint. */
function toServerUnits(m: RemoteManifest, joint: string, v: number): number {
  const g = m.units.gripper;
  if (g !== undefined && g.joint === joint) return g.open + (v / 100) * (g.closed - g.open);
  return m.units.angles === 'radians' ? v * DEG : v;
}

/** The server's units → robot units; `delta` scales without the gripper's offset. */
function fromServerUnits(m: RemoteManifest, joint: string, v: number, delta: boolean): number {
  const g = m.units.gripper;
  if (g !== undefined && g.joint === joint) return ((delta ? v : v - g.open) / (g.closed - g.open)) * 100;
  return m.units.angles === 'radians' ? v / DEG : v;
}

/** Nearest-neighbour resize (stretch or centre crop, sampled as models/policies/preprocess does) into HWC or CHW. */
export function resizeImage(frame: RgbFrame, spec: RemoteImage): Uint8Array {
  const { width: W, height: H } = spec;
  const out = new Uint8Array(3 * W * H);
  const src = nearestSourceOffsets(frame, W, H, spec.resize);
  const chw = spec.layout === 'CHW';
  for (let i = 0; i < W * H; i++) {
    const o = src[i]!;
    for (let c = 0; c < 3; c++) out[chw ? c * H * W + i : i * 3 + c] = frame.data[o + c]!;
  }
  return out;
}

function setPath(root: Record<string, WireValue>, path: string[], v: WireValue): void {
  let o = root;
  for (const k of path.slice(0, -1)) {
    const next = o[k];
    if (next === undefined) o[k] = {};
    else if (!isWireMap(next)) throw new RemoteObservationError(`server key path ${path.join('.')} crosses a value`);
    o = o[k] as Record<string, WireValue>;
  }
  o[path[path.length - 1]!] = v;
}

/** The request for one inference. Throws RemoteObservationError when a camera has no frame or a joint no value. */
export function buildRequest(m: RemoteManifest, obs: ConsoleObservation): Record<string, WireValue> {
  const req: Record<string, WireValue> = {};
  for (const im of m.observation.images) {
    const f = obs.images[im.camera];
    if (f === undefined) throw new RemoteObservationError(`camera "${im.camera}" has no frame yet`);
    const px = resizeImage(f, im);
    const shape = im.layout === 'CHW' ? [3, im.height, im.width] : [im.height, im.width, 3];
    setPath(req, keyPath(im.key), im.dtype === 'uint8' ? NdArray.u8(shape, px) : NdArray.f32(shape, Float32Array.from(px, (v) => v / 255)));
  }
  for (const st of m.observation.state) {
    const vals = st.joints.map((j) => {
      const v = obs.state[j];
      if (v === undefined || !Number.isFinite(v)) throw new RemoteObservationError(`joint "${j}" has no observed position`);
      return toServerUnits(m, j, v);
    });
    setPath(req, keyPath(st.key), st.dtype === 'float64' ? new NdArray('<f8', [vals.length], Float64Array.from(vals)) : NdArray.f32([vals.length], vals));
  }
  if (m.observation.prompt !== undefined) setPath(req, keyPath(m.observation.prompt.key), obs.task);
  return req;
}

export interface JointRange {
  min: number;
  max: number;
}

/**
 * A reply's actions → `horizon` rows in `action.joints` order, absolute robot units. Delta columns
 * are added to `observed` (the state sent with the request). With `limits`, a value more than a
 * quarter of the joint's range outside it is refused (a broken server, not a policy near a limit).
 */
export function decodeActions(m: RemoteManifest, reply: WireValue, observed: Readonly<Record<string, number>>, limits?: Readonly<Record<string, JointRange>>): number[][] {
  if (!isWireMap(reply)) {
    throw new RemoteActionError(`the reply is not a map (got ${Array.isArray(reply) ? 'an array' : reply === null ? 'nil' : typeof reply})`);
  }
  const a = reply[m.action.key];
  if (!(a instanceof NdArray)) throw new RemoteActionError(`the reply has no "${m.action.key}" array (keys: ${Object.keys(reply).join(', ') || 'none'})`);
  const D = m.action.joints.length;
  if (a.shape.length !== 2) throw new RemoteActionError(`"${m.action.key}" has shape [${a.shape.join(', ')}]; expected [H, ${D}]`);
  const [rows, cols] = a.shape as [number, number];
  if (cols !== D) throw new RemoteActionError(`"${m.action.key}" has ${cols} columns; the manifest names ${D} joints (${m.action.joints.join(', ')})`);
  if (rows < m.action.horizon) throw new RemoteActionError(`"${m.action.key}" has ${rows} rows; the manifest executes ${m.action.horizon} per chunk (action.horizon)`);
  const vals = a.toNumbers();
  const delta = m.action.joints.map((_, d) => (Array.isArray(m.action.delta) ? m.action.delta[d] === true : m.action.delta));
  const base = m.action.joints.map((j, d) => {
    if (!delta[d]) return 0;
    const v = observed[j];
    if (v === undefined || !Number.isFinite(v)) throw new RemoteActionError(`delta joint "${j}" has no observed position`);
    return v;
  });
  const out: number[][] = [];
  for (let t = 0; t < m.action.horizon; t++) {
    const row: number[] = [];
    for (let d = 0; d < D; d++) {
      const j = m.action.joints[d]!;
      const raw = vals[t * cols + d]!;
      if (!Number.isFinite(raw)) throw new RemoteActionError(`"${m.action.key}"[${t}][${d}] (${j}) is ${raw}`);
      const v = base[d]! + fromServerUnits(m, j, raw, delta[d]!);
      const lim = limits?.[j];
      if (lim !== undefined) {
        const slack = (lim.max - lim.min) / 4;
        if (v < lim.min - slack || v > lim.max + slack) throw new RemoteActionError(`"${m.action.key}"[${t}][${d}] puts ${j} at ${v.toFixed(1)}, far outside its range ${lim.min}..${lim.max}`);
      }
      row.push(v);
    }
    out.push(row);
  }
  return out;
}
