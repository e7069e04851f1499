/**
 * The simulated cameras, rendered off the control loop's thread.
 *
 * One SimCameraWorker serves all cameras of a world with one worker_threads Worker. On the main
 * thread a timer takes a compact snapshot of the world (sceneSnapshot.ts, ~250 bytes) at each
 * camera's frame rate and posts it; the worker renders with SimRenderer and transfers the RGB
 * buffer back. readLatest() only returns the newest frame that has arrived, so a control-loop tick
 * never renders. Use SimCamera (synchronous, render on read) for tests and for recording under a
 * simulated clock.
 *
 *   const rig = new SimCameraWorker(world, [{ key: 'front', width: 320, height: 240, fps: 30 }, ...],
 *                                   { clock: () => performance.now(), onError: (e) => ... });
 *   const cameras = rig.cameras;   // Camera[]; connect() starts the worker, the last disconnect() ends it
 *
 * Frames are immutable once handed out (consumers such as the recorder and the API keep them), so
 * buffers are recycled to the worker only when a frame was superseded without anyone reading it.
 */
import { Worker } from 'node:worker_threads';
import type { Camera, CameraStats, Frame } from '../cameras/Camera';
import type { SimCameraConfig } from './SimCamera';
import type { SimCameraKey } from './render';
import { encodeWorldSnapshot } from './sceneSnapshot';
import type { FromWorker, RenderJob, ToWorker } from './simCameraWorker.entry';
import type { SimWorld } from './world';

export interface SimCameraWorkerConfig extends SimCameraConfig {
  key: SimCameraKey;
}

export interface SimCameraWorkerOptions {
  /** Timeline of captureTimeMs (performance.now() by default). Scheduling uses real timers. */
  clock?: () => number;
  /** Called once when the worker fails (crash, failed start, unexpected exit). The cameras disconnect. */
  onError?: (err: Error) => void;
  /**
   * The worker's entry module. Default: simCameraWorker.bootstrap.mjs beside this file, which
   * registers tsx and loads simCameraWorker.entry.ts (running from source). A bundled build must
   * pass its own bundled entry (it must post { type: 'ready' } and serve the same messages).
   */
  workerUrl?: URL | string;
}

const DEFAULT_WORKER_URL = new URL('./simCameraWorker.bootstrap.mjs', import.meta.url);
const MAX_FREE_BUFFERS = 2;

export class SimCameraWorker {
  readonly cameras: WorkerSimCamera[];
  onError: ((err: Error) => void) | undefined;
  /** The last worker failure, if any (cleared on the next successful connect). */
  lastError: Error | undefined;
  private worker: Worker | undefined;
  private starting: Promise<void> | undefined;
  private terminating = false;
  private timer: NodeJS.Timeout | undefined;
  private snapBuf = new Float64Array(64);
  readonly clock: () => number;
  private readonly workerUrl: URL | string;

  constructor(
    private readonly world: SimWorld,
    configs: readonly SimCameraWorkerConfig[],
    opts: SimCameraWorkerOptions = {},
  ) {
    const keys = new Set<string>();
    for (const c of configs) {
      if (keys.has(c.key)) throw new Error(`SimCameraWorker: camera '${c.key}' listed twice`);
      keys.add(c.key);
    }
    this.clock = opts.clock ?? (() => performance.now());
    this.onError = opts.onError;
    this.workerUrl = opts.workerUrl ?? DEFAULT_WORKER_URL;
    this.cameras = configs.map((c) => new WorkerSimCamera(this, c));
  }

  camera(key: string): WorkerSimCamera | undefined {
    return this.cameras.find((c) => c.key === key);
  }

  get running(): boolean {
    return this.worker !== undefined;
  }

  /** Test hook: makes the worker throw, as a renderer bug would. */
  crashForTest(message = 'simulated worker crash'): void {
    this.worker?.postMessage({ type: 'crash', message } satisfies ToWorker);
  }

  // ---- called by the cameras ----

  /** @internal */
  async attach(cam: WorkerSimCamera): Promise<void> {
    await this.ensureWorker();
    cam.nextDueMs = this.clock();
    this.schedule(0);
  }

  /** @internal */
  async detach(): Promise<void> {
    if (this.cameras.some((c) => c.isConnected)) return;
    await this.stopWorker();
  }

  private ensureWorker(): Promise<void> {
    if (this.starting) return this.starting; // connect() waits for the worker to be ready
    if (this.worker) return Promise.resolve();
    this.starting = new Promise<void>((resolve, reject) => {
      this.lastError = undefined;
      this.terminating = false;
      const w = new Worker(this.workerUrl, { execArgv: [], env: process.env, stdout: false, stderr: false });
      this.worker = w;
      let online = false;
      w.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          online = true;
          w.unref(); // once started, the cameras don't keep the process alive (the loop's timer does)
          resolve();
        } else this.onMessage(m);
      });
      w.on('error', (e) => {
        if (!online) reject(e);
        this.fail(w, e instanceof Error ? e : new Error(String(e)));
      });
      w.on('messageerror', (e) => this.fail(w, e instanceof Error ? e : new Error(String(e))));
      w.on('exit', (code) => {
        if (!online) reject(new Error(`SimCameraWorker: worker exited with code ${code} before it started`));
        if (this.worker === w && !this.terminating) this.fail(w, new Error(`SimCameraWorker: worker exited unexpectedly (code ${code})`));
      });
    }).finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async stopWorker(): Promise<void> {
    this.clearTimer();
    const w = this.worker;
    if (!w) return;
    this.terminating = true;
    this.worker = undefined;
    for (const c of this.cameras) c.inFlight = false;
    await w.terminate();
  }

  private fail(w: Worker, err: Error): void {
    if (this.worker !== w) return; // an old worker, or already failed
    this.worker = undefined;
    this.clearTimer();
    void w.terminate();
    const e = new Error(`Simulated cameras stopped: ${err.message}`, { cause: err });
    this.lastError = e;
    for (const c of this.cameras) c.failed(e);
    try {
      this.onError?.(e);
    } catch {
      // a throwing handler must not take the timer or the loop down with it
    }
  }

  // ---- capture schedule (main thread: snapshot + post, no rendering) ----

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delayMs: number): void {
    this.clearTimer();
    this.timer = setTimeout(() => this.capture(), Math.max(0, delayMs));
    this.timer.unref();
  }

  private capture(): void {
    this.timer = undefined;
    const w = this.worker;
    if (!w) return;
    const now = this.clock();
    const jobs: RenderJob[] = [];
    const transfer: ArrayBuffer[] = [];
    const cams: WorkerSimCamera[] = [];
    let nextDue = Infinity;
    for (const c of this.cameras) {
      if (!c.isConnected) continue;
      if (c.nextDueMs <= now + 0.5) {
        const period = 1000 / c.fps;
        // capture instants the timer missed outright (main thread busy) are lost frames
        const missed = Math.max(0, Math.floor((now - c.nextDueMs) / period));
        c.dropped += missed;
        c.nextDueMs += (missed + 1) * period;
        if (c.inFlight) {
          c.dropped++; // the worker hasn't delivered the previous frame within its period
        } else {
          const buf = c.free.pop();
          const job: RenderJob = { key: c.key, width: c.width, height: c.height };
          if (buf) {
            job.buf = buf;
            transfer.push(buf);
          }
          jobs.push(job);
          cams.push(c);
        }
      }
      nextDue = Math.min(nextDue, c.nextDueMs);
    }
    if (jobs.length > 0) {
      const snap = encodeWorldSnapshot(this.world, this.snapBuf);
      if (snap.buffer !== this.snapBuf.buffer) this.snapBuf = new Float64Array(snap.length * 2);
      for (const c of cams) c.inFlight = true;
      w.postMessage({ type: 'render', snap, timeMs: now, jobs } satisfies ToWorker, transfer);
    }
    if (nextDue < Infinity) this.schedule(nextDue - this.clock());
  }

  private onMessage(m: FromWorker & { type: 'frame' }): void {
    const c = this.camera(m.key);
    if (!c) return;
    c.inFlight = false;
    if (!c.isConnected) return;
    c.arrived(new Uint8Array(m.buf), m.timeMs);
  }
}

interface Waiter {
  resolve: (f: Frame) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** One simulated camera served by a SimCameraWorker. Implements the Camera contract; never renders on the caller's thread. */
export class WorkerSimCamera implements Camera {
  readonly key: SimCameraKey;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** @internal */ nextDueMs = 0;
  /** @internal */ inFlight = false;
  /** @internal */ dropped = 0;
  /** @internal Buffers of frames nobody saw, to render into again. */ free: ArrayBuffer[] = [];
  private connected = false;
  private latest: Frame | undefined;
  private latestSeen = false;
  private seq = 0;
  private lastReturnedSeq = 0;
  private waiters = new Set<Waiter>();
  private error: Error | undefined;

  constructor(
    private readonly rig: SimCameraWorker,
    config: SimCameraWorkerConfig,
  ) {
    const { key, width, height, fps } = config;
    if (key !== 'front' && key !== 'wrist') throw new Error(`SimCameraWorker: unknown camera '${key}' (front, wrist)`);
    if (!(Number.isInteger(width) && Number.isInteger(height) && width >= 16 && height >= 16 && width <= 1920 && height <= 1080)) {
      throw new Error(`SimCameraWorker: bad size ${width}x${height}`);
    }
    if (!(fps > 0 && fps <= 240)) throw new Error(`SimCameraWorker: bad fps ${fps}`);
    this.key = key;
    this.width = width;
    this.height = height;
    this.fps = fps;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Why the camera stopped, when its worker failed. */
  get lastError(): Error | undefined {
    return this.error;
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    this.error = undefined;
    this.connected = true;
    try {
      await this.rig.attach(this);
    } catch (e) {
      this.connected = false;
      throw e;
    }
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    this.reset(new Error(`SimCamera ${this.key}: disconnected`));
    await this.rig.detach();
  }

  readLatest(maxAgeMs?: number): Frame | undefined {
    const f = this.latest;
    if (!this.connected || !f) return undefined;
    if (maxAgeMs !== undefined && this.rig.clock() - f.captureTimeMs > maxAgeMs) return undefined;
    this.latestSeen = true;
    return f;
  }

  nextFrame(timeoutMs: number): Promise<Frame> {
    if (!this.connected) return Promise.reject(this.error ?? new Error(`SimCamera ${this.key}: not connected`));
    const f = this.latest;
    if (f && f.seq > this.lastReturnedSeq) {
      this.lastReturnedSeq = f.seq;
      this.latestSeen = true;
      return Promise.resolve(f);
    }
    return new Promise<Frame>((resolve, reject) => {
      const w: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(w);
          reject(new Error(`SimCamera ${this.key}: no new frame within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.add(w);
    });
  }

  stats(): CameraStats {
    return { frames: this.seq, dropped: this.dropped };
  }

  /** @internal */
  arrived(data: Uint8Array, captureTimeMs: number): void {
    const prev = this.latest;
    if (prev && !this.latestSeen && this.free.length < MAX_FREE_BUFFERS) this.free.push(prev.data.buffer as ArrayBuffer);
    const f: Frame = { data, width: this.width, height: this.height, captureTimeMs, seq: ++this.seq };
    this.latest = f;
    this.latestSeen = false;
    if (this.waiters.size > 0) {
      this.latestSeen = true;
      this.lastReturnedSeq = f.seq;
      for (const w of this.waiters) {
        clearTimeout(w.timer);
        w.resolve(f);
      }
      this.waiters.clear();
    }
  }

  /** @internal The worker died: stop serving (stale frames would look like a frozen scene). */
  failed(err: Error): void {
    this.error = err;
    this.reset(err);
  }

  private reset(err: Error): void {
    this.connected = false;
    this.latest = undefined;
    this.latestSeen = false;
    this.inFlight = false;
    this.free = [];
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.waiters.clear();
  }
}
