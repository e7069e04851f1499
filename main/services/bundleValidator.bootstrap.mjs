// Worker entry for BundleCatalog: registers tsx in this worker (a worker doesn't inherit the
// parent's loader hooks), then loads the TS body.
import { register } from 'tsx/esm/api';

register();
await import('./bundleValidator.entry.ts');
