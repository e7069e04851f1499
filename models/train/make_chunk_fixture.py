"""Export a tiny chunk-regression bundle (ACT/OFT style: one forward pass -> a chunk) for tests.

Weights are random: this fixture checks the runtime's plumbing (manifest, validator, one-pass
policy, un-normalisation), not behaviour.

    python models/train/make_chunk_fixture.py --out test/models/fixtures/chunk_regression
"""
import argparse
import json
import os

import torch
import torch.nn as nn

JOINTS = ["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper"]
H, D, IMG = 4, 6, 8


class ChunkPolicy(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.fc = nn.Linear(4 * 4 * 4 + D, H * D)

    def forward(self, image_wrist, state):
        x = torch.relu(self.conv(image_wrist)).flatten(1)
        return torch.tanh(self.fc(torch.cat([x, state], 1))).view(1, H, D)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="test/models/fixtures/chunk_regression")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)
    m = ChunkPolicy().eval()
    torch.onnx.export(m, (torch.zeros(1, 3, IMG, IMG), torch.zeros(1, D)), os.path.join(args.out, "policy.onnx"),
                      dynamo=False, opset_version=17, input_names=["image_wrist", "state"], output_names=["actions"])
    manifest = {
        "format": "reins-bundle", "version": 1, "name": "chunk-regression-fixture",
        "inputs": {
            "cameras": [{"key": "wrist", "input": "image_wrist", "width": IMG, "height": IMG,
                         "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}],
            "state": {"input": "state", "joints": JOINTS, "mean": [0, 0, 0, 0, 0, 50], "std": [100, 100, 100, 100, 100, 50]},
        },
        "policy": {"kind": "chunk_regression", "graph": {"file": "policy.onnx", "output": "actions"}},
        "action": {"joints": JOINTS, "chunk": H, "bounds": {"low": [-100] * 5 + [0], "high": [100] * 5 + [100]}},
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)


if __name__ == "__main__":
    main()
