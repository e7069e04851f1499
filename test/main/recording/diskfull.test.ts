import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordingService } from '../../../main/recording/service';
import { ReinsError } from '../../../main/common/errors';
import { JOINTS, syntheticStep, verifyDataset } from './helpers';

const CAMS = [
  { key: 'front', width: 64, height: 64 },
  { key: 'wrist', width: 64, height: 64 },
];

test('disk full: typed disk_full error, recording stops, the dataset stays intact', async (t) => {
  const mnt = mkdtempSync(join(tmpdir(), 'reins-full-'));
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt], { encoding: 'utf8' });
  if (m.status !== 0) {
    rmSync(mnt, { recursive: true, force: true });
    t.skip(`cannot mount a 2 MB tmpfs here (needs root): ${(m.stderr || m.error?.message || '').trim()}`);
    return;
  }
  t.after(() => {
    spawnSync('umount', ['-l', mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });
  const root = join(mnt, 'ds');
  const problems: string[] = [];
  const svc = new RecordingService({ onProblem: (p) => problems.push(p.id) });
  t.after(() => svc.closeDataset({ save: false }).catch(() => undefined));
  await svc.createDataset({ root, fps: 30, robotType: 'so101_follower', jointNames: JOINTS, cameras: CAMS, task: 'fill the disk' });
  await svc.startEpisode();
  for (let i = 0; i < 20; i++) {
    await svc.whenWritable();
    svc.sink.onStep(syntheticStep(i, 0, CAMS));
  }
  await svc.endEpisode();

  // leave ~24 KB free, then record until the disk is full
  const st = statfsSync(mnt);
  writeFileSync(join(mnt, 'filler'), new Uint8Array(Math.max(0, Number(st.bavail) * Number(st.bsize) - 24 * 1024)));
  await svc.startEpisode();
  let failed: ReinsError | undefined;
  for (let i = 0; i < 3000 && !failed; i++) {
    await svc.whenWritable();
    svc.sink.onStep(syntheticStep(i, 1, CAMS));
    const s = svc.status().recorder!;
    if (s.state === 'failed') failed = new ReinsError(s.error!.code, s.error!.message);
  }
  if (!failed) {
    await assert.rejects(svc.endEpisode(), (e: ReinsError) => {
      failed = e;
      return true;
    });
  } else {
    await assert.rejects(svc.endEpisode(), (e: ReinsError) => e.code === 'disk_full');
  }
  assert.equal(failed?.code, 'disk_full', failed?.message);
  assert.match(failed!.message, /disk is full/i);
  assert.ok(problems.includes('recorder:failed'));
  // recording has stopped: further steps are ignored
  const before = svc.status().recorder!.frames;
  svc.sink.onStep(syntheticStep(0, 1, CAMS));
  assert.equal(svc.status().recorder!.frames, before);

  // the dataset is intact: the first episode verifies, nothing half-written is referenced
  rmSync(join(mnt, 'filler'));
  const v = await verifyDataset(root);
  assert.equal(v.info.total_episodes, 1);
  assert.equal(v.info.total_frames, 20);

  // after freeing space: discard the interrupted episode and go on recording
  assert.ok(await svc.recoveryInfo());
  await svc.discardOpen();
  await svc.startEpisode();
  for (let i = 0; i < 10; i++) {
    await svc.whenWritable();
    svc.sink.onStep(syntheticStep(i, 2, CAMS));
  }
  const s = await svc.endEpisode();
  assert.equal(s.index, 1);
  await svc.closeDataset();
  const v2 = await verifyDataset(root);
  assert.equal(v2.info.total_episodes, 2);
});
