// Worker entry for SimCameraWorker: registers tsx in this worker (the project runs TypeScript
// through tsx, and a worker doesn't inherit the parent's loader hooks), then loads the TS body.
import { register } from 'tsx/esm/api';

register();
await import('./simCameraWorker.entry.ts');
