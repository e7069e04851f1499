// The API layer knows which client is the operator (the one that sent the last jog), so the session can
// drop the arm to HOLD when exactly that client goes away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiServer, type CommandHandlers, type InvokeHandlers } from '../../../main/services/api';

function server() {
  const commands = new Proxy({}, { get: () => () => undefined }) as CommandHandlers;
  const api = new ApiServer({} as InvokeHandlers, commands, () => 0);
  let gone = 0;
  api.onOperatorGone = () => void gone++;
  const link = { sendEvent: () => {}, sendFrame: () => {} };
  return { api, link, gone: () => gone };
}

test('only the client that jogged last is the operator; its close (even twice) reports it gone once', () => {
  const { api, link, gone } = server();
  const a = api.connect(link);
  const b = api.connect(link);
  const viewer = api.connect(link);
  assert.equal(a.command('jog', { joint: 'elbow_flex', delta: 1 }), undefined);
  assert.equal(b.command('jogCartesian', { axis: 'z', deltaM: 0.01 }), undefined);
  viewer.close();
  a.close(); // jogged before b: no longer the operator
  assert.equal(gone(), 0);
  b.close();
  b.close(); // a socket's 'error' then 'close'
  assert.equal(gone(), 1);
});

test('a refused jog does not make a client the operator', () => {
  const { api, link, gone } = server();
  const c = api.connect(link);
  assert.equal(c.command('jog', { joint: 'elbow_flex', delta: Number.NaN })?.code, 'bad_request');
  c.close();
  assert.equal(gone(), 0);
});
