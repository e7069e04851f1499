/**
 * ScriptedTransport: a Transport in memory over a ServoChain where the test decides, for every
 * request that gets replies, which reply sets reach the host and when — whole, cut (their first
 * bytes lost, as when a drain catches a set half-arrived), or held back to land during a later
 * request. It reproduces byte-exact orderings a real adapter produces only by chance.
 */
import type { Scanner, Transport } from '../../../drivers/transport/Transport';
import { CommunicationError } from '../../../drivers/transport/errors';
import type { ServoChain } from './ServoChain';

export interface Delivery {
  /** Index (1-based) of the request whose reply set to deliver. */
  set: number;
  /** Bytes to drop from the start of that set. */
  cut?: number;
}

export class ScriptedTransport implements Transport {
  readonly path = 'scripted';
  readonly baudRate = 1_000_000;
  isOpen = false;
  /** Reply sets by request index (1-based; only requests that got replies count). */
  readonly sets: Uint8Array[] = [];
  private pending = new Uint8Array(0);
  private wake: (() => void) | undefined;

  constructor(
    readonly chain: ServoChain,
    /** What reaches the host when request k is written; default: its own set, whole. */
    readonly script: (k: number) => Delivery[] = (k) => [{ set: k }],
  ) {}

  async open(): Promise<void> {
    this.isOpen = true;
  }
  async close(): Promise<void> {
    this.isOpen = false;
  }

  async write(bytes: Uint8Array): Promise<void> {
    for (const r of this.chain.feed(bytes)) {
      if (r.replies.length === 0) continue;
      const total = r.replies.reduce((a, x) => a + x.bytes.length, 0);
      const set = new Uint8Array(total);
      let o = 0;
      for (const x of r.replies) {
        set.set(x.bytes, o);
        o += x.bytes.length;
      }
      this.sets.push(set);
      for (const d of this.script(this.sets.length)) {
        const s = this.sets[d.set - 1];
        if (s) this.append(s.subarray(d.cut ?? 0));
      }
    }
  }

  private append(b: Uint8Array): void {
    const next = new Uint8Array(this.pending.length + b.length);
    next.set(this.pending);
    next.set(b, this.pending.length);
    this.pending = next;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  read(n: number, timeoutMs: number): Promise<Uint8Array> {
    return this.receive((b) => (b.length >= n ? { value: b.slice(0, n), consumed: n } : undefined), timeoutMs);
  }

  async receive<T>(scan: Scanner<T>, timeoutMs: number): Promise<T> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.pending.length > 0) {
        const r = scan(this.pending);
        if (r) {
          this.pending = this.pending.slice(r.consumed);
          return r.value;
        }
      }
      const left = deadline - performance.now();
      if (left <= 0) throw new CommunicationError('timeout', `No reply within ${timeoutMs} ms.`, { timeoutMs });
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, Math.ceil(left)));
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  discardInput(): void {
    this.pending = new Uint8Array(0);
  }
  async flush(): Promise<void> {
    this.discardInput();
  }
  pendingBytes(): number {
    return this.pending.length;
  }
  async setBaudRate(): Promise<void> {}
}
