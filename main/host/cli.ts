/**
 * Headless host entry: `npm start` runs this when there is no Electron binary (or with --headless).
 * Starts the console session (simulated SO-101 by default) and serves the renderer and the API.
 *
 * It stops as on a normal quit (the arm holds, a real arm's torque goes off, recordings are
 * closed) on SIGINT, SIGTERM, SIGHUP, and when the launcher that started it (scripts/start.mjs,
 * over an IPC channel) goes away, so killing `npm start` never leaves a host holding the port
 * and the robot. A second signal while stopping exits at once.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { parseStartArgs, resolveCameraCalibrations, resolveToken } from './args';
import { startHost, type RunningHost } from './server';
import { ConsoleSession } from '../services/session';

async function main(): Promise<void> {
  let args;
  try {
    args = parseStartArgs(process.argv.slice(2));
    args.token = resolveToken(args, process.env, (p) => readFileSync(p, 'utf8'));
    resolveCameraCalibrations(args, (p) => readFileSync(p, 'utf8'));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const session = new ConsoleSession({ rateHz: args.rateHz, seed: args.seed, cameraWidth: args.cameraWidth, cameraHeight: args.cameraHeight, hardwareCameras: args.cameras, log: (m) => console.log(m) });
  let host: RunningHost | undefined;
  let stopping = false;
  let stoppingSinceMs = 0;
  // A terminal's Ctrl-C (or `kill` of the process group) reaches this process AND the launcher,
  // which forwards it: the same signal arrives twice within milliseconds, and the launcher going
  // away closes the IPC channel too. Those must not cut the clean stop short (a real arm's torque
  // off, recordings closed). Only a signal given again after REPEAT_FORCE_MS (an operator pressing
  // Ctrl-C a second time) exits at once.
  const REPEAT_FORCE_MS = 1500;
  const shutdown = async (why: string, isSignal: boolean) => {
    if (stopping) {
      if (!isSignal || performance.now() - stoppingSinceMs < REPEAT_FORCE_MS) return;
      console.log(`${why} again: exiting now.`);
      process.exit(1);
    }
    stopping = true;
    stoppingSinceMs = performance.now();
    console.log(`\n${why}: stopping (the arm holds, recordings are closed).`);
    const force = setTimeout(() => {
      console.error('Stopping took over 10 s; exiting.');
      process.exit(1);
    }, 10_000);
    force.unref();
    try {
      await host?.close();
      await session.stop();
      console.log('Stopped.');
    } catch (err) {
      console.error(`Stopping failed: ${(err as Error).message}`);
      process.exit(1);
    }
    process.exit(0);
  };
  // Installed before anything starts, so a signal during start-up also stops cleanly.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void shutdown(sig, true));
  // Started by scripts/start.mjs with an IPC channel: when the launcher dies (even by SIGKILL), the channel closes.
  if (process.send) process.on('disconnect', () => void shutdown('the launcher (npm start) went away', false));

  await session.start();
  try {
    host = await startHost({ host: args.host, port: args.port, token: args.token, allowHosts: args.allowHosts, rendererDir: join(root, 'out', 'renderer'), api: session.api, fileRoots: () => session.fileRoots(), log: (m) => console.log(m) });
  } catch (err) {
    console.error(`Could not start the console host: ${(err as Error).message}`);
    await session.stop();
    process.exit(1);
  }
  if (stopping) return;
  console.log(`Reins is running headless (pid ${process.pid}, simulated SO-101, loop ${args.rateHz} Hz). Open ${host.url} in a browser.`);
}

void main();
