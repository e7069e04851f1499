/**
 * The headless host: serves the built renderer over HTTP and the API contract over a WebSocket
 * at /ws, on 127.0.0.1 by default. Binding any other address requires a token (the console moves
 * a robot arm: nobody on the network may drive it without one).
 *
 * Every request passes the guards of ./guard.ts before anything else: a URL that does not parse
 * is answered 400; the Host header must name an allowed host (DNS rebinding); a browser's Origin
 * must be one of those hosts on our port (never compared with Host, which the page chooses); the
 * token, when set, is checked for /ws and /files. /files serves only what the session lists (the
 * open dataset's videos), by real path inside the dataset folder. Nothing a client sends can throw
 * out of a handler: each one is wrapped and answers with an error.
 *
 * Wire format: JSON text messages {t:'invoke', id, name, args} → {t:'reply', id, ok, value|error};
 * {t:'command', name, args} → nothing, or {t:'error', error} when refused; events
 * {t:'event', name, payload}; camera frames as binary messages (main/common/frames.ts).
 *
 * Limits: at most MAX_CLIENTS sockets; a message over MAX_WS_PAYLOAD bytes closes the socket
 * (ws maxPayload: it is never buffered whole); one over MAX_MESSAGE_BYTES is answered
 * payload_too_large; a client's messages and bytes per second are budgeted before any parsing (a flood
 * is told once a second, and closed with 1008 when it keeps going); stream events (telemetry,
 * reasoning, recording) towards a socket that does not read are dropped past SOFT_BUFFER_BYTES (frames are held back
 * by the API past MAX_BUFFERED_FRAME_BYTES, main/services/api.ts), and a socket
 * past HARD_BUFFER_BYTES is closed.
 *
 * Liveness: every socket is pinged each `heartbeatMs` (browsers answer pings in their network
 * stack); one that has not answered for HEARTBEAT_MISSES pings is terminated, so a client that
 * vanished without closing (laptop asleep, cable pulled, Wi-Fi gone) is closed like one that said
 * goodbye: if it was jogging the arm, the arm falls to HOLD at its measured position.
 */
import { createReadStream, existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_MESSAGE_BYTES, MAX_MESSAGES_PER_SECOND } from '../common/channels';
import { encodeFrame } from '../common/frames';
import type { ApiErrorData } from '../common/errors';
import type { ApiServer } from '../services/api';
import { decodeSegments, hostAllowList, hostHeaderOk, isLoopback, originOk, resolveServedFile, tokenOk } from './guard';

/** A folder served read-only under /files/<name>/, and which of its files may be served. */
export interface FileRoot {
  dir: string;
  /** Given the path below dir ('/'-separated, decoded), whether it may be served. Default: none. */
  allow: (relPath: string) => boolean;
}

export interface HostOptions {
  host: string;
  port: number;
  token?: string;
  /** Extra host names a browser may use to reach the console (--allow-host). */
  allowHosts?: readonly string[];
  rendererDir: string;
  api: ApiServer;
  /** Read-only folders served under /files/<name>/... (the open dataset's videos for review). */
  fileRoots?: () => ReadonlyMap<string, FileRoot>;
  log?: (msg: string) => void;
  /** Ping interval for every socket, ms (default HEARTBEAT_MS). */
  heartbeatMs?: number;
}

/** How often every socket is pinged. */
export const HEARTBEAT_MS = 1000;
/** Pings a socket may leave unanswered before it is taken for gone and terminated. */
export const HEARTBEAT_MISSES = 2;

export const MAX_CLIENTS = 32;
/** Bytes ws accepts in one message before closing the socket (1009); never buffered past this. */
export const MAX_WS_PAYLOAD = 256 * 1024;
/** Bytes a client may send per second (and in one burst) before messages are refused unparsed. */
export const MAX_CLIENT_BYTES_PER_SECOND = 1024 * 1024;
/** Past this many bytes queued towards a client, its frames and telemetry are dropped. */
export const SOFT_BUFFER_BYTES = 1024 * 1024;
/** Past this many bytes queued towards a client, it is not reading: the socket is closed. */
export const HARD_BUFFER_BYTES = 4 * 1024 * 1024;
/**
 * Messages dropped over the budget within FLOOD_WINDOW_MS past which a client is a flood and is
 * closed (1008). The renderer sends a few dozen messages a second; the budget already allows a
 * burst of MAX_MESSAGES_PER_SECOND on top of that rate.
 */
export const FLOOD_CLOSE_AFTER = MAX_MESSAGES_PER_SECOND;
export const FLOOD_WINDOW_MS = 3000;

const MIME = new Map<string, string>([
  ['.html', 'text/html; charset=utf-8'],
  ['.js', 'text/javascript; charset=utf-8'],
  ['.mjs', 'text/javascript; charset=utf-8'],
  ['.css', 'text/css; charset=utf-8'],
  ['.svg', 'image/svg+xml'],
  ['.png', 'image/png'],
  ['.json', 'application/json'],
  ['.mp4', 'video/mp4'],
  ['.woff2', 'font/woff2'],
]);

const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self' ws: wss:";

/** Events that are a stream (a newer one replaces a dropped one); the others are state and are kept. */
const DROPPABLE_EVENTS = new Set(['telemetry', 'reasoning', 'recording']);

function serveFile(req: IncomingMessage, res: ServerResponse, file: { path: string; size: number }): void {
  const type = MIME.get(extname(file.path).toLowerCase()) ?? 'application/octet-stream';
  const size = file.size;
  const range = req.headers.range;
  const headers: Record<string, string | number> = { 'Content-Type': type, 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Accept-Ranges': 'bytes', 'Cache-Control': 'no-cache' };
  const pipe = (opts: { start?: number; end?: number }) => {
    if (req.method === 'HEAD') return void res.end();
    const s = createReadStream(file.path, opts);
    s.on('error', () => res.destroy()); // a file removed or unreadable meanwhile: end this response, not the host
    s.pipe(res);
  };
  const m = typeof range === 'string' ? /^bytes=(\d{0,15})-(\d{0,15})$/.exec(range) : null;
  if (m && (m[1] || m[2])) {
    const start = m[1] ? Number(m[1]) : Math.max(0, size - Number(m[2]));
    const end = m[1] && m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
    if (start > end || start >= size) {
      res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
      return;
    }
    res.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': end - start + 1 });
    pipe({ start, end });
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Length': size });
  pipe({});
}

function plain(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' }).end(text);
}

/** Parses a request target; undefined when it is not a URL (e.g. `//[`). Never throws. */
function parseTarget(raw: string | undefined): URL | undefined {
  try {
    return new URL(raw ?? '/', 'http://host.invalid');
  } catch {
    return undefined;
  }
}

/** The id of an invoke message, or undefined (not JSON, not an invoke, no valid id). */
function invokeId(data: WebSocket.RawData): number | string | undefined {
  try {
    const m = JSON.parse(data.toString()) as { t?: unknown; id?: unknown } | null;
    if (typeof m !== 'object' || m === null || m.t !== 'invoke') return undefined;
    return (typeof m.id === 'number' && Number.isFinite(m.id)) || (typeof m.id === 'string' && m.id.length <= 128) ? m.id : undefined;
  } catch {
    return undefined;
  }
}

export interface RunningHost {
  url: string;
  server: Server;
  /** Open WebSocket clients. */
  clientCount(): number;
  close(): Promise<void>;
}

export async function startHost(o: HostOptions): Promise<RunningHost> {
  if (!isLoopback(o.host) && !o.token) {
    throw new Error(`Refusing to listen on ${o.host} without a token: anyone who can reach it could move the arm. Give a token (--token-file PATH, or the REINS_TOKEN environment variable; open the printed URL), or use --host 127.0.0.1.`);
  }
  if (!existsSync(join(o.rendererDir, 'index.html'))) {
    throw new Error(`The renderer is not built (${join(o.rendererDir, 'index.html')} is missing). Run: npm run build:renderer`);
  }
  const log = o.log ?? (() => {});
  const allowed = hostAllowList({ bound: o.host, extra: o.allowHosts });
  let port = o.port;
  const hostRefusal = `Host not allowed. Open the console by the address it printed (or localhost); to reach it by another name, start it with --allow-host NAME.`;

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = parseTarget(req.url);
    if (!url) return plain(res, 400, 'Bad request: the URL does not parse.');
    if (!hostHeaderOk(req.headers.host, allowed, port)) return plain(res, 421, hostRefusal);
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'Only GET and HEAD are served.');
    if (req.headers.origin !== undefined && !originOk(req.headers.origin, allowed, port)) return plain(res, 403, 'Cross-origin request refused.');
    const parts = url.pathname.split('/').slice(1);
    if (parts[0] === 'files') {
      // Files (dataset videos) need the token too: they are operator data.
      if (!tokenOk(o.token, url.searchParams.get('token'))) return plain(res, 401, 'Token required: open the console by the URL it printed (with ?token=).');
      const [rootName, ...rest] = parts.slice(1);
      const root = rootName !== undefined ? o.fileRoots?.().get(rootName) : undefined;
      const segs = decodeSegments(rest);
      if (!root || !segs || segs.length === 0 || !root.allow(segs.join('/'))) return plain(res, 404, 'Not found.');
      const file = await resolveServedFile(root.dir, segs);
      if (!file) return plain(res, 404, 'Not found.');
      return serveFile(req, res, file);
    }
    const segs = url.pathname === '/' ? ['index.html'] : decodeSegments(parts);
    const file = segs ? await resolveServedFile(o.rendererDir, segs) : undefined;
    if (!file) return plain(res, 404, 'Not found.');
    serveFile(req, res, file);
  }

  const server = createServer((req, res) => {
    onRequest(req, res).catch((err: unknown) => {
      log(`request ${String(req.url).slice(0, 200)} failed: ${(err as Error)?.message ?? String(err)}`);
      plain(res, 500, 'Internal error.');
    });
  });
  server.maxConnections = MAX_CLIENTS * 4;
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_PAYLOAD });
  server.on('upgrade', (req, socket, head) => {
    const deny = (status: string, why: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(why)}\r\n\r\n${why}`);
    };
    try {
      socket.on('error', () => socket.destroy());
      const url = parseTarget(req.url);
      if (!url) return deny('400 Bad Request', 'Bad request: the URL does not parse.');
      if (!hostHeaderOk(req.headers.host, allowed, port)) return deny('421 Misdirected Request', hostRefusal);
      if (url.pathname !== '/ws') return deny('404 Not Found', 'Not found.');
      if (!originOk(req.headers.origin, allowed, port)) return deny('403 Forbidden', 'Cross-origin WebSocket refused.');
      if (!tokenOk(o.token, url.searchParams.get('token'))) return deny('401 Unauthorized', 'Token required.');
      if (wss.clients.size >= MAX_CLIENTS) return deny('503 Service Unavailable', `Too many clients (at most ${MAX_CLIENTS}).`);
      wss.handleUpgrade(req, socket, head, (ws) => onSocket(ws));
    } catch (err) {
      log(`upgrade failed: ${(err as Error)?.message ?? String(err)}`);
      socket.destroy();
    }
  });

  const heartbeatMs = o.heartbeatMs ?? HEARTBEAT_MS;
  const unanswered = new Map<WebSocket, number>();
  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      const n = unanswered.get(ws) ?? 0;
      if (n >= HEARTBEAT_MISSES) {
        log(`closing a client that stopped answering pings (${n} unanswered, ${n * heartbeatMs} ms)`);
        unanswered.delete(ws);
        ws.terminate(); // 'close' follows: conn.close() (an operator who was jogging is lost → HOLD)
        continue;
      }
      unanswered.set(ws, n + 1);
      try {
        ws.ping();
      } catch {
        /* closing already */
      }
    }
  }, heartbeatMs);
  heartbeat.unref();

  function onSocket(ws: WebSocket): void {
    unanswered.set(ws, 0);
    ws.on('pong', () => unanswered.set(ws, 0));
    let closedForBuffer = false;
    const overHard = (): boolean => {
      if (ws.bufferedAmount <= HARD_BUFFER_BYTES) return false;
      if (!closedForBuffer) {
        closedForBuffer = true;
        log(`closing a client that does not read (${ws.bufferedAmount} bytes queued)`);
        ws.terminate();
      }
      return true;
    };
    const sendJson = (m: unknown) => {
      if (ws.readyState !== ws.OPEN || overHard()) return;
      ws.send(JSON.stringify(m));
    };
    const conn = o.api.connect({
      sendEvent: (name, payload) => {
        if (DROPPABLE_EVENTS.has(name) && ws.bufferedAmount > SOFT_BUFFER_BYTES) return;
        sendJson({ t: 'event', name, payload });
      },
      sendFrame: (f) => {
        // Past MAX_BUFFERED_FRAME_BYTES the API holds the frame back itself (bufferedBytes below): a
        // second check here could only drop a frame the API counts as awaiting an ack.
        if (ws.readyState !== ws.OPEN) return;
        ws.send(encodeFrame(f), { binary: true });
      },
      bufferedBytes: () => ws.bufferedAmount,
    });
    const refuse = (error: ApiErrorData, id?: unknown) => sendJson(id !== undefined ? { t: 'reply', id, ok: false, error } : { t: 'error', error });
    // Message and byte budgets, checked before parsing: a flood costs no JSON.parse, is told once a
    // second that it is being dropped (not once per message), and is closed when it keeps going.
    let budget = MAX_CLIENT_BYTES_PER_SECOND;
    // 1 % under the API's own bucket (main/services/api.ts), so whatever passes here passes there
    // too and a flood is answered by this one notice only.
    const msgRate = 0.99 * MAX_MESSAGES_PER_SECOND;
    let msgBudget = msgRate;
    let budgetAt = performance.now();
    let noticeAt = -Infinity;
    let floodAt = -Infinity;
    let dropped = 0;
    let floodClosed = false;
    const admit = (n: number): 'ok' | 'bytes' | 'messages' => {
      const t = performance.now();
      const dt = (t - budgetAt) / 1000;
      budget = Math.min(MAX_CLIENT_BYTES_PER_SECOND, budget + dt * MAX_CLIENT_BYTES_PER_SECOND);
      msgBudget = Math.min(msgRate, msgBudget + dt * msgRate);
      budgetAt = t;
      if (msgBudget < 1) return 'messages';
      if (budget < n) return 'bytes';
      budget -= n;
      msgBudget -= 1;
      return 'ok';
    };
    const onDropped = (why: 'bytes' | 'messages', data: WebSocket.RawData, size: number, isBinary: boolean) => {
      const t = performance.now();
      // A small invoke still gets its reply (its sender is waiting on that id); parsing a small message is cheap.
      const id = !isBinary && size <= 1024 ? invokeId(data) : undefined;
      if (id !== undefined) refuse({ code: 'rate_limited', message: `More than ${MAX_MESSAGES_PER_SECOND} messages per second from this client; this request was dropped.` }, id);
      else if (t - noticeAt > 1000) {
        noticeAt = t;
        refuse({ code: 'rate_limited', message: why === 'bytes' ? `More than ${MAX_CLIENT_BYTES_PER_SECOND} bytes per second from this client; messages are being dropped.` : `More than ${MAX_MESSAGES_PER_SECOND} messages per second from this client; messages are being dropped.` });
      }
      if (t - floodAt > FLOOD_WINDOW_MS) {
        floodAt = t;
        dropped = 0;
      }
      if (++dropped > FLOOD_CLOSE_AFTER && !floodClosed) {
        floodClosed = true;
        log(`closing a client that floods (${dropped} messages dropped within ${FLOOD_WINDOW_MS / 1000} s)`);
        ws.close(1008, 'message flood');
        setTimeout(() => ws.terminate(), 1000).unref(); // a flooder need not answer the close
      }
    };
    const onMessage = (data: WebSocket.RawData, isBinary: boolean) => {
      const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer | ArrayBuffer).byteLength;
      const admitted = admit(size);
      if (admitted !== 'ok') return onDropped(admitted, data, size, isBinary);
      if (isBinary) return refuse({ code: 'bad_request', message: 'Binary messages are not accepted from the console.' });
      if (size > MAX_MESSAGE_BYTES) return refuse({ code: 'payload_too_large', message: `Message of ${size} bytes exceeds the ${MAX_MESSAGE_BYTES}-byte limit.` });
      let msg: unknown;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        return refuse({ code: 'bad_request', message: 'Message is not valid JSON.' });
      }
      if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return refuse({ code: 'bad_request', message: 'Message must be a JSON object.' });
      const { t, id, name, args } = msg as { t?: unknown; id?: unknown; name?: unknown; args?: unknown };
      if (t === 'invoke') {
        if (!((typeof id === 'number' && Number.isFinite(id)) || (typeof id === 'string' && id.length <= 128))) return refuse({ code: 'bad_request', message: 'invoke needs an id (a number, or a string of at most 128 characters).' });
        if (typeof name !== 'string') return refuse({ code: 'bad_request', message: 'invoke needs a name (a string).' }, id);
        conn.invoke(name, args).then(
          (r) => sendJson({ t: 'reply', id, ...r }),
          (err: unknown) => refuse({ code: 'internal', message: `Request failed: ${(err as Error)?.message ?? 'unknown error'}` }, id),
        );
      } else if (t === 'command') {
        if (typeof name !== 'string') return refuse({ code: 'bad_request', message: 'command needs a name (a string).' });
        const err = conn.command(name, args);
        if (err) refuse(err);
      } else {
        refuse({ code: 'bad_request', message: 'Message type must be "invoke" or "command".' });
      }
    };
    ws.on('message', (data, isBinary) => {
      if (ws.readyState !== ws.OPEN) return; // closing: nothing more is handled
      try {
        onMessage(data, isBinary);
      } catch (err) {
        log(`message handling failed: ${(err as Error)?.message ?? String(err)}`);
        try {
          refuse({ code: 'internal', message: 'The message could not be handled.' });
        } catch {
          /* the socket is gone */
        }
      }
    });
    ws.on('close', () => {
      unanswered.delete(ws);
      conn.close();
    });
    // ws sends the close frame itself (1007 invalid UTF-8, 1009 too big) and then ends the socket.
    ws.on('error', () => conn.close());
  }

  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(o.port, o.host, () => res());
  });
  const addr = server.address();
  port = typeof addr === 'object' && addr ? addr.port : o.port;
  const hostForUrl = o.host.includes(':') ? `[${o.host}]` : o.host;
  const url = `http://${hostForUrl}:${port}/${o.token ? `?token=${encodeURIComponent(o.token)}` : ''}`;
  log(`Reins console at ${url}`);
  return {
    url,
    server,
    clientCount: () => wss.clients.size,
    close: () =>
      new Promise<void>((res) => {
        clearInterval(heartbeat);
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => res());
        server.closeAllConnections?.();
      }),
  };
}
