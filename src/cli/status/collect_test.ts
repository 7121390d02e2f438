import assert from "node:assert/strict";
import { fakeAgents, FIXTURE_CLUSTER, FIXTURE_TOKEN, makeFixture } from "../repl/_testing.ts";
import { UnavailableError } from "../../domain/errors.ts";
import type { Instance } from "../../domain/model.ts";
import { collectStatus, STATUS_DECISIONS } from "./collect.ts";

const A = "http://10.0.0.1:5000";
const B = "http://10.0.0.2:5000";
const C = "http://10.0.0.3:5000";

function instance(service: string, name: string, cpus: number[]): Instance {
  return {
    id: `id-${name}`,
    name,
    service,
    status: "running",
    cpus,
    memory: 0,
    ports: [],
    startedAt: 1,
  };
}

Deno.test("collectStatus reads every live node's agent with the cluster token", async () => {
  const fixture = await makeFixture({
    nodes: [
      { name: "n1", address: A, cpus: 4 },
      { name: "n2", address: B, cpus: 2, active: true },
      { name: "n3", address: C },
    ],
    services: [{ name: "web", image: "gru-demo/web" }, { name: "db", image: "postgres" }],
  });
  const fake = fakeAgents();
  const tokens: (string | undefined)[] = [];
  const web1 = instance("web", "web-1", [0]);
  const web2 = instance("web", "web-2", [1]);
  const db1 = instance("db", "db-1", [0]);
  fake.answers.set(`${A}/node`, {
    config: { name: "n1", address: A },
    resources: { totalCpus: 4, totalMemory: 8 },
    active: true,
    instances: [web2, web1],
  });
  fake.answers.set(`${A}/services`, [{ name: "web", instances: [web1, web2] }, {
    name: "db",
    instances: [],
  }]);
  fake.answers.set(`${A}/decisions?limit=${STATUS_DECISIONS}`, [{
    seq: 7,
    time: 1000,
    chosen: { policy: "scaleout", targets: ["web"], weight: 1, reasons: [] },
    outcome: "executed",
    why: "cpu high",
    actions: [{ service: "web", action: "start", ok: true, instance: "web-2", why: "scaleout" }],
    candidates: [],
  }]);
  fake.answers.set(`${A}/health`, { status: "ok", active: true });
  // n2 is degraded: /health answers 503, the rest works.
  fake.answers.set(`${B}/node`, { resources: { totalCpus: 2, totalMemory: 4 }, instances: [db1] });
  fake.answers.set(`${B}/services`, [{ name: "db", instances: [db1] }]);
  fake.answers.set(`${B}/decisions?limit=${STATUS_DECISIONS}`, []);
  // n3 answers nothing.
  const agents = (token: string | undefined) => {
    tokens.push(token);
    return fake.agents(token);
  };
  try {
    const snap = await collectStatus(
      { store: fixture.store, agents, now: () => Date.UTC(2025, 0, 2, 3, 4, 5) },
      FIXTURE_CLUSTER,
    );
    assert.deepEqual(tokens, [FIXTURE_TOKEN]);
    assert.equal(snap.cluster, FIXTURE_CLUSTER);
    assert.equal(snap.time, "2025-01-02T03:04:05.000Z");
    assert.deepEqual(snap.nodes.map((n) => [n.name, n.health, n.active]), [
      ["n1", "ok", true],
      ["n2", "degraded", true],
      ["n3", "unreachable", false],
    ]);
    const [n1, n2, n3] = snap.nodes;
    assert.deepEqual(n1?.instances.map((i) => i.name), ["web-1", "web-2"]);
    assert.deepEqual(n1?.resources, { totalCpus: 4, totalMemory: 8 });
    assert.deepEqual(n1?.decisions, [{
      seq: 7,
      time: 1000,
      policy: "scaleout",
      targets: ["web"],
      outcome: "executed",
      why: "cpu high",
      actions: [{ service: "web", action: "start", ok: true, instance: "web-2" }],
    }]);
    assert.equal(n1?.error, undefined);
    assert.equal(n2?.error, undefined);
    assert.match(n2?.problems?.join() ?? "", /^health: no answer for .*health$/);
    assert.deepEqual(n2?.instances.map((i) => i.name), ["db-1"]);
    // The store's view of an unreachable node, and the reason.
    assert.equal(n3?.address, C);
    assert.deepEqual(n3?.resources, { totalCpus: 4, totalMemory: 8 * 1024 ** 3 });
    assert.deepEqual(n3?.instances, []);
    assert.match(n3?.error ?? "", /no answer for http:\/\/10\.0\.0\.3:5000/);
    assert.deepEqual(snap.services, [
      { name: "db", image: "postgres", instances: { total: 1, byNode: { n2: 1 } } },
      { name: "web", image: "gru-demo/web", instances: { total: 2, byNode: { n1: 2 } } },
    ]);
    // Survives a JSON round trip as is (what --json prints).
    assert.deepEqual(JSON.parse(JSON.stringify(snap)).nodes[0].name, "n1");
  } finally {
    await fixture.close();
  }
});

Deno.test("collectStatus: a degraded agent's health lists its problems", async () => {
  const fixture = await makeFixture({ nodes: [{ name: "n1", address: A }], services: [] });
  const fake = fakeAgents();
  fake.answers.set(`${A}/node`, { instances: [instance("orphan", "orphan-1", [])] });
  fake.answers.set(`${A}/services`, []);
  fake.answers.set(`${A}/decisions?limit=${STATUS_DECISIONS}`, []);
  fake.answers.set(`${A}/health`, {
    status: "degraded",
    store: { ok: true },
    docker: { ok: false, error: "engine down" },
  });
  try {
    const snap = await collectStatus({ store: fixture.store, agents: fake.agents }, "c1");
    assert.equal(snap.nodes[0]?.health, "degraded");
    assert.deepEqual(snap.nodes[0]?.problems, ["docker: engine down"]);
    // An instance of a service unknown to the store is still counted.
    assert.deepEqual(snap.services, [
      { name: "orphan", image: "", instances: { total: 1, byNode: { n1: 1 } } },
    ]);
  } finally {
    await fixture.close();
  }
});

Deno.test("collectStatus: unknown cluster is NotFoundError; agent errors never throw", async () => {
  const fixture = await makeFixture({ nodes: [{ name: "n1", address: A }], services: [] });
  const failing = {
    get: () => Promise.reject(new UnavailableError(`Cannot reach agent at ${A}: refused`)),
  };
  try {
    await assert.rejects(
      collectStatus({ store: fixture.store, agents: () => failing }, "nope"),
      /Cluster "nope" does not exist/,
    );
    const snap = await collectStatus({ store: fixture.store, agents: () => failing }, "c1");
    assert.equal(snap.nodes[0]?.health, "unreachable");
    assert.equal(snap.nodes[0]?.error, `Cannot reach agent at ${A}: refused`);
    const empty = await collectStatus({ store: fixture.store, agents: () => failing }, "c2");
    assert.deepEqual(empty.nodes, []);
  } finally {
    await fixture.close();
  }
});
