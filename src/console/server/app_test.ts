import assert from "node:assert/strict";
import { fakeAgents, makeFixture } from "../../cli/repl/_testing.ts";
import { parseAnalytic, parseServiceDescriptor } from "../../config/documents.ts";
import { createConsoleApp } from "./app.ts";
import type { ConsoleDeps } from "./context.ts";

const N1 = "http://10.0.0.1:8080";
const N2 = "http://10.0.0.2:8080";

async function setup(over: Partial<ConsoleDeps> = {}) {
  const fixture = await makeFixture({
    nodes: [{ name: "n1", address: N1, active: true }, { name: "n2", address: N2 }],
    services: [],
  });
  await fixture.store.importDocs("c1", {
    services: [parseServiceDescriptor({
      name: "web",
      image: "nginx",
      analytics: ["load"],
      configuration: { env: { DB_PASSWORD: "hunter2" } },
    }, "test")],
    analytics: [parseAnalytic({ name: "load", expr: "cpu_avg", metrics: ["cpu_avg"] }, "test")],
  });
  const fake = fakeAgents();
  const deps: ConsoleDeps = {
    store: fixture.store,
    agents: fake.agents,
    loopback: true,
    https: false,
    defaultCluster: "c1",
    ...over,
  };
  const app = createConsoleApp(deps);
  const origin = deps.https ? "https://console.test:8443" : "http://127.0.0.1:8080";
  const host = new URL(origin).host;
  const call = (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) =>
    app.request(`${origin}${path}`, {
      method,
      headers: {
        host,
        ...(body !== undefined ? { "content-type": "application/json", origin } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return { fixture, fake, app, call };
}

Deno.test("console app: non-loopback needs a login; a token opens only its clusters", async () => {
  const { fixture, call } = await setup({
    loopback: false,
    https: true,
    password: "a-long-password",
  });
  try {
    const session = await (await call("GET", "/api/session")).json();
    assert.deepEqual([session.login, session.loggedIn, session.clusters], ["required", false, []]);
    const refused = await call("GET", "/api/overview");
    assert.equal(refused.status, 401);
    assert.equal((await refused.json()).login, "required");
    assert.equal((await call("POST", "/api/login", { token: "wrong" })).status, 401);
    const login = await call("POST", "/api/login", { token: "tok-c2" });
    assert.equal(login.status, 200);
    const cookie = login.headers.get("set-cookie")!;
    for (const part of ["HttpOnly", "SameSite=Strict", "Secure"]) assert.ok(cookie.includes(part));
    const jar = { cookie: cookie.split(";")[0]! };
    const mine = await (await call("GET", "/api/session", undefined, jar)).json();
    assert.deepEqual([mine.user, mine.clusters, mine.cluster], ["token", ["c2"], "c2"]);
    const other = await call("GET", "/api/documents?cluster=c1", undefined, jar);
    assert.equal(other.status, 403);
    assert.match((await other.json()).error, /^GET \/api\/documents: /);
    assert.equal((await call("GET", "/api/documents?cluster=c2", undefined, jar)).status, 200);
    const pw = await call("POST", "/api/login", { password: "a-long-password" });
    const all = { cookie: pw.headers.get("set-cookie")!.split(";")[0]! };
    assert.deepEqual((await (await call("GET", "/api/session", undefined, all)).json()).clusters, [
      "c1",
      "c2",
    ]);
    // CSRF: a form post (no JSON) and a cross-site origin are refused, whatever the cookie.
    const form = await call("POST", "/api/logout", undefined, {
      ...all,
      "content-type": "application/x-www-form-urlencoded",
      origin: "https://console.test:8443",
    });
    assert.equal(form.status, 415);
    const cross = await call("POST", "/api/operations", { op: "deploy" }, {
      ...all,
      origin: "https://evil.example",
    });
    assert.equal(cross.status, 403);
    assert.equal(cross.headers.get("x-frame-options"), "DENY");
    assert.ok(cross.headers.get("content-security-policy")?.includes("frame-ancestors 'none'"));
  } finally {
    await fixture.close();
  }
});

Deno.test("console app: on loopback no login, but a rebound Host is refused", async () => {
  const { fixture, app, call } = await setup();
  try {
    const session = await (await call("GET", "/api/session")).json();
    assert.deepEqual([session.login, session.cluster, session.clusters], ["none", "c1", [
      "c1",
      "c2",
    ]]);
    const rebound = await app.request("http://evil.example:8080/api/documents", {
      headers: { host: "evil.example:8080" },
    });
    assert.equal(rebound.status, 403);
  } finally {
    await fixture.close();
  }
});

Deno.test("console app: documents are redacted; a bad edit writes nothing; a good one keeps <redacted>", async () => {
  const { fixture, fake, call } = await setup();
  try {
    const docs = await (await call("GET", "/api/documents")).json();
    assert.deepEqual(docs.services.web.configuration.env, { DB_PASSWORD: "<redacted>" });
    assert.ok(!JSON.stringify(docs).includes("hunter2"));
    assert.deepEqual(docs.defaults, ["config", "policy"]);

    const bad = `{\n  "scaleout": { "enable": true, "threshold": 1.5, "analytics": ["nope"] }\n}\n`;
    const v = await (await call("POST", "/api/documents/validate", { kind: "policy", text: bad }))
      .json();
    assert.equal(v.ok, false);
    const paths = v.problems.map((p: { path: string }) => p.path);
    assert.ok(paths.includes("$.scaleout.threshold"), JSON.stringify(v.problems));
    assert.ok(v.problems.every((p: { line?: number }) => p.line === 2), JSON.stringify(v.problems));
    const put = await call("PUT", "/api/documents", { kind: "policy", text: bad });
    assert.equal(put.status, 400);
    assert.match((await put.json()).error, /^PUT \/api\/documents: nothing written; /);
    assert.equal(await fixture.store.kv.get("/gru/c1/policy"), "empty");
    assert.equal(fake.sent.length, 0);

    const edited = { ...docs.services.web, image: "nginx:2" };
    const text = JSON.stringify(edited, null, 2);
    const check =
      await (await call("POST", "/api/documents/validate", { kind: "service", name: "web", text }))
        .json();
    assert.equal(check.ok, true, JSON.stringify(check.problems));
    assert.match(check.diff, /^- {2}"image": "nginx",$/m);
    assert.match(check.diff, /^\+ {2}"image": "nginx:2",$/m);
    assert.ok(!check.diff.includes("hunter2"));
    const applied = await call("PUT", "/api/documents", { kind: "service", name: "web", text });
    const answer = await applied.json();
    assert.equal(applied.status, 200, JSON.stringify(answer));
    const stored = await fixture.store.getService("c1", "web");
    assert.equal(stored?.image, "nginx:2");
    assert.equal(stored?.configuration.env?.DB_PASSWORD, "hunter2");
    // The reload went to every live node, one result each.
    assert.deepEqual(answer.results.map((r: { node: string; ok: boolean }) => [r.node, r.ok]), [
      ["n1", true],
      ["n2", true],
    ]);
    assert.deepEqual(fake.sent.map((s) => `${s.name} ${s.target} ${s.object}`), [
      "update services c1",
      "update services c1",
    ]);

    const del = await call("DELETE", "/api/documents", { kind: "analytic", name: "load" });
    assert.equal(del.status, 400, "web uses the analytic");
    assert.ok((await fixture.store.listAnalytics("c1")).some((a) => a.name === "load"));
  } finally {
    await fixture.close();
  }
});

Deno.test("console app: operations run the REPL's code and report each node", async () => {
  const { fixture, fake, call } = await setup();
  try {
    fake.failures.set(N2, new Error("Agent is busy"));
    const res = await call("POST", "/api/operations", {
      op: "start-service",
      service: "web",
      nodes: ["n1", "n2"],
    });
    const body = await res.json();
    assert.equal(res.status, 200);
    assert.deepEqual(body, {
      ok: false,
      results: [
        { node: "n1", ok: true, message: "ok" },
        { node: "n2", ok: false, message: "Agent is busy" },
      ],
    });
    const unknown = await call("POST", "/api/operations", {
      op: "start-service",
      service: "nope",
      nodes: "all",
    });
    assert.equal(unknown.status, 404);
    assert.match((await unknown.json()).error, /Unknown service "nope"/);
    const badOp = await call("POST", "/api/operations", { op: "explode", nodes: "all" });
    assert.equal(badOp.status, 400);
    assert.equal(fake.sent.length, 2, "nothing sent for the refused ones");
  } finally {
    await fixture.close();
  }
});
