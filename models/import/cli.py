"""`npm run import -- SOURCE ...`: converts a checkpoint from another framework into a Reins bundle.

Sources: lerobot (models/import/lerobot.py; ACT checkpoints).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

SOURCES = ("lerobot",)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in SOURCES:
        got = argv[0] if argv else "(nothing)"
        print(f"error: source: {got} is not known; usage: npm run import -- lerobot CHECKPOINT_DIR --out models/bundles/NAME "
              f"[--joints a,b,...] [--dataset DATASET_DIR] [--weights fp16|fp32] [--check]", file=sys.stderr)
        return 2
    import lerobot
    return lerobot.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
