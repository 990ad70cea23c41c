#!/usr/bin/env bash
# Container lifecycle benchmark: `run` of a /bin/true bundle, then gone, under gantry runtime,
# crun and runc on the same bundle, back to back (in rounds, the order reversed every other
# round) and 50 lifecycles 4 at a time. Needs root, busybox-static, runc and crun; prints a
# markdown table for docs/benchmarks.md.
#   bench/runtime_lifecycle.sh [--runs N] [--rounds R] [--parallel-total N] [--parallel P]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
cmake --build "$build" --target gantry gantry_bench_lifecycle >/dev/null

work=$(mktemp -d /tmp/gantry-lifecycle.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bundle/rootfs/bin" "$work/bundle/rootfs/proc" "$work/bundle/rootfs/sys" \
         "$work/bundle/rootfs/dev" "$work/bundle/rootfs/tmp"
cp /bin/busybox "$work/bundle/rootfs/bin/busybox"
ln -s busybox "$work/bundle/rootfs/bin/true"
ln -s busybox "$work/bundle/rootfs/bin/sh"
# The same config.json for every runtime: runc's default spec running /bin/true without a tty.
(cd "$work/bundle" && runc spec)
sed -i -e 's/"terminal": true/"terminal": false/' -e 's/"sh"$/"\/bin\/true"/' \
    "$work/bundle/config.json"

peers=()
command -v crun >/dev/null && peers+=("crun@nocg2=crun --root {root} run --bundle $work/bundle {id}")
command -v runc >/dev/null && peers+=("runc=runc --root {root} run --bundle $work/bundle {id}")
# Baselines: the same namespaces with unshare(1), and a plain fork-exec.
peers+=("unshare=unshare -m -u -i -n -p -f -C $work/bundle/rootfs/bin/busybox true")
peers+=("fork-exec=$work/bundle/rootfs/bin/busybox true")

"$build/bench/gantry_bench_lifecycle" "$@" \
  "gantry=$PWD/$build/gantry runtime --root {root} run --bundle $work/bundle {id}" "${peers[@]}"
