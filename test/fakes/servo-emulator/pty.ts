/**
 * A real pseudo-terminal pair from socat: `host` is the end the driver opens (as it would
 * /dev/ttyUSB0), `device` is the end the emulator answers on.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PtyPair {
  host: string;
  device: string;
  close(): Promise<void>;
}

export function socatAvailable(): boolean {
  const r = spawnSync('socat', ['-V'], { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

export async function openPtyPair(timeoutMs = 5000): Promise<PtyPair> {
  const dir = mkdtempSync(join(tmpdir(), 'reins-pty-'));
  const host = join(dir, 'host');
  const device = join(dir, 'device');
  const child: ChildProcess = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${host}`, `pty,raw,echo=0,link=${device}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const start = Date.now();
  while (!(existsSync(host) && existsSync(device))) {
    if (child.exitCode !== null || Date.now() - start > timeoutMs) {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`socat did not create the pty pair: ${stderr.trim() || 'timeout'}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return {
    host,
    device,
    async close() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
