import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { ApiServer, type CommandHandlers, type InvokeHandlers } from '../../../main/services/api';
import { startHost } from '../../../main/host/server';
import { isLoopback } from '../../../main/host/guard';
import { parseStartArgs } from '../../../main/host/args';
import { encodeFrame, decodeFrame } from '../../../main/common/frames';
import { openWs as open } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'reins-host-'));
writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Reins</title>');
const invoke = new Proxy({}, { get: () => (a: unknown) => ({ echo: a }) }) as InvokeHandlers;
const commands = new Proxy({}, { get: () => () => {} }) as CommandHandlers;
const api = new ApiServer(invoke, commands);
const host = await startHost({ host: '127.0.0.1', port: 0, rendererDir: dir, api });
after(() => host.close());
const base = host.url.replace(/\/$/, '');

function next(ws: WebSocket): Promise<any> {
  return new Promise((res) => ws.once('message', (d) => res(JSON.parse(d.toString()))));
}

test('serves the renderer with a CSP, and nothing outside its folder', async () => {
  const r = await fetch(base + '/');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  assert.equal((await fetch(base + '/..%2f..%2fetc%2fpasswd')).status, 404);
});

test('invoke over the socket, and malformed messages get clear errors', async () => {
  const ws = await open(base.replace('http', 'ws') + '/ws');
  ws.send(JSON.stringify({ t: 'invoke', id: 1, name: 'session.get', args: {} }));
  assert.deepEqual(await next(ws), { t: 'reply', id: 1, ok: true, value: { echo: {} } });
  ws.send('not json');
  assert.equal((await next(ws)).error.code, 'bad_request');
  ws.send(JSON.stringify({ t: 'command', name: 'jog', args: { joint: 'x', delta: 'far' } }));
  assert.equal((await next(ws)).error.code, 'bad_request');
  ws.send(JSON.stringify({ t: 'command', name: 'jog', args: { joint: 'x', delta: 1, pad: 'x'.repeat(70_000) } }));
  assert.equal((await next(ws)).error.code, 'payload_too_large');
  ws.send(JSON.stringify({ t: 'invoke', id: 2, name: 'no.such', args: {} }));
  assert.equal((await next(ws)).error.code, 'unknown_channel');
  ws.close();
});

test('a page from another origin cannot open the socket', async () => {
  await assert.rejects(open(base.replace('http', 'ws') + '/ws', { Origin: 'http://evil.example' }));
});

test('a non-loopback address needs a token, and the token is checked', async () => {
  assert.equal(isLoopback('0.0.0.0'), false);
  await assert.rejects(startHost({ host: '0.0.0.0', port: 0, rendererDir: dir, api }), /without a token/);
  const h = await startHost({ host: '127.0.0.1', port: 0, rendererDir: dir, api, token: 'secret-token' });
  try {
    const wsBase = h.url.replace('http', 'ws').replace(/\/\?.*$/, '');
    await assert.rejects(open(wsBase + '/ws'));
    await assert.rejects(open(wsBase + '/ws?token=wrong-token!'));
    const ws = await open(wsBase + '/ws?token=secret-token');
    ws.close();
  } finally {
    await h.close();
  }
});

test('frames travel as binary messages', async () => {
  const ws = await open(base.replace('http', 'ws') + '/ws');
  const got = new Promise<Buffer>((res) => ws.once('message', (d, bin) => bin && res(d as Buffer)));
  api.offerFrame({ camera: 'front', width: 2, height: 1, seq: 7, timeMs: 12.5, data: new Uint8Array([1, 2, 3, 4, 5, 6]) });
  const f = decodeFrame(new Uint8Array(await got));
  assert.deepEqual({ ...f, data: [...f.data] }, { camera: 'front', width: 2, height: 1, seq: 7, timeMs: 12.5, data: [1, 2, 3, 4, 5, 6] });
  ws.close();
});

test('frame codec rejects a truncated message', () => {
  const b = encodeFrame({ camera: 'wrist', width: 2, height: 2, seq: 1, timeMs: 0, data: new Uint8Array(12) });
  assert.throws(() => decodeFrame(b.subarray(0, b.length - 1)), /size mismatch/);
});

test('start options: defaults, validation, token length', () => {
  assert.deepEqual(parseStartArgs([]), { headless: false, host: '127.0.0.1', port: 5173, allowHosts: [], rateHz: 30, seed: 1, cameraWidth: 320, cameraHeight: 240, cameras: [] });
  assert.deepEqual(parseStartArgs(['--camera', 'front=/dev/video2@320x240:15', '--camera', 'wrist=testsrc']).cameras, [
    { key: 'front', source: { kind: 'device', device: '/dev/video2' }, width: 320, height: 240, fps: 15 },
    { key: 'wrist', source: { kind: 'testsrc' }, width: 640, height: 480, fps: 30 },
  ]);
  assert.throws(() => parseStartArgs(['--camera', 'front']), /--camera must look like/);
  assert.throws(() => parseStartArgs(['--camera', 'a=testsrc', '--camera', 'a=testsrc']), /twice/);
  assert.equal(parseStartArgs(['--headless', '--port', '0']).port, 0);
  assert.throws(() => parseStartArgs(['--port', 'abc']), /--port must be an integer/);
  assert.throws(() => parseStartArgs(['--size', '100x100']), /--size width/);
  assert.throws(() => parseStartArgs(['--token', 'short']), /at least 8/);
  assert.throws(() => parseStartArgs(['--bogus']), /Unknown option/);
});
