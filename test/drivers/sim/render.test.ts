import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScriptedExpert, SimRenderer, SimWorld, projectToFront, visibleObjects, type SimCameraKey } from '../../../drivers/sim/index';

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a).equals(Buffer.from(b));
}

function fractionDifferent(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i += 3) if (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2]) n++;
  return n / (a.length / 3);
}

/** Runs the expert for n ticks. */
function advance(world: SimWorld, expert: ScriptedExpert, n: number): void {
  for (let i = 0; i < n; i++) {
    const s = expert.act();
    world.setGoal(s.goal);
    world.step(1000 / 30);
  }
}

const NAMED: Record<string, [number, number, number]> = {
  red: [1, 0.16, 0.14],
  green: [0.24, 1, 0.33],
  blue: [0.16, 0.34, 1],
  yellow: [1, 0.88, 0.12],
  purple: [0.78, 0.31, 1],
  orange: [1, 0.53, 0.1],
  table: [1, 0.84, 0.64],
  bowl: [0.98, 0.98, 1],
};

/** Nearest named colour by chromaticity (brightness-normalised). */
function colourName(px: [number, number, number]): string {
  const m = Math.max(...px, 1);
  const c = px.map((v) => v / m);
  let best = '';
  let bestD = Infinity;
  for (const [name, ref] of Object.entries(NAMED)) {
    const d = Math.hypot(c[0]! - ref[0], c[1]! - ref[1], c[2]! - ref[2]);
    if (d < bestD) {
      bestD = d;
      best = name;
    }
  }
  return best;
}

test('renders are deterministic: same seed and state give identical bytes, at 224x224 and 640x480', () => {
  for (const [w, h] of [[224, 224], [640, 480]] as const) {
    for (const key of ['front', 'wrist'] as SimCameraKey[]) {
      const a = new SimWorld({ seed: 17, family: 'stack' });
      const b = new SimWorld({ seed: 17, family: 'stack' });
      advance(a, new ScriptedExpert(a), 40);
      advance(b, new ScriptedExpert(b), 40);
      const ra = new SimRenderer(w, h).render(a, key);
      const rb = new SimRenderer(w, h);
      rb.render(new SimWorld({ seed: 3 }), key); // a renderer that drew another scene first
      const imgB = rb.render(b, key);
      assert.equal(ra.length, w * h * 3);
      assert.ok(sameBytes(ra, imgB), `${key} ${w}x${h} differs`);
    }
  }
});

test('the front image changes when the arm moves, and only around the arm', () => {
  const world = new SimWorld({ seed: 2, family: 'pick_place' });
  const r = new SimRenderer(224, 224);
  const before = r.render(world, 'front');
  world.setGoal([40, 30, 0, 0, 0, 0]);
  world.step(300);
  const after = r.render(world, 'front');
  const f = fractionDifferent(before, after);
  assert.ok(f > 0.005 && f < 0.5, `changed fraction ${f}`);
});

test('the wrist camera sees the scene change as the arm moves, and the block it holds', () => {
  const world = new SimWorld({ seed: 6, family: 'pick_place' });
  const expert = new ScriptedExpert(world);
  const r = new SimRenderer(224, 224);
  const frames: Uint8Array[] = [r.render(world, 'wrist')];
  for (let k = 0; k < 3; k++) {
    advance(world, expert, 10);
    frames.push(r.render(world, 'wrist'));
  }
  for (let k = 1; k < frames.length; k++) assert.ok(fractionDifferent(frames[k - 1]!, frames[k]!) > 0.05, `wrist frame ${k} barely changed`);
  // carry on until the block is in the jaws: it fills a good part of the wrist view
  for (let i = 0; i < 300 && !world.heldBlock(); i++) advance(world, expert, 1);
  const held = world.heldBlock();
  assert.ok(held);
  const img = r.render(world, 'wrist');
  let hits = 0;
  for (let i = 0; i < img.length; i += 3) if (colourName([img[i]!, img[i + 1]!, img[i + 2]!]) === held.color) hits++;
  assert.ok(hits / (224 * 224) > 0.03, `held ${held.color} block covers ${hits} px`);
});

test('blocks appear where projectToFront says, in their colour', () => {
  for (const seed of [1, 2, 3, 4]) {
    const world = new SimWorld({ seed });
    const img = new SimRenderer(320, 240).render(world, 'front');
    const boxes = visibleObjects(world, 320, 240);
    for (const b of world.blocks) {
      const top: [number, number, number] = [b.pos[0], b.pos[1], b.pos[2] + b.size / 2];
      const p = projectToFront(top, 320, 240);
      assert.ok(p);
      const x = Math.floor(p[0]);
      const y = Math.floor(p[1]);
      const o = (y * 320 + x) * 3;
      assert.equal(colourName([img[o]!, img[o + 1]!, img[o + 2]!]), b.color, `seed ${seed} ${b.name} at ${x},${y}`);
      const box = boxes.find((v) => v.name === b.name)!.box;
      assert.ok(box[0] <= x && x <= box[2] && box[1] <= y && y <= box[3]);
    }
  }
});

test('rejects a buffer of the wrong size', () => {
  const r = new SimRenderer(32, 24);
  assert.throws(() => r.render(new SimWorld({ seed: 1 }), 'front', new Uint8Array(10)));
  assert.throws(() => new SimRenderer(0, 10));
});
