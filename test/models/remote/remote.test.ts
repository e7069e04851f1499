/**
 * Remote policies, pure parts: the msgpack-numpy codec against Python's msgpack (the fake server's
 * own codec, run in a python3 child), the manifest checks with their JSON paths, the server
 * metadata check, and the action mapping that refuses what must not move the arm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NdArray, packMessage, unpackMessage, WireFormatError } from '../../../models/remote/msgpackNumpy';
import { checkRemoteManifest, checkServerMetadata, RemoteManifestSchema, validateRemoteBundle } from '../../../models/remote/manifest';
import { buildRequest, decodeActions, RemoteActionError, resizeImage } from '../../../models/remote/mapping';
import { imageToChw } from '../../../models/policies/preprocess';
import { SERVER_PY } from '../../fakes/openpi-server';

const SO101 = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'];
const DEMO_REMOTE = JSON.parse(readFileSync(new URL('../../../models/bundles/demo-remote/manifest.json', import.meta.url), 'utf8')) as Record<string, unknown>;

/** Runs Python with the fake server's codec imported (`pack`, `unpack`, numpy as np); stdin/stdout bytes. */
function py(code: string, input: Uint8Array = new Uint8Array(0)): Buffer {
  const prelude = `import sys, json\nsys.path.insert(0, ${JSON.stringify(dirname(SERVER_PY))})\nfrom server import pack, unpack\nimport numpy as np\n`;
  return execFileSync('python3', ['-c', prelude + code], { input });
}

test('an observation packed here is read by Python msgpack as numpy arrays (dtype, shape, C order, values)', () => {
  const img = new Uint8Array(2 * 3 * 3).map((_, i) => i * 7);
  const msg = packMessage({
    'observation/image': NdArray.u8([2, 3, 3], img),
    nested: { state: NdArray.f32([4], [1.5, -2.25, 1e-3, 300]), f8: new NdArray('<f8', [2, 2], Float64Array.of(1, 2, 3, Math.PI)) },
    prompt: 'pick up the red block',
    flag: true,
  });
  const out = JSON.parse(
    py(
      `o = unpack(sys.stdin.buffer.read())\n` +
        `im = o["observation/image"]; st = o["nested"]["state"]; f8 = o["nested"]["f8"]\n` +
        `print(json.dumps({"im": [str(im.dtype), list(im.shape), im[1,2].tolist(), im.flags["C_CONTIGUOUS"]], "st": [st.dtype.str, st.tolist()], "f8": [f8.dtype.str, f8[1,1].item(), f8[0,1].item()], "prompt": o["prompt"], "flag": o["flag"], "isarr": isinstance(im, np.ndarray)}))`,
      msg,
    ).toString(),
  );
  assert.deepEqual(out.im, ['uint8', [2, 3, 3], [img[15], img[16], img[17]], true]);
  assert.equal(out.isarr, true);
  assert.equal(out.st[0], '<f4');
  assert.deepEqual(out.st[1], [1.5, -2.25, Math.fround(1e-3), 300]);
  assert.deepEqual(out.f8, ['<f8', Math.PI, 2]);
  assert.equal(out.prompt, 'pick up the red block');
  assert.equal(out.flag, true);
});

test("an array map is byte-identical to Python msgpack's encoding of openpi's binary-keyed map", () => {
  const mine = Buffer.from(packMessage({ a: NdArray.f32([1, 2], [1, -0.5]), b: NdArray.u8([3], Uint8Array.of(0, 127, 255)) }));
  const theirs = py(
    `sys.stdout.buffer.write(__import__("msgpack").packb({"a": {b"__ndarray__": True, b"data": np.array([[1, -0.5]], np.float32).tobytes(), b"dtype": "<f4", b"shape": (1, 2)}, "b": {b"__ndarray__": True, b"data": np.array([0, 127, 255], np.uint8).tobytes(), b"dtype": "|u1", b"shape": (3,)}}))`,
  );
  assert.equal(mine.toString('hex'), theirs.toString('hex'));
  // the keys are msgpack bin 8 (0xc4), not text: openpi tests b"__ndarray__" in obj
  assert.ok(mine.includes(Buffer.from([0xc4, 11, ...Buffer.from('__ndarray__')])));
});

test('a reply packed by Python decodes to NdArrays with the same values', () => {
  const bytes = py(`sys.stdout.buffer.write(pack({"actions": np.arange(12, dtype=np.float32).reshape(3, 4) / 4, "i": np.array([1, -2], np.int64), "server_timing": {"infer_ms": 12.5}, "meta": [1, "x", None]}))`);
  const r = unpackMessage(new Uint8Array(bytes)) as Record<string, unknown>;
  const a = r.actions as NdArray;
  assert.ok(a instanceof NdArray);
  assert.equal(a.dtype, '<f4');
  assert.deepEqual(a.shape, [3, 4]);
  assert.deepEqual(a.toNumbers(), Array.from({ length: 12 }, (_, i) => i / 4));
  assert.deepEqual((r.i as NdArray).toNumbers(), [1, -2]);
  assert.deepEqual(r.server_timing, { infer_ms: 12.5 });
  assert.deepEqual(r.meta, [1, 'x', null]);
});

test('garbage and inconsistent arrays are WireFormatErrors, not crashes', () => {
  assert.throws(() => unpackMessage(Uint8Array.of(0xc1)), WireFormatError);
  assert.throws(() => unpackMessage(Uint8Array.of(0x92, 0x01)), WireFormatError); // truncated
  const bad = py(`sys.stdout.buffer.write(__import__("msgpack").packb({b"__ndarray__": True, b"data": b"\\x00" * 7, b"dtype": "<f4", b"shape": (2,)}))`);
  assert.throws(() => unpackMessage(new Uint8Array(bad)), /needs 8 bytes, got 7/);
  const odd = py(`sys.stdout.buffer.write(__import__("msgpack").packb({b"__ndarray__": True, b"data": b"\\x00" * 4, b"dtype": ">f4", b"shape": (1,)}))`);
  assert.throws(() => unpackMessage(new Uint8Array(odd)), /unsupported ndarray dtype ">f4"/);
});

test('the shipped demo-remote manifest is valid for the SO-101 with front and wrist cameras', () => {
  const r = validateRemoteBundle(fileDir('../../../models/bundles/demo-remote/'), { robotJoints: SO101, cameras: ['front', 'wrist'] });
  assert.deepEqual(r.problems, []);
  assert.equal(r.manifest?.action.horizon, 8);
});

test('every manifest problem is reported with its JSON path', () => {
  const bad = structuredClone(DEMO_REMOTE) as any;
  bad.observation.images[1].camera = 'top';
  bad.observation.images[1].key = 'observation/image';
  bad.observation.state[0].joints[2] = 'elbow';
  bad.action.delta = [true, false];
  bad.units.gripper.closed = 0;
  const r = checkRemoteManifest(bad, { robotJoints: SO101, cameras: ['front', 'wrist'] });
  const paths = r.problems.map((p) => p.path).sort();
  assert.deepEqual(paths, ['action.delta', 'observation.images[1].camera', 'observation.images[1].key', 'observation.state[0].joints[2]', 'units.gripper.closed']);
  const schema = checkRemoteManifest({ ...bad, server: { ...bad.server, url: 'http://x', protocol: 'grpc' } });
  assert.deepEqual(schema.problems.map((p) => p.path).sort(), ['server.protocol', 'server.url']);
  const withKey = { ...DEMO_REMOTE, server: { ...(DEMO_REMOTE.server as object), apiKeyEnv: 'REINS_TEST_KEY_UNSET' } };
  assert.deepEqual(checkRemoteManifest(withKey).problems, []);
});

test('an unset API-key variable is a problem at server.apiKeyEnv', () => {
  const dir = mkdtempSync(join(tmpdir(), 'reins-remote-'));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...DEMO_REMOTE, server: { ...(DEMO_REMOTE.server as object), apiKeyEnv: 'OPENPI_KEY' } }));
  const unset = validateRemoteBundle(dir, {}, {});
  assert.deepEqual(unset.problems.map((p) => p.path), ['server.apiKeyEnv']);
  assert.match(unset.problems[0]!.message, /OPENPI_KEY is not set/);
  assert.equal(validateRemoteBundle(dir, {}, { OPENPI_KEY: 'k' }).ok, true);
});

test("the server's metadata is checked against the manifest", () => {
  const m = RemoteManifestSchema.parse(DEMO_REMOTE);
  assert.deepEqual(checkServerMetadata(m, { policy: 'reins-demo', action_dim: 6, action_horizon: 8 }), []);
  const p = checkServerMetadata(m, { policy: 'pi05_droid', action_dim: 8, action_horizon: 4 });
  assert.deepEqual(p.map((x) => x.path), ['server.metadata.policy', 'action.joints', 'action.horizon']);
  assert.match(p[0]!.message, /expected "reins-demo", the server says "pi05_droid"/);
  assert.deepEqual(checkServerMetadata(m, {}).map((x) => x.path), ['server.metadata.policy']);
  assert.match(checkServerMetadata(m, [1, 2])[0]!.message, /not a map/);
});

const M = RemoteManifestSchema.parse(DEMO_REMOTE);
const observed = { shoulder_pan: 10, shoulder_lift: 20, elbow_flex: -30, wrist_flex: 5, wrist_roll: 0, gripper: 40 };
const LIMITS = Object.fromEntries(SO101.map((j) => [j, j === 'gripper' ? { min: 0, max: 100 } : { min: -110, max: 110 }]));
const reply = (rows: number[][]): Record<string, NdArray> => ({ actions: NdArray.f32([rows.length, rows[0]!.length], rows.flat()) });

test('actions: radians deltas added to the observed state, gripper 0..1 → 0..100, horizon rows', () => {
  const rows = Array.from({ length: 10 }, (_, t) => [t * 0.01, 0, 0, 0, 0, 0.5]);
  const chunk = decodeActions(M, reply(rows), observed, LIMITS);
  assert.equal(chunk.length, 8);
  assert.ok(Math.abs(chunk[3]![0]! - (10 + (0.03 * 180) / Math.PI)) < 1e-4);
  assert.ok(Math.abs(chunk[3]![1]! - 20) < 1e-9);
  assert.ok(Math.abs(chunk[3]![5]! - 50) < 1e-5);
});

test('the observation request: radians, gripper 0..1, HWC uint8 sampled as the local preprocessing samples', () => {
  const frame = { width: 64, height: 48, data: new Uint8Array(64 * 48 * 3).map((_, i) => (i * 13) % 251) };
  const req = buildRequest(M, { state: observed, images: { front: frame, wrist: frame }, task: 'push the blue block' });
  const st = req['observation/state'] as NdArray;
  assert.ok(Math.abs(st.toNumbers()[0]! - (10 * Math.PI) / 180) < 1e-6);
  assert.ok(Math.abs(st.toNumbers()[5]! - 0.4) < 1e-6);
  const im = req['observation/image'] as NdArray;
  assert.deepEqual(im.shape, [32, 32, 3]);
  // same pixels as the local bundle's preprocessing (centre crop, nearest) before its normalisation
  const chw = imageToChw(frame, { key: 'front', input: 'x', width: 32, height: 32, mean: [0, 0, 0], std: [1, 1, 1], resize: 'center_crop' });
  const hwc = resizeImage(frame, M.observation.images[0]!);
  for (let y = 0; y < 32; y += 7) for (let x = 0; x < 32; x += 5) for (let c = 0; c < 3; c++) assert.ok(Math.abs(hwc[(y * 32 + x) * 3 + c]! / 255 - chw[c * 1024 + y * 32 + x]!) < 1e-6);
  assert.equal(req.prompt, 'push the blue block');
});

test('actions that must not move the arm are refused with the reason: NaN, wrong columns, too few rows, far outside the range', () => {
  const ok = Array.from({ length: 8 }, () => [0, 0, 0, 0, 0, 0.5]);
  const nan = ok.map((r, t) => (t === 2 ? [r[0]!, NaN, ...r.slice(2)] : r));
  assert.throws(() => decodeActions(M, reply(nan), observed, LIMITS), (e: unknown) => e instanceof RemoteActionError && /\[2\]\[1\] \(shoulder_lift\) is NaN/.test(e.message));
  assert.throws(() => decodeActions(M, reply(ok.map((r) => [...r, 0])), observed, LIMITS), /7 columns; the manifest names 6 joints/);
  assert.throws(() => decodeActions(M, reply(ok.slice(0, 5)), observed, LIMITS), /5 rows; the manifest executes 8/);
  assert.throws(() => decodeActions(M, reply(ok.map(() => [1e6, 0, 0, 0, 0, 0.5])), observed, LIMITS), /far outside its range/);
  assert.throws(() => decodeActions(M, { actions: NdArray.f32([48], new Array(48).fill(0)) }, observed, LIMITS), /shape \[48\]/);
  assert.throws(() => decodeActions(M, { other: 1 }, observed, LIMITS), /no "actions" array \(keys: other\)/);
  assert.throws(() => decodeActions(M, 'oops', observed, LIMITS), /not a map/);
});

function fileDir(rel: string): string {
  return new URL(rel, import.meta.url).pathname;
}
