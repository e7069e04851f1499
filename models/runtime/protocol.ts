/** Messages between the main side (PolicyProcess) and the inference child (child.ts). */
import type { BundleProblem } from './manifest';
import type { SessionConfig } from './ort';
import type { DecodeSettings, InferResult } from '../policies/types';
import type { PolicyObservation } from '../policies/preprocess';
import type { Manifest } from './manifest';

export type ToChild =
  | { type: 'load'; dir: string; robotJoints?: string[]; session?: SessionConfig; draftSession?: SessionConfig; planCacheThreshold?: number }
  | { type: 'infer'; id: number; obs: PolicyObservation; settings: DecodeSettings }
  | { type: 'reset' }
  | { type: 'dispose' };

export type FromChild =
  | { type: 'loaded'; manifest: Manifest }
  | { type: 'loadFailed'; message: string; problems: BundleProblem[] }
  | { type: 'fields'; id: number; fields: Record<string, string> }
  | { type: 'result'; id: number; result: InferResult }
  | { type: 'error'; id: number; message: string }
  | { type: 'disposed' };
