"""Dynamic int8 quantisation of a bundle's ONNX graphs (onnxruntime.quantization.quantize_dynamic).

    python models/quantize/quantize_bundle.py --src models/bundles/demo --out models/bundles/demo-int8 \
        [--graphs target,draft,encoder] [--per-channel] [--ops MatMul]

    python models/quantize/quantize_bundle.py --static .data/steps --out models/bundles/demo-int8s   # static (calibrated)

Copies the bundle (manifest.json, tokenizers) to --out and replaces each chosen graph by its
dynamically quantised version: weights of the chosen ops (default MatMul) stored as int8
(symmetric, per tensor unless --per-channel), activations quantised to uint8 at run time
(DynamicQuantizeLinear: one scale per tensor, computed over the whole call). Graphs not chosen are
copied unchanged. With --static DIR (a dump of `bench/policy.ts --only dump`): static QDQ
quantisation instead, activation scales fixed by MinMax calibration on the dumped steps (each
decoder prefilled with prompt + answer on its encoder memory), weight MatMuls only — a token's
result then no longer depends on the other tokens of its pass. The manifest keeps its graph file names, so the existing loader (runtime/bundle.ts)
validates and opens the variant like any bundle; its name and description say what was done.
"""
import argparse, json, shutil, os
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_dynamic, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process


class Calib(CalibrationDataReader):
    """Decoder feeds for calibration: each dumped step's prompt + answer prefilled on its encoder memory."""

    def __init__(self, src: Path, man: dict, graph: str, steps: Path, names: set):
        pol = man['policy']
        dump = json.loads((steps / 'steps.json').read_text())
        flat = np.fromfile(steps / 'inputs.f32', dtype=np.float32)
        enc = ort.InferenceSession(str(src / pol['encoder']['file']), providers=['CPUExecutionProvider'])
        shapes = {i.name: [d if isinstance(d, int) else 1 for d in i.shape] for i in enc.get_inputs()}
        spec = pol[graph]
        self.items = []
        off = 0
        for st in dump['steps']:
            feeds = {}
            for name in dump['encoderInputs']:
                size = int(np.prod(shapes[name]))
                feeds[name] = flat[off:off + size].reshape(shapes[name])
                off += size
            mem = dict(zip([o.name for o in enc.get_outputs()], enc.run(None, feeds)))
            ids = st['prompt'] + st['generated']
            item = {'input_ids': np.array([ids], dtype=np.int64), 'position_ids': np.arange(len(ids), dtype=np.int64)[None]}
            for i in range(spec['layers']):
                for kv in ('key', 'value'):
                    item[f'past_key_values.{i}.{kv}'] = np.zeros((1, spec['kvHeads'], 0, spec['headDim']), dtype=np.float32)
            item.update(mem)
            self.items.append(item)
        self.names = names
        self.it = iter(self.items)

    def get_next(self):
        item = next(self.it, None)
        if item is None:
            return None
        return {k: v for k, v in item.items() if k in self.names}

    def rewind(self):
        self.it = iter(self.items)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--src', default='models/bundles/demo')
    ap.add_argument('--out', default='models/bundles/demo-int8')
    ap.add_argument('--graphs', default='target,draft', help='manifest graph keys to quantise (encoder, target, draft)')
    ap.add_argument('--ops', default='MatMul', help='op types to quantise (comma separated)')
    ap.add_argument('--per-channel', action='store_true')
    ap.add_argument('--static', default='', help='dump dir of bench/policy.ts --only dump: static QDQ quantisation calibrated on it')
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
        if a.static:
            if g == 'encoder':
                raise SystemExit('--static quantises decoders only (--graphs target,draft)')
            pm = onnx.load(str(pre))
            inits = {t.name for t in pm.graph.initializer}
            weight_mm = [n.name for n in pm.graph.node if n.op_type in ops and len(n.input) > 1 and n.input[1] in inits]
            quantize_static(str(pre), str(out / f), Calib(src, man, g, Path(a.static), {i.name for i in pm.graph.input}), quant_format=QuantFormat.QDQ,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=a.per_channel,
                            nodes_to_quantize=weight_mm, calibrate_method=CalibrationMethod.MinMax)
        else:
            quantize_dynamic(str(pre), str(out / f), weight_type=QuantType.QInt8, per_channel=a.per_channel, op_types_to_quantize=ops)
        os.remove(pre)
        m = onnx.load(str(out / f))
        n = sum(1 for x in m.graph.node if x.op_type in ('MatMulInteger', 'DynamicQuantizeMatMul', 'ConvInteger', 'DynamicQuantizeLinear', 'QuantizeLinear'))
        print(f'{g}: {f} {os.path.getsize(src / f) / 1e6:.2f} MB -> {os.path.getsize(out / f) / 1e6:.2f} MB, {n} quantised nodes')
    man['name'] = f"{man['name']}-int8"
    how = ("activations uint8 with scales fixed by MinMax calibration on simulator steps (onnxruntime.quantization.quantize_static, QDQ)"
           if a.static else "activations uint8 with a per-call scale (onnxruntime.quantization.quantize_dynamic)")
    man['description'] = (f"{man['description']} | {'Static' if a.static else 'Dynamic'} int8 variant (models/quantize/quantize_bundle.py): "
                          f"{', '.join(chosen)} {'/'.join(ops)} weights int8 ({'per channel' if a.per_channel else 'per tensor'}), {how}.")
    (out / 'manifest.json').write_text(json.dumps(man, indent=2) + '\n')


if __name__ == '__main__':
    main()
