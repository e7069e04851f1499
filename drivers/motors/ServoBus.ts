/**
 * ServoBus: the protocol-agnostic half-duplex servo bus (one transaction at a time).
 *
 * Never stale: every transaction starts from an empty input buffer, replies are matched to
 * the request by servo ID and order (and echoes of our own request are skipped), and after
 * any failed attempt the bus waits for the line to go quiet and discards everything before
 * retrying. A reply that arrives after its timeout *and* after that quiet window would
 * still look valid, so SYNC_READ also rotates the order of the IDs it asks for on every
 * transaction (servos answer in list order): a late reply set from an earlier request then
 * starts with the wrong ID and is rejected instead of being taken as this cycle's data.
 *
 * Never slow to fail: each reply timeout is the wire time of the request and the expected
 * replies at the current baud rate, plus the servos' return delay, plus `latencyMarginMs`
 * for the USB adapter and OS (default 3 ms; raise it for adapters with a long latency timer,
 * e.g. FTDI's 16 ms default). A dropped reply costs one short timeout and a retry, not tens
 * of ms; each further retry doubles the timeout. Retry counts are explicit per call.
 */
import { wireTimeMs, type Transport } from '../transport/Transport';
import { CommunicationError } from '../transport/errors';
import { MotorFaultError, type MotorFault } from './errors';
import type { BusProtocol, StatusFrame } from './protocol';

export interface ServoBusOptions {
  /** Retries after the first attempt for reads (LeRobot's SO arms use 2). */
  numRetry?: number;
  latencyMarginMs?: number;
  /** Servo return delay in microseconds (LeRobot configures 0). */
  returnDelayUs?: number;
  /** Names of servo IDs, used in messages ("servo 3 (elbow_flex)"). */
  names?: ReadonlyMap<number, string>;
}

export interface CallOptions {
  numRetry?: number;
}

export interface BusStats {
  transactions: number;
  attempts: number;
  retries: number;
  timeouts: number;
  corrupt: number;
  unexpectedId: number;
  failures: number;
}

export interface SyncReadResult {
  values: number[];
  /** Status byte of each servo's reply (0 = clean). */
  errors: number[];
}

interface Expect {
  ids: readonly number[];
  dataLen: number;
}

export class ServoBus<R extends string> {
  readonly transport: Transport;
  readonly protocol: BusProtocol<R>;
  numRetry: number;
  latencyMarginMs: number;
  returnDelayUs: number;
  names: ReadonlyMap<number, string>;
  readonly stats: BusStats = { transactions: 0, attempts: 0, retries: 0, timeouts: 0, corrupt: 0, unexpectedId: 0, failures: 0 };
  private busy: Promise<unknown> = Promise.resolve();
  private seq = 0;

  constructor(transport: Transport, protocol: BusProtocol<R>, opts: ServoBusOptions = {}) {
    this.transport = transport;
    this.protocol = protocol;
    this.numRetry = opts.numRetry ?? 2;
    this.latencyMarginMs = opts.latencyMarginMs ?? 3;
    this.returnDelayUs = opts.returnDelayUs ?? 0;
    this.names = opts.names ?? new Map();
  }

  get isOpen(): boolean {
    return this.transport.isOpen;
  }

  async open(): Promise<void> {
    await this.transport.open();
    await this.transport.flush();
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  servoLabel(id: number): string {
    const n = this.names.get(id);
    return n ? `servo ${id} (${n})` : `servo ${id}`;
  }

  /** Reply timeout for a request of reqBytes expecting replies carrying dataLen bytes from n servos. */
  timeoutMs(reqBytes: number, n: number, dataLen: number): number {
    const wire = wireTimeMs(reqBytes + n * this.protocol.statusLength(dataLen), this.transport.baudRate);
    return wire + (n * this.returnDelayUs) / 1000 + this.latencyMarginMs;
  }

  // ---- register access by name ------------------------------------------------------

  async read(reg: R, id: number, opts: CallOptions = {}): Promise<number> {
    const def = this.protocol.table[reg];
    const [f] = await this.transact(this.protocol.encodeRead(id, def.address, def.size), { ids: [id], dataLen: def.size }, `READ ${reg}`, opts.numRetry ?? this.numRetry);
    this.raiseFaults([f!], [id], reg, `READ ${reg}`);
    return this.protocol.decodeValue(reg, f!.params, 0);
  }

  async write(reg: R, id: number, value: number, opts: CallOptions = {}): Promise<void> {
    const def = this.protocol.table[reg];
    const data = this.protocol.encodeValue(reg, value);
    const [f] = await this.transact(this.protocol.encodeWrite(id, def.address, data), { ids: [id], dataLen: 0 }, `WRITE ${reg}`, opts.numRetry ?? this.numRetry);
    this.raiseFaults([f!], [id], reg, `WRITE ${reg}=${value}`);
  }

  /** Reads one register from many servos with one SYNC_READ. Fault bits are returned, not thrown. */
  async syncRead(reg: R, ids: readonly number[], opts: CallOptions = {}): Promise<SyncReadResult> {
    const def = this.protocol.table[reg];
    const frames = await this.syncReadBlock(def.address, def.size, ids, opts, `SYNC_READ ${reg}`);
    return { values: frames.map((f) => this.protocol.decodeValue(reg, f.params, 0)), errors: frames.map((f) => f.error) };
  }

  /** Raw SYNC_READ of a block of registers (address..address+length) from many servos. */
  async syncReadBlock(address: number, length: number, ids: readonly number[], opts: CallOptions = {}, what = `SYNC_READ @${address}+${length}`): Promise<StatusFrame[]> {
    return this.exclusive(async () => {
      const numRetry = opts.numRetry ?? this.numRetry;
      // Rotate the request order each transaction (see the module comment); results come back in `ids` order.
      const k = ids.length > 1 ? this.seq++ % ids.length : 0;
      const order = k === 0 ? ids : [...ids.slice(k), ...ids.slice(0, k)];
      const frames = await this.transactNow(this.protocol.encodeSyncRead(address, length, order), { ids: order, dataLen: length }, what, numRetry);
      if (k === 0) return frames;
      const byId = new Map(frames.map((f) => [f.id, f]));
      return ids.map((id) => byId.get(id)!);
    });
  }

  /** One SYNC_WRITE (broadcast, no reply: fire-and-forget, as fast as the wire allows). */
  async syncWrite(reg: R, entries: readonly { id: number; value: number }[]): Promise<void> {
    const def = this.protocol.table[reg];
    const req = this.protocol.encodeSyncWrite(
      def.address,
      def.size,
      entries.map((e) => ({ id: e.id, data: this.protocol.encodeValue(reg, e.value) })),
    );
    await this.exclusive(async () => {
      this.transport.discardInput();
      await this.transport.write(req);
    });
  }

  /** Pings one servo; resolves with its model number (Feetech: read from Model_Number). */
  async ping(id: number, opts: CallOptions = {}): Promise<number> {
    const [f] = await this.transact(this.protocol.encodePing(id), { ids: [id], dataLen: this.protocol.name === 'dynamixel' ? 3 : 0 }, 'PING', opts.numRetry ?? this.numRetry);
    const model = this.protocol.pingModel(f!);
    if (model !== undefined) return model;
    return this.read('Model_Number' as R, id, opts);
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
    const windowMs = wireTimeMs(replyLen * (this.protocol.maxId + 1), this.transport.baudRate) + (this.protocol.maxId * this.returnDelayUs) / 1000 + this.latencyMarginMs * 3;
    const frames = await this.exclusive(async () => {
      this.transport.discardInput();
      await this.transport.write(this.protocol.encodePing(this.protocol.broadcastId));
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
  transact(req: Uint8Array, expect: Expect, what: string, numRetry: number): Promise<StatusFrame[]> {
    return this.exclusive(() => this.transactNow(req, expect, what, numRetry));
  }

  private async transactNow(req: Uint8Array, expect: Expect, what: string, numRetry: number): Promise<StatusFrame[]> {
    this.stats.transactions++;
    const baseTimeoutMs = this.timeoutMs(req.length, expect.ids.length, expect.dataLen);
    let last: CommunicationError | undefined;
    for (let attempt = 1; attempt <= numRetry + 1; attempt++) {
      // The first attempt waits the wire-time budget; each retry doubles it, so a lost reply
      // costs one short wait while a host that is briefly slow (GC, a loaded CPU) still gets through.
      const timeoutMs = baseTimeoutMs * 2 ** (attempt - 1);
      this.stats.attempts++;
      if (attempt > 1) this.stats.retries++;
      this.transport.discardInput();
      await this.transport.write(req);
      const collect = this.collector(req, expect);
      try {
        return await this.transport.receive(collect, timeoutMs);
      } catch (err) {
        let e = err;
        if (!(e instanceof CommunicationError) || !e.retryable) throw e;
        if (e.kind === 'timeout') {
          // Name the first servo whose reply is missing.
          const id = expect.ids[Math.min(collect.received(), expect.ids.length - 1)]!;
          e = new CommunicationError('timeout', `no reply from servo ${id}`, { id, timeoutMs });
        }
        if (!(e instanceof CommunicationError)) throw e;
        if (e.kind === 'timeout') this.stats.timeouts++;
        else if (e.kind === 'corrupt') this.stats.corrupt++;
        else if (e.kind === 'unexpected_id') this.stats.unexpectedId++;
        last = e;
        // Let the rest of this attempt's replies land, then drop them. After a timeout the reply
        // may just be late: a single-servo read waits a whole timeout of silence (nothing else
        // would tell its late reply from the next one); a multi-servo SYNC_READ needs only a
        // short pause because the next request's rotated ID order rejects a late reply set.
        const quietMs = e.kind === 'timeout' && expect.ids.length === 1 ? Math.max(1, timeoutMs) : 1;
        await this.transport.settle(quietMs, 3 * timeoutMs + 2);
      }
    }
    this.stats.failures++;
    throw this.finalError(last!, expect, what, numRetry + 1);
  }

  private collector(req: Uint8Array, expect: Expect) {
    const frames: StatusFrame[] = [];
    let pos = 0;
    const { protocol } = this;
    const scan = (buf: Uint8Array): { value: StatusFrame[]; consumed: number } | undefined => {
      for (;;) {
        const s = protocol.scan(buf, pos);
        if (s.kind === 'incomplete') return undefined;
        const wantId = expect.ids[frames.length]!;
        if (s.kind === 'corrupt') {
          throw new CommunicationError('corrupt', `corrupted reply (${s.reason})`, { id: s.id === wantId ? wantId : wantId, reason: s.reason });
        }
        pos = s.end;
        if (!s.isStatus || isEcho(buf, s.start, s.end, req)) continue;
        if (s.frame.id !== wantId) {
          throw new CommunicationError('unexpected_id', `expected a reply from servo ${wantId}, got one from servo ${s.frame.id}`, { id: wantId, got: s.frame.id });
        }
        if (s.frame.params.length !== expect.dataLen && !(expect.dataLen === 3 && s.frame.params.length >= 2)) {
          throw new CommunicationError('corrupt', `reply from servo ${wantId} has ${s.frame.params.length} data bytes, expected ${expect.dataLen}`, { id: wantId });
        }
        frames.push(s.frame);
        if (frames.length === expect.ids.length) return { value: frames, consumed: pos };
      }
    };
    return Object.assign(scan, { received: () => frames.length });
  }

  private finalError(last: CommunicationError, expect: Expect, what: string, attempts: number): CommunicationError {
    const id = (last.details?.['id'] as number | undefined) ?? expect.ids[0]!;
    const who = this.servoLabel(id);
    const baud = this.transport.baudRate;
    const check = `Check that ${who} is powered (the servo bus needs its own supply), that its cable is seated, and that its ID is ${id} at ${baud} baud.`;
    const msg =
      last.kind === 'timeout'
        ? `No reply from ${who} to ${what} after ${attempts} attempt(s). ${check}`
        : last.kind === 'corrupt'
          ? `Corrupted replies from ${who} to ${what} after ${attempts} attempt(s). Check the bus cable and connectors for loose contacts, the supply voltage, and that no other program uses the port.`
          : `Reply from the wrong servo (expected ${who}) to ${what} after ${attempts} attempt(s). ${check} Two servos may share an ID.`;
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
