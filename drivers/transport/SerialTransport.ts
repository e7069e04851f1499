/**
 * SerialTransport: the Transport over a serial port.
 *
 * Two backends:
 * - 'fd' (Linux and macOS, the default there): node-serialport's native bindings open the port
 *   and set termios (baud, raw 8N1, exclusive lock); after that the driver reads and writes the
 *   tty file descriptor itself, non-blocking, on the event loop: a readiness poll (the bindings'
 *   uv_poll) wakes it, `readSync` takes whatever the kernel holds, `writeSync` queues a request.
 *   No thread-pool reads, so no input ever waits outside the driver's sight: `discardInput()`
 *   reads the kernel buffer empty and drops it — a kernel-level input flush that leaves unsent
 *   output (the SYNC_WRITE just queued) alone, which tcflush(TCIOFLUSH) would not. It also costs
 *   far less CPU than the stream path (bench:bus).
 * - 'stream' (Windows, or on request): node-serialport's stream. Its reads run in the thread
 *   pool, so `discardInput()` can only drop what already reached JavaScript.
 *
 * Incoming bytes are appended to one pending buffer; a single waiter (the bus is half-duplex,
 * one transaction at a time) is woken on each chunk. Timeouts are explicit per call. When a
 * timeout timer fires, the input is read once more before rejecting, so a reply that is already
 * sitting in the kernel when a busy loop wakes up late is not reported lost.
 */
import { readSync, writeSync } from 'node:fs';
import { SerialPort } from 'serialport';
import { autoDetect } from '@serialport/bindings-cpp';
import { CanceledError, CommunicationError, DeviceNotConnectedError, portOpenError } from './errors';
import type { Scanner, Transport } from './Transport';

export type SerialBackend = 'fd' | 'stream';

export interface SerialTransportOptions {
  path: string;
  baudRate?: number;
  /** Exclusive lock on the device (default true): a second program opening it gets a clear 'busy' error. */
  lock?: boolean;
  /** Default: 'fd' on Linux and macOS, 'stream' elsewhere. */
  backend?: SerialBackend;
}

interface Waiter {
  scan: Scanner<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

/** The part of a bindings-cpp unix port the fd backend uses. */
interface UnixPort {
  fd: number | null;
  readonly isOpen: boolean;
  poller: { once(ev: 'readable' | 'writable', cb: (err: Error | null) => void): unknown; stop(): void };
  close(): Promise<void>;
  flush(): Promise<void>;
  update(o: { baudRate: number }): Promise<void>;
  set?(o: { lowLatency?: boolean }): Promise<void>;
}

export class SerialTransport implements Transport {
  readonly path: string;
  readonly backend: SerialBackend;
  /** Linux: whether the driver's low-latency flag (FTDI: latency timer 1 ms) could be set. */
  lowLatency: boolean | undefined;
  private port: SerialPort | undefined;
  private unix: UnixPort | undefined;
  private buf: Buffer = Buffer.allocUnsafe(4096);
  private start = 0;
  private end = 0;
  private waiter: Waiter | undefined;
  private readArmed = false;
  private _baudRate: number;
  private readonly lock: boolean;

  constructor(opts: SerialTransportOptions) {
    this.path = opts.path;
    this._baudRate = opts.baudRate ?? 1_000_000;
    this.lock = opts.lock ?? true;
    this.backend = opts.backend ?? (process.platform === 'linux' || process.platform === 'darwin' ? 'fd' : 'stream');
  }

  get isOpen(): boolean {
    return this.backend === 'fd' ? this.unix?.isOpen === true : this.port?.isOpen === true;
  }
  get baudRate(): number {
    return this._baudRate;
  }

  async open(): Promise<void> {
    if (this.isOpen) return;
    this.start = this.end = 0;
    if (this.backend === 'fd') {
      let unix: UnixPort;
      try {
        unix = (await autoDetect().open({ path: this.path, baudRate: this._baudRate, lock: this.lock })) as unknown as UnixPort;
      } catch (err) {
        throw portOpenError(this.path, err);
      }
      this.unix = unix;
      if (process.platform === 'linux' && unix.set) {
        // ASYNC_LOW_LATENCY: the ftdi_sio driver then sets the adapter's latency timer to 1 ms.
        // Not every tty supports it (ptys, CDC-ACM): that is fine, the bus measures the latency anyway.
        this.lowLatency = await unix.set({ lowLatency: true }).then(
          () => true,
          () => false,
        );
      }
      await unix.flush().catch(() => undefined);
      return;
    }
    const port = new SerialPort({ path: this.path, baudRate: this._baudRate, autoOpen: false, lock: this.lock });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(portOpenError(this.path, err)) : resolve())));
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    port.on('close', () => this.failWaiter(new CanceledError(`Serial port ${this.path} closed while a transfer was in flight.`)));
    port.on('error', () => undefined);
    this.port = port;
  }

  async close(): Promise<void> {
    const port = this.port;
    const unix = this.unix;
    this.port = undefined;
    this.unix = undefined;
    this.readArmed = false;
    this.failWaiter(new CanceledError(`Serial port ${this.path} was closed while a transfer was in flight.`));
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    if (unix?.isOpen) await unix.close().catch(() => undefined);
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.backend === 'fd') {
      const unix = this.requireUnix();
      let off = 0;
      while (off < bytes.length) {
        try {
          off += writeSync(unix.fd!, bytes, off, bytes.length - off);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR') {
            await new Promise<void>((resolve, reject) => unix.poller.once('writable', (e) => (e ? reject(e) : resolve())));
            continue;
          }
          throw new CommunicationError('port_closed', `Writing to ${this.path} failed: ${(err as Error).message}. Check the USB cable.`, {}, false);
        }
      }
      return;
    }
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
      if (this.backend === 'fd') this.requireUnix();
      else this.requirePort();
    } catch (e) {
      return Promise.reject(e as Error);
    }
    if (this.waiter) return Promise.reject(new Error('SerialTransport: one receive at a time (the bus is half-duplex)'));
    let now: { v: unknown } | undefined;
    try {
      if (this.backend === 'fd') this.pull();
      now = this.tryScan(scan as Scanner<unknown>);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    if (now) return Promise.resolve(now.v as T);
    return new Promise<T>((resolve, reject) => {
      const w: Waiter = { scan: scan as Scanner<unknown>, resolve: resolve as (v: unknown) => void, reject, timer: undefined };
      w.timer = setTimeout(() => {
        if (this.backend === 'fd') {
          // A late timer must not beat data already in the kernel: read it first.
          if (this.waiter === w) this.onReadable(null);
          if (this.waiter !== w) return;
          this.waiter = undefined;
          reject(new CommunicationError('timeout', `No reply on ${this.path} within ${timeoutMs.toFixed(1)} ms.`, { timeoutMs, received: this.end - this.start }));
          return;
        }
        // Let the I/O phase run once more: a late timer must not beat data already received.
        setImmediate(() => {
          if (this.waiter !== w) return;
          this.waiter = undefined;
          reject(new CommunicationError('timeout', `No reply on ${this.path} within ${timeoutMs.toFixed(1)} ms.`, { timeoutMs, received: this.end - this.start }));
        });
      }, Math.max(1, Math.ceil(timeoutMs)));
      this.waiter = w;
      if (this.backend === 'fd') this.armRead();
    });
  }

  /** Drops every byte received so far: user space, and (fd backend) the kernel's input buffer. Never touches output. */
  discardInput(): void {
    if (this.backend === 'fd' && this.unix?.isOpen) {
      try {
        this.pull();
      } catch {
        /* a dead port shows up on the next write/receive */
      }
    }
    this.start = this.end = 0;
  }

  async flush(): Promise<void> {
    this.start = this.end = 0;
    if (this.backend === 'fd') {
      await this.unix?.flush().catch(() => undefined);
      this.discardInput();
      return;
    }
    const port = this.port;
    if (!port?.isOpen) return;
    await new Promise<void>((resolve) => port.flush(() => resolve()));
    this.start = this.end = 0;
  }

  pendingBytes(): number {
    if (this.backend === 'fd' && this.unix?.isOpen) this.pull();
    return this.end - this.start;
  }

  async setBaudRate(baudRate: number): Promise<void> {
    this._baudRate = baudRate;
    if (this.backend === 'fd') {
      if (this.unix?.isOpen) await this.unix.update({ baudRate });
      return;
    }
    const port = this.port;
    if (!port?.isOpen) return;
    await new Promise<void>((resolve, reject) => port.update({ baudRate }, (err) => (err ? reject(err) : resolve())));
  }

  // ---- internals ------------------------------------------------------------------------

  private requirePort(): SerialPort {
    const port = this.port;
    if (!port?.isOpen) throw new DeviceNotConnectedError(`Serial port ${this.path}`);
    return port;
  }

  private requireUnix(): UnixPort {
    const u = this.unix;
    if (!u?.isOpen) throw new DeviceNotConnectedError(`Serial port ${this.path}`);
    return u;
  }

  /** fd backend: reads everything the kernel holds into the pending buffer (non-blocking). */
  private pull(): void {
    const fd = this.unix?.fd;
    if (fd === null || fd === undefined) return;
    for (;;) {
      if (this.start === this.end) this.start = this.end = 0;
      if (this.buf.length - this.end < 512) {
        const live = this.end - this.start;
        const next = live + 1024 > this.buf.length ? Buffer.allocUnsafe(this.buf.length * 2) : this.buf;
        this.buf.copy(next, 0, this.start, this.end);
        this.buf = next;
        this.start = 0;
        this.end = live;
      }
      let n: number;
      try {
        n = readSync(fd, this.buf, this.end, this.buf.length - this.end, null);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR') return;
        throw new CommunicationError('port_closed', `Reading from ${this.path} failed: ${(err as Error).message}. Check the USB cable.`, {}, false);
      }
      if (n <= 0) return;
      this.end += n;
      if (this.end < this.buf.length) return; // short read: the kernel buffer is empty
    }
  }

  private armRead(): void {
    const unix = this.unix;
    if (this.readArmed || !unix?.isOpen) return;
    this.readArmed = true;
    unix.poller.once('readable', (err) => {
      this.readArmed = false;
      this.onReadable(err);
    });
  }

  private onReadable(err: Error | null): void {
    const w = this.waiter;
    if (!w) return;
    if (err) {
      if (!this.unix?.isOpen) return;
      this.failWaiter(new CommunicationError('port_closed', `Reading from ${this.path} failed: ${err.message}. Check the USB cable.`, {}, false));
      return;
    }
    try {
      this.pull();
    } catch (e) {
      this.failWaiter(e as Error);
      return;
    }
    this.deliver(w);
    if (this.waiter === w) this.armRead();
  }

  private onData(chunk: Buffer): void {
    const live = this.end - this.start;
    if (this.buf.length - this.end < chunk.length) {
      const next = live + chunk.length > this.buf.length ? Buffer.allocUnsafe(Math.max(this.buf.length * 2, live + chunk.length)) : this.buf;
      this.buf.copy(next, 0, this.start, this.end);
      this.buf = next;
      this.start = 0;
      this.end = live;
    }
    chunk.copy(this.buf, this.end);
    this.end += chunk.length;
    const w = this.waiter;
    if (w) this.deliver(w);
  }

  private deliver(w: Waiter): void {
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
    if (this.end === this.start) return undefined;
    // A plain Uint8Array view: scanners' .slice() must copy (Buffer#slice would alias this reused buffer).
    const r = scan(new Uint8Array(this.buf.buffer, this.buf.byteOffset + this.start, this.end - this.start));
    if (!r) return undefined;
    this.start += r.consumed;
    if (this.start === this.end) this.start = this.end = 0;
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
