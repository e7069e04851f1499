/**
 * Client of openpi's policy server protocol over WebSocket (the `ws` library), in the main process:
 * it is I/O, not compute. On connect the server sends one binary message, its metadata; then each
 * binary request (a msgpack observation) gets one reply: a binary msgpack map, or a text frame
 * holding a traceback, after which the server closes (1011). Replies carry no request id, so one
 * request is in flight at a time and a request past its timeout drops the connection (a late
 * reply must never be taken for the next request's).
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { packMessage, unpackMessage, type WireValue } from './msgpackNumpy';

export type RemoteErrorKind = 'unreachable' | 'timeout' | 'closed' | 'server_error' | 'bad_message' | 'busy';

/** A failure talking to the server; `kind` says which, the message what to check. */
export class RemoteError extends Error {
  readonly code = 'REMOTE_POLICY';
  constructor(readonly kind: RemoteErrorKind, message: string) {
    super(message);
    this.name = 'RemoteError';
  }
}

export interface ConnectOptions {
  timeoutMs: number;
  /** Sent as "Authorization: Api-Key <key>" (openpi's client header). */
  apiKey?: string;
}

export interface InferReply {
  reply: WireValue;
  bytesSent: number;
  bytesReceived: number;
  /** From sending the request to the reply decoded, ms (performance.now). */
  roundTripMs: number;
}

export interface OpenpiClientEvents {
  /** The connection ended (server gone, dropped, closed by us). */
  close: [RemoteError];
}

export class OpenpiClient extends EventEmitter<OpenpiClientEvents> {
  private pending: { resolve: (r: InferReply) => void; reject: (e: RemoteError) => void; t0: number; bytes: number; timer: NodeJS.Timeout } | undefined;
  private closedWith: RemoteError | undefined;

  private constructor(private readonly ws: WebSocket, readonly url: string, readonly metadata: WireValue) {
    super();
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on('close', (code, reason) => this.onClose(new RemoteError('closed', `the server closed the connection (${code}${reason.length > 0 ? `: ${reason.toString()}` : ''})`)));
    ws.on('error', (err) => this.onClose(new RemoteError('closed', `the connection failed: ${err.message}`)));
  }

  /** Opens the connection and waits for the metadata message. Throws RemoteError('unreachable' | 'timeout' | 'bad_message'). */
  static connect(url: string, opts: ConnectOptions): Promise<OpenpiClient> {
    return new Promise((resolve, reject) => {
      const headers = opts.apiKey !== undefined ? { Authorization: `Api-Key ${opts.apiKey}` } : undefined;
      const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024, handshakeTimeout: opts.timeoutMs, ...(headers ? { headers } : {}) });
      let done = false;
      const fail = (e: RemoteError): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        ws.terminate();
        reject(e);
      };
      const timer = setTimeout(() => fail(new RemoteError('timeout', `no metadata from ${url} within ${opts.timeoutMs} ms (is it an openpi policy server?)`)), opts.timeoutMs);
      ws.on('unexpected-response', (_req, res) => {
        const why = res.statusCode === 401 || res.statusCode === 403 ? ' (the API key was refused: check the variable named by server.apiKeyEnv)' : '';
        fail(new RemoteError('unreachable', `${url} answered HTTP ${res.statusCode}${why}`));
      });
      ws.on('error', (err: Error & { code?: string }) => fail(new RemoteError('unreachable', `cannot reach ${url}: ${err.code ?? err.message}`)));
      ws.on('close', (code) => fail(new RemoteError('unreachable', `${url} closed the connection before sending its metadata (${code})`)));
      ws.once('message', (data, isBinary) => {
        if (done) return;
        if (!isBinary) return fail(new RemoteError('bad_message', `${url} sent text instead of its metadata: ${String(data).slice(0, 200)}`));
        let md: WireValue;
        try {
          md = unpackMessage(new Uint8Array(data as Buffer));
        } catch (e) {
          return fail(new RemoteError('bad_message', `${url} sent metadata that is not msgpack: ${(e as Error).message}`));
        }
        done = true;
        clearTimeout(timer);
        ws.removeAllListeners();
        resolve(new OpenpiClient(ws, url, md));
      });
    });
  }

  get open(): boolean {
    return this.closedWith === undefined;
  }

  /** One request → one reply. Throws RemoteError; on 'timeout' the connection is already dropped. */
  infer(obs: WireValue, timeoutMs: number): Promise<InferReply> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    if (this.pending !== undefined) return Promise.reject(new RemoteError('busy', 'a request is already in flight'));
    const bytes = packMessage(obs);
    return new Promise<InferReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new RemoteError('timeout', `no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending = { resolve, reject, t0: performance.now(), bytes: bytes.length, timer };
      this.ws.send(bytes, { binary: true }, (err) => {
        if (err) this.fail(new RemoteError('closed', `sending failed: ${err.message}`));
      });
    });
  }

  /** Closes the connection; a request in flight fails with 'closed'. */
  close(): void {
    this.fail(new RemoteError('closed', 'closed by the console'));
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    const p = this.pending;
    if (p === undefined) {
      this.fail(new RemoteError('bad_message', 'the server sent a message nobody asked for'));
      return;
    }
    if (!isBinary) {
      // openpi's error path: the traceback as text, then a close with 1011
      this.fail(new RemoteError('server_error', `the server failed: ${lastLines(String(data), 3)}`));
      return;
    }
    let reply: WireValue;
    try {
      reply = unpackMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    } catch (e) {
      this.fail(new RemoteError('bad_message', `the reply is not a valid message: ${(e as Error).message}`));
      return;
    }
    clearTimeout(p.timer);
    this.pending = undefined;
    p.resolve({ reply, bytesSent: p.bytes, bytesReceived: data.byteLength, roundTripMs: performance.now() - p.t0 });
  }

  private onClose(e: RemoteError): void {
    this.fail(e);
  }

  private fail(e: RemoteError): void {
    const p = this.pending;
    this.pending = undefined;
    if (p !== undefined) {
      clearTimeout(p.timer);
      p.reject(e);
    }
    if (this.closedWith === undefined) {
      this.closedWith = e;
      this.ws.removeAllListeners();
      this.ws.on('error', () => undefined);
      this.ws.terminate();
      this.emit('close', e);
    }
  }
}

function lastLines(s: string, n: number): string {
  return s.trim().split('\n').slice(-n).map((l) => l.trim()).join(' | ').slice(0, 400);
}
