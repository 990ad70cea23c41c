#!/usr/bin/env bash
# Image unpack benchmark: one gzip layer (~30 MB compressed, ~100 MB of real files: a Python
# standard library and busybox) in an OCI image layout, turned into a root filesystem by
#   gantry image load (verify + store the blobs, unpack into a snapshot), cold and present,
#   umoci unpack, podman pull oci: (private storage, when podman is installed),
#   and tar xzf as the floor (decompress + write, no verification).
# Each is run --runs times (default 3) from a cold start (its output removed); the median is
# reported with its ratio to gantry's cold load. Needs root (owners, device nodes).
#   bench/image_unpack.sh [--runs N] [--rootfs DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
runs=3
src=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --rootfs) src=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--rootfs DIR]" >&2; exit 2 ;;
  esac
done
cmake --build "$build" --target gantry >/dev/null
gantry="$PWD/$build/gantry"

# Lowercase: podman names an oci: image after its path, and names must be lowercase.
work=/tmp/gantry-unpack-$$
mkdir "$work"
# podman's overlay driver bind-mounts its storage dir onto itself; undo that before removing.
unmount_podman() { umount "$work/p/overlay" 2>/dev/null || true; }
trap 'unmount_podman; rm -rf "$work"' EXIT
rootfs="$work/rootfs"
if [ -n "$src" ]; then
  cp -a "$src" "$rootfs"
else
  mkdir -p "$rootfs/usr/lib" "$rootfs/bin"
  py=$(ls -d /usr/lib/python3.* | head -1)
  cp -a "$py" "$rootfs/usr/lib/"
  cp -a /usr/lib/python3 "$rootfs/usr/lib/" 2>/dev/null || true
  cp /bin/busybox "$rootfs/bin/"
fi

# The OCI layout, written by hand: layer, config, manifest, index.
layout="$work/layout"
mkdir -p "$layout/blobs/sha256"
tar --numeric-owner -C "$rootfs" -cf "$work/layer.tar" .
diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
gzip -6 -c "$work/layer.tar" >"$work/layer.tar.gz"
layer=$(sha256sum "$work/layer.tar.gz" | cut -d' ' -f1)
layer_size=$(stat -c %s "$work/layer.tar.gz")
mv "$work/layer.tar.gz" "$layout/blobs/sha256/$layer"
unpacked=$(stat -c %s "$work/layer.tar")
rm "$work/layer.tar"
arch=$(uname -m | sed -e s/x86_64/amd64/ -e s/aarch64/arm64/)
printf '{"architecture":"%s","os":"linux","config":{"Cmd":["/bin/busybox","sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
  "$arch" "$diff_id" >"$work/config"
config=$(sha256sum "$work/config" | cut -d' ' -f1)
config_size=$(stat -c %s "$work/config")
mv "$work/config" "$layout/blobs/sha256/$config"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
  "$config" "$config_size" "$layer" "$layer_size" >"$work/manifest"
manifest=$(sha256sum "$work/manifest" | cut -d' ' -f1)
manifest_size=$(stat -c %s "$work/manifest")
mv "$work/manifest" "$layout/blobs/sha256/$manifest"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"bench"}}]}' \
  "$manifest" "$manifest_size" >"$layout/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"

# time_cmd SETUP CMD: seconds of CMD after SETUP (both shell strings), median of $runs.
time_cmd() {
  local setup=$1 cmd=$2 t
  local -a times=()
  for _ in $(seq "$runs"); do
    eval "$setup"
    sync
    if ! /usr/bin/time -f %e -o "$work/time" bash -c "$cmd" >"$work/out" 2>&1; then
      echo "failed: $cmd" >&2
      cat "$work/out" >&2
      echo failed
      return
    fi
    times+=("$(tail -1 "$work/time")")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p"
}

declare -A result
result[gantry-load]=$(time_cmd "rm -rf $work/g" "$gantry --root $work/g image load $layout --name localhost/bench:1")
result[gantry-load-present]=$(time_cmd "true" "$gantry --root $work/g image load $layout --name localhost/bench:1")
result[umoci-unpack]=$(time_cmd "rm -rf $work/u" "umoci unpack --image $layout:bench $work/u")
result[tar-xzf]=$(time_cmd "rm -rf $work/t; mkdir $work/t" "tar --numeric-owner -xzf $layout/blobs/sha256/$layer -C $work/t")
if command -v podman >/dev/null; then
  result[podman-pull-oci]=$(time_cmd "unmount_podman; rm -rf $work/p $work/pr" \
    "podman --root $work/p --runroot $work/pr --storage-driver overlay pull -q oci:$layout:bench")
  unmount_podman
  rm -rf "$work/p" "$work/pr"
fi

# The unpacked trees must match what tar made (content, links, modes).
if ! diff -r --no-dereference "$work/t" "$work/g/snapshots/$diff_id" >/dev/null; then
  echo "gantry's snapshot differs from tar's extraction" >&2
  exit 1
fi

base=${result[gantry-load]}
echo "layer: $((layer_size / 1000000)) MB gzip, $((unpacked / 1000000)) MB tar; median of $runs runs"
echo
echo "| tool | seconds | × gantry load |"
echo "| --- | ---: | ---: |"
for k in gantry-load gantry-load-present umoci-unpack podman-pull-oci tar-xzf; do
  [ -n "${result[$k]:-}" ] || continue
  ratio=$(awk -v a="${result[$k]}" -v b="$base" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }')
  echo "| $k | ${result[$k]} | $ratio |"
done
