/**
 * Software rasteriser for the simulated cameras: flat Lambert-shaded triangles with a z-buffer,
 * planar shadows on the table, RGB24 out. Deterministic (same world state and size -> same bytes)
 * and allocation-light: a SimRenderer keeps its buffers between frames.
 *
 * Cameras: 'front' is fixed across the table from the arm, looking back at the workspace from above
 * (so the arm's left, +y, is the image's right); 'wrist' rides on the gripper beside the jaws,
 * looking along them.
 */
import {
  SO101_GEOMETRY,
  add,
  addScaled,
  cross,
  dot,
  normalize,
  scale,
  sub,
  type ArmPose,
  type Vec3,
} from './kinematics';
import type { Block, BlockColor, SimWorld } from './world';

export type SimCameraKey = 'front' | 'wrist';

export interface CameraModel {
  position: Vec3;
  /** Viewing direction (need not be unit length). */
  forward: Vec3;
  /** Rough up vector for the image. */
  up: Vec3;
  fovYDeg: number;
  near: number;
}

export const FRONT_CAMERA: CameraModel = {
  position: [0.46, 0, 0.36],
  forward: sub([0.08, 0, 0.05], [0.46, 0, 0.36]),
  up: [0, 0, 1],
  fovYDeg: 56,
  near: 0.02,
};

/** Wrist camera: on the palm, offset off the jaws' plane, looking along the jaws towards their tips. */
export function wristCameraModel(pose: ArmPose): CameraModel {
  const g = pose.gripper;
  const position = addScaled(addScaled(g.origin, g.z, 0.025), g.y, 0.042);
  const lookAt = addScaled(pose.tip, g.z, 0.07);
  return { position, forward: sub(lookAt, position), up: g.y, fovYDeg: 72, near: 0.008 };
}

export function cameraModelFor(world: SimWorld, key: SimCameraKey): CameraModel {
  return key === 'wrist' ? wristCameraModel(world.armPose()) : FRONT_CAMERA;
}

/** Pixel coordinates (x right, y down; pixel centres at +0.5) of a world point, or null when behind the camera. */
export function projectPoint(cam: CameraModel, p: Vec3, width: number, height: number): [number, number] | null {
  const f = normalize(cam.forward);
  const r = normalize(cross(f, cam.up));
  const u = cross(r, f);
  const d = sub(p, cam.position);
  const z = dot(d, f);
  if (z < cam.near) return null;
  const focal = height / 2 / Math.tan((cam.fovYDeg * Math.PI) / 360);
  return [width / 2 + (dot(d, r) / z) * focal, height / 2 - (dot(d, u) / z) * focal];
}

/** Projects a world point into the front camera image of the given size. */
export function projectToFront(p: Vec3, width: number, height: number): [number, number] | null {
  return projectPoint(FRONT_CAMERA, p, width, height);
}

export interface VisibleObject {
  name: string;
  /** [x0, y0, x1, y1] in pixels, clipped to the image, integers. */
  box: [number, number, number, number];
}

/** Boxes of the blocks and the bowl in the front camera (objects outside the image are left out). */
export function visibleObjects(world: SimWorld, width: number, height: number, cam: CameraModel = FRONT_CAMERA): VisibleObject[] {
  const out: VisibleObject[] = [];
  const boxOf = (pts: Vec3[]): VisibleObject['box'] | undefined => {
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (const p of pts) {
      const q = projectPoint(cam, p, width, height);
      if (!q) return undefined;
      x0 = Math.min(x0, q[0]);
      y0 = Math.min(y0, q[1]);
      x1 = Math.max(x1, q[0]);
      y1 = Math.max(y1, q[1]);
    }
    const bx0 = Math.max(0, Math.floor(x0));
    const by0 = Math.max(0, Math.floor(y0));
    const bx1 = Math.min(width - 1, Math.ceil(x1));
    const by1 = Math.min(height - 1, Math.ceil(y1));
    if (bx0 > bx1 || by0 > by1) return undefined;
    return [bx0, by0, bx1, by1];
  };
  for (const b of world.blocks) {
    const box = boxOf(blockCorners(b));
    if (box) out.push({ name: b.name, box });
  }
  const bw = world.bowl;
  const ring: Vec3[] = [];
  for (let i = 0; i < 16; i++) {
    const a = (i / 16) * Math.PI * 2;
    for (const z of [0, bw.height]) ring.push([bw.pos[0] + bw.outerRadius * Math.cos(a), bw.pos[1] + bw.outerRadius * Math.sin(a), z]);
  }
  const box = boxOf(ring);
  if (box) out.push({ name: 'bowl', box });
  return out;
}

function blockCorners(b: Block): Vec3[] {
  const h = b.size / 2;
  const yaw = (b.yawDeg * Math.PI) / 180;
  const ex: Vec3 = [Math.cos(yaw), Math.sin(yaw), 0];
  const ey: Vec3 = [-Math.sin(yaw), Math.cos(yaw), 0];
  const pts: Vec3[] = [];
  for (const sx of [-1, 1]) for (const sy of [-1, 1]) for (const sz of [-1, 1]) pts.push(add(addScaled(addScaled(b.pos, ex, sx * h), ey, sy * h), [0, 0, sz * h]));
  return pts;
}

// ---------------------------------------------------------------------------------------------
// Scene

type RGB = [number, number, number];

export const BLOCK_RGB: Record<BlockColor, RGB> = {
  red: [0.86, 0.14, 0.12],
  green: [0.16, 0.66, 0.22],
  blue: [0.14, 0.3, 0.88],
  yellow: [0.96, 0.84, 0.12],
  purple: [0.56, 0.22, 0.72],
  orange: [0.98, 0.52, 0.1],
};
const TABLE_RGB: RGB = [0.74, 0.62, 0.47];
const GRID_RGB: RGB = [0.68, 0.56, 0.42];
const FLOOR_RGB: RGB = [0.3, 0.31, 0.33];
const BACKGROUND_RGB: RGB = [0.62, 0.66, 0.7];
const BOWL_RGB: RGB = [0.9, 0.9, 0.92];
const ARM_RGB: RGB = [0.93, 0.93, 0.9];
const MOTOR_RGB: RGB = [0.14, 0.14, 0.15];
const SHADOW_RGB: RGB = [TABLE_RGB[0] * 0.62, TABLE_RGB[1] * 0.62, TABLE_RGB[2] * 0.64];
/** Direction the light travels (from above, a little from the front-left). */
const LIGHT: Vec3 = normalize([-0.3, -0.2, -1]);
const AMBIENT = 0.5;
const DIFFUSE = 0.5;
const TABLE = { x0: -0.22, x1: 0.5, y0: -0.45, y1: 0.45, thickness: 0.03 };
const FLOOR_Z = -0.75;
const SHADOW_Z = 0.0007;
const GRID_Z = 0.0003;

const STRIDE = 13; // a(3) b(3) c(3) normal(3) packed colour r | g << 8 | b << 16

function packRgb(r: number, g: number, b: number): number {
  const q = (v: number): number => Math.max(0, Math.min(255, Math.round(v * 255)));
  return q(r) | (q(g) << 8) | (q(b) << 16);
}

/** A growable list of flat-coloured triangles with outward normals. */
export class TriangleList {
  data = new Float64Array(STRIDE * 1024);
  count = 0;

  clear(): void {
    this.count = 0;
  }

  push(a: Vec3, b: Vec3, c: Vec3, n: Vec3, rgb: RGB, shade = true): void {
    this.ensure();
    const d = this.data;
    let o = this.count * STRIDE;
    d[o++] = a[0]; d[o++] = a[1]; d[o++] = a[2];
    d[o++] = b[0]; d[o++] = b[1]; d[o++] = b[2];
    d[o++] = c[0]; d[o++] = c[1]; d[o++] = c[2];
    d[o++] = n[0]; d[o++] = n[1]; d[o++] = n[2];
    const k = shade ? AMBIENT + DIFFUSE * Math.max(0, -dot(n, LIGHT)) : 1;
    d[o] = packRgb(rgb[0] * k, rgb[1] * k, rgb[2] * k);
    this.count++;
  }

  private ensure(): void {
    if ((this.count + 1) * STRIDE > this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
  }

  quad(a: Vec3, b: Vec3, c: Vec3, d: Vec3, n: Vec3, rgb: RGB, shade = true): void {
    this.push(a, b, c, n, rgb, shade);
    this.push(a, c, d, n, rgb, shade);
  }
}

/** Collects shadow casters; their light-facing faces are flattened onto the table. */
class SceneBuilder {
  constructor(readonly tris: TriangleList, readonly shadows: TriangleList) {}

  box(center: Vec3, ex: Vec3, ey: Vec3, ez: Vec3, hx: number, hy: number, hz: number, rgb: RGB, castShadow = true): void {
    const axes: [Vec3, number][] = [[ex, hx], [ey, hy], [ez, hz]];
    for (let k = 0; k < 3; k++) {
      const [n0, h0] = axes[k]!;
      const [a1, h1] = axes[(k + 1) % 3]!;
      const [a2, h2] = axes[(k + 2) % 3]!;
      for (const s of [-1, 1]) {
        const n = scale(n0, s);
        const fc = addScaled(center, n0, s * h0);
        const p = (u: number, v: number): Vec3 => addScaled(addScaled(fc, a1, u * h1), a2, v * h2);
        const q: [Vec3, Vec3, Vec3, Vec3] = [p(-1, -1), p(1, -1), p(1, 1), p(-1, 1)];
        this.tris.quad(q[0], q[1], q[2], q[3], n, rgb);
        if (castShadow && -dot(n, LIGHT) > 0) this.shadowQuad(q);
      }
    }
  }

  /** Box spanning p0 -> p1 with cross-section w (along side) x d. */
  link(p0: Vec3, p1: Vec3, side: Vec3, w: number, d: number, rgb: RGB, extend = 0): void {
    const ez = normalize(sub(p1, p0));
    const ex = normalize(sub(side, scale(ez, dot(side, ez))));
    const ey = cross(ez, ex);
    const len = Math.hypot(p1[0] - p0[0], p1[1] - p0[1], p1[2] - p0[2]);
    const c = scale(add(p0, p1), 0.5);
    this.box(c, ex, ey, ez, w / 2, d / 2, len / 2 + extend, rgb);
  }

  cylinder(base: Vec3, radius: number, height: number, rgb: RGB, segments = 20, castShadow = true): void {
    const top = base[2] + height;
    for (let i = 0; i < segments; i++) {
      const a0 = (i / segments) * Math.PI * 2;
      const a1 = ((i + 1) / segments) * Math.PI * 2;
      const am = (a0 + a1) / 2;
      const p0: Vec3 = [base[0] + radius * Math.cos(a0), base[1] + radius * Math.sin(a0), base[2]];
      const p1: Vec3 = [base[0] + radius * Math.cos(a1), base[1] + radius * Math.sin(a1), base[2]];
      const q0: Vec3 = [p0[0], p0[1], top];
      const q1: Vec3 = [p1[0], p1[1], top];
      const n: Vec3 = [Math.cos(am), Math.sin(am), 0];
      this.tris.quad(p0, p1, q1, q0, n, rgb);
      this.tris.push([base[0], base[1], top], q0, q1, [0, 0, 1], rgb);
      if (castShadow && -dot(n, LIGHT) > 0) this.shadowQuad([p0, p1, q1, q0]);
      if (castShadow) this.shadowTri([base[0], base[1], top], q0, q1);
    }
  }

  bowl(pos: Vec3, outer: number, inner: number, height: number, floor: number, segments = 24): void {
    for (let i = 0; i < segments; i++) {
      const a0 = (i / segments) * Math.PI * 2;
      const a1 = ((i + 1) / segments) * Math.PI * 2;
      const am = (a0 + a1) / 2;
      const c0 = Math.cos(a0), s0 = Math.sin(a0), c1 = Math.cos(a1), s1 = Math.sin(a1);
      const at = (r: number, c: number, s: number, z: number): Vec3 => [pos[0] + r * c, pos[1] + r * s, pos[2] + z];
      const nOut: Vec3 = [Math.cos(am), Math.sin(am), 0];
      const nIn: Vec3 = [-nOut[0], -nOut[1], 0];
      // outer wall, inner wall, rim, floor
      const ow: [Vec3, Vec3, Vec3, Vec3] = [at(outer, c0, s0, 0), at(outer, c1, s1, 0), at(outer, c1, s1, height), at(outer, c0, s0, height)];
      this.tris.quad(ow[0], ow[1], ow[2], ow[3], nOut, BOWL_RGB);
      if (-dot(nOut, LIGHT) > 0) this.shadowQuad(ow);
      this.tris.quad(at(inner, c0, s0, floor), at(inner, c1, s1, floor), at(inner, c1, s1, height), at(inner, c0, s0, height), nIn, BOWL_RGB);
      this.tris.quad(at(inner, c0, s0, height), at(inner, c1, s1, height), at(outer, c1, s1, height), at(outer, c0, s0, height), [0, 0, 1], BOWL_RGB);
      this.tris.push(at(0, 1, 0, floor), at(inner, c0, s0, floor), at(inner, c1, s1, floor), [0, 0, 1], [BOWL_RGB[0] * 0.93, BOWL_RGB[1] * 0.93, BOWL_RGB[2] * 0.95]);
    }
  }

  private flatten(p: Vec3): Vec3 {
    const t = (p[2] - SHADOW_Z) / -LIGHT[2];
    return [p[0] + LIGHT[0] * t, p[1] + LIGHT[1] * t, SHADOW_Z];
  }

  private shadowTri(a: Vec3, b: Vec3, c: Vec3): void {
    if (a[2] < SHADOW_Z && b[2] < SHADOW_Z && c[2] < SHADOW_Z) return;
    this.shadows.push(this.flatten(a), this.flatten(b), this.flatten(c), [0, 0, 1], SHADOW_RGB, false);
  }

  private shadowQuad(q: [Vec3, Vec3, Vec3, Vec3]): void {
    this.shadowTri(q[0], q[1], q[2]);
    this.shadowTri(q[0], q[2], q[3]);
  }
}

/** The parts that don't move after a reset: floor, table, grid, bowl. */
export function buildStaticScene(world: SimWorld, tris: TriangleList, shadows: TriangleList): void {
  tris.clear();
  shadows.clear();
  const sb = new SceneBuilder(tris, shadows);
  const up: Vec3 = [0, 0, 1];
  // floor, table top and sides, a faint 10 cm grid
  const T = TABLE;
  // the floor around the table only (under it, it would be hidden but still cost a full-screen fill)
  const F = 3;
  const floor = (x0: number, y0: number, x1: number, y1: number): void =>
    tris.quad([x0, y0, FLOOR_Z], [x1, y0, FLOOR_Z], [x1, y1, FLOOR_Z], [x0, y1, FLOOR_Z], up, FLOOR_RGB);
  floor(-F, -F, F, T.y0);
  floor(-F, T.y1, F, F);
  floor(-F, T.y0, T.x0, T.y1);
  floor(T.x1, T.y0, F, T.y1);
  sb.box([(T.x0 + T.x1) / 2, (T.y0 + T.y1) / 2, -T.thickness / 2], [1, 0, 0], [0, 1, 0], [0, 0, 1], (T.x1 - T.x0) / 2, (T.y1 - T.y0) / 2, T.thickness / 2, TABLE_RGB, false);
  const lw = 0.0012;
  for (let x = -0.2; x <= T.x1 - 0.01; x += 0.1) tris.quad([x - lw, T.y0, GRID_Z], [x + lw, T.y0, GRID_Z], [x + lw, T.y1, GRID_Z], [x - lw, T.y1, GRID_Z], up, GRID_RGB);
  for (let y = -0.4; y <= 0.41; y += 0.1) tris.quad([T.x0, y - lw, GRID_Z], [T.x1, y - lw, GRID_Z], [T.x1, y + lw, GRID_Z], [T.x0, y + lw, GRID_Z], up, GRID_RGB);

  // bowl
  const bw = world.bowl;
  sb.bowl(bw.pos, bw.outerRadius, bw.innerRadius, bw.height, bw.floor);
}

/** Blocks and the arm. */
export function buildDynamicScene(world: SimWorld, tris: TriangleList, shadows: TriangleList): void {
  tris.clear();
  shadows.clear();
  const sb = new SceneBuilder(tris, shadows);
  const up: Vec3 = [0, 0, 1];
  for (const b of world.blocks) {
    const yaw = (b.yawDeg * Math.PI) / 180;
    const h = b.size / 2;
    sb.box(b.pos, [Math.cos(yaw), Math.sin(yaw), 0], [-Math.sin(yaw), Math.cos(yaw), 0], up, h, h, h, BLOCK_RGB[b.color]);
  }

  // the arm
  const pose = world.armPose();
  const G = SO101_GEOMETRY;
  sb.cylinder([0, 0, 0], 0.05, 0.03, MOTOR_RGB);
  const bu = pose.base.x;
  const bv = pose.base.y;
  sb.box([0, 0, 0.045], bu, bv, up, 0.03, 0.025, 0.015, ARM_RGB);
  sb.box(addScaled([0, 0, 0.085], bu, -0.005), bu, bv, up, 0.02, 0.03, 0.025, MOTOR_RGB); // shoulder motor
  sb.link(pose.shoulder.origin, pose.elbow.origin, pose.shoulder.x, 0.032, 0.026, ARM_RGB, 0.012);
  sb.box(pose.elbow.origin, pose.elbow.x, pose.elbow.y, pose.elbow.z, 0.022, 0.017, 0.017, MOTOR_RGB);
  sb.link(pose.elbow.origin, pose.wrist.origin, pose.elbow.x, 0.03, 0.024, ARM_RGB, 0.008);
  const g = pose.gripper;
  sb.box(g.origin, pose.wrist.x, pose.wrist.y, pose.wrist.z, 0.02, 0.016, 0.016, MOTOR_RGB); // wrist motor
  const palmEnd = addScaled(g.origin, g.z, G.gripperLength - G.fingerLength);
  sb.link(addScaled(g.origin, g.z, 0.012), palmEnd, g.x, 0.05, 0.03, ARM_RGB);
  for (const side of [-1, 1]) {
    const off = side * (pose.gap / 2 + 0.004);
    const f0 = addScaled(palmEnd, g.x, off);
    const f1 = addScaled(pose.tip, g.x, off);
    sb.link(f0, f1, g.x, 0.008, 0.02, side < 0 ? MOTOR_RGB : ARM_RGB);
  }
}

// ---------------------------------------------------------------------------------------------
// Rasteriser

export class SimRenderer {
  readonly width: number;
  readonly height: number;
  private readonly depth: Float32Array;
  private readonly color: Uint32Array;
  private readonly staticTris = new TriangleList();
  private readonly staticShadows = new TriangleList();
  private readonly tris = new TriangleList();
  private readonly shadows = new TriangleList();
  /** The static part of the scene (table, bowl) is built once per layout (keyed by the bowl object, new on each reset). */
  private staticKey: unknown;
  /** For a fixed camera, the static part is also rasterised once and copied in (colour and depth). */
  private layer: { key: unknown; cam: CameraModel; color: Uint32Array; depth: Float32Array } | undefined;
  // scratch for near-plane clipping (camera-space polygons, up to 4 vertices)
  private readonly poly = new Float64Array(12);
  private readonly clipped = new Float64Array(15);

  constructor(width: number, height: number) {
    if (!(width >= 1 && height >= 1 && Number.isInteger(width) && Number.isInteger(height))) throw new Error(`SimRenderer: bad size ${width}x${height}`);
    this.width = width;
    this.height = height;
    this.depth = new Float32Array(width * height);
    this.color = new Uint32Array(width * height);
  }

  /** Renders the world from the camera into out (width * height * 3 bytes, RGB), allocating when omitted. */
  render(world: SimWorld, key: SimCameraKey | CameraModel, out?: Uint8Array): Uint8Array {
    const cam = typeof key === 'string' ? cameraModelFor(world, key) : key;
    const n = this.width * this.height;
    const rgb = out ?? new Uint8Array(n * 3);
    if (rgb.length !== n * 3) throw new Error(`SimRenderer: buffer has ${rgb.length} bytes, need ${n * 3}`);
    if (this.staticKey !== world.bowl) {
      buildStaticScene(world, this.staticTris, this.staticShadows);
      this.staticKey = world.bowl;
    }
    buildDynamicScene(world, this.tris, this.shadows);
    const color = this.color;
    const fixed = cam === FRONT_CAMERA;
    const layer = this.layer;
    if (fixed && layer && layer.key === world.bowl && layer.cam === cam) {
      color.set(layer.color);
      this.depth.set(layer.depth);
    } else {
      color.fill(packRgb(BACKGROUND_RGB[0], BACKGROUND_RGB[1], BACKGROUND_RGB[2]));
      this.depth.fill(0);
      this.drawList(this.staticTris, cam);
      this.drawList(this.staticShadows, cam);
      if (fixed) this.layer = { key: world.bowl, cam, color: color.slice(), depth: this.depth.slice() };
    }
    this.drawList(this.tris, cam);
    this.drawList(this.shadows, cam);
    for (let i = 0, o = 0; i < n; i++, o += 3) {
      const c = color[i]!;
      rgb[o] = c & 255;
      rgb[o + 1] = (c >>> 8) & 255;
      rgb[o + 2] = (c >>> 16) & 255;
    }
    return rgb;
  }

  private drawList(list: TriangleList, cam: CameraModel): void {
    const f = normalize(cam.forward);
    const r = normalize(cross(f, cam.up));
    const u = cross(r, f);
    const [px, py, pz] = cam.position;
    const near = cam.near;
    const focal = this.height / 2 / Math.tan((cam.fovYDeg * Math.PI) / 360);
    const d = list.data;
    const poly = this.poly;
    const clipped = this.clipped;
    for (let t = 0; t < list.count; t++) {
      const o = t * STRIDE;
      // back-face cull: the camera must be on the outer side of the face
      const nx = d[o + 9]!, ny = d[o + 10]!, nz = d[o + 11]!;
      if ((px - d[o]!) * nx + (py - d[o + 1]!) * ny + (pz - d[o + 2]!) * nz <= 0) continue;
      // to camera space
      let behind = 0;
      for (let k = 0; k < 3; k++) {
        const wx = d[o + k * 3]! - px, wy = d[o + k * 3 + 1]! - py, wz = d[o + k * 3 + 2]! - pz;
        const cz = wx * f[0] + wy * f[1] + wz * f[2];
        poly[k * 3] = wx * r[0] + wy * r[1] + wz * r[2];
        poly[k * 3 + 1] = wx * u[0] + wy * u[1] + wz * u[2];
        poly[k * 3 + 2] = cz;
        if (cz < near) behind++;
      }
      if (behind === 3) continue;
      const col = d[o + 12]!;
      let m = 3;
      let src: Float64Array = poly;
      if (behind > 0) {
        // clip the triangle against the near plane (Sutherland-Hodgman)
        m = 0;
        for (let k = 0; k < 3; k++) {
          const a = k * 3, b = ((k + 1) % 3) * 3;
          const za = poly[a + 2]!, zb = poly[b + 2]!;
          if (za >= near) {
            clipped[m * 3] = poly[a]!; clipped[m * 3 + 1] = poly[a + 1]!; clipped[m * 3 + 2] = za;
            m++;
          }
          if ((za >= near) !== (zb >= near)) {
            const s = (near - za) / (zb - za);
            clipped[m * 3] = poly[a]! + (poly[b]! - poly[a]!) * s;
            clipped[m * 3 + 1] = poly[a + 1]! + (poly[b + 1]! - poly[a + 1]!) * s;
            clipped[m * 3 + 2] = near;
            m++;
          }
        }
        src = clipped;
      }
      // project, then fan
      for (let k = 0; k < m; k++) {
        const z = src[k * 3 + 2]!;
        src[k * 3] = this.width / 2 + (src[k * 3]! / z) * focal;
        src[k * 3 + 1] = this.height / 2 - (src[k * 3 + 1]! / z) * focal;
        src[k * 3 + 2] = 1 / z;
      }
      for (let k = 1; k + 1 < m; k++) {
        this.raster(src[0]!, src[1]!, src[2]!, src[k * 3]!, src[k * 3 + 1]!, src[k * 3 + 2]!, src[k * 3 + 3]!, src[k * 3 + 4]!, src[k * 3 + 5]!, col);
      }
    }
  }

  /** Fills a screen-space triangle (depth = 1/z, larger is nearer) sampling pixel centres. */
  private raster(x0: number, y0: number, w0: number, x1: number, y1: number, w1: number, x2: number, y2: number, w2: number, col: number): void {
    let area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0);
    if (area === 0 || !Number.isFinite(area)) return;
    if (area < 0) {
      // make it counter-clockwise in this formula's sense
      let tx = x1; x1 = x2; x2 = tx;
      tx = y1; y1 = y2; y2 = tx;
      tx = w1; w1 = w2; w2 = tx;
      area = -area;
    }
    const W = this.width;
    const H = this.height;
    const minX = Math.max(0, Math.floor(Math.min(x0, x1, x2)));
    const maxX = Math.min(W - 1, Math.ceil(Math.max(x0, x1, x2)));
    const minY = Math.max(0, Math.floor(Math.min(y0, y1, y2)));
    const maxY = Math.min(H - 1, Math.ceil(Math.max(y0, y1, y2)));
    if (minX > maxX || minY > maxY) return;
    const inv = 1 / area;
    // edge functions e_i(x, y) = A_i * x + B_i * y + C_i, positive inside
    const A0 = (y1 - y2), B0 = (x2 - x1), C0 = x1 * y2 - x2 * y1;
    const A1 = (y2 - y0), B1 = (x0 - x2), C1 = x2 * y0 - x0 * y2;
    const A2 = (y0 - y1), B2 = (x1 - x0), C2 = x0 * y1 - x1 * y0;
    const depth = this.depth;
    const color = this.color;
    const dA = (A0 * w0 + A1 * w1 + A2 * w2) * inv;
    const dB = (B0 * w0 + B1 * w1 + B2 * w2) * inv;
    const dC = (C0 * w0 + C1 * w1 + C2 * w2) * inv;
    for (let y = minY; y <= maxY; y++) {
      const sy = y + 0.5;
      // the span of pixel centres x + 0.5 where all three edge functions are >= 0
      let lo = minX;
      let hi = maxX;
      const r0 = B0 * sy + C0, r1 = B1 * sy + C1, r2 = B2 * sy + C2;
      if (A0 > 0) lo = Math.max(lo, Math.ceil(-r0 / A0 - 0.5)); else if (A0 < 0) hi = Math.min(hi, Math.floor(-r0 / A0 - 0.5)); else if (r0 < 0) continue;
      if (A1 > 0) lo = Math.max(lo, Math.ceil(-r1 / A1 - 0.5)); else if (A1 < 0) hi = Math.min(hi, Math.floor(-r1 / A1 - 0.5)); else if (r1 < 0) continue;
      if (A2 > 0) lo = Math.max(lo, Math.ceil(-r2 / A2 - 0.5)); else if (A2 < 0) hi = Math.min(hi, Math.floor(-r2 / A2 - 0.5)); else if (r2 < 0) continue;
      if (lo > hi) continue;
      let z = dA * (lo + 0.5) + dB * sy + dC;
      let idx = y * W + lo;
      for (let x = lo; x <= hi; x++, idx++) {
        if (z > depth[idx]!) {
          depth[idx] = z;
          color[idx] = col;
        }
        z += dA;
      }
    }
  }
}

/** One-off render (allocates a renderer; SimCamera keeps one instead). */
export function renderView(world: SimWorld, key: SimCameraKey, width: number, height: number): Uint8Array {
  return new SimRenderer(width, height).render(world, key);
}
