/**
 * Paces camera previews: the main side sends a camera's next frame only after the renderer
 * acknowledges the previous one. Frames that arrive between two animation frames replace
 * each other (latest wins); each animation frame draws the newest frame of every camera and
 * then acknowledges it. Pure: the scheduler, the drawing and the ack are injected.
 */
import type { FramePacket } from '../../../main/common/contract';

export interface FramePacerDeps {
  /** requestAnimationFrame (or a fake); returns a handle for cancel. */
  schedule: (cb: () => void) => number;
  cancel: (handle: number) => void;
  /** Draws a frame; returns false when nothing could draw it (no panel yet). */
  draw: (frame: FramePacket) => boolean;
  ack: (camera: string) => void;
}

export class FramePacer {
  private readonly latest = new Map<string, FramePacket>();
  private handle: number | undefined;
  private readonly stats = new Map<string, { drawn: number; replaced: number; lastSeq: number; lastTimeMs: number }>();

  constructor(private readonly deps: FramePacerDeps) {}

  push(frame: FramePacket): void {
    const st = this.statsOf(frame.camera);
    if (this.latest.has(frame.camera)) st.replaced++;
    this.latest.set(frame.camera, frame);
    if (this.handle === undefined) this.handle = this.deps.schedule(() => this.flush());
  }

  /** Draws and acknowledges every pending frame (called from the animation frame). */
  flush(): void {
    this.handle = undefined;
    const frames = [...this.latest.values()];
    this.latest.clear();
    for (const f of frames) {
      try {
        if (this.deps.draw(f)) {
          const st = this.statsOf(f.camera);
          st.drawn++;
          st.lastSeq = f.seq;
          st.lastTimeMs = f.timeMs;
        }
      } finally {
        // acknowledge even when the frame could not be drawn, so the stream never stalls
        this.deps.ack(f.camera);
      }
    }
  }

  /** Number of frames drawn / replaced unseen for a camera. */
  statsFor(camera: string): { drawn: number; replaced: number; lastSeq: number; lastTimeMs: number } {
    return { ...this.statsOf(camera) };
  }

  dispose(): void {
    if (this.handle !== undefined) this.deps.cancel(this.handle);
    this.handle = undefined;
    this.latest.clear();
  }

  private statsOf(camera: string): { drawn: number; replaced: number; lastSeq: number; lastTimeMs: number } {
    let st = this.stats.get(camera);
    if (st === undefined) {
      st = { drawn: 0, replaced: 0, lastSeq: -1, lastTimeMs: 0 };
      this.stats.set(camera, st);
    }
    return st;
  }
}
