/**
 * Worker body for BundleCatalog (./policies.ts): validates model bundles off the control loop's
 * thread. validateBundle opens every ONNX graph of a bundle, and onnxruntime-node loads a graph
 * synchronously on its calling thread, so on the loop's thread one `policy.list` stalled ticks
 * for as long as the graphs took to load. Loaded through bundleValidator.bootstrap.mjs (which
 * registers tsx) from source, or as its own entry of the Electron build.
 *
 * In:  { id, dir, robotJoints }     Out: { type: 'ready' } once; { id, result } per request.
 */
import { parentPort } from 'node:worker_threads';
import { validateBundle } from '../../models/runtime/bundle';

export interface ValidateRequest {
  id: number;
  dir: string;
  robotJoints: string[];
}
export interface ValidateResult {
  problems: { path: string; message: string }[];
  kind?: string;
  description?: string;
}
export type FromValidator = { type: 'ready' } | { type: 'result'; id: number; result: ValidateResult } | { type: 'error'; id: number; message: string };

if (!parentPort) throw new Error('bundleValidator.entry: not running in a worker');
const port = parentPort;
let chain: Promise<void> = Promise.resolve();

port.on('message', (m: ValidateRequest) => {
  chain = chain.then(async () => {
    try {
      const r = await validateBundle(m.dir, { robotJoints: m.robotJoints });
      port.postMessage({ type: 'result', id: m.id, result: { problems: r.problems, kind: r.manifest?.policy.kind, description: r.manifest?.description } } satisfies FromValidator);
    } catch (err) {
      port.postMessage({ type: 'error', id: m.id, message: (err as Error)?.message ?? String(err) } satisfies FromValidator);
    }
  });
});
port.postMessage({ type: 'ready' } satisfies FromValidator);
