import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pinholeFromSim, projectPinhole, readCameraCalibration } from '../../../main/services/cameraCalib';
import { ghostCamera, projectTipPath } from '../../../main/services/ghost';
import { FRONT_CAMERA, projectPoint } from '../../../drivers/sim/render';
import { forwardKinematics, SO101_LIMITS } from '../../../drivers/sim/kinematics';
import { ReinsError } from '../../../main/common/errors';

/** Poses across the joint ranges (deterministic). */
function poses(n: number): number[][] {
  let s = 12345;
  const rnd = (): number => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return Array.from({ length: n }, () => SO101_LIMITS.map((l) => l.min + (l.max - l.min) * rnd()));
}

test("a calibration file equal to the simulator's front camera projects the tip path as the simulator's own renderer projection does (within 0.5 px)", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'reins-calib-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const W = 640;
  const H = 480;
  // written as an operator would: plain JSON numbers, rounded to 6 decimals
  const c = pinholeFromSim(FRONT_CAMERA, W, H);
  const r6 = (x: number): number => Math.round(x * 1e6) / 1e6;
  const file = join(dir, 'front.json');
  writeFileSync(file, JSON.stringify({ width: W, height: H, fx: r6(c.fx), fy: r6(c.fy), cx: c.cx, cy: c.cy, position: c.position.map(r6), rotation: c.rotation.map((row) => row.map(r6)) }, null, 2));
  const calib = readCameraCalibration(file);
  const qs = poses(200);
  let compared = 0;
  for (const [w, h] of [
    [640, 480],
    [320, 240],
  ] as const) {
    const viaCalib = projectTipPath(qs, w, h, calib);
    const viaSim = projectTipPath(qs, w, h);
    qs.forEach((q, i) => {
      const ref = projectPoint(FRONT_CAMERA, forwardKinematics(q).tip, w, h); // the simulator renderer's own projection
      const a = viaCalib[i]!;
      const b = viaSim[i]!;
      if (ref === null) {
        assert.equal(a, null);
        return;
      }
      assert.ok(a !== null && b !== null);
      assert.ok(Math.hypot(a[0] * w - ref[0], a[1] * h - ref[1]) < 0.5, `pose ${i} at ${w}x${h}: calibration ${a[0] * w},${a[1] * h} vs sim ${ref[0]},${ref[1]}`);
      assert.ok(Math.hypot(b[0] * w - ref[0], b[1] * h - ref[1]) < 0.5, `pose ${i}: sim path through the pinhole`);
      compared++;
    });
  }
  assert.ok(compared > 300, `only ${compared} poses in front of the camera`);
  // a point behind the camera is not drawn
  assert.equal(projectPinhole(calib, [1.0, 0, 0.5]), null);
});

test('a bad calibration file is refused with an error naming the field', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'reins-calib-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const good = { width: 640, height: 480, fx: 450, fy: 450, cx: 320, cy: 240, position: [0.46, 0, 0.36], rotation: [[0, 0, -1], [1, 0, 0], [0, -1, 0]] };
  const write = (name: string, v: unknown): string => {
    const p = join(dir, name);
    writeFileSync(p, typeof v === 'string' ? v : JSON.stringify(v));
    return p;
  };
  const rejects = (p: string, re: RegExp): void => {
    assert.throws(() => readCameraCalibration(p), (e: unknown) => e instanceof ReinsError && re.test(e.message), p);
  };
  // the good one: a camera in front of the arm looking back at it (image right = +y, image down = -z, optical axis = -x)
  const ok = readCameraCalibration(write('good.json', good));
  const [x, y] = projectPinhole(ok, [0.2, 0.05, 0.1])!;
  assert.ok(x > 320 && y > 240, 'a point to the arm\'s left and below the camera is right of and below the centre');
  rejects(write('fx.json', { ...good, fx: -3 }), /"fx"/);
  rejects(write('cy.json', { ...good, cy: 'middle' }), /"cy"/);
  rejects(write('pos.json', { ...good, position: [0.4, 0] }), /"position"/);
  rejects(write('rot.json', { ...good, rotation: [[1, 0, 0], [0, 1, 0], [0, 0, 2]] }), /"rotation" is not orthonormal/);
  rejects(write('refl.json', { ...good, rotation: [[1, 0, 0], [0, 1, 0], [0, 0, -1]] }), /"rotation" is a reflection/);
  rejects(write('extra.json', { ...good, k1: 0.1 }), /k1/);
  rejects(write('missing.json', { ...good, width: undefined }), /"width"/);
  rejects(write('notjson.json', '{ width: 640 '), /is not JSON/);
  rejects(join(dir, 'absent.json'), /Cannot read the camera calibration/);
});

test('the ghost is drawn on the simulator front camera, on a calibrated camera of a real SO-101, and not on a Koch arm', () => {
  const cams = [
    { key: 'wrist', width: 320, height: 240 },
    { key: 'front', width: 640, height: 480 },
  ];
  const calib = pinholeFromSim(FRONT_CAMERA, 640, 480);
  assert.equal(ghostCamera('sim_so101', cams, {})?.model, FRONT_CAMERA);
  const real = ghostCamera('so101_follower', cams, { front: calib });
  assert.equal(real?.key, 'front');
  assert.equal(real?.model, calib);
  assert.equal(ghostCamera('so101_follower', cams, {}), undefined, 'no calibration: no ghost on a real camera');
  assert.equal(ghostCamera('koch_follower', cams, { front: calib }), undefined, 'the kinematics are the SO-101 model');
});
