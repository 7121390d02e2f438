#!/bin/sh
# The single worker: reads "<request id> <work ms>" lines from the queue FIFO (opened read-write so
# it never sees end of file) and, for each, keeps the CPU busy for <work ms> of wall-clock time,
# then wakes the request up through its own FIFO /tmp/done.<id>.
# Busy means spinning up to the next 10 ms clock tick, then sleeping $NAP_MS ms (default 30; 0
# spins throughout): a saturated instance then uses about a tenth of a core instead of a whole
# one, so a cluster's worth of instances fits on a small machine (scale the CPU thresholds by the
# measured share).
# After each request it also prints gru:<service>:busy:<share>:ratio, the share of the time since
# the previous answer that the worker was busy (1 while requests queue): the instance's CPU
# utilization as the seed author's full-core service would have had it, whatever the nap.
nap=${NAP_MS:-30}
case "$nap" in '' | *[!0-9]*) nap=30 ;; esac
now_cs() { read -r up _ </proc/uptime; cs=${up%.*}${up#*.}; cs=${cs#0}; }
service=${GRU_SERVICE:-paper}
exec 3<>/tmp/queue
now_cs
last=$cs
while read -r id work <&3; do
  now_cs
  began=$cs
  end=$((cs + (work + 9) / 10))
  while [ "$cs" -lt "$end" ]; do
    tick=$cs
    while [ "$cs" -eq "$tick" ]; do now_cs; done
    rest=$(((end - cs) * 10))
    if [ "$nap" -gt 0 ] && [ "$rest" -gt 0 ]; then
      [ "$rest" -lt "$nap" ] && usleep $((rest * 1000)) || usleep $((nap * 1000))
      now_cs
    fi
  done
  [ -p "/tmp/done.$id" ] && echo ok >"/tmp/done.$id"
  span=$((cs - last))
  pct=100
  [ "$span" -gt 0 ] && pct=$(((cs - began) * 100 / span))
  [ "$pct" -gt 100 ] && pct=100
  last=$cs
  printf 'gru:%s:busy:%d.%02d:ratio\n' "$service" $((pct / 100)) $((pct % 100))
done
