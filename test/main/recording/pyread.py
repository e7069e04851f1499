"""Reads a Reins dataset the way LeRobot's loader does (pyarrow + pandas), independently of the
TypeScript writer and of hyparquet. Invoked by helpers.ts (verifyWithPandas); exits non-zero with
the reason on the first mismatch, else prints one JSON object with what it read.

Checks:
* meta/tasks.parquet: pd.read_parquet(...).index holds the task strings, task_index = row;
* every data file: pq.read_schema() carries the `huggingface` key (on the Arrow schema, where
  pyarrow looks) and its columns, types and fixed list sizes equal info.json's features, with
  scalar floats as float32 (LeRobot casts every scalar float feature to float32);
* data/*/*.parquet (the glob LeRobot loads) holds exactly the files the episodes table references;
* meta/episodes: ranges, lengths and tasks agree with the data files;
* meta/stats.json and the per-episode stats columns recompute from the data files
  (min, max, mean, std, count; quantiles lie within [min, max]); a feature that holds NaN (the
  shadow-mode columns on frames without a shadow goal) is summed over its NaN-free rows only,
  count = those rows, all zeros when there are none;
* shadow mode: shadow_valid is exactly the rows where shadow_goal is not NaN, and
  shadow_disagreement = shadow_goal - action on them (float32).
"""
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


ARROW_OF = {"float32": pa.float32(), "int64": pa.int64(), "bool": pa.bool_()}


def expected_type(ft):
    dtype, shape = ft["dtype"], ft["shape"]
    check(dtype in ARROW_OF, f"feature dtype {dtype} is not one LeRobot keeps exactly (float32, int64, bool)")
    if shape == [1]:
        return ARROW_OF[dtype]
    return pa.list_(ARROW_OF[dtype], shape[0])


def valid_rows(vals):
    """Rows without NaN (a frame without a value is left out of the stats)."""
    return vals[~np.isnan(vals).any(axis=1)]


def check_stats(get, vals, where):
    vals = valid_rows(vals)
    if len(vals) == 0:
        for stat in ("min", "max", "mean", "std"):
            check(np.all(np.asarray(get(stat), dtype=np.float64) == 0), f"{where}: {stat} of a feature without values is {get(stat)}, not 0")
        return 0
    for stat, fn in (("min", np.min), ("max", np.max), ("mean", np.mean), ("std", np.std)):
        got = np.asarray(get(stat), dtype=np.float64)
        want = fn(vals, axis=0)
        check(np.allclose(got, want, rtol=1e-5, atol=1e-5), f"{where}.{stat} {got.tolist()} != recomputed {want.tolist()}")
    return len(vals)


def main(root):
    root = Path(root)
    info = json.loads((root / "meta/info.json").read_text())
    features = info["features"]
    fps = info["fps"]
    non_video = [k for k, ft in features.items() if ft["dtype"] not in ("video", "image")]

    # tasks: the text is the pandas index
    tasks_df = pd.read_parquet(root / "meta/tasks.parquet")
    tasks = [str(t) for t in tasks_df.index]
    check(tasks_df.index.name == "task", f"tasks.parquet index is {tasks_df.index.name!r}, not 'task'")
    check(list(tasks_df.columns) == ["task_index"], f"tasks.parquet columns {list(tasks_df.columns)}")
    check(list(tasks_df["task_index"]) == list(range(len(tasks))), "task_index is not the row number")
    check(len(tasks) == info["total_tasks"], f"{len(tasks)} tasks, info.json says {info['total_tasks']}")

    ep_path = root / "meta/episodes/chunk-000/file-000.parquet"
    if info["total_episodes"] == 0:
        check(not list((root / "data").glob("*/*.parquet")), "an empty dataset has data files")
        print(json.dumps({"tasks": tasks, "episodes": 0, "frames": 0}))
        return
    eps = pd.read_parquet(ep_path)
    check(len(eps) == info["total_episodes"], "episodes rows != total_episodes")
    referenced = set()
    frames = []
    used_tasks = set()
    for i, ep in eps.iterrows():
        check(int(ep["episode_index"]) == i, f"episode row {i} holds {ep['episode_index']}")
        rel = f"data/chunk-{int(ep['data/chunk_index']):03d}/file-{int(ep['data/file_index']):03d}.parquet"
        referenced.add(rel)
        path = root / rel
        schema = pq.read_schema(path)
        md = schema.metadata or {}
        check(b"huggingface" in md, f"{rel}: no `huggingface` key on the Arrow schema (pyarrow cannot see it)")
        hf = json.loads(md[b"huggingface"])["info"]["features"]
        check(list(schema.names) == non_video, f"{rel}: columns {schema.names} != features {non_video}")
        for k in non_video:
            want = expected_type(features[k])
            got = schema.field(k).type
            check(got == want, f"{rel}: column {k} is {got}, info.json declares {want}")
            h = hf[k]
            if features[k]["shape"] == [1]:
                check(h == {"dtype": features[k]["dtype"], "_type": "Value"}, f"{rel}: huggingface {k} = {h}")
            else:
                check(h["length"] == features[k]["shape"][0] and h["feature"]["dtype"] == features[k]["dtype"], f"{rel}: huggingface {k} = {h}")
        df = pd.read_parquet(path)
        df = df[df["episode_index"] == i]
        n = int(ep["length"])
        check(len(df) == n, f"episode {i}: {len(df)} rows, length {n}")
        check(list(df["index"]) == list(range(int(ep["dataset_from_index"]), int(ep["dataset_to_index"]))), f"episode {i}: index range")
        check(list(df["frame_index"]) == list(range(n)), f"episode {i}: frame_index")
        ts = df["timestamp"].to_numpy()
        check(ts.dtype == np.float32, f"timestamp dtype {ts.dtype}")
        check(np.array_equal(ts, (np.arange(n) / fps).astype(np.float32)), f"episode {i}: timestamp != frame_index / fps")
        ti = set(int(x) for x in df["task_index"])
        check(len(ti) == 1, f"episode {i}: several task indices {ti}")
        t = ti.pop()
        used_tasks.add(t)
        check(list(ep["tasks"]) == [tasks[t]], f"episode {i}: tasks {list(ep['tasks'])} vs task_index {t} = {tasks[t]!r}")
        frames.append(df)
        if "shadow_goal" in df.columns:
            g = np.stack([np.asarray(v, dtype=np.float32) for v in df["shadow_goal"]])
            d = np.stack([np.asarray(v, dtype=np.float32) for v in df["shadow_disagreement"]])
            a = np.stack([np.asarray(v, dtype=np.float32) for v in df["action"]])
            has = ~np.isnan(g).any(axis=1)
            check(np.array_equal(has, df["shadow_valid"].to_numpy(dtype=bool)), f"episode {i}: shadow_valid is not where shadow_goal has values")
            check(np.isnan(g[~has]).all() and np.isnan(d[~has]).all(), f"episode {i}: shadow columns hold values on frames without a shadow goal")
            check(np.allclose(d[has], g[has] - a[has], atol=1e-3), f"episode {i}: shadow_disagreement != shadow_goal - action")
        # per-episode stats columns recompute
        for k in non_video:
            vals = np.stack([np.asarray(v, dtype=np.float64).reshape(-1) for v in df[k]])
            if f"stats/{k}/min" in eps.columns:
                n_valid = check_stats(lambda stat: ep[f"stats/{k}/{stat}"], vals, f"episode {i}: stats/{k}")
                check(int(np.asarray(ep[f"stats/{k}/count"])[0]) == n_valid, f"episode {i}: stats/{k}/count {ep[f'stats/{k}/count']} != {n_valid}")
    on_disk = set(str(p.relative_to(root)) for p in (root / "data").glob("*/*.parquet"))
    check(on_disk == referenced, f"data/*/*.parquet (what LeRobot loads) {sorted(on_disk)} != referenced {sorted(referenced)}")
    check(used_tasks == set(range(len(tasks))), f"tasks.parquet holds tasks no episode uses: used {sorted(used_tasks)} of {len(tasks)}")
    all_df = pd.concat(frames)
    check(len(all_df) == info["total_frames"], "total_frames")
    check(list(all_df["index"]) == list(range(len(all_df))), "global index not continuous")

    stats = json.loads((root / "meta/stats.json").read_text())
    for k in non_video:
        vals = np.stack([np.asarray(v, dtype=np.float64).reshape(-1) for v in all_df[k]])
        s = stats[k]
        n_valid = check_stats(lambda stat: s[stat], vals, f"stats.json {k}")
        check(s["count"] == [n_valid], f"stats {k} count {s['count']}, {n_valid} rows with values")
        for q in ("q01", "q10", "q50", "q90", "q99"):
            qq = np.asarray(s[q])
            check(np.all(qq >= np.asarray(s["min"]) - 1e-9) and np.all(qq <= np.asarray(s["max"]) + 1e-9), f"stats.json {k}.{q} outside [min, max]")
    out = {
        "tasks": tasks,
        "episodes": len(eps),
        "frames": len(all_df),
        "dtypes": {k: str(pq.read_schema(root / sorted(referenced)[0]).field(k).type) for k in non_video},
        "episode_columns": [c for c in eps.columns if not c.startswith("stats/")],
    }
    if "shadow_valid" in all_df.columns:
        out["shadow_frames"] = int(all_df["shadow_valid"].sum())
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
