#!/usr/bin/env bash
# The main job, offline: builds a tiny busybox image from Debian's busybox-static, imports it
# into Gantry's image store, checks and plans the hello pipeline (examples/hello), and runs its
# first job's script in a container made by Gantry's own runtime from that image's root
# filesystem. Run as root after scripts/setup.sh has built ./build/gantry.
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

echo "==> running the 'build' job's script in a container (gantry runtime run)"
cp -r examples/hello/. "$rootfs/builds/hello"
(cd "$work/bundle" && "$gantry" runtime spec)
script='cd /builds/hello && echo "$GREETING, job build" && mkdir -p out && echo built > out/result.txt && cat out/result.txt'
jq --arg script "$script" '.process.args = ["/bin/sh", "-c", $script] | .process.terminal = false
    | .process.env += ["GREETING=hello from Gantry"] | .root.readonly = false' \
  "$work/bundle/config.json" > "$work/config.json"
mv "$work/config.json" "$work/bundle/config.json"
"$gantry" runtime --root "$work/state" run --bundle "$work/bundle" "hello-$$"
echo "==> done: the container exited 0 and left nothing behind"
