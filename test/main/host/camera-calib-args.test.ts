import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStartArgs, resolveCameraCalibrations } from '../../../main/host/args';

const GOOD = { width: 640, height: 480, fx: 450, fy: 450, cx: 320, cy: 240, position: [0.46, 0, 0.36], rotation: [[0, 0, -1], [1, 0, 0], [0, -1, 0]] };

test('--camera-calib K=PATH attaches a validated calibration to camera K', () => {
  const files: Record<string, string> = { 'front.json': JSON.stringify(GOOD), 'bad.json': JSON.stringify({ ...GOOD, fy: 0 }), 'wide.json': JSON.stringify({ ...GOOD, width: 1280, cx: 640 }) };
  const read = (p: string): string => {
    const t = files[p];
    if (t === undefined) throw new Error('ENOENT: no such file');
    return t;
  };
  const a = parseStartArgs(['--camera', 'front=/dev/video0@320x240:30', '--camera', 'wrist=testsrc', '--camera-calib', 'front=front.json']);
  assert.equal(a.cameras[0]!.calibPath, 'front.json');
  resolveCameraCalibrations(a, read);
  assert.deepEqual(a.cameras[0]!.calibration, GOOD);
  assert.equal(a.cameras[1]!.calibration, undefined);

  assert.throws(() => parseStartArgs(['--camera-calib', 'front=front.json']), /no camera "front"; give --camera front=/);
  assert.throws(() => parseStartArgs(['--camera', 'front=testsrc', '--camera-calib', 'front.json']), /--camera-calib must look like front=/);
  assert.throws(() => parseStartArgs(['--camera', 'front=testsrc', '--camera-calib', 'front=a.json', '--camera-calib', 'front=b.json']), /given twice/);
  const bad = parseStartArgs(['--camera', 'front=testsrc', '--camera-calib', 'front=bad.json']);
  assert.throws(() => resolveCameraCalibrations(bad, read), /--camera-calib front: bad.json is not a valid camera calibration: "fy"/);
  const wide = parseStartArgs(['--camera', 'front=testsrc@640x480', '--camera-calib', 'front=wide.json']);
  assert.throws(() => resolveCameraCalibrations(wide, read), /is for 1280x480 images but the camera captures 640x480/);
  const gone = parseStartArgs(['--camera', 'front=testsrc', '--camera-calib', 'front=gone.json']);
  assert.throws(() => resolveCameraCalibrations(gone, read), /cannot read gone.json/);
});

test('the Electron shell keeps every Reins flag (with its value), --camera-calib included, and drops Chromium switches', async () => {
  const { pickStartArgs, START_FLAGS, parseStartArgs } = await import('../../../main/host/args');
  const raw = ['--enable-logging', '--camera', 'front=/dev/video0', '--camera-calib', 'front=/tmp/front.json', '--no-sandbox', '--rate', '50', '--headless'];
  assert.deepEqual(pickStartArgs(raw), ['--camera', 'front=/dev/video0', '--camera-calib', 'front=/tmp/front.json', '--rate', '50', '--headless']);
  // every flag the list keeps is one the parser knows (none is refused as unknown)
  for (const f of START_FLAGS) {
    const argv = f === '--headless' ? [f] : f === '--camera-calib' ? ['--camera', 'front=testsrc', f, 'front=/x.json'] : [f, f === '--size' ? '320x240' : f === '--camera' ? 'front=testsrc' : f === '--host' ? '127.0.0.1' : f === '--allow-host' ? 'lab.local' : f === '--token' || f === '--token-file' ? 'abcdefgh12' : '40'];
    assert.doesNotThrow(() => parseStartArgs(argv), `${f} is known to the parser`);
  }
});
