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
