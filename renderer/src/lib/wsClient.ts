/**
 * The contract over the headless host's WebSocket (`/ws` on the page's own origin):
 *   → {t:'invoke', id, name, args}        ← {t:'reply', id, ok, value | error}
 *   → {t:'command', name, args}           ← {t:'error', error} when the host rejects one
 *   ← {t:'event', name, payload}          ← binary: a camera frame (main/common/frames.ts)
 * Reconnects with exponential backoff; invokes made while connecting wait for the socket,
 * invokes made while disconnected (or in flight when it drops) reject with `not_connected`.
 * The socket and timers are injected so this is tested without a network.
 */
import type { ApiErrorData } from '../../../main/common/errors';
import type { CommandArgs, CommandName, EventName, EventPayloads, InvokeArgs, InvokeName, InvokeResults, ReinsApi } from '../../../main/common/contract';
import { decodeFrame } from '../../../main/common/frames';
import { ApiError } from './errors';

/** The part of the DOM WebSocket this client uses. */
export interface SocketLike {
  readonly readyState: number;
  binaryType: string;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code?: number; reason?: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type ConnectionPhase = 'connecting' | 'open' | 'closed';

export interface ConnectionState {
  phase: ConnectionPhase;
  /** Reconnect attempts since the last successful open. */
  attempts: number;
  /** When the next reconnect attempt happens (Date.now() ms), while closed. */
  retryAt?: number;
  /** Times the socket has opened; > 1 means this is a reconnection. */
  opens: number;
  reason?: string;
}

export interface WsClientOptions {
  url: string;
  createSocket: (url: string) => SocketLike;
  setTimeout?: (cb: () => void, ms: number) => unknown;
  clearTimeout?: (h: unknown) => void;
  now?: () => number;
  /** Backoff: first delay, cap, factor. */
  backoff?: { initialMs: number; maxMs: number; factor: number };
  /** How long an invoke may wait for its reply. */
  invokeTimeoutMs?: number;
}

const OPEN = 1;
const CONNECTING = 0;

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: unknown;
  name: string;
}

type Listener = (payload: never) => void;

export class WsClient implements ReinsApi {
  private socket: SocketLike | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly queued: { id: number; text: string }[] = [];
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly statusListeners = new Set<(s: ConnectionState) => void>();
  private readonly serverErrorListeners = new Set<(e: ApiErrorData) => void>();
  private state: ConnectionState = { phase: 'closed', attempts: 0, opens: 0 };
  private retryTimer: unknown;
  private disposed = false;
  private readonly st: (cb: () => void, ms: number) => unknown;
  private readonly ct: (h: unknown) => void;
  private readonly now: () => number;
  private readonly backoff: { initialMs: number; maxMs: number; factor: number };
  private readonly invokeTimeoutMs: number;

  constructor(private readonly opts: WsClientOptions) {
    this.st = opts.setTimeout ?? ((cb, ms) => globalThis.setTimeout(cb, ms));
    this.ct = opts.clearTimeout ?? ((h) => globalThis.clearTimeout(h as ReturnType<typeof globalThis.setTimeout>));
    this.now = opts.now ?? (() => Date.now());
    this.backoff = opts.backoff ?? { initialMs: 500, maxMs: 5000, factor: 2 };
    this.invokeTimeoutMs = opts.invokeTimeoutMs ?? 60_000;
  }

  get connection(): ConnectionState {
    return this.state;
  }

  connect(): void {
    if (this.disposed) return;
    if (this.socket !== undefined && (this.socket.readyState === OPEN || this.socket.readyState === CONNECTING)) return;
    let sock: SocketLike;
    try {
      sock = this.opts.createSocket(this.opts.url);
    } catch (e) {
      this.setState({ phase: 'closed', attempts: this.state.attempts, opens: this.state.opens, reason: e instanceof Error ? e.message : String(e) });
      this.scheduleReconnect();
      return;
    }
    this.socket = sock;
    sock.binaryType = 'arraybuffer';
    this.setState({ phase: 'connecting', attempts: this.state.attempts, opens: this.state.opens });
    sock.onopen = () => {
      if (this.socket !== sock) return;
      this.setState({ phase: 'open', attempts: 0, opens: this.state.opens + 1 });
      const q = this.queued.splice(0);
      for (const m of q) {
        if (this.pending.has(m.id)) sock.send(m.text);
      }
    };
    sock.onmessage = (ev) => {
      if (this.socket === sock) this.handleMessage(ev.data);
    };
    sock.onerror = () => {
      /* the close event follows and carries the reconnect */
    };
    sock.onclose = (ev) => {
      if (this.socket !== sock) return;
      this.socket = undefined;
      this.failAll('Disconnected from the host before it answered. Check that the host is still running; the console reconnects by itself.');
      const reason = ev.reason !== undefined && ev.reason !== '' ? ev.reason : `connection closed${ev.code !== undefined ? ` (code ${ev.code})` : ''}`;
      this.setState({ phase: 'closed', attempts: this.state.attempts, opens: this.state.opens, reason });
      this.scheduleReconnect();
    };
  }

  dispose(): void {
    this.disposed = true;
    if (this.retryTimer !== undefined) this.ct(this.retryTimer);
    this.retryTimer = undefined;
    const s = this.socket;
    this.socket = undefined;
    this.failAll('The console closed its connection.');
    if (s !== undefined) s.close(1000, 'disposed');
  }

  invoke<K extends InvokeName>(name: K, args: InvokeArgs<K>): Promise<InvokeResults[K]> {
    return new Promise<InvokeResults[K]>((resolve, reject) => {
      const sock = this.socket;
      if (sock === undefined || (sock.readyState !== OPEN && sock.readyState !== CONNECTING)) {
        reject(new ApiError({ code: 'not_connected', message: 'Not connected to the host (reconnecting). Try again in a moment.' }));
        return;
      }
      const id = this.nextId++;
      const text = JSON.stringify({ t: 'invoke', id, name, args });
      const timer = this.st(() => {
        if (this.pending.delete(id)) reject(new ApiError({ code: 'timeout', message: `The host did not answer ${name} within ${Math.round(this.invokeTimeoutMs / 1000)} s.` }));
      }, this.invokeTimeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer, name });
      if (sock.readyState === OPEN) sock.send(text);
      else this.queued.push({ id, text });
    });
  }

  send<K extends CommandName>(name: K, args: CommandArgs<K>): void {
    const sock = this.socket;
    if (sock === undefined || sock.readyState !== OPEN) return; // dropped: the banner says we are disconnected
    sock.send(JSON.stringify({ t: 'command', name, args }));
  }

  on<K extends EventName>(name: K, cb: (payload: EventPayloads[K]) => void): () => void {
    let set = this.listeners.get(name);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(name, set);
    }
    const l = cb as Listener;
    set.add(l);
    return () => {
      this.listeners.get(name)?.delete(l);
    };
  }

  onConnection(cb: (s: ConnectionState) => void): () => void {
    this.statusListeners.add(cb);
    cb(this.state);
    return () => {
      this.statusListeners.delete(cb);
    };
  }

  /** Errors the host reports for commands (which have no reply). */
  onServerError(cb: (e: ApiErrorData) => void): () => void {
    this.serverErrorListeners.add(cb);
    return () => {
      this.serverErrorListeners.delete(cb);
    };
  }

  private handleMessage(data: unknown): void {
    if (typeof data === 'string') {
      let msg: unknown;
      try {
        msg = JSON.parse(data);
      } catch {
        return;
      }
      this.handleJson(msg);
      return;
    }
    let bytes: Uint8Array | undefined;
    if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
    else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (bytes === undefined) return;
    let frame;
    try {
      frame = decodeFrame(bytes);
    } catch {
      return; // not a frame we understand: ignore rather than break the stream
    }
    this.emit('frame', frame);
  }

  private handleJson(msg: unknown): void {
    if (msg === null || typeof msg !== 'object') return;
    const m = msg as { t?: unknown; id?: unknown; ok?: unknown; value?: unknown; error?: unknown; name?: unknown; payload?: unknown };
    switch (m.t) {
      case 'reply': {
        if (typeof m.id !== 'number') return;
        const p = this.pending.get(m.id);
        if (p === undefined) return;
        this.pending.delete(m.id);
        this.ct(p.timer);
        if (m.ok === true) p.resolve(m.value);
        else p.reject(new ApiError(asErrorData(m.error)));
        return;
      }
      case 'event':
        if (typeof m.name === 'string') this.emit(m.name, m.payload);
        return;
      case 'error': {
        const e = asErrorData(m.error);
        if (typeof m.id === 'number' && this.pending.has(m.id)) {
          const p = this.pending.get(m.id)!;
          this.pending.delete(m.id);
          this.ct(p.timer);
          p.reject(new ApiError(e));
          return;
        }
        for (const cb of this.serverErrorListeners) cb(e);
        return;
      }
      default:
        return;
    }
  }

  private emit(name: string, payload: unknown): void {
    const set = this.listeners.get(name);
    if (set === undefined) return;
    for (const cb of [...set]) {
      try {
        (cb as (p: unknown) => void)(payload);
      } catch (e) {
        // a failing panel must not break the stream for the others; report asynchronously
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }

  private failAll(message: string): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    this.queued.length = 0;
    for (const p of all) {
      this.ct(p.timer);
      p.reject(new ApiError({ code: 'not_connected', message }));
    }
  }

  private scheduleReconnect(): void {
    if (this.disposed) return;
    const attempts = this.state.attempts;
    const delay = Math.min(this.backoff.maxMs, this.backoff.initialMs * this.backoff.factor ** attempts);
    this.setState({ ...this.state, attempts: attempts + 1, retryAt: this.now() + delay });
    if (this.retryTimer !== undefined) this.ct(this.retryTimer);
    this.retryTimer = this.st(() => {
      this.retryTimer = undefined;
      this.connect();
    }, delay);
  }

  private setState(s: ConnectionState): void {
    this.state = s;
    for (const cb of [...this.statusListeners]) cb(s);
  }
}

function asErrorData(e: unknown): ApiErrorData {
  const x = e as { code?: unknown; message?: unknown } | null | undefined;
  if (x !== null && x !== undefined && typeof x === 'object' && typeof x.message === 'string') {
    return { code: (typeof x.code === 'string' ? x.code : 'internal') as ApiErrorData['code'], message: x.message };
  }
  return { code: 'internal', message: 'The host reported an error without a message.' };
}

/** `/ws` on the page's own origin, carrying `?token=` from the page URL when present. */
export function wsUrlFor(pageHref: string): string {
  const u = new URL(pageHref);
  const proto = u.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = u.searchParams.get('token');
  const q = token !== null && token !== '' ? `?token=${encodeURIComponent(token)}` : '';
  return `${proto}//${u.host}/ws${q}`;
}
