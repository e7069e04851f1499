/**
 * The Camera contract. Frames are RGB24, row-major, owned by the main side.
 */
export interface Frame {
  data: Uint8Array; // width * height * 3 bytes, RGB
  width: number;
  height: number;
  /** Monotonic time (ms, performance.now() timeline) the frame was captured or rendered. */
  captureTimeMs: number;
  seq: number;
}

export interface CameraStats {
  frames: number;
  dropped: number;
}

export interface Camera {
  readonly key: string; // 'front', 'wrist', ...
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly isConnected: boolean;
  connect(): Promise<void>;
  /** Non-blocking: the newest frame, or undefined if none is younger than maxAgeMs. For loops and UI. */
  readLatest(maxAgeMs?: number): Frame | undefined;
  /** Waits for a frame newer than the last one returned (rejects after timeoutMs). */
  nextFrame(timeoutMs: number): Promise<Frame>;
  stats(): CameraStats;
  disconnect(): Promise<void>;
}
