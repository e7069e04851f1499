/**
 * Headless host entry: `npm start` runs this when there is no Electron binary (or with --headless).
 * Starts the console session (simulated SO-101 by default) and serves the renderer and the API.
 */
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { parseStartArgs } from './args';
import { startHost } from './server';
import { ConsoleSession } from '../services/session';

async function main(): Promise<void> {
  let args;
  try {
    args = parseStartArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const session = new ConsoleSession({ rateHz: args.rateHz, seed: args.seed, cameraWidth: args.cameraWidth, cameraHeight: args.cameraHeight, hardwareCameras: args.cameras, log: (m) => console.log(m) });
  await session.start();
  let host;
  try {
    host = await startHost({ host: args.host, port: args.port, token: args.token, rendererDir: join(root, 'out', 'renderer'), api: session.api, fileRoots: () => session.fileRoots(), log: (m) => console.log(m) });
  } catch (err) {
    console.error(`Could not start the console host: ${(err as Error).message}`);
    await session.stop();
    process.exit(1);
  }
  console.log(`Reins is running headless (simulated SO-101, loop ${args.rateHz} Hz). Open ${host.url} in a browser.`);
  const shutdown = async (sig: string) => {
    console.log(`\n${sig}: stopping (the arm holds, recordings are closed).`);
    await host.close();
    await session.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

void main();
