# Shared by the bench scripts (sourced, not run).

# import_busybox_image GANTRY ROOT REF DIR: makes a busybox root filesystem in DIR (Debian's
# busybox-static with its applet links, /etc/passwd and /etc/group for root) and imports it into
# the state root ROOT as image REF.
import_busybox_image() {
  local gantry=$1 root=$2 ref=$3 rootfs=$4
  mkdir -p "$rootfs"/{bin,proc,sys,dev,tmp,etc,root}
  chmod 1777 "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/busybox"
  local applet
  for applet in $("$rootfs/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\n' >"$rootfs/etc/group"
  "$gantry" --root "$root" image import "$rootfs" "$ref" >/dev/null
}

# Podman leaves host state behind from its runs: a shared bind mount of /run/netns over itself
# and libpod_parent cgroups. note_podman_host_state (before the first podman run) remembers
# what was there; undo_podman_host_state (in the cleanup) removes what podman added.
note_podman_host_state() {
  podman_netns_was_mounted=0
  mountpoint -q /run/netns 2>/dev/null && podman_netns_was_mounted=1
  podman_cgroups_before=$(ls -d /sys/fs/cgroup/*/libpod_parent /sys/fs/cgroup/libpod_parent 2>/dev/null || true)
}
undo_podman_host_state() {
  if [ "${podman_netns_was_mounted:-1}" = 0 ] && mountpoint -q /run/netns 2>/dev/null; then
    umount /run/netns 2>/dev/null || true
  fi
  local d
  for d in /sys/fs/cgroup/*/libpod_parent /sys/fs/cgroup/libpod_parent; do
    [ -d "$d" ] || continue
    case $'\n'"${podman_cgroups_before:-}"$'\n' in *$'\n'"$d"$'\n'*) continue ;; esac
    # Deepest first; only empty cgroups can go, and nothing of podman's runs any more.
    find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}
