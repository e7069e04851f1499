/**
 * SerialTransport: the Transport over node-serialport.
 *
 * Incoming bytes are appended to one pending buffer; a single waiter (the bus is
 * half-duplex, one transaction at a time) is woken on each chunk. Timeouts are explicit
 * per call. When a timeout timer fires we yield one more turn of the event loop
 * (setImmediate runs after the I/O poll phase) before rejecting, so a reply that is
 * already sitting in the kernel when a busy loop wakes up late is not reported lost.
 */
import { SerialPort } from 'serialport';
import { CanceledError, CommunicationError, DeviceNotConnectedError, portOpenError } from './errors';
import type { Scanner, Transport } from './Transport';

export interface SerialTransportOptions {
  path: string;
  baudRate?: number;
  /** Exclusive lock on the device (default true): a second program opening it gets a clear 'busy' error. */
  lock?: boolean;
}

interface Waiter {
  scan: Scanner<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

export class SerialTransport implements Transport {
  readonly path: string;
  private port: SerialPort | undefined;
  private pending: Buffer = Buffer.alloc(0);
  private waiter: Waiter | undefined;
  private lastByteAtMs = 0;
  private _baudRate: number;
  private readonly lock: boolean;

  constructor(opts: SerialTransportOptions) {
    this.path = opts.path;
    this._baudRate = opts.baudRate ?? 1_000_000;
    this.lock = opts.lock ?? true;
  }

  get isOpen(): boolean {
    return this.port?.isOpen === true;
  }
  get baudRate(): number {
    return this._baudRate;
  }

  async open(): Promise<void> {
    if (this.isOpen) return;
    const port = new SerialPort({ path: this.path, baudRate: this._baudRate, autoOpen: false, lock: this.lock });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(portOpenError(this.path, err)) : resolve())));
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    port.on('close', () => this.failWaiter(new CanceledError(`Serial port ${this.path} closed while a transfer was in flight.`)));
    port.on('error', () => undefined);
    this.port = port;
    this.pending = Buffer.alloc(0);
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    this.failWaiter(new CanceledError(`Serial port ${this.path} was closed while a transfer was in flight.`));
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  async write(bytes: Uint8Array): Promise<void> {
    const port = this.requirePort();
    await new Promise<void>((resolve, reject) =>
      port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (err) =>
        err ? reject(new CommunicationError('port_closed', `Writing to ${this.path} failed: ${err.message}. Check the USB cable.`, {}, false)) : resolve(),
      ),
    );
  }

  read(n: number, timeoutMs: number): Promise<Uint8Array> {
    return this.receive((buf) => (buf.length >= n ? { value: buf.slice(0, n), consumed: n } : undefined), timeoutMs);
  }

  receive<T>(scan: Scanner<T>, timeoutMs: number): Promise<T> {
    try {
      this.requirePort();
    } catch (e) {
      return Promise.reject(e as Error);
    }
    if (this.waiter) return Promise.reject(new Error('SerialTransport: one receive at a time (the bus is half-duplex)'));
    let now: { v: unknown } | undefined;
    try {
      now = this.tryScan(scan as Scanner<unknown>);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    if (now) return Promise.resolve(now.v as T);
    return new Promise<T>((resolve, reject) => {
      const w: Waiter = { scan: scan as Scanner<unknown>, resolve: resolve as (v: unknown) => void, reject, timer: undefined };
      w.timer = setTimeout(() => {
        // Let the I/O phase run once more: a late timer must not beat data already received.
        setImmediate(() => {
          if (this.waiter !== w) return;
          this.waiter = undefined;
          reject(new CommunicationError('timeout', `No reply on ${this.path} within ${timeoutMs.toFixed(1)} ms.`, { timeoutMs, received: this.pending.length }));
        });
      }, Math.max(1, Math.ceil(timeoutMs)));
      this.waiter = w;
    });
  }

  discardInput(): void {
    this.pending = Buffer.alloc(0);
  }

  async flush(): Promise<void> {
    this.pending = Buffer.alloc(0);
    const port = this.port;
    if (!port?.isOpen) return;
    await new Promise<void>((resolve) => port.flush(() => resolve()));
    this.pending = Buffer.alloc(0);
  }

  pendingBytes(): number {
    return this.pending.length;
  }

  async settle(quietMs: number, maxMs: number): Promise<void> {
    const start = performance.now();
    this.lastByteAtMs = Math.max(this.lastByteAtMs, start);
    while (performance.now() - start < maxMs && performance.now() - this.lastByteAtMs < quietMs) {
      await new Promise((r) => setTimeout(r, Math.max(1, Math.ceil(quietMs / 2))));
    }
    // User-space discard only. serialport's flush() is tcflush(TCIOFLUSH): it would also drop
    // bytes we wrote that the adapter hasn't sent yet — e.g. this cycle's SYNC_WRITE goals — so a
    // retried read would then return the previous goals with a clean status (a stale read).
    // Input never waits in the kernel: serialport reads it as soon as it arrives.
    this.discardInput();
  }

  async setBaudRate(baudRate: number): Promise<void> {
    this._baudRate = baudRate;
    const port = this.port;
    if (!port?.isOpen) return;
    await new Promise<void>((resolve, reject) => port.update({ baudRate }, (err) => (err ? reject(err) : resolve())));
  }

  private requirePort(): SerialPort {
    const port = this.port;
    if (!port?.isOpen) throw new DeviceNotConnectedError(`Serial port ${this.path}`);
    return port;
  }

  private onData(chunk: Buffer): void {
    this.lastByteAtMs = performance.now();
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const w = this.waiter;
    if (!w) return;
    let r: { v: unknown } | undefined;
    try {
      r = this.tryScan(w.scan);
    } catch (e) {
      this.waiter = undefined;
      clearTimeout(w.timer);
      w.reject(e as Error);
      return;
    }
    if (r) {
      this.waiter = undefined;
      clearTimeout(w.timer);
      w.resolve(r.v);
    }
  }

  private tryScan(scan: Scanner<unknown>): { v: unknown } | undefined {
    if (this.pending.length === 0) return undefined;
    const r = scan(this.pending);
    if (!r) return undefined;
    this.pending = this.pending.subarray(r.consumed);
    return { v: r.value };
  }

  private failWaiter(err: Error): void {
    const w = this.waiter;
    if (!w) return;
    this.waiter = undefined;
    clearTimeout(w.timer);
    w.reject(err);
  }
}
