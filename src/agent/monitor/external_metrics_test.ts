import assert from "node:assert/strict";
import { descriptor } from "../../../tests/helpers/planner_fixtures.ts";
import { FakeClock } from "../../domain/clock.ts";
import type { MetricSource, ServiceDescriptor } from "../../domain/model.ts";
import type { InstantQuery, MetricQuerier, QueryResult } from "../../ports/metric_query.ts";
import type { NodeShare } from "../gossip/types.ts";
import {
  ExternalMetrics,
  fillQuery,
  peerStates,
  rendezvousOrder,
  type SourcesView,
  withSourceValues,
} from "./external_metrics.ts";

/** A querier that answers from a script and remembers who asked what. */
class FakeQuerier implements MetricQuerier {
  calls: InstantQuery[] = [];
  answer: (q: InstantQuery) => QueryResult = () => ({ ok: true, value: 42, sampleTime: 0 });
  query(q: InstantQuery): Promise<QueryResult> {
    this.calls.push(q);
    return Promise.resolve(this.answer(q));
  }
}

function source(over: Partial<MetricSource> = {}): MetricSource {
  return {
    type: "prometheus",
    url: "http://prom:9090",
    query: 'sum(rate(http_requests_total{service="$service"}[1m]))',
    scope: "cluster",
    headers: { "X-Scope-OrgID": "team" },
    timeout: 2,
    staleAfter: 30,
    ...over,
  };
}

function services(...list: ServiceDescriptor[]): Map<string, ServiceDescriptor> {
  return new Map(list.map((s) => [s.name, s]));
}

function web(over: Partial<MetricSource> = {}): ServiceDescriptor {
  return { ...descriptor("web"), metricSources: { rps: source(over) } };
}

/** A share of `origin` carrying the readings of `view` (as merge.ts builds it). */
function shareOf(origin: string, view: SourcesView, names: string[], active = true): NodeShare {
  const svc: NodeShare["services"] = {};
  for (const name of names) {
    svc[name] = {
      running: 1,
      pending: 0,
      analytics: {},
      cpuNumber: 0,
      ...(view.share[name] ? { sources: view.share[name] } : {}),
    };
  }
  return {
    origin,
    version: 1,
    time: 0,
    active,
    services: svc,
    resources: { totalCpus: 1, freeCpus: 1, totalMemory: 1, freeMemory: 1 },
    actions: [],
  };
}

/** A cluster of nodes, each with its own ExternalMetrics over one querier, gossiping at once. */
class Cluster {
  clock = new FakeClock(1_000_000);
  querier = new FakeQuerier();
  nodes: Map<string, ExternalMetrics>;
  shares = new Map<string, { share: NodeShare; at: number }>();
  views = new Map<string, SourcesView>();
  constructor(names: string[], readonly svc: Map<string, ServiceDescriptor>) {
    this.nodes = new Map(names.map((n) => [n, new ExternalMetrics(this.querier, this.clock)]));
  }
  /** The live members as etcd lists them (undefined: unknown, the view alone counts). */
  members: { name: string; active: boolean }[] | undefined;
  /** One loop on every node in turn; each sees the others' latest shares. */
  async loop(down: ReadonlySet<string> = new Set()): Promise<void> {
    for (const [name, node] of this.nodes) {
      if (down.has(name)) continue;
      const peers = [...this.shares.values()].filter((s) => s.share.origin !== name)
        .map(({ share, at }) => ({ share, heldMs: this.clock.now() - at }));
      const view = await node.collect({
        self: name,
        services: this.svc,
        peers: peerStates(peers),
        members: this.members,
        instanceNames: () => [],
      });
      this.views.set(name, view);
      this.shares.set(name, {
        share: shareOf(name, view, [...this.svc.keys()]),
        at: this.clock.now(),
      });
    }
    this.clock.advance(1000);
  }
}

Deno.test("rendezvous order is deterministic and spreads metrics over the nodes", () => {
  const nodes = ["n1", "n2", "n3", "n4", "n5"];
  assert.deepEqual(
    rendezvousOrder("web", "rps", nodes),
    rendezvousOrder("web", "rps", [...nodes].reverse()),
  );
  const firsts = new Map<string, number>();
  for (let i = 0; i < 200; i++) {
    const first = rendezvousOrder(`svc${i}`, "rps", nodes)[0]!;
    firsts.set(first, (firsts.get(first) ?? 0) + 1);
  }
  assert.equal(firsts.size, 5);
  for (const [n, count] of firsts) assert.ok(count >= 20 && count <= 60, `${n}: ${count}`);
  // A node leaving only moves the metrics it held.
  const without = rendezvousOrder("web", "rps", nodes.filter((n) => n !== "n3"));
  assert.deepEqual(without, rendezvousOrder("web", "rps", nodes).filter((n) => n !== "n3"));
});

Deno.test("one node queries per loop; the others use its value through gossip", async () => {
  const c = new Cluster(["n1", "n2", "n3"], services(web()));
  await c.loop();
  await c.loop();
  await c.loop();
  const first = rendezvousOrder("web", "rps", ["n1", "n2", "n3"])[0];
  // Loop 1: the first node (it has no view yet) and, until a fresh value reaches them, the
  // nodes that rank it second; afterwards exactly one query per loop.
  const perLoop = c.querier.calls.length;
  await c.loop();
  assert.equal(c.querier.calls.length - perLoop, 1);
  assert.ok(perLoop <= 3 + 2, `${perLoop} queries in three loops`);
  for (const [name, view] of c.views) {
    assert.deepEqual(view.values, { web: { rps: 42 } }, name);
    const status = view.statuses.web![0]!;
    assert.equal(status.state, "fresh");
    assert.equal(status.origin, first);
    assert.equal(status.queried, name === first);
  }
  assert.equal(c.querier.calls.at(-1)!.query, 'sum(rate(http_requests_total{service="web"}[1m]))');
  assert.deepEqual(c.querier.calls.at(-1)!.headers, { "X-Scope-OrgID": "team" });
  assert.equal(c.querier.calls.at(-1)!.timeoutMs, 2000);
});

Deno.test("a shared value carries its age: too old is stale, never a number", async () => {
  const c = new Cluster(["n1", "n2"], services(web({ staleAfter: 30 })));
  await c.loop();
  await c.loop();
  // Both nodes go silent; their last shares stay in the view and age. A third node that ranks
  // behind both never queries: it judges the readings it holds.
  const shares = [...c.shares.values()].map((s) => s.share);
  const self = ["n7", "n8", "n9", "n10", "n11", "n12"].find((n) =>
    rendezvousOrder("web", "rps", ["n1", "n2", n])[2] === n
  )!;
  const querier = new FakeQuerier();
  const reader = new ExternalMetrics(querier, c.clock);
  const at = async (heldMs: number) =>
    await reader.collect({
      self,
      services: c.svc,
      peers: peerStates(shares.map((share) => ({ share, heldMs }))),
      instanceNames: () => [],
    });
  const stated = Math.min(...shares.map((s) => s.services.web!.sources?.rps?.age ?? Infinity));
  const young = await at(29_000 - stated);
  assert.equal(young.statuses.web![0]!.state, "fresh");
  assert.equal(young.statuses.web![0]!.ageMs, 29_000);
  const old = await at(31_000 - stated);
  const status = old.statuses.web![0]!;
  assert.equal(status.state, "stale");
  assert.match(status.reason!, /31 s old \(StaleAfter 30 s\)/);
  assert.deepEqual(old.values, {});
  assert.equal(querier.calls.length, 0);
  assert.equal(withSourceValues({ web: { rps: 5, other: 1 } }, old).web!.rps, undefined);
  assert.equal(withSourceValues({ web: { other: 1 } }, old).web!.other, 1);
});

Deno.test("the second node takes over while the first gives no fresh value", async () => {
  const c = new Cluster(["n1", "n2", "n3"], services(web({ staleAfter: 10 })));
  const [first, second, third] = rendezvousOrder("web", "rps", ["n1", "n2", "n3"]) as string[];
  await c.loop();
  await c.loop();
  const before = c.querier.calls.length;
  // The first node dies (its share lingers until etcd drops it): after StaleAfter, the second
  // queries, and everyone reads its value.
  c.clock.advance(11_000);
  await c.loop(new Set([first!]));
  await c.loop(new Set([first!]));
  assert.equal(c.querier.calls.length - before, 2, "one query per loop, by the second node");
  assert.equal(c.views.get(second!)!.statuses.web![0]!.queried, true);
  assert.equal(c.views.get(third!)!.statuses.web![0]!.queried, false);
  assert.equal(c.views.get(third!)!.statuses.web![0]!.origin, second);
  assert.equal(c.views.get(third!)!.statuses.web![0]!.state, "fresh");
});

Deno.test("a failed or empty query is unknown, never 0, and says why", async () => {
  const c = new Cluster(["n1"], services(web()));
  c.querier.answer = () => ({ ok: false, failure: "empty", error: "no series matched the query" });
  await c.loop();
  const view = c.views.get("n1")!;
  assert.deepEqual(view.values, {});
  const status = view.statuses.web![0]!;
  assert.equal(status.state, "failing");
  assert.equal(status.reason, "empty: no series matched the query");
  assert.equal(status.value, undefined);
  assert.deepEqual(view.share.web!.rps, { age: 0, error: "empty: no series matched the query" });
  assert.equal(status.unknownLoops, 1);
  await c.loop();
  assert.equal(c.views.get("n1")!.statuses.web![0]!.unknownLoops, 2, "loops in a row");
  // Back: the value returns.
  c.querier.answer = () => ({ ok: true, value: 0.5, sampleTime: 0 });
  await c.loop();
  assert.deepEqual(c.views.get("n1")!.values, { web: { rps: 0.5 } });
  assert.equal(c.views.get("n1")!.statuses.web![0]!.unknownLoops, undefined);
});

Deno.test("node scope: every node queries its own value with $node and $instance", async () => {
  const svc = services(web({
    scope: "node",
    query: 'sum(rate(req{node="$node",container=~"$instance",svc="$service"}[1m]))',
  }));
  const clock = new FakeClock();
  const querier = new FakeQuerier();
  for (const node of ["n1", "n2"]) {
    const view = await new ExternalMetrics(querier, clock).collect({
      self: node,
      services: svc,
      peers: [],
      instanceNames: () => ["gru-web.1", "gru-web-2"],
    });
    assert.deepEqual(view.share, {}, "node-scope values are not gossiped");
    assert.equal(view.statuses.web![0]!.state, "fresh");
  }
  assert.deepEqual(querier.calls.map((q) => q.query), [
    'sum(rate(req{node="n1",container=~"gru-web\\\\.1|gru-web-2",svc="web"}[1m]))',
    'sum(rate(req{node="n2",container=~"gru-web\\\\.1|gru-web-2",svc="web"}[1m]))',
  ]);
});

Deno.test("fillQuery leaves other dollar words and unknown names alone", () => {
  assert.equal(
    fillQuery('x{a="$service"} + $services', { service: "w", node: "n", instances: [] }),
    'x{a="w"} + $services',
  );
});

Deno.test("an inactive peer or one without the service is never asked to query", async () => {
  const svc = services(web());
  const clock = new FakeClock();
  const querier = new FakeQuerier();
  const inactive = {
    ...shareOf("n0", { values: {}, statuses: {}, share: {} }, ["web"]),
    active: false,
  };
  const other = shareOf("n00", { values: {}, statuses: {}, share: {} }, ["db"]);
  // Whatever the ranking, this node is the only candidate: it queries.
  await new ExternalMetrics(querier, clock).collect({
    self: "n1",
    services: svc,
    peers: peerStates([{ share: inactive, heldMs: 0 }, { share: other, heldMs: 0 }]),
    instanceNames: () => [],
  });
  assert.equal(querier.calls.length, 1);
});

Deno.test("node scope: $instance without a running instance is not queried", async () => {
  const querier = new FakeQuerier();
  const view = await new ExternalMetrics(querier, new FakeClock()).collect({
    self: "n1",
    services: services(web({ scope: "node", query: 'sum(x{container=~"$instance"})' })),
    peers: [],
    instanceNames: () => [],
  });
  assert.equal(querier.calls.length, 0);
  assert.equal(view.statuses.web![0]!.state, "failing");
  assert.match(view.statuses.web![0]!.reason!, /no running instance on this node/);
});

Deno.test("a cluster starting at once queries at most twice, not once per node (members from etcd)", async () => {
  const names = Array.from({ length: 10 }, (_, i) => `n${i}`);
  const c = new Cluster(names, services(web()));
  c.members = names.map((name) => ({ name, active: true }));
  await c.loop();
  // No share has arrived before a node's first loop: the first by rank queries, and the second
  // as its backup unless the first's value reached it already; nobody else.
  const [first, second] = rendezvousOrder("web", "rps", names);
  const asked = [...c.views].filter(([, v]) => v.statuses.web![0]!.queried).map(([n]) => n);
  assert.ok(asked.includes(first!), asked.join());
  assert.ok(asked.every((n) => n === first || n === second), asked.join());
  await c.loop();
  await c.loop();
  const before = c.querier.calls.length;
  await c.loop();
  assert.equal(c.querier.calls.length - before, 1);
  // An inactive member (etcd's flag) never ranks: with the first inactive, the second queries.
  const d = new Cluster(names, services(web()));
  d.members = names.map((name) => ({ name, active: name !== first }));
  await d.loop(new Set([first!]));
  await d.loop(new Set([first!]));
  const after = d.querier.calls.length;
  await d.loop(new Set([first!]));
  assert.equal(d.querier.calls.length - after, 1);
  assert.equal(d.views.get(second!)!.statuses.web![0]!.queried, true);
});

Deno.test("while the first node's queries fail, everyone reads its backup's value", async () => {
  const names = ["n1", "n2", "n3"];
  const c = new Cluster(names, services(web()));
  c.members = names.map((name) => ({ name, active: true }));
  c.querier.answer = () => ({ ok: true, value: 7, sampleTime: 0 });
  const [first, second] = rendezvousOrder("web", "rps", names) as string[];
  // The first node cannot reach the server; the others can.
  const refused = new FakeQuerier();
  refused.answer = () => ({ ok: false, failure: "error", error: "connection refused" });
  c.nodes.set(first!, new ExternalMetrics(refused, c.clock));
  for (let loop = 0; loop < 5; loop++) {
    await c.loop();
    if (loop < 2) continue;
    for (const [name, view] of c.views) {
      const status = view.statuses.web![0]!;
      assert.equal(status.state, "fresh", `${name}: ${status.reason}`);
      assert.equal(status.value, 7);
      assert.equal(status.origin, second, name);
    }
  }
  assert.equal(refused.calls.length, 5, "the first keeps trying every loop");
});
