#!/usr/bin/env bash
# The README's demo: a one-node Gru cluster on this machine, managed by hand.
#   bash scripts/demo.sh        install what is missing, start etcd/dockerd (reused if running),
#                               create cluster "demo", import examples/demo, run an agent, start
#                               the demo web service through `gru manage` and query it
#   bash scripts/demo.sh down   stop the demo agent, remove the demo's containers and cluster
# Idempotent: running it again reuses the cluster, the agent and what already runs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
state=/var/lib/gru-demo
export ETCD_ADDR=${ETCD_ADDR:-http://127.0.0.1:2379}
cluster=${GRU_DEMO_CLUSTER:-demo}
port=${GRU_DEMO_PORT:-5055}
gru() { deno run -A --quiet "$root/main.ts" "$@"; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ "${1:-up}" = down ]; then
  if [ -f "$state/agent.pid" ] && kill -0 "$(cat "$state/agent.pid")" 2>/dev/null; then
    kill -TERM "$(cat "$state/agent.pid")"; echo "stopped agent $(cat "$state/agent.pid")"
  fi
  rm -f "$state/agent.pid"
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
  gru join "$cluster" --name demo1 --address 127.0.0.1 --port "$port" --state "$state/node.json" ||
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

say "gru manage: list nodes, start the web service on demo1, list services"
start_web="start service web node demo1"
if [ -n "$(docker ps -q --filter "label=gru.cluster=$cluster" --filter label=gru.service=web)" ]; then
  start_web="# web already runs: reusing it"
fi
printf 'use %s\nlist nodes\nset node demo1 base-services web\n%s\nlist services\n' \
  "$cluster" "$start_web" | gru manage

say "The web instance answers"
hostport=$(docker ps --filter "label=gru.cluster=$cluster" --filter "label=gru.service=web" \
  --format '{{.Ports}}' | head -1 | sed -n 's/.*:\([0-9]*\)->80.*/\1/p')
curl -fsS "http://127.0.0.1:$hostport/cgi-bin/work?n=50000"
curl -fsS "http://127.0.0.1:$port/gru/v1/health"; echo

say "Done"
echo "Agent API: http://127.0.0.1:$port/gru/v1/services   REPL: ETCD_ADDR=$ETCD_ADDR deno task gru manage --cluster $cluster"
echo "Tear down: bash scripts/demo.sh down"
