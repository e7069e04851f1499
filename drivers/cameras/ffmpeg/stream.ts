/**
 * A Camera fed by an ffmpeg child process that writes raw RGB24 frames to stdout. Shared by
 * the USB camera (V4L2 / AVFoundation / DirectShow input) and the file / test-pattern source.
 * Frames are stamped with the monotonic time their last byte arrived. `dropped` counts frames
 * the source fell behind its nominal rate since the first frame (late bursts that catch up are
 * not drops).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Camera, CameraStats, Frame } from '../Camera';

export class CameraError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CameraError';
  }
}

export interface StreamCameraOptions {
  key: string;
  width: number;
  height: number;
  fps: number;
  /** ffmpeg binary (default: $REINS_FFMPEG or 'ffmpeg'). */
  ffmpegPath?: string;
  /** Monotonic clock in ms (default performance.now). */
  clock?: () => number;
  /** How long connect() waits for the first frame (ms, default 10000). */
  connectTimeoutMs?: number;
}

export function ffmpegPath(opt?: string): string {
  return opt ?? process.env.REINS_FFMPEG ?? 'ffmpeg';
}

/** Output half of the command line: scale to the requested size, raw RGB24 on stdout. */
export function rawOutputArgs(width: number, height: number, fps: number): string[] {
  return ['-an', '-vf', `scale=${width}:${height},fps=${fps}`, '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1'];
}

export abstract class FfmpegStreamCamera implements Camera {
  readonly key: string;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  private proc?: ChildProcessWithoutNullStreams;
  private latest?: Frame;
  private lastReturnedSeq = 0;
  private seq = 0;
  private dropped = 0;
  private firstFrameMs?: number;
  private seqAtStart = 0;
  private waiters: ((f: Frame) => void)[] = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private stderrTail = '';
  private exitError?: CameraError;
  protected readonly clock: () => number;
  protected readonly bin: string;
  private readonly connectTimeoutMs: number;

  constructor(opts: StreamCameraOptions) {
    if (!(opts.width > 0 && opts.height > 0 && opts.width % 2 === 0 && opts.height % 2 === 0)) throw new CameraError(`Camera "${opts.key}": size ${opts.width}x${opts.height} must be positive and even.`);
    if (!(opts.fps > 0 && opts.fps <= 240)) throw new CameraError(`Camera "${opts.key}": fps ${opts.fps} out of range.`);
    this.key = opts.key;
    this.width = opts.width;
    this.height = opts.height;
    this.fps = opts.fps;
    this.clock = opts.clock ?? (() => performance.now());
    this.bin = ffmpegPath(opts.ffmpegPath);
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
  }

  /** The full ffmpeg argument list (input and output). */
  protected abstract args(): string[];
  /** What to tell the operator when the source cannot be opened. */
  protected abstract describe(): string;

  get isConnected(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && !this.exitError;
  }

  async connect(): Promise<void> {
    if (this.isConnected) return;
    this.exitError = undefined;
    this.firstFrameMs = undefined;
    this.seqAtStart = this.seq;
    this.dropped = 0;
    const proc = spawn(this.bin, ['-hide_banner', '-loglevel', 'error', '-nostdin', ...this.args()], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc = proc;
    const frameBytes = this.width * this.height * 3;
    proc.stdout.on('data', (chunk: Buffer) => {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      while (this.pendingBytes >= frameBytes) this.emitFrame(frameBytes);
    });
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d: string) => (this.stderrTail = (this.stderrTail + d).slice(-2000)));
    proc.on('error', (err) => this.onExit(new CameraError(`Camera "${this.key}": cannot run ffmpeg (${err.message}). Install ffmpeg or set REINS_FFMPEG.`)));
    proc.on('close', (code) => {
      if (this.proc === proc) this.onExit(new CameraError(`Camera "${this.key}" (${this.describe()}) stopped${code ? ` (ffmpeg exit ${code})` : ''}: ${this.stderrTail.trim().split('\n').slice(-2).join(' | ') || 'no more frames'}`));
    });
    try {
      await this.nextFrame(this.connectTimeoutMs);
    } catch (err) {
      await this.disconnect();
      throw err instanceof CameraError ? err : new CameraError(`Camera "${this.key}" (${this.describe()}) sent no frame within ${this.connectTimeoutMs} ms. ${this.stderrTail.trim().split('\n').slice(-2).join(' | ')}`);
    }
  }

  private emitFrame(frameBytes: number): void {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    // copy: the frame owns its buffer (consumers may keep it, e.g. the recorder's queue)
    const data = new Uint8Array(frameBytes);
    data.set(all.subarray(0, frameBytes));
    const rest = all.subarray(frameBytes);
    this.pending = rest.length ? [rest] : [];
    this.pendingBytes = rest.length;
    const now = this.clock();
    if (this.firstFrameMs === undefined) this.firstFrameMs = now;
    // frames the source should have delivered by now minus those it did (late bursts that catch up are not drops)
    const expected = Math.floor((now - this.firstFrameMs) / (1000 / this.fps) + 0.5) + 1;
    this.dropped = Math.max(this.dropped, expected - (this.seq - this.seqAtStart + 1));
    const frame: Frame = { data, width: this.width, height: this.height, captureTimeMs: now, seq: ++this.seq };
    this.latest = frame;
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r(frame);
  }

  private onExit(err: CameraError): void {
    if (this.exitError) return;
    this.exitError = err;
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r(undefined as unknown as Frame); // wakes nextFrame, which then throws
  }

  readLatest(maxAgeMs?: number): Frame | undefined {
    const f = this.latest;
    if (!f || !this.isConnected) return undefined;
    if (maxAgeMs !== undefined && this.clock() - f.captureTimeMs > maxAgeMs) return undefined;
    return f;
  }

  nextFrame(timeoutMs: number): Promise<Frame> {
    const f = this.latest;
    if (f && f.seq > this.lastReturnedSeq) {
      this.lastReturnedSeq = f.seq;
      return Promise.resolve(f);
    }
    if (this.exitError) return Promise.reject(this.exitError);
    if (!this.proc) return Promise.reject(new CameraError(`Camera "${this.key}" is not connected.`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== onFrame);
        reject(new CameraError(`Camera "${this.key}": no new frame within ${timeoutMs} ms.`));
      }, timeoutMs);
      const onFrame = (fr: Frame): void => {
        clearTimeout(timer);
        if (!fr) return reject(this.exitError ?? new CameraError(`Camera "${this.key}" stopped.`));
        this.lastReturnedSeq = fr.seq;
        resolve(fr);
      };
      this.waiters.push(onFrame);
    });
  }

  stats(): CameraStats {
    return { frames: this.seq, dropped: this.dropped };
  }

  async disconnect(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    this.latest = undefined;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('close', () => resolve());
      p.kill('SIGTERM');
      setTimeout(() => p.kill('SIGKILL'), 2000).unref();
    });
  }
}
