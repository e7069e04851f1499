/**
 * Diagnosis: where a policy step's time goes. Runs held-out simulator episodes with a VLA bundle
 * (every chunk applied on the next tick, refill when half the queue is left) and prints the median
 * of each StepStats field, separately for plan-cache hits and misses, plus the time spent inside
 * ONNX Runtime and the mean cost of a decoder pass.
 *
 *   npx tsx bench/step-profile.ts [--bundle models/bundles/demo] [--seeds 3] [--decode spec|greedy|jacobi]
 *                                 [--window 12] [--relaxed-r 0] [--threads 1]
 */
import { SO101_JOINTS } from '../drivers/sim';
import { benchArgs } from './args';
import { simRollout } from './simEpisodes';
import { openPolicy } from '../models/policies/open';
import type { DecodeSettings } from '../models/policies/types';
import { OnnxCausalLM } from '../models/runtime/causalLM';
import { OrtSession } from '../models/runtime/ort';

const { arg } = benchArgs();
const bundle = arg('bundle', 'models/bundles/demo');
const seeds = Number(arg('seeds', '3'));
const decode = arg('decode', 'jacobi');
if (!['spec', 'greedy', 'jacobi'].includes(decode)) throw new Error(`--decode must be spec, greedy or jacobi, not ${decode}`);
const settings: DecodeSettings = {
  speculative: decode !== 'greedy',
  relaxedR: Number(arg('relaxed-r', '0')),
  planCache: true,
  reasoning: true,
  jacobi: decode === 'jacobi',
  jacobiWindow: Number(arg('window', '12')),
};

// time spent in decoder passes and in ONNX Runtime (wrapping the prototypes, not the code under test)
const spent = { passes: 0, passMs: 0, ortMs: 0 };
const forward = OnnxCausalLM.prototype.forward;
OnnxCausalLM.prototype.forward = async function (this: OnnxCausalLM, tokens: readonly number[]) {
  const t0 = performance.now();
  const r = await forward.call(this, tokens);
  spent.passMs += performance.now() - t0;
  spent.passes++;
  return r;
};
const run = OrtSession.prototype.run;
OrtSession.prototype.run = async function (this: OrtSession, feeds) {
  const t0 = performance.now();
  const r = await run.call(this, feeds);
  spent.ortMs += performance.now() - t0;
  return r;
};

const policy = await openPolicy(bundle, { robotJoints: [...SO101_JOINTS], session: { intraOpNumThreads: Number(arg('threads', '1')) } });
const FIELDS = ['encoderMs', 'prefillMs', 'reasoningMs', 'actionsMs', 'totalMs', 'promptTokens', 'tokens', 'targetCalls', 'draftCalls', 'acceptLength'] as const;
const acc: Record<string, number[]> = {};
let wall = 0;
await simRollout(policy, seeds, settings, (_obs, r, _seed, inferMs) => {
  wall += inferMs;
  const kind = r.stats.cacheHit ? 'hit' : 'miss';
  for (const k of FIELDS) (acc[`${kind} ${k}`] ??= []).push(Number(r.stats[k]));
});
await policy.dispose();
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(`${bundle}: decode ${decode}${decode === 'jacobi' ? ` (window ${settings.jacobiWindow})` : ''}, ${seeds} pick-and-place seeds, cameras 320x240`);
const out: Record<string, number> = {};
for (const [k, v] of Object.entries(acc)) {
  out[k.replace(' ', '.')] = median(v);
  console.log(`${k.padEnd(22)} p50 ${median(v).toFixed(2).padStart(8)}   (${v.length} steps)`);
}
console.log(`decoder passes ${spent.passes}, ${(spent.passMs / spent.passes).toFixed(3)} ms each; ONNX Runtime ${((100 * spent.ortMs) / wall).toFixed(0)} % of step wall time`);
console.log(JSON.stringify({ bundle, decode, window: settings.jacobiWindow, ...out, msPerPass: spent.passMs / spent.passes, ortShare: spent.ortMs / wall }));
