"""LeRobot checkpoint -> Reins chunk-regression bundle (manifest.json + policy.onnx).

    npm run import -- lerobot CHECKPOINT_DIR --out models/bundles/NAME [--joints a,b,...]
                      [--dataset LEROBOT_DATASET_DIR] [--name NAME] [--resize stretch|center_crop]
                      [--weights fp16|fp32] [--check]

CHECKPOINT_DIR is a LeRobot `pretrained_model/` folder: config.json, model.safetensors and the
policy pre/post-processor files (policy_preprocessor.json, policy_postprocessor.json and their
normaliser state files). LeRobot itself is not needed: the ACT network is rebuilt by act_net.py.

What is converted
  * the network (ACT, ResNet18/34 trunk) -> policy.onnx, opset 17, batch 1; inputs one image per
    camera (`image_<key>`, float32 [1,3,H,W], already normalised) and `state` (float32 [1,S],
    normalised); output `action` float32 [1, chunk, A], normalised (LeRobot's model output);
  * the preprocessor's normalisation of the state and images -> manifest inputs (mean/std; MIN_MAX
    and QUANTILES stats are folded into the same mean/std form, exactly);
  * the postprocessor's unnormalisation of the action -> manifest action.meanStd;
  * camera keys (observation.images.<key>, in the model's order), chunk length, ACT's temporal
    ensembling coefficient (config temporal_ensemble_coeff, else ACT's 0.01).
  * --weights fp16 (default): the weight tensors of >= 1024 elements are stored as float16, each
    followed by a Cast to float32, so the file is half the size and every operation still runs in
    float32 (only the weights are rounded); --weights fp32 keeps them bit-exact.

Joint names are not stored in a LeRobot checkpoint: they come from --joints, or from the dataset's
meta/info.json (--dataset, or the train_config.json's dataset.root when it exists locally).
Units are the dataset's: a LeRobot SO-100/101 dataset since v0.4.4 is in degrees with the gripper
0..100, which is what Reins robots speak; a checkpoint trained on -100..100 data is not.

Exit status 2 and one line `error: <field>: <what to do>` on an unsupported checkpoint.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

EPS_DEFAULT = 1e-8


class ImportError_(Exception):
    """An unsupported or malformed checkpoint; str() names the field."""


def fail(field: str, msg: str) -> None:
    raise ImportError_(f"{field}: {msg}")


def read_json(p: Path) -> dict:
    try:
        return json.loads(p.read_text())
    except FileNotFoundError:
        fail(p.name, f"missing in {p.parent} (is this a LeRobot pretrained_model/ folder?)")
    except json.JSONDecodeError as e:
        fail(p.name, f"is not valid JSON ({e})")
    raise AssertionError


# ---------------------------------------------------------------- config checks

SUPPORTED_TYPES = {"act"}
# the ResNets act_net.py builds (basic blocks; BASIC_RESNETS there), named here so that checking a config needs no torch
BACKBONES = ("resnet18", "resnet34")
NOT_YET = {
    "diffusion": "Diffusion Policy runs a DDPM/DDIM denoising loop of a 1D conditional U-Net over the whole action "
                 "chunk (num_inference_steps, default 100) with a noise scheduler; the chunk-regression bundle kind is "
                 "one forward pass, so it needs a new 'denoising' policy kind in the runtime (scheduler, step loop, "
                 "noise seed) before these checkpoints can be imported",
    "smolvla": "SmolVLA is a vision-language model policy: run it on an inference server and connect it through the remote-policy path",
    "pi0": "pi0 is a vision-language model policy: serve it (openpi) and connect it through the remote-policy path",
    "pi05": "pi0.5 is a vision-language model policy: serve it (openpi) and connect it through the remote-policy path",
}


def check_config(cfg: dict) -> None:
    t = cfg.get("type")
    if t not in SUPPORTED_TYPES:
        if t in NOT_YET:
            fail("config.json type", f'"{t}" is not supported yet: {NOT_YET[t]}')
        fail("config.json type", f'"{t}" is not supported: only ACT checkpoints ("type": "act") can be imported')
    bb = cfg.get("vision_backbone")
    if bb not in BACKBONES:
        fail("config.json vision_backbone", f'"{bb}" is not supported: use one of {sorted(BACKBONES)}')
    if cfg.get("replace_final_stride_with_dilation"):
        fail("config.json replace_final_stride_with_dilation", "true is not supported (dilated final stage)")
    if cfg.get("n_obs_steps", 1) != 1:
        fail("config.json n_obs_steps", f"{cfg.get('n_obs_steps')} is not supported: ACT takes one observation (1)")
    if cfg.get("feedforward_activation", "relu") not in ("relu", "gelu"):
        fail("config.json feedforward_activation", f'"{cfg.get("feedforward_activation")}" is not supported (relu or gelu)')
    if cfg.get("use_peft"):
        fail("config.json use_peft", "true is not supported: merge the adapter into the weights first")
    for k in ("dim_model", "n_heads", "dim_feedforward", "n_encoder_layers", "n_decoder_layers", "latent_dim", "chunk_size"):
        v = cfg.get(k)
        if not isinstance(v, int) or v <= 0:
            fail(f"config.json {k}", f"must be a positive integer, got {v!r}")
    if cfg["dim_model"] % cfg["n_heads"] != 0:
        fail("config.json n_heads", f"{cfg['n_heads']} does not divide dim_model {cfg['dim_model']}")
    inputs = cfg.get("input_features") or {}
    for key, f in inputs.items():
        ty = f.get("type")
        if ty == "VISUAL":
            if not key.startswith("observation.images.") and key != "observation.image":
                fail(f"config.json input_features.{key}", "a camera must be named observation.images.<camera key>")
            if len(f.get("shape", [])) != 3 or f["shape"][0] != 3:
                fail(f"config.json input_features.{key}.shape", f"{f.get('shape')} is not [3, H, W]")
        elif ty == "STATE":
            if key != "observation.state":
                fail(f"config.json input_features.{key}", "only observation.state is supported as the state input")
        elif ty == "ENV":
            fail(f"config.json input_features.{key}", "an environment-state input (simulator ground truth) has no source on a robot; not supported")
        else:
            fail(f"config.json input_features.{key}.type", f'"{ty}" is not supported (VISUAL or STATE)')
    if not any(f.get("type") == "VISUAL" for f in inputs.values()):
        fail("config.json input_features", "no camera (VISUAL) input: an ACT without images is not supported")
    out = cfg.get("output_features") or {}
    if list(out) != ["action"] or out["action"].get("type") != "ACTION":
        fail("config.json output_features", f"expected exactly one ACTION feature named action, got {list(out)}")


# ---------------------------------------------------------------- normaliser stats

def load_stats(ckpt: Path, pipeline_file: str, step_names: tuple[str, ...]) -> tuple[dict, dict, float]:
    """(stats {feature: {stat: np.ndarray}}, norm_map {TYPE: MODE}, eps) of the normaliser step."""
    from safetensors.numpy import load_file
    pj = read_json(ckpt / pipeline_file)
    for i, step in enumerate(pj.get("steps", [])):
        if step.get("registry_name") in step_names:
            conf = step.get("config", {})
            sf = step.get("state_file")
            if sf is None:
                fail(f"{pipeline_file} steps[{i}].state_file", "missing: the normaliser has no stats file")
            raw = load_file(str(ckpt / sf))
            stats: dict = {}
            for k, v in raw.items():
                feat, _, stat = k.rpartition(".")
                stats.setdefault(feat, {})[stat] = v.astype("float64")
            return stats, conf.get("norm_map", {}), float(conf.get("eps", EPS_DEFAULT))
    fail(pipeline_file, f"has no {' / '.join(step_names)} step")
    raise AssertionError


def affine(feature: str, ftype: str, stats: dict, norm_map: dict, eps: float, where: str):
    """The normaliser of one feature as (centre, scale, inv_scale): normalised = (x - centre) / scale,
    x = normalised * inv_scale + centre. Exactly LeRobot's formulas (MEAN_STD unnormalises with std
    without eps)."""
    import numpy as np
    mode = norm_map.get(ftype, "IDENTITY")
    st = stats.get(feature)
    if mode == "IDENTITY":
        return None
    if st is None:
        fail(f"{where} stats for {feature}", f"missing ({mode} needs them)")
    if mode == "MEAN_STD":
        return st["mean"], st["std"] + eps, st["std"]
    pairs = {"MIN_MAX": ("min", "max"), "QUANTILES": ("q01", "q99"), "QUANTILE10": ("q10", "q90")}
    if mode in pairs:
        lo_k, hi_k = pairs[mode]
        if lo_k not in st or hi_k not in st:
            fail(f"{where} stats for {feature}", f"{mode} needs {lo_k} and {hi_k}")
        lo, hi = st[lo_k], st[hi_k]
        denom = np.where(hi - lo == 0, eps, hi - lo)
        return lo + denom / 2, denom / 2, denom / 2
    fail(f"{where} norm_map.{ftype}", f'"{mode}" is not supported (MEAN_STD, MIN_MAX, QUANTILES, QUANTILE10, IDENTITY)')
    raise AssertionError


# ---------------------------------------------------------------- weights

def build_net(cfg: dict, ckpt: Path):
    import torch
    from safetensors.torch import load_file
    from act_net import ActDims, ActNet
    inputs = cfg["input_features"]
    cams = [k for k, f in inputs.items() if f["type"] == "VISUAL"]
    state_dim = inputs["observation.state"]["shape"][0] if "observation.state" in inputs else 0
    dims = ActDims(
        backbone=cfg["vision_backbone"], n_cameras=len(cams), state_dim=state_dim,
        action_dim=cfg["output_features"]["action"]["shape"][0], chunk=cfg["chunk_size"],
        dim_model=cfg["dim_model"], n_heads=cfg["n_heads"], dim_feedforward=cfg["dim_feedforward"],
        n_encoder_layers=cfg["n_encoder_layers"], n_decoder_layers=cfg["n_decoder_layers"],
        latent_dim=cfg["latent_dim"], pre_norm=bool(cfg.get("pre_norm", False)),
        activation=cfg.get("feedforward_activation", "relu"))
    net = ActNet(dims).eval()
    wf = ckpt / "model.safetensors"
    if not wf.exists():
        fail("model.safetensors", f"missing in {ckpt}")
    sd = load_file(str(wf))
    # LeRobot prefixes the network's tensors with `model.`; the CVAE encoder is training-only.
    own = {k[len("model."):]: v for k, v in sd.items() if k.startswith("model.")}
    unused_ok = ("vae_encoder", "encoder_env_state_input_proj")
    want = net.state_dict()
    missing = [k for k in want if k not in own]
    if missing:
        fail("model.safetensors", f"lacks {len(missing)} tensors this config needs, e.g. model.{missing[0]}")
    extra = [k for k in own if k not in want and not k.startswith(unused_ok)]
    if extra:
        fail("model.safetensors", f"has tensors this importer does not understand, e.g. model.{extra[0]} (config/weights mismatch?)")
    for k, v in want.items():
        if tuple(own[k].shape) != tuple(v.shape):
            fail(f"model.safetensors model.{k}", f"shape {tuple(own[k].shape)}, config implies {tuple(v.shape)}")
    net.load_state_dict({k: own[k].float() for k in want}, strict=True)
    return net, dims, cams, torch


# ---------------------------------------------------------------- weight storage

FP16_MIN_ELEMENTS = 1024  # smaller tensors (biases, norms, scalars) stay float32: they weigh nothing
FP16_MAX = 65504.0


def store_weights_fp16(src: Path, dst: Path, min_elements: int = FP16_MIN_ELEMENTS) -> tuple[int, int, int]:
    """Rewrite the ONNX model at src into dst with every float32 initializer of at least min_elements
    elements stored as float16 under `<name>__fp16`, and a Cast(to=FLOAT) node producing `<name>` put
    at the head of the graph: the consumers are unchanged and compute in float32; only the storage is
    rounded to half precision. A tensor with a value beyond float16's range stays float32.
    Returns (tensors converted, bytes before, bytes after)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    src, dst = Path(src), Path(dst)
    model = onnx.load(str(src))
    g = model.graph
    graph_inputs = {i.name for i in g.input}
    used = {n.name for n in g.node}
    casts = []
    converted = 0
    for init in g.initializer:
        if init.data_type != TensorProto.FLOAT or init.name in graph_inputs:
            continue
        a = numpy_helper.to_array(init)
        if a.size < min_elements or not np.all(np.isfinite(a)) or float(np.abs(a).max()) > FP16_MAX:
            continue
        name = init.name
        half = numpy_helper.from_array(a.astype(np.float16), name=f"{name}__fp16")
        init.CopyFrom(half)
        node_name = f"{name}__cast"
        while node_name in used:
            node_name += "_"
        used.add(node_name)
        casts.append(helper.make_node("Cast", [f"{name}__fp16"], [name], name=node_name, to=TensorProto.FLOAT))
        converted += 1
    nodes = casts + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    onnx.checker.check_model(model)
    before = src.stat().st_size
    onnx.save(model, str(dst))
    return converted, before, dst.stat().st_size


# ---------------------------------------------------------------- joint names

def joint_names(args, cfg: dict, ckpt: Path, state_dim: int, action_dim: int) -> tuple[list[str], list[str], str]:
    if args.joints:
        names = [s.strip() for s in args.joints.split(",") if s.strip()]
        st = names if state_dim > 0 else []
        if len(names) != action_dim or (state_dim > 0 and len(names) != state_dim):
            fail("--joints", f"names {len(names)} joints; the checkpoint has state {state_dim}, action {action_dim}")
        return st, names, "--joints"
    ds = Path(args.dataset) if args.dataset else None
    if ds is None and (ckpt / "train_config.json").exists():
        root = (read_json(ckpt / "train_config.json").get("dataset") or {}).get("root")
        if root and (Path(root) / "meta" / "info.json").exists():
            ds = Path(root)
    if ds is None:
        fail("joint names", "a LeRobot checkpoint does not store them: pass --joints shoulder_pan,...,gripper or --dataset DATASET_DIR")
    info = read_json(ds / "meta" / "info.json")
    feats = info.get("features", {})

    def names_of(key: str, n: int) -> list[str]:
        f = feats.get(key)
        if f is None:
            fail(f"{ds}/meta/info.json features.{key}", "missing")
        nm = f.get("names")
        if isinstance(nm, dict):  # older datasets: {"motors": [...]}
            nm = next(iter(nm.values()))
        if not isinstance(nm, list) or len(nm) != n:
            fail(f"{ds}/meta/info.json features.{key}.names", f"expected {n} names, got {nm!r}")
        return [str(x).removesuffix(".pos") for x in nm]

    st = names_of("observation.state", state_dim) if state_dim > 0 else []
    return st, names_of("action", action_dim), f"{ds}/meta/info.json"


# ---------------------------------------------------------------- main

def convert(args) -> dict:
    import numpy as np
    ckpt = Path(args.checkpoint)
    if not ckpt.is_dir():
        fail("CHECKPOINT_DIR", f"{ckpt} is not a folder")
    cfg = read_json(ckpt / "config.json")
    check_config(cfg)
    inputs = cfg["input_features"]
    state_dim = inputs["observation.state"]["shape"][0] if "observation.state" in inputs else 0
    st_names, act_names, names_from = joint_names(args, cfg, ckpt, state_dim, cfg["output_features"]["action"]["shape"][0])
    pre, pre_map, pre_eps = load_stats(ckpt, "policy_preprocessor.json", ("normalizer_processor",))
    post, post_map, post_eps = load_stats(ckpt, "policy_postprocessor.json", ("unnormalizer_processor",))
    net, dims, cams, torch = build_net(cfg, ckpt)

    cameras = []
    for key in cams:
        c, s, _ = affine(key, "VISUAL", pre, pre_map, pre_eps, "policy_preprocessor") or (np.zeros(3), np.ones(3), None)
        c = np.asarray(c).reshape(-1)
        s = np.asarray(s).reshape(-1)
        if c.size == 1:
            c, s = np.repeat(c, 3), np.repeat(s, 3)
        if c.size != 3:
            fail(f"policy_preprocessor stats for {key}", f"expected per-channel stats (3 values), got {c.size}")
        ck = "image" if key == "observation.image" else key[len("observation.images."):]
        _, h, w = inputs[key]["shape"]
        cam = {"key": ck, "input": f"image_{ck}", "width": w, "height": h,
               "mean": [float(x) for x in c], "std": [float(x) for x in s]}
        if args.resize:
            cam["resize"] = args.resize
        cameras.append(cam)
    manifest_inputs: dict = {"cameras": cameras}
    if dims.state_dim > 0:
        a = affine("observation.state", "STATE", pre, pre_map, pre_eps, "policy_preprocessor")
        mean, std = (a[0], a[1]) if a is not None else (np.zeros(dims.state_dim), np.ones(dims.state_dim))
        manifest_inputs["state"] = {"input": "state", "joints": st_names, "mean": [float(x) for x in mean], "std": [float(x) for x in std]}
    a = affine("action", "ACTION", post, post_map, post_eps, "policy_postprocessor")
    amean, ascale = (a[0], a[2]) if a is not None else (np.zeros(dims.action_dim), np.ones(dims.action_dim))

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    onnx_path = out / "policy.onnx"
    imgs = [torch.zeros(1, 3, inputs[k]["shape"][1], inputs[k]["shape"][2]) for k in cams]
    state = torch.zeros(1, dims.state_dim) if dims.state_dim > 0 else None

    class Wrapped(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, *xs):
            n = len(imgs)
            return self.net(list(xs[:n]), xs[n] if state is not None else None)

    names_in = [c["input"] for c in cameras] + (["state"] if state is not None else [])
    feeds = tuple(imgs) + ((state,) if state is not None else ())
    import warnings
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Wrapped().eval(), feeds, str(onnx_path), dynamo=False, opset_version=17,
                          input_names=names_in, output_names=["action"], do_constant_folding=True)
    fp32_path = onnx_path
    if args.weights == "fp16":
        # keep the fp32 graph beside the bundle only for --check, then store the weights in half precision
        import shutil
        import tempfile
        tmpdir = Path(tempfile.mkdtemp(prefix="reins-import-"))
        fp32_path = tmpdir / "policy.fp32.onnx"
        shutil.copyfile(onnx_path, fp32_path)
        n, before, after = store_weights_fp16(onnx_path, onnx_path)
        print(f"weights: {n} float32 initializers stored as float16 with a Cast to float32 before use "
              f"({before / 1e6:.1f} MB -> {after / 1e6:.1f} MB)")

    coeff = cfg.get("temporal_ensemble_coeff")
    name = args.name or out.name
    manifest = {
        "format": "reins-bundle", "version": 1, "name": name,
        "description": (f"LeRobot ACT imported by models/import/lerobot.py from {ckpt.name}: {dims.backbone}, "
                        f"d={dims.dim_model}, {dims.n_encoder_layers}+{dims.n_decoder_layers} layers, chunk {dims.chunk}, "
                        f"n_action_steps {cfg.get('n_action_steps')}; joints from {names_from}; "
                        f"units as in the training dataset (Reins: degrees, gripper 0..100)."),
        "inputs": manifest_inputs,
        "policy": {"kind": "chunk_regression", "graph": {"file": "policy.onnx", "output": "action"},
                   "temporalCoeff": float(coeff) if coeff is not None else 0.01},
        "action": {"joints": act_names, "chunk": dims.chunk,
                   "meanStd": {"mean": [float(x) for x in amean], "std": [float(x) for x in ascale]}},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")

    if args.check:
        import onnxruntime as ort
        rng = np.random.default_rng(0)
        xs = [rng.standard_normal(tuple(t.shape)).astype("float32") for t in feeds]
        with torch.no_grad():
            ref = Wrapped()(*[torch.from_numpy(x) for x in xs]).numpy()
        def run(path: Path):
            sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            return sess.run(["action"], dict(zip(names_in, xs)))[0]
        got = run(fp32_path)
        err = float(np.abs(got - ref).max())
        print(f"check: ONNX (fp32 weights) vs PyTorch max abs diff {err:.2e}")
        if err > 1e-4:
            fail("export", f"ONNX output differs from PyTorch by {err:.2e}")
        if args.weights == "fp16":
            half = run(onnx_path)
            d = np.abs(half - got)
            # in normalised action units (std of the training data); the manifest's std turns them into degrees
            print(f"check: fp16-stored weights vs fp32 weights, normalised action: max abs diff {float(d.max()):.2e}, "
                  f"mean {float(d.mean()):.2e}")
            if not np.all(np.isfinite(half)):
                fail("--weights fp16", "the graph with float16 weights gives non-finite actions: import with --weights fp32")
    if fp32_path != onnx_path:
        import shutil
        shutil.rmtree(fp32_path.parent, ignore_errors=True)
    return manifest


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="npm run import -- lerobot", description="Import a LeRobot ACT checkpoint as a Reins bundle.")
    ap.add_argument("checkpoint", help="LeRobot pretrained_model/ folder")
    ap.add_argument("--out", required=True, help="bundle folder to write, e.g. models/bundles/act-sim")
    ap.add_argument("--name", help="bundle name (default: the --out folder's name)")
    ap.add_argument("--joints", help="comma-separated joint names, in the checkpoint's state/action order")
    ap.add_argument("--dataset", help="the LeRobot dataset the policy was trained on (joint names from meta/info.json)")
    ap.add_argument("--resize", choices=("stretch", "center_crop"),
                    help="how a camera frame of another size than the model's is resized (default stretch; "
                         "center_crop keeps the geometry of a model trained on square frames when the camera is 4:3)")
    ap.add_argument("--weights", choices=("fp16", "fp32"), default="fp16",
                    help="storage of the large weight tensors in policy.onnx (default fp16: half the file, each "
                         "tensor cast back to float32 before use so every computation stays float32; fp32: "
                         "bit-exact weights)")
    ap.add_argument("--check", action="store_true", help="also run the ONNX graph against the PyTorch rebuild")
    args = ap.parse_args(argv)
    try:
        m = convert(args)
    except ImportError_ as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {os.path.join(args.out, 'manifest.json')} and policy.onnx: {len(m['inputs']['cameras'])} camera(s), "
          f"{len(m['action']['joints'])} action joints, chunk {m['action']['chunk']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
