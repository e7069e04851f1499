#!/usr/bin/env bash
# Packs the closed-loop benchmark to run on another Linux x86-64 machine that has no Node.js or
# npm (the GPU machine's 16 cores, to run the 100-seed table in parallel shards): the benchmark
# bundled by esbuild, onnxruntime-node's Linux x64 binaries, and this machine's node binary.
# Usage: scripts/pack-bench.sh [OUT=.bench/pack.tar.xz]; there: tar -xJf pack.tar.xz -C DIR &&
# DIR/node DIR/closed-loop.mjs --bundle models/bundles/demo ... (same flags as npm run bench:closed-loop).
set -euo pipefail
out=${1:-.bench/pack.tar.xz}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npx esbuild bench/closed-loop.ts --bundle --platform=node --format=esm --target=node20 \
  --external:onnxruntime-node --outfile="$tmp/closed-loop.mjs" --log-level=warning \
  --banner:js="import { createRequire } from 'module'; const require = createRequire(import.meta.url);"
ort=node_modules/onnxruntime-node
mkdir -p "$tmp/node_modules/onnxruntime-node/bin/napi-v6/linux"
cp -r "$ort/package.json" "$ort/dist" "$tmp/node_modules/onnxruntime-node/"
cp -r "$ort/bin/napi-v6/linux/x64" "$tmp/node_modules/onnxruntime-node/bin/napi-v6/linux/"
cp -r node_modules/onnxruntime-common "$tmp/node_modules/"
cp "$(command -v node)" "$tmp/node"
mkdir -p "$(dirname "$out")"
tar -cf - -C "$tmp" . | xz -T2 -6 > "$out"
echo "wrote $out ($(du -h "$out" | cut -f1))"
