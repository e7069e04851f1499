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
