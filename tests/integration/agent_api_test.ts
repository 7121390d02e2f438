/**
 * The agent HTTP API over a real Agent on a real dockerd (embedded store): routes, JSON
 * errors with proper statuses, the token, body limits, reservations under concurrent starts,
 * and adoption of existing containers by a restarted agent.
 */

import assert from "node:assert/strict";
import { MemoryKvStore } from "../../src/adapters/memory/memory_kv_store.ts";
import { ClusterStore } from "../../src/cluster/cluster_store.ts";
import { wireAgent } from "../../src/app/agent_wiring.ts";
import { createApi } from "../../src/api/app.ts";
import { systemClock } from "../../src/domain/clock.ts";
import { LABEL_SERVICE, LABEL_TEST_RUN } from "../../src/domain/model.ts";
import { parseServiceDescriptor } from "../../src/config/documents.ts";
import { testRunId } from "../helpers/env.ts";
import { pickUsageReader } from "../helpers/agent.ts";
import type { UsageReader } from "../../src/ports/usage_reader.ts";
import { removeRunContainers, testRuntime } from "../helpers/docker.ts";

const TOKEN = "s3cret-token";

function makeAgent(store: ClusterStore, cluster: string, run: string, usage: UsageReader) {
  return wireAgent({
    identity: {
      cluster,
      name: "api1",
      uuid: "0".repeat(32),
      address: "http://127.0.0.1:1",
      hostIp: "127.0.0.1",
    },
    store,
    runtime: testRuntime(),
    clock: systemClock,
    ttl: 5,
    dryRun: false,
    etcdAddr: "http://127.0.0.1:2379",
    env: () => undefined,
    labels: { [LABEL_TEST_RUN]: run },
    usage,
  });
}

Deno.test("agent API: routes, errors, token, limits, reservations, adoption", async (t) => {
  const run = `${testRunId()}-api`;
  const cluster = "api";
  const store = new ClusterStore(await MemoryKvStore.open());
  await store.createCluster(cluster, { uuid: "u".repeat(32), token: TOKEN });
  await store.importDocs(cluster, {
    services: [
      parseServiceDescriptor({
        name: "web",
        image: "gru-demo/web",
        configuration: { cpunumber: 1, ports: { "80": "29080-29089" } },
      }, "web.json"),
      parseServiceDescriptor({ name: "ghost", image: "gru-test/missing-image" }, "ghost.json"),
    ],
  });
  const usage = await pickUsageReader();
  const agent = makeAgent(store, cluster, run, usage);
  const app = createApi(agent, { token: () => TOKEN });
  const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
  const command = (body: unknown, headers: Record<string, string> = auth) =>
    app.request("/gru/v1/commands", { method: "POST", headers, body: JSON.stringify(body) });
  try {
    await agent.start();
    await agent.waitRegistered(5000);

    await t.step("GET /health is 200 with the node registered", async () => {
      const res = await app.request("/gru/v1/health");
      assert.equal(res.status, 200);
      const h = await res.json();
      assert.equal(h.registered, true);
      assert.equal(h.docker.ok, true);
    });

    await t.step("mutating routes refuse a missing or wrong token with 401", async () => {
      const body = { Name: "start", Target: "service", Object: "web" };
      assert.equal((await command(body, { "content-type": "application/json" })).status, 401);
      const wrong = await command(body, {
        authorization: "Bearer nope",
        "content-type": "application/json",
      });
      assert.equal(wrong.status, 401);
      assert.equal((await wrong.json()).error.code, "unauthorized");
    });

    await t.step("bad JSON, a bad command shape and an unknown command are 400", async () => {
      const bad = await app.request("/gru/v1/commands", {
        method: "POST",
        headers: auth,
        body: "{not json",
      });
      assert.equal(bad.status, 400);
      assert.match((await bad.json()).error.message, /not JSON/);
      assert.equal((await command([1, 2])).status, 400);
      const unknown = await command({ Name: "dance", Target: "agent" });
      assert.equal(unknown.status, 400);
      assert.match((await unknown.json()).error.message, /Unknown command "dance agent"/);
    });

    await t.step("a body over 1 MiB is 413", async () => {
      const res = await app.request("/gru/v1/commands", {
        method: "POST",
        headers: { ...auth, "content-length": String(2 * 1024 * 1024) },
        body: "x".repeat(2 * 1024 * 1024),
      });
      assert.equal(res.status, 413);
    });

    await t.step("start of an unknown service is 404 naming it", async () => {
      const res = await command({ name: "start", target: "service", object: "nope" });
      assert.equal(res.status, 404);
      assert.match((await res.json()).error.message, /Unknown service "nope"/);
    });

    await t.step("start of a service whose image is missing is 400 naming the image", async () => {
      const res = await command({ name: "start", target: "service", object: "ghost" });
      assert.equal(res.status, 400);
      assert.match((await res.json()).error.message, /gru-test\/missing-image/);
    });

    await t.step("two concurrent starts get different cores and ports", async () => {
      const [a, b] = await Promise.all([
        command({ Name: "start", Target: "service", Object: "web" }),
        app.request("/gru/v1/services/web/instances", { method: "POST", headers: auth }),
      ]);
      assert.equal(a.status, 200, await a.clone().text());
      assert.equal(b.status, 201, await b.clone().text());
      const ia = (await a.json()).data;
      const ib = (await b.json()).data;
      assert.notDeepEqual(ia.cpus, ib.cpus);
      assert.notEqual(ia.ports[0].host, ib.ports[0].host);
      const svcs = await (await app.request("/gru/v1/services", { headers: auth })).json();
      assert.equal(svcs.find((s: { name: string }) => s.name === "web").instances.length, 2);
    });

    await t.step("a restarted agent adopts the containers it finds", async () => {
      const again = makeAgent(store, cluster, run, usage);
      await again.parts.instances.init();
      const adopted = again.parts.instances.list("web");
      assert.equal(adopted.length, 2);
      assert.equal(again.parts.instances.ledger.view().freeCpus.length, 0);
    });

    await t.step("DELETE stops the newest instance; stop with nothing left is 404", async () => {
      const del = await app.request("/gru/v1/services/web/instances", {
        method: "DELETE",
        headers: auth,
      });
      assert.equal(del.status, 200);
      assert.equal(
        (await testRuntime().list({ [LABEL_TEST_RUN]: run, [LABEL_SERVICE]: "web" }))
          .length,
        1,
      );
      await command({ name: "stop", target: "service", object: "web" });
      const none = await command({ name: "stop", target: "service", object: "web" });
      assert.equal(none.status, 404);
    });

    await t.step("update node-base-services checks names and writes constraints", async () => {
      assert.equal(
        (await command({ name: "update", target: "node-base-services", object: ["nope"] })).status,
        404,
      );
      const ok = await command({ name: "update", target: "node-base-services", object: ["web"] });
      assert.equal(ok.status, 200);
      assert.deepEqual((await store.getNode(cluster, "api1"))?.constraints.baseServices, ["web"]);
      const cpu = await command({ name: "update", target: "node-cpumax", object: 2 });
      assert.equal(cpu.status, 400);
    });

    await t.step("POST /stats/user records values the monitor reports", async () => {
      const post = (body: unknown, path = "/gru/v1/stats/user/web/latency") =>
        app.request(path, { method: "POST", headers: auth, body: JSON.stringify(body) });
      assert.equal((await post({ values: [10, 30] })).status, 200);
      assert.equal(agent.parts.monitor.snapshot().userMetrics.web?.latency, 20);
      const bad = await post({ values: [1, "x"] });
      assert.equal(bad.status, 400);
      assert.match((await bad.json()).error.message, /expected finite numbers >= 0/);
      assert.equal((await post({ values: [Infinity] })).status, 400);
      assert.equal((await post({ nope: 1 })).status, 400);
      assert.equal((await post({ values: [1] }, "/gru/v1/stats/user/nope/latency")).status, 400);
    });

    await t.step("GET /decisions validates its limit", async () => {
      const get = (path: string) => app.request(path, { headers: auth });
      assert.deepEqual(await (await get("/gru/v1/decisions")).json(), []);
      assert.equal((await get("/gru/v1/decisions?limit=0")).status, 400);
    });

    await t.step("unknown routes are JSON 404s", async () => {
      const res = await app.request("/gru/v1/nope");
      assert.equal(res.status, 404);
      assert.equal((await res.json()).error.code, "not_found");
    });
  } finally {
    await agent.stop();
    await usage.close();
    await removeRunContainers(run);
    await store.kv.close();
  }
});
