#!/bin/sh
# host_state.sh baseline|compare FILE
# Records what containers can leave behind on the host — mounts, Gantry cgroups, network links
# (bridges and veths: gantry0, gveth*, the tests' gantryt*), nftables tables, processes living in
# another mount namespace or a Gantry cgroup — and on `compare` fails, listing the difference,
# when the suite left any of them behind.
set -eu
mode=$1 file=$2

snapshot() {
  echo "# mounts"
  awk '{print $2, $3}' /proc/self/mounts | sort
  echo "# cgroups"
  for base in /sys/fs/cgroup /sys/fs/cgroup/*; do
    [ -d "$base" ] || continue
    find "$base" -maxdepth 3 -type d \( -name 'gantry*' -o -path '*gantry*' \) 2>/dev/null
  done | sort -u
  echo "# links"
  ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
  echo "# nft tables"
  nft list tables 2>/dev/null | sort
  echo "# netns"
  ip netns list 2>/dev/null | awk '{print $1}' | sort
  echo "# processes"
  self_mnt=$(readlink /proc/self/ns/mnt)
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    mnt=$(readlink "$p/ns/mnt" 2>/dev/null) || continue
    cg=$(cat "$p/cgroup" 2>/dev/null | grep -c gantry || true)
    if [ "$mnt" != "$self_mnt" ] || [ "$cg" != 0 ]; then
      comm=$(cat "$p/comm" 2>/dev/null || echo '?')
      echo "process $comm mnt=$mnt gantry_cgroup=$cg"
    fi
  done | sort
}

# After a leak is reported: a test binary that crashed never ran its TempDir's cleanup, so its
# mounts (overlays, netns bind mounts) stay under the temp dir. Unmount those, deepest first, so
# the report is the only thing the crash leaves; cgroups, links and processes are only reported.
tidy_test_mounts() {
  tmp=${TMPDIR:-/tmp}
  awk -v prefix="$tmp/gantry-test" 'index($2, prefix) == 1 {print length($2), $2}' /proc/self/mounts |
    sort -rn | cut -d' ' -f2- | while read -r target; do
      umount -l "$target" 2>/dev/null && echo "host state: unmounted $target" >&2
    done
  return 0
}

case "$mode" in
  baseline) snapshot > "$file" ;;
  compare)
    now=$(mktemp)
    snapshot > "$now"
    if ! diff -u "$file" "$now" | grep '^+[^+]' > "$now.diff"; then
      rm -f "$now" "$now.diff"
      echo "host state: nothing leaked"
      exit 0
    fi
    echo "host state: the test suite leaked:" >&2
    cat "$now.diff" >&2
    rm -f "$now" "$now.diff"
    tidy_test_mounts
    exit 1 ;;
  *) echo "usage: $0 baseline|compare FILE" >&2; exit 2 ;;
esac
