#!/usr/bin/env bash
# Packs the maejs GPU benchmark kit into dist/gpu-kit/maejs-gpu-kit.tar.gz (under 60 MiB): copy it
# to an NVIDIA machine, `tar -xzf maejs-gpu-kit.tar.gz && maejs-gpu-kit/run.sh`. Needs
# `npm run build` first. Options: --out DIR, --xz-level N (see scripts/bench/README.md).
set -euo pipefail
exec node "$(dirname "${BASH_SOURCE[0]}")/gpu-kit/pack.mjs" "$@"
