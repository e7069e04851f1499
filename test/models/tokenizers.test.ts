import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dctOrtho, idctOrtho, roundHalfEven } from '../../models/tokenizers/dct';
import { FastTokenizer } from '../../models/tokenizers/fast';
import { InstructionTokenizer, loadHfTokenizer } from '../../models/tokenizers/instruction';
import { UniformBinTokenizer } from '../../models/tokenizers/uniformBins';
import { rng } from './fakeLM';

const FIXTURE = 'models/bundles/fixture';

test('uniform bins: token ids are contiguous, round trip within half a bin, clipping outside the bounds', () => {
  const low = [-90, 0];
  const high = [90, 100];
  const tk = new UniformBinTokenizer({ bins: 256, firstTokenId: 64, low, high });
  const r = rng(1);
  for (let n = 0; n < 500; n++) {
    const chunk = Array.from({ length: 8 }, () => [low[0]! + r() * 180, r() * 100]);
    const ids = tk.encode(chunk);
    assert.equal(ids.length, 16);
    assert.ok(ids.every((id) => tk.isActionToken(id)));
    const back = tk.decode(ids);
    back.forEach((row, t) => row.forEach((v, d) => assert.ok(Math.abs(v - chunk[t]![d]!) <= (high[d]! - low[d]!) / (2 * 256) + 1e-9)));
  }
  assert.deepEqual(tk.encode([[-1000, 1000]]), [64, 64 + 255]);
  assert.deepEqual(tk.encode([[-90, 0]]), [64, 64]);
  assert.throws(() => tk.decode([3, 64]));
});

test('DCT-II ortho matches scipy values and inverts; round half to even matches numpy', () => {
  // scipy.fft.dct([1, 2, 3, 4], norm="ortho") = [5, -2.2304425, 0, -0.15851267]
  const X = dctOrtho([1, 2, 3, 4]);
  [5, -2.2304425, 0, -0.15851267].forEach((v, i) => assert.ok(Math.abs(X[i]! - v) < 1e-6, `${X[i]} vs ${v}`));
  const x = idctOrtho(X);
  [1, 2, 3, 4].forEach((v, i) => assert.ok(Math.abs(x[i]! - v) < 1e-9));
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6, -2.5].map((x) => roundHalfEven(x) + 0), [0, 2, 2, 0, -2, 2, 3, -2]);
});

test('FAST: frequency-major flattening, and a round trip through the fixture BPE within 0.5·√T/γ (normalised units)', () => {
  const cfg = JSON.parse(readFileSync(`${FIXTURE}/fast.json`, 'utf8')) as { scale: number; minToken: number; vocabSize: number; chunk: number; low: number[]; high: number[] };
  const bpe = loadHfTokenizer(`${FIXTURE}/fast_tokenizer.json`);
  const fast = new FastTokenizer({ ...cfg, firstTokenId: 1000 }, { encode: (s) => bpe.encode(s), decode: (ids) => bpe.decode(ids, false) });
  const T = cfg.chunk;
  const D = cfg.low.length;
  // a constant chunk: only frequency 0 is non-zero, and it comes first for every dim
  const mid = cfg.low.map((l, d) => (l + cfg.high[d]!) / 2);
  const coeffs = fast.coefficients(Array.from({ length: T }, () => mid));
  assert.ok(coeffs.slice(D).every((c) => c === 0));
  const bound = (0.5 * Math.sqrt(T)) / cfg.scale;
  const r = rng(3);
  let tokens = 0;
  for (let n = 0; n < 200; n++) {
    // smooth trajectories inside the quantile range, like the fixture's
    const a = cfg.low.map((l, d) => l + r() * (cfg.high[d]! - l));
    const b = cfg.low.map((l, d) => l + r() * (cfg.high[d]! - l));
    const chunk = Array.from({ length: T }, (_, t) => a.map((v, d) => v + ((b[d]! - v) * (t + 1)) / T));
    const ids = fast.encode(chunk);
    tokens += ids.length;
    assert.ok(ids.every((id) => fast.isActionToken(id)));
    const back = fast.decode(ids);
    assert.equal(back.length, T);
    back.forEach((row, t) =>
      row.forEach((v, d) => {
        const errNorm = (2 * Math.abs(v - chunk[t]![d]!)) / (cfg.high[d]! - cfg.low[d]!);
        assert.ok(errNorm <= bound + 1e-6, `error ${errNorm} > bound ${bound}`);
      }),
    );
  }
  // compression: FAST needs far fewer tokens than T·D bins
  assert.ok(tokens / 200 < T * D);
});

test('FAST decode is lenient: too few coefficients are zero-padded to a full chunk', () => {
  const fast = new FastTokenizer(
    { scale: 10, minToken: -20, firstTokenId: 0, vocabSize: 10, chunk: 4, low: [0], high: [1] },
    { encode: () => [], decode: () => '' },
  );
  assert.equal(fast.decodeCoefficients([5]).length, 4);
});

test('instruction tokenizer: the fixture tokenizer.json loads through @huggingface/tokenizers', () => {
  const json = JSON.parse(readFileSync(`${FIXTURE}/tokenizer.json`, 'utf8')) as object;
  const tk = new InstructionTokenizer(json);
  const ids = tk.encode('Pick up the RED block');
  assert.equal(ids.length, 5);
  assert.equal(tk.decode(ids), 'pick up the red block');
  assert.equal(tk.tokenToId('<act>'), 6);
  assert.equal(tk.decode([]), '');
  assert.throws(() => loadHfTokenizer('models/bundles/fixture/does-not-exist.json'));
});
