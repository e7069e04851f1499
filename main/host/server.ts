/**
 * The headless host: serves the built renderer over HTTP and the API contract over a WebSocket
 * at /ws, on 127.0.0.1 by default. Binding any other address requires a token (the console moves
 * a robot arm: nobody on the network may drive it without one). Browser connections must come
 * from the host's own origin, so a web page elsewhere cannot open a socket to it.
 *
 * Wire format: JSON text messages {t:'invoke', id, name, args} → {t:'reply', id, ok, value|error};
 * {t:'command', name, args} → nothing, or {t:'error', error} when refused; events
 * {t:'event', name, payload}; camera frames as binary messages (main/common/frames.ts).
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_MESSAGE_BYTES } from '../common/channels';
import { encodeFrame } from '../common/frames';
import type { ApiErrorData } from '../common/errors';
import type { ApiServer } from '../services/api';

export interface HostOptions {
  host: string;
  port: number;
  token?: string;
  rendererDir: string;
  api: ApiServer;
  /** Extra read-only folders served under /files/<name>/... (dataset videos for review). */
  fileRoots?: () => Record<string, string>;
  log?: (msg: string) => void;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.mp4': 'video/mp4',
  '.woff2': 'font/woff2',
};

const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self' ws: wss:";

function tokenOk(expected: string | undefined, given: string | null): boolean {
  if (!expected) return true;
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Resolves a URL path inside root, refusing anything that escapes it. */
function safeJoin(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  const p = normalize(join(root, decoded));
  const r = resolve(root);
  return p === r || p.startsWith(r + sep) ? p : undefined;
}

function serveFile(req: IncomingMessage, res: ServerResponse, file: string): void {
  const st = statSync(file);
  const type = MIME[extname(file)] ?? 'application/octet-stream';
  const range = req.headers.range;
  const headers: Record<string, string | number> = { 'Content-Type': type, 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Accept-Ranges': 'bytes', 'Cache-Control': 'no-cache' };
  const m = range ? /^bytes=(\d*)-(\d*)$/.exec(range) : null;
  if (m && (m[1] || m[2])) {
    const start = m[1] ? Number(m[1]) : Math.max(0, st.size - Number(m[2]));
    const end = m[1] && m[2] ? Math.min(Number(m[2]), st.size - 1) : st.size - 1;
    if (start > end || start >= st.size) {
      res.writeHead(416, { 'Content-Range': `bytes */${st.size}` }).end();
      return;
    }
    res.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${st.size}`, 'Content-Length': end - start + 1 });
    createReadStream(file, { start, end }).pipe(res);
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Length': st.size });
  createReadStream(file).pipe(res);
}

export interface RunningHost {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function startHost(o: HostOptions): Promise<RunningHost> {
  if (!isLoopback(o.host) && !o.token) {
    throw new Error(`Refusing to listen on ${o.host} without a token: anyone who can reach it could move the arm. Pass --token <secret> (and open the printed URL), or use --host 127.0.0.1.`);
  }
  if (!existsSync(join(o.rendererDir, 'index.html'))) {
    throw new Error(`The renderer is not built (${join(o.rendererDir, 'index.html')} is missing). Run: npm run build:renderer`);
  }
  const log = o.log ?? (() => {});

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    if (url.pathname.startsWith('/files/')) {
      // Files (dataset videos) need the token too: they are operator data.
      if (!tokenOk(o.token, url.searchParams.get('token'))) {
        res.writeHead(401).end('token required');
        return;
      }
      const [, , rootName, ...rest] = url.pathname.split('/');
      const root = rootName ? o.fileRoots?.()[rootName] : undefined;
      const file = root ? safeJoin(root, rest.join('/')) : undefined;
      if (!file || !existsSync(file) || !statSync(file).isFile()) {
        res.writeHead(404).end('not found');
        return;
      }
      serveFile(req, res, file);
      return;
    }
    const file = safeJoin(o.rendererDir, url.pathname === '/' ? 'index.html' : url.pathname);
    if (!file || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    serveFile(req, res, file);
  });

  // maxPayload caps what ws buffers; our own limit below answers oversize messages with an error.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const origin = req.headers.origin;
    const hostHeader = req.headers.host;
    const originOk = origin === undefined || origin === `http://${hostHeader}`;
    if (url.pathname !== '/ws' || !originOk || !tokenOk(o.token, url.searchParams.get('token'))) {
      socket.write('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onSocket(ws));
  });

  function onSocket(ws: WebSocket): void {
    const sendJson = (m: unknown) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
    };
    const conn = o.api.connect({
      sendEvent: (name, payload) => sendJson({ t: 'event', name, payload }),
      sendFrame: (f) => {
        if (ws.readyState === ws.OPEN) ws.send(encodeFrame(f), { binary: true });
      },
      bufferedBytes: () => ws.bufferedAmount,
    });
    const refuse = (error: ApiErrorData, id?: unknown) => sendJson(id !== undefined ? { t: 'reply', id, ok: false, error } : { t: 'error', error });
    ws.on('message', (data, isBinary) => {
      const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer | ArrayBuffer).byteLength;
      if (isBinary) return refuse({ code: 'bad_request', message: 'Binary messages are not accepted from the console.' });
      if (size > MAX_MESSAGE_BYTES) return refuse({ code: 'payload_too_large', message: `Message of ${size} bytes exceeds the ${MAX_MESSAGE_BYTES}-byte limit.` });
      let msg: { t?: unknown; id?: unknown; name?: unknown; args?: unknown };
      try {
        msg = JSON.parse(data.toString());
      } catch {
        return refuse({ code: 'bad_request', message: 'Message is not valid JSON.' });
      }
      if (typeof msg !== 'object' || msg === null) return refuse({ code: 'bad_request', message: 'Message must be a JSON object.' });
      if (msg.t === 'invoke') {
        if (typeof msg.id !== 'number' && typeof msg.id !== 'string') return refuse({ code: 'bad_request', message: 'invoke needs an id (number or string).' });
        void conn.invoke(String(msg.name), msg.args).then((r) => sendJson({ t: 'reply', id: msg.id, ...r }));
      } else if (msg.t === 'command') {
        const err = conn.command(String(msg.name), msg.args);
        if (err) refuse(err);
      } else {
        refuse({ code: 'bad_request', message: 'Message type must be "invoke" or "command".' });
      }
    });
    ws.on('close', () => conn.close());
    ws.on('error', () => conn.close());
  }

  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(o.port, o.host, () => res());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  const hostForUrl = o.host.includes(':') ? `[${o.host}]` : o.host;
  const url = `http://${hostForUrl}:${port}/${o.token ? `?token=${encodeURIComponent(o.token)}` : ''}`;
  log(`Reins console at ${url}`);
  return {
    url,
    server,
    close: () =>
      new Promise<void>((res) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => res());
        server.closeAllConnections?.();
      }),
  };
}
