/**
 * Remote policy runner: a policy served over openpi's WebSocket protocol (models/remote) as the
 * loop's PolicyRunner, with the same action queue and merge modes as a local bundle. The loop's
 * arbiter, safety clamp and watchdog apply unchanged.
 *
 * Latency-aware chunks: each chunk is stamped with the tick its observation was taken at, so the
 * actions the round trip overtook are dropped. A new request starts when fewer actions remain than
 * the larger of g·H and the measured round trip (its recent maximum, in ticks, plus one): at a
 * steady round trip the next chunk lands before the queue runs dry.
 *
 * Faults (server down at start, connection dropped, a reply later than requestTimeoutMs, a reply
 * that is not a message, a server traceback, actions of the wrong shape, NaN or far outside the
 * joint ranges) all do the same: the queue is emptied (the arm holds: `step` returns nothing), a
 * problem names the cause and what to check, and the runner reconnects with backoff (0.5 s
 * doubling to 10 s). Once reconnected it still holds until the operator hands back (`reset`).
 */
import { EventEmitter } from 'node:events';
import { DEFAULT_POLICY_SETTINGS } from '../common/settings';
import type { Problem } from '../common/types';
import type { Observation, PolicyOutput, PolicyRunner } from '../control/types';
import { ActionQueue, type MergeMode } from '../../models/chunking/actionQueue';
import { validateRemoteBundle, type RemoteManifest } from '../../models/remote/manifest';
import { RemoteActionError, RemoteObservationError } from '../../models/remote/mapping';
import { RemoteError } from '../../models/remote/OpenpiClient';
import { RemoteMetadataError, RemotePolicy, type RemoteInferResult, type RemoteTiming } from '../../models/remote/RemotePolicy';
import type { JointRange } from '../../models/remote/mapping';

export type RemoteState = 'connecting' | 'running' | 'awaiting_handback' | 'faulted' | 'stopped';

export interface RemoteRunnerOptions {
  name?: string;
  robotJoints: readonly string[];
  limits?: Readonly<Record<string, JointRange>>;
  /** The loop's rate, to turn the round trip into ticks. */
  rateHz: number;
  ensemble?: MergeMode;
  /** Refill at fewer than g·H queued actions at least (default 0.5, as local bundles). */
  refillFraction?: number;
  temporalCoeff?: number;
  /** Backoff between reconnect attempts: first and largest delay (default 500 / 10,000 ms). */
  backoffMs?: { first: number; max: number };
  env?: Record<string, string | undefined>;
}

export interface RemoteStepTiming extends RemoteTiming {
  inferenceId: number;
  /** Ticks between the observation and the chunk landing. */
  delayTicks: number;
  /** Actions of the chunk already overtaken when it landed (dropped). */
  droppedActions: number;
  /** The refill threshold in actions after this reply. */
  refillAt: number;
}

export interface RemoteRunnerEvents {
  timing: [RemoteStepTiming];
  /** A problem to show, or to clear (`cleared`). One id: 'remote-policy'. */
  problem: [Omit<Problem, 'timeMs'> | { id: string; cleared: true }];
  state: [RemoteState];
}

export const REMOTE_PROBLEM_ID = 'remote-policy';

export class RemoteRunner extends EventEmitter<RemoteRunnerEvents> implements PolicyRunner {
  readonly name: string;
  private readonly queue: ActionQueue;
  private readonly periodMs: number;
  private tick = 0;
  private inflight = false;
  private generation = 0;
  private nextInference = 1;
  private st: RemoteState = 'connecting';
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly rtts: number[] = [];
  private lastCause = '';
  private slowRaised = false;
  private inputProblem = false;

  constructor(readonly policy: RemotePolicy, private readonly o: RemoteRunnerOptions) {
    super();
    this.name = o.name ?? `remote:${policy.manifest.name}`;
    this.periodMs = 1000 / o.rateHz;
    this.queue = new ActionQueue({
      chunk: policy.manifest.action.horizon,
      refillFraction: o.refillFraction ?? 0.5,
      mode: o.ensemble ?? DEFAULT_POLICY_SETTINGS.ensemble,
      temporalCoeff: o.temporalCoeff,
    });
    policy.on('disconnected', (e) => this.fault(e));
  }

  get manifest(): RemoteManifest {
    return this.policy.manifest;
  }
  get state(): RemoteState {
    return this.st;
  }
  get busy(): boolean {
    return this.inflight;
  }

  setEnsemble(mode: MergeMode): void {
    this.queue.mode = mode;
  }

  /** First connection. Resolves true when connected (the runner then runs); false: it holds and retries. */
  async start(): Promise<boolean> {
    this.setState('connecting');
    try {
      await this.policy.connect();
    } catch (e) {
      this.fault(e as Error);
      return false;
    }
    this.attempt = 0;
    this.setState('running');
    return true;
  }

  /** Actions to keep queued so the next chunk lands before the queue runs dry: max(g·H, recent max RTT in ticks + 1), at most H. */
  get refillAt(): number {
    const H = this.manifest.action.horizon;
    const g = Math.ceil((this.o.refillFraction ?? 0.5) * H);
    if (this.rtts.length === 0) return g;
    const rttTicks = Math.ceil(Math.max(...this.rtts) / this.periodMs) + 1;
    return Math.min(H, Math.max(g, rttTicks));
  }

  step(obs: Observation): PolicyOutput | undefined {
    const tick = this.tick++;
    if (this.st !== 'running') return undefined;
    if (!this.inflight && this.queue.remaining(tick) < this.refillAt) this.request(obs, tick);
    const a = this.queue.pop(tick);
    if (a === undefined) return undefined;
    const goal = [...obs.state];
    this.manifest.action.joints.forEach((j, i) => {
      const r = this.o.robotJoints.indexOf(j);
      if (r >= 0) goal[r] = a[i]!;
    });
    return { goal };
  }

  private request(obs: Observation, tick: number): void {
    this.inflight = true;
    const gen = this.generation;
    const id = this.nextInference++;
    this.policy
      .infer({ state: obs.state, images: obs.images, instruction: obs.task })
      .then((r: RemoteInferResult) => {
        if (gen !== this.generation || this.st !== 'running') return;
        const landed = this.tick;
        const dropped = Math.max(0, Math.min(r.chunk.length, landed - tick));
        this.queue.push(tick, r.chunk, landed);
        if (this.inputProblem) {
          this.inputProblem = false;
          this.emit('problem', { id: `${REMOTE_PROBLEM_ID}-input`, cleared: true });
        }
        this.rtts.push(r.remote.roundTripMs);
        if (this.rtts.length > 20) this.rtts.shift();
        const H = this.manifest.action.horizon;
        if (r.remote.roundTripMs > H * this.periodMs) {
          this.slowRaised = true;
          this.emit('problem', {
            id: `${REMOTE_PROBLEM_ID}-slow`,
            severity: 'warning',
            source: 'policy',
            message: `The policy server's round trip (${r.remote.roundTripMs.toFixed(0)} ms) is longer than one chunk (${H} actions, ${(H * this.periodMs).toFixed(0)} ms): the arm will pause between chunks.`,
            tip: `Check the network to ${this.policy.url} or the server's load; a longer action.horizon hides more latency.`,
          });
        } else if (this.slowRaised) {
          this.slowRaised = false;
          this.emit('problem', { id: `${REMOTE_PROBLEM_ID}-slow`, cleared: true });
        }
        this.emit('timing', { inferenceId: id, ...r.remote, delayTicks: landed - tick, droppedActions: dropped, refillAt: this.refillAt });
      })
      .catch((e: Error) => {
        if (this.st === 'stopped' || this.st === 'faulted') return; // stopped, or the fault that dropped the connection is already handled
        if (e instanceof RemoteObservationError) {
          // nothing reached the server: hold this tick and ask again on the next
          this.inputProblem = true;
          this.emit('problem', { id: `${REMOTE_PROBLEM_ID}-input`, severity: 'warning', source: 'policy', message: `The remote policy cannot be asked yet: ${e.message}. The arm holds.`, tip: 'Check the cameras and joints named in the remote manifest.' });
          return;
        }
        this.fault(e);
      })
      .finally(() => {
        this.inflight = false; // one request at a time: this was it
      });
  }

  /** Hold, say why, drop the connection and reconnect with backoff. */
  private fault(e: Error): void {
    if (this.st === 'stopped' || this.st === 'faulted') return;
    this.generation++;
    this.queue.clear();
    this.policy.disconnect();
    const { message, tip } = explain(e, this.policy.url);
    this.lastCause = message;
    this.setState('faulted');
    this.emit('problem', { id: REMOTE_PROBLEM_ID, severity: 'error', source: 'policy', message: `${message} The arm holds; reconnecting.`, tip });
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer !== undefined || this.st === 'stopped') return;
    const b = this.o.backoffMs ?? { first: 500, max: 10_000 };
    const delay = Math.min(b.max, b.first * 2 ** this.attempt);
    this.attempt++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.reconnect();
    }, delay);
  }

  private async reconnect(): Promise<void> {
    if (this.st !== 'faulted') return;
    try {
      await this.policy.connect();
    } catch (e) {
      if (this.st !== 'faulted') return;
      const { message, tip } = explain(e as Error, this.policy.url);
      this.emit('problem', { id: REMOTE_PROBLEM_ID, severity: 'error', source: 'policy', message: `${message} The arm holds; reconnect attempt ${this.attempt} failed, retrying.`, tip });
      this.scheduleReconnect();
      return;
    }
    if (this.st !== 'faulted') return;
    this.attempt = 0;
    this.setState('awaiting_handback');
    this.emit('problem', {
      id: REMOTE_PROBLEM_ID,
      severity: 'warning',
      source: 'policy',
      message: `Reconnected to the policy server ${this.policy.url} (after: ${this.lastCause}). The arm holds until you hand back.`,
      tip: 'Check the scene, then press Hand back to let the remote policy move the arm again.',
    });
  }

  /** Handback (and scene reset): drop queued actions; after a fault, resume only if reconnected. */
  reset(): void {
    // a request in flight lands in the old generation and is discarded; the next starts when it settles
    this.generation++;
    this.queue.clear();
    if (this.st === 'awaiting_handback') {
      this.setState('running');
      this.emit('problem', { id: REMOTE_PROBLEM_ID, cleared: true });
    }
  }

  async stop(): Promise<void> {
    this.setState('stopped');
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.queue.clear();
    await this.policy.dispose(); // the session clears this runner's problems (their ids are shared with the next runner)
  }

  private setState(s: RemoteState): void {
    if (this.st === s) return;
    this.st = s;
    this.emit('state', s);
  }
}

/** The operator's sentence for a fault, and what to check. */
function explain(e: Error, url: string): { message: string; tip: string } {
  if (e instanceof RemoteMetadataError) {
    return { message: `The policy server at ${url} does not match its manifest: ${e.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}.`, tip: 'Fix the remote manifest (or serve the policy it describes).' };
  }
  if (e instanceof RemoteActionError) {
    return { message: `The policy server sent unusable actions: ${e.message}.`, tip: 'Check that the server runs the policy the manifest describes (action joints, horizon, units).' };
  }
  if (e instanceof RemoteError) {
    switch (e.kind) {
      case 'unreachable':
        return { message: `The policy server is unreachable: ${e.message}.`, tip: `Start the server, or check the address ${url} (and the SSH tunnel, if you use one).` };
      case 'timeout':
        return { message: `The policy server is too slow: ${e.message}.`, tip: 'Check the server machine (GPU busy?) and the network; raise server.requestTimeoutMs only if the round trip is always this long.' };
      case 'closed':
        return { message: `The connection to the policy server was lost: ${e.message}.`, tip: `Check the server process and the network (or SSH tunnel) to ${url}.` };
      case 'server_error':
        return { message: `The policy server failed on a request: ${e.message}.`, tip: "Read the server's log; the observation keys or shapes may not match what its policy expects." };
      case 'bad_message':
        return { message: `The policy server sent garbage: ${e.message}.`, tip: 'Check that the address is an openpi policy server (protocol openpi-websocket).' };
      case 'busy':
        return { message: `Internal: ${e.message}.`, tip: 'Stop and start the policy.' };
    }
  }
  return { message: `The remote policy failed: ${e.message}.`, tip: 'Stop the policy and check the remote manifest.' };
}

/** Validates the manifest folder against the robot, builds the policy and runner, and tries to connect. */
export async function createRemoteRunner(dir: string, opts: RemoteRunnerOptions & { cameras?: readonly string[] }): Promise<RemoteRunner> {
  const report = validateRemoteBundle(dir, { robotJoints: opts.robotJoints, cameras: opts.cameras }, opts.env ?? process.env);
  if (!report.ok || report.manifest === undefined) {
    throw Object.assign(new Error(`remote policy ${dir} is invalid:\n${report.problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`), { problems: report.problems });
  }
  const policy = new RemotePolicy(report.manifest, { robotJoints: opts.robotJoints, ...(opts.limits ? { limits: opts.limits } : {}), ...(opts.env ? { env: opts.env } : {}) });
  const runner = new RemoteRunner(policy, opts);
  return runner;
}
