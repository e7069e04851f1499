"""Train FAST's byte-level BPE on action chunks and write fast_tokenizer.json + fast.json.

FAST (π0-FAST): quantile-normalise each chunk to [-1, 1] (q01/q99), orthonormal DCT-II over time
per dimension, scale by gamma and round half to even, flatten frequency-major (dims interleaved),
map each coefficient q to chr(q - min_token), then train a byte-level BPE over those strings.

The chunks come from the fixture's synthetic task (make_fixture.sample); pass --npy to train on a
saved array of chunks [N, H, D] in robot units instead (e.g. from a recorded dataset).

    python models/train/train_fast_bpe.py --out models/bundles/fixture [--vocab 1024] [--scale 10]
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
from scipy.fft import dct  # type: ignore[import-untyped]
from tokenizers import ByteLevelBPETokenizer

sys.path.insert(0, os.path.dirname(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="models/bundles/fixture")
    ap.add_argument("--npy", default=None)
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--vocab", type=int, default=1024)
    ap.add_argument("--scale", type=float, default=10.0)
    args = ap.parse_args()
    if args.npy:
        chunks = np.load(args.npy)
    else:
        import make_fixture as mf
        rng = np.random.default_rng(1)
        chunks = np.stack([mf.sample(rng)[4] for _ in range(args.n)])
    n, T, D = chunks.shape
    flat = chunks.reshape(-1, D)
    low, high = np.quantile(flat, 0.01, axis=0), np.quantile(flat, 0.99, axis=0)
    norm = (chunks - low) / (high - low + 1e-6) * 2 - 1
    coeffs = np.around(dct(norm, axis=1, norm="ortho") * args.scale).astype(np.int64)  # [N, T(freq), D]
    flat_q = coeffs.reshape(n, -1)  # C order: frequency-major, dims interleaved
    min_token, max_token = int(flat_q.min()), int(flat_q.max())
    texts = ["".join(chr(int(q) - min_token) for q in row) for row in flat_q]
    bpe = ByteLevelBPETokenizer()
    # ByteLevelBPETokenizer starts from the 256 byte symbols, so every character is encodable
    bpe.train_from_iterator(texts, vocab_size=args.vocab, min_frequency=2, show_progress=False, special_tokens=[])
    os.makedirs(args.out, exist_ok=True)
    bpe.save(os.path.join(args.out, "fast_tokenizer.json"))
    lens = [len(bpe.encode(t).ids) for t in texts[:500]]
    cfg = {"scale": args.scale, "minToken": min_token, "vocabSize": bpe.get_vocab_size(), "chunk": T,
           "low": low.tolist(), "high": high.tolist(),
           "meanTokens": float(np.mean(lens)), "naiveTokens": T * D}
    with open(os.path.join(args.out, "fast.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    print(f"FAST: {T}x{D} chunk -> {np.mean(lens):.1f} tokens on average (naive {T * D}); "
          f"vocab {bpe.get_vocab_size()}, min_token {min_token}")


if __name__ == "__main__":
    main()
