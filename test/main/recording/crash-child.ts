/**
 * Child process for the crash tests: records two finished episodes, then a third. Modes:
 * - `mid` (default): the third never ends; READY once 40 of its frames are written;
 * - `after-commit`: the third is ended; READY once its episode is committed, before the recorder
 *   removes its staging folder (the commit window), and the process then hangs there;
 * - `before-commit`: the third is ended; READY once its files are moved into data/ and videos/,
 *   before the episodes table is committed, and the process hangs there.
 * The parent then SIGKILLs the whole process group (this process and its ffmpeg encoders), like
 * a power cut.
 */
import { LeRobotDataset } from '../../../main/recording/dataset';
import { DatasetRecorder } from '../../../main/recording/recorder';
import { chooseVideoSettings } from '../../../main/recording/encoder';
import { JOINTS, feedEpisode, syntheticStep } from './helpers';

const root = process.argv[2]!;
const mode = process.argv[3] ?? 'mid';
const CAMS = [
  { key: 'front', width: 64, height: 64 },
  { key: 'wrist', width: 64, height: 64 },
];
const hang = (): Promise<never> => new Promise(() => setInterval(() => undefined, 1000));
const ds = await LeRobotDataset.create(root, { repoId: 'local/crash', fps: 30, robotType: 'so101_follower', jointNames: JOINTS, cameras: CAMS, video: Object.fromEntries(CAMS.map((c) => [c.key, chooseVideoSettings(c)])), shadow: true });
const rec = new DatasetRecorder(ds, { journalSyncMs: 200 });
for (let e = 0; e < 2; e++) {
  await rec.startEpisode(`task ${e}`);
  await feedEpisode(rec, 20 + 5 * e, e, CAMS);
  await rec.endEpisode();
}
await rec.startEpisode('the interrupted one', { seed: 9, family: 'stack' });
if (mode === 'after-commit') {
  const append = ds.appendEpisode.bind(ds);
  ds.appendEpisode = async (...a: Parameters<typeof append>) => {
    await append(...a);
    console.log('READY');
    return hang();
  };
} else if (mode === 'before-commit') {
  const target = ds as unknown as { commitEpisodes: (rows: unknown) => Promise<void> };
  target.commitEpisodes = async () => {
    console.log('READY');
    return hang();
  };
}
if (mode !== 'mid') {
  await feedEpisode(rec, 30, 2, CAMS);
  await rec.endEpisode();
}
let ready = false;
for (let t = 0; ; t++) {
  await rec.whenWritable();
  rec.onStep(syntheticStep(t, 2, CAMS));
  if (rec.status().written >= 40 && !ready) {
    ready = true;
    console.log('READY');
  }
  await new Promise((r) => setTimeout(r, 5));
}
