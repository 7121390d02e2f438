#!/usr/bin/env bash
# Builds Gru's local images (there is no image registry here) from Debian's busybox-static.
#   gru-test/busybox  a minimal busybox root filesystem (sh, httpd, sleep, ...)
#   gru-demo/web      busybox httpd whose CGI burns CPU per request and prints gru: metric lines
#   gru-paper/service the seed author's test service: one request at a time, busy CPU for an
#                     exponentially distributed time each, response times as gru: metric lines
# Idempotent: an image whose content hash label matches is reused.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export DOCKER_HOST=${DOCKER_HOST:-unix:///var/run/docker.sock}
tmp=""
trap '[ -z "$tmp" ] || rm -rf "$tmp"' EXIT # no half-built root filesystem left in /tmp

build_rootfs() {
  local dir=$1
  mkdir -p "$dir/bin" "$dir/tmp" "$dir/www/cgi-bin" "$dir/etc"
  cp /bin/busybox "$dir/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$dir/etc/passwd"
  echo 'root:x:0:' >"$dir/etc/group"
}

image_hash() { docker image inspect --format '{{index .Config.Labels "gru.image.hash"}}' "$1" 2>/dev/null || true; }

build() {
  local name=$1 src=$2
  local hash
  # Content hash with paths relative to the image folder, so every checkout agrees.
  hash=$( (sha256sum </bin/busybox; if [ -d "$src" ]; then (cd "$src" && find . -type f -print0 | sort -z | xargs -0 sha256sum); fi) | sha256sum | cut -c1-16)
  if [ "$(image_hash "$name")" = "$hash" ]; then
    echo "[images] $name up to date" >&2; return; fi
  tmp=$(mktemp -d)
  build_rootfs "$tmp"
  if [ -d "$src" ]; then cp -a "$src/." "$tmp/"; fi
  local changes=(--change "LABEL gru.image.hash=$hash" --change 'ENV PATH=/bin')
  if [ -f "$src/.cmd" ]; then
    while IFS= read -r line; do changes+=(--change "$line"); done <"$src/.cmd"
    rm -f "$tmp/.cmd"
  else
    changes+=(--change 'CMD ["/bin/sh"]')
  fi
  tar -C "$tmp" -c . | docker import "${changes[@]}" - "$name" >/dev/null
  rm -rf "$tmp"
  tmp=""
  echo "[images] built $name" >&2
}

build gru-test/busybox "$root/images/busybox"
build gru-demo/web "$root/images/demo_web"
build gru-paper/service "$root/images/paper_service"
