/**
 * A simulated camera: renders the world lazily when read, at most once per frame period of the
 * injected clock (the last frame is cached), so an idle camera costs nothing.
 */
import type { Camera, CameraStats, Frame } from '../cameras/Camera';
import { SimRenderer, type SimCameraKey } from './render';
import type { SimWorld } from './world';

export interface SimCameraConfig {
  width: number;
  height: number;
  fps: number;
}

export interface SimCameraOptions {
  /** How nextFrame waits; defaults to setTimeout. Tests pass one that advances a fake clock. */
  sleep?: (ms: number) => Promise<void>;
}

const PERIOD_EPS_MS = 1e-3;

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class SimCamera implements Camera {
  readonly key: SimCameraKey;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  private connected = false;
  private readonly renderer: SimRenderer;
  private last: Frame | undefined;
  /** seq of the last frame nextFrame returned. */
  private lastReturnedSeq = 0;
  private seq = 0;
  private dropped = 0;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly world: SimWorld,
    key: string,
    config: SimCameraConfig,
    private readonly clock: () => number,
    opts: SimCameraOptions = {},
  ) {
    if (key !== 'front' && key !== 'wrist') throw new Error(`SimCamera: unknown camera '${key}' (front, wrist)`);
    const { width, height, fps } = config;
    if (!(Number.isInteger(width) && Number.isInteger(height) && width >= 16 && height >= 16 && width <= 1920 && height <= 1080)) {
      throw new Error(`SimCamera: bad size ${width}x${height}`);
    }
    if (!(fps > 0 && fps <= 240)) throw new Error(`SimCamera: bad fps ${fps}`);
    this.key = key;
    this.width = width;
    this.height = height;
    this.fps = fps;
    this.renderer = new SimRenderer(width, height);
    this.sleep = opts.sleep ?? defaultSleep;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  async connect(): Promise<void> {
    this.connected = true;
  }

  async disconnect(): Promise<void> {
    this.connected = false;
    this.last = undefined;
  }

  private get periodMs(): number {
    return 1000 / this.fps;
  }

  /** The cached frame if it is still within its frame period, else a fresh render. */
  private current(now: number): Frame {
    const last = this.last;
    // (a small tolerance so a clock that advances by exactly one period in float steps gets a new frame)
    if (last && now - last.captureTimeMs < this.periodMs - PERIOD_EPS_MS) return last;
    if (last) this.dropped += Math.max(0, Math.floor((now - last.captureTimeMs + PERIOD_EPS_MS) / this.periodMs) - 1);
    const frame: Frame = {
      data: this.renderer.render(this.world, this.key),
      width: this.width,
      height: this.height,
      captureTimeMs: now,
      seq: ++this.seq,
    };
    this.last = frame;
    return frame;
  }

  readLatest(maxAgeMs?: number): Frame | undefined {
    if (!this.connected) return undefined;
    const now = this.clock();
    const f = this.current(now);
    if (maxAgeMs !== undefined && now - f.captureTimeMs > maxAgeMs) return undefined;
    return f;
  }

  /**
   * A frame newer than the last one nextFrame returned (readLatest doesn't count, so a UI polling
   * readLatest doesn't starve a loop waiting here). Sleeps via the injected sleep until the next frame period.
   */
  async nextFrame(timeoutMs: number): Promise<Frame> {
    if (!this.connected) throw new Error(`SimCamera ${this.key}: not connected`);
    const start = this.clock();
    for (;;) {
      const now = this.clock();
      const f = this.current(now);
      if (f.seq > this.lastReturnedSeq) {
        this.lastReturnedSeq = f.seq;
        return f;
      }
      const waited = now - start;
      if (waited >= timeoutMs) throw new Error(`SimCamera ${this.key}: no new frame within ${timeoutMs} ms`);
      const untilNext = f.captureTimeMs + this.periodMs - now;
      await this.sleep(Math.max(0.5, Math.min(untilNext, timeoutMs - waited)));
      if (!this.connected) throw new Error(`SimCamera ${this.key}: disconnected`);
    }
  }

  stats(): CameraStats {
    return { frames: this.seq, dropped: this.dropped };
  }
}
