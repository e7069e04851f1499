// `npm start`: launches the Electron app when its binary is installed; otherwise (or with
// --headless) builds the renderer if needed and starts the headless host, printing its URL.
//
// It never leaves its child behind: SIGINT/SIGTERM/SIGHUP are forwarded to the child and the
// launcher exits with the child's status; when the launcher's own parent goes away (npm killed:
// npm's `sh -c` dies without passing the signal on, and this process is re-parented), or, run by
// npm on Linux, npm itself (a SIGKILL of npm leaves its shell alive), it stops the child as on a
// signal. The headless host also gets an IPC channel and stops when it closes,
// so even a SIGKILL of this launcher stops the host (main/host/cli.ts).
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

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1, SIGKILL: 9 };

/** The parent pid of a process (Linux /proc); undefined where it cannot be read. */
function parentOf(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Forwards signals to the child, follows the parent's death, exits with the child. */
function supervise(child) {
  let stopping = false;
  let stoppingSince = 0;
  // A terminal's Ctrl-C reaches the whole process group (npm, this launcher and the host) and npm
  // forwards it again: the same signal arrives two or three times within milliseconds. Only a signal
  // given again later (an operator pressing Ctrl-C a second time) kills the child without waiting
  // for its clean stop (a real arm's torque off, recordings closed).
  const stop = (sig, fromSignal) => {
    if (stopping) {
      if (fromSignal && Date.now() - stoppingSince > 1500) child.kill('SIGKILL');
      return;
    }
    stopping = true;
    stoppingSince = Date.now();
    child.kill(sig);
  };
  for (const sig of SIGNALS) process.on(sig, () => stop(sig, true));
  const parent = process.ppid;
  // Run by npm (npm → sh -c → this): on Linux also watch npm itself, whose SIGKILL leaves the shell alive.
  const grandparent = process.env.npm_lifecycle_event !== undefined ? parentOf(parent) : undefined;
  const watch = setInterval(() => {
    if (process.ppid !== parent || (grandparent !== undefined && parentOf(parent) !== grandparent)) stop('SIGTERM', false);
  }, 500);
  watch.unref();
  child.on('exit', (code, signal) => {
    clearInterval(watch);
    process.exit(code ?? (signal ? 128 + (SIGNAL_NUMBERS[signal] ?? 1) : 1));
  });
}

const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const e = args.includes('--headless') ? { why: '--headless was given' } : electronBinary();
if (e.path) {
  run(npx, ['electron-vite', 'build']);
  supervise(spawn(e.path, ['.', ...args], { stdio: 'inherit' }));
} else {
  console.log(`Starting the headless host: ${e.why}. The console is served to any browser on this machine.`);
  const index = 'out/renderer/index.html';
  const stale = !existsSync(index) || newestMtime('renderer') > statSync(index).mtimeMs || newestMtime('main/common') > statSync(index).mtimeMs;
  if (stale) run(npx, ['vite', 'build', '--config', 'vite.renderer.config.ts', '--logLevel', 'warn']);
  supervise(spawn(process.execPath, ['--import', 'tsx', 'main/host/cli.ts', ...args.filter((a) => a !== '--headless')], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] }));
}
