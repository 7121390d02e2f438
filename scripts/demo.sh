#!/usr/bin/env bash
# The README's demo: a one-node Gru cluster on this machine that autoscales by itself.
#   bash scripts/demo.sh        install what is missing, start etcd/dockerd (reused if running),
#                               create cluster "demo", import examples/demo, run an agent, make
#                               `web` a base service, start the autonomic loop and the web
#                               console (http://127.0.0.1:8080, GRU_DEMO_CONSOLE_PORT), then load `web`
#                               with CPU-burning requests: Gru scales it out to its max (2) and,
#                               once the load stops, back in to its min (1). Every decision and
#                               its reasons are printed at the end.
#   bash scripts/demo.sh down   stop the demo agent and console, remove the demo's containers and cluster
# Idempotent: running it again reuses the cluster, the agent and what already runs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
state=/var/lib/gru-demo
export ETCD_ADDR=${ETCD_ADDR:-http://127.0.0.1:2379}
cluster=${GRU_DEMO_CLUSTER:-demo}
port=${GRU_DEMO_PORT:-5055}
console_port=${GRU_DEMO_CONSOLE_PORT:-8080}
gru() { deno run -A --quiet "$root/main.ts" "$@"; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

web_ports() {
  docker ps --filter "label=gru.cluster=$cluster" --filter label=gru.service=web --format '{{.Ports}}' |
    sed -n 's/.*:\([0-9]*\)->80.*/\1/p'
}
web_count() { docker ps -q --filter "label=gru.cluster=$cluster" --filter label=gru.service=web | wc -l; }
load_worker() {
  while [ -f "$state/load.on" ]; do
    for p in $(web_ports); do curl -s -m 5 "http://127.0.0.1:$p/cgi-bin/work?n=30000" >/dev/null || true; done
  done
}
# Waits until `web` has $1 instances (at most $2 seconds), printing the count every second.
watch_web() {
  local want=$1 limit=$2 start=$SECONDS n
  while :; do
    n=$(web_count)
    printf '  t=%3ss  web instances: %s\n' "$((SECONDS - start))" "$n"
    [ "$n" -eq "$want" ] && return 0
    [ $((SECONDS - start)) -ge "$limit" ] && { echo "  (not $want after ${limit}s)"; return 1; }
    sleep 1
  done
}

if [ "${1:-up}" = down ]; then
  rm -f "$state/load.on"
  if [ -f "$state/agent.pid" ] && kill -0 "$(cat "$state/agent.pid")" 2>/dev/null; then
    kill -TERM "$(cat "$state/agent.pid")"; echo "stopped agent $(cat "$state/agent.pid")"
  fi
  rm -f "$state/agent.pid"
  if [ -f "$state/console.pid" ] && kill -0 "$(cat "$state/console.pid")" 2>/dev/null; then
    kill -TERM "$(cat "$state/console.pid")"; echo "stopped console $(cat "$state/console.pid")"
  fi
  rm -f "$state/console.pid"
  docker ps -aq --filter "label=gru.cluster=$cluster" | xargs -r docker rm -f >/dev/null
  ETCDCTL_API=3 etcdctl --endpoints="$ETCD_ADDR" del --prefix "/gru/$cluster/" >/dev/null
  echo "demo cluster $cluster removed"
  exit 0
fi

say "Setting up (Deno, dockerd, etcd, local images)"
bash "$here/setup.sh"
mkdir -p "$state"

say "gru create $cluster"
gru create "$cluster" || echo "(cluster $cluster exists: reusing it)"

say "gru config validate + import examples/demo"
gru config validate "$root/examples/demo"
gru config import "$cluster" "$root/examples/demo"

say "gru agent (node demo1 on 127.0.0.1:$port)"
if [ -f "$state/agent.pid" ] && kill -0 "$(cat "$state/agent.pid")" 2>/dev/null; then
  echo "agent already running (pid $(cat "$state/agent.pid"))"
else
  gru join "$cluster" --name demo1 --address 127.0.0.1 --port "$port" --state "$state/node.json" \
    --register-only ||
    echo "(node demo1 is registered: reusing it)"
  nohup deno run -A --quiet "$root/main.ts" agent --state "$state/node.json" --listen 127.0.0.1 \
    >"$state/agent.log" 2>&1 </dev/null &
  echo $! >"$state/agent.pid"
  for _ in $(seq 1 60); do
    curl -fsS "http://127.0.0.1:$port/gru/v1/health" >/dev/null 2>&1 && break
    sleep 0.5
  done
  echo "agent pid $(cat "$state/agent.pid"), log $state/agent.log"
fi

say "gru console (the web console on 127.0.0.1:$console_port)"
if [ -f "$state/console.pid" ] && kill -0 "$(cat "$state/console.pid")" 2>/dev/null; then
  echo "console already running (pid $(cat "$state/console.pid"))"
else
  nohup deno run -A --quiet "$root/main.ts" console --listen "127.0.0.1:$console_port" \
    --cluster "$cluster" >"$state/console.log" 2>&1 </dev/null &
  echo $! >"$state/console.pid"
  for _ in $(seq 1 60); do
    curl -fsS "http://127.0.0.1:$console_port/api/session" >/dev/null 2>&1 && break
    sleep 0.5
  done
fi
if curl -fsS "http://127.0.0.1:$console_port/api/session" >/dev/null 2>&1; then
  echo "Console: http://127.0.0.1:$console_port/ (open it to watch the scaling live; log $state/console.log)"
else
  echo "(the console did not answer on 127.0.0.1:$console_port: see $state/console.log; the demo goes on)"
fi

say "gru manage: list nodes, make web a base service, start the autonomic loop"
printf 'use %s\nupdate all\nlist nodes\nset node demo1 base-services web\nstart agent demo1\nlist services\n' \
  "$cluster" | gru manage
echo "Waiting for the base service web to come up..."
watch_web 1 30

say "Loading web with CPU-burning requests: Gru scales it out"
touch "$state/load.on"
workers=()
for _ in 1 2 3 4; do load_worker & workers+=($!); done
scaled_out=0
watch_web 2 60 && scaled_out=1

say "Load stopped: Gru scales web back in to its min"
rm -f "$state/load.on"
wait "${workers[@]}"
scaled_in=0
watch_web 1 90 && scaled_in=1

say "Why: the agent's latest decisions (gru manage: show decisions demo1)"
printf 'use %s\nshow decisions demo1\n' "$cluster" | gru manage | cut -c1-160
hostport=$(web_ports | head -1)
curl -fsS "http://127.0.0.1:$hostport/cgi-bin/work?n=50000"

say "Done"
echo "Agent API (needs the cluster token): curl -H \"Authorization: Bearer \$(deno task gru token show $cluster --reveal)\" http://127.0.0.1:$port/gru/v1/services"
echo "REPL: ETCD_ADDR=$ETCD_ADDR deno task gru manage --cluster $cluster"
echo "Console: http://127.0.0.1:$console_port/ (service page: http://127.0.0.1:$console_port/#/service/web)"
echo "Tear down: bash scripts/demo.sh down"
if [ "$scaled_out" = 1 ] && [ "$scaled_in" = 1 ]; then
  echo "RESULT: web scaled out to 2 under load and back in to 1 after it"
else
  echo "RESULT: web did not scale as expected (see $state/agent.log)"; exit 1
fi
