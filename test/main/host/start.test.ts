/**
 * `npm start` without an Electron binary (as here): it says why, starts the headless host and
 * prints the URL, which serves the console.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

test('npm start falls back to the headless host, says why, and serves the console', { timeout: 60_000 }, async () => {
  const child = spawn(process.execPath, ['scripts/start.mjs', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: '/nonexistent' } });
  let out = '';
  try {
    const url = await new Promise<string>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`no URL printed:\n${out}`)), 50_000);
      const on = (d: Buffer) => {
        out += d.toString();
        const m = /Reins console at (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(t);
          res(m[1]!);
        }
      };
      child.stdout.on('data', on);
      child.stderr.on('data', on);
    });
    assert.match(out, /Starting the headless host: the Electron binary is not installed/);
    assert.doesNotMatch(out, /Downloading/);
    const page = await (await fetch(url)).text();
    assert.match(page, /<html/);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
});

// ---- issue 12, findings 12 and 13: the token from the environment; killing `npm start` stops the host ----

import { readdirSync, readFileSync } from 'node:fs';
import { upgrade } from './helpers';

/** Host processes started with this unique seed (to clean up whatever a failing run leaves). */
function hostPids(seed: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (cmd.some((a) => a.endsWith('cli.ts') || a.endsWith('start.mjs')) && cmd.includes(seed)) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

async function waitFor(out: () => string, re: RegExp, ms: number): Promise<RegExpExecArray> {
  const end = Date.now() + ms;
  for (;;) {
    const m = re.exec(out());
    if (m) return m;
    if (Date.now() > end) throw new Error(`timed out waiting for ${re}:\n${out()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopsServing(port: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

for (const how of ['SIGTERM to npm', 'SIGKILL to npm', 'SIGKILL to the launcher'] as const) {
  test(`npm start: ${how} stops the host (no orphan holding the port and the robot); the token can come from REINS_TOKEN`, { timeout: 120_000 }, async () => {
    const seed = String(100_000_000 + Math.floor(Math.random() * 800_000_000));
    const env = { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: '/nonexistent', REINS_TOKEN: 'env-token-12345' };
    const child = how !== 'SIGKILL to the launcher' ? spawn('npm', ['start', '--', '--headless', '--port', '0', '--seed', seed], { stdio: ['ignore', 'pipe', 'pipe'], env }) : spawn(process.execPath, ['scripts/start.mjs', '--headless', '--port', '0', '--seed', seed], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const m = await waitFor(() => out, /Reins console at (http:\/\/\S+)/, 100_000);
      const url = new URL(m[1]!);
      assert.equal(url.searchParams.get('token'), 'env-token-12345', 'the token came from REINS_TOKEN');
      const port = Number(url.port);
      assert.equal(await upgrade(port, '/ws'), 401, 'no token, no socket');
      assert.equal(await upgrade(port, '/ws?token=env-token-12345'), 101);
      child.kill(how === 'SIGTERM to npm' ? 'SIGTERM' : 'SIGKILL');
      assert.ok(await stopsServing(port, 20_000), `the host still serves on port ${port} after ${how}`);
      const end = Date.now() + 10_000;
      while (hostPids(seed).length && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(hostPids(seed), [], 'no process of this start is left');
      // It stopped as on a quit (session.stop: the arm holds, a real arm's torque goes off, recordings close), not by being killed.
      assert.match(out, /stopping \(the arm holds, recordings are closed\)/);
    } finally {
      child.kill('SIGKILL');
      for (const pid of hostPids(seed)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  });
}

test('npm start: Ctrl-C in a terminal (SIGINT to the whole process group, forwarded again by npm) stops the host cleanly, not by force', { timeout: 120_000 }, async () => {
  const seed = String(100_000_000 + Math.floor(Math.random() * 800_000_000));
  const env = { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: '/nonexistent' };
  // its own process group, as a terminal's foreground job
  const child = spawn('npm', ['start', '--', '--headless', '--port', '0', '--seed', seed], { stdio: ['ignore', 'pipe', 'pipe'], env, detached: true });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  try {
    const m = await waitFor(() => out, /Reins console at (http:\/\/\S+)/, 100_000);
    const port = Number(new URL(m[1]!).port);
    process.kill(-child.pid!, 'SIGINT');
    assert.ok(await stopsServing(port, 20_000), `the host still serves on port ${port}`);
    await waitFor(() => out, /Stopped\./, 15_000); // session.stop() finished: the arm held, torque off on a real arm, recordings closed
    assert.doesNotMatch(out, /again: exiting now/, 'the repeated delivery of one Ctrl-C did not cut the clean stop short');
    const end = Date.now() + 10_000;
    while (hostPids(seed).length && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(hostPids(seed), []);
  } finally {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
    for (const pid of hostPids(seed)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
});
