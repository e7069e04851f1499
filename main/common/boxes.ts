/**
 * The boxes of a VISIBLE OBJECTS reasoning field, read and mapped back onto the camera frame they
 * refer to. Pure: shared by the renderer (overlay) and tests.
 *
 * A policy writes boxes as `name [x0, y0, x1, y1]` in the pixel grid of its own input image
 * (e.g. 32×32), made from the camera frame by its preprocessing: 'stretch' squeezes the whole frame
 * into the grid; 'center_crop' first cuts the frame's centre to the grid's aspect (as
 * models/policies/preprocess.ts does). Mapping a box back runs the same window backwards.
 */
import type { BoxGrid } from './contract';

export interface NamedBox {
  name: string;
  /** [x0, y0, x1, y1] in the grid's pixels. */
  box: [number, number, number, number];
}

const NUM = '(-?\\d+(?:\\.\\d+)?)';
/** `name [x0, y0, x1, y1]` as the expert writes it, or `name x0 y0 x1 y1` as a word-level tokenizer decodes it (brackets and commas are optional). */
const BOX_RE = new RegExp(`([A-Za-z][A-Za-z _-]*?)\\s*\\[?\\s*${NUM}\\s*,?\\s*${NUM}\\s*,?\\s*${NUM}\\s*,?\\s*${NUM}\\s*\\]?`, 'g');

/** Every well-formed box in the text (a model's malformed entries, e.g. fewer than four numbers, are skipped). */
export function parseVisibleObjects(text: string | undefined): NamedBox[] {
  if (text === undefined) return [];
  const out: NamedBox[] = [];
  for (const m of text.matchAll(BOX_RE)) {
    const name = m[1]!.trim().replace(/^(and|,)\s+/i, '');
    const [a, b, c, d] = [m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number];
    out.push({ name, box: [Math.min(a, c), Math.min(b, d), Math.max(a, c), Math.max(b, d)] });
  }
  return out;
}

/** The part of a `frameW`×`frameH` frame that the grid was made from: [x0, y0, width, height] in frame pixels. */
export function sourceWindow(grid: Pick<BoxGrid, 'width' | 'height' | 'resize'>, frameW: number, frameH: number): [number, number, number, number] {
  if (grid.resize !== 'center_crop') return [0, 0, frameW, frameH];
  let sw = frameW;
  let sh = frameH;
  if (frameW * grid.height > frameH * grid.width) sw = (frameH * grid.width) / grid.height;
  else sh = (frameW * grid.height) / grid.width;
  return [(frameW - sw) / 2, (frameH - sh) / 2, sw, sh];
}

/** A box in grid pixels → the same box in frame pixels (continuous coordinates, x right, y down). */
export function gridBoxToFrame(box: readonly [number, number, number, number], grid: Pick<BoxGrid, 'width' | 'height' | 'resize'>, frameW: number, frameH: number): [number, number, number, number] {
  const [wx, wy, ww, wh] = sourceWindow(grid, frameW, frameH);
  const sx = ww / grid.width;
  const sy = wh / grid.height;
  return [wx + box[0] * sx, wy + box[1] * sy, wx + box[2] * sx, wy + box[3] * sy];
}

const NAMED_COLOURS: Record<string, string> = {
  red: '#ff5a4e',
  green: '#3fd05a',
  blue: '#4f8dff',
  yellow: '#f2dc3a',
  orange: '#ff9a2e',
  purple: '#b26bff',
  pink: '#ff77c8',
  white: '#f0f0f0',
  black: '#9aa3ad',
  cyan: '#3fe0e0',
  brown: '#c08850',
};

/** A colour for an object's box: its own colour word when it names one, else a stable pick by name. */
export function boxColour(name: string): string {
  for (const w of name.toLowerCase().split(/[\s_-]+/)) {
    const c = NAMED_COLOURS[w];
    if (c !== undefined) return c;
  }
  const palette = ['#e8e8e8', '#46d1d1', '#e05cc8', '#e8e05a'];
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return palette[h % palette.length]!;
}
