import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { allowPermission, CONTENT_SECURITY_POLICY, secureWebPreferences } from '../../../main/app/security';

const OWN = 'file:///opt/reins/out/renderer';

test('windows are isolated and sandboxed, with no Node in the page', () => {
  const p = secureWebPreferences('/x/preload.cjs');
  assert.equal(p.contextIsolation, true);
  assert.equal(p.sandbox, true);
  assert.equal(p.nodeIntegration, false);
  assert.equal(p.webviewTag, false);
  assert.match(CONTENT_SECURITY_POLICY, /default-src 'self'/);
  assert.match(CONTENT_SECURITY_POLICY, /script-src 'self'(;|$)/);
});

test('only camera access, only for our own page', () => {
  assert.equal(allowPermission('media', `${OWN}/index.html`, OWN, ['video']), true);
  assert.equal(allowPermission('media', `${OWN}/index.html`, OWN, ['video', 'audio']), false);
  assert.equal(allowPermission('media', 'https://evil.example/', OWN, ['video']), false);
  for (const p of ['geolocation', 'notifications', 'clipboard-read', 'openExternal', 'midi']) assert.equal(allowPermission(p, `${OWN}/index.html`, OWN), false);
});

test('the built preload is one CommonJS file that requires nothing but electron, and exposes no ipcRenderer', () => {
  const f = 'out/preload/index.cjs';
  assert.ok(existsSync(f), 'npm test builds it first (electron-vite build)');
  const src = readFileSync(f, 'utf8');
  const requires = [...src.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]);
  assert.deepEqual([...new Set(requires)], ['electron']);
  assert.match(src, /exposeInMainWorld\(["']reins["']/);
  assert.doesNotMatch(src, /exposeInMainWorld\([^)]*ipcRenderer\s*\)/);
  for (const f2 of ['out/main/index.js', 'out/main/simCameraWorker.js', 'out/main/policyChild.js', 'out/renderer/index.html']) assert.ok(existsSync(f2), `${f2} missing from the Electron build`);
});

test('the built preload bridge: invoke only known channels, and unsubscribe really unsubscribes', async () => {
  const { runInNewContext } = await import('node:vm');
  const { EventEmitter } = await import('node:events');
  const ipc = new EventEmitter() as InstanceType<typeof EventEmitter> & { invoke: (...a: unknown[]) => Promise<unknown>; send: (...a: unknown[]) => void };
  const sent: unknown[][] = [];
  ipc.invoke = async (...a: unknown[]) => ({ ok: true, value: a });
  ipc.send = (...a: unknown[]) => void sent.push(a);
  let exposed: any;
  const electron = { ipcRenderer: ipc, contextBridge: { exposeInMainWorld: (k: string, v: unknown) => { if (k === 'reins') exposed = v; } } };
  runInNewContext(readFileSync('out/preload/index.cjs', 'utf8'), { require: (m: string) => { if (m !== 'electron') throw new Error(m); return electron; }, module: {}, exports: {} });
  assert.ok(exposed);
  assert.deepEqual(Object.keys(exposed).sort(), ['invoke', 'on', 'send']);
  assert.deepEqual(await exposed.invoke('session.get', {}), { ok: true, value: ['reins:invoke', 'session.get', {}] });
  const bad = await exposed.invoke('fs.read', {});
  assert.equal(bad.ok, false);
  exposed.send('estop', { engaged: true });
  exposed.send('not-a-command', {});
  assert.deepEqual(sent, [['reins:command', 'estop', { engaged: true }]]);
  const got: unknown[] = [];
  const off = exposed.on('telemetry', (p: unknown) => got.push(p));
  ipc.emit('reins:event:telemetry', {}, 1);
  off();
  ipc.emit('reins:event:telemetry', {}, 2);
  assert.deepEqual(got, [1]);
  assert.equal(ipc.listenerCount('reins:event:telemetry'), 0);
});
