/**
 * Child process for the crash test: records two finished episodes, then a third that never
 * ends. Prints READY once 40 frames of the third are written; the parent then SIGKILLs the whole process
 * group (this process and its ffmpeg encoders), like a power cut.
 */
import { LeRobotDataset } from '../../../main/recording/dataset';
import { DatasetRecorder } from '../../../main/recording/recorder';
import { chooseVideoSettings } from '../../../main/recording/encoder';
import { JOINTS, feedEpisode, syntheticStep } from './helpers';

const root = process.argv[2]!;
const CAMS = [
  { key: 'front', width: 64, height: 64 },
  { key: 'wrist', width: 64, height: 64 },
];
const ds = await LeRobotDataset.create(root, { repoId: 'local/crash', fps: 30, robotType: 'so101_follower', jointNames: JOINTS, cameras: CAMS, video: Object.fromEntries(CAMS.map((c) => [c.key, chooseVideoSettings(c)])) });
const rec = new DatasetRecorder(ds, { journalSyncMs: 200 });
for (let e = 0; e < 2; e++) {
  await rec.startEpisode(`task ${e}`);
  await feedEpisode(rec, 20 + 5 * e, e, CAMS);
  await rec.endEpisode();
}
await rec.startEpisode('the interrupted one');
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
