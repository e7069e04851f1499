"""Checks train_demo.py's colour-permutation augmentation against the simulator's own renderer:
recolouring a rendered scene must give what the renderer draws when the blocks really have the
permuted colours (render_permuted.ts), and the colour words must map the same way.

  python models/train/check_colour_perm.py        # prints the largest difference; exits 1 if > 3 levels
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import train_demo as t  # noqa: E402

PERM = [2, 3, 0, 5, 1, 4]
root = os.path.join(os.path.dirname(__file__), "..", "..")
with tempfile.TemporaryDirectory() as d:
    out = os.path.join(d, "pairs.bin")
    subprocess.run(["npx", "tsx", "models/train/render_permuted.ts", out, ",".join(map(str, PERM))], cwd=root, check=True)
    f = np.fromfile(out, np.uint8).reshape(-1, 2, 32, 32, 3)
orig = torch.tensor(f[:, 0]).permute(0, 3, 1, 2).contiguous()
want = torch.tensor(f[:, 1]).permute(0, 3, 1, 2)
tok = {c: 10 + i for i, c in enumerate(t.COLORS)}
cp = t.ColourPermutation(tok, "cpu")
perm = torch.tensor([PERM] * len(orig))
got = cp.images(orig, perm)
diff = (got.int() - want.int()).abs().amax(dim=(1, 2, 3))
changed = (orig != got).any(1).flatten(1).sum(1)
ids = cp.tokens(torch.tensor([[10, 11, 12, 13, 14, 15, 99]]), perm[:1])[0].tolist()
print(f"{len(orig)} images: recoloured pixels {changed.tolist()}, largest difference from the renderer {diff.tolist()} levels")
print(f"colour words {[10, 11, 12, 13, 14, 15, 99]} -> {ids}")
ok = int(diff.max()) <= 3 and ids == [10 + p for p in PERM] + [99] and int(changed.min()) > 0
print("ok" if ok else "MISMATCH")
sys.exit(0 if ok else 1)
