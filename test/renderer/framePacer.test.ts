import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FramePacket } from '../../main/common/contract';
import { FramePacer } from '../../renderer/src/lib/framePacer';

function frame(camera: string, seq: number): FramePacket {
  return { camera, width: 1, height: 1, seq, timeMs: seq, data: new Uint8Array(3) };
}

function setup(canDraw = true) {
  const queued: (() => void)[] = [];
  const drawn: string[] = [];
  const acks: string[] = [];
  const pacer = new FramePacer({
    schedule: (cb) => queued.push(cb),
    cancel: () => {
      queued.length = 0;
    },
    draw: (f) => {
      drawn.push(`${f.camera}#${f.seq}`);
      return canDraw;
    },
    ack: (c) => acks.push(c),
  });
  const runFrame = () => queued.splice(0).forEach((cb) => cb());
  return { pacer, queued, drawn, acks, runFrame };
}

test('frames wait for the animation frame; the latest per camera wins; each drawn frame is acked after drawing', () => {
  const s = setup();
  s.pacer.push(frame('front', 1));
  s.pacer.push(frame('front', 2));
  s.pacer.push(frame('wrist', 7));
  assert.equal(s.queued.length, 1, 'one animation frame scheduled for any number of pushes');
  assert.deepEqual(s.drawn, []);
  assert.deepEqual(s.acks, []);
  s.runFrame();
  assert.deepEqual(s.drawn, ['front#2', 'wrist#7']);
  assert.deepEqual(s.acks, ['front', 'wrist']);
  assert.deepEqual(s.pacer.statsFor('front'), { drawn: 1, replaced: 1, lastSeq: 2, lastTimeMs: 2 });
});

test('a frame nobody can draw is still acknowledged so the stream never stalls', () => {
  const s = setup(false);
  s.pacer.push(frame('side', 3));
  s.runFrame();
  assert.deepEqual(s.acks, ['side']);
  assert.equal(s.pacer.statsFor('side').drawn, 0);
});

test('a throwing draw still acks, and later frames are scheduled again', () => {
  const acks: string[] = [];
  const queued: (() => void)[] = [];
  const pacer = new FramePacer({
    schedule: (cb) => queued.push(cb),
    cancel: () => {},
    draw: () => {
      throw new Error('boom');
    },
    ack: (c) => acks.push(c),
  });
  pacer.push(frame('front', 1));
  assert.throws(() => queued.shift()!());
  assert.deepEqual(acks, ['front']);
  pacer.push(frame('front', 2));
  assert.equal(queued.length, 1);
});

test('dispose cancels a pending draw', () => {
  const s = setup();
  s.pacer.push(frame('front', 1));
  s.pacer.dispose();
  assert.equal(s.queued.length, 0);
  assert.deepEqual(s.acks, []);
});
