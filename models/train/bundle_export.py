"""The ONNX and tokenizer side of the Reins bundle contract (models/README.md), shared by the
training scripts: a KV-cached decoder graph with the runtime's input/output names, and a
word-level tokenizer.json that @huggingface/tokenizers loads.

Decoder graph:
  inputs  input_ids [1, T] int64, position_ids [1, T] int64, an encoder output (`obs_name`, model-defined),
          past_key_values.{i}.key / .value [1, heads, past, head_dim]
  outputs logits [1, T, V], present.{i}.key / .value [1, heads, past + T, head_dim]
T and past are dynamic, so one call verifies k drafted tokens.
"""
from __future__ import annotations

import json

import torch


def export_kv_decoder(model: torch.nn.Module, path: str, layers: int, heads: int, head_dim: int, obs_example: torch.Tensor,
                      obs_name: str = "obs_embedding") -> None:
    past_names = [f"past_key_values.{i}.{kv}" for i in range(layers) for kv in ("key", "value")]
    present_names = [f"present.{i}.{kv}" for i in range(layers) for kv in ("key", "value")]
    ids = torch.tensor([[1, 20]], dtype=torch.int64)
    pos = torch.tensor([[3, 4]], dtype=torch.int64)
    past = [torch.zeros(1, heads, 3, head_dim) for _ in range(2 * layers)]
    dyn = {"input_ids": {1: "sequence"}, "position_ids": {1: "sequence"}, "logits": {1: "sequence"}}
    for nm in past_names:
        dyn[nm] = {2: "past_sequence"}
    for nm in present_names:
        dyn[nm] = {2: "total_sequence"}
    torch.onnx.export(model, (ids, pos, obs_example, *past), path, dynamo=False, opset_version=17,
                      input_names=["input_ids", "position_ids", obs_name, *past_names],
                      output_names=["logits", *present_names], dynamic_axes=dyn)


def check_kv_decoder(path: str, torch_forward, static_feeds: dict, layers: int, heads: int, head_dim: int, atol: float) -> None:
    """The exported decoder against PyTorch: a 5-token prefill, then a 3-token step on top of the
    cache each side returned. `torch_forward(ids, pos, past)` -> (logits, *present);
    `static_feeds`: the encoder output(s) the graph takes (numpy)."""
    import numpy as np
    import onnxruntime as ort

    sess = ort.InferenceSession(path)
    past_t = [torch.zeros(1, heads, 0, head_dim) for _ in range(2 * layers)]
    past_o = [p.numpy() for p in past_t]
    steps = ((torch.tensor([[1, 20, 21, 22, 4]]), torch.arange(5)[None]), (torch.tensor([[8, 9, 10]]), torch.tensor([[5, 6, 7]])))
    for ids, pos in steps:
        ref = torch_forward(ids, pos, past_t)
        feeds = {"input_ids": ids.numpy(), "position_ids": pos.numpy(), **static_feeds}
        for i in range(layers):
            feeds[f"past_key_values.{i}.key"] = past_o[2 * i]
            feeds[f"past_key_values.{i}.value"] = past_o[2 * i + 1]
        got = sess.run(None, feeds)
        assert np.allclose(got[0], ref[0].detach().numpy(), atol=atol), f"{path}: ONNX logits differ from PyTorch"
        past_t, past_o = list(ref[1:]), got[1:]


def write_word_level_tokenizer(path: str, vocab: dict[str, int], special: set[str], pre_tokenizer: str) -> None:
    """A lower-casing word-level tokenizer.json; `special` tokens are added tokens, never split."""
    tok = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
            for t, i in vocab.items() if t in special
        ],
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": pre_tokenizer},
        "post_processor": None,
        "decoder": None,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "<unk>"},
    }
    with open(path, "w") as f:
        json.dump(tok, f, ensure_ascii=False)
