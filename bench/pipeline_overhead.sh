#!/usr/bin/env bash
# Per-job overhead of `gantry run` against `podman run --rm`, side by side in one run.
# A pipeline of --jobs-count (default 20) jobs whose script is `true`, on a busybox image made
# from Debian's busybox-static, run by `gantry run --network none --jobs 1`; each job's overhead
# is its wall time (the summary's duration) minus its script's time (`sh -c true` on the host).
# The peer runs the same image the same number of times with
# `podman run --rm --network none IMAGE true` (private overlay storage under a temp dir), overhead =
# wall time of each run minus the same script time. Prints a Markdown table for
# docs/benchmarks.md. Needs root.
#   bench/pipeline_overhead.sh [--jobs-count N] [--no-podman]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
build=${BUILD_DIR:-build}
count=20
podman=1
while [ $# -gt 0 ]; do
  case "$1" in
    --jobs-count) count=$2; shift 2 ;;
    --no-podman) podman=0; shift ;;
    *) echo "usage: $0 [--jobs-count N] [--no-podman]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "pipeline_overhead: run as root" >&2; exit 1; }
cmake --build "$build" --target gantry >/dev/null
gantry="$PWD/$build/gantry"
command -v podman >/dev/null || podman=0

work=$(mktemp -d /tmp/gantry-overhead.XXXXXX)
cleanup() {
  if [ "$podman" = 1 ]; then
    podman --root "$work/p" --runroot "$work/pr" system reset -f >/dev/null 2>&1 || true
    umount "$work/p/overlay" 2>/dev/null || true
    undo_podman_host_state
  fi
  rm -rf "$work"
}
trap cleanup EXIT
[ "$podman" = 1 ] && note_podman_host_state

# The image: busybox with its applet links.
rootfs="$work/rootfs"
import_busybox_image "$gantry" "$work/state" bench.local/busybox:latest "$rootfs"

# The pipeline: N jobs of `true` in one stage.
project="$work/project"
mkdir -p "$project"
{
  echo "image: bench.local/busybox:latest"
  for i in $(seq "$count"); do printf 'job%02d:\n  script: ["true"]\n' "$i"; done
} >"$project/.gantry-ci.yml"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# median_ms: reads ns values (one a line), prints their median in ms (3 decimals).
median_ms() { sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]/1e6}'; }
# The script's own time: `sh -c true` on the host between two `date` calls, median of 20, in
# ms. A podman run is timed the same way, so this comes off it as it is; a gantry job's time is
# its own summary's, so the `date` call's share (timed alone) comes off this first.
script_ms=$(for _ in $(seq 20); do
  s=$(date +%s%N); /bin/busybox sh -c true; e=$(date +%s%N); echo $(( e - s ))
done | median_ms)
date_ms=$(for _ in $(seq 20); do
  s=$(date +%s%N); e=$(date +%s%N); echo $(( e - s ))
done | median_ms)
job_script_ms=$(awk -v s="$script_ms" -v d="$date_ms" 'BEGIN {printf "%.3f", (s > d ? s - d : 0)}')

# What the set-up wrote (the imported image, the project) reaches the disk before anything is
# timed: its writeback and discards otherwise land on the first runs (jobs took 50 ms instead
# of 20 for a few seconds after an import).
sync

# stats: reads ms values (one a line), prints "median mean".
stats() { sort -n | awk '{a[NR]=$1; s+=$1} END {printf "%.1f %.1f\n", a[int((NR+1)/2)], s/NR}'; }

# gantry: one warm-up run, then the measured one.
(cd "$project" && "$gantry" --root "$work/state" run --network none --jobs 1 --color never >/dev/null 2>&1) || true
start=$(now_ms)
(cd "$project" && "$gantry" --root "$work/state" run --network none --jobs 1 --color never) >"$work/gantry.out" 2>&1 || {
  cat "$work/gantry.out" >&2; echo "pipeline_overhead: gantry run failed" >&2; exit 1; }
end=$(now_ms)
gantry_total=$((end - start))
# The summary's rows ("job01  test  success  87ms"); not the "job01 | ..." log lines.
read -r g_median g_mean < <(awk 'NF == 4 && $1 ~ /^job[0-9]+$/ && $3 == "success" {print $4}' "$work/gantry.out" |
  awk -v s="$job_script_ms" '{d=$1; if (d ~ /ms$/) {sub("ms","",d); d/=1000} else sub("s","",d); print d*1000 - s}' | stats)

rows="| gantry run --jobs 1 | $count | $g_median | $g_mean | $gantry_total | 1.00x |"

if [ "$podman" = 1 ]; then
  # runc: podman's default crun 1.8 refuses hybrid cgroup hosts. The rlimits: podman's defaults
  # raise nofile and nproc, which fails where the caller lacks CAP_SYS_RESOURCE; `true` needs
  # neither.
  P=(podman --root "$work/p" --runroot "$work/pr" --runtime runc)
  R=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
  tar --numeric-owner -C "$rootfs" -cf "$work/rootfs.tar" .
  "${P[@]}" import "$work/rootfs.tar" bench.local/busybox:latest >/dev/null
  sync
  "${P[@]}" run --rm --network none "${R[@]}" bench.local/busybox:latest true  # warm-up
  : >"$work/podman.ms"
  start=$(now_ms)
  for _ in $(seq "$count"); do
    s=$(date +%s%N)
    "${P[@]}" run --rm --network none "${R[@]}" bench.local/busybox:latest true
    e=$(date +%s%N)
    echo "$(( (e - s) / 1000 ))" | awk -v s="$script_ms" '{print $1/1000 - s}' >>"$work/podman.ms"
  done
  end=$(now_ms)
  read -r p_median p_mean < <(stats <"$work/podman.ms")
  ratio=$(awk -v p="$p_median" -v g="$g_median" 'BEGIN {printf "%.1fx", (g > 0 ? p / g : 0)}')
  rows="$rows
| podman run --rm | $count | $p_median | $p_mean | $((end - start)) | $ratio |"
fi

echo "Per-job overhead = job wall time - script time (\`sh -c true\`: ${job_script_ms} ms; timed between two \`date\` calls as podman runs are: ${script_ms} ms); busybox, --network none."
echo
echo "| runner | jobs | median overhead (ms) | mean overhead (ms) | total wall (ms) | podman/gantry (median) |"
echo "|---|---:|---:|---:|---:|---:|"
echo "$rows"
