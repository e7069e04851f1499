/**
 * The remote-policy manifest: a folder in models/bundles/ whose manifest.json says where a policy
 * server is and how the console's observation and the server's actions map onto each other
 * (format "reins-remote"; documented in README "Remote policies"). Pure apart from
 * `validateRemoteBundle`, which reads the file. Every problem carries its JSON path, as for local
 * bundles; `checkServerMetadata` compares the manifest with what a server announces on connect.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { formatPath, type BundleProblem } from '../runtime/manifest';

const nonEmpty = z.string().min(1);
/** A key in the server's observation map; an array is a path into nested maps (["images", "cam_high"]). */
const WireKey = z.union([nonEmpty, z.array(nonEmpty).min(1)]);

export const RemoteImageSchema = z.object({
  /** The console's camera key ('front', 'wrist'). */
  camera: nonEmpty,
  key: WireKey,
  width: z.number().int().positive().max(4096),
  height: z.number().int().positive().max(4096),
  /** HWC (openpi's LIBERO / DROID examples) or CHW (its ALOHA example). */
  layout: z.enum(['HWC', 'CHW']).default('HWC'),
  /** uint8 0..255, or float32 0..1. */
  dtype: z.enum(['uint8', 'float32']).default('uint8'),
  /** Nearest-neighbour resize: per-axis stretch, or centre crop to the aspect ratio first. */
  resize: z.enum(['stretch', 'center_crop']).default('stretch'),
});

const RemoteStateSchema = z.object({
  key: WireKey,
  /** Robot joints, in the order the server expects them in this vector. */
  joints: z.array(nonEmpty).min(1),
  dtype: z.enum(['float32', 'float64']).default('float32'),
});

export const RemoteManifestSchema = z.object({
  format: z.literal('reins-remote'),
  version: z.literal(1),
  name: nonEmpty,
  description: z.string().optional(),
  server: z.object({
    /** ws://host:port (or wss://). Through an SSH tunnel: ws://127.0.0.1:<local port>. */
    url: z.string().regex(/^wss?:\/\/[^\s/]+/, 'must be a ws:// or wss:// URL'),
    protocol: z.literal('openpi-websocket'),
    /** Name of an environment variable holding an API key, sent as "Authorization: Api-Key <key>". */
    apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').optional(),
    connectTimeoutMs: z.number().int().positive().default(5000),
    /** One inference's round trip at most; past it the connection is dropped (replies carry no id). */
    requestTimeoutMs: z.number().int().positive().default(2000),
    /** Values the server's metadata must hold (compared as JSON on connect). */
    metadata: z.record(z.string(), z.unknown()).default({}),
  }),
  /** The server's units: robot angles are degrees, the gripper 0 (open) .. 100 (closed). */
  units: z.object({
    angles: z.enum(['degrees', 'radians']),
    /** The gripper joint and the server's values for open and closed (e.g. 0 and 1). */
    gripper: z.object({ joint: nonEmpty, open: z.number().finite(), closed: z.number().finite() }).optional(),
  }),
  observation: z.object({
    images: z.array(RemoteImageSchema).default([]),
    state: z.array(RemoteStateSchema).default([]),
    /** Where the task instruction goes (openpi: "prompt"). */
    prompt: z.object({ key: WireKey }).optional(),
  }),
  action: z.object({
    /** Key of the [H, D] array in the reply (openpi: "actions"). */
    key: nonEmpty.default('actions'),
    /** The robot joint of each action column, in the server's order. */
    joints: z.array(nonEmpty).min(1),
    /** Delta actions are offsets from the state observed when the request was sent; per joint or all. */
    delta: z.union([z.boolean(), z.array(z.boolean())]).default(false),
    /** Actions executed from each chunk (openpi's action_horizon); the server must return at least this many rows. */
    horizon: z.number().int().positive().max(1000),
  }),
});

export type RemoteManifest = z.infer<typeof RemoteManifestSchema>;
export type RemoteImage = z.infer<typeof RemoteImageSchema>;
export type WireKeyPath = z.infer<typeof WireKey>;

export function keyPath(k: WireKeyPath): string[] {
  return typeof k === 'string' ? [k] : k;
}

export interface RemoteValidateOptions {
  robotJoints?: readonly string[];
  /** The console's camera keys. */
  cameras?: readonly string[];
}

/** Schema plus cross-field rules, against the robot's joints and cameras when given. Pure. */
export function checkRemoteManifest(json: unknown, opts: RemoteValidateOptions = {}): { manifest?: RemoteManifest; problems: BundleProblem[] } {
  const parsed = RemoteManifestSchema.safeParse(json);
  if (!parsed.success) return { problems: parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })) };
  const m = parsed.data;
  const problems: BundleProblem[] = [];
  const add = (path: string, message: string): void => {
    problems.push({ path, message });
  };
  const robot = opts.robotJoints !== undefined ? new Set(opts.robotJoints) : undefined;
  const joint = (j: string, path: string): void => {
    if (robot !== undefined && !robot.has(j)) add(path, `joint "${j}" is not a joint of this robot (${[...robot].join(', ')})`);
  };
  const seen = new Map<string, string>();
  const key = (k: WireKeyPath, path: string): void => {
    const s = keyPath(k).join('\u0000');
    const prev = seen.get(s);
    if (prev !== undefined) add(path, `server key ${JSON.stringify(k)} is already used by ${prev}`);
    else seen.set(s, path);
  };
  m.observation.images.forEach((im, i) => {
    key(im.key, `observation.images[${i}].key`);
    if (opts.cameras !== undefined && !opts.cameras.includes(im.camera)) add(`observation.images[${i}].camera`, `no camera "${im.camera}" on this console (cameras: ${opts.cameras.join(', ') || 'none'})`);
  });
  m.observation.state.forEach((st, i) => {
    key(st.key, `observation.state[${i}].key`);
    st.joints.forEach((j, k) => joint(j, `observation.state[${i}].joints[${k}]`));
  });
  if (m.observation.prompt !== undefined) key(m.observation.prompt.key, 'observation.prompt.key');
  m.action.joints.forEach((j, k) => {
    joint(j, `action.joints[${k}]`);
    if (m.action.joints.indexOf(j) !== k) add(`action.joints[${k}]`, `joint "${j}" appears twice`);
  });
  const D = m.action.joints.length;
  if (Array.isArray(m.action.delta) && m.action.delta.length !== D) add('action.delta', `has ${m.action.delta.length} values for ${D} action joints`);
  const g = m.units.gripper;
  if (g !== undefined) {
    joint(g.joint, 'units.gripper.joint');
    if (g.open === g.closed) add('units.gripper.closed', 'must differ from open');
  }
  return { manifest: m, problems };
}

export function isRemoteManifestJson(json: unknown): boolean {
  return typeof json === 'object' && json !== null && (json as { format?: unknown }).format === 'reins-remote';
}

export interface RemoteReport {
  ok: boolean;
  dir: string;
  manifest?: RemoteManifest;
  problems: BundleProblem[];
}

/** Reads <dir>/manifest.json and checks it; also names an unset API-key variable. */
export function validateRemoteBundle(dir: string, opts: RemoteValidateOptions = {}, env: Record<string, string | undefined> = process.env): RemoteReport {
  const p = join(dir, 'manifest.json');
  if (!existsSync(p)) return { ok: false, dir, problems: [{ path: '(file)', message: `manifest.json not found in ${dir}` }] };
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    return { ok: false, dir, problems: [{ path: '(file)', message: `manifest.json is not valid JSON: ${(e as Error).message}` }] };
  }
  const r = checkRemoteManifest(json, opts);
  const v = r.manifest?.server.apiKeyEnv;
  if (v !== undefined && (env[v] ?? '') === '') r.problems.push({ path: 'server.apiKeyEnv', message: `environment variable ${v} is not set (export it before starting the console)` });
  return { ok: r.problems.length === 0, dir, manifest: r.manifest, problems: r.problems };
}

/**
 * The server's metadata against the manifest: every `server.metadata` entry must be equal (as JSON);
 * `action_dim` / `action_horizon`, when the server announces them, must fit `action`.
 */
export function checkServerMetadata(m: RemoteManifest, metadata: unknown): BundleProblem[] {
  const problems: BundleProblem[] = [];
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    return [{ path: 'server', message: `the server's metadata is not a map (got ${Array.isArray(metadata) ? 'an array' : typeof metadata}); is this an openpi policy server?` }];
  }
  const md = metadata as Record<string, unknown>;
  for (const [k, want] of Object.entries(m.server.metadata)) {
    if (!(k in md)) problems.push({ path: `server.metadata.${k}`, message: `the server's metadata has no "${k}" (it has: ${Object.keys(md).join(', ') || 'nothing'})` });
    else if (JSON.stringify(toJsonish(md[k])) !== JSON.stringify(want)) problems.push({ path: `server.metadata.${k}`, message: `expected ${JSON.stringify(want)}, the server says ${JSON.stringify(toJsonish(md[k]))}` });
  }
  const dim = md.action_dim;
  if (typeof dim === 'number' && dim !== m.action.joints.length) problems.push({ path: 'action.joints', message: `names ${m.action.joints.length} joints, the server's action_dim is ${dim}` });
  const h = md.action_horizon;
  if (typeof h === 'number' && h < m.action.horizon) problems.push({ path: 'action.horizon', message: `is ${m.action.horizon}, the server returns only ${h} actions per chunk (action_horizon)` });
  return problems;
}

function toJsonish(v: unknown): unknown {
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  if (typeof v === 'object' && v !== null && 'toNumbers' in v) return (v as { toNumbers(): number[] }).toNumbers();
  if (Array.isArray(v)) return v.map(toJsonish);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJsonish(x)]));
  return v;
}
