#!/usr/bin/env bash
# Runs Gantry's whole test suite: builds (incrementally) and runs every CTest test — unit,
# integration (root: real containers) and e2e — then the host leak check.
# Extra arguments go to ctest, e.g. `scripts/test.sh -L unit` or `-R Cgroup`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f build/build.ninja ]]; then
  werror=OFF
  [[ "${CI:-}" == "true" ]] && werror=ON
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGANTRY_WERROR="$werror" >/dev/null
fi
cmake --build build -j "$(nproc)"
cd build
exec ctest --output-on-failure --timeout 600 -j 2 "$@"
