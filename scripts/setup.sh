#!/usr/bin/env bash
# Idempotent setup of everything Gru needs on a Debian 12 machine, as root:
# Deno (from npm), dockerd, etcd, InfluxDB 1.x, VictoriaMetrics, HAProxy, busybox, systemd-analyze
# and cloud-init (to check deploy/), and the local test images.
# Reuses whatever already runs. Safe to run again and again.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
state=${GRU_SETUP_STATE:-/var/lib/gru-dev}
mkdir -p "$state" /var/log/gru-dev

log() { printf '[setup] %s\n' "$*" >&2; }

need_apt=()
command -v dockerd >/dev/null 2>&1 || need_apt+=(docker.io)
command -v etcd >/dev/null 2>&1 || need_apt+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || need_apt+=(etcd-client)
command -v influxd >/dev/null 2>&1 || need_apt+=(influxdb)
command -v victoria-metrics >/dev/null 2>&1 || need_apt+=(victoria-metrics)
[ -x /bin/busybox ] || need_apt+=(busybox-static)
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
# The load balancer `gru lb haproxy` feeds (docs/lb.md; tests/e2e/lb_haproxy_test.ts); nothing
# starts it here: tests and benchmarks run their own instance.
command -v haproxy >/dev/null 2>&1 || need_apt+=(haproxy)
# Headless Chromium for the console's end-to-end tests (tests/e2e/console_test.ts, playwright-core).
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
# The deployment files' checks (scripts/deploy_test.ts): `systemd-analyze verify` on the unit,
# `cloud-init schema` on the cloud-init file. cloud-init without its recommends: only its schema
# check is used here, and nothing of it runs at boot on this machine.
command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)
need_norec=()
command -v cloud-init >/dev/null 2>&1 || need_norec+=(cloud-init)
if [ ${#need_apt[@]} -gt 0 ] || [ ${#need_norec[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_apt[*]} ${need_norec[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  if [ ${#need_apt[@]} -gt 0 ]; then
    apt-get install -y -qq "${need_apt[@]}" >/var/log/gru-dev/apt.log 2>&1 || {
      tail -20 /var/log/gru-dev/apt.log >&2; exit 1; }
  fi
  if [ ${#need_norec[@]} -gt 0 ]; then
    apt-get install -y -qq --no-install-recommends "${need_norec[@]}" \
      >>/var/log/gru-dev/apt.log 2>&1 || { tail -20 /var/log/gru-dev/apt.log >&2; exit 1; }
  fi
fi

want_deno=2.9.6
if ! command -v deno >/dev/null 2>&1 || ! deno --version 2>/dev/null | grep -q "deno $want_deno"; then
  log "installing deno $want_deno from npm"
  npm install -g --allow-scripts=deno "deno@$want_deno" >/var/log/gru-dev/npm-deno.log 2>&1 ||
    npm install -g "deno@$want_deno" >>/var/log/gru-dev/npm-deno.log 2>&1
fi
deno --version | head -1 >&2

# --- dockerd (unix socket + tcp 127.0.0.1:2375) --------------------------------------------------
if docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
  log "dockerd already answers"
else
  log "starting dockerd"
  # setsid: its own session, so it outlives the script that started it (it is reused) and a
  # signal to the caller's process group does not reach it.
  setsid nohup dockerd -H unix:///var/run/docker.sock -H tcp://127.0.0.1:2375 \
    </dev/null >/var/log/gru-dev/dockerd.log 2>&1 &
  echo $! >"$state/dockerd.pid"
  for _ in $(seq 1 60); do
    docker version --format '{{.Server.Version}}' >/dev/null 2>&1 && break
    sleep 0.5
  done
  docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || {
    log "dockerd did not start; see /var/log/gru-dev/dockerd.log"; tail -20 /var/log/gru-dev/dockerd.log >&2; exit 1; }
fi

# --- etcd on 127.0.0.1:2379 ----------------------------------------------------------------------
if ETCDCTL_API=3 etcdctl --endpoints=http://127.0.0.1:2379 --dial-timeout=1s endpoint health >/dev/null 2>&1; then
  log "etcd already answers"
else
  log "starting etcd"
  mkdir -p "$state/etcd"
  setsid nohup etcd --name gru-dev --data-dir "$state/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 \
    </dev/null >/var/log/gru-dev/etcd.log 2>&1 &
  echo $! >"$state/etcd.pid"
  for _ in $(seq 1 60); do
    ETCDCTL_API=3 etcdctl --endpoints=http://127.0.0.1:2379 --dial-timeout=1s endpoint health >/dev/null 2>&1 && break
    sleep 0.5
  done
  ETCDCTL_API=3 etcdctl --endpoints=http://127.0.0.1:2379 endpoint health >/dev/null 2>&1 || {
    log "etcd did not start"; tail -20 /var/log/gru-dev/etcd.log >&2; exit 1; }
fi

# --- local images ---------------------------------------------------------------------------------
bash "$here/build_images.sh"

# --- Deno dependencies ------------------------------------------------------------------------------
if [ -f "$root/deno.lock" ]; then
  (cd "$root" && deno install --frozen >/var/log/gru-dev/deno-install.log 2>&1) || {
    tail -20 /var/log/gru-dev/deno-install.log >&2
    log "deno install --frozen failed: if deno.lock is out of date with deno.json, run"
    log "'deno install' and commit the updated deno.lock (see /var/log/gru-dev/deno-install.log)"
    exit 1; }
else
  log "deno.lock is missing: running 'deno install' without --frozen (it writes deno.lock;"
  log "commit it so every machine resolves the same versions)"
  (cd "$root" && deno install >/var/log/gru-dev/deno-install.log 2>&1) || {
    log "deno install failed"; tail -20 /var/log/gru-dev/deno-install.log >&2; exit 1; }
fi
log "ready"
