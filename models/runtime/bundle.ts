/**
 * Bundle loader and validator. `validateBundle` reports every problem at once, each with the
 * JSON path of the manifest entry it concerns: the schema, the cross-field rules, missing files,
 * graph input/output names and shapes that disagree with the ONNX graph's own metadata, a
 * tokenizer.json that does not load, and joint names the robot lacks.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { checkManifest, type BundleProblem, type DecoderGraph, type Manifest } from './manifest';
import { readGraphInfo, type GraphValueInfo } from './ort';
import { loadHfTokenizer } from '../tokenizers/instruction';

export interface ValidateOptions {
  /** The robot's joint names; state and action joints must all be among them. */
  robotJoints?: readonly string[];
}

export interface BundleReport {
  ok: boolean;
  dir: string;
  manifest?: Manifest;
  problems: BundleProblem[];
}

export class BundleError extends Error {
  readonly code = 'BUNDLE_INVALID';
  constructor(readonly dir: string, readonly problems: BundleProblem[]) {
    super(`bundle ${dir} is invalid:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
    this.name = 'BundleError';
  }
}

export async function validateBundle(dir: string, opts: ValidateOptions = {}): Promise<BundleReport> {
  const problems: BundleProblem[] = [];
  const add = (path: string, message: string): void => {
    problems.push({ path, message });
  };
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    add('(file)', `manifest.json not found in ${dir}`);
    return { ok: false, dir, problems };
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (e) {
    add('(file)', `manifest.json is not valid JSON: ${(e as Error).message}`);
    return { ok: false, dir, problems };
  }
  const checked = checkManifest(json);
  problems.push(...checked.problems);
  const m = checked.manifest;
  if (m === undefined) return { ok: false, dir, problems };

  const fileOk = (rel: string, path: string): boolean => {
    const p = join(dir, rel);
    if (!existsSync(p) || !statSync(p).isFile()) {
      add(path, `file "${rel}" not found in the bundle`);
      return false;
    }
    return true;
  };

  // joints the robot lacks
  if (opts.robotJoints !== undefined) {
    const have = new Set(opts.robotJoints);
    m.action.joints.forEach((j, i) => {
      if (!have.has(j)) add(`action.joints[${i}]`, `joint "${j}" is not a joint of this robot (${opts.robotJoints!.join(', ')})`);
    });
    m.inputs.state?.joints.forEach((j, i) => {
      if (!have.has(j)) add(`inputs.state.joints[${i}]`, `joint "${j}" is not a joint of this robot (${opts.robotJoints!.join(', ')})`);
    });
  }

  // tokenizers
  const instr = m.inputs.instruction;
  if (instr !== undefined && fileOk(instr.tokenizer, 'inputs.instruction.tokenizer')) {
    try {
      loadHfTokenizer(join(dir, instr.tokenizer));
    } catch (e) {
      add('inputs.instruction.tokenizer', `tokenizer does not load: ${(e as Error).message}`);
    }
  }
  const tk = m.action.tokenizer;
  if (tk?.kind === 'fast' && fileOk(tk.tokenizer, 'action.tokenizer.tokenizer')) {
    try {
      loadHfTokenizer(join(dir, tk.tokenizer));
    } catch (e) {
      add('action.tokenizer.tokenizer', `tokenizer does not load: ${(e as Error).message}`);
    }
  }

  // graphs against their own metadata
  const graphInfo = async (rel: string, path: string): Promise<{ inputs: GraphValueInfo[]; outputs: GraphValueInfo[] } | undefined> => {
    if (!fileOk(rel, path)) return undefined;
    try {
      return await readGraphInfo(join(dir, rel));
    } catch (e) {
      add(path, `ONNX graph does not load: ${(e as Error).message.split('\n')[0]}`);
      return undefined;
    }
  };
  const encOutputs = new Map<string, GraphValueInfo>();
  const enc = m.policy.encoder;
  if (enc !== undefined) {
    const g = await graphInfo(enc.file, 'policy.encoder.file');
    if (g !== undefined) {
      const ins = byName(g.inputs);
      enc.inputs.forEach((name, i) => {
        const gi = ins.get(name);
        if (gi === undefined) add(`policy.encoder.inputs[${i}]`, `graph ${enc.file} has no input "${name}" (it has: ${names(g.inputs)})`);
        else checkInputShape(gi, name, `policy.encoder.inputs[${i}]`);
      });
      for (const gi of g.inputs) {
        if (!enc.inputs.includes(gi.name)) add('policy.encoder.inputs', `graph input "${gi.name}" of ${enc.file} is not listed (nothing would feed it)`);
      }
      const outs = byName(g.outputs);
      enc.outputs.forEach((name, i) => {
        const go = outs.get(name);
        if (go === undefined) add(`policy.encoder.outputs[${i}]`, `graph ${enc.file} has no output "${name}" (it has: ${names(g.outputs)})`);
        else encOutputs.set(name, go);
      });
    }
  }

  /** Checks a camera/state input shape against the manifest. */
  function checkInputShape(gi: GraphValueInfo, name: string, path: string): void {
    const cam = m!.inputs.cameras.find((c) => c.input === name);
    if (cam !== undefined) {
      expectShape(gi, [1, 3, cam.height, cam.width], path, `camera "${cam.key}" (${cam.width}x${cam.height})`);
    } else if (m!.inputs.state?.input === name) {
      expectShape(gi, [1, m!.inputs.state.joints.length], path, `state (${m!.inputs.state.joints.length} joints)`);
    }
  }
  function expectShape(gi: GraphValueInfo, want: (number | undefined)[], path: string, what: string): void {
    if (gi.shape.length === 0) return;
    if (gi.shape.length !== want.length) {
      add(path, `graph input "${gi.name}" has rank ${gi.shape.length} [${gi.shape.join(', ')}], the manifest's ${what} needs [${want.map((w) => w ?? '?').join(', ')}]`);
      return;
    }
    want.forEach((w, i) => {
      const d = gi.shape[i];
      if (w !== undefined && typeof d === 'number' && d !== w) {
        add(path, `graph input "${gi.name}" dim ${i} is ${d}, the manifest's ${what} needs ${w} (shape [${gi.shape.join(', ')}])`);
      }
    });
  }

  const decoder = async (spec: DecoderGraph, base: string): Promise<void> => {
    const g = await graphInfo(spec.file, `${base}.file`);
    if (g === undefined) return;
    const ins = byName(g.inputs);
    const outs = byName(g.outputs);
    if (!ins.has('input_ids')) add(`${base}.file`, `graph ${spec.file} has no input "input_ids" (it has: ${names(g.inputs)})`);
    for (let i = 0; i < spec.layers; i++) {
      for (const kv of ['key', 'value']) {
        const inName = `past_key_values.${i}.${kv}`;
        const gi = ins.get(inName);
        if (gi === undefined) add(`${base}.layers`, `graph ${spec.file} has no input "${inName}" (manifest says ${spec.layers} layers)`);
        else kvShape(gi, spec, `${base}.kvHeads`);
        const outName = `present.${i}.${kv}`;
        const go = outs.get(outName);
        if (go === undefined) add(`${base}.layers`, `graph ${spec.file} has no output "${outName}" (manifest says ${spec.layers} layers)`);
        else kvShape(go, spec, `${base}.kvHeads`);
      }
    }
    const extraPast = g.inputs.filter((x) => /^past_key_values\.(\d+)\./.exec(x.name) !== null && Number(/^past_key_values\.(\d+)\./.exec(x.name)![1]) >= spec.layers);
    if (extraPast.length > 0) add(`${base}.layers`, `graph ${spec.file} has more layers than ${spec.layers} (${extraPast.map((x) => x.name).join(', ')})`);
    const logits = outs.get('logits');
    if (logits === undefined) add(`${base}.file`, `graph ${spec.file} has no output "logits" (it has: ${names(g.outputs)})`);
    else {
      const v = logits.shape[logits.shape.length - 1];
      if (typeof v === 'number' && v !== spec.vocabSize) add(`${base}.vocabSize`, `manifest says ${spec.vocabSize}, graph ${spec.file} logits have ${v}`);
    }
    // every other input must be fed by the runtime: position_ids, attention_mask, an encoder output, a camera or the state
    const fed = new Set(['input_ids', 'position_ids', 'attention_mask', ...encOutputs.keys(), ...m!.inputs.cameras.map((c) => c.input)]);
    if (m!.inputs.state !== undefined) fed.add(m!.inputs.state.input);
    for (const gi of g.inputs) {
      if (gi.name.startsWith('past_key_values.')) continue;
      if (!fed.has(gi.name)) add(`${base}.file`, `graph input "${gi.name}" of ${spec.file} is fed by nothing (not an encoder output, camera or state input)`);
      else checkInputShape(gi, gi.name, `${base}.file`);
    }
  };
  function kvShape(gi: GraphValueInfo, spec: DecoderGraph, path: string): void {
    if (gi.shape.length !== 4) {
      add(path, `"${gi.name}" has rank ${gi.shape.length}, expected [batch, kvHeads, sequence, headDim]`);
      return;
    }
    const h = gi.shape[1];
    const hd = gi.shape[3];
    if (typeof h === 'number' && h !== spec.kvHeads) add(path, `"${gi.name}" has ${h} heads, the manifest says kvHeads ${spec.kvHeads}`);
    if (typeof hd === 'number' && hd !== spec.headDim) add(path.replace(/kvHeads$/, 'headDim'), `"${gi.name}" has head size ${hd}, the manifest says headDim ${spec.headDim}`);
  }

  if (m.policy.kind === 'autoregressive') {
    await decoder(m.policy.target, 'policy.target');
    if (m.policy.draft !== undefined) await decoder(m.policy.draft, 'policy.draft');
  } else {
    const p = m.policy;
    const g = await graphInfo(p.graph.file, 'policy.graph.file');
    if (g !== undefined) {
      const out = byName(g.outputs).get(p.graph.output);
      if (out === undefined) add('policy.graph.output', `graph ${p.graph.file} has no output "${p.graph.output}" (it has: ${names(g.outputs)})`);
      else if (out.shape.length === 3) {
        const [, hh, dd] = out.shape;
        if (typeof hh === 'number' && hh !== m.action.chunk) add('action.chunk', `manifest says ${m.action.chunk}, graph output "${out.name}" has ${hh} steps`);
        if (typeof dd === 'number' && dd !== m.action.joints.length) add('action.joints', `manifest names ${m.action.joints.length} joints, graph output "${out.name}" has ${dd}`);
      }
      const fed = new Set([...encOutputs.keys(), ...m.inputs.cameras.map((c) => c.input)]);
      if (m.inputs.state !== undefined) fed.add(m.inputs.state.input);
      for (const gi of g.inputs) {
        if (!fed.has(gi.name)) add('policy.graph.file', `graph input "${gi.name}" of ${p.graph.file} is fed by nothing`);
        else checkInputShape(gi, gi.name, 'policy.graph.file');
      }
    }
  }
  return { ok: problems.length === 0, dir, manifest: m, problems };
}

/** Validates and returns the manifest, or throws a BundleError listing every problem. */
export async function loadBundle(dir: string, opts: ValidateOptions = {}): Promise<Manifest> {
  const r = await validateBundle(dir, opts);
  if (!r.ok || r.manifest === undefined) throw new BundleError(dir, r.problems);
  return r.manifest;
}

function byName(list: GraphValueInfo[]): Map<string, GraphValueInfo> {
  return new Map(list.map((x) => [x.name, x]));
}
function names(list: GraphValueInfo[]): string {
  return list.map((x) => x.name).join(', ');
}
