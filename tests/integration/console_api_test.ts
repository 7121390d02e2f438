/**
 * `gru console` end to end: the console as its own process over real etcd and two real agent
 * processes (real engine). Through its JSON API: the session, operations with one result per node
 * (start the agents, start a service), the overview and its event stream, a service's history
 * merged from the agents' `/gru/v1/history`, and the configuration manager (secrets redacted, a
 * rejected edit writes nothing, an applied one reaches the agents). Then the login rules: a
 * non-loopback address needs TLS, and over HTTPS (HTTP/2) every route but the login needs the
 * session cookie that the cluster token or the console password opens.
 */

import assert from "node:assert/strict";
import { gru, GruProcess, type GruProcess as Proc, loopbackAgent } from "../helpers/gru_process.ts";
import { etcdEndpoints, testRunId } from "../helpers/env.ts";
import { removeRunContainers } from "../helpers/docker.ts";
import { waitFor } from "../helpers/agent.ts";
import { freePort } from "../helpers/net.ts";
import { EtcdKvStore } from "../../src/adapters/etcd/etcd_kv_store.ts";

const CONFIG = {
  Autonomic: { LoopTimeInterval: 1, Warmup: 1, Window: 2 },
  Metric: { MetricService: "none" },
};
const POLICY = {
  Scalein: { Enable: true, Threshold: 0.2, Metrics: ["cpu_avg"], Analytics: [] },
  Scaleout: { Enable: true, Threshold: 0.9, Metrics: ["cpu_avg"], Analytics: [] },
  Swap: { Enable: false, Threshold: 0.6, Metrics: ["cpu_avg"], Analytics: [] },
};

Deno.test("gru console: API over real etcd and two real agents", async () => {
  const run = testRunId();
  const cluster = `console-${run}`;
  const env = { ETCD_ADDR: etcdEndpoints().join(",") };
  const tmp = await Deno.makeTempDir({ prefix: "gru-console-" });
  const procs: Proc[] = [];
  const ports = [freePort(), freePort()];
  const base = `http://127.0.0.1:${freePort()}`;
  const api = async (method: string, path: string, body?: unknown) => {
    const sep = path.includes("?") ? "&" : "?";
    const res = await fetch(`${base}${path}${sep}cluster=${cluster}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json", origin: base },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  try {
    assert.equal((await gru(["create", cluster], { env })).code, 0);
    await Deno.mkdir(`${tmp}/conf/services`, { recursive: true });
    await Deno.writeTextFile(`${tmp}/conf/config.json`, JSON.stringify(CONFIG));
    await Deno.writeTextFile(`${tmp}/conf/policy.json`, JSON.stringify(POLICY));
    await Deno.writeTextFile(
      `${tmp}/conf/services/idle.json`,
      JSON.stringify({
        Name: "idle",
        Image: "gru-test/busybox",
        Configuration: { Cmd: ["sleep", "3600"], StopTimeout: 1, Env: { API_KEY: "s3cret-v4lue" } },
      }),
    );
    const imp = await gru(["config", "import", cluster, `${tmp}/conf`], { env });
    assert.equal(imp.code, 0, imp.stderr);
    for (const [i, port] of ports.entries()) {
      procs.push(
        loopbackAgent({ cluster, name: `k${i + 1}`, port, stateDir: tmp, run, ttl: 3, env }),
      );
    }
    const console = new GruProcess(
      ["console", "--listen", base.slice(7), "--cluster", cluster],
      env,
    );
    procs.push(console);
    await waitFor(
      async () =>
        (await api("GET", "/api/overview").catch(() => undefined))?.body?.nodes?.length === 2,
      30_000,
      () => procs.map((p) => p.log.slice(-400)).join("\n---\n"),
    );

    const session = await api("GET", "/api/session");
    assert.equal(session.body.login, "none");
    assert.equal(session.body.cluster, cluster);
    assert.equal(session.body.loopIntervalMs, 1000);

    // Operations: one result per node, as the REPL's table.
    const start = await api("POST", "/api/operations", { op: "start-agent", nodes: "all" });
    assert.equal(start.status, 200, JSON.stringify(start.body));
    assert.deepEqual(start.body.results.map((r: { node: string; ok: boolean }) => [r.node, r.ok]), [
      ["k1", true],
      ["k2", true],
    ]);
    const svc = await api("POST", "/api/operations", {
      op: "start-service",
      service: "idle",
      nodes: ["k1"],
    });
    assert.equal(svc.status, 200, JSON.stringify(svc.body));
    assert.deepEqual(svc.body.results.map((r: { node: string; ok: boolean }) => [r.node, r.ok]), [
      ["k1", true],
    ]);
    const noSuch = await api("POST", "/api/operations", { op: "stop-agent", nodes: ["k9"] });
    assert.equal(noSuch.status, 404);
    assert.match(noSuch.body.error, /^POST \/api\/operations: Unknown node "k9"/);

    // The overview: both nodes active and healthy, the instance on k1.
    await waitFor(
      async () => {
        const o = (await api("GET", "/api/overview")).body;
        return o.nodes.every((n: { active: boolean; health: string }) =>
          n.active && n.health === "ok"
        ) &&
          o.services.find((s: { name: string }) => s.name === "idle")?.instances?.k1 === 1;
      },
      30_000,
      () => procs.map((p) => p.log.slice(-400)).join("\n---\n"),
    );
    const o = (await api("GET", "/api/overview")).body;
    assert.deepEqual(o.nodes.map((n: { name: string }) => n.name), ["k1", "k2"]);
    for (const n of o.nodes) {
      assert.deepEqual(n.deps, { etcd: "ok", docker: "ok", influx: "off" });
      assert.ok(n.cpusTotal > 0 && n.memoryTotal > 0, JSON.stringify(n));
    }

    // The event stream sends the same overview.
    const events = await fetch(`${base}/api/events?cluster=${cluster}`);
    assert.equal(events.headers.get("content-type"), "text/event-stream");
    const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("\n\n")) text += (await reader.read()).value ?? "";
    await reader.cancel();
    assert.match(text, /^event: overview\ndata: \{"cluster":/);
    assert.equal(JSON.parse(text.split("\n")[1]!.slice(6)).nodes.length, 2);

    // History: samples of both nodes merged, the instance on k1 counted.
    await waitFor(
      async () => {
        const h = (await api("GET", "/api/services/idle/history?minutes=5")).body;
        return h.samples.some((s: { running: number }) => s.running === 1);
      },
      30_000,
      () => "no sample with the running instance",
    );
    const h = (await api("GET", "/api/services/idle/history?minutes=5")).body;
    assert.deepEqual(h.nodes.map((n: { name: string; ok: boolean }) => [n.name, n.ok]), [
      ["k1", true],
      ["k2", true],
    ]);
    assert.equal(h.intervalMs, 1000);
    assert.deepEqual(h.thresholds.map((t: { kind: string; value: number }) => [t.kind, t.value]), [
      ["scale-out", 0.9],
      ["scale-in", 0.2],
    ]);
    assert.equal((await api("GET", "/api/services/nope/history")).status, 404);
    // The agents' route needs the token.
    assert.equal((await fetch(`http://127.0.0.1:${ports[0]}/gru/v1/history`)).status, 401);

    // The configuration manager: secrets redacted; a rejected edit writes nothing.
    const docs = (await api("GET", "/api/documents")).body;
    assert.deepEqual(docs.services.idle.configuration.env, { API_KEY: "<redacted>" });
    assert.ok(!JSON.stringify(docs).includes("s3cret-v4lue"));
    const kv = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
    const storedPolicy = await kv.get(`/gru/${cluster}/policy`).finally(() => kv.close());
    const bad = { ...docs.policy, scaleout: { ...docs.policy.scaleout, threshold: 7 } };
    const refused = await api("PUT", "/api/documents", {
      kind: "policy",
      text: JSON.stringify(bad, null, 2),
    });
    assert.equal(refused.status, 400);
    assert.ok(
      refused.body.problems.some((p: { path: string }) => p.path === "$.scaleout.threshold"),
      JSON.stringify(refused.body),
    );
    const kv2 = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
    assert.equal(await kv2.get(`/gru/${cluster}/policy`).finally(() => kv2.close()), storedPolicy);

    // The fixed edit is applied in one transaction and every agent reloads it.
    const good = { ...docs.policy, scaleout: { ...docs.policy.scaleout, threshold: 0.85 } };
    const applied = await api("PUT", "/api/documents", {
      kind: "policy",
      text: JSON.stringify(good, null, 2),
    });
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    assert.deepEqual(
      applied.body.results.map((r: { node: string; ok: boolean }) => [r.node, r.ok]),
      [
        ["k1", true],
        ["k2", true],
      ],
    );
    const kv3 = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
    const token = await kv3.get(`/gru/${cluster}/token`).finally(() => kv3.close());
    for (const port of ports) {
      const seen = await fetch(`http://127.0.0.1:${port}/gru/v1/config`, {
        headers: { authorization: `Bearer ${token}` },
      }).then((r) => r.json());
      assert.equal(seen.policy.scaleout.threshold, 0.85);
    }
    // Editing the service with its redacted Env keeps the stored secret.
    const idle = { ...docs.services.idle, maxInstances: 4 };
    const kept = await api("PUT", "/api/documents", {
      kind: "service",
      name: "idle",
      text: JSON.stringify(idle),
    });
    assert.equal(kept.status, 200, JSON.stringify(kept.body));
    const kv4 = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
    const raw = await kv4.get(`/gru/${cluster}/services/idle`).finally(() => kv4.close());
    assert.equal(JSON.parse(raw!).configuration.env.API_KEY, "s3cret-v4lue");
    assert.equal(JSON.parse(raw!).maxInstances, 4);

    // SIGTERM stops the console cleanly, even with an event stream opened before.
    assert.equal((await console.stop("SIGTERM")).code, 0, console.log.slice(-500));
  } finally {
    for (const p of procs) await p.stop("SIGKILL");
    await removeRunContainers(run);
    const kv = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
    await kv.deletePrefix(`/gru/${cluster}/`).finally(() => kv.close());
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("gru console refuses a non-loopback address without TLS, and a bad --listen", async () => {
  const env = { ETCD_ADDR: etcdEndpoints().join(",") };
  const open = await gru(["console", "--listen", `0.0.0.0:${freePort()}`], { env });
  assert.equal(open.code, 2, open.stderr);
  assert.match(open.stderr, /Refusing to serve the console on 0\.0\.0\.0:\d+ without TLS/);
  const bad = await gru(["console", "--listen", "localhost"], { env });
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /Invalid --listen "localhost": expected HOST:PORT/);
});

Deno.test("gru console on a non-loopback address: HTTPS, login with the token or the password", async () => {
  const run = testRunId();
  const cluster = `console-tls-${run}`;
  const env = { ETCD_ADDR: etcdEndpoints().join(",") };
  const dir = await Deno.makeTempDir({ prefix: "gru-console-tls-" });
  const port = freePort();
  const base = `https://127.0.0.1:${port}`;
  let proc: Proc | undefined;
  const client = (ca: string) => Deno.createHttpClient({ caCerts: [ca] });
  let http: Deno.HttpClient | undefined;
  try {
    for (
      const args of [
        ["tls", "ca", "create", "--dir", dir],
        ["tls", "cert", "create", "--node", "console", "--ip", "127.0.0.1", "--dir", dir],
        ["create", cluster],
      ]
    ) {
      const r = await gru(args, { env });
      assert.equal(r.code, 0, r.stderr);
    }
    await Deno.writeTextFile(`${dir}/password`, "correct horse battery staple\n");
    proc = new GruProcess([
      "console",
      "--listen",
      `0.0.0.0:${port}`,
      "--cluster",
      cluster,
      "--password-file",
      `${dir}/password`,
      "--tls-ca",
      `${dir}/gru-ca.pem`,
      "--tls-cert",
      `${dir}/console.pem`,
      "--tls-key",
      `${dir}/console-key.pem`,
    ], env);
    http = client(await Deno.readTextFile(`${dir}/gru-ca.pem`));
    const call = (method: string, path: string, body?: unknown, cookie?: string) =>
      fetch(`${base}${path}`, {
        method,
        client: http,
        headers: {
          ...(body === undefined ? {} : { "content-type": "application/json", origin: base }),
          ...(cookie ? { cookie } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    await waitFor(
      async () => (await call("GET", "/api/session").catch(() => undefined))?.status === 200,
      30_000,
      () => proc!.log.slice(-800),
    );
    const refused = await call("GET", "/api/overview");
    assert.equal(refused.status, 401);
    await refused.body?.cancel();
    const wrong = await call("POST", "/api/login", { token: "not-the-token" });
    assert.equal(wrong.status, 401, await wrong.clone().text());
    await wrong.body?.cancel();
    const kv = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
    const token = await kv.get(`/gru/${cluster}/token`).finally(() => kv.close());
    const login = await call("POST", "/api/login", { token });
    assert.equal(login.status, 200);
    await login.body?.cancel();
    const set = login.headers.get("set-cookie") ?? "";
    for (const part of ["HttpOnly", "SameSite=Strict", "Secure"]) {
      assert.ok(set.includes(part), set);
    }
    const cookie = set.split(";")[0]!;
    const o = await call("GET", "/api/overview", undefined, cookie);
    assert.equal(o.status, 200);
    const overview = await o.json();
    assert.deepEqual([overview.cluster, overview.nodes], [cluster, []]);
    const page = await call("GET", "/", undefined, cookie);
    assert.ok(page.headers.get("content-security-policy")?.includes("script-src 'self'"));
    await page.body?.cancel();
    const pw = await call("POST", "/api/login", { password: "correct horse battery staple" });
    assert.equal(pw.status, 200);
    assert.equal((await pw.json()).user, "password");
  } finally {
    await proc?.stop("SIGKILL");
    http?.close();
    const kv = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
    await kv.deletePrefix(`/gru/${cluster}/`).finally(() => kv.close());
    await Deno.remove(dir, { recursive: true });
  }
});
