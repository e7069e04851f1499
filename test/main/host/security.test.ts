/**
 * Issue 12, findings 5–9 and 11: what an attacker sends to the headless host. Each test failed on
 * the code before the fix (most by crashing this very process: the host runs in it).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { ApiServer, type ClientLink, type CommandHandlers, type InvokeHandlers } from '../../../main/services/api';
import { startHost } from '../../../main/host/server';
import { get, inbox, openWs, rawHttp, upgrade } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'reins-sec-'));
const rendererDir = join(dir, 'renderer');
mkdirSync(rendererDir);
writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>Reins</title>');
// A dataset with one video, its metadata, and a symlink that leads out of it.
const ds = join(dir, 'ds');
const video = 'videos/observation.images.front/chunk-000/file-000.mp4';
mkdirSync(join(ds, 'videos/observation.images.front/chunk-000'), { recursive: true });
mkdirSync(join(ds, 'meta'));
writeFileSync(join(ds, video), 'MP4DATA');
writeFileSync(join(ds, 'meta/info.json'), '{}');
writeFileSync(join(dir, 'secret.txt'), 'SECRET');
symlinkSync(join(dir, 'secret.txt'), join(ds, 'videos/observation.images.front/chunk-000/file-001.mp4'));
symlinkSync(dir, join(ds, 'videos/outside'));

const invoke = new Proxy({}, { get: () => (a: unknown) => ({ echo: a }) }) as InvokeHandlers;
const commands = new Proxy({}, { get: () => () => {} }) as CommandHandlers;
const links: ClientLink[] = [];
class SpyApi extends ApiServer {
  override connect(link: ClientLink) {
    links.push(link);
    return super.connect(link);
  }
}
const api = new SpyApi(invoke, commands);
const fileRoots = () => new Map([['dataset', { dir: ds, allow: (p: string) => /^videos\/.*\.mp4$/.test(p) }]]);
const host = await startHost({ host: '127.0.0.1', port: 0, rendererDir, api, fileRoots, allowHosts: ['reins.lab'] });
after(() => host.close());
const port = Number(new URL(host.url).port);
const wsUrl = `ws://127.0.0.1:${port}/ws`;

async function alive(): Promise<void> {
  const r = await get(port, '/');
  assert.equal(r.status, 200, 'the host still serves');
}

test('5: a message whose name is not a string is refused, and the host lives on', async () => {
  const ws = await openWs(wsUrl);
  const box = inbox(ws);
  ws.send('{"t":"invoke","id":1,"name":{"toString":1},"args":{}}');
  const r = await box.next();
  assert.equal(r.t, 'reply');
  assert.equal(r.id, 1);
  assert.equal(r.error.code, 'bad_request');
  ws.send('{"t":"command","name":{"toString":{},"valueOf":{}},"args":{}}');
  assert.equal((await box.next()).error.code, 'bad_request');
  ws.send('{"t":"invoke","id":2,"name":["session.get"]}');
  assert.equal((await box.next()).error.code, 'bad_request');
  ws.send('{"t":"invoke","id":{"toString":1},"name":"session.get"}');
  assert.equal((await box.next()).error.code, 'bad_request');
  ws.send('[1,2,3]');
  assert.equal((await box.next()).error.code, 'bad_request');
  ws.send('{"t":"invoke","id":3,"name":"session.get","args":{}}');
  assert.deepEqual(await box.next(), { t: 'reply', id: 3, ok: true, value: { echo: {} } });
  ws.close();
  await alive();
});

test('6: a URL that does not parse is answered 400, for requests and for the WebSocket upgrade', async () => {
  for (const target of ['//[', '//[::1', '//a:b@[', 'http://[/', '//%']) {
    const r = await get(port, target);
    assert.ok(r.status === 400 || r.status === 404, `${target}: ${r.status}`);
  }
  assert.equal((await get(port, '//[')).status, 400);
  assert.equal(await upgrade(port, '//['), 400);
  await alive();
});

test('7: prototype names in the /files route are not found, not a crash', async () => {
  for (const n of ['constructor', '__proto__', 'hasOwnProperty', 'toString', 'valueOf', '__defineGetter__']) {
    assert.equal((await get(port, `/files/${n}/x`)).status, 404, n);
    assert.equal((await get(port, `/files/${n}/`)).status, 404, n);
  }
  await alive();
});

test('8: DNS rebinding: the Host header must be allowed, and the Origin is checked against the allow-list, not against Host', async () => {
  // A page on evil.example rebound to 127.0.0.1: Host and Origin agree with each other, and both are the attacker's.
  const evil = { Host: `evil.example:${port}`, Origin: `http://evil.example:${port}` };
  assert.equal((await get(port, '/', evil)).status, 421);
  assert.equal((await get(port, `/files/dataset/${video}`, evil)).status, 421);
  assert.equal(await upgrade(port, '/ws', evil), 421);
  // Right host, foreign origin.
  assert.equal(await upgrade(port, '/ws', { Origin: 'http://evil.example' }), 403);
  assert.equal(await upgrade(port, '/ws', { Origin: 'null' }), 403);
  assert.equal(await upgrade(port, '/ws', { Origin: `http://127.0.0.1:${port + 1}` }), 403);
  assert.equal(await upgrade(port, '/ws', { Origin: `https://127.0.0.1:${port}` }), 403);
  // A Host naming the wrong port, or none.
  assert.equal((await get(port, '/', { Host: `127.0.0.1:${port + 1}` })).status, 421);
  assert.equal((await rawHttp(port, 'GET / HTTP/1.0\r\n\r\n')).status, 421);
  // Allowed: the loopback names, the bound address and --allow-host names, with their own origin.
  for (const name of ['127.0.0.1', 'localhost', '[::1]', 'reins.lab', 'LOCALHOST']) {
    assert.equal((await get(port, '/', { Host: `${name}:${port}` })).status, 200, name);
    assert.equal(await upgrade(port, '/ws', { Host: `${name}:${port}`, Origin: `http://${name}:${port}` }), 101, name);
  }
  // Cross-name: a page at localhost may talk to 127.0.0.1 (both are ours).
  assert.equal(await upgrade(port, '/ws', { Origin: `http://localhost:${port}` }), 101);
  await alive();
});

test('9: /files serves the open dataset\'s videos and nothing else: no symlink out, no traversal, no metadata', async () => {
  const ok = await get(port, `/files/dataset/${video}`);
  assert.equal(ok.status, 200);
  assert.equal(ok.body, 'MP4DATA');
  const refused = [
    '/files/dataset/videos/observation.images.front/chunk-000/file-001.mp4', // symlink to a file outside
    '/files/dataset/videos/outside/secret.txt',
    '/files/dataset/videos/outside/../secret.txt',
    '/files/dataset/meta/info.json',
    '/files/dataset/videos/..%2f..%2fsecret.txt',
    '/files/dataset/videos/%2e%2e/%2e%2e/secret.txt',
    '/files/dataset/videos%2f..%2f..%2fsecret.txt',
    '/files/dataset/videos/..%5c..%5csecret.txt',
    '/files/dataset/videos/x%00.mp4',
    '/files/dataset/videos/%E0%A4%A.mp4',
    '/files/dataset/',
    '/files/other/x.mp4',
  ];
  for (const t of refused) {
    const r = await get(port, t);
    assert.equal(r.status, 404, `${t} → ${r.status} ${r.body.slice(0, 40)}`);
    assert.doesNotMatch(r.body, /SECRET/);
  }
  // The renderer's folder has the same guard.
  for (const t of ['/..%2fsecret.txt', '/%2e%2e/secret.txt', '/../secret.txt', '/..%5csecret.txt']) assert.equal((await get(port, t)).status, 404, t);
  await alive();
});

test('11: limits: a client that does not read gets no more frames than a bounded buffer', { timeout: 60_000 }, async () => {
  const ws = await openWs(wsUrl);
  const link = links[links.length - 1]!;
  // Stop reading: the kernel buffers fill, then the host's send buffer would grow.
  (ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const data = new Uint8Array(256 * 341 * 3);
  let maxBuffered = 0;
  for (let seq = 0; seq < 160; seq++) {
    api.offerFrame({ camera: 'front', width: 256, height: 341, seq, timeMs: seq, data });
    // The attacker acks every frame without reading it.
    ws.send(JSON.stringify({ t: 'command', name: 'frameAck', args: { camera: 'front' } }));
    await new Promise((r) => setTimeout(r, 4));
    maxBuffered = Math.max(maxBuffered, link.bufferedBytes?.() ?? 0);
  }
  assert.ok(maxBuffered < 2 * 1024 * 1024, `the host queued ${(maxBuffered / 1e6).toFixed(1)} MB for a client that does not read`);
  ws.terminate();
  await alive();
});

test('11: limits: a message over the payload cap closes the socket before it is buffered; bytes are budgeted before parsing', { timeout: 20_000 }, async () => {
  const ws = await openWs(wsUrl);
  const closed = new Promise<number>((res) => ws.once('close', (code) => res(code)));
  ws.send('x'.repeat(300 * 1024));
  assert.equal(await closed, 1009);
  const ws2 = await openWs(wsUrl);
  const box = inbox(ws2);
  const big = JSON.stringify({ t: 'command', name: 'jog', args: { joint: 'x', delta: 1, pad: 'y'.repeat(60_000) } });
  for (let i = 0; i < 48; i++) ws2.send(big); // 2.9 MB at once: over the 1 MiB/s budget
  const codes: string[] = [];
  for (;;) {
    const m = await box.next(1000).catch(() => undefined);
    if (!m) break;
    codes.push(m.error.code);
  }
  assert.ok(codes.includes('rate_limited'), `codes: ${codes}`);
  assert.ok(codes.filter((c) => c === 'bad_request').length < 48, 'what is over the budget is not parsed');
  assert.equal(codes.filter((c) => c === 'rate_limited').length, 1, 'a client over its budget is told once, not once per message');
  ws2.close();
  await alive();
});

test('11: limits: a client that floods is told once and then closed (1008), and its messages never reach the parser', { timeout: 20_000 }, async () => {
  const ws = await openWs(wsUrl);
  const box = inbox(ws);
  const closed = new Promise<number>((res) => ws.once('close', (code) => res(code)));
  const msg = JSON.stringify({ t: 'command', name: 'jog', args: { joint: 'x', delta: 'not a number' } });
  for (let i = 0; i < 3000; i++) ws.send(msg);
  assert.equal(await closed, 1008);
  const codes: string[] = [];
  for (;;) {
    const m = await box.next(200).catch(() => undefined);
    if (!m) break;
    codes.push(m.error.code);
  }
  assert.ok(codes.filter((c) => c === 'bad_request').length < 600, `${codes.length} answers: the budget (300 a second) was not applied before parsing`);
  assert.equal(codes.filter((c) => c === 'rate_limited').length, 1);
  await alive();
});

test('11: limits: over the budget, every invoke still gets its reply (rate_limited, with its id)', { timeout: 20_000 }, async () => {
  const ws = await openWs(wsUrl);
  const box = inbox(ws);
  for (let i = 0; i < 400; i++) ws.send(JSON.stringify({ t: 'invoke', id: i, name: 'session.get', args: {} }));
  const byId = new Map<number, string>();
  while (byId.size < 400) {
    const m = await box.next();
    if (m.t === 'reply') byId.set(m.id, m.ok ? 'ok' : m.error.code);
  }
  const codes = [...byId.values()];
  assert.ok(codes.includes('ok') && codes.includes('rate_limited'), `${new Set(codes)}`);
  ws.close();
});

test('11: limits: connections are capped', { timeout: 20_000 }, async () => {
  const { MAX_CLIENTS } = await import('../../../main/host/server');
  assert.equal(typeof MAX_CLIENTS, 'number');
  const open: WebSocket[] = [];
  for (let i = 0; i < 100 && host.clientCount() > 0; i++) await new Promise((r) => setTimeout(r, 50)); // earlier tests' sockets
  assert.equal(host.clientCount(), 0);
  try {
    for (let i = 0; i < MAX_CLIENTS; i++) open.push(await openWs(wsUrl));
    assert.equal(await upgrade(port, '/ws'), 503);
  } finally {
    for (const w of open) w.terminate();
  }
  await new Promise((r) => setTimeout(r, 100));
  const again = await openWs(wsUrl);
  again.close();
  await alive();
});

test('a client that vanishes without closing (no pong) is terminated, so its link closes', async () => {
  const { startHost: start } = await import('../../../main/host/server');
  const closed: string[] = [];
  class LinkApi extends ApiServer {
    override disconnect(c: Parameters<ApiServer['disconnect']>[0]) {
      closed.push('closed');
      super.disconnect(c);
    }
  }
  const h = await start({ host: '127.0.0.1', port: 0, rendererDir, api: new LinkApi(invoke, commands), heartbeatMs: 100 });
  try {
    const p = Number(new URL(h.url).port);
    // A live client answers pings (ws does, as browsers do) and stays connected.
    const live = await openWs(`ws://127.0.0.1:${p}/ws`);
    // A vanished one: its network stack never answers (autoPong off), and it never closes.
    const gone = new WebSocket(`ws://127.0.0.1:${p}/ws`, { autoPong: false });
    await new Promise<void>((res, rej) => {
      gone.once('open', () => res());
      gone.once('error', rej);
    });
    const deadline = Date.now() + 5000;
    while (closed.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(closed.length, 1, 'exactly the silent client was closed');
    assert.equal(live.readyState, WebSocket.OPEN, 'the client that answers pings stays');
    assert.equal(h.clientCount(), 1);
    live.close();
    gone.terminate();
  } finally {
    await h.close();
  }
});
