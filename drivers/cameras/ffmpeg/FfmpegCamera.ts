/**
 * USB cameras captured host-side through ffmpeg: V4L2 on Linux, AVFoundation on macOS,
 * DirectShow on Windows. MJPEG (default; what most UVC cameras need for 30 fps at 640x480
 * and up over USB 2) or raw (YUYV) input; frames come out as RGB24 at the requested size.
 */
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { FfmpegStreamCamera, ffmpegPath, rawOutputArgs, CameraError, type StreamCameraOptions } from './stream';

export type InputFormat = 'mjpeg' | 'raw' | 'auto';
export type CapturePlatform = 'linux' | 'darwin' | 'win32';

export interface FfmpegCameraOptions extends StreamCameraOptions {
  /** Linux: '/dev/video0'; macOS: device index ('0') or name; Windows: the DirectShow device name. */
  device: string;
  inputFormat?: InputFormat;
  platform?: CapturePlatform;
}

export interface CameraDevice {
  /** What to pass as `device`. */
  id: string;
  name: string;
  /** Formats and sizes where ffmpeg could tell (Linux). */
  formats?: { format: string; compressed: boolean; sizes: string[] }[];
}

function currentPlatform(): CapturePlatform {
  const p = process.platform;
  if (p === 'darwin' || p === 'win32') return p;
  return 'linux';
}

/** ffmpeg input arguments for a capture device (pure). */
export function captureInputArgs(platform: CapturePlatform, device: string, width: number, height: number, fps: number, format: InputFormat = 'mjpeg'): string[] {
  const size = `${width}x${height}`;
  const lowDelay = ['-fflags', 'nobuffer', '-flags', 'low_delay'];
  switch (platform) {
    case 'linux': {
      const fmt = format === 'mjpeg' ? ['-input_format', 'mjpeg'] : format === 'raw' ? ['-input_format', 'yuyv422'] : [];
      return [...lowDelay, '-f', 'v4l2', ...fmt, '-framerate', String(fps), '-video_size', size, '-i', device];
    }
    case 'darwin': {
      // AVFoundation picks the codec itself; raw asks for uyvy422, which every Mac camera offers
      const fmt = format === 'raw' ? ['-pixel_format', 'uyvy422'] : [];
      return [...lowDelay, '-f', 'avfoundation', ...fmt, '-framerate', String(fps), '-video_size', size, '-i', `${device}:none`];
    }
    case 'win32': {
      const fmt = format === 'mjpeg' ? ['-vcodec', 'mjpeg'] : format === 'raw' ? ['-pixel_format', 'yuyv422'] : [];
      return [...lowDelay, '-f', 'dshow', '-rtbufsize', '64M', ...fmt, '-framerate', String(fps), '-video_size', size, '-i', `video=${device}`];
    }
  }
}

export class FfmpegCamera extends FfmpegStreamCamera {
  readonly device: string;
  readonly inputFormat: InputFormat;
  readonly platform: CapturePlatform;
  constructor(opts: FfmpegCameraOptions) {
    super(opts);
    this.device = opts.device;
    this.inputFormat = opts.inputFormat ?? 'mjpeg';
    this.platform = opts.platform ?? currentPlatform();
  }
  protected args(): string[] {
    return [...captureInputArgs(this.platform, this.device, this.width, this.height, this.fps, this.inputFormat), ...rawOutputArgs(this.width, this.height, this.fps)];
  }
  protected describe(): string {
    return `${this.device}, ${this.width}x${this.height} @ ${this.fps} fps ${this.inputFormat}; check that it is plugged in, not used by another program, and supports this size and rate`;
  }
}

// ---------- device lists ----------

/** Parses `ffmpeg -f avfoundation -list_devices true -i ""` (stderr). */
export function parseAvfoundationDevices(text: string): CameraDevice[] {
  const out: CameraDevice[] = [];
  let inVideo = false;
  for (const line of text.split('\n')) {
    if (/AVFoundation video devices/.test(line)) inVideo = true;
    else if (/AVFoundation audio devices/.test(line)) inVideo = false;
    else if (inVideo) {
      const m = /\]\s*\[(\d+)\]\s*(.+)$/.exec(line);
      if (m && !/^Capture screen/.test(m[2]!.trim())) out.push({ id: m[1]!, name: m[2]!.trim() });
    }
  }
  return out;
}

/** Parses `ffmpeg -list_devices true -f dshow -i dummy` (stderr), ffmpeg 4.4 and later formats. */
export function parseDshowDevices(text: string): CameraDevice[] {
  const out: CameraDevice[] = [];
  let legacyVideo = false;
  for (const line of text.split('\n')) {
    if (/DirectShow video devices/.test(line)) legacyVideo = true;
    else if (/DirectShow audio devices/.test(line)) legacyVideo = false;
    const m = /\]\s*"([^"]+)"\s*(\((video|audio|none)\))?/.exec(line);
    if (!m || /Alternative name/.test(line)) continue;
    const kind = m[3];
    if (kind === 'video' || (kind === undefined && legacyVideo)) out.push({ id: m[1]!, name: m[1]! });
  }
  return out;
}

/** Parses `ffmpeg -f v4l2 -list_formats all -i /dev/videoN` (stderr). */
export function parseV4l2Formats(text: string): NonNullable<CameraDevice['formats']> {
  const out: NonNullable<CameraDevice['formats']> = [];
  for (const line of text.split('\n')) {
    const m = /\]\s*(Compressed|Raw)\s*:\s*(\S+)\s*:.*?:\s*((?:\d+x\d+\s*)+|\{.*\})\s*$/.exec(line);
    if (m) out.push({ format: m[2]!, compressed: m[1] === 'Compressed', sizes: m[3]!.trim().split(/\s+/).filter(Boolean) });
  }
  return out;
}

function ffmpegStderr(args: string[], bin?: string): Promise<string> {
  return new Promise((resolve) => {
    const p = spawn(ffmpegPath(bin), ['-hide_banner', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    p.on('error', (e) => resolve(`error: ${e.message}`));
    p.on('close', () => resolve(err));
  });
}

/** Cameras the host can capture from, via ffmpeg (and /sys on Linux). */
export async function listCameraDevices(platform: CapturePlatform = currentPlatform(), bin?: string): Promise<CameraDevice[]> {
  if (platform === 'darwin') return parseAvfoundationDevices(await ffmpegStderr(['-f', 'avfoundation', '-list_devices', 'true', '-i', ''], bin));
  if (platform === 'win32') return parseDshowDevices(await ffmpegStderr(['-list_devices', 'true', '-f', 'dshow', '-i', 'dummy'], bin));
  let names: string[];
  try {
    names = (await fsp.readdir('/dev')).filter((n) => /^video\d+$/.test(n)).sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  } catch {
    return [];
  }
  const out: CameraDevice[] = [];
  for (const n of names) {
    const formats = parseV4l2Formats(await ffmpegStderr(['-f', 'v4l2', '-list_formats', 'all', '-i', `/dev/${n}`], bin));
    if (formats.length === 0) continue; // metadata nodes and busy devices list no formats
    const name = (await fsp.readFile(`/sys/class/video4linux/${n}/name`, 'utf8').catch(() => n)).trim();
    out.push({ id: `/dev/${n}`, name, formats });
  }
  return out;
}

export { CameraError };
