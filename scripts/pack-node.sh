#!/usr/bin/env bash
# Packs a TypeScript entry point to run on another Linux x86-64 machine that has no Node.js or npm
# (the GPU machine's 16 cores): the entry bundled by esbuild into one .mjs, this machine's node
# binary and, for the closed-loop benchmark, onnxruntime-node's Linux x64 binaries.
# Usage: scripts/pack-node.sh [ENTRY=bench/closed-loop.ts] [OUT=.bench/pack.tar.xz]
# There: tar -xJf pack.tar.xz -C DIR && DIR/node DIR/<entry name>.mjs ... (the entry's own flags), e.g.
#   scripts/pack-node.sh bench/closed-loop.ts  -> DIR/node DIR/closed-loop.mjs --bundle models/bundles/demo ...
#   scripts/pack-node.sh models/train/gen_sim.ts .data/gen.tar.xz -> DIR/node DIR/gen_sim.mjs --first-seed ...
set -euo pipefail
entry=${1:-bench/closed-loop.ts}
out=${2:-.bench/pack.tar.xz}
name=$(basename "$entry" .ts)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npx esbuild "$entry" --bundle --platform=node --format=esm --target=node20 \
  --external:onnxruntime-node --outfile="$tmp/$name.mjs" --log-level=warning \
  --banner:js="import { createRequire } from 'module'; const require = createRequire(import.meta.url);"
if grep -q onnxruntime-node "$tmp/$name.mjs"; then
  ort=node_modules/onnxruntime-node
  mkdir -p "$tmp/node_modules/onnxruntime-node/bin/napi-v6/linux"
  cp -r "$ort/package.json" "$ort/dist" "$tmp/node_modules/onnxruntime-node/"
  cp -r "$ort/bin/napi-v6/linux/x64" "$tmp/node_modules/onnxruntime-node/bin/napi-v6/linux/"
  cp -r node_modules/onnxruntime-common "$tmp/node_modules/"
fi
cp "$(command -v node)" "$tmp/node"
mkdir -p "$(dirname "$out")"
tar -cf - -C "$tmp" . | xz -T2 -6 > "$out"
echo "wrote $out ($(du -h "$out" | cut -f1))"
