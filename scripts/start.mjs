// `npm start`: launches the Electron app when its binary is installed; otherwise (or with
// --headless) builds the renderer if needed and starts the headless host, printing its URL.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const require = createRequire(import.meta.url);

// Finds the Electron binary the way the electron package does, without its fallback of
// downloading one (requiring the package would try the network when the binary is missing).
function electronBinary() {
  let pkgDir;
  try {
    pkgDir = dirname(require.resolve('electron/package.json'));
  } catch {
    return { why: 'the electron package is not installed (run npm install)' };
  }
  const pathFile = join(pkgDir, 'path.txt');
  const rel = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : undefined;
  const dist = process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(pkgDir, 'dist');
  const bin = rel ? join(dist, rel) : undefined;
  if (bin && existsSync(bin)) return { path: bin };
  return { why: 'the Electron binary is not installed (the electron package no longer downloads it at install; `npx install-electron` fetches it)' };
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
