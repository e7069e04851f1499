/**
 * Finds the policies a session can run: every model bundle under a bundles folder, each validated
 * against the connected robot's joints (an invalid bundle is listed with every problem, so the
 * operator sees why it cannot start).
 *
 * Validating a bundle loads its ONNX graphs, which onnxruntime-node does synchronously on the
 * calling thread: done on the loop's thread for every `policy.list`, 20 concurrent calls dropped
 * a 30 Hz loop to 10.8 Hz (issue 12). So a BundleCatalog validates in a worker thread, once per
 * bundle change: its cache is keyed by the robot's joints and a fingerprint of the bundle folder
 * (name, size and mtime of every file below it); concurrent calls share one refresh.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { isRemoteManifestJson, validateRemoteBundle } from '../../models/remote/manifest';
import type { PolicyInfo } from '../common/contract';
import type { FromValidator, ValidateRequest, ValidateResult } from './bundleValidator.entry';

export type BundleInfo = PolicyInfo & { dir: string };
export type BundleValidator = (dir: string, robotJoints: string[]) => Promise<ValidateResult>;

const DEFAULT_WORKER_URL = new URL('./bundleValidator.bootstrap.mjs', import.meta.url);
/** Files looked at per bundle for its fingerprint; a bundle with more is fingerprinted by the first ones. */
const MAX_FINGERPRINT_FILES = 256;

/** name:size:mtime of every file under dir (depth 3), sorted: changes when any file of the bundle does. */
export async function bundleFingerprint(dir: string): Promise<string> {
  const parts: string[] = [];
  const walk = async (d: string, rel: string, depth: number): Promise<void> => {
    const names = (await readdir(d)).sort();
    for (const n of names) {
      if (parts.length >= MAX_FINGERPRINT_FILES) return;
      const p = join(d, n);
      const st = await stat(p);
      if (st.isDirectory()) {
        if (depth < 3) await walk(p, `${rel}${n}/`, depth + 1);
      } else parts.push(`${rel}${n}:${st.size}:${st.mtimeMs}`);
    }
  };
  await walk(dir, '', 0);
  return parts.join('|');
}

/** Validates bundles in one worker thread, one at a time. */
export class WorkerValidator {
  private worker: Worker | undefined;
  private ready: Promise<Worker> | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: ValidateResult) => void; reject: (e: Error) => void }>();
  constructor(private readonly url: URL | string = DEFAULT_WORKER_URL) {}

  private start(): Promise<Worker> {
    if (this.ready) return this.ready;
    this.ready = new Promise<Worker>((resolve, reject) => {
      const w = new Worker(this.url, { execArgv: [], env: process.env, stdout: false, stderr: false });
      let online = false;
      w.on('message', (m: FromValidator) => {
        if (m.type === 'ready') {
          online = true;
          this.worker = w;
          resolve(w);
          return;
        }
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (this.pending.size === 0) w.unref();
        if (m.type === 'result') p.resolve(m.result);
        else p.reject(new Error(m.message));
      });
      const fail = (e: Error) => {
        if (!online) reject(e);
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
        this.worker = undefined;
        this.ready = undefined; // the next call starts a new worker
      };
      w.on('error', (e) => fail(e instanceof Error ? e : new Error(String(e))));
      w.on('exit', (code) => fail(new Error(`the bundle validator stopped (code ${code})`)));
    });
    return this.ready;
  }

  readonly validate: BundleValidator = async (dir, robotJoints) => {
    const w = await this.start();
    const id = this.nextId++;
    return new Promise<ValidateResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.ref(); // keep the process alive while an answer is awaited; unref'd again when idle
      w.postMessage({ id, dir, robotJoints } satisfies ValidateRequest);
    });
  };

  async dispose(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    if (w) await w.terminate();
  }
}

interface CacheEntry {
  key: string;
  info: BundleInfo;
}

export class BundleCatalog {
  private readonly cache = new Map<string, CacheEntry>();
  private inFlight: { joints: string; promise: Promise<BundleInfo[]> } | undefined;
  private readonly validator: WorkerValidator | undefined;
  private readonly validate: BundleValidator;
  /** How many bundle validations ran (tests, the bench). */
  validations = 0;

  constructor(
    private readonly bundlesDir: string,
    opts: { workerUrl?: URL | string; validate?: BundleValidator } = {},
  ) {
    if (opts.validate) this.validate = opts.validate;
    else {
      this.validator = new WorkerValidator(opts.workerUrl);
      this.validate = this.validator.validate;
    }
  }

  /**
   * Every bundle, validated against these joints (and, for a remote policy's image mapping, the
   * console's camera keys); cached until a bundle's files change.
   */
  list(robotJoints: readonly string[], cameras: readonly string[] = []): Promise<BundleInfo[]> {
    const joints = `${robotJoints.join('\u0000')}\u0001${cameras.join('\u0000')}`;
    if (this.inFlight?.joints === joints) return this.inFlight.promise;
    const promise = this.refresh([...robotJoints], [...cameras], joints).finally(() => {
      if (this.inFlight?.promise === promise) this.inFlight = undefined;
    });
    this.inFlight = { joints, promise };
    return promise;
  }

  private async refresh(robotJoints: string[], cameras: string[], joints: string): Promise<BundleInfo[]> {
    let names: string[];
    try {
      names = (await readdir(this.bundlesDir)).sort();
    } catch {
      return [];
    }
    const out: BundleInfo[] = [];
    const seen = new Set<string>();
    for (const name of names) {
      const dir = join(this.bundlesDir, name);
      const isBundle = await stat(dir).then(
        (s) => s.isDirectory() && stat(join(dir, 'manifest.json')).then((m) => m.isFile(), () => false),
        () => false,
      );
      if (!isBundle) continue;
      seen.add(dir);
      let key: string;
      try {
        key = `${joints}\n${await bundleFingerprint(dir)}`;
      } catch {
        key = `${joints}\n(unreadable)`;
      }
      const hit = this.cache.get(dir);
      if (hit && hit.key === key) {
        out.push(hit.info);
        continue;
      }
      this.validations++;
      const info = (await isRemote(dir)) ? remoteInfo(name, dir, robotJoints, cameras) : await this.localInfo(name, dir, robotJoints);
      this.cache.set(dir, { key, info });
      out.push(info);
    }
    for (const d of this.cache.keys()) if (!seen.has(d)) this.cache.delete(d);
    return out;
  }

  /** A local bundle, validated in the worker (its ONNX graphs are loaded). */
  private async localInfo(name: string, dir: string, robotJoints: string[]): Promise<BundleInfo> {
    let r: ValidateResult;
    try {
      r = await this.validate(dir, robotJoints);
    } catch (err) {
      r = { problems: [{ path: '(bundle)', message: `could not be validated: ${(err as Error).message}` }] };
    }
    return {
      id: name,
      name,
      ...(r.description ? { description: r.description } : {}),
      kind: r.kind === 'chunk_regression' ? 'chunk_regression' : 'autoregressive',
      valid: r.problems.length === 0,
      problems: r.problems.map((p) => `${p.path}: ${p.message}`),
      dir,
    };
  }

  async dispose(): Promise<void> {
    await this.validator?.dispose();
  }
}

/** A remote policy's manifest is plain JSON (no graphs to load): validated here. */
function remoteInfo(name: string, dir: string, robotJoints: string[], cameras: string[]): BundleInfo {
  const r = validateRemoteBundle(dir, { robotJoints, cameras });
  return {
    id: name,
    // the menu shows the short name; the description goes in the detail line under it
    name,
    description: r.manifest?.description ?? `remote policy at ${r.manifest?.server.url ?? '?'}`,
    kind: 'remote',
    valid: r.ok,
    problems: r.problems.map((p) => `${p.path}: ${p.message}`),
    dir,
  };
}

/** Whether a bundle folder holds a remote policy's manifest (`format: reins-remote`). */
async function isRemote(dir: string): Promise<boolean> {
  try {
    return isRemoteManifestJson(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')));
  } catch {
    return false; // the validator reports the unreadable manifest
  }
}
