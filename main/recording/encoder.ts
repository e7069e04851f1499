/**
 * Video encoding by spawning ffmpeg (a maintained tool; no hand-written mp4): raw RGB24 frames
 * on stdin, AV1 (libsvtav1, LeRobot's default: crf 30, preset 12, g 2) where the encoder exists
 * and the frame is at least 64x64 (SVT-AV1's minimum), H.264 (libx264) otherwise; yuv420p.
 *
 * While an episode records, each camera streams into a *fragmented* mp4 in the staging folder,
 * so a kill -9 or power loss leaves every complete fragment readable. At the end of the episode
 * the stream is copied (no re-encode) into a regular faststart mp4 with time base 1/(512·fps)
 * (1/15360 at 30 fps, as LeRobot's files), truncated to the episode's frame count.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { CameraSpec, VideoSettings } from './features';
import { isDiskFull } from './fsutil';
import { ReinsError } from '../common/errors';

export function ffmpegBin(): string {
  return process.env.REINS_FFMPEG ?? 'ffmpeg';
}
export function ffprobeBin(): string {
  return process.env.REINS_FFPROBE ?? 'ffprobe';
}

let encoderCache: Set<string> | undefined;
/** Names of the video encoders this ffmpeg build has (empty when ffmpeg is missing). */
export function availableEncoders(): Set<string> {
  if (encoderCache) return encoderCache;
  const r = spawnSync(ffmpegBin(), ['-hide_banner', '-encoders'], { encoding: 'utf8' });
  const set = new Set<string>();
  if (r.status === 0) {
    for (const line of r.stdout.split('\n')) {
      const m = /^\s*V\S*\s+(\S+)/.exec(line);
      if (m) set.add(m[1]!);
    }
  }
  encoderCache = set;
  return set;
}

export function requireFfmpeg(): void {
  if (availableEncoders().size === 0) {
    throw new ReinsError('recording_error', 'ffmpeg was not found. Install it (Linux: apt install ffmpeg; macOS: brew install ffmpeg; Windows: winget install ffmpeg) or set REINS_FFMPEG to its path.');
  }
}

/**
 * Codec for live recording: AV1 (LeRobot's default) when this machine can encode it in real
 * time, else H.264. Measured: SVT-AV1 preset 12 encodes ~7 Mpixel/s per core (640x480 at
 * 45 fps on 2 cores); with a 2x margin for capture, the loop and the UI, AV1 is chosen when
 * all cameras together need at most 3.5 Mpixel/s per core. (2 cameras at 640x480, 30 fps =
 * 18.4 Mpixel/s: AV1 from 6 cores up.) Recording in simulated time has no deadline: pass 'av1'.
 */
export function autoCodec(cameras: CameraSpec[], fps: number, cores: number): 'av1' | 'h264' {
  const pixelRate = cameras.reduce((a, c) => a + c.width * c.height * fps, 0);
  return pixelRate <= cores * 3.5e6 ? 'av1' : 'h264';
}

/** 'h264-lossless': H.264 4:4:4 at crf 0 (training data recorded in simulated time). */
export type VideoCodecChoice = 'av1' | 'h264' | 'h264-lossless';

/** LeRobot's defaults where possible; `prefer` forces a codec (tests, slow machines, lossless training data). */
export function chooseVideoSettings(cam: CameraSpec, prefer?: VideoCodecChoice): VideoSettings {
  const enc = availableEncoders();
  if (prefer === 'h264-lossless') {
    // training data: decoded frames equal the rendered ones (x264 at crf 0 is lossless; 4:4:4 keeps
    // the colour of every pixel, which 4:2:0 averages over 2x2 blocks)
    if (!enc.has('libx264')) throw new ReinsError('recording_error', 'Lossless recording needs ffmpeg with libx264. Install a full ffmpeg build.');
    return { vcodec: 'libx264', codec: 'h264', pixFmt: 'yuv444p', g: 2, crf: 0, preset: 'veryfast', fastDecode: 0 };
  }
  const av1ok = enc.has('libsvtav1') && cam.width >= 64 && cam.height >= 64;
  if (prefer !== 'h264' && av1ok) return { vcodec: 'libsvtav1', codec: 'av1', pixFmt: 'yuv420p', g: 2, crf: 30, preset: 12, fastDecode: 0 };
  if (enc.has('libx264')) return { vcodec: 'libx264', codec: 'h264', pixFmt: 'yuv420p', g: 2, crf: 23, preset: 'veryfast', fastDecode: 0 };
  if (av1ok) return { vcodec: 'libsvtav1', codec: 'av1', pixFmt: 'yuv420p', g: 2, crf: 30, preset: 12, fastDecode: 0 };
  throw new ReinsError('recording_error', `This ffmpeg has neither libsvtav1 nor libx264, so camera "${cam.key}" cannot be encoded. Install a full ffmpeg build.`);
}

export function timescale(fps: number): number {
  return Math.round(512 * fps);
}

function codecArgs(v: VideoSettings): string[] {
  const a = ['-c:v', v.vcodec, '-pix_fmt', v.pixFmt, '-g', String(v.g), '-crf', String(v.crf), '-preset', String(v.preset)];
  if (v.vcodec === 'libx264') a.push('-bf', '0', '-keyint_min', String(v.g), '-sc_threshold', '0');
  return a;
}

/** One ffmpeg process per camera per episode. Frames are written with backpressure; never called on the tick. */
export class VideoEncoder {
  private proc?: ChildProcessWithoutNullStreams;
  private stderrTail = '';
  private exited?: Promise<number | null>;
  private failure?: ReinsError;
  frames = 0;
  private readonly maxBufferedBytes: number;

  constructor(
    readonly cam: CameraSpec,
    readonly fps: number,
    readonly settings: VideoSettings,
    readonly outPath: string,
  ) {
    this.maxBufferedBytes = cam.width * cam.height * 3 * 8;
  }

  start(): void {
    const { width, height } = this.cam;
    const args = [
      '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
      '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-framerate', String(this.fps), '-i', 'pipe:0',
      ...codecArgs(this.settings),
      '-video_track_timescale', String(timescale(this.fps)),
      '-movflags', 'frag_keyframe+empty_moov+default_base_moof', '-flush_packets', '1',
      '-f', 'mp4', this.outPath,
    ];
    const proc = spawn(ffmpegBin(), args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d: string) => {
      this.stderrTail = (this.stderrTail + d).slice(-4000);
      // ffmpeg (seen with libsvtav1 on a full tmpfs) can report ENOSPC and then hang instead of
      // exiting, no longer reading its input: the recorder would wait on it for ever. Stop it here.
      if (!this.failure && isDiskFull({ message: this.stderrTail })) {
        this.failure = this.error('disk full');
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
    });
    proc.stdout.resume();
    proc.stdin.on('error', () => undefined); // EPIPE surfaces through the exit code
    this.exited = new Promise((resolve) => {
      proc.on('error', (err) => {
        this.failure = new ReinsError('recording_error', `Could not start ffmpeg for camera "${this.cam.key}": ${err.message}`);
        resolve(null);
      });
      proc.on('close', (code) => resolve(code));
    });
  }

  /** Writes one RGB24 frame; resolves when ffmpeg has taken it (backpressure). */
  async write(rgb: Uint8Array): Promise<void> {
    const p = this.proc;
    if (!p) throw new Error('encoder not started');
    if (this.failure) throw this.failure;
    if (p.exitCode !== null || p.stdin.destroyed) throw this.error('ffmpeg exited while recording');
    this.frames++;
    // keep a few frames in flight so ffmpeg never starves; wait only beyond that (backpressure)
    if (!p.stdin.write(rgb) && p.stdin.writableLength > this.maxBufferedBytes) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          p.stdin.off('drain', done);
          p.off('close', done);
          resolve();
        };
        p.stdin.on('drain', done);
        p.on('close', done);
      });
      if (this.failure) throw this.failure;
      if (p.exitCode !== null && p.exitCode !== 0) throw this.error('ffmpeg exited while recording');
    }
  }

  /** Closes stdin and waits for ffmpeg to flush the file. */
  async finish(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    if (this.failure) {
      await this.abort();
      throw this.failure;
    }
    p.stdin.end();
    const code = await this.exited;
    if (this.failure) throw this.failure;
    if (code !== 0) throw this.error(`ffmpeg failed with exit code ${code}`);
  }

  async abort(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    if (p.exitCode === null) p.kill('SIGKILL');
    await this.exited;
  }

  private error(what: string): ReinsError {
    const tail = this.stderrTail.trim().split('\n').slice(-3).join(' | ');
    if (isDiskFull({ message: this.stderrTail })) {
      return new ReinsError('disk_full', `The disk is full: camera "${this.cam.key}" could not be written. Recording stopped; the episodes already saved are intact. Free some space, then recover or discard the interrupted episode.`);
    }
    return new ReinsError('recording_error', `Video encoding for camera "${this.cam.key}" failed (${what}). ${tail}`);
  }
}

function run(bin: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-8000)));
    p.on('error', (err) => resolve({ code: null, stdout, stderr: err.message }));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Stream-copies the first `frames` frames of a (possibly fragmented or truncated) mp4 into a regular faststart mp4. */
export async function remuxEpisode(src: string, dst: string, frames: number, fps: number): Promise<void> {
  const r = await run(ffmpegBin(), [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-i', src,
    '-map', '0:v:0', '-c', 'copy', '-frames:v', String(frames),
    '-video_track_timescale', String(timescale(fps)), '-movflags', '+faststart', '-f', 'mp4', dst,
  ]);
  if (r.code !== 0) {
    if (isDiskFull({ message: r.stderr })) throw new ReinsError('disk_full', 'The disk is full while saving the episode video. Recording stopped; the episodes already saved are intact. Free some space, then recover or discard the interrupted episode.');
    throw new ReinsError('recording_error', `Could not finalise the episode video: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
  }
}

/** Frames that decode from a video file (slow: decodes). Used for recovery after a crash. */
export async function countDecodableFrames(path: string): Promise<number> {
  const r = await run(ffprobeBin(), ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', path]);
  const n = parseInt(r.stdout.trim().split('\n')[0] ?? '', 10);
  return Number.isFinite(n) ? n : 0;
}

export interface ProbeInfo {
  codec: string;
  pixFmt: string;
  width: number;
  height: number;
  frames: number;
  duration: number;
  timeBase: string;
}

/** ffprobe summary of the first video stream (counts packets, does not decode). */
export async function probeVideo(path: string): Promise<ProbeInfo> {
  const r = await run(ffprobeBin(), ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=codec_name,pix_fmt,width,height,nb_read_packets,duration,time_base', '-of', 'json', path]);
  if (r.code !== 0) throw new Error(`ffprobe failed on ${path}: ${r.stderr}`);
  const s = (JSON.parse(r.stdout) as { streams: Record<string, string | number>[] }).streams[0] ?? {};
  return {
    codec: String(s.codec_name),
    pixFmt: String(s.pix_fmt),
    width: Number(s.width),
    height: Number(s.height),
    frames: Number(s.nb_read_packets),
    duration: Number(s.duration),
    timeBase: String(s.time_base),
  };
}
