/** Command-line options of `npm start` / the headless host. Pure. */
export interface StartArgs {
  headless: boolean;
  host: string;
  port: number;
  token?: string;
  rateHz: number;
  seed: number;
  cameraWidth: number;
  cameraHeight: number;
  /** USB / file / test-pattern cameras used with a real arm (the simulator renders its own). */
  cameras: HostCameraSpec[];
}

export interface HostCameraSpec {
  key: string;
  source: { kind: 'device'; device: string } | { kind: 'file'; path: string } | { kind: 'testsrc' };
  width: number;
  height: number;
  fps: number;
}

/** `front=/dev/video0@640x480:30`, `wrist=testsrc`, `top=file:/data/demo.mp4@320x240` */
export function parseCameraSpec(v: string): HostCameraSpec {
  const m = /^([A-Za-z0-9_]{1,32})=([^@]+?)(?:@(\d+)x(\d+)(?::(\d+))?)?$/.exec(v);
  if (!m) throw new Error(`--camera must look like front=/dev/video0@640x480:30 (key=device[@WxH[:fps]]), got "${v}".`);
  const [, key, src, w, h, fps] = m;
  const source: HostCameraSpec['source'] = src === 'testsrc' ? { kind: 'testsrc' } : src!.startsWith('file:') ? { kind: 'file', path: src!.slice(5) } : { kind: 'device', device: src! };
  const spec = { key: key!, source, width: w ? Number(w) : 640, height: h ? Number(h) : 480, fps: fps ? Number(fps) : 30 };
  if (spec.width < 16 || spec.width > 3840 || spec.height < 16 || spec.height > 2160 || spec.fps < 1 || spec.fps > 120) throw new Error(`--camera ${v}: size or fps out of range.`);
  return spec;
}

export const USAGE = `Usage: npm start -- [--headless] [--port N] [--host ADDR --token T] [--rate HZ] [--seed S] [--size WxH]
  --headless     serve the console to a browser even if Electron is installed
  --port N       HTTP/WebSocket port (default 5173; 0 picks a free one)
  --host ADDR    address to listen on (default 127.0.0.1); any other address requires --token
  --token T      secret a browser must present (?token=T) to use the console
  --rate HZ      control loop rate (default 30)
  --seed S       simulator layout seed (default 1)
  --size WxH     simulated camera size, 224x224 up to 640x480 (default 320x240)
  --camera K=SRC[@WxH[:fps]]
                 a camera used with a real arm, repeatable: SRC is a capture device
                 (/dev/video0; on macOS an AVFoundation index; on Windows a DirectShow name),
                 file:PATH (a video, looped) or testsrc (ffmpeg's test pattern)`;

export function parseStartArgs(argv: readonly string[]): StartArgs {
  const a: StartArgs = { headless: false, host: '127.0.0.1', port: 5173, rateHz: 30, seed: 1, cameraWidth: 320, cameraHeight: 240, cameras: [] };
  const need = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value.\n${USAGE}`);
    return v;
  };
  const int = (v: string, flag: string, min: number, max: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${flag} must be an integer in [${min}, ${max}], got "${v}".`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i]!;
    switch (f) {
      case '--headless':
        a.headless = true;
        break;
      case '--port':
        a.port = int(need(i, f), f, 0, 65535);
        i++;
        break;
      case '--host':
        a.host = need(i, f);
        i++;
        break;
      case '--token':
        a.token = need(i, f);
        i++;
        break;
      case '--rate':
        a.rateHz = int(need(i, f), f, 1, 500);
        i++;
        break;
      case '--seed':
        a.seed = int(need(i, f), f, 0, 2 ** 31 - 1);
        i++;
        break;
      case '--size': {
        const m = /^(\d+)x(\d+)$/.exec(need(i, f));
        if (!m) throw new Error(`--size must look like 320x240.`);
        a.cameraWidth = int(m[1]!, '--size width', 224, 640);
        a.cameraHeight = int(m[2]!, '--size height', 224, 480);
        i++;
        break;
      }
      case '--camera': {
        const c = parseCameraSpec(need(i, f));
        if (a.cameras.some((x) => x.key === c.key)) throw new Error(`--camera ${c.key} given twice.`);
        a.cameras.push(c);
        i++;
        break;
      }
      case '--help':
      case '-h':
        throw new Error(USAGE);
      default:
        throw new Error(`Unknown option "${f}".\n${USAGE}`);
    }
  }
  if (a.token !== undefined && a.token.length < 8) throw new Error('--token must be at least 8 characters.');
  return a;
}
