import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame } from '../../../drivers/cameras/Camera';
import { FileCamera, fileInputArgs } from '../../../drivers/cameras/file';
import { FfmpegCamera, captureInputArgs, parseAvfoundationDevices, parseDshowDevices, parseV4l2Formats } from '../../../drivers/cameras/ffmpeg';

test('test-pattern camera: RGB24 frames of the requested size with rising seq and capture times', async (t) => {
  const cam = new FileCamera({ key: 'front', width: 64, height: 48, fps: 30, source: { kind: 'testsrc' } });
  t.after(() => cam.disconnect());
  await cam.connect();
  assert.ok(cam.isConnected);
  const frames: Frame[] = [];
  for (let i = 0; i < 5; i++) frames.push(await cam.nextFrame(2000));
  for (const f of frames) {
    assert.equal(f.data.length, 64 * 48 * 3);
    assert.equal(f.width, 64);
    assert.equal(f.height, 48);
  }
  for (let i = 1; i < frames.length; i++) {
    assert.ok(frames[i]!.seq > frames[i - 1]!.seq);
    assert.ok(frames[i]!.captureTimeMs >= frames[i - 1]!.captureTimeMs);
  }
  assert.ok(frames[4]!.data.some((v) => v !== frames[0]!.data[0]), 'not a blank image');
  assert.ok(cam.readLatest());
  assert.equal(cam.readLatest(-1), undefined, 'older than maxAge');
  assert.ok(cam.stats().frames >= 5);
  await cam.disconnect();
  assert.equal(cam.isConnected, false);
  assert.equal(cam.readLatest(), undefined);
});

test('file camera plays a video file, looping', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'reins-cam-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'clip.mp4');
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=96x64:rate=30', '-frames:v', '6', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', file]);
  assert.equal(r.status, 0);
  const cam = new FileCamera({ key: 'wrist', width: 64, height: 48, fps: 30, source: { kind: 'file', path: file }, realtime: false });
  t.after(() => cam.disconnect());
  await cam.connect();
  let last = 0;
  for (let i = 0; i < 14; i++) last = (await cam.nextFrame(2000)).seq; // more frames than the clip has
  assert.ok(last >= 14);
});

test('a missing file or device fails connect with a clear message', async () => {
  const cam = new FileCamera({ key: 'x', width: 64, height: 48, fps: 30, source: { kind: 'file', path: '/nonexistent/clip.mp4', loop: false }, connectTimeoutMs: 5000 });
  await assert.rejects(cam.connect(), /Camera "x" \(file \/nonexistent\/clip.mp4\)/);
  if (process.platform === 'linux') {
    const usb = new FfmpegCamera({ key: 'usb', device: '/dev/video97', width: 640, height: 480, fps: 30, connectTimeoutMs: 5000 });
    await assert.rejects(usb.connect(), /Camera "usb" \(\/dev\/video97.*plugged in/);
  }
});

test('capture input arguments per platform', () => {
  assert.deepEqual(captureInputArgs('linux', '/dev/video0', 640, 480, 30, 'mjpeg').slice(4), ['-f', 'v4l2', '-input_format', 'mjpeg', '-framerate', '30', '-video_size', '640x480', '-i', '/dev/video0']);
  assert.ok(captureInputArgs('linux', '/dev/video0', 640, 480, 30, 'raw').includes('yuyv422'));
  assert.deepEqual(captureInputArgs('darwin', '0', 1280, 720, 30, 'mjpeg').slice(-2), ['-i', '0:none']);
  const win = captureInputArgs('win32', 'Integrated Camera', 640, 480, 30, 'mjpeg');
  assert.ok(win.includes('dshow') && win.includes('mjpeg'));
  assert.deepEqual(win.slice(-2), ['-i', 'video=Integrated Camera']);
  assert.deepEqual(fileInputArgs({ kind: 'testsrc' }, 64, 48, 30, true), ['-re', '-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=30']);
});

test('device list parsers (AVFoundation, DirectShow, V4L2 formats)', () => {
  const mac = `[AVFoundation indev @ 0x7f] AVFoundation video devices:
[AVFoundation indev @ 0x7f] [0] FaceTime HD Camera
[AVFoundation indev @ 0x7f] [1] USB Camera
[AVFoundation indev @ 0x7f] [2] Capture screen 0
[AVFoundation indev @ 0x7f] AVFoundation audio devices:
[AVFoundation indev @ 0x7f] [0] MacBook Pro Microphone`;
  assert.deepEqual(parseAvfoundationDevices(mac), [
    { id: '0', name: 'FaceTime HD Camera' },
    { id: '1', name: 'USB Camera' },
  ]);
  const win = `[dshow @ 000001] "Integrated Camera" (video)
[dshow @ 000001]   Alternative name "@device_pnp_\\\\?\\usb#vid_04f2"
[dshow @ 000001] "Microphone Array" (audio)`;
  assert.deepEqual(parseDshowDevices(win), [{ id: 'Integrated Camera', name: 'Integrated Camera' }]);
  const v4l = `[video4linux2,v4l2 @ 0x55] Compressed:       mjpeg :          Motion-JPEG : 640x480 1280x720
[video4linux2,v4l2 @ 0x55] Raw       :     yuyv422 :           YUYV 4:2:2 : 640x480 320x240`;
  assert.deepEqual(parseV4l2Formats(v4l), [
    { format: 'mjpeg', compressed: true, sizes: ['640x480', '1280x720'] },
    { format: 'yuyv422', compressed: false, sizes: ['640x480', '320x240'] },
  ]);
});
