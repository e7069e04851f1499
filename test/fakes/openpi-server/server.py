"""A policy server speaking openpi's WebSocket + msgpack protocol, for Reins' tests and benchmark.

Written here from the protocol's facts (not from openpi's code): on connect the server sends one
binary message, the msgpack-encoded metadata map; then each binary request is a msgpack map (the
observation) and each reply a msgpack map holding "actions", a numpy array [H, D], plus
"server_timing": {"infer_ms": ...}. numpy arrays travel as a map with *binary* keys
{b"__ndarray__": True, b"data": <raw bytes, C order>, b"dtype": "<f4" | "|u1" | ..., b"shape": [...]}.
On a failed inference the server sends the traceback as a *text* frame and closes with 1011.
The codec below is this file's own (msgpack's default/object_hook), independent of the TypeScript one.

Policies:
  demo   the shipped demo bundle (models/bundles/demo) through Python onnxruntime: reasoning
         dropout, greedy decoding of H x D uniform-bin action tokens. It speaks radians and a 0..1
         gripper on the wire (the console maps its degrees and 0..100), returns body joints as
         deltas from the observed state and the gripper as an absolute value.
  hold   keeps the arm where it is (zero deltas, the observed gripper value): cheap, for fault tests.

Fault knobs (all optional):
  --delay-ms MS          sleep before every reply (slow server); --delay-after N: only from reply N+1
  --drop-after N         close the connection abruptly after N replies (dropped mid-run)
  --corrupt KIND         from reply --corrupt-after N+1 on: garbage (random bytes), nan, huge,
                         shape (one column too many), text (a traceback string, then close 1011)
  --api-key KEY          refuse a connection without "Authorization: Api-Key KEY" (HTTP 401)
  --metadata JSON        the metadata map sent on connect (default describes the demo policy)
Prints one JSON line {"listening": port} on stdout when ready (--port 0 picks a free port).
"""

import argparse
import asyncio
import http
import json
import os
import random
import sys
import time

import msgpack
import numpy as np
import websockets.asyncio.server as ws_server
import websockets.exceptions

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.normpath(os.path.join(HERE, "..", "..", "..", "models", "bundles", "demo"))

# ---- msgpack + numpy codec (this file's own) ----

_NUMPY_DTYPES = {"<f4", "<f8", "<f2", "|u1", "|i1", "<i2", "<i4", "<i8", "<u2", "<u4", "<u8", "|b1"}


def _default(obj):
    if isinstance(obj, np.ndarray):
        if obj.dtype.str not in _NUMPY_DTYPES:
            raise TypeError(f"dtype {obj.dtype.str} not sent")
        return {b"__ndarray__": True, b"data": np.ascontiguousarray(obj).tobytes(), b"dtype": obj.dtype.str, b"shape": list(obj.shape)}
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"cannot encode {type(obj)}")


def _hook(obj):
    if b"__ndarray__" in obj:
        return np.frombuffer(obj[b"data"], dtype=np.dtype(obj[b"dtype"])).reshape(obj[b"shape"])
    if "__ndarray__" in obj:
        # a client that keyed the array map with strings: the real server would pass the raw map on
        raise ValueError("ndarray map keyed with text strings; openpi expects binary keys")
    return obj


def pack(obj) -> bytes:
    return msgpack.packb(obj, default=_default, use_bin_type=True)


def unpack(data: bytes):
    return msgpack.unpackb(data, object_hook=_hook, raw=False, strict_map_key=False)


# ---- policies ----


class DemoPolicy:
    """The demo bundle, reasoning dropout, greedy: [BOS, instruction..., <act>] then H*D bin tokens."""

    def __init__(self, bundle: str, threads: int):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.m = json.load(open(os.path.join(bundle, "manifest.json")))
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        self.enc = ort.InferenceSession(os.path.join(bundle, self.m["policy"]["encoder"]["file"]), so)
        self.dec = ort.InferenceSession(os.path.join(bundle, self.m["policy"]["target"]["file"]), so)
        self.tok = Tokenizer.from_file(os.path.join(bundle, self.m["inputs"]["instruction"]["tokenizer"]))
        t = self.m["policy"]["target"]
        self.layers, self.heads, self.hd = t["layers"], t["kvHeads"], t["headDim"]
        a = self.m["action"]
        self.H, self.D = a["chunk"], len(a["joints"])
        tk = a["tokenizer"]
        self.bins, self.first = tk["bins"], tk["firstTokenId"]
        self.low, self.high = np.array(tk["low"]), np.array(tk["high"])
        self.rel = np.array(a.get("relative", [False] * self.D))
        st = self.m["inputs"]["state"]
        self.mean, self.std = np.array(st["mean"], np.float32), np.array(st["std"], np.float32)
        self.cams = self.m["inputs"]["cameras"]
        self.gripper = a["joints"].index("gripper")

    def metadata(self) -> dict:
        return {"policy": "reins-demo", "action_horizon": self.H, "action_dim": self.D, "image_keys": ["observation/image", "observation/wrist_image"], "state_dim": self.D}

    def _image(self, img: np.ndarray, cam: dict) -> np.ndarray:
        if img.dtype != np.uint8 or img.shape != (cam["height"], cam["width"], 3):
            raise ValueError(f"image for {cam['key']} must be uint8 HWC {cam['height']}x{cam['width']}x3, got {img.dtype} {img.shape}")
        x = img.astype(np.float32).transpose(2, 0, 1) / 255.0
        return ((x - np.array(cam["mean"], np.float32)[:, None, None]) / np.array(cam["std"], np.float32)[:, None, None])[None]

    def infer(self, obs: dict) -> dict:
        state_wire = np.asarray(obs["observation/state"], np.float64)
        if state_wire.shape != (self.D,):
            raise ValueError(f"observation/state must be [{self.D}], got {state_wire.shape}")
        # wire units: radians, gripper 0..1 -> the bundle's degrees, gripper 0..100
        state = np.degrees(state_wire)
        state[self.gripper] = state_wire[self.gripper] * 100.0
        keys = {"front": "observation/image", "wrist": "observation/wrist_image"}
        feeds = {c["input"]: self._image(np.asarray(obs[keys[c["key"]]]), c) for c in self.cams}
        feeds["state"] = ((state.astype(np.float32) - self.mean) / self.std)[None]
        memory = self.enc.run(["target_memory"], feeds)[0]
        tk = self.m["tokens"]
        instr = self.tok.encode(str(obs.get("prompt", "")), add_special_tokens=False).ids[: self.m["inputs"]["instruction"]["maxTokens"]]
        seq = [tk["bos"], *instr, tk["actionBegin"]]
        past = {}
        for i in range(self.layers):
            for kv in ("key", "value"):
                past[f"past_key_values.{i}.{kv}"] = np.zeros((1, self.heads, 0, self.hd), np.float32)
        pos, feed, out = 0, seq, []
        while len(out) < self.H * self.D:
            n = len(feed)
            f = {"input_ids": np.array([feed], np.int64), "position_ids": np.arange(pos, pos + n, dtype=np.int64)[None], "target_memory": memory, **past}
            res = self.dec.run(None, f)
            names = [o.name for o in self.dec.get_outputs()]
            r = dict(zip(names, res))
            for i in range(self.layers):
                for kv in ("key", "value"):
                    past[f"past_key_values.{i}.{kv}"] = r[f"present.{i}.{kv}"]
            pos += n
            logits = r["logits"][0, -1, self.first : self.first + self.bins]
            nxt = self.first + int(np.argmax(logits))
            out.append(nxt)
            feed = [nxt]
        b = (np.array(out).reshape(self.H, self.D) - self.first).astype(np.float64)
        x = ((b + 0.5) / self.bins) * 2 - 1
        act = self.low + (x + 1) / 2 * (self.high - self.low)  # degrees; body joints relative to the state
        wire = np.radians(act)
        wire[:, self.gripper] = act[:, self.gripper] / 100.0
        return {"actions": wire.astype(np.float32)}


class HoldPolicy:
    def __init__(self, horizon: int, dim: int):
        self.H, self.D = horizon, dim

    def metadata(self) -> dict:
        return {"policy": "hold", "action_horizon": self.H, "action_dim": self.D}

    def infer(self, obs: dict) -> dict:
        s = np.asarray(obs["observation/state"], np.float32)
        if s.shape != (self.D,):
            raise ValueError(f"observation/state must be [{self.D}], got {s.shape}")
        a = np.zeros((self.H, self.D), np.float32)  # body joints: deltas of zero, stay where observed
        a[:, -1] = s[-1]  # the gripper (last, absolute in the demo-remote manifest): where it is
        return {"actions": a}


# ---- server ----


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--policy", choices=["demo", "hold"], default="demo")
    ap.add_argument("--bundle", default=DEMO)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--delay-ms", type=float, default=0.0)
    ap.add_argument("--delay-after", type=int, default=0)
    ap.add_argument("--drop-after", type=int, default=-1)
    ap.add_argument("--corrupt", choices=["none", "garbage", "nan", "huge", "shape", "text"], default="none")
    ap.add_argument("--corrupt-after", type=int, default=0)
    ap.add_argument("--api-key", default=None)
    ap.add_argument("--metadata", default=None)
    args = ap.parse_args()

    policy = DemoPolicy(args.bundle, args.threads) if args.policy == "demo" else HoldPolicy(8, 6)
    metadata = json.loads(args.metadata) if args.metadata is not None else policy.metadata()
    rng = random.Random(0)

    def process_request(connection, request):
        if request.path == "/healthz":
            return connection.respond(http.HTTPStatus.OK, "OK\n")
        if args.api_key is not None and request.headers.get("Authorization") != f"Api-Key {args.api_key}":
            return connection.respond(http.HTTPStatus.UNAUTHORIZED, "missing or wrong API key\n")
        return None

    async def handler(ws):
        await ws.send(pack(metadata))
        replies = 0
        while True:
            try:
                data = await ws.recv()
            except websockets.exceptions.ConnectionClosed:
                return
            t0 = time.monotonic()
            try:
                if not isinstance(data, bytes):
                    raise ValueError("requests must be binary msgpack")
                obs = unpack(data)
                out = policy.infer(obs)
            except Exception as e:  # the protocol's error path: text frame, then close 1011
                await ws.send(f"Traceback (most recent call last):\n  {type(e).__name__}: {e}")
                await ws.close(1011, "Internal server error. Traceback included in previous frame.")
                return
            infer_ms = (time.monotonic() - t0) * 1000
            if args.delay_ms > 0 and replies >= args.delay_after:
                await asyncio.sleep(args.delay_ms / 1000)
            kind = args.corrupt if replies >= args.corrupt_after else "none"
            a = out["actions"]
            if kind == "nan":
                a = a.copy()
                a[:, 0] = np.nan
            elif kind == "huge":
                a = np.full_like(a, 1e6)
            elif kind == "shape":
                a = np.concatenate([a, np.zeros((a.shape[0], 1), a.dtype)], axis=1)
            out = {**out, "actions": a, "server_timing": {"infer_ms": infer_ms}}
            if kind == "garbage":
                await ws.send(bytes(rng.getrandbits(8) for _ in range(64)))
            elif kind == "text":
                await ws.send("Traceback (most recent call last):\n  RuntimeError: injected server failure")
                await ws.close(1011, "Internal server error. Traceback included in previous frame.")
                return
            else:
                await ws.send(pack(out))
            replies += 1
            if args.drop_after >= 0 and replies >= args.drop_after:
                ws.transport.abort()  # no close frame: as a cable pulled or a server killed
                return

    async def run():
        async with ws_server.serve(handler, args.host, args.port, compression=None, max_size=None, process_request=process_request) as server:
            port = server.sockets[0].getsockname()[1]
            print(json.dumps({"listening": port, "policy": args.policy}), flush=True)
            await server.serve_forever()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
