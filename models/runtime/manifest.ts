/**
 * The model bundle contract: the shape of `manifest.json` (zod schema + inferred types).
 * Pure: no I/O. `bundle.ts` reads the files and checks them against the ONNX graphs.
 * The contract is documented for exporters in models/README.md.
 */
import { z } from 'zod';

const nonEmpty = z.string().min(1);
const finiteArray = z.array(z.number().finite());

export const CameraInputSchema = z.object({
  /** Camera key as the robot profile names it ('front', 'wrist'). */
  key: nonEmpty,
  /** Graph input that receives the image, float32 [1, 3, height, width] (CHW, RGB). */
  input: nonEmpty,
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** Per-channel normalisation applied to pixel/255: (x - mean) / std. */
  mean: z.array(z.number().finite()).length(3),
  std: z.array(z.number().finite().positive()).length(3),
  /**
   * How a frame of another shape becomes width×height (nearest-neighbour sampling either way):
   * 'stretch' (default) scales each axis on its own; 'center_crop' first crops the frame's centre
   * to the input's aspect ratio, keeping the geometry of a model trained on square renders when
   * the camera gives 4:3.
   */
  resize: z.enum(['stretch', 'center_crop']).default('stretch'),
});

export const StateInputSchema = z.object({
  /** Graph input that receives the normalised state, float32 [1, joints.length]. */
  input: nonEmpty,
  joints: z.array(nonEmpty).min(1),
  /** (x - mean) / std per joint, in the robot's units (degrees, gripper 0..100). */
  mean: finiteArray,
  std: z.array(z.number().finite().positive()),
});

export const InstructionSchema = z.object({
  /** tokenizer.json (HF tokenizers format), relative to the bundle. */
  tokenizer: nonEmpty,
  maxTokens: z.number().int().positive(),
});

export const GraphSchema = z.object({
  file: nonEmpty,
});

/** A KV-cached causal decoder (optimum naming): input_ids, position_ids, past_key_values.{i}.key|value → logits, present.{i}.key|value. */
export const DecoderGraphSchema = GraphSchema.extend({
  layers: z.number().int().positive(),
  kvHeads: z.number().int().positive(),
  headDim: z.number().int().positive(),
  vocabSize: z.number().int().positive(),
  maxPositions: z.number().int().positive(),
});

export const EncoderGraphSchema = GraphSchema.extend({
  /** Graph inputs: camera `input`s and/or the state `input`. */
  inputs: z.array(nonEmpty).min(1),
  /** Outputs fed, by the same name, to the decoders' inputs (e.g. obs_embedding). */
  outputs: z.array(nonEmpty).min(1),
});

export const ReasoningSchema = z.object({
  /** ECoT field order, names as in tokens.fields. */
  fields: z.array(nonEmpty).min(1),
  /** Fields the plan cache may reuse (Fast ECoT thought reuse); a prefix of `fields`. */
  planFields: z.array(nonEmpty).default([]),
});

export const AutoregressivePolicySchema = z.object({
  kind: z.literal('autoregressive'),
  encoder: EncoderGraphSchema.optional(),
  target: DecoderGraphSchema,
  draft: DecoderGraphSchema.optional(),
  reasoning: ReasoningSchema.optional(),
  maxNewTokens: z.number().int().positive(),
});

export const ChunkRegressionPolicySchema = z.object({
  kind: z.literal('chunk_regression'),
  encoder: EncoderGraphSchema.optional(),
  graph: GraphSchema.extend({
    /**
     * Output holding the chunk, float32 [1, chunk, joints], normalised to [-1, 1] by action
     * bounds low/high, or by action meanStd ((x - mean) / std, LeRobot's MEAN_STD).
     */
    output: nonEmpty,
  }),
  /**
   * ACT's temporal-ensemble coefficient m for this policy (the runner's default when its own
   * option is unset): the n-th prediction of a step weighs exp(-m·n). LeRobot ACT imports carry
   * the checkpoint's temporal_ensemble_coeff, else ACT's 0.01.
   */
  temporalCoeff: z.number().finite().optional(),
});

export const PolicySchema = z.discriminatedUnion('kind', [AutoregressivePolicySchema, ChunkRegressionPolicySchema]);

export const UniformBinsSchema = z.object({
  kind: z.literal('uniform_bins'),
  bins: z.number().int().min(2),
  /** Token id of bin 0; bin b is firstTokenId + b, so a token-id distance is a bin distance. */
  firstTokenId: z.number().int().nonnegative(),
  /** Quantile bounds (q01/q99) per action joint. */
  low: finiteArray,
  high: finiteArray,
});

export const FastSchema = z.object({
  kind: z.literal('fast'),
  /** Byte-level BPE tokenizer.json over FAST's characters (trained by models/train/train_fast_bpe.py). */
  tokenizer: nonEmpty,
  scale: z.number().positive(),
  minToken: z.number().int(),
  /** Token id of FAST token 0 in the decoder's vocabulary. */
  firstTokenId: z.number().int().nonnegative(),
  vocabSize: z.number().int().positive(),
  low: finiteArray,
  high: finiteArray,
});

export const ActionSchema = z.object({
  joints: z.array(nonEmpty).min(1),
  chunk: z.number().int().positive(),
  /** Absent for chunk_regression (which uses `bounds`). */
  tokenizer: z.discriminatedUnion('kind', [UniformBinsSchema, FastSchema]).optional(),
  /** Normalisation bounds for chunk_regression outputs: [-1, 1] ↔ [low, high]. */
  bounds: z.object({ low: finiteArray, high: finiteArray }).optional(),
  /** Or mean/std normalisation of chunk_regression outputs: action = output · std + mean (LeRobot MEAN_STD, folded MIN_MAX/QUANTILES). */
  meanStd: z.object({ mean: finiteArray, std: z.array(z.number().finite().positive()) }).optional(),
  /**
   * Per action joint: true where the decoded value is an offset from that joint's observed state
   * (relative actions, as in pi0's delta actions), false where it is absolute. Absent: all absolute.
   */
  relative: z.array(z.boolean()).optional(),
});

export const TokensSchema = z.object({
  pad: z.number().int().nonnegative().optional(),
  bos: z.number().int().nonnegative(),
  eos: z.number().int().nonnegative(),
  reasoningBegin: z.number().int().nonnegative().optional(),
  reasoningEnd: z.number().int().nonnegative().optional(),
  actionBegin: z.number().int().nonnegative(),
  actionEnd: z.number().int().nonnegative(),
  /** Field marker token per ECoT field name (TASK, PLAN, ...). */
  fields: z.record(z.string(), z.number().int().nonnegative()).default({}),
});

export const ManifestSchema = z.object({
  format: z.literal('reins-bundle'),
  version: z.literal(1),
  name: nonEmpty,
  description: z.string().optional(),
  inputs: z.object({
    cameras: z.array(CameraInputSchema).default([]),
    state: StateInputSchema.optional(),
    instruction: InstructionSchema.optional(),
  }),
  policy: PolicySchema,
  action: ActionSchema,
  tokens: TokensSchema.optional(),
});

export type Manifest = z.infer<typeof ManifestSchema>;
export type CameraInput = z.infer<typeof CameraInputSchema>;
export type StateInput = z.infer<typeof StateInputSchema>;
export type DecoderGraph = z.infer<typeof DecoderGraphSchema>;
export type EncoderGraph = z.infer<typeof EncoderGraphSchema>;
export type AutoregressivePolicySpec = z.infer<typeof AutoregressivePolicySchema>;
export type ChunkRegressionPolicySpec = z.infer<typeof ChunkRegressionPolicySchema>;
export type UniformBinsSpec = z.infer<typeof UniformBinsSchema>;
export type FastSpec = z.infer<typeof FastSchema>;
export type ActionSpec = z.infer<typeof ActionSchema>;
export type TokensSpec = z.infer<typeof TokensSchema>;

/** One problem in a bundle, with its JSON path ('policy.target.file', 'inputs.state.joints[2]'). */
export interface BundleProblem {
  path: string;
  message: string;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out === '' ? '(root)' : out;
}

/** Schema check plus the cross-field rules (lengths agree, fields named, tokens present). Pure. */
export function checkManifest(json: unknown): { manifest?: Manifest; problems: BundleProblem[] } {
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) {
    return { problems: parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })) };
  }
  const m = parsed.data;
  const problems: BundleProblem[] = [];
  const add = (path: string, message: string): void => {
    problems.push({ path, message });
  };
  const st = m.inputs.state;
  if (st !== undefined) {
    if (st.mean.length !== st.joints.length) add('inputs.state.mean', `has ${st.mean.length} values for ${st.joints.length} joints`);
    if (st.std.length !== st.joints.length) add('inputs.state.std', `has ${st.std.length} values for ${st.joints.length} joints`);
  }
  const D = m.action.joints.length;
  const tk = m.action.tokenizer;
  if (tk !== undefined) {
    if (tk.low.length !== D) add('action.tokenizer.low', `has ${tk.low.length} values for ${D} action joints`);
    if (tk.high.length !== D) add('action.tokenizer.high', `has ${tk.high.length} values for ${D} action joints`);
    tk.low.forEach((lo, i) => {
      const hi = tk.high[i];
      if (hi !== undefined && !(hi > lo)) add(`action.tokenizer.high[${i}]`, `must be greater than low (${lo})`);
    });
  }
  const rel = m.action.relative;
  if (rel !== undefined) {
    if (rel.length !== D) add('action.relative', `has ${rel.length} values for ${D} action joints`);
    rel.forEach((r, i) => {
      const j = m.action.joints[i];
      if (r && j !== undefined && !(st?.joints ?? []).includes(j)) {
        add(`action.relative[${i}]`, `"${j}" is relative to its observed state, but inputs.state does not list that joint`);
      }
    });
  }
  if (m.policy.kind === 'autoregressive') {
    const p = m.policy;
    if (tk === undefined) add('action.tokenizer', 'an autoregressive policy needs an action tokenizer');
    if (m.tokens === undefined) add('tokens', 'an autoregressive policy needs special token ids');
    if (m.inputs.instruction === undefined) add('inputs.instruction', 'an autoregressive policy needs an instruction tokenizer');
    if (p.draft !== undefined && p.draft.vocabSize !== p.target.vocabSize) {
      add('policy.draft.vocabSize', `draft vocabulary ${p.draft.vocabSize} differs from the target's ${p.target.vocabSize}`);
    }
    if (tk !== undefined) {
      const n = tk.kind === 'uniform_bins' ? tk.bins : tk.vocabSize;
      if (tk.firstTokenId + n > p.target.vocabSize) {
        add('action.tokenizer.firstTokenId', `action tokens ${tk.firstTokenId}..${tk.firstTokenId + n - 1} exceed the vocabulary (${p.target.vocabSize})`);
      }
    }
    if (p.reasoning !== undefined && m.tokens !== undefined) {
      const t = m.tokens;
      if (t.reasoningBegin === undefined) add('tokens.reasoningBegin', 'required when policy.reasoning is set');
      if (t.reasoningEnd === undefined) add('tokens.reasoningEnd', 'required when policy.reasoning is set');
      p.reasoning.fields.forEach((f, i) => {
        if (t.fields[f] === undefined) add(`policy.reasoning.fields[${i}]`, `field "${f}" has no marker in tokens.fields`);
      });
      p.reasoning.planFields.forEach((f, i) => {
        if (p.reasoning!.fields[i] !== f) add(`policy.reasoning.planFields[${i}]`, `plan fields must be a prefix of reasoning.fields ("${f}")`);
      });
    }
    if (m.tokens !== undefined) {
      const t = m.tokens;
      const ids: [string, number | undefined][] = [
        ['bos', t.bos], ['eos', t.eos], ['actionBegin', t.actionBegin], ['actionEnd', t.actionEnd],
        ['reasoningBegin', t.reasoningBegin], ['reasoningEnd', t.reasoningEnd],
        ...Object.entries(t.fields).map(([k, v]): [string, number] => [`fields.${k}`, v]),
      ];
      for (const [k, v] of ids) {
        if (v !== undefined && v >= p.target.vocabSize) add(`tokens.${k}`, `id ${v} is outside the vocabulary (${p.target.vocabSize})`);
      }
    }
  } else {
    const b = m.action.bounds;
    const ms = m.action.meanStd;
    if (b === undefined && ms === undefined) add('action.bounds', 'a chunk_regression policy needs action bounds (low/high) or action meanStd (mean/std)');
    if (b !== undefined && ms !== undefined) add('action.meanStd', 'give either action bounds or action meanStd, not both');
    if (b !== undefined) {
      if (b.low.length !== D) add('action.bounds.low', `has ${b.low.length} values for ${D} action joints`);
      if (b.high.length !== D) add('action.bounds.high', `has ${b.high.length} values for ${D} action joints`);
    }
    if (ms !== undefined) {
      if (ms.mean.length !== D) add('action.meanStd.mean', `has ${ms.mean.length} values for ${D} action joints`);
      if (ms.std.length !== D) add('action.meanStd.std', `has ${ms.std.length} values for ${D} action joints`);
    }
  }
  const enc = m.policy.encoder;
  if (enc !== undefined) {
    const known = new Set([...m.inputs.cameras.map((c) => c.input), ...(st !== undefined ? [st.input] : [])]);
    enc.inputs.forEach((name, i) => {
      if (!known.has(name)) add(`policy.encoder.inputs[${i}]`, `"${name}" is neither a camera input nor the state input`);
    });
  }
  return problems.length === 0 ? { manifest: m, problems } : { manifest: m, problems };
}
