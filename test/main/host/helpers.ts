/** Raw HTTP and WebSocket helpers for the host's security tests: they send what a browser would not. */
import { connect } from 'node:net';
import WebSocket from 'ws';

/** Sends a raw request and returns the status code and body (reads until the server closes or the response ends). */
export function rawHttp(port: number, request: string, timeoutMs = 5000): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let buf = '';
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer to ${JSON.stringify(request.slice(0, 80))}: ${buf}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(t);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf);
      if (!m) return reject(new Error(`not an HTTP answer: ${JSON.stringify(buf.slice(0, 200))}`));
      const i = buf.indexOf('\r\n\r\n');
      resolve({ status: Number(m[1]), head: buf.slice(0, i), body: i >= 0 ? buf.slice(i + 4) : '' });
    };
    s.on('data', (d) => {
      buf += d.toString('latin1');
      const i = buf.indexOf('\r\n\r\n');
      if (i >= 0) {
        const len = /content-length: (\d+)/i.exec(buf.slice(0, i));
        if (len && buf.length - i - 4 >= Number(len[1])) {
          s.destroy();
          done();
        }
      }
    });
    s.on('end', done);
    s.on('error', (e) => {
      if (buf) done();
      else {
        clearTimeout(t);
        reject(e);
      }
    });
    s.write(request);
  });
}

/** `GET target` with these headers (a header given here replaces the default of the same name). */
function getRequest(target: string, headers: Record<string, string>): string {
  return `GET ${target} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;
}

export function get(port: number, target: string, headers: Record<string, string> = {}): Promise<{ status: number; head: string; body: string }> {
  return rawHttp(port, getRequest(target, { Host: `127.0.0.1:${port}`, Connection: 'close', ...headers }));
}

/** A WebSocket upgrade request with exactly these headers; resolves with the status line's code. */
export function upgrade(port: number, target: string, headers: Record<string, string> = {}): Promise<number> {
  const h = { Host: `127.0.0.1:${port}`, Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13', ...headers };
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let buf = '';
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer to upgrade ${target}`));
    }, 5000);
    s.on('data', (d) => {
      buf += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(buf);
      if (m) {
        clearTimeout(t);
        s.destroy();
        resolve(Number(m[1]));
      }
    });
    s.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
    s.write(getRequest(target, h));
  });
}

export function openWs(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((res, rej) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => res(ws));
    ws.once('error', rej);
    ws.once('unexpected-response', (_req, r) => rej(new Error(`HTTP ${r.statusCode}`)));
  });
}

/** Collects JSON messages; `next()` waits for the next one. */
export function inbox(ws: WebSocket): { next(timeoutMs?: number): Promise<any> } {
  const q: any[] = [];
  const waiters: ((m: any) => void)[] = [];
  ws.on('message', (d, bin) => {
    if (bin) return;
    const m = JSON.parse(d.toString());
    const w = waiters.shift();
    if (w) w(m);
    else q.push(m);
  });
  return {
    next(timeoutMs = 5000) {
      if (q.length) return Promise.resolve(q.shift());
      return new Promise((res, rej) => {
        const t = setTimeout(() => rej(new Error('no message')), timeoutMs);
        waiters.push((m) => {
          clearTimeout(t);
          res(m);
        });
      });
    },
  };
}
