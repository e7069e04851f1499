// Prints how long the simulator's software renderer takes per frame (front and wrist cameras).
// Usage: npx tsx bench/sim-render.ts [frames]
import { performance } from 'node:perf_hooks';
import { ScriptedExpert, SimRenderer, SimWorld } from '../drivers/sim/index';

const frames = Number(process.argv[2] ?? 300);
const sizes: [number, number][] = [
  [224, 224],
  [320, 240],
  [640, 480],
];

for (const [w, h] of sizes) {
  const world = new SimWorld({ seed: 7, family: 'pick_place' });
  const expert = new ScriptedExpert(world);
  const renderer = new SimRenderer(w, h);
  const out = { front: new Uint8Array(w * h * 3), wrist: new Uint8Array(w * h * 3) };
  const times: Record<'front' | 'wrist', number[]> = { front: [], wrist: [] };
  for (let i = 0; i < frames; i++) {
    // move the arm along a real episode so the scene changes
    const s = expert.act();
    world.setGoal(s.goal);
    world.step(1000 / 30);
    for (const key of ['front', 'wrist'] as const) {
      const t0 = performance.now();
      renderer.render(world, key, out[key]);
      times[key].push(performance.now() - t0);
    }
  }
  const stat = (xs: number[]): string => {
    const s = xs.slice(20).sort((a, b) => a - b); // skip warm-up
    const q = (p: number): string => (s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN).toFixed(2);
    return `median ${q(0.5)} ms, p95 ${q(0.95)} ms`;
  };
  console.log(`${w}x${h}  front: ${stat(times.front)}   wrist: ${stat(times.wrist)}`);
}
