"""How far apart two chunk-regression bundles' action chunks are on a LeRobot dataset's real observations,
in the action's own units (degrees, gripper 0..100 for an SO-101 dataset). Used to measure what storing
the weights as float16 (`--weights fp16`, the default) costs against `--weights fp32`:

    python3 models/import/compare_bundles.py models/bundles/act-sim /tmp/act-fp32/act-sim \
        --dataset /tmp/act-sim-data --episodes 0-9 --every 5

Frames are decoded with PyAV from the dataset's videos (one file per episode, as `npm run record`
writes), states read with pyarrow; both must already be at the bundle's image size (no resize here).
Prints max / mean |difference| over every chunk element, per joint and overall, and a JSON line.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    import av
    import numpy as np
    import onnxruntime as ort
    import pyarrow.parquet as pq

    ap = argparse.ArgumentParser(prog="compare_bundles.py")
    ap.add_argument("a", help="bundle folder")
    ap.add_argument("b", help="bundle folder (the reference)")
    ap.add_argument("--dataset", required=True, help="LeRobot v3.0 dataset folder (one video file per episode)")
    ap.add_argument("--episodes", default="0-9", help="first-last episode index, inclusive")
    ap.add_argument("--every", type=int, default=5, help="use every N-th frame")
    args = ap.parse_args(argv)

    ma = json.loads((Path(args.a) / "manifest.json").read_text())
    mb = json.loads((Path(args.b) / "manifest.json").read_text())
    if ma["inputs"] != mb["inputs"] or ma["action"] != mb["action"]:
        print("error: the two bundles' manifests differ in inputs or action: not the same policy", file=sys.stderr)
        return 2
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sa = ort.InferenceSession(str(Path(args.a) / ma["policy"]["graph"]["file"]), opts, providers=["CPUExecutionProvider"])
    sb = ort.InferenceSession(str(Path(args.b) / mb["policy"]["graph"]["file"]), opts, providers=["CPUExecutionProvider"])
    out_name = ma["policy"]["graph"]["output"]
    std = np.asarray(ma["action"]["meanStd"]["std"], dtype=np.float64)
    ds = Path(args.dataset)
    info = json.loads((ds / "meta" / "info.json").read_text())
    lo, hi = (int(x) for x in args.episodes.split("-"))
    diffs = []
    for ep in range(lo, hi + 1):
        rows = pq.read_table(ds / info["data_path"].format(chunk_index=0, file_index=ep)).to_pandas()
        rows = rows[rows["episode_index"] == ep]
        frames = {}
        for cam in ma["inputs"]["cameras"]:
            path = ds / info["video_path"].format(video_key=f"observation.images.{cam['key']}", chunk_index=0, file_index=ep)
            with av.open(str(path)) as c:
                frames[cam["key"]] = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
            if len(frames[cam["key"]]) != len(rows):
                print(f"error: episode {ep} {cam['key']}: {len(frames[cam['key']])} frames, {len(rows)} rows", file=sys.stderr)
                return 2
        st = ma["inputs"].get("state")
        for i in range(0, len(rows), args.every):
            feed = {}
            for cam in ma["inputs"]["cameras"]:
                img = frames[cam["key"]][i]
                if img.shape[:2] != (cam["height"], cam["width"]):
                    print(f"error: frames are {img.shape[1]}x{img.shape[0]}, the bundle takes {cam['width']}x{cam['height']}", file=sys.stderr)
                    return 2
                x = (img.astype(np.float32) / 255.0 - np.asarray(cam["mean"], np.float32)) / np.asarray(cam["std"], np.float32)
                feed[cam["input"]] = x.transpose(2, 0, 1)[None].astype(np.float32)
            if st is not None:
                s = np.asarray(rows["observation.state"].iloc[i], dtype=np.float64)
                feed[st["input"]] = ((s - np.asarray(st["mean"])) / np.asarray(st["std"]))[None].astype(np.float32)
            ya = sa.run([out_name], feed)[0][0].astype(np.float64)
            yb = sb.run([out_name], feed)[0][0].astype(np.float64)
            diffs.append(np.abs(ya - yb) * std)  # unnormalised: x = y * std + mean, the mean cancels
    d = np.stack(diffs)  # [samples, chunk, joints]
    joints = ma["action"]["joints"]
    print(f"{len(d)} observations from episodes {lo}-{hi} (every {args.every}th frame), chunk {d.shape[1]} x {d.shape[2]} joints")
    for j, name in enumerate(joints):
        print(f"  {name:14s} max {d[:, :, j].max():.4f}  mean {d[:, :, j].mean():.5f}")
    print(f"  all            max {d.max():.4f}  mean {d.mean():.5f}")
    print(json.dumps({"observations": len(d), "max": float(d.max()), "mean": float(d.mean()),
                      "perJointMax": {n: float(d[:, :, j].max()) for j, n in enumerate(joints)}}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
