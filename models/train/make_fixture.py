"""Train the small fixture VLA (target + draft) on a synthetic task and export a Reins bundle.

The task: a 16x16 RGB image shows one coloured block (and sometimes a bowl); the robot state is
6 joints. The instruction names the block. The target sequence is ECoT-style reasoning
(TASK, PLAN, VISIBLE OBJECTS, SUBTASK, MOVE, GRIPPER) followed by H=8 steps x 6 joints of
uniform-bin action tokens. Everything is a deterministic function of (instruction, image,
state), so a small decoder learns it and a 1-layer draft agrees with it most of the time.

With probability 0.3 a training sequence drops the reasoning (ECoT-Lite reasoning dropout), so
the runtime can ask for actions only by starting the answer with <act>.

Usage (CPU, a few minutes on 2 cores):
    python models/train/make_fixture.py --out models/bundles/fixture [--steps 1500] [--seed 0]

Exports encoder.onnx, target.onnx, draft.onnx (KV cache: past_key_values.{i}.key/value in,
present.{i}.key/value out, T new tokens per call), tokenizer.json, manifest.json.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from bundle_export import check_kv_decoder, export_kv_decoder, write_word_level_tokenizer

# ---------------------------------------------------------------- vocabulary
SPECIALS = ["<pad>", "<s>", "</s>", "<unk>", "<reason>", "</reason>", "<act>", "</act>"]
FIELDS = ["TASK:", "PLAN:", "VISIBLE OBJECTS:", "SUBTASK:", "MOVE:", "GRIPPER:"]
COLORS = ["red", "green", "blue", "yellow"]
RGB = {"red": (1.0, 0.1, 0.1), "green": (0.1, 0.9, 0.1), "blue": (0.1, 0.2, 1.0), "yellow": (1.0, 0.9, 0.1)}
WORDS = sorted(set(
    COLORS + "pick up the block push it left right put in bowl reach grasp lift place release "
    "move down forward back open close and then approach retreat nothing to do a".split()
))
ACTION_BASE = 64
BINS = 256
VOCAB = [*SPECIALS, *FIELDS, *WORDS]
assert len(VOCAB) <= ACTION_BASE, len(VOCAB)
VOCAB += [f"<unused{i}>" for i in range(len(VOCAB), ACTION_BASE)]
VOCAB += [f"<a{b:03d}>" for b in range(BINS)]
V = len(VOCAB)
TOK = {t: i for i, t in enumerate(VOCAB)}

JOINTS = ["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper"]
JOINT_CENTER = np.array([0, 0, 0, 0, 0, 50], dtype=np.float64)
JOINT_HALF = np.array([100, 100, 100, 100, 100, 50], dtype=np.float64)
H = 8
D = len(JOINTS)
IMG = 16

FAMILIES = [
    ("pick up the {c} block", "reach grasp lift"),
    ("push the {c} block left", "approach push retreat"),
    ("put the {c} block in the bowl", "grasp lift place release"),
]


def words(s: str) -> list[int]:
    return [TOK[w] for w in s.split()]


def sample(rng: np.random.Generator):
    """One synthetic example: (image CHW float, state deg, instruction, reasoning ids, actions deg)."""
    fam = int(rng.integers(len(FAMILIES)))
    color = COLORS[int(rng.integers(len(COLORS)))]
    instr_tpl, plan = FAMILIES[fam]
    instr = instr_tpl.format(c=color)
    bx, by = int(rng.integers(0, IMG - 3)), int(rng.integers(0, IMG - 3))
    img = np.full((3, IMG, IMG), 0.45, dtype=np.float32)
    img[:, by:by + 3, bx:bx + 3] = np.array(RGB[color], dtype=np.float32)[:, None, None]
    bowl = fam == 2
    if bowl:
        img[:, IMG - 3:, 0:4] = 0.1
    s = rng.uniform(-1, 1, size=D)
    px, py = bx / (IMG - 3) * 2 - 1, by / (IMG - 3) * 2 - 1
    near = abs(px - s[0]) < 0.4 and abs(py - s[1]) < 0.4
    grip_closed = s[5] > 0
    if not grip_closed:
        subtask = "approach the block" if not near else "grasp the block"
    else:
        subtask = {0: "lift the block", 1: "push it left", 2: "place in the bowl"}[fam]
    dx = "left" if px < s[0] else "right"
    dy = "forward" if py < s[1] else "back"
    move = f"move {dx} and {dy}"
    grip = "close" if (near and fam != 1) else "open"
    visible = f"{color} block" + (" bowl" if bowl else "")
    reasoning = (
        [TOK["<reason>"], TOK["TASK:"], *words(instr), TOK["PLAN:"], *words(plan),
         TOK["VISIBLE OBJECTS:"], *words(visible), TOK["SUBTASK:"], *words(subtask),
         TOK["MOVE:"], *words(move), TOK["GRIPPER:"], *words(grip), TOK["</reason>"]]
    )
    goal = np.array([px, py, 0.5 * px - 0.2, -0.5 * py, [0.3, -0.3, 0.6][fam], 0.9 if grip == "close" else -0.9])
    t = (np.arange(1, H + 1) / H)[:, None]
    a_norm = s[None, :] + (goal - s)[None, :] * t * 0.6
    actions = JOINT_CENTER + np.clip(a_norm, -1, 1) * JOINT_HALF
    state = JOINT_CENTER + s * JOINT_HALF
    return img, state, instr, reasoning, actions


def bin_actions(actions: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    x = np.clip(2 * (actions - low) / (high - low) - 1, -1, 1)
    return np.clip(np.floor((x + 1) / 2 * BINS), 0, BINS - 1).astype(np.int64)


# ---------------------------------------------------------------- models
class Encoder(nn.Module):
    """Image (1,3,16,16 normalised) + state (1,6 normalised) -> obs_embedding (1,E)."""

    def __init__(self, e: int = 128):
        super().__init__()
        self.c1 = nn.Conv2d(3, 16, 3, stride=2, padding=1)
        self.c2 = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        self.fc1 = nn.Linear(32 * 4 * 4 + D, e)
        self.fc2 = nn.Linear(e, e)

    def forward(self, image_front, state):
        x = F.relu(self.c1(image_front))
        x = F.relu(self.c2(x))
        x = torch.cat([x.flatten(1), state], dim=1)
        return self.fc2(F.relu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, d: int, heads: int):
        super().__init__()
        self.h, self.hd = heads, d // heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x, past_k, past_v, mask):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q = q.view(b, t, self.h, self.hd).transpose(1, 2)
        k = k.view(b, t, self.h, self.hd).transpose(1, 2)
        v = v.view(b, t, self.h, self.hd).transpose(1, 2)
        k = torch.cat([past_k, k], dim=2)
        v = torch.cat([past_v, v], dim=2)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(self.hd) + mask
        y = torch.softmax(att, dim=-1) @ v
        y = y.transpose(1, 2).reshape(b, t, d)
        x = x + self.proj(y)
        x = x + self.mlp(self.ln2(x))
        return x, k, v


class Decoder(nn.Module):
    """Causal decoder with KV cache, conditioned by adding proj(obs_embedding) to every token."""

    def __init__(self, d: int, layers: int, heads: int, e: int = 128, max_pos: int = 160):
        super().__init__()
        self.d, self.n, self.heads = d, layers, heads
        self.tok = nn.Embedding(V, d)
        self.pos = nn.Embedding(max_pos, d)
        self.obs = nn.Linear(e, d)
        self.blocks = nn.ModuleList([Block(d, heads) for _ in range(layers)])
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, V, bias=False)

    def forward(self, input_ids, position_ids, obs_embedding, *past):
        t = input_ids.shape[1]
        p = past[0].shape[2]
        x = self.tok(input_ids) + self.pos(position_ids) + self.obs(obs_embedding)[:, None, :]
        i = torch.arange(t, device=x.device)[:, None]
        j = torch.arange(p + t, device=x.device)[None, :]
        mask = torch.where(j > i + p, torch.full((), float("-inf"), device=x.device), torch.zeros((), device=x.device))
        presents = []
        for li, blk in enumerate(self.blocks):
            x, k, v = blk(x, past[2 * li], past[2 * li + 1], mask)
            presents += [k, v]
        return (self.head(self.ln(x)), *presents)

    def empty_past(self, b: int):
        hd = self.d // self.heads
        return [torch.zeros(b, self.heads, 0, hd) for _ in range(2 * self.n)]


# ---------------------------------------------------------------- data batches
def make_batch(rng, b, low, high, dropout=0.3):
    imgs, states, seqs = [], [], []
    for _ in range(b):
        img, state, instr, reasoning, actions = sample(rng)
        bins = bin_actions(actions, low, high).reshape(-1) + ACTION_BASE
        prompt = [TOK["<s>"], *words(instr)]
        body = ([] if rng.random() < dropout else reasoning) + [TOK["<act>"], *bins.tolist(), TOK["</act>"], TOK["</s>"]]
        seqs.append((prompt, body))
        imgs.append((img - 0.5) / 0.25)
        states.append((state - JOINT_CENTER) / JOINT_HALF)
    L = max(len(p) + len(bd) for p, bd in seqs)
    ids = np.zeros((b, L), dtype=np.int64)
    tgt = np.full((b, L), -100, dtype=np.int64)
    for r, (p, bd) in enumerate(seqs):
        s = p + bd
        ids[r, :len(s)] = s
        # loss on the answer only (predicting body[k] from position len(p)+k-1)
        for k in range(len(bd)):
            tgt[r, len(p) + k - 1] = bd[k]
    return (torch.tensor(np.stack(imgs)), torch.tensor(np.stack(states), dtype=torch.float32),
            torch.tensor(ids), torch.tensor(tgt))


def train(args):
    torch.manual_seed(args.seed)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    rng = np.random.default_rng(args.seed)
    # quantile bounds of the action space, from the data (OpenVLA BOUNDS_Q99 style)
    acts = np.concatenate([sample(rng)[4] for _ in range(4000)])
    low, high = np.quantile(acts, 0.01, axis=0), np.quantile(acts, 0.99, axis=0)
    high = np.maximum(high, low + 1e-3)

    dev = torch.device(args.device)
    enc = Encoder().to(dev)
    target = Decoder(128, 4, 4).to(dev)
    draft = Decoder(64, 1, 2).to(dev)
    params = list(enc.parameters()) + list(target.parameters()) + list(draft.parameters())
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps, pct_start=0.1)
    t0 = time.time()
    for step in range(args.steps):
        img, st, ids, tgt = (x.to(dev) for x in make_batch(rng, args.batch, low, high))
        b, L = ids.shape
        pos = torch.arange(L, device=dev)[None, :].expand(b, L)
        e = enc(img, st)
        lt = target(ids, pos, e, *[p.to(dev) for p in target.empty_past(b)])[0]
        # the draft sees the encoder's features without pushing gradients into it
        ld = draft(ids, pos, e.detach(), *[p.to(dev) for p in draft.empty_past(b)])[0]
        loss_t = F.cross_entropy(lt.reshape(-1, V), tgt.reshape(-1), ignore_index=-100)
        loss_d = F.cross_entropy(ld.reshape(-1, V), tgt.reshape(-1), ignore_index=-100)
        # distil: the draft also matches the target's distribution (agreement is what matters)
        m = (tgt != -100).reshape(-1)
        kl = F.kl_div(F.log_softmax(ld.reshape(-1, V)[m], -1), F.softmax(lt.reshape(-1, V)[m].detach(), -1),
                      reduction="batchmean")
        loss = loss_t + loss_d + 0.5 * kl
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        if step % 100 == 0 or step == args.steps - 1:
            print(f"step {step:5d} loss_t {loss_t.item():.3f} loss_d {loss_d.item():.3f} kl {kl.item():.3f} "
                  f"({time.time() - t0:.0f}s)", flush=True)
    return enc.cpu().eval(), target.cpu().eval(), draft.cpu().eval(), low, high


# ---------------------------------------------------------------- export
def export_decoder(model: Decoder, path: str):
    export_kv_decoder(model, path, model.n, model.heads, model.d // model.heads, torch.zeros(1, 128))


def export_encoder(enc: Encoder, path: str):
    torch.onnx.export(enc, (torch.zeros(1, 3, IMG, IMG), torch.zeros(1, D)), path, dynamo=False, opset_version=17,
                      input_names=["image_front", "state"], output_names=["obs_embedding"])


def write_tokenizer(path: str):
    """A word-level tokenizer.json over the decoder's vocabulary (loaded by a real HF tokenizers lib)."""
    special = set(SPECIALS + FIELDS) | {t for t in VOCAB if t.startswith("<")}
    write_word_level_tokenizer(path, {t: TOK[t] for t in VOCAB}, special, "WhitespaceSplit")


def write_manifest(path: str, low, high, target: Decoder, draft: Decoder):
    manifest = {
        "format": "reins-bundle",
        "version": 1,
        "name": "fixture",
        "description": "Synthetic-task fixture: 4-layer d=128 target, 1-layer d=64 draft, ECoT reasoning, uniform bins.",
        "inputs": {
            "cameras": [{"key": "front", "input": "image_front", "width": IMG, "height": IMG,
                         "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}],
            "state": {"input": "state", "joints": JOINTS, "mean": JOINT_CENTER.tolist(), "std": JOINT_HALF.tolist()},
            "instruction": {"tokenizer": "tokenizer.json", "maxTokens": 24},
        },
        "policy": {
            "kind": "autoregressive",
            "encoder": {"file": "encoder.onnx", "inputs": ["image_front", "state"], "outputs": ["obs_embedding"]},
            "target": {"file": "target.onnx", "layers": target.n, "kvHeads": target.heads,
                       "headDim": target.d // target.heads, "vocabSize": V, "maxPositions": 160},
            "draft": {"file": "draft.onnx", "layers": draft.n, "kvHeads": draft.heads,
                      "headDim": draft.d // draft.heads, "vocabSize": V, "maxPositions": 160},
            "reasoning": {"fields": ["TASK", "PLAN", "VISIBLE OBJECTS", "SUBTASK", "MOVE", "GRIPPER"],
                          "planFields": ["TASK", "PLAN"]},
            "maxNewTokens": 120,
        },
        "action": {
            "joints": JOINTS,
            "chunk": H,
            "tokenizer": {"kind": "uniform_bins", "bins": BINS, "firstTokenId": ACTION_BASE,
                          "low": [float(x) for x in low], "high": [float(x) for x in high]},
        },
        "tokens": {
            "pad": TOK["<pad>"], "bos": TOK["<s>"], "eos": TOK["</s>"],
            "reasoningBegin": TOK["<reason>"], "reasoningEnd": TOK["</reason>"],
            "actionBegin": TOK["<act>"], "actionEnd": TOK["</act>"],
            "fields": {f[:-1]: TOK[f] for f in FIELDS},
        },
    }
    with open(path, "w") as f:
        json.dump(manifest, f, indent=2)


def check_export(out: str, enc, target, draft):
    """ONNX vs PyTorch on a prefill then a 3-token step on top of the cache."""
    img, st = torch.randn(1, 3, IMG, IMG), torch.randn(1, D)
    e = enc(img, st)
    check_kv_decoder(os.path.join(out, "target.onnx"), lambda ids, pos, past: target(ids, pos, e, *past),
                     {"obs_embedding": e.detach().numpy()}, target.n, target.heads, target.d // target.heads, atol=1e-4)
    print("export check ok")


def agreement(enc, target, draft, low, high, n=200, seed=123):
    """Greedy-teacher-forced agreement of draft vs target argmax on the answer tokens."""
    rng = np.random.default_rng(seed)
    img, st, ids, tgt = make_batch(rng, n, low, high, dropout=0.0)
    b, L = ids.shape
    pos = torch.arange(L)[None, :].expand(b, L)
    with torch.no_grad():
        e = enc(img, st)
        at = target(ids, pos, e, *target.empty_past(b))[0].argmax(-1)
        ad = draft(ids, pos, e, *draft.empty_past(b))[0].argmax(-1)
    m = tgt != -100
    act = m & (tgt >= ACTION_BASE)
    rea = m & (tgt < ACTION_BASE)
    print(f"target acc: reasoning {(at == tgt)[rea].float().mean():.3f} actions {(at == tgt)[act].float().mean():.3f}; "
          f"draft==target: reasoning {(ad == at)[rea].float().mean():.3f} actions {(ad == at)[act].float().mean():.3f}; "
          f"mean |bin diff| actions {(ad - at)[act].abs().float().mean():.2f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="models/bundles/fixture")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu", help="cpu or cuda (the export always runs on the CPU)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    enc, target, draft, low, high = train(args)
    with torch.no_grad():
        export_encoder(enc, os.path.join(args.out, "encoder.onnx"))
        export_decoder(target, os.path.join(args.out, "target.onnx"))
        export_decoder(draft, os.path.join(args.out, "draft.onnx"))
        check_export(args.out, enc, target, draft)
        agreement(enc, target, draft, low, high)
    write_tokenizer(os.path.join(args.out, "tokenizer.json"))
    write_manifest(os.path.join(args.out, "manifest.json"), low, high, target, draft)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
