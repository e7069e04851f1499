#!/usr/bin/env bash
# Runs the full closed-loop table (every configuration × family × 100 held-out seeds) as shards of
# 50 episodes on a many-core Linux x86-64 machine with no Node.js, from the pack made here by
#   scripts/pack-node.sh bench/closed-loop.ts .data/bench.tar.xz
# Usage (in a copy of this repository, so models/bundles/demo is there):
#   scripts/closed-loop-shards.sh PACK.tar.xz OUTDIR [PARALLEL=16] [BUNDLE=models/bundles/demo]
# then, back here: npm run bench:closed-loop -- --merge $(ls OUTDIR/*.json | paste -sd,)
# CONFIGS='a b' and SEEDS=n (per shard, default 50; shards start at seed 0 and SEEDS) narrow it for a check.
set -euo pipefail
pack=$1
out=$2
par=${3:-16}
bundle=${4:-models/bundles/demo}
bin=$(mktemp -d)
tar -xJf "$pack" -C "$bin"
mkdir -p "$out"
jobs=$out/jobs
: > "$jobs"
# slowest configurations first, so the last wave is short
seeds=${SEEDS:-50}
for c in ${CONFIGS:-greedy full default r4 r9 jacobi ens-off ens-blend dropout}; do
  for f in pick_place push stack; do
    for s in 0 "$seeds"; do echo "$c $f $s" >> "$jobs"; done
  done
done
export bin out bundle seeds
xargs -P "$par" -L 1 sh -c '"$bin/node" "$bin/closed-loop.mjs" --bundle "$bundle" --configs "$0" --families "$1" \
  --seeds "$seeds" --first-seed "$2" --max-seconds 15 --save "$out/$0_$1_$2.json" > "$out/$0_$1_$2.out" 2>&1' < "$jobs"
echo "$(ls "$out"/*.json | wc -l) shards in $out"
