// `npm start`: launches the Electron app when its binary is installed; otherwise (or with
// --headless) builds the renderer if needed and starts the headless host, printing its URL.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const require = createRequire(import.meta.url);

function electronBinary() {
  try {
    const p = require('electron'); // the package exports the binary's path, and throws if it was never installed
    return typeof p === 'string' && existsSync(p) ? { path: p } : { why: `the Electron package points at ${p}, which does not exist` };
  } catch (err) {
    return { why: `the Electron binary is not installed (${String(err.message ?? err).split('\n')[0]}); run \`npx install-electron\` to get it` };
  }
}

function newestMtime(dir) {
  let t = 0;
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newestMtime(p) : s.mtimeMs);
  }
  return t;
}

function run(cmd, cmdArgs) {
  const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const e = args.includes('--headless') ? { why: '--headless was given' } : electronBinary();
if (e.path) {
  run(npx, ['electron-vite', 'build']);
  const child = spawn(e.path, ['.', ...args], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  console.log(`Starting the headless host: ${e.why}. The console is served to any browser on this machine.`);
  const index = 'out/renderer/index.html';
  const stale = !existsSync(index) || newestMtime('renderer') > statSync(index).mtimeMs || newestMtime('main/common') > statSync(index).mtimeMs;
  if (stale) run(npx, ['vite', 'build', '--config', 'vite.renderer.config.ts', '--logLevel', 'warn']);
  const child = spawn(process.execPath, ['--import', 'tsx', 'main/host/cli.ts', ...args.filter((a) => a !== '--headless')], { stdio: 'inherit' });
  const forward = (sig) => child.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', (code) => process.exit(code ?? 0));
}
