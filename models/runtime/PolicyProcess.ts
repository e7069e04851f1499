/**
 * Main-side handle on the inference child process. The child is started with tsx at niceness 19
 * (os.setPriority) and, on Linux with 2+ CPUs, pinned to the last CPU(s) through `taskset -c`
 * (placement.ts; taskset missing or another platform is logged, never silent); SCHED_IDLE through
 * `chrt --idle 0` on request. On 2 cores a low-priority child kept a 200 Hz loop at 0.5–0.8 ms
 * p99, where a worker thread with 2 intra-op threads gave 3–7 ms (shared/specs/limits.md); pinned,
 * 0.003–0.37 ms against 3.2 ms unpinned (bench/policy.ts --only loop; models/README.md).
 * In Electron the same child.ts can run under utilityProcess.
 *
 * One inference at a time: `infer` calls queue. A crash of the child rejects what is pending with
 * PolicyCrashedError and emits 'crashed', so the loop can hold. `dispose` ends it.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { BundleProblem, Manifest } from './manifest';
import { planLaunch, probeTools, type ChildPlacement, type Tools } from './placement';
import type { SessionConfig } from './ort';
import type { FromChild, ToChild } from './protocol';
import type { DecodeSettings, InferResult } from '../policies/types';
import type { PolicyObservation } from '../policies/preprocess';

export class PolicyCrashedError extends Error {
  readonly code = 'POLICY_CRASHED';
  constructor(readonly exitCode: number | null, readonly signal: string | null) {
    super(`policy process exited (code ${exitCode ?? '-'}, signal ${signal ?? '-'})`);
    this.name = 'PolicyCrashedError';
  }
}

export class PolicyLoadError extends Error {
  readonly code = 'POLICY_LOAD_FAILED';
  constructor(message: string, readonly problems: BundleProblem[]) {
    super(message);
    this.name = 'PolicyLoadError';
  }
}

export class PolicyInferenceError extends Error {
  readonly code = 'POLICY_INFERENCE_FAILED';
  constructor(message: string) {
    super(message);
    this.name = 'PolicyInferenceError';
  }
}

export interface PolicyProcessOptions {
  /** The child's entry and Node flags when running from a bundle (default: child.ts through tsx). */
  childEntry?: { path: string; execArgv: string[] };
  robotJoints?: string[];
  session?: SessionConfig;
  draftSession?: SessionConfig;
  planCacheThreshold?: number;
  /** Niceness for the child (0..19); default 19 (what limits.md measured). */
  niceness?: number;
  /** CPU class of the child: 'normal' (SCHED_OTHER at `niceness`, default) or 'idle' (SCHED_IDLE). */
  sched?: ChildPlacement['sched'];
  /** CPUs the child may run on (taskset -c); default: the last intraOp CPUs on Linux with 2+ CPUs (placement.ts); 'any': none. */
  cpus?: ChildPlacement['cpus'];
  /** Where placement notes go (a tool missing, an unsupported platform); default console.warn. */
  log?: (message: string) => void;
  /** Tools found on this machine (tests inject; default probed once). */
  tools?: Tools;
  /** Extra environment for the child. */
  env?: Record<string, string>;
}

interface Pending {
  id: number;
  obs: PolicyObservation;
  settings: DecodeSettings;
  onFields?: (f: Record<string, string>) => void;
  resolve: (r: InferResult) => void;
  reject: (e: Error) => void;
}

export interface PolicyProcessEvents {
  crashed: [PolicyCrashedError];
}

export class PolicyProcess extends EventEmitter<PolicyProcessEvents> {
  private nextId = 1;
  private readonly queue: Pending[] = [];
  private current: Pending | undefined;
  private exited = false;
  private disposing = false;
  private crash: PolicyCrashedError | undefined;

  /**
   * @param placement what the child runs with, e.g. "SCHED_IDLE, CPUs 1" or "nice 19"
   */
  private constructor(private readonly child: ChildProcess, readonly manifest: Manifest, readonly placement: string) {
    super();
    child.on('message', (m: FromChild) => this.onMessage(m));
    child.on('exit', (code, signal) => this.onExit(code, signal));
  }

  /** Forks the child, loads and validates the bundle there; throws PolicyLoadError with every problem. */
  static async start(dir: string, opts: PolicyProcessOptions = {}): Promise<PolicyProcess> {
    // From source (tsx) the child is child.ts; a bundled build (Electron) passes its built entry.
    const childPath = opts.childEntry?.path ?? fileURLToPath(new URL('./child.ts', import.meta.url));
    const execArgv = opts.childEntry?.execArgv ?? ['--import', 'tsx'];
    const plan = planLaunch(process.execPath, [...execArgv, childPath], { sched: opts.sched, cpus: opts.cpus, niceness: opts.niceness }, opts.tools ?? probeTools(), opts.session?.intraOpNumThreads ?? 1);
    const log = opts.log ?? ((m: string) => console.warn(`[policy] ${m}`));
    for (const n of plan.notes) log(n);
    const env = { ...process.env, ...opts.env };
    const child =
      plan.command === process.execPath
        ? fork(childPath, [], { execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env })
        : // through chrt / taskset, which exec node in place (same pid; the IPC fd is inherited)
          spawn(plan.command, plan.args, {
            serialization: 'advanced',
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
            env: process.versions.electron !== undefined ? { ...env, ELECTRON_RUN_AS_NODE: '1' } : env,
          });
    // errors of the child handle (it could not be started; a send after it died) surface as the
    // load error below or as its 'exit' (PolicyCrashedError); without a listener they would throw
    child.on('error', () => undefined);
    try {
      if (child.pid !== undefined) setPriority(child.pid, opts.niceness ?? 19);
    } catch (e) {
      // the child still runs, at its parent's priority: say so rather than pretend
      log(`niceness ${opts.niceness ?? 19} not applied to the policy child: ${(e as Error).message}`);
    }
    const manifest = await new Promise<Manifest>((resolve, reject) => {
      const onMsg = (m: FromChild): void => {
        if (m.type === 'loaded') {
          cleanup();
          resolve(m.manifest);
        } else if (m.type === 'loadFailed') {
          cleanup();
          child.kill();
          reject(new PolicyLoadError(m.message, m.problems));
        }
      };
      const onExit = (code: number | null, signal: string | null): void => {
        cleanup();
        reject(new PolicyCrashedError(code, signal));
      };
      const onError = (e: Error): void => {
        // the program could not be started (e.g. chrt or node vanished after the probe)
        cleanup();
        reject(new PolicyLoadError(`policy process could not start (${[plan.command, ...plan.args].join(' ')}): ${e.message}`, []));
      };
      const cleanup = (): void => {
        child.off('message', onMsg);
        child.off('exit', onExit);
        child.off('error', onError);
      };
      child.on('message', onMsg);
      child.on('exit', onExit);
      child.on('error', onError);
      const load: ToChild = {
        type: 'load',
        dir,
        robotJoints: opts.robotJoints,
        session: opts.session,
        draftSession: opts.draftSession,
        planCacheThreshold: opts.planCacheThreshold,
      };
      if (child.pid !== undefined) child.send(load);
    });
    return new PolicyProcess(child, manifest, plan.effective);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return !this.exited;
  }

  get busy(): boolean {
    return this.current !== undefined || this.queue.length > 0;
  }

  infer(obs: PolicyObservation, settings: DecodeSettings, onFields?: (f: Record<string, string>) => void): Promise<InferResult> {
    if (this.crash !== undefined) return Promise.reject(this.crash);
    if (this.exited || this.disposing) return Promise.reject(new PolicyInferenceError('policy process disposed'));
    return new Promise<InferResult>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, obs, settings, onFields, resolve, reject });
      this.pump();
    });
  }

  reset(): void {
    if (!this.exited) this.child.send({ type: 'reset' } satisfies ToChild);
  }

  async dispose(): Promise<void> {
    if (this.exited) return;
    this.disposing = true;
    for (const p of this.queue.splice(0)) p.reject(new PolicyInferenceError('policy process disposed'));
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => this.child.kill('SIGKILL'), 3000);
      this.child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      this.child.send({ type: 'dispose' } satisfies ToChild);
    });
  }

  private pump(): void {
    if (this.current !== undefined || this.exited) return;
    const next = this.queue.shift();
    if (next === undefined) return;
    this.current = next;
    this.child.send({ type: 'infer', id: next.id, obs: next.obs, settings: next.settings } satisfies ToChild);
  }

  private onMessage(m: FromChild): void {
    const cur = this.current;
    if (m.type === 'fields' && cur?.id === m.id) cur.onFields?.(m.fields);
    else if (m.type === 'result' && cur?.id === m.id) {
      this.current = undefined;
      cur.resolve(m.result);
      this.pump();
    } else if (m.type === 'error' && cur?.id === m.id) {
      this.current = undefined;
      cur.reject(new PolicyInferenceError(m.message));
      this.pump();
    }
  }

  private onExit(code: number | null, signal: string | null): void {
    this.exited = true;
    const pending = [...(this.current !== undefined ? [this.current] : []), ...this.queue.splice(0)];
    this.current = undefined;
    if (this.disposing) {
      for (const p of pending) p.reject(new PolicyInferenceError('policy process disposed'));
      return;
    }
    this.crash = new PolicyCrashedError(code, signal);
    for (const p of pending) p.reject(this.crash);
    this.emit('crashed', this.crash);
  }
}
