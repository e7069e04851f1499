/// <reference lib="dom" />
/**
 * Issue 12, finding 8, against a real browser: DNS rebinding. Chromium is told that evil.example
 * resolves to 127.0.0.1 (what a rebinding DNS server does after the page has loaded); a page from
 * evil.example then reaches the console's port. The host must refuse it (Host not allowed), and a
 * page of another origin must not open the console's WebSocket, while the console's own page,
 * by 127.0.0.1 or localhost, works.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { ApiServer, type CommandHandlers, type InvokeHandlers } from '../../main/services/api';
import { startHost, type RunningHost } from '../../main/host/server';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let host: RunningHost;
let attacker: Server;
let browser: Browser;
let port = 0;
let attackerPort = 0;
const estops: unknown[] = [];

before(async () => {
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
  const dir = mkdtempSync(join(tmpdir(), 'reins-rebind-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Reins console</title>');
  const invoke = new Proxy({}, { get: () => () => ({ ok: 1 }) }) as InvokeHandlers;
  const commands = new Proxy({}, { get: (_t, name) => (a: unknown) => name === 'estop' && estops.push(a) }) as CommandHandlers;
  host = await startHost({ host: '127.0.0.1', port: 0, rendererDir: dir, api: new ApiServer(invoke, commands) });
  port = Number(new URL(host.url).port);
  // The attacker's own web server (another port: another origin).
  attacker = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>evil</title>'));
  await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', () => r()));
  attackerPort = (attacker.address() as { port: number }).port;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--host-resolver-rules=MAP evil.example 127.0.0.1'] });
});

after(async () => {
  await browser?.close();
  await host?.close();
  attacker?.close();
});

/** From a page at `pageUrl`, opens ws://`target`/ws and sends an e-stop release; resolves with what happened. */
async function tryFrom(pageUrl: string, target: string): Promise<{ status?: number; ws: string; title: string }> {
  const page = await browser.newPage();
  try {
    const resp = await page.goto(pageUrl).catch(() => null);
    const ws = await page.evaluate(
      (t) =>
        new Promise<string>((res) => {
          const s = new WebSocket(`ws://${t}/ws`);
          s.onopen = () => {
            s.send(JSON.stringify({ t: 'command', name: 'estop', args: { engaged: false } }));
            setTimeout(() => res('open'), 300);
          };
          s.onerror = () => res('refused');
        }),
      target,
    );
    return { status: resp?.status(), ws, title: await page.title() };
  } finally {
    await page.close();
  }
}

test('a rebound name (evil.example → 127.0.0.1) gets neither the page nor the socket', { timeout: 60_000 }, async () => {
  const r = await tryFrom(`http://evil.example:${port}/`, `evil.example:${port}`);
  assert.equal(r.status, 421, 'the host refuses a Host it does not know');
  assert.notEqual(r.title, 'Reins console');
  assert.equal(r.ws, 'refused');
  assert.deepEqual(estops, []);
});

test('a page of another origin cannot open the console\'s socket, even by its real address', { timeout: 60_000 }, async () => {
  for (const from of [`http://127.0.0.1:${attackerPort}/`, `http://evil.example:${attackerPort}/`]) {
    const r = await tryFrom(from, `127.0.0.1:${port}`);
    assert.equal(r.ws, 'refused', from);
  }
  assert.deepEqual(estops, []);
});

test('the console\'s own page, by 127.0.0.1 or localhost, opens the socket', { timeout: 60_000 }, async () => {
  for (const name of ['127.0.0.1', 'localhost']) {
    const r = await tryFrom(`http://${name}:${port}/`, `${name}:${port}`);
    assert.equal(r.status, 200, name);
    assert.equal(r.ws, 'open', name);
  }
  assert.equal(estops.length, 2);
});
