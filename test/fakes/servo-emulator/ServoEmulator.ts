/**
 * ServoEmulator: answers on the device end of a pty with a ServoChain.
 *
 * `holdToWireTime` makes replies leave no earlier than they could on a real 1 Mbaud bus:
 * the request's own wire time, then per reply the servo's return delay plus its wire time
 * (busy-waiting, so use it in a process of its own — see child.ts). Without it the chain
 * answers as fast as the pty allows (return delays are still honoured).
 */
import { SerialPort } from 'serialport';
import { ServoChain, type ServoChainOptions } from './ServoChain';

export interface ServoEmulatorOptions extends ServoChainOptions {
  path: string;
  baudRate?: number;
  holdToWireTime?: boolean;
}

export class ServoEmulator {
  readonly chain: ServoChain;
  readonly path: string;
  holdToWireTime: boolean;
  private readonly baudRate: number;
  private port: SerialPort | undefined;
  private wireFreeAtMs = 0;

  constructor(opts: ServoEmulatorOptions) {
    this.chain = new ServoChain(opts);
    this.path = opts.path;
    this.baudRate = opts.baudRate ?? 1_000_000;
    this.holdToWireTime = opts.holdToWireTime ?? false;
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
      if (delayed) while (performance.now() < t) {
        /* busy-wait: sub-millisecond hold */
      }
      this.port?.write(out);
    }
  }
}
