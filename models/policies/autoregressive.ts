/**
 * Autoregressive-token VLA: encoder → prompt (BOS, instruction, answer prefix) → prefill →
 * greedy or speculative decoding of ECoT reasoning and action tokens → action chunk.
 * Plan cache: a cached TASK/PLAN segment is prefilled as part of the prompt instead of generated.
 * Reasoning dropout: the answer starts with the action marker. Jacobi decoding: the previous step's
 * answer (same instruction and answer prefix) is the guess; without one the step decodes with the
 * draft or greedily. The clock is injected.
 */
import { prefill, generateGreedy } from '../decoding/greedy';
import { generateSpeculative } from '../decoding/speculative';
import { generateJacobi } from '../decoding/jacobi';
import { stopAfterActions, stopOnTokens } from '../decoding/stopping';
import { answerGrammar } from './answerGrammar';
import type { AcceptanceRule } from '../decoding/acceptance';
import type { GenerateResult, StoppingCriterion, Streamer } from '../decoding/types';
import { EcotParser } from '../reasoning/ecot';
import { PlanCache } from '../reasoning/planCache';
import type { InstructionTokenizer } from '../tokenizers/instruction';
import type { FastTokenizer } from '../tokenizers/fast';
import type { UniformBinTokenizer } from '../tokenizers/uniformBins';
import type { OnnxCausalLM } from '../runtime/causalLM';
import type { FeedTensor, OrtSession } from '../runtime/ort';
import type { AutoregressivePolicySpec, Manifest } from '../runtime/manifest';
import { absoluteChunk, imageToChw, normaliseState, sceneSignature, type PolicyObservation } from './preprocess';
import type { DecodeSettings, InferResult, Policy } from './types';

export interface AutoregressiveParts {
  manifest: Manifest;
  encoder?: OrtSession;
  target: OnnxCausalLM;
  draft?: OnnxCausalLM;
  instruction: InstructionTokenizer;
  actions: UniformBinTokenizer | FastTokenizer;
  now: () => number;
  planCacheThreshold?: number;
  planCacheMaxUses?: number;
  onDispose?: () => Promise<void>;
}

export class AutoregressivePolicy implements Policy {
  readonly manifest: Manifest;
  private readonly spec: AutoregressivePolicySpec;
  private readonly planCache: PlanCache;
  /** The previous step's answer (after BOS + instruction) and its instruction: the Jacobi seed. */
  private previous: { instruction: string; answer: number[] } | undefined;
  /** The last encoder run: its inputs (camera CHW, normalised state), outputs and how often reused since. */
  private encoded: { images: Float32Array[]; state: Float32Array; outputs: Record<string, FeedTensor>; uses: number } | undefined;
  /** Dual rate: steps since the reasoning was last decoded in full. */
  private reasoningAge = 0;

  constructor(private readonly p: AutoregressiveParts) {
    this.manifest = p.manifest;
    if (p.manifest.policy.kind !== 'autoregressive') throw new Error('not an autoregressive bundle');
    this.spec = p.manifest.policy;
    this.planCache = new PlanCache({ threshold: p.planCacheThreshold ?? 0.05, maxUses: p.planCacheMaxUses ?? 30 });
  }

  /**
   * Runs the encoder (if any) and returns the decoders' observation inputs. With `reuse`, the last
   * encoder outputs stand in when the observation barely changed since they were computed.
   */
  async encode(
    obs: PolicyObservation,
    reuse?: DecodeSettings['encoderReuse'],
  ): Promise<{ feeds: Record<string, FeedTensor>; scene: Float32Array; reused: boolean }> {
    const m = this.manifest;
    const raw: Record<string, FeedTensor> = {};
    const images: Float32Array[] = [];
    for (const cam of m.inputs.cameras) {
      const chw = imageToChw(obs.images[cam.key], cam);
      images.push(chw);
      raw[cam.input] = { type: 'float32', data: chw, dims: [1, 3, cam.height, cam.width] };
    }
    const st = m.inputs.state;
    const state = st !== undefined ? normaliseState(obs.state, st) : new Float32Array(0);
    if (st !== undefined) raw[st.input] = { type: 'float32', data: state, dims: [1, st.joints.length] };
    const scene = sceneSignature(state, obs.images, m.inputs.cameras);
    const enc = this.spec.encoder;
    if (enc === undefined || this.p.encoder === undefined) return { feeds: raw, scene, reused: false };
    const prev = this.encoded;
    if (reuse !== undefined && prev !== undefined && prev.uses < (reuse.maxUses ?? 4) && this.barelyChanged(prev, images, state, reuse)) {
      prev.uses++;
      return { feeds: { ...raw, ...prev.outputs }, scene, reused: true };
    }
    const encFeeds: Record<string, FeedTensor> = {};
    for (const name of enc.inputs) encFeeds[name] = raw[name]!;
    const out = await this.p.encoder.run(encFeeds);
    const outputs: Record<string, FeedTensor> = {};
    for (const name of enc.outputs) outputs[name] = { type: 'float32', data: out[name]!.data, dims: out[name]!.dims };
    this.encoded = { images, state, outputs, uses: 0 };
    return { feeds: { ...raw, ...outputs }, scene, reused: false };
  }

  /** Every camera within `pixel` grey levels (mean |Δ|) and every state value within `state` of the cached encoding's inputs. */
  private barelyChanged(
    prev: { images: Float32Array[]; state: Float32Array },
    images: Float32Array[],
    state: Float32Array,
    reuse: NonNullable<DecodeSettings['encoderReuse']>,
  ): boolean {
    const cams = this.manifest.inputs.cameras;
    for (let i = 0; i < cams.length; i++) {
      const a = images[i]!;
      const b = prev.images[i]!;
      if (a.length !== b.length) return false;
      const plane = a.length / 3;
      let sum = 0;
      for (let c = 0; c < 3; c++) {
        // back from normalised units to grey levels: Δ·std·255
        const k = cams[i]!.std[c]! * 255;
        let s = 0;
        for (let j = c * plane; j < (c + 1) * plane; j++) s += Math.abs(a[j]! - b[j]!);
        sum += s * k;
      }
      if (sum / a.length > reuse.pixel) return false;
    }
    const tol = reuse.state ?? 0.05;
    for (let j = 0; j < state.length; j++) if (Math.abs(state[j]! - prev.state[j]!) > tol) return false;
    return true;
  }

  async infer(obs: PolicyObservation, settings: DecodeSettings, onFields?: (f: Record<string, string>) => void): Promise<InferResult> {
    const { now } = this.p;
    const m = this.manifest;
    const tokens = m.tokens!;
    const H = m.action.chunk;
    const D = m.action.joints.length;
    const t0 = now();
    const { feeds, scene, reused: encoderReused } = await this.encode(obs, settings.encoderReuse);
    const feedFor = (lm: OnnxCausalLM): void => lm.setStaticInputs(feeds);
    feedFor(this.p.target);
    if (this.p.draft !== undefined) feedFor(this.p.draft);
    const tEnc = now();

    const instr = this.p.instruction.encode(obs.instruction).slice(0, m.inputs.instruction?.maxTokens ?? 64);
    const reasoning = settings.reasoning && this.spec.reasoning !== undefined && tokens.reasoningBegin !== undefined;
    const reused = reasoning ? this.reasoningToReuse(obs.instruction, settings.reasoningEvery ?? 1) : undefined;
    const cached = reasoning && reused === undefined && settings.planCache ? this.planCache.lookup(obs.instruction, scene) : undefined;
    const answerPrefix = reasoning ? reused ?? cached ?? [tokens.reasoningBegin!] : [tokens.actionBegin];
    const prompt = [tokens.bos, ...instr, ...answerPrefix];
    const parser = new EcotParser({
      fieldMarkers: tokens.fields,
      reasoningBegin: tokens.reasoningBegin,
      reasoningEnd: tokens.reasoningEnd,
      actionBegin: tokens.actionBegin,
      planFields: this.spec.reasoning?.planFields ?? [],
      decode: (ids) => this.p.instruction.decode(ids),
    });
    parser.push(answerPrefix);
    if (cached !== undefined || reused !== undefined) onFields?.(parser.fields());

    this.p.target.reset();
    this.p.draft?.reset();
    const useDraft = settings.speculative && this.p.draft !== undefined;
    await prefill(this.p.target, prompt);
    if (useDraft) await prefill(this.p.draft!, prompt);
    const tPre = now();

    let tActions: number | undefined = reasoning ? undefined : tPre;
    // fields are streamed at field granularity (when a field starts, so the previous one is
    // complete, and when the actions start): a handful of messages per step, not one per token
    let fieldCount = Object.keys(parser.fields()).length;
    const streamer: Streamer = {
      put: (ts) => {
        parser.push(ts);
        const started = tActions === undefined && parser.actionsStarted;
        if (started) tActions = now();
        if (onFields === undefined) return;
        const n = parser.fieldCount;
        if (n !== fieldCount || started) {
          fieldCount = n;
          onFields(parser.fields());
        }
      },
      end: () => undefined,
    };
    const acts = this.p.actions;
    const isAction = (id: number): boolean => acts.isActionToken(id);
    const stopping: StoppingCriterion[] = [stopOnTokens([tokens.eos, tokens.actionEnd])];
    if (m.action.tokenizer?.kind === 'uniform_bins') stopping.push(stopAfterActions(tokens.actionBegin, H * D, isAction, answerPrefix.includes(tokens.actionBegin)));
    const maxNewTokens = Math.max(1, Math.min(this.spec.maxNewTokens, this.spec.target.maxPositions - prompt.length));
    const constraint = answerGrammar(
      {
        reasoningBegin: tokens.reasoningBegin,
        reasoningEnd: tokens.reasoningEnd,
        actionBegin: tokens.actionBegin,
        actionEnd: tokens.actionEnd,
        eos: tokens.eos,
        isAction,
        count: m.action.tokenizer?.kind === 'uniform_bins' ? H * D : undefined,
      },
      answerPrefix,
    );
    let gen: GenerateResult;
    // relaxed acceptance needs ids whose distance is a bin distance: uniform bins only (FAST ids are BPE merges)
    const acceptance: AcceptanceRule =
      settings.relaxedR > 0 && acts.kind === 'uniform_bins' ? { kind: 'relaxed', r: settings.relaxedR, isRelaxable: isAction } : { kind: 'strict' };
    const seed = settings.jacobi === true ? this.seedFor(obs.instruction, answerPrefix) : undefined;
    if (seed !== undefined) {
      gen = await generateJacobi(this.p.target, prompt, { maxNewTokens, stopping, streamer, constraint, acceptance, guess: seed, window: settings.jacobiWindow ?? 12 });
    } else if (useDraft) {
      gen = await generateSpeculative(this.p.target, this.p.draft!, prompt, {
        maxNewTokens,
        stopping,
        streamer,
        constraint,
        acceptance,
        k: settings.draftK ?? 4,
        kMax: settings.draftKMax ?? 8,
        kMin: 1,
      });
    } else {
      gen = await generateGreedy(this.p.target, prompt, { maxNewTokens, stopping, streamer, constraint });
    }
    const tEnd = now();

    // actions: the tokens after the action marker
    const answer = [...answerPrefix, ...gen.tokens];
    const at = answer.indexOf(tokens.actionBegin);
    const actionIds: number[] = [];
    if (at >= 0) for (let i = at + 1; i < answer.length && answer[i] !== tokens.actionEnd && answer[i] !== tokens.eos; i++) actionIds.push(answer[i]!);
    let chunk: number[][] = [];
    let valid = false;
    try {
      if (acts.kind === 'uniform_bins') {
        const ok = actionIds.length >= H * D && actionIds.slice(0, H * D).every(isAction);
        if (ok) chunk = acts.decode(actionIds.slice(0, H * D));
        valid = ok;
      } else {
        chunk = acts.decode(actionIds.filter(isAction));
        valid = chunk.length === H;
      }
    } catch {
      valid = false;
      chunk = [];
    }
    if (valid) chunk = absoluteChunk(chunk, m.action, m.inputs.state, obs.state);
    this.previous = { instruction: obs.instruction, answer };
    if (reasoning && reused === undefined && cached === undefined) {
      const plan = parser.planTokens();
      if (plan !== undefined && plan.length > 1) this.planCache.store(obs.instruction, scene, plan);
    }
    const reasoningTokens = at >= 0 ? Math.max(0, at + 1 - answerPrefix.length) : gen.tokens.length;
    const accepted = gen.acceptLengths.reduce((a, b) => a + b, 0);
    return {
      chunk,
      fields: parser.fields(),
      tokens: gen.tokens,
      valid,
      stats: {
        encoderMs: tEnc - t0,
        prefillMs: tPre - tEnc,
        reasoningMs: (tActions ?? tEnd) - tPre,
        actionsMs: tEnd - (tActions ?? tEnd),
        totalMs: tEnd - t0,
        promptTokens: prompt.length,
        tokens: gen.tokens.length,
        reasoningTokens,
        actionTokens: actionIds.length,
        targetCalls: gen.targetCalls,
        draftCalls: gen.draftCalls,
        acceptedTokens: accepted,
        acceptLength: gen.acceptLengths.length === 0 ? 0 : accepted / gen.acceptLengths.length,
        maxAcceptedDistance: gen.maxAcceptedDistance,
        cacheHit: cached !== undefined,
        encoderReused,
        reasoningReused: reused !== undefined,
      },
    };
  }

  /**
   * Dual rate: the previous answer's reasoning through the action marker, while it is younger than
   * `every` steps and was made for this instruction; undefined when this step must reason in full.
   */
  private reasoningToReuse(instruction: string, every: number): number[] | undefined {
    const prev = this.previous;
    const at = prev?.answer.indexOf(this.manifest.tokens!.actionBegin) ?? -1;
    const ok = every > 1 && prev !== undefined && prev.instruction === instruction && at > 0 && this.reasoningAge + 1 < every;
    if (!ok) {
      this.reasoningAge = 0;
      return undefined;
    }
    this.reasoningAge++;
    return prev.answer.slice(0, at + 1);
  }

  /** The previous answer past this step's answer prefix, when it was made for the same instruction. */
  private seedFor(instruction: string, answerPrefix: readonly number[]): number[] | undefined {
    const prev = this.previous;
    if (prev === undefined || prev.instruction !== instruction) return undefined;
    const a = prev.answer;
    // e.g. both steps prefilled the same cached plan, or this one reasons in full (prefix <reason>)
    return answerPrefix.every((t, i) => a[i] === t) ? a.slice(answerPrefix.length) : undefined;
  }

  reset(): void {
    this.planCache.clear();
    this.previous = undefined;
    this.encoded = undefined;
    this.reasoningAge = 0;
  }

  async dispose(): Promise<void> {
    await this.p.onDispose?.();
  }
}
