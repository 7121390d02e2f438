// deno-lint-ignore-file no-console
/**
 * How many PromQL queries a cluster of N agents sends per loop for 10 cluster-scope sources, with
 * the real ExternalMetrics choice of who queries and simulated gossip delivery.
 *
 * Usage: `deno run -A scripts/sim_sources_fanout.ts [nodes=100] [members]`
 *
 * @module
 */

import {
  ExternalMetrics,
  peerStates,
  type SourcesView,
} from "../src/agent/monitor/external_metrics.ts";
import { FakeClock } from "../src/domain/clock.ts";
import type { NodeShare } from "../src/agent/gossip/types.ts";
import { descriptor } from "../tests/helpers/planner_fixtures.ts";
import { seededPrng } from "../src/domain/random.ts";
const N = Number(Deno.args[0] ?? 100),
  LOOPS = 20,
  SERVICES = 10,
  withMembers = Deno.args[1] === "members";
const clock = new FakeClock(0);
let calls = 0;
const querier = {
  query: () => (calls++, Promise.resolve({ ok: true as const, value: 1, sampleTime: 0 })),
};
const services = new Map(Array.from({ length: SERVICES }, (_, i) => {
  const d = {
    ...descriptor(`s${i}`),
    metricSources: {
      rps: {
        type: "prometheus" as const,
        url: "http://p",
        query: "up",
        scope: "cluster" as const,
        headers: {},
        timeout: 2,
        staleAfter: 30,
      },
    },
  };
  return [d.name, d];
}));
const nodes = Array.from(
  { length: N },
  (_, i) => ({
    name: `n${i}`,
    em: new ExternalMetrics(querier, clock),
    view: new Map<string, { share: NodeShare; at: number }>(),
  }),
);
const members = nodes.map((n) => ({ name: n.name, active: true }));
const prng = seededPrng(1);
const perLoop: number[] = [];
for (let loop = 0; loop < LOOPS; loop++) {
  const before = calls;
  const shares: { share: NodeShare; at: number }[] = [];
  for (const n of nodes) {
    const v: SourcesView = await n.em.collect({
      self: n.name,
      services,
      members: withMembers ? members : undefined,
      peers: peerStates(
        [...n.view.values()].map(({ share, at }) => ({ share, heldMs: clock.now() - at })),
      ),
      instanceNames: () => [],
    });
    const svc: NodeShare["services"] = {};
    for (const s of services.keys()) {
      svc[s] = {
        running: 1,
        pending: 0,
        analytics: {},
        cpuNumber: 0,
        ...(v.share[s] ? { sources: v.share[s] } : {}),
      };
    }
    shares.push({
      share: {
        origin: n.name,
        version: loop + 1,
        time: 0,
        active: true,
        services: svc,
        resources: { totalCpus: 1, freeCpus: 1, totalMemory: 1, freeMemory: 1 },
        actions: [],
      },
      at: clock.now(),
    });
  }
  for (const n of nodes) {
    for (const s of shares) {
      if (s.share.origin !== n.name && prng() < 0.5) n.view.set(s.share.origin, s);
    }
  }
  perLoop.push(calls - before);
  clock.advance(5000);
}
console.log(JSON.stringify({ N, SERVICES, withMembers, perLoop }));
