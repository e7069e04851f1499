/**
 * What the headless host checks before it serves anything: the Host header against an allow-list
 * (DNS rebinding), the Origin against the same list (not against Host, which the attacker
 * chooses), the token, and the paths of the files it serves (real paths inside their root, no
 * `..`, no separators hidden in a segment). Pure except `resolveServedFile`, which reads the disk.
 */
import { realpath, stat } from 'node:fs/promises';
import { networkInterfaces, hostname as osHostname } from 'node:os';
import { join, sep } from 'node:path';
import { timingSafeEqual } from 'node:crypto';

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]' || host === '';
}

/** Lower-case, IPv6 without brackets, no trailing dot: how names are compared. */
export function normalizeHostname(h: string): string {
  let s = h.trim().toLowerCase();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (s.endsWith('.')) s = s.slice(0, -1);
  return s;
}

export interface AllowListInput {
  /** The address the server is bound to (--host). */
  bound: string;
  /** Extra names the operator allowed (--allow-host). */
  extra?: readonly string[];
  /** For a wildcard bind: this machine's addresses and name (default: read from the OS). */
  machine?: () => string[];
}

function machineNames(): string[] {
  const out = [osHostname()];
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.push(a.address);
  return out;
}

/**
 * Host names a browser may use to reach the console: the bound address, the loopback names, the
 * names given with --allow-host, and, when bound to every interface (0.0.0.0 / ::), the machine's
 * own addresses and host name.
 */
export function hostAllowList(o: AllowListInput): Set<string> {
  const s = new Set(['localhost', '127.0.0.1', '::1'].map(normalizeHostname));
  s.add(normalizeHostname(o.bound));
  if (isWildcard(o.bound)) for (const n of (o.machine ?? machineNames)()) s.add(normalizeHostname(n));
  for (const n of o.extra ?? []) s.add(normalizeHostname(n));
  return s;
}

/** Splits a Host header value into name and port; undefined when it is not a plausible host[:port]. */
export function parseHostHeader(v: string): { name: string; port?: number } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?$/.exec(v);
  if (!m) return undefined;
  return { name: normalizeHostname(m[1]!), ...(m[2] !== undefined ? { port: Number(m[2]) } : {}) };
}

/** The Host header must name an allowed host and the port we listen on (80 when it names none). */
export function hostHeaderOk(value: string | undefined, allowed: ReadonlySet<string>, port: number): boolean {
  if (typeof value !== 'string') return false;
  const h = parseHostHeader(value);
  if (!h || !allowed.has(h.name)) return false;
  return (h.port ?? 80) === port;
}

/**
 * A browser's Origin must be http://<allowed host>:<our port>. No Origin (a non-browser client:
 * curl, a script) passes: such a client needs the token on a non-loopback address anyway.
 */
export function originOk(origin: string | undefined, allowed: ReadonlySet<string>, port: number): boolean {
  if (origin === undefined) return true;
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return false; // includes "null" (sandboxed frames, file: pages)
  }
  if (u.protocol !== 'http:' || u.username || u.password) return false;
  if (!allowed.has(normalizeHostname(u.hostname))) return false;
  return Number(u.port || 80) === port;
}

export function tokenOk(expected: string | undefined, given: string | null | undefined): boolean {
  if (!expected) return true;
  if (typeof given !== 'string' || given === '') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Decodes the segments of a URL path below a route. Refuses (undefined) a malformed escape, an
 * empty, `.` or `..` segment, and a segment that decodes to a separator or a NUL.
 */
export function decodeSegments(raw: readonly string[]): string[] | undefined {
  const out: string[] = [];
  for (const r of raw) {
    let s: string;
    try {
      s = decodeURIComponent(r);
    } catch {
      return undefined;
    }
    if (s === '' || s === '.' || s === '..' || /[/\\\0]/.test(s)) return undefined;
    out.push(s);
  }
  return out;
}

/**
 * The real path of `root/segments...`, when it is a regular file whose real path lies inside the
 * real path of root (a symlink that leads out of the folder is refused); undefined otherwise.
 */
export async function resolveServedFile(root: string, segments: readonly string[]): Promise<{ path: string; size: number } | undefined> {
  let realRoot: string;
  let real: string;
  try {
    realRoot = await realpath(root);
    real = await realpath(join(realRoot, ...segments));
  } catch {
    return undefined;
  }
  if (!real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep)) return undefined;
  try {
    const st = await stat(real);
    return st.isFile() ? { path: real, size: st.size } : undefined;
  } catch {
    return undefined;
  }
}
