/**
 * ServoBus: the protocol-agnostic half-duplex servo bus (one transaction at a time).
 *
 * Never stale. A reply must be provably the answer to *this* request, or it is refused:
 * - Every request carries a tag its replies repeat: the length of the data it asks for. A read
 *   asks for its register plus 0..7 bytes more (harmless read-only bytes past it), so a
 *   reply frame's LEN says which request it answers. Replies whose length is not this
 *   request's are skipped, whatever their ID or content.
 * - A tag is never reused while replies to an earlier attempt with that tag may still be on
 *   their way: a failed attempt (timeout, corrupt, wrong servo) marks its tag dirty until its
 *   timeout plus a horizon — a bound on the adapter's latency (2 × the margin, 1.5 × the slowest
 *   recent or late reply seen, + 10 ms) — has passed and the input has been drained after it.
 *   The next attempt picks a clean tag at once (no quiet pause: a dropped reply costs one short
 *   timeout); only when every tag is dirty does it wait.
 * - Every attempt starts by draining the input: the transport reads the OS buffer empty and
 *   drops it (a kernel-level input flush that never touches unsent output such as the
 *   SYNC_WRITE just queued).
 * - The proof rests on one bound: no reply reaches the host later than the horizon after its
 *   attempt's timeout (the adapter's latency, measured and raised whenever a late reply is seen).
 *   The host's own stalls do not matter: bytes that arrive meanwhile wait in the kernel and are
 *   drained before the next attempt.
 * - SYNC_READ also rotates the order of the IDs it asks for (servos answer in list order), and
 *   the replies must come in exactly that order, so a duplicated copy of a set that was read
 *   successfully (never produced by a servo, but modelled by the emulator) does not line up
 *   with the next request's order: a second line of defence, not the proof.
 *
 * Never slow to fail: each reply timeout is the wire time of the request and the expected
 * replies at the current baud rate, plus the servos' return delay, plus a latency margin that
 * follows the adapter: measured at connect (`measureLatency`, which tells the operator to set
 * an FTDI adapter's latency timer to 1 ms when it is high) and updated from every reply (1.5×
 * the second slowest of the last 64 round trips beyond wire time, + 0.5 ms; 25 ms before the
 * first reply; never below `latencyMarginMs`, default 1 ms). Each further retry doubles it, and
 * the last one waits at least 50 ms more, so a moment's stall does not fail the read.
 */
import { wireTimeMs, type Transport } from '../transport/Transport';
import { CommunicationError } from '../transport/errors';
import { MotorFaultError, type MotorFault } from './errors';
import type { BusProtocol, StatusFrame } from './protocol';

export interface ServoBusOptions {
  /** Retries after the first attempt for reads (LeRobot's SO arms use 2). */
  numRetry?: number;
  /** Floor of the adaptive latency margin added to every reply timeout (ms, default 1). */
  latencyMarginMs?: number;
  /** Servo return delay in microseconds (LeRobot configures 0). */
  returnDelayUs?: number;
  /** Names of servo IDs, used in messages ("servo 3 (elbow_flex)"). */
  names?: ReadonlyMap<number, string>;
}

export interface CallOptions {
  numRetry?: number;
}

export interface WriteOptions extends CallOptions {
  /**
   * 'throw' (default): a fault bit in the reply throws MotorFaultError. 'return': the faults are
   * returned (the write was applied; the servo reports a fault), so torque-off and configuration
   * can go on with a servo that shows overload at power-on. A refused instruction always throws.
   */
  faults?: 'throw' | 'return';
}

export interface BusStats {
  transactions: number;
  attempts: number;
  retries: number;
  timeouts: number;
  corrupt: number;
  unexpectedId: number;
  failures: number;
  /** Reply frames skipped because they answer another request (a late or duplicated reply). */
  foreignFrames: number;
  /** Waits because every tag was still dirty. */
  tagWaits: number;
}

export interface SyncReadResult {
  values: number[];
  /** Status byte of each servo's reply (0 = clean). */
  errors: number[];
}

export interface LatencyReport {
  /** Round-trip time beyond wire time: median and max over the pings, ms. */
  medianMs: number;
  maxMs: number;
  /** The margin now added to every reply timeout, ms. */
  marginMs: number;
  /** Operator advice when the adapter is slow (e.g. FTDI latency timer at its 16 ms default). */
  advice?: string;
}

interface Expect {
  ids: readonly number[];
  dataLen: number;
  /** Accept any status frame with at least this many data bytes (Dynamixel ping replies). */
  minLen?: number;
}

/** An attempt whose replies may still arrive: its tag (ids × data length) stays dirty until `until`. */
interface Dirty {
  ids: readonly number[];
  dataLen: number;
  sentAt: number;
  until: number;
}

/** Extra bytes a read may ask for to vary its tag. */
const MAX_PAD = 7;
/** Latency above which the operator is told to lower the adapter's latency timer (ms). */
export const HIGH_LATENCY_MS = 4;

export class ServoBus<R extends string> {
  readonly transport: Transport;
  readonly protocol: BusProtocol<R>;
  numRetry: number;
  /** Floor of the adaptive margin (ms). */
  latencyMarginMs: number;
  returnDelayUs: number;
  names: ReadonlyMap<number, string>;
  readonly stats: BusStats = { transactions: 0, attempts: 0, retries: 0, timeouts: 0, corrupt: 0, unexpectedId: 0, failures: 0, foreignFrames: 0, tagWaits: 0 };
  /** Last latency measurement (set by measureLatency). */
  latency: LatencyReport | undefined;
  /** While set (collectFaults), fault bits in replies to READ/WRITE land here instead of throwing. */
  private faultSink: MotorFault[] | undefined;
  private busy: Promise<unknown> = Promise.resolve();
  /** SYNC_WRITEs waiting to go out with the next request (see syncWrite). */
  private readonly outQueue: Uint8Array[] = [];
  private outFlushScheduled = false;
  /** A failed deferred write, thrown by the next call. */
  private deferredError: Error | undefined;
  private seq = 0;
  /** Round-trip time beyond wire time of recent replies (ms), a ring. */
  private readonly excess = new Float64Array(64);
  private readonly sortedExcess = new Float64Array(64);
  private excessN = 0;
  private excessMax = 0;
  private excessHigh = 0;
  /** Slowest reply seen arriving after its attempt had failed (ms after the request), decaying slowly. */
  private lateMaxMs = 0;
  private dirty: Dirty[] = [];

  constructor(transport: Transport, protocol: BusProtocol<R>, opts: ServoBusOptions = {}) {
    this.transport = transport;
    this.protocol = protocol;
    this.numRetry = opts.numRetry ?? 2;
    this.latencyMarginMs = opts.latencyMarginMs ?? 1;
    this.returnDelayUs = opts.returnDelayUs ?? 0;
    this.names = opts.names ?? new Map();
  }

  get isOpen(): boolean {
    return this.transport.isOpen;
  }

  async open(): Promise<void> {
    await this.transport.open();
    await this.transport.flush();
    this.dirty = [];
  }

  async close(): Promise<void> {
    // Goals still queued go out first (e.g. a hold written just before disconnecting).
    await this.exclusive(async () => {
      if (this.outQueue.length && this.transport.isOpen) await this.transport.write(this.withQueued());
    }).catch(() => undefined);
    await this.transport.close();
  }

  servoLabel(id: number): string {
    const n = this.names.get(id);
    return n ? `servo ${id} (${n})` : `servo ${id}`;
  }

  /**
   * The adaptive latency margin (ms) added to every reply timeout: 1.5 × the second slowest of
   * the last 64 replies' time beyond wire time (≈ 97th percentile), + 0.5 ms. A reply slower than that is retried
   * (under another tag), never mistaken: correctness does not rest on the margin, so it can be
   * tight and a dropped reply cheap.
   */
  get marginMs(): number {
    // Before any reply has been timed, allow for an FTDI adapter at its 16 ms default latency timer.
    const adaptive = this.excessN === 0 ? 25 : 1.5 * this.excessHigh + 0.5;
    return Math.min(Math.max(this.latencyMarginMs, adaptive), 500);
  }

  /**
   * How long after its timeout a failed attempt's replies may still arrive: how long its tag
   * stays dirty. Covers twice the margin, 1.5 × the slowest reply of the last 64 and of every
   * late reply seen (decaying slowly), plus 10 ms.
   */
  get horizonMs(): number {
    return Math.max(2 * this.marginMs, 1.5 * Math.max(this.excessMax, this.lateMaxMs)) + 10;
  }

  /** Records how long a reply took beyond wire time (ms). */
  private noteExcess(ms: number): void {
    const ring = this.excess;
    ring[this.excessN % ring.length] = ms;
    this.excessN++;
    this.lateMaxMs *= 0.998;
    const n = Math.min(this.excessN, ring.length);
    const sorted = this.sortedExcess;
    for (let i = 0; i < n; i++) sorted[i] = ring[i]!;
    const view = sorted.subarray(0, n).sort();
    this.excessMax = view[n - 1]!;
    this.excessHigh = view[Math.max(0, n - 2)]!; // the second slowest of the last 64 (≈ 97th percentile): one outlier does not widen it
  }

  /** Reply timeout for a request of reqBytes expecting replies carrying dataLen bytes from n servos. */
  timeoutMs(reqBytes: number, n: number, dataLen: number): number {
    return this.wireMs(reqBytes, n, dataLen) + this.marginMs;
  }

  private wireMs(reqBytes: number, n: number, dataLen: number): number {
    return wireTimeMs(reqBytes + n * this.protocol.statusLength(dataLen), this.transport.baudRate) + (n * this.returnDelayUs) / 1000;
  }

  /**
   * Measures the adapter's latency with `rounds` pings of each servo in `ids` and seeds the
   * adaptive margin with it. A USB adapter that holds replies (FTDI's latency timer defaults to
   * 16 ms) makes every transaction that slow: the report carries advice to set it to 1 ms.
   */
  async measureLatency(ids: readonly number[], rounds = 4): Promise<LatencyReport> {
    const samples: number[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const id of ids) {
        const req = this.protocol.encodePing(id);
        const expect = this.pingExpect(id);
        const t0 = performance.now();
        try {
          // One PING round trip (not ping(): on Feetech that also reads Model_Number).
          await this.transact(req, expect, 'PING', 1);
        } catch {
          continue;
        }
        samples.push(Math.max(0, performance.now() - t0 - this.wireMs(req.length, 1, expect.dataLen)));
      }
    }
    samples.sort((a, b) => a - b);
    const medianMs = samples.length ? samples[Math.floor(samples.length / 2)]! : NaN;
    const maxMs = samples.length ? samples[samples.length - 1]! : NaN;
    const report: LatencyReport = { medianMs, maxMs, marginMs: this.marginMs };
    if (medianMs > HIGH_LATENCY_MS) {
      const dev = this.transport.path.split('/').pop() ?? this.transport.path;
      report.advice =
        `The USB serial adapter on ${this.transport.path} adds ${medianMs.toFixed(1)} ms to every reply, which slows the arm's control loop. ` +
        `If it is an FTDI adapter (U2D2 and many servo boards are), set its latency timer to 1 ms: on Linux run ` +
        `"echo 1 | sudo tee /sys/bus/usb-serial/devices/${dev}/latency_timer" (or add a udev rule ATTR{latency_timer}="1"); ` +
        `on Windows open Device Manager → the COM port → Port Settings → Advanced → Latency Timer = 1; on macOS use the FTDI VCP driver's latency setting.`;
    }
    this.latency = report;
    return report;
  }

  /**
   * Runs `fn` with fault bits collected instead of thrown: a servo that reports overload (or
   * another fault) still executes READ and WRITE, so torque-off and configuration go on and the
   * faults are reported after. Refused instructions (Dynamixel result errors) still throw.
   */
  async collectFaults<T>(fn: () => Promise<T>): Promise<{ value: T; faults: MotorFault[] }> {
    const outer = this.faultSink;
    const sink: MotorFault[] = [];
    this.faultSink = sink;
    try {
      const value = await fn();
      return { value, faults: sink };
    } finally {
      this.faultSink = outer;
      outer?.push(...sink);
    }
  }

  // ---- register access by name ------------------------------------------------------

  async read(reg: R, id: number, opts: CallOptions = {}): Promise<number> {
    const def = this.protocol.table[reg];
    const [f] = await this.exclusive(() =>
      this.transactNow((pad) => this.protocol.encodeRead(id, def.address, def.size + pad), { ids: [id], dataLen: def.size, padMax: this.padMax(def.address, def.size) }, `READ ${reg}`, opts.numRetry ?? this.numRetry),
    );
    if (this.faultSink && !this.protocol.isRejection(f!.error)) this.faultSink.push(...this.faultsOf([id], [f!.error], reg));
    else this.raiseFaults([f!], [id], reg, `READ ${reg}`);
    return this.protocol.decodeValue(reg, f!.params, 0);
  }

  /** Writes one register and waits for the servo's status reply. Returns the servo's faults when opts.faults is 'return'. */
  async write(reg: R, id: number, value: number, opts: WriteOptions = {}): Promise<MotorFault[]> {
    const def = this.protocol.table[reg];
    const data = this.protocol.encodeValue(reg, value);
    const req = this.protocol.encodeWrite(id, def.address, data);
    const [f] = await this.transact(req, { ids: [id], dataLen: 0 }, `WRITE ${reg}`, opts.numRetry ?? this.numRetry);
    if ((opts.faults === 'return' || this.faultSink) && !this.protocol.isRejection(f!.error)) {
      const faults = this.faultsOf([id], [f!.error], reg);
      if (opts.faults !== 'return') this.faultSink!.push(...faults);
      return faults;
    }
    this.raiseFaults([f!], [id], reg, `WRITE ${reg}=${value}`);
    return [];
  }

  /** Reads one register from many servos with one SYNC_READ. Fault bits are returned, not thrown. */
  async syncRead(reg: R, ids: readonly number[], opts: CallOptions = {}): Promise<SyncReadResult> {
    const def = this.protocol.table[reg];
    const frames = await this.syncReadBlock(def.address, def.size, ids, opts, `SYNC_READ ${reg}`);
    const values = new Array<number>(frames.length);
    const errors = new Array<number>(frames.length);
    for (let i = 0; i < frames.length; i++) {
      values[i] = this.protocol.decodeValue(reg, frames[i]!.params, 0);
      errors[i] = frames[i]!.error;
    }
    return { values, errors };
  }

  /** Raw SYNC_READ of a block of registers (address..address+length) from many servos; frames in `ids` order. */
  async syncReadBlock(address: number, length: number, ids: readonly number[], opts: CallOptions = {}, what = `SYNC_READ @${address}+${length}`): Promise<StatusFrame[]> {
    return this.exclusive(async () => {
      const numRetry = opts.numRetry ?? this.numRetry;
      // Rotate the request order each transaction (see the module comment); results come back in `ids` order.
      const k = ids.length > 1 ? this.seq++ % ids.length : 0;
      const order = k === 0 ? ids : [...ids.slice(k), ...ids.slice(0, k)];
      const frames = await this.transactNow((pad) => this.protocol.encodeSyncRead(address, length + pad, order), { ids: order, dataLen: length, padMax: this.padMax(address, length) }, what, numRetry);
      if (k === 0) return frames;
      const out = new Array<StatusFrame>(ids.length);
      for (let i = 0; i < ids.length; i++) out[(i + k) % ids.length] = frames[i]!;
      return out;
    });
  }

  private padMax(address: number, length: number): number {
    return Math.max(0, Math.min(MAX_PAD, this.protocol.readEnd - (address + length)));
  }

  /** One SYNC_WRITE (broadcast, no reply: fire-and-forget, as fast as the wire allows). */
  async syncWrite(reg: R, entries: readonly { id: number; value: number }[]): Promise<void> {
    const def = this.protocol.table[reg];
    const req = this.protocol.encodeSyncWrite(
      def.address,
      def.size,
      entries.map((e) => ({ id: e.id, data: this.protocol.encodeValue(reg, e.value) })),
    );
    // Queued, and sent in the same write as the next request (the SYNC_READ of the same cycle:
    // one system call, and the read goes out right behind the goals); sent on its own one event
    // loop turn later when nothing follows. Never while another transaction's replies are due.
    if (this.deferredError) throw this.takeDeferredError();
    this.outQueue.push(req);
    if (!this.outFlushScheduled) {
      this.outFlushScheduled = true;
      setImmediate(() => {
        this.outFlushScheduled = false;
        if (this.outQueue.length === 0) return;
        this.exclusive(async () => {
          if (this.outQueue.length) await this.transport.write(this.withQueued());
        }).catch((e: unknown) => {
          this.deferredError = e instanceof Error ? e : new Error(String(e));
        });
      });
    }
  }

  /** Queued SYNC_WRITEs (if any) followed by `req`, as one buffer; empties the queue. */
  private withQueued(req?: Uint8Array): Uint8Array {
    const q = this.outQueue;
    if (q.length === 0) return req ?? new Uint8Array(0);
    let n = req ? req.length : 0;
    for (const b of q) n += b.length;
    const out = new Uint8Array(n);
    let o = 0;
    for (const b of q) {
      out.set(b, o);
      o += b.length;
    }
    if (req) out.set(req, o);
    q.length = 0;
    return out;
  }

  private queuedBytes(): number {
    let n = 0;
    for (const b of this.outQueue) n += b.length;
    return n;
  }

  private takeDeferredError(): Error {
    const e = this.deferredError!;
    this.deferredError = undefined;
    return e;
  }

  /** What a PING reply carries: Dynamixel 3 data bytes (model, firmware; some send 2), Feetech none. */
  private pingExpect(id: number): Expect {
    return this.protocol.name === 'dynamixel' ? { ids: [id], dataLen: 3, minLen: 2 } : { ids: [id], dataLen: 0 };
  }

  /** Pings one servo; resolves with its model number (Feetech: read from Model_Number). */
  async ping(id: number, opts: CallOptions = {}): Promise<number> {
    const [f] = await this.transact(this.protocol.encodePing(id), this.pingExpect(id), 'PING', opts.numRetry ?? this.numRetry);
    const model = this.protocol.pingModel(f!);
    if (model !== undefined) return model;
    // Identity only: a servo with fault bits set still tells its model (the faults surface elsewhere).
    return (await this.collectFaults(() => this.read('Model_Number' as R, id, opts))).value;
  }

  /** Pings without throwing: undefined when the servo does not answer. */
  async tryPing(id: number, opts: CallOptions = {}): Promise<number | undefined> {
    try {
      return await this.ping(id, opts);
    } catch (e) {
      if (e instanceof CommunicationError && e.kind !== 'port_closed') return undefined;
      throw e;
    }
  }

  /**
   * Broadcast PING: collects every reply that arrives within the window (wire time of a reply
   * from every possible ID plus the margin), then reads each responder's model number.
   */
  async broadcastPing(): Promise<Map<number, number>> {
    const replyLen = this.protocol.statusLength(this.protocol.name === 'dynamixel' ? 3 : 0);
    const windowMs = wireTimeMs(replyLen * (this.protocol.maxId + 1), this.transport.baudRate) + (this.protocol.maxId * this.returnDelayUs) / 1000 + this.marginMs * 3;
    const frames = await this.exclusive(async () => {
      this.transport.discardInput();
      await this.transport.write(this.withQueued(this.protocol.encodePing(this.protocol.broadcastId)));
      await new Promise((r) => setTimeout(r, Math.ceil(windowMs)));
      const got: StatusFrame[] = [];
      await this.transport
        .receive((buf) => {
          let pos = 0;
          for (;;) {
            const s = this.protocol.scan(buf, pos);
            if (s.kind === 'incomplete') break;
            pos = s.end;
            if (s.kind === 'frame' && s.isStatus) got.push(s.frame);
          }
          return { value: undefined, consumed: buf.length };
        }, 1)
        .catch(() => undefined);
      this.transport.discardInput();
      // A servo answering after the window must not be taken as the answer to a later PING.
      const now = performance.now();
      this.dirty.push({ ids: Array.from({ length: this.protocol.maxId + 1 }, (_, i) => i), dataLen: replyLen - this.protocol.statusLength(0), sentAt: now, until: now + this.horizonMs });
      return got;
    });
    const out = new Map<number, number>();
    for (const f of frames) {
      const m = this.protocol.pingModel(f) ?? (await this.read('Model_Number' as R, f.id).catch(() => undefined));
      if (m !== undefined) out.set(f.id, m);
    }
    return out;
  }

  // ---- transactions -------------------------------------------------------------------

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.busy.then(fn, fn);
    this.busy = run.catch(() => undefined);
    return run;
  }

  /** Sends `req` and collects one status frame from each of `expect.ids`, in order. */
  transact(req: Uint8Array, expect: { ids: readonly number[]; dataLen: number; minLen?: number }, what: string, numRetry: number): Promise<StatusFrame[]> {
    return this.exclusive(() => this.transactNow(() => req, { ...expect, padMax: 0 }, what, numRetry));
  }

  /**
   * Picks the request's tag: the smallest read padding whose reply length no dirty attempt to
   * any of these servos shares. When none is clean (or the request can't vary: writes, pings),
   * waits until the conflicting attempts' horizon has passed.
   */
  private async pickPad(ids: readonly number[], dataLen: number, padMax: number): Promise<number> {
    for (;;) {
      if (this.dirty.length === 0) return 0;
      const now = performance.now();
      // Expired: the caller drains the input right after this (transport.discardInput).
      this.dirty = this.dirty.filter((d) => d.until > now);
      let soonest = Infinity;
      for (let pad = 0; pad <= padMax; pad++) {
        let clash: Dirty | undefined;
        for (const d of this.dirty) {
          if (d.dataLen === dataLen + pad && d.ids.some((id) => ids.includes(id))) {
            clash = d;
            break;
          }
        }
        if (!clash) return pad;
        if (pad === 0) soonest = Math.min(soonest, ...this.dirty.filter((d) => d.dataLen === dataLen && d.ids.some((id) => ids.includes(id))).map((d) => d.until));
      }
      this.stats.tagWaits++;
      await new Promise((r) => setTimeout(r, Math.max(1, Math.ceil(soonest - now))));
    }
  }

  private async transactNow(build: (pad: number) => Uint8Array, base: Expect & { padMax: number }, what: string, numRetry: number): Promise<StatusFrame[]> {
    if (this.deferredError) throw this.takeDeferredError();
    this.stats.transactions++;
    let last: CommunicationError | undefined;
    const n = base.ids.length;
    for (let attempt = 1; attempt <= numRetry + 1; attempt++) {
      const pad = await this.pickPad(base.ids, base.dataLen, base.padMax);
      const req = build(pad);
      const expect: Expect = { ids: base.ids, dataLen: base.dataLen + pad, ...(base.minLen !== undefined ? { minLen: base.minLen + pad } : {}) };
      // Queued SYNC_WRITEs go out in front of this request (see syncWrite).
      const wire = this.wireMs(req.length + this.queuedBytes(), n, expect.dataLen);
      // The first attempt waits the wire time plus the adaptive margin and each retry doubles it,
      // so a lost reply costs one short wait; the last attempt waits at least 50 ms more, so a host
      // or adapter that stalls for a moment (a loaded CPU) still gets through.
      const short = (wire + this.marginMs) * 2 ** (attempt - 1);
      const timeoutMs = attempt === numRetry + 1 && attempt > 1 ? Math.max(short, wire + 2 * this.marginMs + 50) : short;
      this.stats.attempts++;
      if (attempt > 1) this.stats.retries++;
      // Drain: every byte that reached the host so far (user space and the OS buffer) is dropped.
      this.transport.discardInput();
      const out = this.withQueued(req);
      await this.transport.write(out);
      const sentAt = performance.now();
      const collect = this.collector(req, expect);
      try {
        const frames = await this.transport.receive(collect, timeoutMs);
        this.noteExcess(performance.now() - sentAt - wire);
        if (pad > 0) for (const f of frames) f.params = f.params.subarray(0, base.dataLen);
        return frames;
      } catch (err) {
        let e = err;
        if (!(e instanceof CommunicationError) || !e.retryable) throw e;
        if (e.kind === 'timeout' && e.details?.['id'] === undefined) {
          // Name the first servo whose reply is missing.
          const id = expect.ids[Math.min(collect.received(), n - 1)]!;
          e = new CommunicationError('timeout', `no reply from servo ${id}`, { id, timeoutMs });
        }
        if (!(e instanceof CommunicationError)) throw e;
        if (e.kind === 'timeout') this.stats.timeouts++;
        else if (e.kind === 'corrupt') this.stats.corrupt++;
        else if (e.kind === 'unexpected_id') this.stats.unexpectedId++;
        last = e;
        // The rest of this attempt's replies may still come (late, or behind a corrupt one): its
        // tag stays dirty for its own timeout plus the horizon; the retry uses another tag and
        // goes out at once.
        this.dirty.push({ ids: expect.ids, dataLen: expect.dataLen, sentAt, until: sentAt + Math.max(wire, timeoutMs) + this.horizonMs });
      }
    }
    this.stats.failures++;
    throw this.finalError(last!, base, what, numRetry + 1);
  }

  /** A reply frame that answers an earlier, failed attempt arrived: the adapter is slower than the margin assumed. */
  private noteForeign(id: number, dataLen: number): void {
    this.stats.foreignFrames++;
    const now = performance.now();
    for (let i = this.dirty.length - 1; i >= 0; i--) {
      const d = this.dirty[i]!;
      if (d.dataLen === dataLen && d.ids.includes(id)) {
        this.lateMaxMs = Math.max(this.lateMaxMs, now - d.sentAt);
        return;
      }
    }
  }

  private collector(req: Uint8Array, expect: Expect) {
    const frames: StatusFrame[] = [];
    let pos = 0;
    const { protocol } = this;
    const n = expect.ids.length;
    const scan = (buf: Uint8Array): { value: StatusFrame[]; consumed: number } | undefined => {
      for (;;) {
        const s = protocol.scan(buf, pos);
        if (s.kind === 'incomplete') return undefined;
        const wantId = expect.ids[frames.length]!;
        if (s.kind === 'corrupt') {
          throw new CommunicationError('corrupt', `corrupted reply (${s.reason})`, { id: expect.ids.includes(s.id) ? s.id : wantId, reason: s.reason });
        }
        pos = s.end;
        if (!s.isStatus || isEcho(buf, s.start, s.end, req)) continue;
        const len = s.frame.params.length;
        if (expect.minLen !== undefined ? len < expect.minLen : len !== expect.dataLen) {
          // Another request's tag: a late or duplicated reply. Never ours; skip it.
          this.noteForeign(s.frame.id, len);
          continue;
        }
        if (s.frame.id !== wantId) {
          const later = expect.ids.indexOf(s.frame.id, frames.length + 1);
          if (later > 0) {
            // The servos answer in list order: the one expected here stayed silent.
            throw new CommunicationError('timeout', `no reply from servo ${wantId} (servo ${s.frame.id} answered after it)`, { id: wantId, got: s.frame.id, silent: true });
          }
          throw new CommunicationError('unexpected_id', `expected a reply from servo ${wantId}, got one from servo ${s.frame.id}`, { id: wantId, got: s.frame.id });
        }
        frames.push(s.frame);
        if (frames.length === n) return { value: frames, consumed: pos };
      }
    };
    return Object.assign(scan, { received: () => frames.length });
  }

  private finalError(last: CommunicationError, expect: Expect, what: string, attempts: number): CommunicationError {
    const id = (last.details?.['id'] as number | undefined) ?? expect.ids[0]!;
    const got = last.details?.['got'] as number | undefined;
    const who = this.servoLabel(id);
    const baud = this.transport.baudRate;
    const check = `Check that ${who} is powered (the servo bus needs its own supply), that its cable is seated, and that its ID is ${id} at ${baud} baud.`;
    const msg =
      last.kind === 'timeout'
        ? `No reply from ${who} to ${what} after ${attempts} attempt(s)${got !== undefined ? ` (the servos after it answered)` : ''}. ${check}`
        : last.kind === 'corrupt'
          ? `Corrupted replies from ${who} to ${what} after ${attempts} attempt(s). Check the bus cable and connectors for loose contacts, the supply voltage, and that no other program uses the port.`
          : expect.ids.includes(got ?? -1)
            ? `Replies out of order to ${what} after ${attempts} attempt(s): ${this.servoLabel(got!)} answered where ${who} was expected. ${check}`
            : `A servo with ID ${got} answered where ${who} was expected, to ${what}, after ${attempts} attempt(s). ${check} If two servos share an ID, connect them one at a time and give each its own ID (setup motors).`;
    return new CommunicationError(last.kind, msg, { id, what, attempts, ids: [...expect.ids] }, true);
  }

  private raiseFaults(frames: readonly StatusFrame[], ids: readonly number[], reg: string, what: string): void {
    const faults: MotorFault[] = [];
    frames.forEach((f, i) => {
      if (!this.protocol.isFault(f.error)) return;
      const id = ids[i]!;
      const joint = this.names.get(id);
      faults.push({ id, ...(joint ? { joint } : {}), register: reg, errorBits: this.protocol.errorBits(f.error), advice: this.protocol.errorAdvice(f.error) });
    });
    if (faults.length > 0) throw new MotorFaultError(faults, `${what} reported a fault`);
  }

  /** Fault list from a sync read's status bytes (empty when clean). */
  faultsOf(ids: readonly number[], errors: readonly number[], reg?: string): MotorFault[] {
    const out: MotorFault[] = [];
    errors.forEach((err, i) => {
      if (!this.protocol.isFault(err)) return;
      const id = ids[i]!;
      const joint = this.names.get(id);
      out.push({ id, ...(joint ? { joint } : {}), ...(reg ? { register: reg } : {}), errorBits: this.protocol.errorBits(err), advice: this.protocol.errorAdvice(err) });
    });
    return out;
  }
}

function isEcho(buf: Uint8Array, start: number, end: number, req: Uint8Array): boolean {
  if (end - start !== req.length) return false;
  for (let i = 0; i < req.length; i++) if (buf[start + i] !== req[i]) return false;
  return true;
}
