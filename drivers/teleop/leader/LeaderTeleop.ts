/**
 * LeaderTeleop: a leader arm as a streaming Teleop (absolute joint goals).
 *
 * A background loop reads the leader back to back, paced to `rateHz` (default 200, ≥ 100),
 * and keeps the newest sample; `poll()` never waits on the bus. A sample older than
 * `staleMs` is not returned, so when the leader stops answering the loop's watchdog holds.
 * The last read error is kept in `lastError` (typed driver error) for the problems list.
 */
import type { Teleop, TeleopSample } from '../Teleop';
import type { LeaderArm } from '../../robots/so101/ServoLeader';

export interface LeaderTeleopOptions {
  rateHz?: number;
  staleMs?: number;
  now?: () => number;
}

export interface LeaderTeleopStats {
  reads: number;
  errors: number;
  /** Reads per second over the last second of running. */
  achievedHz: number;
}

export class LeaderTeleop implements Teleop {
  readonly name: string;
  readonly streaming = true;
  readonly leader: LeaderArm;
  lastError: Error | undefined;
  readonly stats: LeaderTeleopStats = { reads: 0, errors: 0, achievedHz: 0 };
  private readonly periodMs: number;
  private readonly staleMs: number;
  private readonly now: () => number;
  private latest: TeleopSample | undefined;
  private running = false;
  private loopDone: Promise<void> | undefined;
  private windowStart = 0;
  private windowReads = 0;

  constructor(leader: LeaderArm, opts: LeaderTeleopOptions = {}) {
    this.leader = leader;
    this.name = `leader:${leader.type}:${leader.id}`;
    const rate = opts.rateHz ?? 200;
    if (rate < 100) throw new RangeError('LeaderTeleop: rateHz must be at least 100');
    this.periodMs = 1000 / rate;
    this.staleMs = opts.staleMs ?? 50;
    this.now = opts.now ?? (() => performance.now());
  }

  async connect(): Promise<void> {
    if (!this.leader.isConnected) await this.leader.connect();
    this.start();
  }

  /** Starts the reading loop on an already-connected leader. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loopDone;
  }

  async disconnect(): Promise<void> {
    await this.stop();
    if (this.leader.isConnected) await this.leader.disconnect();
  }

  poll(nowMs: number): TeleopSample | undefined {
    const s = this.latest;
    if (!s || nowMs - s.timeMs > this.staleMs) return undefined;
    return s;
  }

  private async loop(): Promise<void> {
    this.windowStart = this.now();
    let next = this.now();
    while (this.running) {
      try {
        const positions = await this.leader.readPositions();
        const t = this.now();
        this.latest = { command: { kind: 'absolute', positions }, timeMs: t };
        this.stats.reads++;
        this.windowReads++;
        this.lastError = undefined;
      } catch (e) {
        this.stats.errors++;
        this.lastError = e as Error;
        if (!this.leader.isConnected) break;
      }
      const t = this.now();
      if (t - this.windowStart >= 1000) {
        this.stats.achievedHz = (this.windowReads * 1000) / (t - this.windowStart);
        this.windowStart = t;
        this.windowReads = 0;
      }
      next += this.periodMs;
      if (t - next > this.periodMs) next = t; // more than a period behind: resync, don't burst to catch up
      const wait = next - t;
      await new Promise<void>((r) => (wait >= 1 ? setTimeout(r, Math.floor(wait)) : setImmediate(r)));
    }
  }
}
