/**
 * Starts test/fakes/openpi-server/server.py (Python: msgpack, websockets, numpy, onnxruntime,
 * tokenizers) on a free loopback port and stops it. The server's own codec is Python's msgpack,
 * so a test against it checks the TypeScript encoder across languages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const SERVER_PY = fileURLToPath(new URL('./server.py', import.meta.url));

export interface FakeServer {
  port: number;
  url: string;
  proc: ChildProcess;
  /** Everything the server wrote to stderr (tracebacks). */
  stderr: () => string;
  stop(): Promise<void>;
}

/** `args`: server.py flags (e.g. ['--policy', 'hold', '--drop-after', '3']); `port` to reuse a port. */
export function startFakeServer(args: string[] = [], port = 0): Promise<FakeServer> {
  return new Promise((resolve, reject) => {
    const proc = spawn('python3', [SERVER_PY, '--port', String(port), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let out = '';
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const onExit = (code: number | null): void => reject(new Error(`server.py exited (${code}) before listening:\n${err}`));
    proc.once('exit', onExit);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes('"listening"'));
      if (line === undefined) return;
      proc.off('exit', onExit);
      const p = (JSON.parse(line) as { listening: number }).listening;
      resolve({
        port: p,
        url: `ws://127.0.0.1:${p}`,
        proc,
        stderr: () => err,
        stop: () =>
          new Promise<void>((res) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return res();
            proc.once('exit', () => res());
            proc.kill('SIGKILL');
          }),
      });
    });
  });
}
