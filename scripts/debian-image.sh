#!/usr/bin/env bash
# Builds a Debian image offline-from-the-internet: `debootstrap --variant=minbase` from the apt
# mirror this host is configured with (/etc/apt/sources.list, /etc/apt/sources.list.d/*),
# plus any --include packages, then turns the root filesystem into a one-layer OCI image
# (gzip layer, config with Debian's defaults) and loads it into Gantry's image store.
#
#   scripts/debian-image.sh NAME [--include pkg,pkg] [--slim] [--oci-layout DIR] [--no-import]
#                                [--suite bookworm] [--mirror URL] [--root DIR] [--gantry PATH]
#                                [--cache DIR]
#
# The root filesystem and its OCI layout are cached under --cache (default
# /var/cache/gantry/debian-image, or $GANTRY_DEBIAN_CACHE) by suite, architecture, mirror and
# package list, so a second call with the same packages only loads the cached layout (a present
# image is left as it is). Downloaded .debs are shared between entries. Runs as root.
#   --oci-layout DIR  also write the image as an OCI image layout at DIR (for `skopeo copy
#                     oci:DIR:TAG docker://...`); DIR must not exist or be empty
#   --no-import       do not load it into Gantry's store (with --oci-layout)
#   --slim            leave out documentation, man pages and translations, now and in packages
#                     installed later (dpkg path-exclude, as Debian's -slim images)
#   --root DIR        Gantry's state root (default: gantry's own default)
set -euo pipefail

die() {
  echo "debian-image: $*" >&2
  exit 1
}
usage() {
  sed -n '7,9p' "$0" | sed 's/^# \{0,3\}//' >&2
  exit 2
}

repo=$(cd "$(dirname "$0")/.." && pwd)
name=""
includes=""
layout_out=""
import=1
slim=0
suite=bookworm
mirror=""
root=""
gantry=""
cache=${GANTRY_DEBIAN_CACHE:-/var/cache/gantry/debian-image}

need_arg() { [ $# -ge 2 ] && [ -n "$2" ] || die "option '$1' needs a value"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --include) need_arg "$@"; includes="$includes,$2"; shift 2 ;;
    --include=*) includes="$includes,${1#*=}"; shift ;;
    --oci-layout) need_arg "$@"; layout_out=$2; shift 2 ;;
    --no-import) import=0; shift ;;
    --slim) slim=1; shift ;;
    --suite) need_arg "$@"; suite=$2; shift 2 ;;
    --mirror) need_arg "$@"; mirror=$2; shift 2 ;;
    --root) need_arg "$@"; root=$2; shift 2 ;;
    --gantry) need_arg "$@"; gantry=$2; shift 2 ;;
    --cache) need_arg "$@"; cache=$2; shift 2 ;;
    -h | --help) usage ;;
    -*) die "unknown option '$1' (see --help)" ;;
    *)
      [ -z "$name" ] || die "unexpected argument '$1': NAME is already '$name'"
      name=$1
      shift
      ;;
  esac
done
[ -n "$name" ] || usage
[ "$(id -u)" = 0 ] || die "debootstrap needs root (run as root)"
[ $import = 1 ] || [ -n "$layout_out" ] || die "--no-import without --oci-layout makes nothing"
command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install -y debootstrap)"

# Package names as Debian allows them; anything else would reach debootstrap's command line.
pkgs=$(printf '%s\n' "${includes//,/$'\n'}" | sed '/^$/d' | sort -u)
while read -r p; do
  [ -z "$p" ] || [[ $p =~ ^[a-z0-9][a-z0-9+.-]+$ ]] ||
    die "--include: '$p' is not a Debian package name"
done <<<"$pkgs"
pkgs_csv=$(printf '%s' "$pkgs" | paste -sd, -)

# The image name: a tag after the last '/' (default latest); used for the layout's ref name.
tag=latest
last=${name##*/}
if [[ $last == *:* ]]; then tag=${last##*:}; fi
[[ $name != *@* ]] || die "NAME '$name': give a tag, not a digest (the digest is computed)"

if [ -n "$layout_out" ] && [ -e "$layout_out" ] && [ -n "$(ls -A "$layout_out")" ]; then
  die "--oci-layout '$layout_out': exists and is not empty"
fi

if [ $import = 1 ] && [ -z "$gantry" ]; then
  if [ -x "$repo/build/gantry" ]; then
    gantry=$repo/build/gantry
  elif command -v gantry >/dev/null; then
    gantry=$(command -v gantry)
  else
    die "no gantry binary: build it (ninja -C build gantry) or pass --gantry PATH"
  fi
fi
[ $import = 0 ] || [ -x "$gantry" ] || die "--gantry '$gantry': not an executable"

# The first Debian archive this host's apt uses for $suite: deb822 .sources files (Types,
# URIs, Suites stanzas) and one-line .list files ("deb [opts] URI suite components").
host_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v suite="$suite" '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && uris != "") {
          split(uris, u, " "); print u[1]; found = 1; exit
        }
        types = ""; uris = ""; suites = ""; enabled = 1
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      { line = $0; sub(/^[ \t]+/, "", line) }
      tolower(line) ~ /^types:/   { sub(/^[^:]*:[ \t]*/, "", line); types = line; next }
      tolower(line) ~ /^uris:/    { sub(/^[^:]*:[ \t]*/, "", line); uris = line; next }
      tolower(line) ~ /^suites:/  { sub(/^[^:]*:[ \t]*/, "", line); suites = line; next }
      tolower(line) ~ /^enabled:[ \t]*no/ { types = ""; next }
      END { if (!found) flush() }
    ' "$f" | head -1
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v suite="$suite" '
      $1 != "deb" { next }
      { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } }
      $(i + 1) == suite { print $i; exit }
    ' "$f"
  done
}
if [ -z "$mirror" ]; then
  mirror=$(host_mirror | head -1)
  [ -n "$mirror" ] || die "no apt source for suite '$suite' in /etc/apt/sources.list or \
/etc/apt/sources.list.d/*.sources; pass --mirror URL"
fi
case "$mirror" in
  http://* | https://* | file://*) ;;
  *) die "--mirror '$mirror': expected an http://, https:// or file:// URL" ;;
esac

arch=$(dpkg --print-architecture)
key=$(printf '%s\n' "v1" "$suite" "$arch" "minbase" "slim=$slim" "$mirror" "$pkgs_csv" | sha256sum | cut -c1-16)
entry=$cache/$suite-$arch-$key
mkdir -p "$cache/debs"

# One builder per entry at a time; a second caller waits and then finds it built.
exec 9>"$cache/.$suite-$arch-$key.lock"
flock 9

if [ ! -f "$entry/layout/index.json" ]; then
  tmp=$(mktemp -d "$cache/.build.XXXXXX")
  # debootstrap mounts /proc and /sys inside the target; a private mount namespace takes them
  # away with it whatever happens, so a failed build leaves no mount behind.
  trap 'rm -rf "$tmp"' EXIT
  echo "debian-image: debootstrap --variant=minbase $suite from $mirror${pkgs_csv:+ with $pkgs_csv}" >&2
  if ! unshare --mount --propagation private \
      debootstrap --variant=minbase --arch="$arch" --cache-dir="$cache/debs" \
      ${pkgs_csv:+--include="$pkgs_csv"} "$suite" "$tmp/rootfs" "$mirror" >"$tmp/log" 2>&1; then
    tail -n 20 "$tmp/log" >&2
    if [ -f "$tmp/rootfs/debootstrap/debootstrap.log" ]; then
      echo "--- debootstrap.log (last lines)" >&2
      tail -n 20 "$tmp/rootfs/debootstrap/debootstrap.log" >&2
    fi
    die "debootstrap of '$suite' from '$mirror' failed (see above)"
  fi

  # What a container image should not carry: the host's identity, package caches and lists,
  # logs of the build. /etc/resolv.conf and /etc/hostname stay as empty files for the runtime
  # to fill or mount over.
  r=$tmp/rootfs
  if [ $slim = 1 ]; then
    cat >"$r/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
# Written by debian-image.sh --slim: no documentation, man pages or translations.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
EOF
    find "$r/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
    find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$r"/usr/share/{man,groff,info,locale,lintian,linda}/*
  fi
  : >"$r/etc/resolv.conf"
  : >"$r/etc/hostname"
  rm -rf "$r"/var/cache/apt/*.bin "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/* \
    "$r"/var/log/* "$r"/tmp/* "$r"/debootstrap
  mkdir -p "$r/var/lib/apt/lists/partial"

  # The layer: a pax tar sorted by name with numeric owners (reproducible for one rootfs),
  # entries named without a leading "./", gzip without a name or time in its header.
  lay=$tmp/layout
  mkdir -p "$lay/blobs/sha256"
  (cd "$r" && ls -A | LC_ALL=C sort | tar --format=posix --numeric-owner --sort=name \
    --xattrs --xattrs-include='*' --pax-option=delete=atime,delete=ctime \
    -cf "$tmp/layer.tar" -T -) || die "tar of the root filesystem failed"
  diff_id=$(sha256sum "$tmp/layer.tar" | cut -d' ' -f1)
  unpacked=$(stat -c %s "$tmp/layer.tar")
  gzip -n -6 "$tmp/layer.tar"
  layer=$(sha256sum "$tmp/layer.tar.gz" | cut -d' ' -f1)
  layer_size=$(stat -c %s "$tmp/layer.tar.gz")
  mv "$tmp/layer.tar.gz" "$lay/blobs/sha256/$layer"

  created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  case "$arch" in
    armhf) oci_arch=arm variant='"variant":"v7",' ;;
    armel) oci_arch=arm variant='"variant":"v5",' ;;
    i386) oci_arch=386 variant="" ;;
    *) oci_arch=$arch variant="" ;;
  esac
  printf '{"architecture":"%s",%s"os":"linux","created":"%s","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["bash"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"%s","created_by":"debootstrap --variant=minbase %s%s"}]}' \
    "$oci_arch" "$variant" "$created" "$diff_id" "$created" "$suite" "${pkgs_csv:+ --include=$pkgs_csv}" \
    >"$tmp/config"
  config=$(sha256sum "$tmp/config" | cut -d' ' -f1)
  config_size=$(stat -c %s "$tmp/config")
  mv "$tmp/config" "$lay/blobs/sha256/$config"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
    "$config" "$config_size" "$layer" "$layer_size" >"$tmp/manifest"
  manifest=$(sha256sum "$tmp/manifest" | cut -d' ' -f1)
  manifest_size=$(stat -c %s "$tmp/manifest")
  mv "$tmp/manifest" "$lay/blobs/sha256/$manifest"
  printf '{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s}\n' \
    "$manifest" "$manifest_size" >"$lay/manifest-descriptor"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$lay/oci-layout"
  printf '%s\n' "$pkgs_csv" >"$tmp/packages"
  printf 'layer %s MB gzip, %s MB tar\n' "$((layer_size / 1000000))" "$((unpacked / 1000000))" \
    >"$tmp/size"
  # The rootfs itself is not kept: the layout holds it, and a tree of device nodes and
  # set-id files is better not left lying around.
  rm -rf "$r"
  # index.json last: its presence marks a complete entry.
  printf '{"schemaVersion":2,"manifests":[]}\n' >"$lay/index.json"
  rm -rf "$entry"
  mv "$tmp" "$entry"
  trap - EXIT
  echo "debian-image: cached $(cat "$entry/size") in $entry" >&2
fi

# The layout carries the ref name this call asks for; the cached copy has none.
write_index() { # DIR
  local desc
  desc=$(cat "$entry/layout/manifest-descriptor")
  printf '{"schemaVersion":2,"manifests":[%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}\n' \
    "${desc%\}}" "$1" >"$2/index.json"
}

if [ -n "$layout_out" ]; then
  mkdir -p "$layout_out"
  cp -a "$entry/layout/blobs" "$entry/layout/oci-layout" "$layout_out/"
  write_index "$tag" "$layout_out"
  echo "debian-image: wrote OCI layout $layout_out (oci:$layout_out:$tag)" >&2
fi

if [ $import = 1 ]; then
  view=$(mktemp -d /tmp/debian-image.XXXXXX)
  trap 'rm -rf "$view"' EXIT
  # A view of the cached layout with a ref name, blobs hard-linked (same file system) or copied.
  cp -al "$entry/layout/blobs" "$view/" 2>/dev/null || cp -a "$entry/layout/blobs" "$view/"
  cp "$entry/layout/oci-layout" "$view/"
  write_index "$tag" "$view"
  "$gantry" ${root:+--root "$root"} image load "$view" --name "$name"
fi
