/**
 * ServoEmulator: answers on the device end of a pty with a ServoChain.
 *
 * `holdToWireTime` makes replies leave no earlier than they could on a real 1 Mbaud bus:
 * the request's own wire time, then per reply the servo's return delay plus its wire time
 * (busy-waiting, so use it in a process of its own — see child.ts). Without it the chain
 * answers as fast as the pty allows (return delays are still honoured).
 *
 * The USB adapter between bus and host is modelled too (`adapter`):
 * - `latencyMs` + `jitterMs`: replies reach the host latencyMs + U(0, jitterMs) after they left
 *   the bus, in order, in USB packets of at most 62 bytes each delayed on its own (an FTDI chip
 *   holds received bytes until its latency timer expires, 16 ms by default, and sends them in
 *   64-byte packets with 2 status bytes): a reply set can arrive split at any byte.
 * - `lateRate` / `lateMs`: a reply set is held lateMs longer (and everything behind it, FIFO):
 *   it lands after the driver's timeout, typically while the driver's retry is collecting.
 * - `duplicateRate` / `duplicateDelayMs`: a reply set reaches the host a second time,
 *   duplicateDelayMs later (at most once per set): a late copy that must never be taken as the
 *   answer to a later request.
 */
import { SerialPort } from 'serialport';
import { ServoChain, type ServoChainOptions } from './ServoChain';
import { xorshift32 } from './rng';

/** Payload bytes in one FTDI USB packet (64 bytes, 2 of them modem status). */
const USB_PACKET = 62;

export interface AdapterModel {
  latencyMs: number;
  jitterMs: number;
  lateRate: number;
  lateMs: number;
  duplicateRate: number;
  duplicateDelayMs: number;
}

export interface ServoEmulatorOptions extends ServoChainOptions {
  path: string;
  baudRate?: number;
  holdToWireTime?: boolean;
  adapter?: Partial<AdapterModel>;
}

export interface AdapterStats {
  late: number;
  duplicated: number;
}

export class ServoEmulator {
  readonly chain: ServoChain;
  readonly path: string;
  holdToWireTime: boolean;
  readonly adapter: AdapterModel;
  readonly adapterStats: AdapterStats = { late: 0, duplicated: 0 };
  private readonly baudRate: number;
  private port: SerialPort | undefined;
  private wireFreeAtMs = 0;
  private lastDeliveryMs = 0;
  private readonly queue: { at: number; bytes: Buffer }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly rand: () => number;

  constructor(opts: ServoEmulatorOptions) {
    this.chain = new ServoChain(opts);
    this.path = opts.path;
    this.baudRate = opts.baudRate ?? 1_000_000;
    this.holdToWireTime = opts.holdToWireTime ?? false;
    this.adapter = { latencyMs: 0, jitterMs: 0, lateRate: 0, lateMs: 0, duplicateRate: 0, duplicateDelayMs: 0, ...opts.adapter };
    this.rand = xorshift32(opts.seed !== undefined ? opts.seed * 2654435761 : 0x9e3779b9);
  }

  async start(): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: this.baudRate, autoOpen: false, lock: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    port.on('error', () => undefined);
    this.port = port;
  }

  async stop(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    clearTimeout(this.timer);
    this.queue.length = 0;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private wireMs(bytes: number): number {
    return (bytes * 10 * 1000) / this.baudRate;
  }

  private onData(chunk: Buffer): void {
    const now = performance.now();
    for (const r of this.chain.feed(chunk)) {
      let t = Math.max(now, this.wireFreeAtMs) + (this.holdToWireTime ? this.wireMs(r.requestBytes) : 0);
      let delayed = this.holdToWireTime;
      for (const rep of r.replies) {
        const rd = this.chain.returnDelayUs(rep.id) / 1000;
        if (rd > 0) delayed = true;
        t += rd + (this.holdToWireTime ? this.wireMs(rep.bytes.length) : 0);
      }
      this.wireFreeAtMs = t;
      if (r.replies.length === 0) continue;
      const out = Buffer.concat(r.replies.map((x) => x.bytes));
      const a = this.adapter;
      const viaAdapter = a.latencyMs > 0 || a.jitterMs > 0 || a.lateRate > 0 || a.duplicateRate > 0 || this.queue.length > 0;
      if (!viaAdapter) {
        if (delayed) while (performance.now() < t) {
          /* busy-wait: sub-millisecond hold */
        }
        this.port?.write(out);
        continue;
      }
      let extra = 0;
      if (a.lateRate > 0 && this.rand() < a.lateRate) {
        extra = a.lateMs;
        this.adapterStats.late++;
      }
      let at = t;
      for (let i = 0; i < out.length; i += USB_PACKET) {
        at = t + extra + a.latencyMs + this.rand() * a.jitterMs;
        this.enqueue(at, out.subarray(i, i + USB_PACKET));
      }
      if (a.duplicateRate > 0 && this.rand() < a.duplicateRate) {
        this.adapterStats.duplicated++;
        this.enqueue(at + a.duplicateDelayMs, Buffer.from(out));
      }
    }
  }

  /** FIFO: a chunk is delivered at `at` or after the chunk before it, whichever is later. */
  private enqueue(at: number, bytes: Buffer): void {
    const when = Math.max(at, this.lastDeliveryMs);
    this.lastDeliveryMs = when;
    this.queue.push({ at: when, bytes });
    this.arm();
  }

  private arm(): void {
    if (this.timer || this.queue.length === 0) return;
    const wait = this.queue[0]!.at - performance.now();
    this.timer = setTimeout(() => this.drain(), Math.max(0, wait));
  }

  private drain(): void {
    this.timer = undefined;
    const now = performance.now();
    const ready: Buffer[] = [];
    // Sub-millisecond precision: anything due within the next 0.3 ms goes now (timers are coarse).
    while (this.queue.length > 0 && this.queue[0]!.at <= now + 0.3) ready.push(this.queue.shift()!.bytes);
    if (ready.length > 0) this.port?.write(Buffer.concat(ready));
    this.arm();
  }
}
