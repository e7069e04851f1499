import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiServer, type CommandHandlers, type InvokeHandlers } from '../../../main/services/api';
import { INVOKE_CHANNELS, COMMAND_CHANNELS, MAX_MESSAGES_PER_SECOND } from '../../../main/common/channels';
import { commandSchemas, invokeSchemas } from '../../../main/common/contract';
import { ReinsError } from '../../../main/common/errors';

function server(now: () => number = () => 0) {
  const calls: [string, unknown][] = [];
  const invoke = new Proxy({}, { get: (_t, name: string) => (args: unknown) => { calls.push([name, args]); if (name === 'policy.start') throw new ReinsError('busy', 'The e-stop is engaged.'); return { echo: args }; } }) as InvokeHandlers;
  const commands = new Proxy({}, { get: (_t, name: string) => (args: unknown) => void calls.push([name, args]) }) as CommandHandlers;
  const api = new ApiServer(invoke, commands, now);
  const frames: string[] = [];
  const conn = api.connect({ sendEvent: () => {}, sendFrame: (f) => void frames.push(`${f.camera}:${f.seq}`) });
  return { api, conn, calls, frames };
}

test('channel lists and schemas agree', () => {
  assert.deepEqual(Object.keys(invokeSchemas).sort(), [...INVOKE_CHANNELS].sort());
  assert.deepEqual(Object.keys(commandSchemas).sort(), [...COMMAND_CHANNELS].sort());
});

test('a valid request reaches its handler with parsed arguments', async () => {
  const { conn, calls } = server();
  assert.deepEqual(await conn.invoke('sim.reset', { seed: 3 }), { ok: true, value: { echo: { seed: 3 } } });
  assert.deepEqual(calls, [['sim.reset', { seed: 3 }]]);
});

test('wrong types, extra fields and unknown channels are refused with a clear error and never reach a handler', async () => {
  const { conn, calls } = server();
  const r1 = await conn.invoke('sim.reset', { seed: 'three' });
  assert.equal(r1.ok, false);
  assert.ok(!r1.ok && r1.error.code === 'bad_request' && /seed/.test(r1.error.message));
  const r2 = await conn.invoke('sim.reset', { seed: 1, evil: true });
  assert.ok(!r2.ok && r2.error.code === 'bad_request');
  const r3 = await conn.invoke('fs.readFile', {});
  assert.ok(!r3.ok && r3.error.code === 'unknown_channel');
  assert.equal(conn.command('jog', { joint: 'elbow_flex', delta: 1e9 })?.code, 'bad_request');
  assert.equal(conn.command('jog', { joint: 'elbow_flex', delta: Number.NaN })?.code, 'bad_request');
  assert.equal(conn.command('teleport', {})?.code, 'unknown_channel');
  assert.deepEqual(calls, []);
});

test('a handler error crosses as {code, message}', async () => {
  const { conn } = server();
  assert.deepEqual(await conn.invoke('policy.start', { policy: 'expert' }), { ok: false, error: { code: 'busy', message: 'The e-stop is engaged.' } });
});

test('a flood is rate limited, then the client recovers', () => {
  let t = 0;
  const { conn, calls } = server(() => t);
  let limited = 0;
  for (let i = 0; i < MAX_MESSAGES_PER_SECOND * 3; i++) if (conn.command('estop', { engaged: false })?.code === 'rate_limited') limited++;
  assert.equal(calls.length, MAX_MESSAGES_PER_SECOND);
  assert.equal(limited, MAX_MESSAGES_PER_SECOND * 2);
  t += 1000;
  assert.equal(conn.command('estop', { engaged: true }), undefined);
});

test('frames are paced per camera: the next one goes only after an ack, and the latest wins', () => {
  const { api, conn, frames } = server();
  const f = (camera: string, seq: number) => ({ camera, width: 1, height: 1, seq, timeMs: 0, data: new Uint8Array(3) });
  api.offerFrame(f('front', 1));
  api.offerFrame(f('front', 2));
  api.offerFrame(f('front', 3));
  api.offerFrame(f('wrist', 1));
  assert.deepEqual(frames, ['front:1', 'wrist:1']);
  conn.command('frameAck', { camera: 'front' });
  assert.deepEqual(frames, ['front:1', 'wrist:1', 'front:3']);
});
