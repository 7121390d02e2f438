/**
 * The original's read routes (`/stats…`, `/analytics…`, `/shared`) and the reads from memory, on
 * a whole agent (in-memory engine and store, fake clock) behind the real API: zero values before
 * the first tick, the original's shapes after one, 404s naming the route and the name, the token
 * rule, and no engine call per read (`GET /node` used to list the containers every time).
 */

import assert from "node:assert/strict";
import { MemoryContainerRuntime } from "../adapters/memory/memory_container_runtime.ts";
import { MemoryKvStore } from "../adapters/memory/memory_kv_store.ts";
import { ClusterStore } from "../cluster/cluster_store.ts";
import {
  parseAgentConfig,
  parseAnalytic,
  parsePolicyConfig,
  parseServiceDescriptor,
} from "../config/documents.ts";
import { FakeClock } from "../domain/clock.ts";
import type { UsageReader } from "../ports/usage_reader.ts";
import { wireTestAgent } from "../agent/_testing.ts";
import { createApi } from "./app.ts";

const IMAGE = "gru-test/busybox";
const TOKEN = "t0k";
const auth = { authorization: `Bearer ${TOKEN}` };
const MIB = 1024 ** 2;

const ROUTES = [
  "/stats",
  "/stats/services",
  "/stats/services/web",
  "/stats/instances",
  "/stats/system",
  "/analytics",
  "/analytics/services",
  "/analytics/services/web",
  "/analytics/system",
  "/shared",
];

async function rig(token: () => string | undefined = () => TOKEN) {
  const clock = new FakeClock(1_700_000_000_000);
  const runtime = new MemoryContainerRuntime({
    clock,
    images: [IMAGE],
    ncpu: 4,
    memTotal: 1024 * MIB,
  });
  const store = new ClusterStore(await MemoryKvStore.open());
  await store.createCluster("c1", { uuid: "u".repeat(32), token: TOKEN });
  const off = { Enable: false, Threshold: 0.5 };
  await store.importDocs("c1", {
    config: parseAgentConfig({ Autonomic: { LoopTimeInterval: 1, Warmup: 0 } }, "config.json"),
    policy: parsePolicyConfig({ Scalein: off, Scaleout: off, Swap: off }, "policy.json"),
    analytics: [parseAnalytic({
      Name: "ratio",
      Expr: "resp / MAX",
      Metrics: ["resp"],
      Constraints: ["MAX"],
    }, "ratio.json")],
    services: [
      parseServiceDescriptor({
        Name: "web",
        Image: IMAGE,
        Analytics: ["ratio"],
        Constraints: { MAX: 200 },
        Configuration: { CpuNumber: 1, Memory: "64M" },
      }, "web.json"),
      parseServiceDescriptor({ Name: "db", Image: IMAGE }, "db.json"),
    ],
  });
  // Every instance uses half a core and 32 MiB.
  const usage: UsageReader = {
    kind: "fake",
    read: () =>
      Promise.resolve({
        at: clock.now(),
        cpuNs: (clock.now() - 1_700_000_000_000) * 0.5e6,
        memoryBytes: 32 * MIB,
      }),
    forget: () => {},
    close: () => Promise.resolve(),
  };
  const agent = wireTestAgent({ cluster: "c1", store, runtime, usage, clock });
  await agent.start();
  await agent.waitRegistered(5000);
  const app = createApi(agent, { token });
  const get = async (path: string, headers: Record<string, string> = auth) => {
    const res = await app.request(`/gru/v1${path}`, { headers });
    return { status: res.status, type: res.headers.get("content-type"), body: await res.json() };
  };
  return { agent, app, clock, runtime, get, close: () => agent.stop() };
}

/** Waits until the engine's call log stops growing (events delivered, resyncs done). */
async function quiet(runtime: MemoryContainerRuntime): Promise<void> {
  let last = -1;
  for (let stable = 0; stable < 5;) {
    await runtime.settle();
    await new Promise((r) => setTimeout(r, 10));
    const n = runtime.calls.length;
    stable = n === last ? stable + 1 : 0;
    last = n;
  }
}

Deno.test("before the first tick the original's routes answer its zero values", async () => {
  const r = await rig();
  try {
    const started = await r.agent.command({ name: "start", target: "service", object: "web" });
    const id = (started.data as { id: string }).id;
    const stats = await r.get("/stats");
    assert.equal(stats.status, 200);
    assert.match(stats.type ?? "", /^application\/json/);
    assert.deepEqual(stats.body, {
      Metrics: { service: null, instance: null, system: { basemetrics: null, usermetrics: null } },
      Events: { service: null },
    });
    assert.equal((await r.get("/stats/services")).body, null);
    assert.equal((await r.get("/stats/instances")).body, null);
    const zero = { basemetrics: null, usermetrics: null };
    assert.deepEqual((await r.get("/stats/system")).body, zero);
    assert.deepEqual((await r.get("/stats/services/db")).body, zero, "a service in force");
    assert.deepEqual((await r.get(`/stats/instances/${id}`)).body, zero, "a tracked instance");
    assert.deepEqual((await r.get("/analytics")).body, {
      service: null,
      system: { BaseAnalytics: null, UserAnalytics: null },
    });
    assert.equal((await r.get("/analytics/services")).body, null);
    assert.deepEqual((await r.get("/analytics/services/web")).body, {
      BaseAnalytics: null,
      UserAnalytics: null,
    });
    assert.deepEqual((await r.get("/shared")).body, {
      service: null,
      system: { Data: { BaseShared: null, UserShared: null }, activeservices: null },
    });
  } finally {
    await r.close();
  }
});

Deno.test("after a tick the routes give the original's shapes from the agent's figures", async () => {
  const r = await rig();
  try {
    const started = await r.agent.command({ name: "start", target: "service", object: "web" });
    const id = (started.data as { id: string }).id;
    await r.agent.parts.monitor.sample();
    r.clock.advance(2000);
    await r.agent.parts.monitor.sample();
    r.agent.pushUserMetric("web", "resp", [100]);
    await r.agent.parts.loop.tick();

    const web = { basemetrics: { cpu_avg: 0.5, memory_avg: 0.5 }, usermetrics: { resp: 100 } };
    const system = {
      basemetrics: { cpu_avg: 0.5 / 4, memory_avg: 64 / 1024 },
      usermetrics: null,
    };
    const inst = { basemetrics: { cpu_avg: 0.5, memory_avg: 0.5 }, usermetrics: null };
    const stats = await r.get("/stats");
    assert.deepEqual(stats.body, {
      Metrics: {
        service: { web, db: { basemetrics: {}, usermetrics: {} } },
        instance: { [id]: inst },
        system,
      },
      Events: { service: { web: { start: [], stop: [] }, db: { start: [], stop: [] } } },
    });
    assert.deepEqual((await r.get("/stats/services")).body, stats.body.Metrics.service);
    assert.deepEqual((await r.get("/stats/services/web")).body, web);
    assert.deepEqual((await r.get("/stats/instances")).body, { [id]: inst });
    assert.deepEqual((await r.get(`/stats/instances/${id}`)).body, inst);
    assert.deepEqual((await r.get("/stats/system")).body, system);

    const webA = { BaseAnalytics: web.basemetrics, UserAnalytics: { ratio: 0.5 } };
    const sysA = { BaseAnalytics: system.basemetrics, UserAnalytics: null };
    const analytics = await r.get("/analytics");
    assert.deepEqual(analytics.body, {
      service: { web: webA, db: { BaseAnalytics: {}, UserAnalytics: {} } },
      system: sysA,
    });
    assert.deepEqual((await r.get("/analytics/services")).body, analytics.body.service);
    assert.deepEqual((await r.get("/analytics/services/web")).body, webA);
    assert.deepEqual((await r.get("/analytics/system")).body, sysA);

    assert.deepEqual((await r.get("/shared")).body, {
      service: {
        web: { Data: { BaseShared: webA.BaseAnalytics, UserShared: { ratio: 0.5 } }, active: true },
        db: { Data: { BaseShared: {}, UserShared: {} }, active: false },
      },
      system: {
        Data: { BaseShared: system.basemetrics, UserShared: null },
        activeservices: ["web"],
      },
    });
  } finally {
    await r.close();
  }
});

Deno.test("unknown names are 404s naming the route and the name", async () => {
  const r = await rig();
  try {
    await r.agent.parts.loop.tick();
    const cases: [string, RegExp][] = [
      ["/stats/services/nosuch", /GET \/gru\/v1\/stats\/services\/\{name\}: no service "nosuch"/],
      [
        "/stats/services/constructor",
        /no service "constructor" on this node \(services in force: db, web\)/,
      ],
      ["/analytics/services/nosuch", /GET \/gru\/v1\/analytics\/services\/\{name\}: no service/],
      ["/analytics/services/__proto__", /no service "__proto__"/],
      ["/stats/instances/abc123", /GET \/gru\/v1\/stats\/instances\/\{id\}: no instance "abc123"/],
    ];
    for (const [path, message] of cases) {
      const res = await r.get(path);
      assert.equal(res.status, 404, path);
      assert.equal(res.body.error.code, "not_found", path);
      assert.match(res.body.error.message, message, path);
    }
  } finally {
    await r.close();
  }
});

Deno.test("the original's routes need the token and fail closed without one", async () => {
  const r = await rig();
  const closed = await rig(() => undefined);
  try {
    for (const path of ROUTES) {
      assert.equal((await r.get(path, {})).status, 401, path);
      assert.equal((await r.get(path, { "x-gru-token": "nope" })).status, 401, path);
      assert.equal((await r.get(path)).status, 200, path);
      const refused = await closed.get(path);
      assert.equal(refused.status, 503, path);
      assert.equal(refused.body.error.code, "unavailable", path);
    }
  } finally {
    await r.close();
    await closed.close();
  }
});

Deno.test("reads answer from memory: no engine call per request", async () => {
  const r = await rig();
  try {
    const started = await r.agent.command({ name: "start", target: "service", object: "web" });
    const id = (started.data as { id: string }).id;
    await r.agent.parts.loop.tick();
    await quiet(r.runtime);
    const before = r.runtime.calls.length;
    for (let i = 0; i < 20; i++) {
      for (const path of ["/node", "/services", "/services/web", `/stats/instances/${id}`]) {
        assert.equal((await r.get(path)).status, 200, path);
      }
      for (const path of [...ROUTES, "/stats/services/nosuch", "/stats/instances/x"]) {
        await r.get(path);
      }
    }
    await quiet(r.runtime);
    const during = r.runtime.calls.slice(before).map((c) => c.method);
    assert.deepEqual(during, [], "no engine call while serving reads");
    const node = await r.get("/node");
    assert.deepEqual(node.body.instances.map((i: { id: string }) => i.id), [id]);
    const services = await r.get("/services");
    const web = services.body.find((s: { name: string }) => s.name === "web");
    assert.deepEqual(web.instances.map((i: { id: string }) => i.id), [id]);
  } finally {
    await r.close();
  }
});
