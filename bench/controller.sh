#!/usr/bin/env bash
# The controller and its agent protocol under load, in one run (issue 5). Starts a
# `gantry controller` on a free loopback port with a temp data dir (soft fd limit 1024, systemd's
# default for a service) and a local bare git repository whose pipeline is one busybox job
# `script: [echo first]`, then measures:
#   1. trigger -> first log line: POST /api/v1/pipelines until the first job's first line is
#      readable through GET /api/v1/jobs/{id}/log, one idle `gantry agent` long-polling
#      (--network none); --runs N times, median and p90. Beside it, the container alone:
#      `gantry container run --rm --network none` of the same image and command.
#   2. log ingestion: a fake agent appends --log-mb MB to one job's log through
#      POST /api/v1/agent/jobs/{id}/log in the agent's 1 MiB chunks (build/bench driver).
#   3. API reads with wrk --latency: GET /api/v1/pipelines, /api/v1/pipelines/{id},
#      /api/v1/jobs/{id}/log with the admin token, against 100 pipelines.
#   4. the same list read while --idle-agents simulated agents (1,000) long-poll
#      (POST /api/v1/agent/jobs/request?wait=30, sent again when answered): API p99 and the
#      controller's RSS, threads and fds. wrk runs from the moment every agent has sent its
#      first poll until 5 s past the moment all 1,000 are answered (204) and sent again, so
#      its window holds both bursts.
# Prints one Markdown table for docs/benchmarks.md. Needs root and wrk. Every process it starts
# is stopped by pid, and the agent's containers and mounts go with its temp root.
#   bench/controller.sh [--runs N] [--log-mb N] [--idle-agents N] [--wrk-seconds S]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
build=${BUILD_DIR:-build}
runs=20
log_mb=500
idle_agents=1000
wrk_seconds=10
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --log-mb) log_mb=$2; shift 2 ;;
    --idle-agents) idle_agents=$2; shift 2 ;;
    --wrk-seconds) wrk_seconds=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--log-mb N] [--idle-agents N] [--wrk-seconds S]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "controller.sh: run as root" >&2; exit 1; }
command -v wrk >/dev/null || { echo "controller.sh: needs wrk (apt-get install wrk)" >&2; exit 1; }
cmake --build "$build" --target gantry gantry_bench_controller gantry_bench_idle_agents >/dev/null
gantry="$PWD/$build/gantry"
driver="$PWD/$build/bench/gantry_bench_controller"
idle="$PWD/$build/bench/gantry_bench_idle_agents"

work=$(mktemp -d /tmp/gantry-controller-bench.XXXXXX)
controller_pid=""
agent_pid=""
idle_pid=""
stop_pid() {  # stop_pid PID: SIGTERM, then SIGKILL if it has not ended after 30 s
  local pid=$1 i
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$idle_pid"
  stop_pid "$agent_pid"
  # Containers the agent left (it removes its own on SIGTERM; this is for a killed one).
  if [ -d "$work/agent" ]; then
    for id in $("$gantry" --root "$work/agent" container ls --json 2>/dev/null | jq -r ".[].id"); do
      "$gantry" --root "$work/agent" container rm -f "$id" >/dev/null 2>&1 || true
    done
  fi
  stop_pid "$controller_pid"
  grep -F " $work/" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The image: busybox with its applet links.
rootfs="$work/rootfs"
import_busybox_image "$gantry" "$work/agent" bench.local/busybox:latest "$rootfs"

# The repository: a bare repo with one commit of the pipeline.
git init -q -b main "$work/src"
printf 'image: bench.local/busybox:latest\nfirst:\n  script: [echo first]\n' \
  >"$work/src/.gantry-ci.yml"
git -C "$work/src" add .gantry-ci.yml
git -C "$work/src" -c user.name=bench -c user.email=bench@localhost commit -q -m pipeline
git clone -q --bare "$work/src" "$work/repo.git"

# The controller, with a service's default soft fd limit.
(ulimit -Sn 1024; exec "$gantry" --log-level warn controller --listen 127.0.0.1:0 \
  --data "$work/controller") >"$work/controller.out" 2>"$work/controller.err" &
controller_pid=$!
for _ in $(seq 300); do
  grep -q '^controller listening on ' "$work/controller.out" && break
  kill -0 "$controller_pid" 2>/dev/null || { cat "$work/controller.err" >&2; exit 1; }
  sleep 0.1
done
url=$(sed -n 's/^controller listening on //p' "$work/controller.out")
[ -n "$url" ] || { echo "controller.sh: controller did not start" >&2; exit 1; }
admin=$(cat "$work/controller/admin.token")
reg=$(cat "$work/controller/registration.token")
curl -sf -H "Authorization: Bearer $admin" -d "{\"name\":\"bench\",\"repo_url\":\"$work/repo.git\"}" \
  "$url/api/v1/projects" >/dev/null

# cpu_s PID: user+system CPU seconds of a process so far.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f\n", ($14 + $15) / hz}' "/proc/$1/stat"; }

# 2. Log ingestion first, while no real agent polls (the fake one must get the job).
cpu0=$(cpu_s "$controller_pid")
read -r ingest_bytes ingest_s ingest_mbs ingest_job < <("$driver" ingest --url "$url" \
  --admin-token "$admin" --registration-token "$reg" --project bench --megabytes "$log_mb")
ingest_cpu=$(awk -v a="$cpu0" -v b="$(cpu_s "$controller_pid")" 'BEGIN {printf "%.2f", b - a}')

# 1. Trigger -> first log line, one idle agent.
"$gantry" --root "$work/agent" --log-level warn agent --controller "$url" --token "$reg" \
  --name bench-agent --network none >"$work/agent.out" 2>&1 &
agent_pid=$!
"$driver" trigger --url "$url" --admin-token "$admin" --project bench --runs "$runs" \
  >"$work/trigger.ms"
# The container alone: the same image and command, as the agent's root has it.
for _ in $(seq "$runs"); do
  s=$(date +%s%N)
  "$gantry" --root "$work/agent" container run --rm --network none bench.local/busybox:latest \
    echo first >/dev/null
  e=$(date +%s%N)
  echo $(( (e - s) / 1000 )) | awk '{printf "%.2f\n", $1 / 1000}'
done >"$work/container.ms"
stop_pid "$agent_pid"
agent_pid=""

# median_p90 COLUMN FILE: "median p90" of a column of numbers.
median_p90() {
  awk -v c="$1" '{print $c}' "$2" | sort -n |
    awk '{a[NR]=$1} END {i=int(NR*0.9+0.999); if (i<1) i=1; if (i>NR) i=NR;
                         printf "%.1f %.1f\n", a[int((NR+1)/2)], a[i]}'
}
read -r line_med line_p90 < <(median_p90 2 "$work/trigger.ms")
read -r byte_med byte_p90 < <(median_p90 1 "$work/trigger.ms")
read -r done_med done_p90 < <(median_p90 3 "$work/trigger.ms")
read -r ctr_med ctr_p90 < <(median_p90 1 "$work/container.ms")

# 3. API reads: 100 pipelines (the trigger runs' and the ingest's, the rest triggered and
# canceled so that no job is pending for the idle agents of part 4).
have=$(( runs + 1 ))
[ "$have" -ge 100 ] || "$driver" seed --url "$url" --admin-token "$admin" --project bench \
  --pipelines $(( 100 - have )) --cancel
# The last trigger run's pipeline and job (a finished one-job pipeline, a one-line log).
read -r _ _ _ log_job last_pipeline _ < <(tail -n1 "$work/trigger.ms")

# wrk_run URL [SECONDS]: "requests/s p99_ms"
wrk_run() {
  wrk -t2 -c16 -d"${2:-$wrk_seconds}s" --latency -H "Authorization: Bearer $admin" "$1" >"$work/wrk.out"
  awk '/Requests\/sec:/ {rps=$2}
       $1 == "99%" {v=$2; if (v ~ /us$/) {sub("us","",v); v/=1000} else if (v ~ /ms$/) sub("ms","",v);
                    else if (v ~ /s$/) {sub("s","",v); v*=1000} p99=v}
       /Non-2xx/ {bad=$NF}
       END {if (bad != "") {print "non-2xx answers: " bad > "/dev/stderr"; exit 1}
            printf "%.0f %.2f\n", rps, p99}' "$work/wrk.out"
}
read -r list_rps list_p99 < <(wrk_run "$url/api/v1/pipelines")
read -r show_rps show_p99 < <(wrk_run "$url/api/v1/pipelines/$last_pipeline")
read -r log_rps log_p99 < <(wrk_run "$url/api/v1/jobs/$log_job/log")

# 4. The list read again while idle agents long-poll; the controller's resources at the peak.
# The polls go out as the agents connect ("ready": all sent) and are answered together 30 s
# later: wrk covers both.
idle_wrk_seconds=35
idle_seconds=$(( idle_wrk_seconds + 15 ))
"$idle" --url "$url" --registration-token "$reg" --agents "$idle_agents" --wait 30 \
  --seconds "$idle_seconds" >"$work/idle.out" 2>"$work/idle.err" &
idle_pid=$!
for _ in $(seq 1200); do
  grep -q '^ready$' "$work/idle.err" && break
  kill -0 "$idle_pid" 2>/dev/null || { cat "$work/idle.err" >&2; exit 1; }
  sleep 0.1
done
grep -q '^ready$' "$work/idle.err" || { echo "controller.sh: idle agents never got going" >&2; exit 1; }
read -r busy_rps busy_p99 < <(wrk_run "$url/api/v1/pipelines" "$idle_wrk_seconds")
rss_mb=$(awk '/^VmRSS:/ {printf "%.1f", $2/1024}' "/proc/$controller_pid/status")
threads=$(awk '/^Threads:/ {print $2}' "/proc/$controller_pid/status")
fds=$(ls "/proc/$controller_pid/fd" | wc -l)
wait "$idle_pid" || { cat "$work/idle.err" >&2; exit 1; }
idle_pid=""
idle_counts=$(cat "$work/idle.out")
held=$(awk '{for (i=1;i<=NF;i++) if ($i ~ /^connected=/) {sub("connected=","",$i); print $i}}' \
  <<<"$idle_counts")

load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "Controller benchmark, $(date -u +%Y-%m-%d) ($(nproc) CPUs, load average $load at the end)."
echo
echo "| measurement | result | target |"
echo "|---|---:|---|"
echo "| trigger → first log line, median / p90 ($runs runs, 1 idle agent) | $line_med / $line_p90 ms | |"
echo "| trigger → first log byte, median / p90 | $byte_med / $byte_p90 ms | |"
echo "| container alone (\`gantry container run --rm\`), median / p90 | $ctr_med / $ctr_p90 ms | |"
echo "| trigger → first line minus container, medians | $(awk -v a="$line_med" -v b="$ctr_med" 'BEGIN {printf "%.1f", a-b}') ms | < 100 ms |"
echo "| trigger → pipeline finished, median / p90 | $done_med / $done_p90 ms | |"
echo "| log ingestion, $(( ingest_bytes / 1000000 )) MB in 1 MiB chunks | $ingest_mbs MB/s ($ingest_s s; controller CPU $ingest_cpu s) | > 100 MB/s |"
echo "| GET /api/v1/pipelines (100), wrk -t2 -c16 | $list_rps req/s, p99 $list_p99 ms | |"
echo "| GET /api/v1/pipelines/{id} | $show_rps req/s, p99 $show_p99 ms | |"
echo "| GET /api/v1/jobs/{id}/log | $log_rps req/s, p99 $log_p99 ms | |"
echo "| GET /api/v1/pipelines with $idle_agents idle agents long-polling ($held connected; ${idle_wrk_seconds} s across both poll bursts) | $busy_rps req/s, p99 $busy_p99 ms | p99 < 50 ms |"
echo "| controller with $idle_agents idle agents: RSS / threads / fds | $rss_mb MB / $threads / $fds | |"
echo
echo "Idle agents: $idle_counts"
