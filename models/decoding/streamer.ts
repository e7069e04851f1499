/** Streamers (put / end). Pure. */
import type { Streamer } from './types';

/** Collects tokens; `onPut` sees each batch as it is committed. */
export class CallbackStreamer implements Streamer {
  readonly tokens: number[] = [];
  ended = false;
  constructor(private readonly onPut?: (tokens: readonly number[]) => void, private readonly onEnd?: () => void) {}
  put(tokens: readonly number[]): void {
    this.tokens.push(...tokens);
    this.onPut?.(tokens);
  }
  end(): void {
    this.ended = true;
    this.onEnd?.();
  }
}

export class MultiStreamer implements Streamer {
  constructor(private readonly parts: readonly Streamer[]) {}
  put(tokens: readonly number[]): void {
    for (const p of this.parts) p.put(tokens);
  }
  end(): void {
    for (const p of this.parts) p.end();
  }
}
