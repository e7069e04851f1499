import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SO101_JOINTS,
  SO101_LIMITS,
  clampToLimits,
  forwardKinematics,
  gripperForGap,
  gripperGap,
  inverseKinematics,
  mulberry32,
  rollForYaw,
  withinLimits,
  type Vec3,
} from '../../../drivers/sim/index';

const close = (a: number, b: number, tol: number, msg?: string) => assert.ok(Math.abs(a - b) <= tol, `${msg ?? ''} ${a} vs ${b} (tol ${tol})`);
const dist = (a: Vec3, b: Vec3) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

test('joint order and limits are the SO-101 ones', () => {
  assert.deepEqual([...SO101_JOINTS], ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper']);
  assert.deepEqual(
    SO101_LIMITS.map((l) => [l.min, l.max]),
    [[-110, 110], [-100, 100], [-97, 97], [-95, 95], [-160, 160], [0, 100]],
  );
  assert.deepEqual(clampToLimits([200, -200, 50, 96, -170, 120]), [110, -100, 50, 95, -160, 100]);
  assert.deepEqual(clampToLimits([NaN, 0, 0, 0, 0, -5]), [0, 0, 0, 0, 0, 0]);
});

test('zero pose: upper arm upright, forearm level and forward, gripper pointing down, jaws open', () => {
  const p = forwardKinematics([0, 0, 0, 0, 0, 0]);
  close(p.elbow.origin[0], 0, 1e-12);
  close(p.elbow.origin[2], 0.12 + 0.116, 1e-12);
  close(p.wrist.origin[0], 0.135, 1e-12);
  close(p.wrist.origin[2], 0.236, 1e-12);
  assert.deepEqual(p.tip.map((v) => +v.toFixed(9)), [0.135, 0, 0.136]);
  close(p.pitchDeg, 90, 1e-9);
  close(p.gap, 0.07, 1e-12);
  // the approach axis points straight down, the jaws close along the arm's lateral axis
  close(p.gripper.z[2], -1, 1e-12);
  close(Math.abs(p.gripper.x[1]), 1, 1e-12);
});

test('pan turns left (+y), lift tips forward, elbow folds down', () => {
  assert.ok(forwardKinematics([30, 0, 0, 0, 0, 0]).tip[1] > 0.05);
  const lifted = forwardKinematics([0, 30, 0, 0, 0, 0]);
  assert.ok(lifted.elbow.origin[0] > 0.05 && lifted.elbow.origin[2] < 0.236);
  assert.ok(forwardKinematics([0, 0, 30, 0, 0, 0]).wrist.origin[2] < 0.236);
});

test('FK -> IK -> FK round trip over random reachable targets', () => {
  const rng = mulberry32(1234);
  let checked = 0;
  for (let i = 0; i < 2000; i++) {
    // random joints inside the limits, elbow-up branch (that's the branch IK returns)
    const q = [rng.range(-100, 100), rng.range(-60, 90), rng.range(-85, 90), rng.range(-90, 90), rng.range(-150, 150), rng.range(0, 100)];
    const pose = forwardKinematics(q);
    const ik = inverseKinematics({ position: pose.tip, pitchDeg: pose.pitchDeg, rollDeg: q[4], gripper: q[5] });
    if (!ik.withinLimits) continue; // the same point may need the other elbow branch
    assert.ok(ik.reachable);
    const back = forwardKinematics(ik.joints);
    assert.ok(dist(back.tip, pose.tip) < 1e-9, `tip error ${dist(back.tip, pose.tip)} at ${q}`);
    close(back.pitchDeg, pose.pitchDeg, 1e-7);
    close(ik.joints[4]!, q[4]!, 1e-12);
    close(ik.joints[5]!, q[5]!, 1e-12);
    checked++;
  }
  assert.ok(checked > 500, `only ${checked} round trips checked`);
});

test('IK reaches table-top targets with the gripper pointing down', () => {
  const rng = mulberry32(7);
  for (let i = 0; i < 500; i++) {
    const r = rng.range(0.13, 0.225);
    const a = rng.range(-1.1, 1.1);
    const target: Vec3 = [r * Math.cos(a), r * Math.sin(a), rng.range(0.004, 0.12)];
    const ik = inverseKinematics({ position: target, pitchDeg: 90 });
    assert.ok(ik.reachable && ik.withinLimits, `unreachable ${target}`);
    const p = forwardKinematics(ik.joints);
    assert.ok(dist(p.tip, target) < 1e-9);
    close(p.gripper.z[2], -1, 1e-9, 'points down');
  }
});

test('IK output is always within the limits, and flags what it cannot do', () => {
  const rng = mulberry32(99);
  for (let i = 0; i < 500; i++) {
    const target: Vec3 = [rng.range(-0.6, 0.6), rng.range(-0.6, 0.6), rng.range(-0.3, 0.7)];
    const ik = inverseKinematics({ position: target, pitchDeg: rng.range(-90, 180), rollDeg: rng.range(-300, 300), gripper: rng.range(-50, 150) });
    assert.ok(withinLimits(ik.joints));
    if (ik.reachable && ik.withinLimits) assert.ok(dist(forwardKinematics(ik.joints).tip, target) < 1e-9);
  }
  const far = inverseKinematics({ position: [0.6, 0, 0.1], pitchDeg: 90 });
  assert.equal(far.reachable, false);
});

test('gripper gap mapping and roll alignment', () => {
  close(gripperGap(0), 0.07, 1e-12);
  close(gripperGap(100), 0, 1e-12);
  close(gripperForGap(gripperGap(37)), 37, 1e-9);
  const rng = mulberry32(5);
  for (let i = 0; i < 100; i++) {
    const pan = rng.range(-60, 60);
    const yaw = rng.range(-180, 180);
    const roll = rollForYaw(pan, yaw);
    assert.ok(roll > -45 - 1e-9 && roll <= 45 + 1e-9);
    const ik = inverseKinematics({ position: [0.2 * Math.cos((pan * Math.PI) / 180), 0.2 * Math.sin((pan * Math.PI) / 180), 0.05], pitchDeg: 90, rollDeg: roll });
    const x = forwardKinematics(ik.joints).gripper.x;
    const closingYaw = (Math.atan2(x[1], x[0]) * 180) / Math.PI;
    const diff = (((closingYaw - yaw) % 90) + 90) % 90;
    assert.ok(diff < 1e-6 || diff > 90 - 1e-6, `jaws at ${closingYaw}, block at ${yaw}`);
  }
});
