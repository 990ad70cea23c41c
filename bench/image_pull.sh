#!/usr/bin/env bash
# Image pull benchmark: a Debian bookworm minbase image (--slim: ~28 MB gzip, ~78 MB of files,
# built by scripts/debian-image.sh from the host's apt mirror) pushed to a docker-registry on
# loopback, then pulled from it into an empty store, side by side in one run:
#   gantry          gantry image pull into an empty --root (download, verify, unpack)
#   gantry-present  a second gantry pull of the image just pulled (one manifest request)
#   gantry-digest   the same by digest (no request at all)
#   skopeo+umoci    skopeo copy to an OCI layout + umoci unpack (containers/image + umoci)
#   podman          podman pull into a fresh --root/--runroot (overlay driver)
#   curl|tar        curl of the layer blob piped into tar -xz: the floor, nothing verified
# --rounds N rounds (default 5), each running the tools in a rotated order so that load
# changes on a shared machine hit all of them alike. Reports the median wall time, the median
# CPU time (user+sys, steadier than wall time under load), ratios to gantry and the peak RSS
# (/usr/bin/time -v), and checks that gantry's snapshot equals umoci's rootfs and that the
# present pulls sent the requests they should. Needs root (owners, device nodes, podman).
#   bench/image_pull.sh [--rounds N] [--layout DIR:TAG] [--keep]
# GANTRY=path uses that binary instead of building ./build/gantry.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
rounds=5
layout=""
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=${2:?--rounds needs a number}; shift 2 ;;
    --layout) layout=${2:?--layout needs DIR:TAG}; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "usage: $0 [--rounds N] [--layout OCI-DIR:TAG] [--keep]" >&2; exit 2 ;;
  esac
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "image_pull: --rounds '$rounds': expected a positive number" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "image_pull: run as root" >&2; exit 1; }
for tool in docker-registry skopeo umoci curl python3; do
  command -v "$tool" >/dev/null || { echo "image_pull: '$tool' is not installed" >&2; exit 1; }
done
have_podman=0
command -v podman >/dev/null && have_podman=1

if [ -n "${GANTRY:-}" ]; then
  gantry=$GANTRY  # a given binary, as built
else
  cmake --build "$build" --target gantry >/dev/null
  gantry="$PWD/$build/gantry"
fi

work=$(mktemp -d /tmp/gantry-pull-bench.XXXXXX)
registry_pid=""
# podman's overlay driver mounts its layers and its storage dir; undo that before removing.
unmount_under() {
  local m
  for m in $(awk -v p="$1" '$2 == p || index($2, p "/") == 1 { print $2 }' /proc/self/mounts | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
}
cleanup() {
  [ -z "$registry_pid" ] || { kill "$registry_pid" 2>/dev/null; wait "$registry_pid" 2>/dev/null || true; }
  unmount_under "$work"
  if [ $keep = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# The image: an OCI layout, built (and cached) from Debian packages unless given.
if [ -z "$layout" ]; then
  scripts/debian-image.sh bench/debian:slim --slim --no-import --oci-layout "$work/layout" >&2
  layout=$work/layout:slim
fi
layout_dir=${layout%:*}
[ -f "$layout_dir/index.json" ] || { echo "image_pull: '$layout_dir' is not an OCI layout" >&2; exit 1; }

# A registry on a free loopback port, storage in the work dir.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/registry.yml" <<EOF
version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
  secret: bench
EOF
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 200); do
  curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break
  kill -0 "$registry_pid" 2>/dev/null || { cat "$work/registry.log" >&2; exit 1; }
  sleep 0.05
done
curl -fs "http://127.0.0.1:$port/v2/" >/dev/null || { echo "image_pull: registry did not start" >&2; exit 1; }

repo=127.0.0.1:$port/bench/debian
image=$repo:slim
skopeo copy -q --dest-tls-verify=false "oci:$layout" "docker://$image"
manifest_json=$(skopeo inspect --raw --tls-verify=false "docker://$image")
manifest_digest=sha256:$(printf '%s' "$manifest_json" | sha256sum | cut -d' ' -f1)
layer=$(printf '%s' "$manifest_json" | python3 -c 'import json,sys; m=json.load(sys.stdin); print(max(m["layers"], key=lambda l: l["size"])["digest"])')
layer_bytes=$(printf '%s' "$manifest_json" | python3 -c 'import json,sys; print(sum(l["size"] for l in json.load(sys.stdin)["layers"]))')

# podman: a registries.conf of our own marks the loopback registry insecure (plain http).
cat >"$work/registries.conf" <<EOF
unqualified-search-registries = []
[[registry]]
location = "127.0.0.1:$port"
insecure = true
EOF
podman_cmd() {
  CONTAINERS_REGISTRIES_CONF=$work/registries.conf podman --root "$work/p" --runroot "$work/pr" \
    --storage-driver overlay --events-backend none "$@"
}

# run NAME SETUP CMD: runs CMD (after SETUP, untimed) under /usr/bin/time -v and appends
# "wall cpu maxrss_kb" to $work/NAME.times.
run() {
  local name=$1 setup=$2 cmd=$3
  eval "$setup"
  sync
  if ! /usr/bin/time -v -o "$work/time" bash -c "$cmd" >"$work/out" 2>&1; then
    echo "image_pull: $name failed: $cmd" >&2
    cat "$work/out" >&2
    exit 1
  fi
  awk -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, t, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + t[i] }
    /User time/ { u = $2 } /System time/ { s = $2 } /Maximum resident/ { m = $2 }
    END { printf "%.3f %.3f %d\n", w, u + s, m }' "$work/time" >>"$work/$name.times"
}
requests() { grep -c '"GET /v2/\|"HEAD /v2/' "$work/registry.log" || true; }

reset_podman() { unmount_under "$work/p"; rm -rf "$work/p" "$work/pr"; }
tool_gantry() {
  run gantry "rm -rf $work/g" "$gantry --root $work/g image pull -q $image"
  local before
  before=$(requests)
  run gantry-present "true" "$gantry --root $work/g image pull -q $image"
  present_requests=$(($(requests) - before))
  before=$(requests)
  run gantry-digest "true" "$gantry --root $work/g image pull -q $repo@$manifest_digest"
  digest_requests=$(($(requests) - before))
}
tool_skopeo_umoci() {
  run skopeo+umoci "rm -rf $work/s $work/u" \
    "skopeo copy -q --src-tls-verify=false docker://$image oci:$work/s:slim && umoci unpack --image $work/s:slim $work/u"
}
tool_podman() {
  run podman reset_podman "CONTAINERS_REGISTRIES_CONF=$work/registries.conf podman --root $work/p \
    --runroot $work/pr --storage-driver overlay --events-backend none pull -q $image"
}
tool_curl_tar() {
  run "curl|tar" "rm -rf $work/t; mkdir $work/t" \
    "curl -fsS http://127.0.0.1:$port/v2/bench/debian/blobs/$layer | tar --numeric-owner -xz -C $work/t"
}
tools=(gantry skopeo_umoci curl_tar)
[ $have_podman = 0 ] || tools+=(podman)

echo "image: $image ($((layer_bytes / 1000000)) MB compressed); $rounds rounds, ${#tools[@]} tools, load before: $load_before" >&2
for r in $(seq "$rounds"); do
  n=${#tools[@]}
  for i in $(seq 0 $((n - 1))); do
    t=${tools[$(((i + r) % n))]}
    "tool_$t"
  done
  echo "round $r/$rounds done" >&2
  if [ "$r" = 1 ]; then
    # Same tree as umoci's: contents and links (devices are not read), then owners, modes, types.
    snap=$(ls -d "$work"/g/snapshots/[0-9a-f]*/ | head -1)
    if ! diff -r --no-dereference --exclude=dev "$snap" "$work/u/rootfs" >"$work/diff" 2>&1; then
      echo "image_pull: gantry's snapshot differs from umoci's rootfs:" >&2
      head -20 "$work/diff" >&2
      exit 1
    fi
    (cd "$snap" && find . -printf '%p %U:%G %m %y\n' | sort) >"$work/g.meta"
    (cd "$work/u/rootfs" && find . -printf '%p %U:%G %m %y\n' | sort) >"$work/u.meta"
    if ! diff -q "$work/g.meta" "$work/u.meta" >/dev/null; then
      echo "image_pull: owners or modes differ between gantry and umoci:" >&2
      diff "$work/g.meta" "$work/u.meta" | head -20 >&2
      exit 1
    fi
  fi
done
[ $have_podman = 0 ] || reset_podman
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# median FILE COLUMN
median() {
  awk -v c="$2" '{ print $c }' "$1" | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
base_wall=$(median "$work/gantry.times" 1)
base_cpu=$(median "$work/gantry.times" 2)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2fx", a / b; else print "-" }'; }

echo
echo "$(date -u +%Y-%m-%d) on $(nproc) CPUs, load average $load_before before, $load_after after;"
echo "median of $rounds rounds; 'x gantry' is the tool's time over gantry's cold pull."
echo
echo "| tool | wall (s) | x gantry | CPU user+sys (s) | x gantry | peak RSS (MB) |"
echo "|---|---:|---:|---:|---:|---:|"
for k in gantry gantry-present gantry-digest skopeo+umoci podman "curl|tar"; do
  f="$work/$k.times"
  [ -f "$f" ] || continue
  wall=$(median "$f" 1)
  cpu=$(median "$f" 2)
  rss=$(awk '{ if ($3 > m) m = $3 } END { printf "%.1f", m / 1024 }' "$f")
  echo "| $k | $wall | $(ratio "$wall" "$base_wall") | $cpu | $(ratio "$cpu" "$base_cpu") | $rss |"
done
echo
echo "registry requests of the last present pull: $present_requests by tag, $digest_requests by digest"
