#!/usr/bin/env bash
# A multi-node Gru cluster on this one machine, for end-to-end tests and demos (as root).
# Each node is a network namespace gn<i> (10.231.0.<10+i>) on the host bridge grubr0 (10.231.0.1),
# with its own dockerd and its own `gru agent`; a harness etcd listens on the host side.
#
#   bash scripts/cluster.sh up N [--cluster NAME] [--config DIR] [--active] [--plain]
#        clears whatever an earlier run left, then builds N nodes (cluster "harness", config
#        examples/demo by default) and waits until every agent answers /gru/v1/health.
#        Agents serve mutual TLS: `gru tls` makes a CA, one certificate per node (its name and
#        IP) and a CLI certificate in /var/lib/gru-nodes/tls (GRU_TLS_* in harness.env);
#        --plain serves plain HTTP instead; --no-agents stops after the engines and the etcd
#        (no cluster, no agents: a test then types gru create / gru join in the namespaces)
#   bash scripts/cluster.sh down          removes everything (works after a half-failed up)
#   bash scripts/cluster.sh status        what is running
#   bash scripts/cluster.sh kill-node I   SIGKILLs node I: its agent, dockerd, containerd, shims
#                                         and containers (a crashed machine)
#   bash scripts/cluster.sh cut-link I    sets gn<I>-h down (node I loses the network)
#   bash scripts/cluster.sh heal-link I   sets it up again
#
# The shared dockerd (/var/run/docker.sock, docker0) and etcd (127.0.0.1:2379) are never touched:
# engines run inside the namespaces (nsenter --net, not `ip netns exec`, which remounts /sys) and
# the harness etcd uses 127.0.0.1:2479/2480 and 10.231.0.1:2479.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

STATE=/var/lib/gru-nodes # data and logs (logs are kept by down)
RUN=/run/gru-nodes       # sockets, exec roots, pid files
BRIDGE=grubr0
SUBNET=10.231.0.0/16
HOST_IP=10.231.0.1
ETCD_PORT=2479
ETCD_PEER_PORT=2480
ETCD_URL=http://127.0.0.1:$ETCD_PORT     # from the host
ETCD_NODE_URL=http://$HOST_IP:$ETCD_PORT # from inside the namespaces
AGENT_PORT=5000
TLS_DIR=$STATE/tls # CA, node and CLI certificates of the harness (made at up, removed at down)
AGENT_TTL=3
# shellcheck disable=SC2206 # HARNESS_EXTRA_IMAGES: more local images for the nodes, space-separated
IMAGES=(gru-test/busybox gru-demo/web ${HARNESS_EXTRA_IMAGES:-})
FWD_RULE=(-s "$SUBNET" -d "$SUBNET" -j ACCEPT)

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
node_ip() { echo "10.231.0.$((10 + $1))"; }
node_sock() { echo "$RUN/gn$1.sock"; }
ndocker() { local i=$1; shift; docker -H "unix://$(node_sock "$i")" "$@"; }
gru() { deno run -A --quiet "$root/main.ts" --etcd "$ETCD_URL" "$@"; }

# --- processes ------------------------------------------------------------------------------------

# alive PID [PATTERN]: the process exists (and its command line contains PATTERN).
alive() {
  local pid=$1 pattern=${2:-}
  [[ $pid =~ ^[0-9]+$ ]] && [ -d "/proc/$pid" ] || return 1
  [ -z "$pattern" ] && return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern"
}

# pid_of FILE PATTERN: the pid in FILE if that process is alive and matches PATTERN.
pid_of() {
  local f=$1 pattern=$2 pid
  [ -f "$f" ] || return 1
  pid=$(tr -dc '0-9' <"$f")
  alive "$pid" "$pattern" && echo "$pid"
}

# stop_pids GRACE_SECONDS PID...: SIGTERM, wait up to GRACE, then SIGKILL and wait.
stop_pids() {
  local grace=$1; shift
  local pids=() p
  for p in "$@"; do alive "$p" && pids+=("$p"); done
  [ ${#pids[@]} -eq 0 ] && return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  local deadline=$((SECONDS + grace)) left
  while :; do
    left=()
    for p in "${pids[@]}"; do alive "$p" && ! zombie "$p" && left+=("$p"); done
    [ ${#left[@]} -eq 0 ] && return 0
    [ $SECONDS -ge $deadline ] && break
    sleep 0.1
  done
  log "SIGKILL ${left[*]} (still alive after ${grace}s)"
  kill -KILL "${left[@]}" 2>/dev/null || true
  for _ in $(seq 1 50); do
    left=()
    for p in "${pids[@]}"; do alive "$p" && ! zombie "$p" && left+=("$p"); done
    [ ${#left[@]} -eq 0 ] && return 0
    sleep 0.1
  done
}

zombie() { [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }

# descendants PID...: every descendant of the given processes (one ps snapshot).
descendants() {
  [ $# -eq 0 ] && return 0
  ps -e -o pid=,ppid= | awk -v roots="$*" '
    BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) want[r[i]] = 1 }
    { kids[$2] = kids[$2] " " $1 }
    END {
      for (p in want) queue[++q] = p
      while (q > 0) {
        p = queue[q--]
        m = split(kids[p], k, " ")
        for (j = 1; j <= m; j++) if (!(k[j] in seen)) { seen[k[j]] = 1; print k[j]; queue[++q] = k[j] }
      }
    }'
}

# ns_pids NS: the processes inside namespace NS (never the host's own namespace).
ns_pids() {
  local ns=$1
  [ -e "/var/run/netns/$ns" ] || return 0
  [ "$(stat -L -c %i "/var/run/netns/$ns")" = "$(stat -L -c %i /proc/$$/ns/net)" ] && return 0
  ip netns pids "$ns" 2>/dev/null || true
}

# kill_ns NS: SIGKILLs everything in namespace NS and all its descendants (container processes
# live in their own namespaces, as children of the shims that run in NS).
kill_ns() {
  local ns=$1 pids
  mapfile -t pids < <(ns_pids "$ns")
  [ ${#pids[@]} -eq 0 ] && return 0
  mapfile -t -O ${#pids[@]} pids < <(descendants "${pids[@]}")
  kill -KILL "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 1 50); do
    local p busy=0
    for p in "${pids[@]}"; do alive "$p" && ! zombie "$p" && busy=1; done
    [ $busy = 0 ] && return 0
    sleep 0.1
  done
}

# --- down -----------------------------------------------------------------------------------------

node_indexes() {
  # every node any earlier run may have left: namespaces, pid files, veths, and (unless called
  # with "live") state dirs
  local live=${1:-}
  {
    ip netns list 2>/dev/null | awk '{print $1}' | sed -n 's/^gn\([0-9]\+\)$/\1/p'
    for f in "$RUN"/gn*.pid "$RUN"/gn*-agent.pid "$RUN"/gn*-dockerd.pid "$STATE"/gn*/; do
      [ -e "$f" ] || continue
      [ "$live" = live ] && [ -d "$f" ] && continue
      basename "$f" | sed -n 's/^gn\([0-9]\+\)\(-agent\|-dockerd\)\?\(\.pid\)\?$/\1/p'
    done
    ip -o link show 2>/dev/null | sed -n 's/^[0-9]*: gn\([0-9]\+\)-h[@:].*/\1/p'
  } | sort -un
}

unmount_under() {
  # lazily unmounts every mount below the given directories, deepest first
  local d
  for d in "$@"; do
    findmnt -rn -o TARGET 2>/dev/null | awk -v p="$d/" 'index($0 "/", p) == 1' |
      sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  done
}

cmd_down() {
  local idx i pid pids=() dpids=()
  mapfile -t idx < <(node_indexes)

  # 1. agents: SIGTERM (they revoke their lease), SIGKILL after 5 s
  for i in "${idx[@]}"; do
    pid=$(pid_of "$RUN/gn$i-agent.pid" "main.ts agent") && pids+=("$pid")
  done
  [ ${#pids[@]} -gt 0 ] && log "stopping agents: ${pids[*]}"
  stop_pids 5 "${pids[@]}"

  # 2. containers of each node engine (in parallel)
  local jobs=()
  for i in "${idx[@]}"; do
    [ -S "$(node_sock "$i")" ] || continue
    (
      mapfile -t ids < <(timeout 10 docker -H "unix://$(node_sock "$i")" ps -aq 2>/dev/null)
      # a container the engine cannot remove (a busy mount) must not stop the teardown
      [ ${#ids[@]} -gt 0 ] && { timeout 30 docker -H "unix://$(node_sock "$i")" rm -f "${ids[@]}" >/dev/null 2>&1 || log "gn$i: some containers were not removed (the engine goes next)"; }
      exit 0
    ) &
    jobs+=($!)
  done
  [ ${#jobs[@]} -gt 0 ] && wait "${jobs[@]}"

  # 3. engines, by pid (dockerd stops its containerd)
  for i in "${idx[@]}"; do
    pid=$(pid_of "$RUN/gn$i.pid" "dockerd") || pid=$(pid_of "$RUN/gn$i-dockerd.pid" "dockerd") ||
      continue
    dpids+=("$pid")
  done
  [ ${#dpids[@]} -gt 0 ] && log "stopping dockerd: ${dpids[*]}"
  stop_pids 20 "${dpids[@]}"

  # 4. whatever still runs in a node namespace (containerd, shims and containers after kill-node)
  for i in "${idx[@]}"; do kill_ns "gn$i"; done

  # 5. the harness etcd
  if pid=$(pid_of "$RUN/etcd.pid" "$STATE/etcd"); then
    log "stopping harness etcd: $pid"
    stop_pids 10 "$pid"
  fi

  # 6. network: namespaces, veths, bridge, forwarding rule
  for i in "${idx[@]}"; do
    ip netns delete "gn$i" 2>/dev/null || true
    ip link delete "gn$i-h" 2>/dev/null || true
  done
  ip link delete "$BRIDGE" 2>/dev/null || true
  while iptables -C DOCKER-USER "${FWD_RULE[@]}" 2>/dev/null; do
    iptables -D DOCKER-USER "${FWD_RULE[@]}"
  done

  # 7. data (logs stay), empty cgroups of killed containers, run dir
  for i in "${idx[@]}"; do
    if [ -d "$STATE/gn$i/data/containers" ]; then
      for c in "$STATE/gn$i/data/containers"/*/; do
        [ -d "$c" ] || continue
        c=$(basename "$c")
        for g in /sys/fs/cgroup/*/docker/"$c" /sys/fs/cgroup/docker/"$c"; do
          if [ -d "$g" ]; then rmdir "$g" 2>/dev/null || true; fi
        done
      done
    fi
    unmount_under "$STATE/gn$i/data" "$RUN/gn$i"
    # node.node-state.json: the agent's cache of its desired state (active flag, base services);
    # left behind, the next `up` of a cluster with the same name would restore it.
    rm -rf "$STATE/gn$i/data" "$STATE/gn$i/node.json" "$STATE/gn$i/node.node-state.json" \
      "$RUN/gn$i" "$RUN/gn$i".* "$RUN/gn$i"-*
  done
  rm -rf "$STATE/etcd" "$STATE/images.tar" "$STATE/harness.env" "$TLS_DIR"
  rm -f "$RUN/etcd.pid"
  rmdir "$RUN" 2>/dev/null || true
  log "down: everything removed (node slots checked: ${idx[*]:-none})"
}

# --- up -------------------------------------------------------------------------------------------

wait_until() { # wait_until SECONDS WHAT CMD...: polls CMD every 0.2 s
  local limit=$1 what=$2; shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $deadline ] && { log "timeout after ${limit}s waiting for $what"; return 1; }
    sleep 0.2
  done
}

etcd_healthy() { curl -fsS -m 1 "$ETCD_URL/health" | grep -q '"health":"true"'; }
engine_up() { ndocker "$1" version --format '{{.Server.Version}}'; }
# curl towards the agents: with the harness CA and the CLI certificate when TLS is on
agent_curl() {
  if [ -f "$TLS_DIR/gru-ca.pem" ]; then
    curl --cacert "$TLS_DIR/gru-ca.pem" --cert "$TLS_DIR/cli.pem" --key "$TLS_DIR/cli-key.pem" "$@"
  else
    curl "$@"
  fi
}
agent_scheme() { [ -f "$TLS_DIR/gru-ca.pem" ] && echo https || echo http; }
agent_url() { echo "$(agent_scheme)://$(node_ip "$1"):$AGENT_PORT"; }
agent_healthy() { agent_curl -fsS -m 2 "$(agent_url "$1")/gru/v1/health"; }

cmd_up() {
  local n="" cluster=harness config="$root/examples/demo" active=() plain=0 agents=1
  while [ $# -gt 0 ]; do
    case $1 in
      --cluster) cluster=${2:?--cluster needs a name}; shift 2 ;;
      --config) config=${2:?--config needs a directory}; shift 2 ;;
      --active) active=(--active); shift ;;
      --plain) plain=1; shift ;;
      --no-agents) agents=0; shift ;;
      -*) die "unknown option $1" ;;
      *) [ -z "$n" ] || die "unexpected argument $1"; n=$1; shift ;;
    esac
  done
  if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ] || [ "$n" -gt 200 ]; then
    die "usage: up N (1..200) [--cluster NAME] [--config DIR] [--active] [--plain] [--no-agents]"
  fi
  [ -d "$config" ] || die "no config directory $config"
  config=$(cd "$config" && pwd)
  local t0=$SECONDS i
  up_done=0
  trap '[ "$up_done" = 1 ] || log "up failed: what started is left for inspection (logs in $STATE/gn<i>); remove it with: bash scripts/cluster.sh down"' EXIT

  cmd_down
  for c in ip nsenter dockerd docker etcd curl iptables deno; do
    command -v "$c" >/dev/null || die "$c is missing: run scripts/setup.sh first"
  done
  for img in "${IMAGES[@]}"; do
    docker image inspect "$img" >/dev/null 2>&1 || die "image $img is missing on the host engine: run scripts/setup.sh"
  done
  mkdir -p "$STATE" "$RUN"
  printf 'N=%s\nCLUSTER=%s\nCONFIG=%s\n' "$n" "$cluster" "$config" >"$STATE/harness.env"

  # certificates: a CA, one per node (name + IP, server and client), one for the CLI
  if [ "$plain" = 0 ]; then
    log "TLS: CA and $n node certificates in $TLS_DIR"
    gru tls ca create --dir "$TLS_DIR" --name "Gru harness CA" >/dev/null
    local tjobs=()
    gru tls cert create --cli --dir "$TLS_DIR" >/dev/null & tjobs+=($!)
    for i in $(seq 1 "$n"); do
      gru tls cert create --node "gn$i" --ip "$(node_ip "$i")" --dir "$TLS_DIR" >/dev/null &
      tjobs+=($!)
    done
    for j in "${tjobs[@]}"; do wait "$j" || die "gru tls cert create failed"; done
    printf 'GRU_TLS_CA=%s\nGRU_TLS_CERT=%s\nGRU_TLS_KEY=%s\n' "$TLS_DIR/gru-ca.pem" \
      "$TLS_DIR/cli.pem" "$TLS_DIR/cli-key.pem" >>"$STATE/harness.env"
  fi
  node_tls() { # node_tls I: the agent's TLS flags
    [ "$plain" = 1 ] && return 0
    echo --tls-ca "$TLS_DIR/gru-ca.pem" --tls-cert "$TLS_DIR/gn$1.pem" --tls-key "$TLS_DIR/gn$1-key.pem"
  }

  # network
  log "network: bridge $BRIDGE $HOST_IP/16, namespaces gn1..gn$n"
  ip link add "$BRIDGE" type bridge
  ip addr add "$HOST_IP/16" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  for i in $(seq 1 "$n"); do
    ip netns add "gn$i"
    ip link add "gn$i-h" type veth peer name "gn$i-n"
    ip link set "gn$i-n" netns "gn$i"
    ip link set "gn$i-h" master "$BRIDGE"
    ip link set "gn$i-h" up
    ip -n "gn$i" addr add "$(node_ip "$i")/16" dev "gn$i-n"
    ip -n "gn$i" link set "gn$i-n" up
    ip -n "gn$i" link set lo up
    ip -n "gn$i" route add default via "$HOST_IP"
  done
  iptables -N DOCKER-USER 2>/dev/null || true
  iptables -C FORWARD -j DOCKER-USER 2>/dev/null || iptables -I FORWARD -j DOCKER-USER
  iptables -I DOCKER-USER "${FWD_RULE[@]}"
  [ "$(sysctl -n net.ipv4.ip_forward)" = 1 ] || sysctl -qw net.ipv4.ip_forward=1

  # harness etcd and the engines start together
  log "harness etcd on $ETCD_URL and $ETCD_NODE_URL"
  mkdir -p "$STATE/etcd"
  setsid nohup etcd --name gru-harness --data-dir "$STATE/etcd" \
    --listen-client-urls "$ETCD_URL,$ETCD_NODE_URL" --advertise-client-urls "$ETCD_NODE_URL" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "gru-harness=http://127.0.0.1:$ETCD_PEER_PORT" \
    </dev/null >"$STATE/etcd.log" 2>&1 &
  echo $! >"$RUN/etcd.pid"

  log "starting $n dockerd"
  for i in $(seq 1 "$n"); do
    mkdir -p "$STATE/gn$i/data" "$RUN/gn$i"
    setsid nohup nsenter --net="/var/run/netns/gn$i" dockerd \
      --data-root "$STATE/gn$i/data" --exec-root "$RUN/gn$i" --pidfile "$RUN/gn$i.pid" \
      -H "unix://$(node_sock "$i")" </dev/null >"$STATE/gn$i/dockerd.log" 2>&1 &
    echo $! >"$RUN/gn$i-dockerd.pid"
  done
  docker save "${IMAGES[@]}" -o "$STATE/images.tar" &
  local save_pid=$!

  wait_until 30 "harness etcd" etcd_healthy || { tail -20 "$STATE/etcd.log" >&2; exit 1; }
  local jobs=()
  if [ "$agents" = 1 ]; then
    log "gru create $cluster; gru config import $cluster $config"
    gru create "$cluster" >/dev/null
    gru config import "$cluster" "$config" >/dev/null
  fi
  for i in $([ "$agents" = 1 ] && seq 1 "$n"); do
    # shellcheck disable=SC2046 # node_tls prints flags and paths without spaces
    gru join "$cluster" --name "gn$i" --address "$(node_ip "$i")" --port "$AGENT_PORT" \
      --ttl "$AGENT_TTL" --state "$STATE/gn$i/node.json" --register-only $(node_tls "$i") >/dev/null &
    jobs+=($!)
  done
  for j in "${jobs[@]}"; do wait "$j" || die "gru join failed"; done

  wait "$save_pid" || die "docker save ${IMAGES[*]} failed"
  jobs=()
  for i in $(seq 1 "$n"); do
    (
      wait_until 60 "dockerd of gn$i" engine_up "$i" || { tail -20 "$STATE/gn$i/dockerd.log" >&2; exit 1; }
      ndocker "$i" load -i "$STATE/images.tar" >/dev/null
    ) &
    jobs+=($!)
  done
  i=0
  for j in "${jobs[@]}"; do
    i=$((i + 1))
    wait "$j" || die "dockerd of gn$i did not start or did not load the images (see $STATE/gn$i/dockerd.log)"
  done
  rm -f "$STATE/images.tar"

  if [ "$agents" = 1 ]; then log "starting $n agents"; else log "no agents (--no-agents)"; fi
  for i in $([ "$agents" = 1 ] && seq 1 "$n"); do
    setsid nohup nsenter --net="/var/run/netns/gn$i" \
      deno run -A --quiet "$root/main.ts" agent --cluster "$cluster" --name "gn$i" \
      --address "$(node_ip "$i")" --port "$AGENT_PORT" --docker "unix://$(node_sock "$i")" \
      --etcd "$ETCD_NODE_URL" --state "$STATE/gn$i/node.json" --ttl "$AGENT_TTL" \
      --label gru.harness=1 "${active[@]}" $(node_tls "$i") \
      </dev/null >"$STATE/gn$i/agent.log" 2>&1 &
    echo $! >"$RUN/gn$i-agent.pid"
  done
  for i in $([ "$agents" = 1 ] && seq 1 "$n"); do
    wait_until 60 "agent gn$i" agent_healthy "$i" || { tail -20 "$STATE/gn$i/agent.log" >&2; exit 1; }
  done

  up_done=1
  log "up: $n nodes in $((SECONDS - t0))s"
  echo "Gru harness cluster \"$cluster\" is up ($n nodes, config $config)."
  printf '  %-5s %-12s %-28s %s\n' node address api docker
  for i in $(seq 1 "$n"); do
    printf '  %-5s %-12s %-28s %s\n' "gn$i" "$(node_ip "$i")" \
      "$(agent_url "$i")" "unix://$(node_sock "$i")"
  done
  echo "  etcd: $ETCD_URL (nodes use $ETCD_NODE_URL)   logs: $STATE/gn<i>/agent.log"
  local tls_env=""
  [ "$plain" = 0 ] &&
    tls_env="GRU_TLS_CA=$TLS_DIR/gru-ca.pem GRU_TLS_CERT=$TLS_DIR/cli.pem GRU_TLS_KEY=$TLS_DIR/cli-key.pem "
  [ "$plain" = 0 ] && echo "  TLS: mutual, certificates in $TLS_DIR (the CLI's: cli.pem, cli-key.pem)"
  echo "Manage: ${tls_env}ETCD_ADDR=$ETCD_URL deno task gru manage --cluster $cluster"
  printf '        (e.g. printf '"'"'list nodes\\nstart service web node gn2\\n'"'"' | ETCD_ADDR=%s deno task gru manage --cluster %s)\n' "$ETCD_URL" "$cluster"
  if [ "$plain" = 0 ]; then
    echo "In a node: nsenter --net=/var/run/netns/gn1 curl -s --cacert $TLS_DIR/gru-ca.pem --cert $TLS_DIR/cli.pem --key $TLS_DIR/cli-key.pem $(agent_url 2)/gru/v1/health"
  else
    echo "In a node: nsenter --net=/var/run/netns/gn1 curl -s $(agent_url 2)/gru/v1/health"
  fi
  echo "Tear down: bash scripts/cluster.sh down"
}

# --- status, failures ----------------------------------------------------------------------------

cmd_status() {
  local idx i pid
  mapfile -t idx < <(node_indexes live)
  [ -f "$STATE/harness.env" ] && sed 's/^/  /' "$STATE/harness.env"
  if pid=$(pid_of "$RUN/etcd.pid" "$STATE/etcd"); then
    echo "etcd      pid $pid  $ETCD_URL  $(etcd_healthy && echo healthy || echo unhealthy)"
  else
    echo "etcd      not running"
  fi
  if ip link show "$BRIDGE" >/dev/null 2>&1; then echo "bridge    $BRIDGE up"; else echo "bridge    none"; fi
  if iptables -C DOCKER-USER "${FWD_RULE[@]}" 2>/dev/null; then echo "forward   rule present"; else echo "forward   rule absent"; fi
  [ ${#idx[@]} -eq 0 ] && { echo "nodes     none"; return 0; }
  for i in "${idx[@]}"; do
    local ns=no link=none d=down a=down h=-
    [ -e "/var/run/netns/gn$i" ] && ns=yes
    ip link show "gn$i-h" >/dev/null 2>&1 &&
      link=$(ip -o link show "gn$i-h" | grep -q 'state UP\|,UP' && echo up || echo down)
    pid=$(pid_of "$RUN/gn$i.pid" dockerd) && d="pid $pid"
    pid=$(pid_of "$RUN/gn$i-agent.pid" "main.ts agent") && a="pid $pid"
    agent_healthy "$i" >/dev/null 2>&1 && h=healthy
    printf 'gn%-3s  %-12s netns %-3s  link %-4s  dockerd %-10s  agent %-10s  %s\n' \
      "$i" "$(node_ip "$i")" "$ns" "$link" "$d" "$a" "$h"
  done
}

cmd_kill_node() {
  local i=${1:?usage: kill-node I} pids=() pid
  pid=$(pid_of "$RUN/gn$i-agent.pid" "main.ts agent") && pids+=("$pid")
  pid=$(pid_of "$RUN/gn$i.pid" dockerd) && pids+=("$pid")
  [ ${#pids[@]} -gt 0 ] && kill -KILL "${pids[@]}" 2>/dev/null
  kill_ns "gn$i" # containerd, shims and containers go down with the machine
  log "node gn$i killed (${pids[*]:-nothing was running})"
}

case ${1:-} in
  up) shift; cmd_up "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  kill-node) cmd_kill_node "${2:-}" ;;
  cut-link) ip link set "gn${2:?usage: cut-link I}-h" down && log "gn$2-h down" ;;
  heal-link) ip link set "gn${2:?usage: heal-link I}-h" up && log "gn$2-h up" ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
