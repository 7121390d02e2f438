#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions run through step() and traps look unreachable
# Gru's single test command (the README's and CI's):
#
#   sudo bash scripts/test.sh [deno test arguments…]      (or as root: bash scripts/test.sh)
#
# 1. setup     scripts/setup.sh: installs Deno, docker.io, etcd, InfluxDB, VictoriaMetrics,
#              busybox, systemd-analyze and cloud-init (scripts/deploy_test.ts); starts dockerd
#              and etcd (reusing whatever already answers; they are left running for the next
#              run) and builds the local test images.
# 2. fmt       deno fmt --check
# 3. lint      deno lint
# 4. check     deno task check (type-checks main.ts, src/, tests/, scripts/)
# 5. imports   deno task imports (the architecture's dependency rules and import cycles)
# 6. offline   the unit tests in src/ with Docker and etcd out of reach (private namespaces)
# 7. test      deno test --allow-all over the whole repo: unit tests in src/ and scripts/,
#              contract, integration and e2e tests under tests/ (real Docker and etcd).
#              Extra arguments go to deno test (e.g. `bash scripts/test.sh src/domain/`).
#
# Every step runs even when an earlier one failed (except setup, which everything needs); the
# exit status is non-zero when any step failed. After the tests it removes containers labelled
# `gru.test-run` and ends any process still carrying this run's GRU_TEST_RUN id (agents, engines
# a test forgot), so nothing the run started is left behind except the reused dockerd and etcd.
#
# Environment: CI=true (no colours, no stdin), GRU_TEST_TIMEOUT (seconds for the test step,
# default 1500), GRU_TEST_FLAGS (extra deno test flags, e.g. "--trace-leaks" or "--parallel").
# The tests get GRU_TEST_RUN, a short id unique to this run (tests/helpers/env.ts puts it in
# container labels, cluster names and etcd prefixes).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root" || exit 1

if [ "$(id -u)" -ne 0 ]; then
  echo "scripts/test.sh must run as root (it installs packages and starts dockerd/etcd):" >&2
  echo "  sudo bash scripts/test.sh" >&2
  exit 1
fi

exec </dev/null # nothing here may wait for input (CI has none)
if [ "${CI:-}" = "true" ] || [ ! -t 1 ]; then export NO_COLOR=1; fi
export DENO_NO_UPDATE_CHECK=1

test_timeout=${GRU_TEST_TIMEOUT:-1500}
read -r -a extra_flags <<<"${GRU_TEST_FLAGS:-}"
started=$SECONDS
work=$(mktemp -d /tmp/gru-test.XXXXXX)
child=""
declare -a results=()
failed=0

header() { printf '\n================ %s ================\n' "$*"; }
note() { printf '[test] %s\n' "$*"; }

# Runs one step in the background (so a signal reaches the trap at once) and records its outcome.
step() {
  local name=$1
  shift
  header "$name"
  local t0=$SECONDS rc
  "$@" &
  child=$!
  wait "$child"
  rc=$?
  child=""
  local took=$((SECONDS - t0))
  if [ "$rc" -eq 0 ]; then
    results+=("$(printf '%-8s ok      %4ss' "$name" "$took")")
  else
    results+=("$(printf '%-8s FAILED  %4ss  (exit %s)' "$name" "$took" "$rc")")
    failed=1
  fi
  printf -- '---- %s: %s (%ss)\n' "$name" "$([ "$rc" -eq 0 ] && echo ok || echo "FAILED, exit $rc")" "$took"
  return "$rc"
}

# Every process whose environment carries this run's id, except this shell.
# Only shell builtins here, so the scan does not find its own helpers.
run_pids() {
  local f pid v
  for f in /proc/[0-9]*/environ; do
    pid=${f#/proc/}
    pid=${pid%/environ}
    [ "$pid" = "$$" ] && continue
    [ "$pid" = "${BASHPID:-$$}" ] && continue
    while IFS= read -r -d '' v; do
      if [ "$v" = "GRU_TEST_RUN=$GRU_TEST_RUN" ]; then
        echo "$pid"
        break
      fi
    done 2>/dev/null <"$f"
  done
  return 0
}

cleanup_run() {
  [ -n "${GRU_TEST_RUN:-}" ] || return 0
  local ids pids
  if command -v docker >/dev/null 2>&1 && docker version >/dev/null 2>&1; then
    ids=$(docker ps -aq --filter label=gru.test-run)
    if [ -n "$ids" ]; then
      note "removing $(echo "$ids" | wc -l) leftover container(s) labelled gru.test-run"
      echo "$ids" | xargs -r docker rm -f >/dev/null 2>&1 || true
    fi
  fi
  pids=$(run_pids)
  if [ -n "$pids" ]; then
    note "ending leftover processes of this run: $(echo "$pids" | tr '\n' ' ')"
    for pid in $pids; do
      note "  $pid: $(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | cut -c1-120)"
      kill -TERM "$pid" 2>/dev/null || true
    done
    for _ in $(seq 1 20); do
      [ -z "$(run_pids)" ] && break
      sleep 0.5
    done
    for pid in $(run_pids); do kill -KILL "$pid" 2>/dev/null || true; done
  fi
}

on_exit() {
  local rc=$?
  if [ -n "$child" ]; then
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  cleanup_run
  rm -rf "$work"
  exit "$rc"
}
trap on_exit EXIT
trap 'note "interrupted"; exit 130' INT
trap 'note "terminated"; exit 143' TERM

header "gru test run ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, CI=${CI:-false})"
note "repo: $root ($(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo 'not a git checkout'))"

# --- 1. setup: required by everything else ----------------------------------------------------
if ! step setup bash "$here/setup.sh"; then
  header "summary"
  printf '%s\n' "${results[@]}"
  echo "setup failed: nothing else can run (see the messages above and /var/log/gru-dev/)"
  exit 1
fi
note "deno: $(deno --version | head -1); docker: $(docker version --format '{{.Server.Version}}' 2>/dev/null)"
note "etcd: $(ETCDCTL_API=3 etcdctl --endpoints=http://127.0.0.1:2379 endpoint status -w simple 2>/dev/null | cut -d, -f3 | tr -d ' ')"

# From here on, every process this run starts carries the run id (and so can be found later).
GRU_TEST_RUN="t$(date +%s)-$$" # short: tests put it in cluster names (<= 63 chars)
export GRU_TEST_RUN

# --- 2..5. static checks --------------------------------------------------------------------------
step fmt deno fmt --check
step lint deno lint
step check deno task check
step imports deno task imports

# --- 6. unit tests out of reach of Docker and etcd -------------------------------------------------
# The unit tests in src/ must pass without either: in a private network namespace (no etcd, no
# Docker over TCP) with an empty /run (no Docker socket). Skipped when arguments narrow the run.
offline_units() {
  unshare --mount --net sh -c \
    'mount -t tmpfs none /run && ip link set lo up && exec deno test --allow-all src/' 2>&1 |
    sed 's/\x1b\[[0-9;]*m//g' | grep -E '^(ok|FAILED) \||FAILED|^error' | sed 's/^/[offline] /'
  return "${PIPESTATUS[0]}"
}
if [ "$#" -eq 0 ]; then step offline offline_units; fi

# --- 7. tests -------------------------------------------------------------------------------------
run_tests() {
  # deno test's summary reads "ok | 12 passed (3 steps) | 0 failed | 1 ignored (2s)"; it is
  # restated as a plain "tests: N passed, N failed" line for CI.
  timeout --kill-after=30 "$test_timeout" \
    deno test --allow-all "${extra_flags[@]}" "$@" 2>&1 | tee "$work/test.log"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" -eq 124 ]; then
    echo "test step timed out after ${test_timeout}s (GRU_TEST_TIMEOUT)"
  fi
  local summary passed failed_n ignored
  summary=$(sed 's/\x1b\[[0-9;]*m//g' "$work/test.log" | grep -E '^(ok|FAILED) \| [0-9]+ passed' | tail -1)
  if [ -n "$summary" ]; then
    passed=$(grep -oE '[0-9]+ passed' <<<"$summary" | grep -oE '[0-9]+')
    failed_n=$(grep -oE '[0-9]+ failed' <<<"$summary" | grep -oE '[0-9]+')
    ignored=$(grep -oE '[0-9]+ ignored' <<<"$summary" | grep -oE '[0-9]+' || true)
    echo
    if [ -n "$ignored" ] && [ "$ignored" != 0 ]; then
      echo "tests: ${passed:-0} passed, ${failed_n:-0} failed, ${ignored} skipped" >"$work/counts"
    else
      echo "tests: ${passed:-0} passed, ${failed_n:-0} failed" >"$work/counts"
    fi
    cat "$work/counts"
  else
    echo
    echo "tests: deno test did not report a summary (timed out, type errors, or a crash before the end?)"
  fi
  return "$rc"
}
step test run_tests "$@"

header "cleanup"
cleanup_run
note "dockerd and etcd are left running for the next run"

header "summary"
printf '%s\n' "${results[@]}"
printf 'total %ss\n' "$((SECONDS - started))"
if [ "$failed" -ne 0 ]; then
  echo "RESULT: FAILED"
else
  echo "RESULT: ok"
fi
# The test counts close the output, as a plain "tests: N passed, N failed" line.
[ -f "$work/counts" ] && cat "$work/counts"
exit "$failed"
