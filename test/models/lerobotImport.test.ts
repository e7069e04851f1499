/**
 * models/import/lerobot.py against LeRobot itself: the fixture lerobot-act-tiny (a checkpoint and
 * golden input/output pairs written by LeRobot's own code, shared/fixtures/lerobot-act-tiny/README.md)
 * is imported, and the bundle is run through onnxruntime-node on the golden observations.
 * Needs python3 with torch, onnx and safetensors (.ci/run installs them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPolicy } from '../../models/policies/open';
import { imageToChw, normaliseState } from '../../models/policies/preprocess';
import { validateBundle } from '../../models/runtime/bundle';
import { OrtSession } from '../../models/runtime/ort';
import { ActionQueue } from '../../models/chunking/actionQueue';
import { readNpz } from './npz';

const FIX_NAME = 'fixtures/lerobot-act-tiny';
const FIX = existsSync(join(process.cwd(), '../shared', FIX_NAME)) ? join(process.cwd(), '../shared', FIX_NAME) : join('/work/shared', FIX_NAME);
const CKPT = join(FIX, 'pretrained_model');
const JOINTS = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'];
const SETTINGS = { speculative: false, relaxedR: 0, planCache: false, reasoning: false };

function runImport(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('python3', ['models/import/lerobot.py', ...args], { encoding: 'utf8', env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const OUT = mkdtempSync(join(tmpdir(), 'reins-act-'));
const imported = runImport([CKPT, '--out', OUT, '--joints', JOINTS.join(','), '--weights', 'fp32']);
const golden = readNpz(join(FIX, 'golden.npz'));
const N = golden.raw_state!.shape[0]!;

function slice(name: string, i: number): Float32Array {
  const a = golden[name]!;
  const per = a.shape.slice(1).reduce((x, y) => x * y, 1);
  return Float32Array.from(a.data.subarray(i * per, (i + 1) * per));
}
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test.after(() => rmSync(OUT, { recursive: true, force: true }));

test('lerobot import: the fixture checkpoint converts and the bundle validates against an SO-101', async () => {
  assert.equal(imported.status, 0, `import failed:\n${imported.stderr}`);
  const r = await validateBundle(OUT, { robotJoints: JOINTS });
  assert.deepEqual(r.problems, []);
  const m = JSON.parse(readFileSync(join(OUT, 'manifest.json'), 'utf8'));
  assert.deepEqual(m.inputs.cameras.map((c: { key: string }) => c.key), ['front', 'wrist']); // the model's camera order
  assert.equal(m.action.chunk, 8);
  assert.deepEqual(m.inputs.state.joints, JOINTS);
  assert.equal(m.policy.temporalCoeff, 0.01); // temporal_ensemble_coeff null -> ACT's m
  assert.deepEqual(m.action.meanStd.mean, [3, -10.5, 15.5, 29.5, -4.5, 26]);
});

test('lerobot import: the ONNX graph reproduces LeRobot predict_action_chunk on the golden inputs (<= 1e-4)', async () => {
  assert.equal(imported.status, 0, imported.stderr);
  const s = await OrtSession.create(join(OUT, 'policy.onnx'));
  try {
    let worst = 0;
    for (let i = 0; i < N; i++) {
      const out = await s.run({
        image_front: { type: 'float32', data: slice('pre_image_front', i), dims: [1, 3, 96, 96] },
        image_wrist: { type: 'float32', data: slice('pre_image_wrist', i), dims: [1, 3, 96, 96] },
        state: { type: 'float32', data: slice('pre_state', i), dims: [1, 6] },
      });
      assert.deepEqual(out.action!.dims, [1, 8, 6]);
      worst = Math.max(worst, maxDiff(out.action!.data, slice('action_chunk_normalized', i)));
    }
    assert.ok(worst <= 1e-4, `normalised chunk differs from LeRobot's by ${worst}`);
  } finally {
    await s.dispose();
  }
});

test('lerobot import: console frames + state in degrees -> the policy gives LeRobot postprocessed chunks (<= 1e-4)', async () => {
  assert.equal(imported.status, 0, imported.stderr);
  const policy = await openPolicy(OUT);
  const m = policy.manifest;
  try {
    let worstPre = 0;
    let worstChunk = 0;
    let worstFirst = 0;
    for (let i = 0; i < N; i++) {
      // frames as the console delivers them: RGB24, row-major HWC uint8 at the camera's size
      const frame = (cam: string) => ({ data: Uint8Array.from(golden[`raw_image_${cam}_uint8_hwc`]!.data.subarray(i * 96 * 96 * 3, (i + 1) * 96 * 96 * 3)), width: 96, height: 96 });
      const images = { front: frame('front'), wrist: frame('wrist') };
      const state = Array.from(slice('raw_state', i));
      // the preprocessing path: the tensors LeRobot's preprocessor made
      for (const cam of m.inputs.cameras) worstPre = Math.max(worstPre, maxDiff(imageToChw(images[cam.key as 'front' | 'wrist'], cam), slice(`pre_image_${cam.key}`, i)));
      worstPre = Math.max(worstPre, maxDiff(normaliseState(state, m.inputs.state!), slice('pre_state', i)));
      const res = await policy.infer({ state, images, instruction: '' }, SETTINGS);
      assert.ok(res.valid);
      worstChunk = Math.max(worstChunk, maxDiff(res.chunk.flat(), slice('action_chunk', i)));
      // select_action right after reset: the first action of the chunk (queue with nothing before it)
      const q = new ActionQueue({ chunk: 8, refillFraction: 1, mode: 'temporal', temporalCoeff: 0.01 });
      q.push(0, res.chunk, 0);
      worstFirst = Math.max(worstFirst, maxDiff(q.pop(0)!, slice('select_action_first', i)));
    }
    assert.ok(worstPre <= 1e-5, `preprocessed inputs differ from LeRobot's by ${worstPre}`);
    assert.ok(worstChunk <= 1e-4, `unnormalised chunk differs from LeRobot's by ${worstChunk}`);
    assert.ok(worstFirst <= 1e-4, `first action differs from LeRobot select_action by ${worstFirst}`);
  } finally {
    await policy.dispose();
  }
});

test('lerobot import: weights stored as float16 (the default) halve the file and keep LeRobot\'s chunks within 1e-3 normalised, 0.05 unnormalised', async () => {
  assert.equal(imported.status, 0, imported.stderr);
  const out16 = mkdtempSync(join(tmpdir(), 'reins-act16-'));
  try {
    const r = runImport([CKPT, '--out', out16, '--joints', JOINTS.join(',')]); // no --weights: fp16
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /float32 initializers stored as float16 with a Cast to float32/);
    const size32 = statSync(join(OUT, 'policy.onnx')).size;
    const size16 = statSync(join(out16, 'policy.onnx')).size;
    assert.ok(size16 < 0.55 * size32, `fp16 ${size16} B vs fp32 ${size32} B`);
    // the same manifest: only the graph's storage differs
    assert.deepEqual(JSON.parse(readFileSync(join(out16, 'manifest.json'), 'utf8')).action, JSON.parse(readFileSync(join(OUT, 'manifest.json'), 'utf8')).action);
    const policy = await openPolicy(out16);
    const s16 = await OrtSession.create(join(out16, 'policy.onnx'));
    try {
      let worstNorm = 0;
      let worstChunk = 0;
      for (let i = 0; i < N; i++) {
        const o = await s16.run({
          image_front: { type: 'float32', data: slice('pre_image_front', i), dims: [1, 3, 96, 96] },
          image_wrist: { type: 'float32', data: slice('pre_image_wrist', i), dims: [1, 3, 96, 96] },
          state: { type: 'float32', data: slice('pre_state', i), dims: [1, 6] },
        });
        assert.ok(o.action!.data instanceof Float32Array); // the graph's output stays float32 (ort.ts also refuses any other)
        worstNorm = Math.max(worstNorm, maxDiff(o.action!.data, slice('action_chunk_normalized', i)));
        const frame = (cam: string) => ({ data: Uint8Array.from(golden[`raw_image_${cam}_uint8_hwc`]!.data.subarray(i * 96 * 96 * 3, (i + 1) * 96 * 96 * 3)), width: 96, height: 96 });
        const res = await policy.infer({ state: Array.from(slice('raw_state', i)), images: { front: frame('front'), wrist: frame('wrist') }, instruction: '' }, SETTINGS);
        assert.ok(res.valid);
        worstChunk = Math.max(worstChunk, maxDiff(res.chunk.flat(), slice('action_chunk', i)));
      }
      // measured on this fixture (LeRobot's tiny ACT, random weights): normalised 5.4e-4, unnormalised 2.3e-2 (degrees;
      // its action std is 21-42) -- bounds with 2x headroom for other CPUs' kernels. The fp32 graph stays
      // within 1e-4 of both (tests above). Non-zero, or the weights were not rounded at all.
      assert.ok(worstNorm > 1e-6, `fp16 storage changed nothing (${worstNorm}): were the weights converted?`);
      assert.ok(worstNorm <= 1e-3, `normalised chunk differs from LeRobot's by ${worstNorm}`);
      assert.ok(worstChunk <= 5e-2, `unnormalised chunk differs from LeRobot's by ${worstChunk}`);
    } finally {
      await s16.dispose();
      await policy.dispose();
    }
  } finally {
    rmSync(out16, { recursive: true, force: true });
  }
});

test('lerobot import: fp16 storage leaves small tensors and tensors beyond float16 range in float32, and the graph computes in float32', async () => {
  // a graph built here: z = (x @ W1 + b) @ W2, W2 holding 1e5 (beyond float16's 65504); run by onnxruntime-node
  const code = `
import sys, json, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto
sys.path.insert(0, 'models/import')
from lerobot import store_weights_fp16
rng = np.random.default_rng(0)
w1 = rng.standard_normal((64, 32)).astype(np.float32); b = rng.standard_normal(32).astype(np.float32)
w2 = rng.standard_normal((32, 64)).astype(np.float32); w2[0, 0] = 1e5
g = helper.make_graph([helper.make_node('MatMul', ['x', 'w1'], ['m']), helper.make_node('Add', ['m', 'b'], ['y']),
                       helper.make_node('MatMul', ['y', 'w2'], ['z'])], 'g',
                      [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 64])],
                      [helper.make_tensor_value_info('z', TensorProto.FLOAT, [1, 64])],
                      [numpy_helper.from_array(w1, 'w1'), numpy_helper.from_array(b, 'b'), numpy_helper.from_array(w2, 'w2')])
m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)], ir_version=8)
d = sys.argv[1]
onnx.save(m, d + '/a.onnx')
n, _, _ = store_weights_fp16(d + '/a.onnx', d + '/b.onnx')
h = onnx.load(d + '/b.onnx')
x = rng.standard_normal((1, 64)).astype(np.float32)
ref = ((x.astype(np.float64) @ w1.astype(np.float16).astype(np.float64) + b) @ w2)
print(json.dumps({'n': n, 'types': {i.name: i.data_type for i in h.graph.initializer}, 'ops': [nd.op_type for nd in h.graph.node],
                  'x': x[0].tolist(), 'ref': ref[0].tolist()}))
`;
  const dir = mkdtempSync(join(tmpdir(), 'reins-fp16-'));
  try {
    const r = spawnSync('python3', ['-c', code, dir], { encoding: 'utf8', env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout) as { n: number; types: Record<string, number>; ops: string[]; x: number[]; ref: number[] };
    assert.equal(got.n, 1); // only W1: b is small, W2 is out of float16's range
    assert.deepEqual(got.types, { w1__fp16: 10, b: 1, w2: 1 }); // 10 FLOAT16, 1 FLOAT
    assert.deepEqual(got.ops, ['Cast', 'MatMul', 'Add', 'MatMul']);
    const s = await OrtSession.create(join(dir, 'b.onnx'));
    try {
      const out = await s.run({ x: { type: 'float32', data: Float32Array.from(got.x), dims: [1, 64] } });
      assert.ok(out.z!.data instanceof Float32Array);
      // float32 arithmetic on the float16-rounded W1; z[0] carries W2's 1e5 (untouched), the rest on their own scale
      const rest = got.ref.slice(1);
      const rel = maxDiff(out.z!.data.subarray(1), rest) / Math.max(...rest.map(Math.abs));
      assert.ok(rel < 1e-5, `z[1..] relative error ${rel}`);
      assert.ok(Math.abs(out.z!.data[0]! - got.ref[0]!) / Math.abs(got.ref[0]!) < 1e-5, `z[0] ${out.z!.data[0]} vs ${got.ref[0]}`);
    } finally {
      await s.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lerobot import: unsupported checkpoints fail with the field named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'reins-act-bad-'));
  try {
    const cases: [string, (c: Record<string, unknown>) => void, RegExp][] = [
      ['type', (c) => { c.type = 'vqbet'; }, /config\.json type: "vqbet" is not supported/],
      ['diffusion', (c) => { c.type = 'diffusion'; }, /config\.json type: "diffusion" is not supported yet: .*denoising/],
      ['smolvla', (c) => { c.type = 'smolvla'; }, /remote-policy path/],
      ['backbone', (c) => { c.vision_backbone = 'resnet50'; }, /config\.json vision_backbone: "resnet50" is not supported/],
      ['n_obs_steps', (c) => { c.n_obs_steps = 2; }, /config\.json n_obs_steps/],
      ['env state', (c) => { (c.input_features as Record<string, unknown>)['observation.environment_state'] = { type: 'ENV', shape: [4] }; }, /observation\.environment_state/],
      ['shape mismatch', (c) => { c.dim_feedforward = 256; }, /model\.safetensors model\.encoder\.layers\.0\.linear1\.weight: shape/],
    ];
    for (const [what, edit, re] of cases) {
      const ck = join(dir, what.replace(/ /g, '_'));
      cpSync(CKPT, ck, { recursive: true });
      const cfg = JSON.parse(readFileSync(join(ck, 'config.json'), 'utf8'));
      edit(cfg);
      rmSync(join(ck, 'config.json'), { force: true });
      writeFileSync(join(ck, 'config.json'), JSON.stringify(cfg));
      const r = runImport([ck, '--out', join(dir, 'out'), '--joints', JOINTS.join(',')]);
      assert.equal(r.status, 2, `${what}: ${r.stderr}`);
      assert.match(r.stderr, re, what);
    }
    const r = runImport([CKPT, '--out', join(dir, 'out')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /joint names: .*--joints/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lerobot import: MIN_MAX normalisation is folded into mean/std exactly; QUANTILES without q01/q99 names the stats', () => {
  const dir = mkdtempSync(join(tmpdir(), 'reins-act-mm-'));
  try {
    const setMode = (ck: string, mode: string) => {
      for (const f of ['policy_preprocessor.json', 'policy_postprocessor.json']) {
        const pj = JSON.parse(readFileSync(join(ck, f), 'utf8'));
        for (const st of pj.steps) if (st.config?.norm_map) st.config.norm_map = { ...st.config.norm_map, STATE: mode, ACTION: mode };
        rmSync(join(ck, f), { force: true });
        writeFileSync(join(ck, f), JSON.stringify(pj));
      }
    };
    const ck = join(dir, 'minmax');
    cpSync(CKPT, ck, { recursive: true });
    setMode(ck, 'MIN_MAX');
    const r = runImport([ck, '--out', join(dir, 'out'), '--joints', JOINTS.join(',')]);
    assert.equal(r.status, 0, r.stderr);
    const m = JSON.parse(readFileSync(join(dir, 'out', 'manifest.json'), 'utf8'));
    // README of the fixture: min [-110, -100, -95, -100, -150, 0], max [110, 100, 95, 100, 150, 100]
    // LeRobot: 2 (x - min) / (max - min) - 1  ==  (x - (min + max) / 2) / ((max - min) / 2)
    const close = (a: number[], b: number[]) => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 1e-4, `${a} vs ${b}`));
    close(m.inputs.state.mean, [0, 0, 0, 0, 0, 50]);
    close(m.inputs.state.std, [110, 100, 95, 100, 150, 50]);
    close(m.action.meanStd.std, [110, 100, 95, 100, 150, 50]);
    const q = join(dir, 'quantiles');
    cpSync(CKPT, q, { recursive: true });
    setMode(q, 'QUANTILES');
    const rq = runImport([q, '--out', join(dir, 'outq'), '--joints', JOINTS.join(',')]);
    assert.equal(rq.status, 2);
    assert.match(rq.stderr, /policy_preprocessor stats for observation\.state: QUANTILES needs q01 and q99/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('act-sim (LeRobot-trained ACT, imported): runs in the console runner from 640x480 frames, with its own m', async () => {
  const { createVlaRunner, temporalCoeffFor } = await import('../../main/services/vla/index');
  const { loadBundle } = await import('../../models/runtime/bundle');
  const m = await loadBundle('models/bundles/act-sim', { robotJoints: JOINTS });
  assert.equal(m.policy.kind, 'chunk_regression');
  assert.equal(m.action.chunk, 30);
  assert.equal(temporalCoeffFor(m), 0.01);
  assert.equal(temporalCoeffFor(m, 0.05), 0.05);
  const runner = await createVlaRunner('models/bundles/act-sim', JOINTS, { settings: { ensemble: 'temporal' } });
  try {
    const frame = (seed: number) => {
      const data = new Uint8Array(640 * 480 * 3);
      for (let i = 0; i < data.length; i++) data[i] = (i * 31 + seed * 7) & 255;
      return { data, width: 640, height: 480, captureTimeMs: 0, seq: 0 };
    };
    const obs = (t: number) => ({ timeMs: t, state: [0, 20, -10, -10, 0, 50], images: { front: frame(1), wrist: frame(2) }, task: '' });
    assert.equal(runner.step(obs(0)), undefined); // nothing queued yet: the loop holds
    await new Promise<void>((resolve) => runner.once('timing', () => resolve()));
    const out = runner.step(obs(1));
    assert.ok(out !== undefined, 'a chunk landed');
    assert.equal(out.goal.length, 6);
    for (const v of out.goal) assert.ok(Number.isFinite(v) && Math.abs(v) < 360, String(v));
  } finally {
    await runner.stop();
  }
});
