/** Command-line options of `npm start` / the headless host. Pure (resolveToken and resolveCameraCalibrations read files through an injected reader). */
import { parseCameraCalibration, type CameraCalibration } from '../services/cameraCalib';

export interface StartArgs {
  headless: boolean;
  host: string;
  port: number;
  /** The secret itself; filled by resolveToken from --token, --token-file or $REINS_TOKEN. */
  token?: string;
  /** --token-file: a file whose first line is the token (kept out of `ps` and shell history). */
  tokenFile?: string;
  /** --allow-host: extra names a browser may use to reach the console (repeatable). */
  allowHosts: string[];
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
  /** --camera-calib K=PATH: the calibration file given for this camera (read by resolveCameraCalibrations). */
  calibPath?: string;
  /** The pinhole calibration (intrinsics + pose in the robot base frame): the ghost's tip path is drawn on this camera. */
  calibration?: CameraCalibration;
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

export const USAGE = `Usage: npm start -- [--headless] [--port N] [--host ADDR --token-file F] [--rate HZ] [--seed S] [--size WxH]
  --headless     serve the console to a browser even if Electron is installed
  --port N       HTTP/WebSocket port (default 5173; 0 picks a free one)
  --host ADDR    address to listen on (default 127.0.0.1); any other address requires a token
  --token-file F file holding the secret a browser must present (?token=...); or set REINS_TOKEN
  --token T      the secret on the command line (visible in ps and shell history: prefer the two above)
  --allow-host NAME
                 another host name a browser may use to reach the console (repeatable; the bound
                 address, localhost, 127.0.0.1 and [::1] are always allowed)
  --rate HZ      control loop rate (default 30)
  --seed S       simulator layout seed (default 1)
  --size WxH     simulated camera size, 224x224 up to 640x480 (default 320x240)
  --camera K=SRC[@WxH[:fps]]
                 a camera used with a real arm, repeatable: SRC is a capture device
                 (/dev/video0; on macOS an AVFoundation index; on Windows a DirectShow name),
                 file:PATH (a video, looped) or testsrc (ffmpeg's test pattern)
  --camera-calib K=PATH
                 a JSON pinhole calibration of camera K (intrinsics fx, fy, cx, cy at width x
                 height; position and rotation in the robot base frame; see the README): the
                 policy's planned gripper path is drawn on that camera (SO-100/SO-101 arms)`;

/** Every flag parseStartArgs knows; all but --headless and --help take a value. */
export const START_FLAGS = ['--headless', '--port', '--host', '--token', '--token-file', '--allow-host', '--rate', '--seed', '--size', '--camera', '--camera-calib'] as const;

/**
 * Only Reins' own flags (with their values) from a command line that Electron and Chromium may
 * have added switches of their own to; parseStartArgs then refuses bad values loudly.
 */
export function pickStartArgs(raw: readonly string[]): string[] {
  const ours = new Set<string>(START_FLAGS);
  const mine: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (!ours.has(raw[i]!)) continue;
    mine.push(raw[i]!);
    if (raw[i] !== '--headless' && raw[i + 1] !== undefined) mine.push(raw[++i]!);
  }
  return mine;
}

export function parseStartArgs(argv: readonly string[]): StartArgs {
  const a: StartArgs = { headless: false, host: '127.0.0.1', port: 5173, allowHosts: [], rateHz: 30, seed: 1, cameraWidth: 320, cameraHeight: 240, cameras: [] };
  const calibs: [string, string][] = [];
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
      case '--token-file':
        a.tokenFile = need(i, f);
        i++;
        break;
      case '--allow-host': {
        const v = need(i, f);
        if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]{1,253})$/.test(v)) throw new Error(`--allow-host takes a host name or address (no port, no scheme), got "${v}".`);
        a.allowHosts.push(v);
        i++;
        break;
      }
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
      case '--camera-calib': {
        const v = need(i, f);
        const m = /^([A-Za-z0-9_]{1,32})=(.+)$/.exec(v);
        if (!m) throw new Error(`--camera-calib must look like front=calib/front.json (key=PATH), got "${v}".`);
        calibs.push([m[1]!, m[2]!]);
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
  for (const [key, path] of calibs) {
    const cam = a.cameras.find((c) => c.key === key);
    if (cam === undefined) throw new Error(`--camera-calib ${key}: no camera "${key}"; give --camera ${key}=... as well (cameras: ${a.cameras.map((c) => c.key).join(', ') || 'none'}).`);
    if (cam.calibPath !== undefined) throw new Error(`--camera-calib ${key} given twice.`);
    cam.calibPath = path;
  }
  if (a.token !== undefined && a.tokenFile !== undefined) throw new Error('Give either --token or --token-file, not both.');
  if (a.token !== undefined && a.token.length < 8) throw new Error('--token must be at least 8 characters.');
  return a;
}

/**
 * The token, from (first found) --token, --token-file (its first line), $REINS_TOKEN_FILE, or
 * $REINS_TOKEN. At least 8 characters, no whitespace inside. `readFile` is injected (tests).
 */
export function resolveToken(a: StartArgs, env: Readonly<Record<string, string | undefined>>, readFile: (path: string) => string): string | undefined {
  let token: string | undefined;
  let from: string;
  const file = a.tokenFile ?? (a.token === undefined ? env.REINS_TOKEN_FILE || undefined : undefined);
  if (a.token !== undefined) {
    token = a.token;
    from = '--token';
  } else if (file !== undefined) {
    from = a.tokenFile !== undefined ? `--token-file ${file}` : `REINS_TOKEN_FILE (${file})`;
    let text: string;
    try {
      text = readFile(file);
    } catch (err) {
      throw new Error(`Cannot read the token file ${file}: ${(err as Error).message}`);
    }
    token = text.split(/\r?\n/)[0]!.trim();
  } else if (env.REINS_TOKEN !== undefined && env.REINS_TOKEN !== '') {
    token = env.REINS_TOKEN.trim();
    from = 'REINS_TOKEN';
  } else return undefined;
  if (token.length < 8) throw new Error(`The token (${from}) must be at least 8 characters.`);
  if (/\s/.test(token)) throw new Error(`The token (${from}) must not contain spaces.`);
  return token;
}

/**
 * Reads each --camera-calib file into its camera's spec. The calibration's image size must have the
 * camera's aspect ratio (the intrinsics are scaled to the captured size; a different aspect means a
 * crop the calibration does not describe). Errors name the file and the field.
 */
export function resolveCameraCalibrations(a: StartArgs, readFile: (path: string) => string): void {
  for (const cam of a.cameras) {
    if (cam.calibPath === undefined) continue;
    let text: string;
    try {
      text = readFile(cam.calibPath);
    } catch (err) {
      throw new Error(`--camera-calib ${cam.key}: cannot read ${cam.calibPath}: ${(err as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new Error(`--camera-calib ${cam.key}: ${cam.calibPath} is not JSON: ${(err as Error).message}`);
    }
    const c = parseCameraCalibration(json, `--camera-calib ${cam.key}: ${cam.calibPath}`);
    if (Math.abs(c.width / c.height - cam.width / cam.height) > 0.01 * (cam.width / cam.height)) {
      throw new Error(`--camera-calib ${cam.key}: ${cam.calibPath} is for ${c.width}x${c.height} images but the camera captures ${cam.width}x${cam.height} (another aspect ratio). Calibrate at the capture size, or capture at ${c.width}x${c.height}.`);
    }
    cam.calibration = c;
  }
}
