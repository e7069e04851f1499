"""ACT (Action Chunking Transformer) inference network, written for Reins from the published
architecture (Zhao et al. 2023) and the parameter names/shapes of a LeRobot `model.safetensors`.

Only the inference path is built: the CVAE encoder is never run at inference (the latent is zero),
so its weights are not loaded. Layout inside is batch-first (B, S, D); the attention weights use
the packed `in_proj_weight` / `out_proj` naming of a LeRobot checkpoint.

Parameter names (under the `model.` prefix) this module expects:
  backbone.{conv1,bn1,layer1..4}.*           ResNet trunk (frozen batch norm: weight, bias,
                                              running_mean, running_var; no num_batches_tracked)
  encoder_img_feat_input_proj.{weight,bias}   1x1 conv, backbone channels -> dim_model
  encoder_robot_state_input_proj.*            Linear(state_dim, dim_model)      (when a state input)
  encoder_latent_input_proj.*                 Linear(latent_dim, dim_model)
  encoder_1d_feature_pos_embed.weight         (1 + has_state, dim_model)
  encoder.layers.{i}.{self_attn,linear1,linear2,norm1,norm2}.*   (+ encoder.norm when pre_norm)
  decoder.layers.{i}.{self_attn,multihead_attn,linear1,linear2,norm1,norm2,norm3}.*, decoder.norm.*
  decoder_pos_embed.weight                    (chunk_size, dim_model)
  action_head.{weight,bias}                   Linear(dim_model, action_dim)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

# ResNet variants built from basic (two 3x3 conv) blocks: blocks per stage (lerobot.py BACKBONES names the same).
BASIC_RESNETS = {"resnet18": (2, 2, 2, 2), "resnet34": (3, 4, 6, 3)}


@dataclass
class ActDims:
    backbone: str
    n_cameras: int
    state_dim: int  # 0 = no state input
    action_dim: int
    chunk: int
    dim_model: int
    n_heads: int
    dim_feedforward: int
    n_encoder_layers: int
    n_decoder_layers: int
    latent_dim: int
    pre_norm: bool
    activation: str  # relu | gelu


class FrozenBN(nn.Module):
    """Batch norm with fixed statistics (eps 1e-5, as torchvision's frozen variant)."""

    def __init__(self, n: int):
        super().__init__()
        self.register_buffer("weight", torch.ones(n))
        self.register_buffer("bias", torch.zeros(n))
        self.register_buffer("running_mean", torch.zeros(n))
        self.register_buffer("running_var", torch.ones(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.weight * (self.running_var + 1e-5).rsqrt()
        shift = self.bias - self.running_mean * scale
        return x * scale.reshape(1, -1, 1, 1) + shift.reshape(1, -1, 1, 1)


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = FrozenBN(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = FrozenBN(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), FrozenBN(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        skip = x if self.downsample is None else self.downsample(x)
        return F.relu(y + skip)


class ResNetTrunk(nn.Module):
    """conv1 / bn1 / maxpool / layer1..layer4; returns layer4's feature map (512 channels)."""

    def __init__(self, blocks: tuple[int, int, int, int]):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = FrozenBN(64)
        widths = (64, 128, 256, 512)
        cin = 64
        for i, (w, n) in enumerate(zip(widths, blocks)):
            layer = nn.Sequential(*[BasicBlock(cin if j == 0 else w, w, (1 if i == 0 else 2) if j == 0 else 1) for j in range(n)])
            setattr(self, f"layer{i + 1}", layer)
            cin = w
        self.out_channels = 512

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


class Attention(nn.Module):
    """Multi-head attention with packed q/k/v input projection (batch-first)."""

    def __init__(self, d: int, heads: int):
        super().__init__()
        self.heads = heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * d, d))
        self.in_proj_bias = nn.Parameter(torch.empty(3 * d))
        self.out_proj = nn.Linear(d, d)

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        d = q.shape[-1]
        w, b = self.in_proj_weight, self.in_proj_bias
        qp = F.linear(q, w[:d], b[:d])
        kp = F.linear(k, w[d:2 * d], b[d:2 * d])
        vp = F.linear(v, w[2 * d:], b[2 * d:])
        B, Sq, _ = qp.shape
        Sk = kp.shape[1]
        h, hd = self.heads, d // self.heads
        qp = qp.reshape(B, Sq, h, hd).transpose(1, 2)
        kp = kp.reshape(B, Sk, h, hd).transpose(1, 2)
        vp = vp.reshape(B, Sk, h, hd).transpose(1, 2)
        att = torch.softmax((qp * (1.0 / math.sqrt(hd))) @ kp.transpose(-1, -2), dim=-1)
        out = (att @ vp).transpose(1, 2).reshape(B, Sq, d)
        return self.out_proj(out)


def _act(name: str):
    return F.relu if name == "relu" else F.gelu


class EncoderLayer(nn.Module):
    def __init__(self, c: ActDims):
        super().__init__()
        d = c.dim_model
        self.self_attn = Attention(d, c.n_heads)
        self.linear1 = nn.Linear(d, c.dim_feedforward)
        self.linear2 = nn.Linear(c.dim_feedforward, d)
        self.norm1 = nn.LayerNorm(d)
        self.norm2 = nn.LayerNorm(d)
        self.pre_norm = c.pre_norm
        self.act = _act(c.activation)

    def forward(self, x: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        if self.pre_norm:
            y = self.norm1(x)
            x = x + self.self_attn(y + pos, y + pos, y)
            return x + self.linear2(self.act(self.linear1(self.norm2(x))))
        x = self.norm1(x + self.self_attn(x + pos, x + pos, x))
        return self.norm2(x + self.linear2(self.act(self.linear1(x))))


class DecoderLayer(nn.Module):
    def __init__(self, c: ActDims):
        super().__init__()
        d = c.dim_model
        self.self_attn = Attention(d, c.n_heads)
        self.multihead_attn = Attention(d, c.n_heads)
        self.linear1 = nn.Linear(d, c.dim_feedforward)
        self.linear2 = nn.Linear(c.dim_feedforward, d)
        self.norm1 = nn.LayerNorm(d)
        self.norm2 = nn.LayerNorm(d)
        self.norm3 = nn.LayerNorm(d)
        self.pre_norm = c.pre_norm
        self.act = _act(c.activation)

    def forward(self, x: torch.Tensor, mem: torch.Tensor, qpos: torch.Tensor, kpos: torch.Tensor) -> torch.Tensor:
        if self.pre_norm:
            y = self.norm1(x)
            x = x + self.self_attn(y + qpos, y + qpos, y)
            y = self.norm2(x)
            x = x + self.multihead_attn(y + qpos, mem + kpos, mem)
            return x + self.linear2(self.act(self.linear1(self.norm3(x))))
        x = self.norm1(x + self.self_attn(x + qpos, x + qpos, x))
        x = self.norm2(x + self.multihead_attn(x + qpos, mem + kpos, mem))
        return self.norm3(x + self.linear2(self.act(self.linear1(x))))


class Stack(nn.Module):
    def __init__(self, layers: list[nn.Module], norm: nn.Module | None):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        if norm is not None:
            self.norm = norm


def sine_pos_2d(h: int, w: int, channels: int) -> torch.Tensor:
    """Fixed 2D sine/cosine position embedding of a feature map, (channels, h, w): the first half
    encodes the row, the second the column; positions (1..n)/(n + 1e-6)·2π, frequencies
    10000^(2·(i//2)/half), sin on even and cos on odd channels of each half."""
    half = channels // 2
    ys = torch.arange(1, h + 1, dtype=torch.float32) / (h + 1e-6) * (2 * math.pi)
    xs = torch.arange(1, w + 1, dtype=torch.float32) / (w + 1e-6) * (2 * math.pi)
    freq = 10000 ** (2 * (torch.arange(half, dtype=torch.float32) // 2) / half)

    def enc(p: torch.Tensor) -> torch.Tensor:  # (n,) -> (n, half)
        a = p[:, None] / freq
        return torch.stack((a[:, 0::2].sin(), a[:, 1::2].cos()), dim=-1).flatten(1)

    ey = enc(ys)[:, None, :].expand(h, w, half)
    ex = enc(xs)[None, :, :].expand(h, w, half)
    return torch.cat((ey, ex), dim=-1).permute(2, 0, 1).contiguous()


class ActNet(nn.Module):
    """forward(images[n_cameras] of (1,3,H,W) normalised, state (1,S) normalised) -> (1, chunk, action_dim) normalised."""

    def __init__(self, c: ActDims):
        super().__init__()
        self.c = c
        d = c.dim_model
        if c.n_cameras > 0:
            self.backbone = ResNetTrunk(BASIC_RESNETS[c.backbone])
            self.encoder_img_feat_input_proj = nn.Conv2d(self.backbone.out_channels, d, 1)
        if c.state_dim > 0:
            self.encoder_robot_state_input_proj = nn.Linear(c.state_dim, d)
        self.encoder_latent_input_proj = nn.Linear(c.latent_dim, d)
        self.encoder_1d_feature_pos_embed = nn.Embedding(1 + (1 if c.state_dim > 0 else 0), d)
        self.encoder = Stack([EncoderLayer(c) for _ in range(c.n_encoder_layers)], nn.LayerNorm(d) if c.pre_norm else None)
        self.decoder = Stack([DecoderLayer(c) for _ in range(c.n_decoder_layers)], nn.LayerNorm(d))
        self.decoder_pos_embed = nn.Embedding(c.chunk, d)
        self.action_head = nn.Linear(d, c.action_dim)

    def forward(self, images: list[torch.Tensor], state: torch.Tensor | None) -> torch.Tensor:
        c = self.c
        B = 1
        latent = torch.zeros(B, c.latent_dim)
        tokens = [self.encoder_latent_input_proj(latent)[:, None, :]]
        pos = [self.encoder_1d_feature_pos_embed.weight[None, :, :]]
        if state is not None:
            tokens.append(self.encoder_robot_state_input_proj(state)[:, None, :])
        for img in images:
            fm = self.backbone(img)
            h, w = fm.shape[-2], fm.shape[-1]
            feat = self.encoder_img_feat_input_proj(fm)  # (B, d, h, w)
            tokens.append(feat.flatten(2).transpose(1, 2))  # (B, h*w, d), row-major
            pos.append(sine_pos_2d(h, w, c.dim_model).flatten(1).transpose(0, 1)[None])
        x = torch.cat(tokens, dim=1)
        p = torch.cat(pos, dim=1)
        for layer in self.encoder.layers:
            x = layer(x, p)
        if c.pre_norm:
            x = self.encoder.norm(x)
        y = torch.zeros(B, c.chunk, c.dim_model)
        qpos = self.decoder_pos_embed.weight[None]
        for layer in self.decoder.layers:
            y = layer(y, x, qpos, p)
        y = self.decoder.norm(y)
        return self.action_head(y)
