/**
 * A camera that plays a video file (looped) or ffmpeg's test pattern, paced at its fps: for
 * demos, tests and benchmarks without hardware. Frames are RGB24 at the requested size.
 */
import { FfmpegStreamCamera, rawOutputArgs, type StreamCameraOptions } from '../ffmpeg/stream';

export type FileSource =
  /** A video file; looped forever unless loop is false. */
  | { kind: 'file'; path: string; loop?: boolean }
  /** ffmpeg's test pattern (lavfi testsrc2; 'smptebars', 'mandelbrot' ... also work). */
  | { kind: 'testsrc'; pattern?: string };

export interface FileCameraOptions extends StreamCameraOptions {
  source: FileSource;
  /** Pace frames in real time (default true); false decodes as fast as possible. */
  realtime?: boolean;
}

/** ffmpeg input arguments for a file or test source (pure). */
export function fileInputArgs(source: FileSource, width: number, height: number, fps: number, realtime: boolean): string[] {
  const re = realtime ? ['-re'] : [];
  if (source.kind === 'testsrc') return [...re, '-f', 'lavfi', '-i', `${source.pattern ?? 'testsrc2'}=size=${width}x${height}:rate=${fps}`];
  return [...re, ...(source.loop === false ? [] : ['-stream_loop', '-1']), '-i', source.path];
}

export class FileCamera extends FfmpegStreamCamera {
  private readonly source: FileSource;
  private readonly realtime: boolean;
  constructor(opts: FileCameraOptions) {
    super(opts);
    this.source = opts.source;
    this.realtime = opts.realtime ?? true;
  }
  protected args(): string[] {
    return [...fileInputArgs(this.source, this.width, this.height, this.fps, this.realtime), ...rawOutputArgs(this.width, this.height, this.fps)];
  }
  protected describe(): string {
    return this.source.kind === 'file' ? `file ${this.source.path}` : `test pattern ${this.source.pattern ?? 'testsrc2'}`;
  }
}
