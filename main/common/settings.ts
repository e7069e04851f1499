/**
 * The policy settings a session starts with — one value for the main process (session, VLA
 * runner) and the renderer (what the settings panel shows before the first snapshot).
 * Jacobi decoding is on: it is exact under strict acceptance and the fastest row measured
 * (README, "Benchmarks").
 */
import type { PolicySettings } from './contract';

export const DEFAULT_POLICY_SETTINGS: Readonly<PolicySettings> = Object.freeze({
  speculative: true,
  relaxedR: 0,
  ensemble: 'temporal',
  planCache: true,
  reasoning: true,
  jacobi: true,
});
