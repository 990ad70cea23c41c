#!/usr/bin/env bash
# Sets Gantry up on a fresh Debian machine and runs the main job:
#   1. installs the Debian packages in scripts/packages.txt (apt-get update first),
#   2. configures and builds with CMake + Ninja + ccache into ./build,
#   3. runs the example (unless --no-run).
# Run as root. Options: --no-run (set up and build only), --no-install (skip apt).
set -euo pipefail
cd "$(dirname "$0")/.."

run_example=1 install=1
for arg in "$@"; do
  case "$arg" in
    --no-run) run_example=0 ;;
    --no-install) install=0 ;;
    *) echo "setup.sh: unknown option '$arg' (expected --no-run, --no-install)" >&2; exit 2 ;;
  esac
done

if [[ $install == 1 ]]; then
  if [[ $(id -u) != 0 ]]; then
    echo "setup.sh: run as root (it installs packages with apt-get)" >&2
    exit 1
  fi
  mapfile -t pkgs < <(grep -v '^\s*#' scripts/packages.txt | grep -v '^\s*$')
  echo "==> installing ${#pkgs[@]} Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi

werror=OFF
[[ "${CI:-}" == "true" ]] && werror=ON
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
echo "==> configuring and building (build/)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGANTRY_WERROR="$werror" >/dev/null
cmake --build build -j "$(nproc)"

if [[ $run_example == 1 ]]; then
  echo "==> running the example"
  exec scripts/example.sh
fi
