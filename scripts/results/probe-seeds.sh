#!/usr/bin/env bash
# How much the linear-probe accuracy of docs/results.md moves with the probe's own seed (head init
# and SGD shuffling; the pre-trained encoder and its features stay the same): reruns the linear
# probe on the MAE features of each kind in $POOLINGS (default: mean, the official global_pool
# features) and on raw pixels with seeds 1..N (seed 0 is the main run), writing
# $RUN/probe-seed-<pooling>-K.json; write-doc.mjs then adds a sentence with the spread per kind.
# Run after scripts/results/fashion-mnist.sh. About 2 min per seed and kind on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUN=${RUN:-runs/fmnist-e24}
SEEDS=${SEEDS:-4}
POOLINGS=${POOLINGS:-mean}   # any of: mean mean-norm cls
for pooling in $POOLINGS; do
  for seed in $(seq 1 "$SEEDS"); do
    [ -f "$RUN/probe-seed-$pooling-$seed.json" ] && continue
    node packages/cli/dist/bin.js eval --checkpoint "$RUN" --data fashion-mnist --probe linear --pooling "$pooling" --baseline --seed "$seed" \
      --train-features "$RUN/train-$pooling-a.npy,$RUN/train-$pooling-b.npy" --test-features "$RUN/test-$pooling.npy" --out "$RUN/probe-seed-$pooling-$seed.json"
  done
done
