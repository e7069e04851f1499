/** The host's pure guards (main/host/guard.ts): Host/Origin allow-list, path segments. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSegments, hostAllowList, hostHeaderOk, originOk, parseHostHeader, tokenOk } from '../../../main/host/guard';

test('the allow-list: loopback names, the bound address, --allow-host names; a wildcard bind adds the machine\'s own', () => {
  const l = hostAllowList({ bound: '127.0.0.1', extra: ['Reins.Lab.'] });
  assert.deepEqual([...l].sort(), ['127.0.0.1', '::1', 'localhost', 'reins.lab']);
  const w = hostAllowList({ bound: '0.0.0.0', machine: () => ['rig-3', '192.168.1.20', 'fe80::1'] });
  for (const n of ['rig-3', '192.168.1.20', 'fe80::1', '0.0.0.0', 'localhost']) assert.ok(w.has(n), n);
  assert.equal(w.has('evil.example'), false);
});

test('Host header: allowed name and our port only', () => {
  const l = hostAllowList({ bound: '127.0.0.1' });
  assert.equal(hostHeaderOk('127.0.0.1:5173', l, 5173), true);
  assert.equal(hostHeaderOk('[::1]:5173', l, 5173), true);
  assert.equal(hostHeaderOk('LocalHost:5173', l, 5173), true);
  for (const bad of [undefined, '', 'evil.example:5173', '127.0.0.1:5174', '127.0.0.1', '127.0.0.1:5173:1', 'user@127.0.0.1:5173', '127.0.0.1.evil.example:5173', '[::1', '127.0.0.1:5173/x']) assert.equal(hostHeaderOk(bad, l, 5173), false, String(bad));
  assert.equal(hostHeaderOk('localhost', l, 80), true);
  assert.deepEqual(parseHostHeader('[::1]:80'), { name: '::1', port: 80 });
});

test('Origin: absent passes (non-browser clients meet the token), otherwise http://<allowed>:<port> only', () => {
  const l = hostAllowList({ bound: '127.0.0.1' });
  assert.equal(originOk(undefined, l, 5173), true);
  assert.equal(originOk('http://localhost:5173', l, 5173), true);
  assert.equal(originOk('http://[::1]:5173', l, 5173), true);
  for (const bad of ['null', '', 'http://evil.example:5173', 'https://127.0.0.1:5173', 'http://127.0.0.1:5174', 'http://127.0.0.1', 'file://', 'http://u:p@127.0.0.1:5173', 'chrome-extension://abc']) assert.equal(originOk(bad, l, 5173), false, bad);
});

test('path segments: escapes decoded, traversal and hidden separators refused', () => {
  assert.deepEqual(decodeSegments(['videos', 'a%20b.mp4']), ['videos', 'a b.mp4']);
  for (const bad of [['..'], ['%2e%2e'], ['.'], [''], ['a%2fb'], ['a%5cb'], ['a%00'], ['%E0%A4%A'], ['%']]) assert.equal(decodeSegments(bad), undefined, bad.join('/'));
});

test('token: constant-time comparison, nothing when none is set', () => {
  assert.equal(tokenOk(undefined, null), true);
  assert.equal(tokenOk('secret-123', 'secret-123'), true);
  for (const bad of [null, undefined, '', 'secret-12', 'secret-1234', 'SECRET-123']) assert.equal(tokenOk('secret-123', bad), false, String(bad));
});
