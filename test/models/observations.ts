/** Random fixture-like observations (a coloured block on grey, a random state, a task). */
import type { PolicyObservation } from '../../models/policies/preprocess';

const COLORS: [string, number[]][] = [['red', [255, 25, 25]], ['green', [25, 230, 25]], ['blue', [25, 50, 255]], ['yellow', [255, 230, 25]]];
const TASKS = ['pick up the {c} block', 'push the {c} block left', 'put the {c} block in the bowl'];

export function randomObservation(r: () => number): PolicyObservation {
  const [name, rgb] = COLORS[Math.floor(r() * 4)]!;
  const bx = Math.floor(r() * 13);
  const by = Math.floor(r() * 13);
  const img = new Uint8Array(16 * 16 * 3).fill(115);
  for (let y = by; y < by + 3; y++) for (let x = bx; x < bx + 3; x++) img.set(rgb, (y * 16 + x) * 3);
  const state = [0, 0, 0, 0, 0, 50].map((c, i) => c + (r() * 2 - 1) * (i === 5 ? 50 : 100));
  return { state, images: { front: { data: img, width: 16, height: 16 } }, instruction: TASKS[Math.floor(r() * 3)]!.replace('{c}', name) };
}

