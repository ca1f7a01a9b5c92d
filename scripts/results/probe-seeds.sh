#!/usr/bin/env bash
# How much the linear-probe accuracy of docs/results.md moves with the probe's own seed (head init
# and SGD shuffling; the pre-trained encoder and its features stay the same): reruns the linear
# probe on the mean-pooled MAE features and on raw pixels with seeds 1..N (seed 0 is the main run),
# writing $RUN/probe-seed-K.json; write-doc.mjs then adds a row with the spread.
# Run after scripts/results/fashion-mnist.sh. About 2 min per seed on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUN=${RUN:-runs/fmnist-e24}
SEEDS=${SEEDS:-4}
for seed in $(seq 1 "$SEEDS"); do
  [ -f "$RUN/probe-seed-$seed.json" ] && continue
  node packages/cli/dist/bin.js eval --checkpoint "$RUN" --data fashion-mnist --probe linear --pooling mean --baseline --seed "$seed" \
    --train-features "$RUN/train-mean-a.npy,$RUN/train-mean-b.npy" --test-features "$RUN/test-mean.npy" --out "$RUN/probe-seed-$seed.json"
done
