/**
 * The inference child process: hosts the policy's ONNX sessions off the control loop's thread
 * (onnxruntime-node's run() blocks its thread). Started by PolicyProcess with `--import tsx` and
 * IPC in 'advanced' serialization (typed arrays travel as binary, not JSON number arrays).
 * One inference at a time; requests arriving meanwhile are queued by the parent.
 */
import { BundleError } from './bundle';
import type { FromChild, ToChild } from './protocol';
import { openPolicy } from '../policies/open';
import type { Policy } from '../policies/types';

let policy: Policy | undefined;
let chain: Promise<void> = Promise.resolve();

function send(msg: FromChild): void {
  process.send?.(msg);
}

async function handle(msg: ToChild): Promise<void> {
  switch (msg.type) {
    case 'load': {
      try {
        policy = await openPolicy(msg.dir, {
          robotJoints: msg.robotJoints,
          session: msg.session,
          draftSession: msg.draftSession,
          planCacheThreshold: msg.planCacheThreshold,
        });
        send({ type: 'loaded', manifest: policy.manifest });
      } catch (e) {
        const problems = e instanceof BundleError ? e.problems : [{ path: '(bundle)', message: (e as Error).message }];
        send({ type: 'loadFailed', message: (e as Error).message, problems });
      }
      return;
    }
    case 'infer': {
      if (policy === undefined) {
        send({ type: 'error', id: msg.id, message: 'no policy loaded' });
        return;
      }
      try {
        const result = await policy.infer(msg.obs, msg.settings, (fields) => send({ type: 'fields', id: msg.id, fields }));
        send({ type: 'result', id: msg.id, result });
      } catch (e) {
        send({ type: 'error', id: msg.id, message: (e as Error).stack ?? String(e) });
      }
      return;
    }
    case 'reset':
      policy?.reset();
      return;
    case 'dispose':
      await policy?.dispose();
      policy = undefined;
      send({ type: 'disposed' });
      process.disconnect?.();
      return;
  }
}

process.on('message', (msg: ToChild) => {
  chain = chain.then(() => handle(msg));
});
process.on('disconnect', () => {
  // the parent went away: nothing left to serve
  process.exit(0);
});
