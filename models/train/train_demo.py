"""Train the demo VLA on a LeRobot dataset recorded from the simulator and export a Reins bundle.

Subcommands (exact recipe and figures: README.md):

  prep   reads LeRobot v3 datasets (data/*.parquet + annotations/*.parquet with pyarrow, the
         front and wrist mp4s with PyAV), tokenises every kept frame (instruction, ECoT
         reasoning, H x D uniform-bin action tokens) and writes one .npz (uint8 frames, int16
         tokens; `.npz.xz` through xz) that travels to the GPU machine (PyTorch, no PyAV).
  train  trains encoder + target decoder + draft decoder on that cache, saves a checkpoint and
         exports the bundle (manifest.json, encoder.onnx, target.onnx, draft.onnx, tokenizer.json).
  export re-exports a bundle from a checkpoint (CPU).
  eval   teacher-forced accuracy of a checkpoint on training vs held-out frames (CPU).

  python models/train/train_demo.py prep  --data /work/data/v3_a /work/data/v3_b --out .data/demo.npz.xz
  python models/train/train_demo.py train --cache .data/demo.npz.xz --device cuda --minutes 10 --batch 1024 --lr 2e-3
  python models/train/train_demo.py train --cache .data/demo.npz.xz --out /tmp/demo-smoke --smoke   # CPU smoke test

Model: a CoordConv CNN per camera (front 32x32 -> 8x8 grid, wrist -> 4x4 grid of 128-d tokens)
plus a state token form an 81-token observation memory; causal decoders with a KV cache over
`<s> instruction <reason> TASK: .. PLAN: .. VISIBLE OBJECTS: .. SUBTASK: .. MOVE: .. GRIPPER: ..
</reason> <act> a_1 .. a_{H*D} </act> </s>` cross-attend to that memory in every layer. The draft
(1 layer) is trained with CE plus a KL term towards the target. The exported encoder also computes
every decoder layer's cross-attention keys/values of the memory, once per step.
"""
from __future__ import annotations

import argparse
import glob
import json
import math
import os
import re
import time

import numpy as np

# ---------------------------------------------------------------- vocabulary / tokenisation
SPECIALS = ["<pad>", "<s>", "</s>", "<unk>", "<reason>", "</reason>", "<act>", "</act>"]
FIELDS = ["TASK:", "PLAN:", "VISIBLE OBJECTS:", "SUBTASK:", "MOVE:", "GRIPPER:"]
FIELD_KEYS = ["task", "plan", "visible_objects", "subtask", "move", "gripper"]
JOINTS = ["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper"]
COLORS = ["red", "green", "blue", "yellow", "purple", "orange"]
H = 4  # action chunk (control ticks); `prep --chunk` overrides, the value travels in the .npz
D = len(JOINTS)
BINS = 128  # uniform bins per joint; `prep --bins` overrides
ACTION_BASE = 192  # words live below, action bins at ACTION_BASE + bin
MAX_POS = 192
MAX_INSTR = 24
PRE = re.compile(r"\w+|[^\w\s]+")  # HF tokenizers' `Whitespace` pre-tokenizer


def pretok(s: str) -> list[str]:
    return PRE.findall(s.lower())


def task_objects(task: str) -> list[str]:
    """Objects the instruction names ('red block', 'bowl', ...), in order of mention."""
    out = []
    for m in re.finditer(r"(\w+) block|bowl", task):
        out.append(m.group(0))
    return out


def filter_visible(visible: str, task: str) -> str:
    """Keeps the boxes of the objects the task names, written compactly: "red block [3, 4, 6, 8], bowl
    [...]" -> "red block 3 4 6 8, bowl ..." (12 tokens fewer for two objects; same grounding)."""
    keep = set(task_objects(task))
    out = []
    for m in re.finditer(r"([a-z ]+)\[([^\]]*)\]", visible or ""):
        name = m.group(1).strip(" ,")
        if name in keep:
            out.append(f"{name} {' '.join(x.strip() for x in m.group(2).split(','))}")
    return ", ".join(out)


# ---------------------------------------------------------------- prep (here: needs pyarrow + PyAV)
def read_video(path: str) -> np.ndarray:
    import av

    with av.open(path) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def read_episode(job):
    import pyarrow.parquet as pq

    root, stem = job
    data = pq.read_table(os.path.join(root, "data", stem + ".parquet"), columns=["observation.state", "action"]).to_pydict()
    ann = pq.read_table(os.path.join(root, "annotations", stem + ".parquet")).to_pydict()
    st = np.asarray(data["observation.state"], np.float32)
    ac = np.asarray(data["action"], np.float32)
    fr = read_video(os.path.join(root, "videos/observation.images.front", stem + ".mp4"))
    wr = read_video(os.path.join(root, "videos/observation.images.wrist", stem + ".mp4"))
    n = min(len(st), len(fr), len(wr))
    return st[:n], ac[:n], fr[:n], wr[:n], {k: ann[k][:n] for k in FIELD_KEYS}


def prep(args):
    from multiprocessing import Pool

    global H, BINS
    H, BINS = args.chunk, args.bins
    # relative actions: body joints as offsets from the frame's observed state (the gripper stays
    # absolute); the runtime adds the observed state back (manifest `action.relative`)
    relmask = np.array([args.relative and j != "gripper" for j in JOINTS])
    fronts, wrists, states, instr_ids, reason_ids, action_bins, ep_ids, fams = [], [], [], [], [], [], [], []
    all_actions = []
    episodes = []  # (root, file stem)
    for root in args.data:
        for p in sorted(glob.glob(os.path.join(root, "data/chunk-*/file-*.parquet"))):
            rel = os.path.relpath(p, os.path.join(root, "data"))
            episodes.append((root, rel[: -len(".parquet")]))
    print(f"{len(episodes)} episodes")
    words = set()
    raw = []
    with Pool(args.workers) as pool:
        for ei, r in enumerate(pool.imap(read_episode, episodes, chunksize=8)):
            raw.append(r)
            all_actions.append(chunk_targets(r[0], r[1], relmask).reshape(-1, D))
            for k in FIELD_KEYS:
                for s in set(r[4][k]):
                    if s:
                        words.update(pretok(filter_visible(s, r[4]["task"][0]) if k == "visible_objects" else s))
            if ei % 200 == 0:
                print(f"read {ei}/{len(episodes)}", flush=True)
    for c in COLORS:
        words.add(c)
    words.update(str(i) for i in range(64))
    words.update("pick up the block and put it in bowl stack on push to left right".split())
    vocab = [*SPECIALS, *FIELDS, *sorted(words)]
    assert len(vocab) <= ACTION_BASE, f"{len(vocab)} words do not fit below {ACTION_BASE}"
    tok = {w: i for i, w in enumerate(vocab)}
    acts = np.concatenate(all_actions)
    low, high = np.quantile(acts, 0.01, axis=0), np.quantile(acts, 0.99, axis=0)
    high = np.maximum(high, low + 1e-3)
    stride = args.stride
    for ei, (st, ac, fr, wr, ann) in enumerate(raw):
        task = ann["task"][0]
        fam = 0 if "bowl" in task else (1 if task.startswith("push") else 2)
        instr, reasons, bins = tokenise_episode(st, ac, ann, tok, low, high, relmask)
        for t in range(0, len(st), stride):
            fronts.append(fr[t])
            wrists.append(wr[t])
            states.append(st[t])
            instr_ids.append(instr)
            reason_ids.append(reasons[t])
            action_bins.append(bins[t])
            ep_ids.append(ei)
            fams.append(fam)
    N = len(states)
    I = max(len(x) for x in instr_ids)
    R = max(len(x) for x in reason_ids)
    ins, rea = pad_ids(instr_ids, I), pad_ids(reason_ids, R)
    st_all = np.concatenate([r[0] for r in raw])
    # full 8-bit frames, losslessly: an uncompressed .npz (frames in episode order) then `xz`, which
    # finds the redundancy between consecutive frames that zlib's 32 KB window misses (≈ 125 bytes a
    # frame pair at 32x32): the whole dataset fits what travels to the GPU machine
    tmp = args.out[: -len(".xz")] if args.out.endswith(".xz") else args.out
    np.savez(
        tmp,
        front=np.stack(fronts), wrist=np.stack(wrists), img_bits=np.asarray(8), state=np.stack(states).astype(np.float32),
        instr=ins, reason=rea, actions=np.stack(action_bins).astype(np.uint8), episode=np.asarray(ep_ids, np.int32),
        family=np.asarray(fams, np.int8), low=low.astype(np.float64), high=high.astype(np.float64),
        state_mean=st_all.mean(0).astype(np.float64), state_std=np.maximum(st_all.std(0), 1.0).astype(np.float64),
        vocab=np.asarray(json.dumps(vocab)), chunk=np.asarray(H), bins=np.asarray(BINS), relative=relmask,
    )
    if args.out.endswith(".xz"):
        import subprocess

        subprocess.run(["xz", "-f", f"-T{args.workers}", "-3", tmp], check=True)
    print(f"wrote {args.out}: {N} frames (stride {stride}) from {len(raw)} episodes, vocab {len(vocab)}, "
          f"max reasoning {R} tokens, instr {I}, chunk {H}, bins {BINS}, relative {relmask.tolist()}, {os.path.getsize(args.out) / 1e6:.1f} MB")


def chunk_targets(states: np.ndarray, actions: np.ndarray, rel: np.ndarray) -> np.ndarray:
    """[n, H, D]: frame t's chunk (actions t..t+H-1, the last repeated past the end), with the
    `rel` joints as offsets from the state observed at t."""
    n = len(actions)
    idx = np.minimum(np.arange(n)[:, None] + np.arange(H)[None, :], n - 1)
    out = actions[idx].astype(np.float64)
    out[:, :, rel] -= states[:, None, rel]
    return out


def bin_actions(actions: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    x = np.clip(2 * (actions - low) / (high - low) - 1, -1, 1)
    return np.clip(np.floor((x + 1) / 2 * BINS), 0, BINS - 1).astype(np.int64)


# ---------------------------------------------------------------- models
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from bundle_export import check_kv_decoder, export_kv_decoder, write_word_level_tokenizer  # noqa: E402

E = 128  # observation memory width
IMG = 32


class CamEncoder(nn.Module):
    """CoordConv CNN: two extra input channels hold the pixel's x and y (-1..1), so a feature can say
    where in the image a colour is, not only that it is there (the boxes of VISIBLE OBJECTS are
    pixel coordinates: without it the model memorised the training layouts' boxes). `grid` 8 keeps
    an 8x8 grid of tokens (one per 4x4 pixels, about a block's size in the front view), 4 a 4x4 one."""

    def __init__(self, grid: int = 4):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(5, 32, 3, padding=1), nn.GELU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.GELU(),   # 16
            nn.Conv2d(64, 96, 3, stride=2, padding=1), nn.GELU(),   # 8
            nn.Conv2d(96, E, 3, stride=2 if grid == 4 else 1, padding=1),
        )
        ys, xs = torch.meshgrid(torch.linspace(-1, 1, IMG), torch.linspace(-1, 1, IMG), indexing="ij")
        self.register_buffer("coords", torch.stack([xs, ys])[None], persistent=False)

    def forward(self, x):
        x = torch.cat([x, self.coords.expand(x.shape[0], -1, -1, -1)], dim=1)
        return self.net(x).flatten(2).transpose(1, 2)  # [B, grid*grid, E]


FRONT_GRID, WRIST_GRID = 8, 4
MEM = FRONT_GRID ** 2 + WRIST_GRID ** 2 + 1  # observation memory tokens


class Encoder(nn.Module):
    """image_front, image_wrist [B,3,32,32] normalised + state [B,6] normalised -> memory [B,MEM,E]."""

    def __init__(self):
        super().__init__()
        self.front, self.wrist = CamEncoder(FRONT_GRID), CamEncoder(WRIST_GRID)
        self.pos = nn.Parameter(torch.zeros(1, MEM, E))
        self.state = nn.Sequential(nn.Linear(D, E), nn.GELU(), nn.Linear(E, E))
        self.ln = nn.LayerNorm(E)

    def forward(self, image_front, image_wrist, state):
        m = torch.cat([self.front(image_front), self.wrist(image_wrist), self.state(state)[:, None, :]], dim=1)
        return self.ln(m + self.pos)


class Block(nn.Module):
    def __init__(self, d: int, heads: int, p_drop: float = 0.1):
        super().__init__()
        self.h, self.hd = heads, d // heads
        self.drop = nn.Dropout(p_drop)
        self.ln1, self.ln2, self.ln3 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.xq = nn.Linear(d, d)
        self.xkv = nn.Linear(E, 2 * d)
        self.xproj = nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def heads(self, x):
        b, t, _ = x.shape
        return x.view(b, t, self.h, self.hd).transpose(1, 2)

    def cross_kv(self, mem):
        mk, mv = self.xkv(mem).split(self.h * self.hd, dim=2)
        return self.heads(mk), self.heads(mv)

    def forward(self, x, mem, past_k, past_v, mask, cross=None):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q, k, v = self.heads(q), self.heads(k), self.heads(v)
        k = torch.cat([past_k, k], dim=2)
        v = torch.cat([past_v, v], dim=2)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(self.hd) + mask
        y = (torch.softmax(att, dim=-1) @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.drop(self.proj(y))
        # cross-attention to the observation memory
        xq = self.heads(self.xq(self.ln2(x)))
        mk, mv = self.cross_kv(mem) if cross is None else cross
        a = torch.softmax((xq @ mk.transpose(-2, -1)) / math.sqrt(self.hd), dim=-1) @ mv
        x = x + self.drop(self.xproj(a.transpose(1, 2).reshape(b, t, d)))
        x = x + self.drop(self.mlp(self.ln3(x)))
        return x, k, v


class Decoder(nn.Module):
    def __init__(self, vocab: int, d: int, layers: int, heads: int, max_pos: int = MAX_POS):
        super().__init__()
        self.V, self.d, self.n, self.heads = vocab, d, layers, heads
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(max_pos, d)
        self.blocks = nn.ModuleList([Block(d, heads) for _ in range(layers)])
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        self.grammar: tuple[int, int] | None = None  # (<act>, </act>) ids: set for export

    def forward(self, input_ids, position_ids, obs_embedding, *past, cross=None):
        t = input_ids.shape[1]
        p = past[0].shape[2]
        x = self.tok(input_ids) + self.pos(position_ids)
        i = torch.arange(t, device=x.device)[:, None]
        j = torch.arange(p + t, device=x.device)[None, :]
        mask = torch.where(j > i + p, torch.full((), float("-inf"), device=x.device), torch.zeros((), device=x.device))
        presents = []
        for li, blk in enumerate(self.blocks):
            x, k, v = blk(x, obs_embedding, past[2 * li], past[2 * li + 1], mask,
                          None if cross is None else (cross[2 * li], cross[2 * li + 1]))
            presents += [k, v]
        logits = self.head(self.ln(x))
        if self.grammar is not None:
            # exported graphs: after <act> or an action token only action tokens (or </act>) may follow
            act, act_end = self.grammar
            in_actions = (input_ids >= ACTION_BASE) | (input_ids == act)
            vocab = torch.arange(self.V, device=x.device)
            banned = (vocab < ACTION_BASE) & (vocab != act_end)
            logits = torch.where(in_actions[..., None] & banned, torch.full((), -1e4, device=x.device), logits)
        return (logits, *presents)

    def cross_memory(self, mem):
        """[2*layers, B, heads, MEM, head_dim]: every layer's cross-attention keys and values."""
        return torch.stack([t for blk in self.blocks for t in blk.cross_kv(mem)])

    def empty_past(self, b: int, device="cpu"):
        return [torch.zeros(b, self.heads, 0, self.d // self.heads, device=device) for _ in range(2 * self.n)]


# ---------------------------------------------------------------- training
def tokenise_episode(st, ac, ann, tok, low, high, relmask):
    """One episode's frames -> (instr ids, reasoning ids per frame, action bins [n, H*D]); the same
    layout prep writes. A word outside the vocabulary is an error (the cache fixes the vocabulary)."""
    def enc(s):
        out = []
        for w in pretok(s or ""):
            if w not in tok:
                raise ValueError(f"word {w!r} is not in the cache's vocabulary: re-run prep on data that has it")
            out.append(tok[w])
        return out
    task = ann["task"][0]
    memo = {}
    reasons = []
    for t in range(len(st)):
        key = tuple(ann[k][t] for k in FIELD_KEYS)
        r = memo.get(key)
        if r is None:
            r = [tok["<reason>"]]
            for f, k, v in zip(FIELDS, FIELD_KEYS, key):
                r += [tok[f], *enc(filter_visible(v, task) if k == "visible_objects" else v)]
            r.append(tok["</reason>"])
            memo[key] = r
        reasons.append(r)
    bins = bin_actions(chunk_targets(st, ac, relmask), low, high).reshape(len(st), -1)
    return enc(task)[:MAX_INSTR], reasons, bins


def _read_extra(job):
    """A gen_sim.ts shard -> arrays tokenised like the cache (runs in a worker process)."""
    prefix, tok, low, high, relmask, chunk, size = job
    global H
    H = chunk
    eps = [json.loads(line) for line in open(prefix + ".jsonl")]
    frames = np.fromfile(prefix + ".frames", np.uint8).reshape(-1, 2, size, size, 3)
    n = sum(e["frames"] for e in eps)
    assert len(frames) == n, f"{prefix}: {len(frames)} frame pairs for {n} annotated frames"
    ins, rea, act, st_all, ep_of, fam = [], [], [], [], [], []
    for i, e in enumerate(eps):
        st, ac = np.asarray(e["state"], np.float32), np.asarray(e["action"], np.float32)
        instr, reasons, bins = tokenise_episode(st, ac, e["ann"], tok, low, high, relmask)
        ins += [instr] * len(st)
        rea += reasons
        act.append(bins)
        st_all.append(st)
        ep_of += [i] * len(st)
        fam += [{"pick_place": 0, "push": 1, "stack": 2}[e["family"]]] * len(st)
    return (frames[:, 0], frames[:, 1], np.concatenate(st_all), ins, rea, np.concatenate(act).astype(np.uint8),
            np.asarray(ep_of, np.int64), np.asarray(fam, np.int8), len(eps))


# Flat colours of the simulator's renderer (drivers/sim/render.ts), 0..1; a face is drawn at
# colour * (0.5 + 0.5 * max(0, -n.light)), i.e. scaled by 0.5..1.
BLOCK_RGB = {"red": (0.86, 0.14, 0.12), "green": (0.16, 0.66, 0.22), "blue": (0.14, 0.3, 0.88),
             "yellow": (0.96, 0.84, 0.12), "purple": (0.56, 0.22, 0.72), "orange": (0.98, 0.52, 0.1)}
SCENE_RGB = [(0.74, 0.62, 0.47), (0.68, 0.56, 0.42), (0.3, 0.31, 0.33), (0.62, 0.66, 0.7), (0.9, 0.9, 0.92),
             (0.93, 0.93, 0.9), (0.14, 0.14, 0.15), (0.74 * 0.62, 0.62 * 0.62, 0.47 * 0.64)]  # table, grid, floor, sky, bowl, arm, motor, shadow


class ColourPermutation:
    """Colour-permutation augmentation (the policy picked blocks of the wrong colour): per sample, a
    random permutation of the six block colours applied to the images (a pixel is a block's when
    it is, up to shading, nearest to one of the six flat block colours rather than to a scene
    colour; it is redrawn in the permuted colour at the same shading) and to the colour words of
    instruction and reasoning alike. Positions, boxes and actions are unchanged."""

    def __init__(self, tok: dict, device):
        self.cols = torch.tensor([BLOCK_RGB[c] for c in COLORS], device=device) * 255  # [6,3]
        self.pal = torch.cat([self.cols, torch.tensor(SCENE_RGB, device=device) * 255])  # [14,3]
        self.ids = torch.tensor([tok[c] for c in COLORS], device=device)

    def perms(self, b: int, p: float, dev) -> torch.Tensor:
        perm = torch.argsort(torch.rand(b, len(COLORS), device=dev), dim=1)
        keep = torch.rand(b, device=dev) >= p
        return torch.where(keep[:, None], torch.arange(len(COLORS), device=dev)[None, :], perm)

    def images(self, x: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
        """x: uint8 [B,3,H,W] -> recoloured uint8."""
        b, _, h, w = x.shape
        px = x.float().permute(0, 2, 3, 1).reshape(b, h * w, 1, 3)  # [B,P,1,3]
        pal = self.pal[None, None]  # [1,1,C,3]
        k = ((px * pal).sum(-1) / (pal * pal).sum(-1)).clamp(0.45, 1.05)  # shading per candidate
        err = (px - k[..., None] * pal).norm(dim=-1)  # [B,P,C]
        best = err.argmin(-1)
        is_block = (best < len(COLORS)) & (err.gather(-1, best[..., None])[..., 0] < 24)
        cls = best.clamp(max=len(COLORS) - 1)
        new_c = self.cols[perm.gather(1, cls)]  # [B,P,3]
        shade = k.gather(-1, cls[..., None])  # [B,P,1]
        out = torch.where(is_block[..., None], (shade * new_c).round().clamp(0, 255), px[:, :, 0])
        return out.reshape(b, h, w, 3).permute(0, 3, 1, 2).to(torch.uint8)

    def tokens(self, ids: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
        out = ids
        for i in range(len(COLORS)):
            out = torch.where(ids == self.ids[i], self.ids[perm[:, i]][:, None], out)
        return out


def pad_ids(rows, width):
    out = np.zeros((len(rows), width), np.int16)
    for i, x in enumerate(rows):
        out[i, : len(x)] = x
    return out


class Data:
    def __init__(self, path: str, device, holdout_frac=0.03, skip_noise_waits: bool = False, extra=(), workers: int = 8):
        global H, BINS
        if path.endswith(".xz"):
            import io
            import lzma

            with lzma.open(path) as f:
                z = np.load(io.BytesIO(f.read()))
        else:
            z = np.load(path)
        if "chunk" in z:
            H, BINS = int(z["chunk"]), int(z["bins"])
        self.vocab = json.loads(str(z["vocab"]))
        self.tok = {w: i for i, w in enumerate(self.vocab)}
        self.low, self.high = z["low"], z["high"]
        self.state_mean, self.state_std = z["state_mean"], z["state_std"]
        self.relative = z["relative"].astype(bool) if "relative" in z else np.zeros(D, bool)
        z = {k: z[k] for k in z.files}
        ep = z["episode"].astype(np.int64)
        self.episodes = int(len(np.unique(ep)))
        # hold out the last recorded episodes (by index) for a teacher-forced check
        cut = int(ep.max() * (1 - holdout_frac))
        self.extra_episodes = 0
        if extra:
            # generated episodes (gen_sim.ts shards) join the training split only
            from multiprocessing import Pool

            jobs = [(p, self.tok, self.low, self.high, self.relative, H, z["front"].shape[1]) for p in extra]
            with Pool(min(workers, len(jobs))) as pool:
                parts = pool.map(_read_extra, jobs)
            W = max([z["reason"].shape[1]] + [max(len(r) for r in q[4]) for q in parts])
            I = max([z["instr"].shape[1]] + [max(len(r) for r in q[3]) for q in parts])
            widen = lambda a, w: np.pad(a, ((0, 0), (0, w - a.shape[1])))
            nxt = int(ep.max()) + 1
            eps = [ep]
            for q in parts:
                eps.append(q[6] + nxt)
                nxt += q[8]
                self.extra_episodes += q[8]
            z["front"] = np.concatenate([z["front"]] + [q[0] for q in parts])
            z["wrist"] = np.concatenate([z["wrist"]] + [q[1] for q in parts])
            z["state"] = np.concatenate([z["state"]] + [q[2] for q in parts])
            z["instr"] = np.concatenate([widen(z["instr"], I)] + [pad_ids(q[3], I) for q in parts])
            z["reason"] = np.concatenate([widen(z["reason"], W)] + [pad_ids(q[4], W) for q in parts])
            z["actions"] = np.concatenate([z["actions"]] + [q[5] for q in parts])
            ep = np.concatenate(eps)
            self.episodes += self.extra_episodes
            print(f"extra: {self.extra_episodes} generated episodes, {sum(len(q[2]) for q in parts)} frames from {len(extra)} shards")
        self.train_idx = np.nonzero((ep < cut) | (ep > z["episode"].max()))[0]
        self.val_idx = np.nonzero((ep >= cut) & (ep <= z["episode"].max()))[0]
        if skip_noise_waits:
            # The recorder's --action-noise bursts (ticks 0-9 of every 30) delay the expert's
            # "settled at the waypoint" check, so in those frames the expert holds its goal until
            # the burst is over: when it grasps depends on a clock the policy cannot see (72 % of
            # grasps start at tick 12 of 30). Drop frames of a burst (and the 2 ticks after) whose
            # chunk is a hold; frames where the expert moves keep the DART correction.
            # Needs a stride-1 cache: frames are consecutive within an episode.
            first = np.zeros(ep.max() + 1, np.int64)
            u, idx = np.unique(ep, return_index=True)
            first[u] = idx
            tick = np.arange(len(ep)) - first[ep]
            a = z["actions"].reshape(len(ep), -1, D)[:, :, :5]
            hold = (a == a[:, :1]).all(axis=(1, 2))
            drop = (tick % 30 < 12) & hold
            before = len(self.train_idx)
            self.train_idx = self.train_idx[~drop[self.train_idx]]
            print(f"skip-noise-waits: dropped {before - len(self.train_idx)} of {before} training frames (held goal during a noise burst)")
        t = lambda a, dt=None: torch.as_tensor(a if dt is None else a.astype(dt)).to(device)
        self.front = t(z["front"]).permute(0, 3, 1, 2).contiguous()  # uint8 [N,3,32,32]
        self.wrist = t(z["wrist"]).permute(0, 3, 1, 2).contiguous()
        self.state = t((z["state"] - self.state_mean) / self.state_std, np.float32)
        self.instr = t(z["instr"], np.int64)
        self.reason = t(z["reason"], np.int64)
        self.actions = t(z["actions"], np.int64) + ACTION_BASE
        self.device = device
        self.img_scale = float(2 ** (8 - int(z["img_bits"]))) if "img_bits" in z else 1.0
        self.state_noise = torch.as_tensor(1.0 / self.state_std, dtype=torch.float32, device=device)  # 1 deg
        self.colour_perm = ColourPermutation(self.tok, device)
        print(f"data: {len(ep)} frames, train {len(self.train_idx)}, val {len(self.val_idx)}, vocab {len(self.vocab)}")

    def batch(self, idx: torch.Tensor, dropout: float, noise: bool, colour_perm: float = 0.0):
        dev = self.device
        b = len(idx)
        def img(q):  # dequantise with dither (training) or at the bin centre (evaluation)
            x = q.float()
            x = x + (torch.rand_like(x) if noise else 0.5) if self.img_scale > 1 else x  # older 5-bit caches
            return (x * self.img_scale / 255 - 0.5) / 0.25
        fq, wq = self.front[idx], self.wrist[idx]
        instr, reason, acts = self.instr[idx], self.reason[idx], self.actions[idx]
        if noise and colour_perm > 0:
            cp = self.colour_perm
            perm = cp.perms(b, colour_perm, dev)
            fq, wq = cp.images(fq, perm), cp.images(wq, perm)
            instr, reason = cp.tokens(instr, perm), cp.tokens(reason, perm)
        front, wrist = img(fq), img(wq)
        state = self.state[idx]
        # state noise (1 deg) against copying the state into absolute actions; relative actions are
        # offsets from this very state, so there it would only blur the labels
        if noise and not self.relative.any():
            state = state + torch.randn_like(state) * self.state_noise
        il = (instr != 0).sum(1)
        rl = (reason != 0).sum(1)
        drop = torch.rand(b, device=dev) < dropout
        rl = torch.where(drop, torch.zeros_like(rl), rl)
        # answer = reasoning (maybe dropped) + <act> actions </act> </s>
        tail = torch.cat([torch.full((b, 1), self.tok["<act>"], device=dev), acts,
                          torch.full((b, 1), self.tok["</act>"], device=dev), torch.full((b, 1), self.tok["</s>"], device=dev)], 1)
        plen = 1 + il
        L = int((plen + rl).max().item()) + tail.shape[1]
        ar = torch.arange(L, device=dev)[None, :]
        ids = torch.zeros(b, L, dtype=torch.long, device=dev)
        ids[:, 0] = self.tok["<s>"]
        # instruction at 1..il
        ii = (ar[:, : instr.shape[1]] + 1).expand(b, -1)  # scatter_ does not broadcast the index
        ids.scatter_(1, ii, torch.where(ar[:, : instr.shape[1]] < il[:, None], instr, 0))
        # reasoning at plen..plen+rl
        ri = (plen[:, None] + ar[:, : reason.shape[1]]).clamp(max=L - 1)
        rv = torch.where(ar[:, : reason.shape[1]] < rl[:, None], reason, -1)
        # write reasoning where valid (scatter of -1 is then masked out)
        tmp = torch.full((b, L), -1, dtype=torch.long, device=dev)
        tmp.scatter_(1, ri, rv)
        ids = torch.where(tmp >= 0, tmp, ids)
        ti = (plen + rl)[:, None] + torch.arange(tail.shape[1], device=dev)[None, :]
        ids.scatter_(1, ti, tail)
        end = (plen + rl)[:, None] + tail.shape[1]
        # the instruction's scatter wrote zeros past il; everything after `end` is padding
        ids = torch.where(ar < end, ids, 0)
        # targets: predict ids[k+1] at position k for answer tokens (k+1 >= plen)
        tgt = torch.full((b, L), -100, dtype=torch.long, device=dev)
        nxt = torch.cat([ids[:, 1:], torch.zeros(b, 1, dtype=torch.long, device=dev)], 1)
        valid = (ar + 1 >= plen[:, None]) & (ar + 1 < end)
        tgt = torch.where(valid, nxt, tgt)
        return front, wrist, state, ids, tgt


def train(args):
    torch.manual_seed(args.seed)
    dev = torch.device(args.device)
    if dev.type == "cpu":
        torch.set_num_threads(max(1, os.cpu_count() or 1))
    data = Data(args.cache, dev, skip_noise_waits=args.skip_noise_waits, extra=args.extra, workers=args.workers)
    args.extra_episodes = data.extra_episodes
    V = ACTION_BASE + BINS
    enc, target, draft = build(args, V)
    if args.init:
        ck = torch.load(args.init, map_location="cpu")
        for m, k in ((enc, "enc"), (target, "target"), (draft, "draft")):
            m.load_state_dict({n: t.float() for n, t in ck[k].items()})
        print(f"initialised from {args.init} ({ck['steps']} steps)")
    enc, target, draft = enc.to(dev), target.to(dev), draft.to(dev)
    params = list(enc.parameters()) + list(target.parameters()) + list(draft.parameters())
    print(f"params: encoder {sum(p.numel() for p in enc.parameters()) / 1e6:.2f} M, target {sum(p.numel() for p in target.parameters()) / 1e6:.2f} M, "
          f"draft {sum(p.numel() for p in draft.parameters()) / 1e6:.2f} M")
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.wd, betas=(0.9, 0.95))
    budget = args.minutes * 60
    amp = dev.type == "cuda"
    gen = torch.Generator(device="cpu").manual_seed(args.seed)
    train_idx = torch.as_tensor(data.train_idx)
    t0 = time.time()
    step = 0
    snapped = False
    while True:
        frac = (time.time() - t0) / budget
        if step >= args.max_steps or frac >= 1:
            break
        warm = min(1.0, step / 200)
        lr = args.lr * warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0))))
        for g in opt.param_groups:
            g["lr"] = lr
        idx = train_idx[torch.randint(len(train_idx), (args.batch,), generator=gen)].to(dev)
        front, wrist, state, ids, tgt = data.batch(idx, args.dropout, noise=True, colour_perm=args.colour_perm)
        b, L = ids.shape
        pos = torch.arange(L, device=dev)[None, :].expand(b, L)
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=amp):
            e = enc(front, wrist, state)
            lt = target(ids, pos, e, *target.empty_past(b, dev))[0].float()
            ld = draft(ids, pos, e.detach(), *draft.empty_past(b, dev))[0].float()
        m = (tgt != -100).reshape(-1)
        lt2, ld2, t2 = lt.reshape(-1, V)[m], ld.reshape(-1, V)[m], tgt.reshape(-1)[m]
        loss_t = F.cross_entropy(lt2, t2, label_smoothing=0.0)
        loss_d = F.cross_entropy(ld2, t2)
        kl = F.kl_div(F.log_softmax(ld2, -1), F.softmax(lt2.detach(), -1), reduction="batchmean")
        loss = loss_t + 0.5 * loss_d + 1.0 * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if args.snapshot_at and not snapped and time.time() - t0 >= args.snapshot_at:
            snapped = True
            save_ckpt(args, enc, target, draft, step, time.time() - t0, dev)
        if step % 200 == 0:
            print(f"step {step:6d} lr {lr:.2e} loss_t {loss_t.item():.3f} loss_d {loss_d.item():.3f} kl {kl.item():.3f} ({time.time() - t0:.0f}s)", flush=True)
        step += 1
    print(f"trained {step} steps in {time.time() - t0:.0f}s")
    enc, target, draft = enc.float().eval(), target.float().eval(), draft.float().eval()
    evaluate(data, enc, target, draft, dev)
    return data, enc.cpu(), target.cpu(), draft.cpu(), step, time.time() - t0


@torch.no_grad()
def evaluate(data: Data, enc, target, draft, dev, n=512, split="held-out"):
    """Teacher-forced accuracy on held-out (or training) episodes, and draft/target agreement."""
    pool = data.val_idx if split == "held-out" else data.train_idx
    idx = torch.as_tensor(pool[:: max(1, len(pool) // n)][:n]).to(dev)
    front, wrist, state, ids, tgt = data.batch(idx, 0.0, noise=False)
    b, L = ids.shape
    pos = torch.arange(L, device=dev)[None, :].expand(b, L)
    e = enc(front, wrist, state)
    at = target(ids, pos, e, *target.empty_past(b, dev))[0].argmax(-1)
    ad = draft(ids, pos, e, *draft.empty_past(b, dev))[0].argmax(-1)
    m = tgt != -100
    act = m & (tgt >= ACTION_BASE)
    rea = m & (tgt < ACTION_BASE)
    # grounding: the VISIBLE OBJECTS field (boxes) right in every token, per frame
    vo, sub = data.tok["VISIBLE OBJECTS:"], data.tok["SUBTASK:"]
    inside = torch.zeros_like(m)
    for i in range(b):
        row = ids[i].tolist()
        if vo in row and sub in row:
            inside[i, row.index(vo): row.index(sub) - 1] = True
    vm = inside & m
    exact = [bool((at[i][vm[i]] == tgt[i][vm[i]]).all()) for i in range(b) if vm[i].any()]
    print(f"{split} VISIBLE OBJECTS: token acc {(at == tgt)[vm].float().mean():.3f}, all boxes right in {np.mean(exact):.3f} of frames")
    print(f"{split} teacher-forced: target acc reasoning {(at == tgt)[rea].float().mean():.3f} actions {(at == tgt)[act].float().mean():.3f} "
          f"(mean |bin err| {(at - tgt)[act].abs().float().mean():.2f}); draft==target reasoning {(ad == at)[rea].float().mean():.3f} "
          f"actions {(ad == at)[act].float().mean():.3f} (mean |bin diff| {(ad - at)[act].abs().float().mean():.2f})", flush=True)


# ---------------------------------------------------------------- export
# The cross-attention keys and values of the observation memory are the same for every token of a
# step: the exported encoder computes them once per step for each decoder (`target_memory`,
# `draft_memory`, [2*layers, 1, heads, MEM, head_dim]) instead of every decoder call recomputing
# them (which was about a third of a decode call at 33 memory tokens).
class DecoderOnMemory(nn.Module):
    def __init__(self, dec: Decoder):
        super().__init__()
        self.dec = dec

    def forward(self, input_ids, position_ids, memory, *past):
        return self.dec(input_ids, position_ids, None, *past, cross=memory)


class EncoderWithMemories(nn.Module):
    def __init__(self, enc: Encoder, target: Decoder, draft: Decoder):
        super().__init__()
        self.enc, self.target, self.draft = enc, target, draft

    def forward(self, image_front, image_wrist, state):
        m = self.enc(image_front, image_wrist, state)
        return self.target.cross_memory(m), self.draft.cross_memory(m)


def export_decoder(model: Decoder, path: str, name: str):
    hd = model.d // model.heads
    export_kv_decoder(DecoderOnMemory(model).eval(), path, model.n, model.heads, hd, torch.zeros(2 * model.n, 1, model.heads, MEM, hd), name)


def export_encoder(enc: Encoder, target: Decoder, draft: Decoder, path: str):
    torch.onnx.export(EncoderWithMemories(enc, target, draft).eval(), (torch.zeros(1, 3, IMG, IMG), torch.zeros(1, 3, IMG, IMG), torch.zeros(1, D)), path,
                      dynamo=False, opset_version=17, input_names=["image_front", "image_wrist", "state"],
                      output_names=["target_memory", "draft_memory"])


def write_tokenizer(path: str, vocab: list[str]):
    full = vocab + [f"<unused{i}>" for i in range(len(vocab), ACTION_BASE)] + [f"<a{b:03d}>" for b in range(BINS)]
    special = set(SPECIALS + FIELDS) | {t for t in full if t.startswith("<") and t.endswith(">") and len(t) > 2}
    write_word_level_tokenizer(path, {t: i for i, t in enumerate(full)}, special, "Whitespace")


def write_manifest(path: str, data: Data, target: Decoder, draft: Decoder, info: dict):
    tok = data.tok
    V = ACTION_BASE + BINS
    cam = lambda key: {"key": key, "input": f"image_{key}", "width": IMG, "height": IMG,
                       "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25],
                       "resize": "center_crop"}  # trained on square renders; the console's cameras are 4:3
    manifest = {
        "format": "reins-bundle", "version": 1, "name": "demo",
        "description": (f"Demo VLA trained on {info['episodes']} simulator expert episodes recorded by `npm run record`"
                        f"{' + ' + str(info['extra']) + ' generated by models/train/gen_sim.ts' if info.get('extra') else ''}"
                        " (front + wrist 32x32, state, instruction): "
                        f"{target.n}-layer d={target.d} target, {draft.n}-layer d={draft.d} draft, ECoT reasoning then "
                        f"H={H} x {D} uniform-bin action tokens{' (body joints relative to the observed state)' if data.relative.any() else ''}"
                        f"{'; colour-permutation augmentation p=' + str(info['colour_perm']) if info.get('colour_perm') else ''}. {info['steps']} steps, {info['seconds']:.0f} s on {info['device']}."),
        "inputs": {
            "cameras": [cam("front"), cam("wrist")],
            "state": {"input": "state", "joints": JOINTS, "mean": [float(x) for x in data.state_mean],
                      "std": [float(x) for x in data.state_std]},
            "instruction": {"tokenizer": "tokenizer.json", "maxTokens": MAX_INSTR},
        },
        "policy": {
            "kind": "autoregressive",
            "encoder": {"file": "encoder.onnx", "inputs": ["image_front", "image_wrist", "state"], "outputs": ["target_memory", "draft_memory"]},
            "target": {"file": "target.onnx", "layers": target.n, "kvHeads": target.heads, "headDim": target.d // target.heads,
                       "vocabSize": V, "maxPositions": MAX_POS},
            "draft": {"file": "draft.onnx", "layers": draft.n, "kvHeads": draft.heads, "headDim": draft.d // draft.heads,
                      "vocabSize": V, "maxPositions": MAX_POS},
            "reasoning": {"fields": ["TASK", "PLAN", "VISIBLE OBJECTS", "SUBTASK", "MOVE", "GRIPPER"], "planFields": ["TASK", "PLAN"]},
            "maxNewTokens": MAX_POS - 40,
        },
        "action": {
            "joints": JOINTS, "chunk": H,
            "tokenizer": {"kind": "uniform_bins", "bins": BINS, "firstTokenId": ACTION_BASE,
                          "low": [float(x) for x in data.low], "high": [float(x) for x in data.high]},
            **({"relative": [bool(x) for x in data.relative]} if data.relative.any() else {}),
        },
        "tokens": {
            "pad": tok["<pad>"], "bos": tok["<s>"], "eos": tok["</s>"],
            "reasoningBegin": tok["<reason>"], "reasoningEnd": tok["</reason>"],
            "actionBegin": tok["<act>"], "actionEnd": tok["</act>"],
            "fields": {f[:-1]: tok[f] for f in FIELDS},
        },
    }
    with open(path, "w") as f:
        json.dump(manifest, f, indent=2)


def check_export(out: str, enc, target):
    """ONNX (encoder -> target_memory -> target) against PyTorch (encoder -> obs memory -> target)."""
    import onnxruntime as ort

    s_e = ort.InferenceSession(os.path.join(out, "encoder.onnx"))
    img, img2, st = torch.randn(1, 3, IMG, IMG), torch.randn(1, 3, IMG, IMG), torch.randn(1, D)
    e = enc(img, img2, st)
    tm = s_e.run(None, {"image_front": img.numpy(), "image_wrist": img2.numpy(), "state": st.numpy()})[0]
    assert np.allclose(tm, target.cross_memory(e).numpy(), atol=1e-4)
    check_kv_decoder(os.path.join(out, "target.onnx"), lambda ids, pos, past: target(ids, pos, e, *past), {"target_memory": tm},
                     target.n, target.heads, target.d // target.heads, atol=1e-3)
    print("export check ok")


def build(args, V):
    return (Encoder(), Decoder(V, args.d, args.layers, args.heads), Decoder(V, args.draft_d, args.draft_layers, args.draft_heads))


def train_and_export(args):
    if args.smoke:
        args.device, args.minutes, args.max_steps, args.batch = "cpu", 5, min(args.max_steps, 20), 16
    data, enc, target, draft, steps, secs = train(args)
    os.makedirs(args.out, exist_ok=True)
    dev_name = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "cpu"
    save_ckpt(args, enc, target, draft, steps, secs, torch.device(args.device))
    if args.no_export:
        return
    export_bundle(args, data, enc, target, draft, steps, secs, dev_name)


def save_ckpt(args, enc, target, draft, steps, secs, dev):
    """Writes --ckpt (default OUT/ckpt.pt) atomically: a snapshot never leaves a half-written file."""
    path = args.ckpt or os.path.join(args.out, "ckpt.pt")
    dev_name = torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu"
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    torch.save({"enc": enc.state_dict(), "target": target.state_dict(), "draft": draft.state_dict(),
                "args": vars(args), "steps": steps, "seconds": secs, "device": dev_name,
                "extra_episodes": getattr(args, "extra_episodes", 0)}, path + ".tmp")
    os.replace(path + ".tmp", path)
    print(f"saved {path} ({steps} steps)", flush=True)


def load_ckpt(args):
    ck = torch.load(args.ckpt, map_location="cpu")
    for k in ("d", "layers", "heads", "draft_d", "draft_layers", "draft_heads"):
        setattr(args, k, ck["args"][k])
    data = Data(args.cache, torch.device("cpu"))
    enc, target, draft = build(args, ACTION_BASE + BINS)
    for m, k in ((enc, "enc"), (target, "target"), (draft, "draft")):
        m.load_state_dict({n: t.float() for n, t in ck[k].items()})
    return ck, data, enc.eval(), target.eval(), draft.eval()


def export_from_ckpt(args):
    ck, data, enc, target, draft = load_ckpt(args)
    evaluate(data, enc, target, draft, torch.device("cpu"), n=256)
    export_bundle(args, data, enc, target, draft, ck["steps"], ck["seconds"], ck["device"], ck.get("extra_episodes", 0),
                  ck["args"].get("colour_perm", 0.0))


def eval_ckpt(args):
    """Teacher-forced accuracy on training and held-out frames: a large gap in VISIBLE OBJECTS means
    the model recognises training layouts instead of finding the objects."""
    _, data, enc, target, draft = load_ckpt(args)
    for split in ("train", "held-out"):
        evaluate(data, enc, target, draft, torch.device("cpu"), n=args.n, split=split)


def export_bundle(args, data, enc, target, draft, steps, secs, dev_name, extra=None, colour_perm=None):
    os.makedirs(args.out, exist_ok=True)
    target.grammar = draft.grammar = (data.tok["<act>"], data.tok["</act>"])
    with torch.no_grad():
        export_encoder(enc, target, draft, os.path.join(args.out, "encoder.onnx"))
        export_decoder(target, os.path.join(args.out, "target.onnx"), "target_memory")
        export_decoder(draft, os.path.join(args.out, "draft.onnx"), "draft_memory")
        try:
            check_export(args.out, enc, target)
        except ImportError as e:
            print(f"export check skipped ({e})")
    episodes = data.episodes - data.extra_episodes  # recorded
    extra = data.extra_episodes if extra is None else extra
    write_tokenizer(os.path.join(args.out, "tokenizer.json"), data.vocab)
    write_manifest(os.path.join(args.out, "manifest.json"), data, target, draft,
                   {"episodes": episodes, "extra": extra, "steps": steps, "seconds": secs, "device": dev_name,
                    "colour_perm": getattr(args, "colour_perm", 0.0) if colour_perm is None else colour_perm})
    print("wrote", args.out)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prep")
    p.add_argument("--data", nargs="+", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--stride", type=int, default=1, help="keep every n-th frame")
    p.add_argument("--chunk", type=int, default=H, help="action chunk H (control ticks)")
    p.add_argument("--bins", type=int, default=BINS, help="uniform bins per joint")
    p.add_argument("--workers", type=int, default=2, help="processes decoding videos (and xz threads)")
    p.add_argument("--relative", action="store_true", help="body-joint actions as offsets from the observed state (gripper absolute)")
    t = sub.add_parser("train")
    t.add_argument("--cache", required=True)
    t.add_argument("--out", default="models/bundles/demo")
    t.add_argument("--device", default="cuda")
    t.add_argument("--minutes", type=float, default=8.0, help="wall-clock training budget (cosine LR over it)")
    t.add_argument("--max-steps", type=int, default=10**9)
    t.add_argument("--batch", type=int, default=256)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--d", type=int, default=192)
    t.add_argument("--layers", type=int, default=4)
    t.add_argument("--heads", type=int, default=6)
    t.add_argument("--draft-d", type=int, default=128)
    t.add_argument("--draft-layers", type=int, default=1)
    t.add_argument("--draft-heads", type=int, default=4)
    t.add_argument("--dropout", type=float, default=0.3, help="reasoning dropout probability")
    t.add_argument("--colour-perm", type=float, default=0.0, help="probability of a colour-permutation augmentation per sample (ColourPermutation)")
    t.add_argument("--wd", type=float, default=0.05)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--smoke", action="store_true", help="CPU, 20 steps, batch 16: checks the pipeline end to end")
    t.add_argument("--init", default=None, help="start from a checkpoint (fine-tuning)")
    t.add_argument("--skip-noise-waits", action="store_true", help="drop held-goal frames of --action-noise bursts (see Data)")
    t.add_argument("--no-export", action="store_true", help="save the checkpoint only (export later with `export`)")
    t.add_argument("--ckpt", default=None, help="where to save the PyTorch checkpoint (default OUT/ckpt.pt)")
    t.add_argument("--extra", nargs="*", default=[], help="gen_sim.ts shard prefixes: generated episodes added to the training split")
    t.add_argument("--workers", type=int, default=8, help="processes tokenising --extra shards")
    t.add_argument("--snapshot-at", type=float, default=0, help="also save the checkpoint to --ckpt once this many seconds of training have passed")
    x = sub.add_parser("export", help="re-export a bundle from a checkpoint (CPU)")
    x.add_argument("--ckpt", required=True)
    x.add_argument("--cache", required=True)
    x.add_argument("--out", default="models/bundles/demo")
    e = sub.add_parser("eval", help="teacher-forced accuracy of a checkpoint on training and held-out frames (CPU)")
    e.add_argument("--ckpt", required=True)
    e.add_argument("--cache", required=True)
    e.add_argument("--n", type=int, default=400)
    args = ap.parse_args()
    if args.cmd == "prep":
        prep(args)
    elif args.cmd == "export":
        export_from_ckpt(args)
    elif args.cmd == "eval":
        eval_ckpt(args)
    else:
        train_and_export(args)


if __name__ == "__main__":
    main()
