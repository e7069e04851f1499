import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeFrame } from '../../main/common/frames';
import { ApiError } from '../../renderer/src/lib/errors';
import { type SocketLike, WsClient, wsUrlFor } from '../../renderer/src/lib/wsClient';

class FakeSocket implements SocketLike {
  readyState = 0;
  binaryType = 'blob';
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code?: number; reason?: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  sent: unknown[] = [];
  constructor(readonly url: string) {}
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(): void {
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
  receive(data: unknown): void {
    this.onmessage?.({ data: typeof data === 'string' || data instanceof ArrayBuffer ? data : JSON.stringify(data) });
  }
}

function setup() {
  const sockets: FakeSocket[] = [];
  const timers: { cb: () => void; ms: number; id: number }[] = [];
  let nextId = 1;
  const client = new WsClient({
    url: 'ws://h/ws',
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    setTimeout: (cb, ms) => {
      const id = nextId++;
      timers.push({ cb, ms, id });
      return id;
    },
    clearTimeout: (h) => {
      const i = timers.findIndex((t) => t.id === h);
      if (i >= 0) timers.splice(i, 1);
    },
    now: () => 0,
    backoff: { initialMs: 100, maxMs: 1000, factor: 2 },
    invokeTimeoutMs: 5000,
  });
  return { client, sockets, timers };
}

test('invokes made while connecting are sent on open and resolve with the reply value', async () => {
  const { client, sockets } = setup();
  client.connect();
  const p = client.invoke('session.get', {});
  const s = sockets[0]!;
  assert.equal(s.binaryType, 'arraybuffer');
  assert.deepEqual(s.sent, []);
  s.open();
  assert.deepEqual(s.sent, [{ t: 'invoke', id: 1, name: 'session.get', args: {} }]);
  s.receive({ t: 'reply', id: 1, ok: true, value: { rateHz: 30 } });
  assert.deepEqual(await p, { rateHz: 30 });
});

test('a failed reply rejects with an ApiError carrying the code', async () => {
  const { client, sockets } = setup();
  client.connect();
  sockets[0]!.open();
  const p = client.invoke('hardware.connect', { type: 'so101_follower', id: 'a', port: '/dev/ttyACM0' });
  sockets[0]!.receive({ t: 'reply', id: 1, ok: false, error: { code: 'io_error', message: 'Permission denied on /dev/ttyACM0: add yourself to dialout.' } });
  await assert.rejects(p, (e: unknown) => e instanceof ApiError && e.code === 'io_error' && /dialout/.test(e.message));
});

test('commands are fire-and-forget; server errors reach onServerError; commands while closed are dropped', () => {
  const { client, sockets } = setup();
  const errors: string[] = [];
  client.onServerError((e) => errors.push(e.code));
  client.connect();
  client.send('estop', { engaged: true }); // still connecting: dropped
  sockets[0]!.open();
  client.send('jog', { joint: 'gripper', delta: 2 });
  assert.deepEqual(sockets[0]!.sent, [{ t: 'command', name: 'jog', args: { joint: 'gripper', delta: 2 } }]);
  sockets[0]!.receive({ t: 'error', error: { code: 'rate_limited', message: 'slow down' } });
  assert.deepEqual(errors, ['rate_limited']);
});

test('events go to their listeners; unsubscribe removes exactly that listener', () => {
  const { client, sockets } = setup();
  client.connect();
  sockets[0]!.open();
  const a: number[] = [];
  const b: number[] = [];
  const offA = client.on('problems', (p) => a.push(p.length));
  client.on('problems', (p) => b.push(p.length));
  sockets[0]!.receive({ t: 'event', name: 'problems', payload: [1, 2] });
  offA();
  sockets[0]!.receive({ t: 'event', name: 'problems', payload: [1] });
  assert.deepEqual(a, [2]);
  assert.deepEqual(b, [2, 1]);
});

test('binary messages are decoded as frames', () => {
  const { client, sockets } = setup();
  client.connect();
  sockets[0]!.open();
  const got: string[] = [];
  client.on('frame', (f) => got.push(`${f.camera} ${f.width}x${f.height} #${f.seq} ${[...f.data].join(',')}`));
  const bytes = encodeFrame({ camera: 'wrist', width: 2, height: 1, seq: 9, timeMs: 1.5, data: Uint8Array.from([1, 2, 3, 4, 5, 6]) });
  sockets[0]!.receive(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  sockets[0]!.receive(new ArrayBuffer(3)); // garbage: ignored
  assert.deepEqual(got, ['wrist 2x1 #9 1,2,3,4,5,6']);
});

test('a dropped socket rejects pending invokes, reports closed, and reconnects with growing backoff', async () => {
  const { client, sockets, timers } = setup();
  const phases: string[] = [];
  client.onConnection((s) => phases.push(s.phase));
  client.connect();
  sockets[0]!.open();
  const p = client.invoke('policy.list', {});
  sockets[0]!.drop();
  await assert.rejects(p, (e: unknown) => e instanceof ApiError && e.code === 'not_connected');
  assert.equal(client.connection.phase, 'closed');
  await assert.rejects(client.invoke('policy.list', {}), (e: unknown) => e instanceof ApiError && e.code === 'not_connected');
  const delays: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = timers.filter((x) => x.ms !== 5000).pop()!;
    delays.push(t.ms);
    timers.splice(timers.indexOf(t), 1);
    t.cb();
    sockets.at(-1)!.drop();
  }
  assert.deepEqual(delays, [100, 200, 400, 800, 1000]);
  const t = timers.filter((x) => x.ms !== 5000).pop()!;
  timers.splice(timers.indexOf(t), 1);
  t.cb();
  sockets.at(-1)!.open();
  assert.equal(client.connection.phase, 'open');
  assert.equal(client.connection.opens, 2);
  assert.equal(client.connection.attempts, 0);
  assert.deepEqual(phases.slice(0, 4), ['closed', 'connecting', 'open', 'closed']);
});

test('an invoke with no reply times out with code timeout', async () => {
  const { client, sockets, timers } = setup();
  client.connect();
  sockets[0]!.open();
  const p = client.invoke('calibration.finish', {});
  const t = timers.find((x) => x.ms === 5000)!;
  t.cb();
  await assert.rejects(p, (e: unknown) => e instanceof ApiError && e.code === 'timeout');
});

test('wsUrlFor targets /ws on the page origin and carries the token', () => {
  assert.equal(wsUrlFor('http://127.0.0.1:5199/'), 'ws://127.0.0.1:5199/ws');
  assert.equal(wsUrlFor('http://10.0.0.2:8080/?token=a%20b&x=1'), 'ws://10.0.0.2:8080/ws?token=a%20b');
  assert.equal(wsUrlFor('https://console.lab/'), 'wss://console.lab/ws');
});
