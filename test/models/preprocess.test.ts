import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimRenderer, SimWorld } from '../../drivers/sim';
import { imageToChw } from '../../models/policies/preprocess';
import type { CameraInput } from '../../models/runtime/manifest';

const cam = (resize: CameraInput['resize']): CameraInput => ({ key: 'front', input: 'image_front', width: 32, height: 32, mean: [0, 0, 0], std: [1, 1, 1], resize });

/** Pixels of two CHW 32×32 images that differ by more than 8 levels in some channel. */
function differing(a: Float32Array, b: Float32Array): number {
  let n = 0;
  for (let p = 0; p < 1024; p++) if ([0, 1, 2].some((c) => Math.abs(a[c * 1024 + p]! - b[c * 1024 + p]!) > 8 / 255)) n++;
  return n;
}

test("center_crop: a 4:3 camera frame becomes what a square model was trained on (the simulator's own 32×32 render)", () => {
  const world = new SimWorld({ seed: 1_000_001, family: 'pick_place' });
  const direct = imageToChw({ data: new SimRenderer(32, 32).render(world, 'front'), width: 32, height: 32 }, cam('center_crop'));
  const vga = { data: new SimRenderer(640, 480).render(world, 'front'), width: 640, height: 480 };
  const qvga = { data: new SimRenderer(320, 240).render(world, 'front'), width: 320, height: 240 };
  assert.equal(differing(imageToChw(vga, cam('center_crop')), direct), 0);
  assert.ok(differing(imageToChw(qvga, cam('center_crop')), direct) <= 16); // 240/32 is not a whole number of pixels
  // stretching squeezes the scene sideways: a sixth of the image is elsewhere
  assert.ok(differing(imageToChw(qvga, cam('stretch')), direct) > 100);
});

test('center_crop keeps the middle of a frame; stretch (the default) keeps all of it', () => {
  // 8×4 frame: left quarter red, middle half green, right quarter blue -> 2×2 input
  const data = new Uint8Array(8 * 4 * 3);
  for (let y = 0; y < 4; y++) for (let x = 0; x < 8; x++) data[(y * 8 + x) * 3 + (x < 2 ? 0 : x < 6 ? 1 : 2)] = 255;
  const small = { ...cam('center_crop'), width: 2, height: 2 };
  const c = imageToChw({ data, width: 8, height: 4 }, small);
  assert.deepEqual(Array.from(c.slice(4, 8)), [1, 1, 1, 1]); // green channel everywhere: the crop is the middle 4×4
  const s = imageToChw({ data, width: 8, height: 4 }, { ...small, resize: 'stretch' });
  assert.deepEqual(Array.from(s.slice(0, 4)), [0, 0, 0, 0]); // samples at x = 2, 6: green, blue
  assert.deepEqual(Array.from(s.slice(4, 8)), [1, 0, 1, 0]);
  assert.deepEqual(Array.from(s.slice(8, 12)), [0, 1, 0, 1]);
});
