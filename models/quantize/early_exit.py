"""Would early exit pay on this bundle? A logit-lens measurement on the shipped target decoder.

    npx tsx bench/policy.ts --bundle models/bundles/demo --only dump --out .data/steps --seeds 2
    python models/quantize/early_exit.py --bundle models/bundles/demo --steps .data/steps

The bundle exports no intermediate heads, so the only exit available without training is the
final LayerNorm + LM head applied to the residual stream after block k (a "logit lens"). For every
step the dump holds (greedy answers on held-out simulator episodes), the target decoder is run
once over prompt + answer (teacher-forced, one prefill) with the residual streams after each block
exposed as extra outputs; at every answer position the exit's argmax (over the class the answer
grammar allows there: action bins after <act>, other ids before) is compared with the full model's.
Also reports the fraction of positions where an exit's top-1 probability is above a confidence
threshold and, of those, how many agree (what a CALM-style confidence exit would commit), and
the share of the decoder's MatMul FLOPs per block (what an exit after block k could save).
Prints one JSON line last.
"""
import argparse, json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--bundle', default='models/bundles/demo')
    ap.add_argument('--steps', default='.data/steps')
    ap.add_argument('--thresholds', default='0.9,0.99')
    a = ap.parse_args()
    b = Path(a.bundle)
    man = json.loads((b / 'manifest.json').read_text())
    pol = man['policy']
    dump = json.loads((Path(a.steps) / 'steps.json').read_text())
    flat = np.fromfile(Path(a.steps) / 'inputs.f32', dtype=np.float32)

    enc = ort.InferenceSession(str(b / pol['encoder']['file']), providers=['CPUExecutionProvider'])
    enc_inputs = {i.name: [d if isinstance(d, int) else 1 for d in i.shape] for i in enc.get_inputs()}

    m = onnx.load(str(b / pol['target']['file']))
    layers = pol['target']['layers']
    init = {t.name: onnx.numpy_helper.to_array(t) for t in m.graph.initializer}
    resid = [f'/dec/blocks.{k}/Add_3_output_0' for k in range(layers)]
    names = {n for node in m.graph.node for n in node.output}
    missing = [r for r in resid if r not in names]
    if missing:
        raise SystemExit(f'{b}: the target graph has no residual outputs named {missing} (exported by train_demo.py?)')
    for r in resid:
        m.graph.output.append(onnx.helper.make_tensor_value_info(r, onnx.TensorProto.FLOAT, None))
    head = next(n for n in m.graph.node if n.name == '/dec/head/MatMul')
    w_head = init[head.input[1]]
    ln_w, ln_b = init['dec.ln.weight'], init['dec.ln.bias']
    tgt = ort.InferenceSession(m.SerializeToString(), providers=['CPUExecutionProvider'])
    heads, hd = pol['target']['kvHeads'], pol['target']['headDim']

    first_action = man['action']['tokenizer']['firstTokenId']
    act_begin = man['tokens']['actionBegin']

    def lens(h):  # final LayerNorm + LM head on a residual stream [T, d]
        mu = h.mean(-1, keepdims=True)
        var = h.var(-1, keepdims=True)
        return ((h - mu) / np.sqrt(var + 1e-5) * ln_w + ln_b) @ w_head

    thresholds = [float(t) for t in a.thresholds.split(',')]
    agree = np.zeros(layers - 1)
    conf = {t: np.zeros(layers - 1) for t in thresholds}
    conf_agree = {t: np.zeros(layers - 1) for t in thresholds}
    n_pos = 0
    n_act = 0
    agree_act = np.zeros(layers - 1)
    off = 0
    for st in dump['steps']:
        feeds = {}
        for name in dump['encoderInputs']:
            shape = enc_inputs[name]
            size = int(np.prod(shape))
            feeds[name] = flat[off:off + size].reshape(shape)
            off += size
        mem = dict(zip([o.name for o in enc.get_outputs()], enc.run(None, feeds)))
        ids = st['prompt'] + st['generated']
        T = len(ids)
        f = {'input_ids': np.array([ids], dtype=np.int64), 'position_ids': np.arange(T, dtype=np.int64)[None]}
        for i in tgt.get_inputs():
            if i.name.startswith('past_key_values'):
                f[i.name] = np.zeros((1, heads, 0, hd), dtype=np.float32)
            elif i.name in mem:
                f[i.name] = mem[i.name]
        out = dict(zip([o.name for o in tgt.get_outputs()], tgt.run(None, f)))
        logits = out['logits'][0]
        P = len(st['prompt'])
        # position p predicts ids[p+1]; answer predictions are p = P-1 .. T-2
        for p in range(P - 1, T - 1):
            in_actions = act_begin in ids[:p + 1]
            cls = np.arange(logits.shape[-1]) >= first_action if in_actions else np.arange(logits.shape[-1]) < first_action
            full = int(np.argmax(np.where(cls, logits[p], -np.inf)))
            n_pos += 1
            n_act += in_actions
            for k in range(layers - 1):
                lk = np.where(cls, lens(out[resid[k]][0, p]), -np.inf)
                ek = int(np.argmax(lk))
                ok = ek == full
                agree[k] += ok
                if in_actions:
                    agree_act[k] += ok
                pk = np.exp(lk - lk.max())
                pk /= pk.sum()
                for t in thresholds:
                    if pk.max() >= t:
                        conf[t][k] += 1
                        conf_agree[t][k] += ok
    d = man['policy']['target']
    res = {
        'bundle': str(b), 'steps': len(dump['steps']), 'positions': n_pos, 'actionPositions': n_act,
        'exitAfterBlock': list(range(1, layers)),
        'agreement': (agree / n_pos).round(4).tolist(),
        'actionAgreement': (agree_act / max(1, n_act)).round(4).tolist(),
        'confident': {str(t): (conf[t] / n_pos).round(4).tolist() for t in thresholds},
        'confidentAgreement': {str(t): (conf_agree[t] / np.maximum(1, conf[t])).round(4).tolist() for t in thresholds},
    }
    print(f"{b}: {res['steps']} steps, {n_pos} answer positions ({n_act} action tokens), teacher-forced on the full model's greedy answers")
    print('exit after block | argmax = full model | on action tokens | ' + ' | '.join(f'p>={t}: share / agree' for t in thresholds))
    for k in range(layers - 1):
        print(f'{k + 1:16d} | {agree[k] / n_pos:19.3f} | {agree_act[k] / max(1, n_act):16.3f} | ' +
              ' | '.join(f'{conf[t][k] / n_pos:.3f} / {conf_agree[t][k] / max(1, conf[t][k]):.3f}' for t in thresholds))
    print(json.dumps(res))


if __name__ == '__main__':
    main()
