/**
 * Issue 12, finding 5 (the Electron side): the IPC handlers did `String(name)` on whatever the
 * page sent; an object whose toString is not a function threw, and in the `ipcMain.on` command
 * listener that is an uncaught exception of the main process. The handlers now live in
 * main/app/ipc.ts and answer every input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handleCommand, handleInvoke } from '../../../main/app/ipc';
import { ApiServer, type CommandHandlers, type InvokeHandlers } from '../../../main/services/api';

const invoke = new Proxy({}, { get: () => (a: unknown) => ({ echo: a }) }) as InvokeHandlers;
const commands = new Proxy({}, { get: () => () => {} }) as CommandHandlers;
const api = new ApiServer(invoke, commands);
const conn = api.connect({ sendEvent: () => {}, sendFrame: () => {} });

const hostile: unknown[] = [{ toString: 1 }, { toString: {}, valueOf: {} }, Object.create(null), ['session.get'], 42, null, undefined, Symbol.for('x'), 10n];

test('invoke: a name that is not a string is refused as data, never thrown', async () => {
  for (const name of hostile) {
    const r = await handleInvoke(() => conn, true, name, {});
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.error.code, 'bad_request');
  }
  assert.deepEqual(await handleInvoke(() => conn, true, 'session.get', {}), { ok: true, value: { echo: {} } });
  const foreign = await handleInvoke(() => conn, false, 'session.get', {});
  assert.equal(foreign.ok, false);
});

test('command: a name that is not a string is refused as data, never thrown', () => {
  for (const name of hostile) assert.equal(handleCommand(() => conn, true, name, {})?.code, 'bad_request');
  assert.equal(handleCommand(() => conn, true, 'estop', { engaged: true }), undefined);
  assert.equal(handleCommand(() => conn, false, { toString: 1 }, {}), undefined, 'another page is ignored');
  // A handler that throws is reported, not thrown.
  const throwing = { invoke: async () => ({ ok: true as const, value: 1 }), command: () => { throw new Error('boom'); } };
  assert.equal(handleCommand(() => throwing, true, 'estop', {})?.code, 'internal');
});

test('the transport-agnostic API also refuses non-string names', async () => {
  const r = await conn.invoke({ toString: 1 }, {});
  assert.equal(r.ok, false);
  assert.equal(conn.command({ toString: 1 }, {})?.code, 'bad_request');
});
