#!/usr/bin/env bash
# maejs GPU benchmark kit: maejs on WebGPU (Node + Dawn + Vulkan) against PyTorch CUDA eager fp32,
# presets A, B (+ batch 256, 1024) and C, in one run that writes one JSON file.
#
#   ./run.sh [--out FILE] [--budget-s 420] [--python python3]     # on an NVIDIA machine
#   ./run.sh --smoke [--out FILE]                                 # tiny models, software Vulkan
#
# Needs: Linux x86-64 with glibc >= 2.34 (dawn.node), bash, tar; python3 with torch for the
# PyTorch rows; for the GPU an NVIDIA driver with its Vulkan part (in a container:
# NVIDIA_DRIVER_CAPABILITIES must include graphics, or be all). No network, no Node, no root.
#
# What it does: unpacks Node (node/node.xz; xz or python3's lzma), takes the Vulkan loader from
# debs/ (dpkg -x, or python3 when dpkg is missing) unless the system has libvulkan.so.1, finds the
# NVIDIA Vulkan driver (VK_DRIVER_FILES / VK_ICD_FILENAMES if set, else the usual icd.d folders,
# else an ICD file written for libGLX_nvidia.so.0 / libEGL_nvidia.so.0), then runs
# app/bench/gpu-kit/runner.mjs, which bounds every stage by a time limit and the whole run by
# --budget-s (the runner is also stopped 30 s after the budget). KIT_WORK=DIR unpacks elsewhere.
set -uo pipefail

KIT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { printf '[kit] %s\n' "$*" >&2; }

SMOKE=0
OUT="$PWD/maejs-gpu-bench.json"
BUDGET=420
KIT_VULKAN=0
ICD_OVERRIDE=""
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) SMOKE=1; ARGS+=("$1") ;;
    --out) mkdir -p "$(dirname "$2")" && OUT="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")" || { log "--out $2: cannot create its folder"; exit 2; }; shift ;;
    --budget-s) BUDGET="$2"; shift ;;
    --kit-vulkan) KIT_VULKAN=1 ;;   # use the loader from debs/ even when the system has one
    --icd) ICD_OVERRIDE="$2"; shift ;;
    -h|--help) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) ARGS+=("$1") ;;
  esac
  shift
done
[ "$SMOKE" = 1 ] && KIT_VULKAN=1 && [ "$BUDGET" = 420 ] && BUDGET=120

# A JSON file even when the runner cannot start, so the failure is on record.
fail() {
  log "FAILED: $1"
  printf '{"format":"maejs-gpu-bench/1","status":"failed","error":%s}\n' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$/"/')" > "$OUT"
  exit 1
}

WORK="${KIT_WORK:-$KIT/.run}"
mkdir -p "$WORK" 2>/dev/null && [ -w "$WORK" ] || WORK="$(mktemp -d)" || fail "no writable folder to unpack into (set KIT_WORK)"

# 1. Node
NODE="$WORK/node"
if [ ! -x "$NODE" ]; then
  if command -v xz >/dev/null 2>&1; then
    xz -dc "$KIT/node/node.xz" > "$NODE.part" || fail "xz could not unpack $KIT/node/node.xz"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import lzma, shutil, sys; o = open(sys.argv[2], "wb"); shutil.copyfileobj(lzma.open(sys.argv[1]), o); o.close()' "$KIT/node/node.xz" "$NODE.part" || fail "python3 (lzma) could not unpack $KIT/node/node.xz"
  else
    fail "neither xz nor python3 is here to unpack node/node.xz"
  fi
  chmod +x "$NODE.part" && mv "$NODE.part" "$NODE"
fi
NODE_VERSION="$("$NODE" --version 2>&1)" || fail "the kit's Node does not run here: $NODE_VERSION"
log "node $NODE_VERSION"

# 2. Vulkan loader: the system's, else the kit's debs
LDCONFIG="$(command -v ldconfig || true)"
for candidate in /sbin/ldconfig /usr/sbin/ldconfig; do [ -z "$LDCONFIG" ] && [ -x "$candidate" ] && LDCONFIG="$candidate"; done
find_library() { # soname: prints its path (the linker cache, else the usual folders)
  local path=""
  [ -n "$LDCONFIG" ] && path="$("$LDCONFIG" -p 2>/dev/null | awk -v lib="$1" '$1 == lib {print $NF; exit}')"
  if [ -z "$path" ]; then
    for dir in /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/lib64 /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib; do
      [ -e "$dir/$1" ] && path="$dir/$1" && break
    done
  fi
  printf '%s' "$path"
}

extract_deb() { # deb dest
  if command -v dpkg >/dev/null 2>&1; then dpkg -x "$1" "$2"; return; fi
  python3 "$KIT/tools/deb_extract.py" "$1" "$2"
}
SYSTEM_VULKAN="$(find_library libvulkan.so.1)"
if [ "$KIT_VULKAN" = 0 ] && [ -n "$SYSTEM_VULKAN" ]; then
  export KIT_VULKAN_LOADER="system ($SYSTEM_VULKAN)"
else
  ROOT="$WORK/vulkan-root"
  if [ ! -d "$ROOT" ]; then
    for deb in "$KIT"/debs/*.deb; do extract_deb "$deb" "$ROOT.part" || fail "cannot extract $deb"; done
    mv "$ROOT.part" "$ROOT"
  fi
  export LD_LIBRARY_PATH="$ROOT/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export KIT_VULKAN_LOADER="kit ($(cd "$KIT/debs" && ls *.deb | tr '\n' ' '))"
fi
log "Vulkan loader: $KIT_VULKAN_LOADER"

# 3. Vulkan driver (ICD)
choose_icd() {
  if [ -n "$ICD_OVERRIDE" ]; then KIT_ICD="$ICD_OVERRIDE"; KIT_ICD_SOURCE="--icd"; return; fi
  if [ "$SMOKE" = 1 ]; then KIT_ICD=/usr/lib/chromium/vk_swiftshader_icd.json; KIT_ICD_SOURCE="smoke run: SwiftShader (software) from Debian's chromium"; return; fi
  if [ -n "${VK_DRIVER_FILES:-}" ]; then KIT_ICD="$VK_DRIVER_FILES"; KIT_ICD_SOURCE="VK_DRIVER_FILES (set before the run)"; return; fi
  if [ -n "${VK_ICD_FILENAMES:-}" ]; then KIT_ICD="$VK_ICD_FILENAMES"; KIT_ICD_SOURCE="VK_ICD_FILENAMES (set before the run)"; return; fi
  local dir file
  for dir in /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d /usr/local/nvidia/icd.d /usr/local/etc/vulkan/icd.d; do
    for file in "$dir"/nvidia_icd.json "$dir"/nvidia_icd.*.json "$dir"/nvidia*.json; do
      [ -f "$file" ] && { KIT_ICD="$file"; KIT_ICD_SOURCE="found"; return; }
    done
  done
  local lib path
  for lib in libGLX_nvidia.so.0 libEGL_nvidia.so.0; do
    path="$(find_library "$lib")"
    if [ -n "$path" ]; then
      KIT_ICD="$WORK/nvidia_icd.json"
      printf '{"file_format_version": "1.0.0", "ICD": {"library_path": "%s", "api_version": "1.3.0"}}\n' "$path" > "$KIT_ICD"
      KIT_ICD_SOURCE="written by run.sh for $path (no nvidia_icd.json found)"
      return
    fi
  done
  KIT_ICD=""
  KIT_ICD_SOURCE="none: no nvidia_icd.json in /usr/share/vulkan/icd.d, /etc/vulkan/icd.d, /usr/local/nvidia/... and no libGLX_nvidia.so.0 / libEGL_nvidia.so.0 (a container needs NVIDIA_DRIVER_CAPABILITIES=graphics or all); set VK_DRIVER_FILES"
}
choose_icd
export KIT_ICD KIT_ICD_SOURCE KIT_DIR="$KIT"
if [ -n "$KIT_ICD" ]; then
  [ -f "${KIT_ICD%%:*}" ] || log "warning: the Vulkan driver file $KIT_ICD does not exist"
  export VK_DRIVER_FILES="$KIT_ICD" VK_ICD_FILENAMES="$KIT_ICD"
fi
log "Vulkan driver: ${KIT_ICD:-none} ($KIT_ICD_SOURCE)"

# 4. The runner, stopped if it outlives its own budget by 30 s (it then writes what it has)
CAP=$((BUDGET + 30))
cd "$KIT/app" || fail "no app folder in $KIT"
if command -v timeout >/dev/null 2>&1; then
  timeout -k 5 "$CAP" "$NODE" bench/gpu-kit/runner.mjs --out "$OUT" --budget-s "$BUDGET" ${ARGS[@]+"${ARGS[@]}"}
else
  "$NODE" bench/gpu-kit/runner.mjs --out "$OUT" --budget-s "$BUDGET" ${ARGS[@]+"${ARGS[@]}"}
fi
status=$?
[ $status = 124 ] && log "the runner was stopped after $CAP s; $OUT holds what it had measured"
exit $status
