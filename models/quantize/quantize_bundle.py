"""Dynamic int8 quantisation of a bundle's ONNX graphs (onnxruntime.quantization.quantize_dynamic).

    python models/quantize/quantize_bundle.py --src models/bundles/demo --out models/bundles/demo-int8 \
        [--graphs target,draft,encoder] [--per-channel] [--ops MatMul]

Copies the bundle (manifest.json, tokenizers) to --out and replaces each chosen graph by its
dynamically quantised version: weights of the chosen ops (default MatMul) stored as int8
(symmetric, per tensor unless --per-channel), activations quantised to uint8 at run time
(DynamicQuantizeLinear: one scale per tensor, computed over the whole call). Graphs not chosen are
copied unchanged. The manifest keeps its graph file names, so the existing loader (runtime/bundle.ts)
validates and opens the variant like any bundle; its name and description say what was done.
"""
import argparse, json, shutil, os
from pathlib import Path

import onnx
from onnxruntime.quantization import QuantType, quantize_dynamic
from onnxruntime.quantization.shape_inference import quant_pre_process


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--src', default='models/bundles/demo')
    ap.add_argument('--out', default='models/bundles/demo-int8')
    ap.add_argument('--graphs', default='target,draft', help='manifest graph keys to quantise (encoder, target, draft)')
    ap.add_argument('--ops', default='MatMul', help='op types to quantise (comma separated)')
    ap.add_argument('--per-channel', action='store_true')
    a = ap.parse_args()
    src, out = Path(a.src), Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    man = json.loads((src / 'manifest.json').read_text())
    pol = man['policy']
    files = {k: pol[k]['file'] for k in ('encoder', 'target', 'draft') if isinstance(pol.get(k), dict) and 'file' in pol[k]}
    chosen = [g for g in a.graphs.split(',') if g]
    for g in chosen:
        if g not in files:
            raise SystemExit(f'--graphs: the bundle has no graph "{g}" (it has {", ".join(files)})')
    # everything but the graphs to quantise is copied as is
    for p in src.iterdir():
        if p.is_file() and p.name not in {files[g] for g in chosen} and p.name != 'manifest.json':
            shutil.copy2(p, out / p.name)
    ops = [o for o in a.ops.split(',') if o]
    for g in chosen:
        f = files[g]
        pre = out / (f + '.pre.onnx')
        # shape inference + ORT's own graph optimisation before quantisation (what the quantiser's docs advise)
        quant_pre_process(str(src / f), str(pre), skip_symbolic_shape=True)
        quantize_dynamic(str(pre), str(out / f), weight_type=QuantType.QInt8, per_channel=a.per_channel, op_types_to_quantize=ops)
        os.remove(pre)
        m = onnx.load(str(out / f))
        n = sum(1 for x in m.graph.node if x.op_type in ('MatMulInteger', 'DynamicQuantizeMatMul', 'ConvInteger', 'DynamicQuantizeLinear'))
        print(f'{g}: {f} {os.path.getsize(src / f) / 1e6:.2f} MB -> {os.path.getsize(out / f) / 1e6:.2f} MB, {n} quantised nodes')
    man['name'] = f"{man['name']}-int8"
    man['description'] = (f"{man['description']} | Dynamic int8 variant (models/quantize/quantize_bundle.py): "
                          f"{', '.join(chosen)} {'/'.join(ops)} weights int8 ({'per channel' if a.per_channel else 'per tensor'}), "
                          "activations uint8 with a per-call scale (onnxruntime.quantization.quantize_dynamic).")
    (out / 'manifest.json').write_text(json.dumps(man, indent=2) + '\n')


if __name__ == '__main__':
    main()
