#!/usr/bin/env bash
# Reproduces docs/results.md: MAE pre-training of the mae_tiny_28 preset on the full Fashion-MNIST
# train split (60k), then linear probe and kNN on three feature kinds (--pooling mean, the official
# global_pool; mean-norm; cls) and fine-tuning (official global-pool head), against raw-pixel baselines.
# Needs the dataset (apt-get install dataset-fashion-mnist, or --data-dir) and `npm run build`.
# Wall time on a 2-core machine: about 2 h (96 min pre-training; about 4.5 min of features per feature kind;
# the probes took 14 min for two kinds, each further kind adds a linear probe and a kNN). Steps that are done (files present) are skipped;
# an interrupted pre-training continues from its last checkpoint when the script is run again.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUN=${RUN:-runs/fmnist-e24}
mae() { node packages/cli/dist/bin.js "$@"; }

EPOCHS=${EPOCHS:-24}
THREADS=${THREADS:-auto}   # data-parallel workers for pre-training: auto (one per core) or a count
if [ ! -f "$RUN/loss.png" ]; then
  if [ -d "$RUN/checkpoints" ]; then
    mae pretrain --resume "$RUN"
  else
    mae pretrain --data fashion-mnist --epochs "$EPOCHS" --warmup-epochs 1 --blr 3e-3 --batch-size 128 --checkpoint-every 200 --threads "$THREADS" --out "$RUN"
  fi
fi

# Frozen features of each kind (mae features --help: poolings), the train split in two halves on the two cores.
for pooling in mean mean-norm cls; do
  if [ ! -f "$RUN/test-$pooling.npy" ]; then
    mae features --checkpoint "$RUN" --images fashion-mnist --split train --pooling $pooling --start 0 --count 30000 --out "$RUN/train-$pooling-a.npy" &
    mae features --checkpoint "$RUN" --images fashion-mnist --split train --pooling $pooling --start 30000 --out "$RUN/train-$pooling-b.npy" &
    wait
    mae features --checkpoint "$RUN" --images fashion-mnist --split test --pooling $pooling --out "$RUN/test-$pooling.npy"
  fi
done

# Linear probe and kNN on each feature kind (and, once, raw pixels); fine-tuning beside the first on the other core.
probe() { # $1: pooling; further arguments go to mae eval
  local pooling=$1; shift
  mae eval --checkpoint "$RUN" --data fashion-mnist --probe linear,knn --pooling "$pooling" "$@" \
    --train-features "$RUN/train-$pooling-a.npy,$RUN/train-$pooling-b.npy" --test-features "$RUN/test-$pooling.npy" --out "$RUN/eval-$pooling.json"
}
probe mean --baseline &
mae eval --checkpoint "$RUN" --data fashion-mnist --probe finetune --baseline --finetune-samples 10000 --finetune-epochs 2 --out "$RUN/eval-finetune.json" &
wait
probe mean-norm &
probe cls &
wait
echo "results in $RUN/eval-*.json"
