import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rgbToRgba } from '../../renderer/src/lib/pixels';

test('rgbToRgba expands RGB24 to opaque RGBA (32-bit path)', () => {
  const src = Uint8Array.from([1, 2, 3, 250, 251, 252, 0, 128, 255]);
  const dst = new Uint8ClampedArray(12);
  assert.equal(rgbToRgba(src, dst), 3);
  assert.deepEqual([...dst], [1, 2, 3, 255, 250, 251, 252, 255, 0, 128, 255, 255]);
});

test('rgbToRgba byte path (unaligned destination) gives the same bytes', () => {
  const src = Uint8Array.from([9, 8, 7, 6, 5, 4]);
  const backing = new Uint8Array(9);
  const dst = backing.subarray(1); // byteOffset 1: not 4-aligned
  rgbToRgba(src, dst);
  assert.deepEqual([...dst], [9, 8, 7, 255, 6, 5, 4, 255]);
});

test('rgbToRgba converts only the pixels asked for and checks sizes', () => {
  const src = Uint8Array.from([1, 1, 1, 2, 2, 2]);
  const dst = new Uint8ClampedArray(8);
  assert.equal(rgbToRgba(src, dst, 1), 1);
  assert.deepEqual([...dst], [1, 1, 1, 255, 0, 0, 0, 0]);
  assert.throws(() => rgbToRgba(src, new Uint8ClampedArray(4)), RangeError);
  assert.throws(() => rgbToRgba(src, dst, 3), RangeError);
});

test('rgbToRgba on a 640x480 frame', () => {
  const w = 640;
  const h = 480;
  const src = new Uint8Array(w * h * 3);
  for (let i = 0; i < src.length; i++) src[i] = i % 251;
  const dst = new Uint8ClampedArray(w * h * 4);
  rgbToRgba(src, dst);
  for (const p of [0, 1, 12345, w * h - 1]) {
    assert.deepEqual([...dst.subarray(p * 4, p * 4 + 4)], [src[p * 3], src[p * 3 + 1], src[p * 3 + 2], 255]);
  }
});
