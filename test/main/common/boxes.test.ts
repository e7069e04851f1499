import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boxColour, gridBoxToFrame, parseVisibleObjects, sourceWindow } from '../../../main/common/boxes';
import { SimWorld, visibleObjects } from '../../../drivers/sim';

test('VISIBLE OBJECTS text parses into named boxes; malformed entries are skipped', () => {
  assert.deepEqual(parseVisibleObjects('red block [34, 80, 52, 98], bowl [10, 20, 30, 40]'), [
    { name: 'red block', box: [34, 80, 52, 98] },
    { name: 'bowl', box: [10, 20, 30, 40] },
  ]);
  assert.deepEqual(parseVisibleObjects('purple block [3, 4, 1, 2], blue block [1, 2, 3'), [{ name: 'purple block', box: [1, 2, 3, 4] }]);
  // the demo VLA's word-level tokenizer decodes without brackets or commas
  assert.deepEqual(parseVisibleObjects('orange block 19 15 22 19 , purple block 24 18 28 22'), [
    { name: 'orange block', box: [19, 15, 22, 19] },
    { name: 'purple block', box: [24, 18, 28, 22] },
  ]);
  assert.deepEqual(parseVisibleObjects('bowl 3 4 5'), []);
  assert.deepEqual(parseVisibleObjects(undefined), []);
  assert.deepEqual(parseVisibleObjects('nothing here'), []);
});

const cases: { name: string; grid: { width: number; height: number; resize: 'stretch' | 'center_crop' }; w: number; h: number; win: [number, number, number, number] }[] = [
  { name: 'centre crop of a 4:3 frame to a square', grid: { width: 32, height: 32, resize: 'center_crop' }, w: 320, h: 240, win: [40, 0, 240, 240] },
  { name: 'centre crop of a portrait frame to a square', grid: { width: 32, height: 32, resize: 'center_crop' }, w: 240, h: 320, win: [0, 40, 240, 240] },
  { name: 'stretch uses the whole frame', grid: { width: 32, height: 32, resize: 'stretch' }, w: 320, h: 240, win: [0, 0, 320, 240] },
];
for (const c of cases) {
  test(`source window: ${c.name}`, () => {
    assert.deepEqual(sourceWindow(c.grid, c.w, c.h), c.win);
  });
}

test('a grid box maps back through the crop: the corners of the 32×32 input land on the crop window', () => {
  assert.deepEqual(gridBoxToFrame([0, 0, 32, 32], { width: 32, height: 32, resize: 'center_crop' }, 320, 240), [40, 0, 280, 240]);
  assert.deepEqual(gridBoxToFrame([8, 16, 16, 24], { width: 32, height: 32, resize: 'stretch' }, 320, 240), [80, 120, 160, 180]);
});

test("the expert's 224×224 boxes, mapped to a 320×240 frame, match the boxes projected in that frame", () => {
  // The simulator renders the front camera with the focal length set by the frame height, so a
  // square render is the centre square of a 4:3 one: both box sets must agree (to rounding).
  const world = new SimWorld({ seed: 7 });
  const sq = visibleObjects(world, 224, 224);
  const wide = visibleObjects(world, 320, 240);
  assert.ok(sq.length >= 2);
  for (const o of sq) {
    const mapped = gridBoxToFrame(o.box, { width: 224, height: 224, resize: 'center_crop' }, 320, 240);
    const truth = wide.find((x) => x.name === o.name);
    assert.ok(truth, o.name);
    mapped.forEach((v, i) => assert.ok(Math.abs(v - truth.box[i]!) <= 2.5, `${o.name}[${i}]: ${v} vs ${truth.box[i]}`));
  }
});

test('box colours follow the colour word in the name, else a stable pick', () => {
  assert.equal(boxColour('purple block'), boxColour('purple cube'));
  assert.notEqual(boxColour('purple block'), boxColour('orange block'));
  assert.equal(boxColour('bowl'), boxColour('bowl'));
});
