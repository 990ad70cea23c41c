#!/usr/bin/env bash
# The main job, offline: builds a tiny busybox image from Debian's busybox-static, imports it
# into Gantry's image store, checks and plans the hello pipeline (examples/hello), and runs it
# with `gantry run`: each job in its own container made by Gantry's own runtime, the first
# job's artifact passed to the second. Run as root after scripts/setup.sh has built
# ./build/gantry.
set -euo pipefail
cd "$(dirname "$0")/.."
gantry=$PWD/build/gantry
work=$(mktemp -d /tmp/gantry-example.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "==> building a busybox root filesystem"
rootfs=$work/bundle/rootfs
mkdir -p "$rootfs"/{bin,proc,sys,dev,tmp,etc,root,builds}
chmod 1777 "$rootfs/tmp"
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $("$rootfs/bin/busybox" --list); do
  [[ $applet == busybox ]] || ln -sf busybox "$rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\n' > "$rootfs/etc/group"

echo "==> importing it as gantry.local/busybox:latest"
"$gantry" image import "$rootfs" gantry.local/busybox:latest
"$gantry" image ls

echo "==> gantry lint examples/hello/.gantry-ci.yml"
"$gantry" lint examples/hello/.gantry-ci.yml
echo "==> gantry plan examples/hello/.gantry-ci.yml"
"$gantry" plan examples/hello/.gantry-ci.yml

echo "==> gantry run examples/hello: each job in its own container"
(cd examples/hello && "$gantry" run --network none)
echo "==> done: both jobs succeeded and left nothing behind"
