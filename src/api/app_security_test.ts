/**
 * The API's trust rules on a fake agent: fail closed without a token, JSON content type on
 * POST/DELETE, secrets redacted, errors quoting short excerpts, one audit line per request.
 */

import assert from "node:assert/strict";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { type AgentApi, contentTypeProblem, createApi } from "./app.ts";
import { defaultAgentConfig, defaultPolicyConfig } from "../config/documents.ts";
import { parseServiceDescriptor } from "../config/documents.ts";
import { REDACTED } from "./redact.ts";
import type { AgentCommand } from "../domain/commands.ts";

const TOKEN = "tok-123";

function fakeAgent() {
  const config = defaultAgentConfig();
  config.metric = {
    metricService: "influxdb",
    configuration: { Url: "http://influx:8086", DbName: "gru", Password: "hunter2" },
  };
  const web = parseServiceDescriptor({
    name: "web",
    image: "busybox",
    configuration: { env: { DB_PASSWORD: "s3cret" } },
  }, "web.json");
  const commands: AgentCommand[] = [];
  const agent = {
    identity: { cluster: "c1", name: "n1", uuid: "u", address: "http://x", hostIp: "x" },
    health: () => ({
      status: "ok",
      node: "n1",
      cluster: "c1",
      registered: true,
      store: { ok: true },
      docker: { ok: true },
      active: false,
      uptimeSeconds: 1,
    }),
    node: () => Promise.resolve({ config: { name: "n1" }, instances: [] }),
    servicesView: () => Promise.resolve([{ ...web, instances: [] }]),
    command: (c: AgentCommand) => {
      commands.push(c);
      return Promise.resolve({ ok: true, message: "done", data: { env: { A: "secret" } } });
    },
    config,
    policy: defaultPolicyConfig(),
    analytics: new Map(),
    decisionsList: () => [],
    history: () => ({ services: {}, markers: [] }),
    lastTick: () => undefined,
    pushUserMetric: () => {},
    gossip: () => Promise.resolve({ cluster: "c1", from: "n1", entries: [] }),
    gossipState: () => ({ self: "n1", members: [], entries: [] }),
  };
  return { agent: agent as unknown as AgentApi, commands };
}

const json = { "content-type": "application/json" };
const auth = { authorization: `Bearer ${TOKEN}`, ...json };

const MUTATING: [string, string, string | undefined][] = [
  ["POST", "/gru/v1/commands", '{"Name":"start","Target":"agent"}'],
  ["POST", "/gru/v1/services/web/instances", undefined],
  ["DELETE", "/gru/v1/services/web/instances", undefined],
  ["DELETE", "/gru/v1/services/web/instances/abc", undefined],
  ["POST", "/gru/v1/stats/user/web/latency", '{"values":[1]}'],
  ["POST", "/gru/v1/gossip", '{"cluster":"c1","from":"n2","entries":[]}'],
];
const READS = [
  ...["/node", "/services", "/services/web", "/config", "/decisions", "/gossip"],
  ...["/stats", "/stats/services", "/stats/services/web", "/stats/instances", "/stats/system"],
  ...["/analytics", "/analytics/services", "/analytics/services/web", "/analytics/system"],
  "/shared",
  "/history?service=web&minutes=5",
];

Deno.test("without a token in force every authenticated route is 503 and says how to fix it", async () => {
  const { agent, commands } = fakeAgent();
  const app = createApi(agent, { token: () => undefined });
  for (const [method, path, body] of MUTATING) {
    const res = await app.request(path, { method, headers: auth, body });
    assert.equal(res.status, 503, `${method} ${path}`);
    const e = (await res.json()).error;
    assert.equal(e.code, "unavailable");
    assert.match(e.message, /no cluster token.*gru token rotate c1/);
  }
  for (const path of READS) {
    assert.equal((await app.request(`/gru/v1${path}`, { headers: auth })).status, 503, path);
  }
  assert.deepEqual(commands, [], "nothing ran");
  const health = await app.request("/gru/v1/health");
  assert.equal(health.status, 503);
  const h = await health.json();
  assert.equal(h.status, "degraded");
  assert.equal(h.token.ok, false);
  assert.match(h.token.error, /gru token rotate c1/);
  assert.equal((await app.request("/gru/v1/policies")).status, 200, "static lists stay open");
});

Deno.test("reads that reveal the cluster need the token; /health does not", async () => {
  const { agent } = fakeAgent();
  const app = createApi(agent, { token: () => TOKEN });
  for (const path of READS) {
    assert.equal((await app.request(`/gru/v1${path}`)).status, 401, path);
    const wrong = await app.request(`/gru/v1${path}`, { headers: { "x-gru-token": "nope" } });
    assert.equal(wrong.status, 401, path);
    assert.equal((await app.request(`/gru/v1${path}`, { headers: auth })).status, 200, path);
  }
  const health = await app.request("/gru/v1/health");
  assert.equal(health.status, 200);
  assert.deepEqual((await health.json()).token, { ok: true });
});

Deno.test("responses redact metric credentials, Env values and command data", async () => {
  const { agent } = fakeAgent();
  const app = createApi(agent, { token: () => TOKEN });
  const config = await (await app.request("/gru/v1/config", { headers: auth })).json();
  assert.equal(config.config.metric.configuration.Password, REDACTED);
  assert.equal(config.config.metric.configuration.Url, "http://influx:8086");
  const services = await (await app.request("/gru/v1/services", { headers: auth })).json();
  assert.deepEqual(services[0].configuration.env, { DB_PASSWORD: REDACTED });
  const one = await (await app.request("/gru/v1/services/web", { headers: auth })).json();
  assert.deepEqual(one.configuration.env, { DB_PASSWORD: REDACTED });
  const started = await app.request("/gru/v1/services/web/instances", {
    method: "POST",
    headers: auth,
  });
  assert.equal(started.status, 201);
  const text = await started.text();
  assert.doesNotMatch(text, /secret/);
});

Deno.test("POST and DELETE need application/json; text/plain and forms are 415", async () => {
  const { agent, commands } = fakeAgent();
  const app = createApi(agent, { token: () => TOKEN });
  const body = '{"Name":"start","Target":"agent"}';
  for (
    const type of [
      "text/plain",
      "text/plain;charset=UTF-8",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
    ]
  ) {
    const res = await app.request("/gru/v1/commands", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": type },
      body,
    });
    assert.equal(res.status, 415, type);
    const e = (await res.json()).error;
    assert.equal(e.code, "unsupported_media_type");
    assert.match(e.message, /needs content-type: application\/json/);
  }
  assert.deepEqual(commands, []);
  const ok = await app.request("/gru/v1/commands", {
    method: "POST",
    headers: { ...auth, "content-type": "application/json; charset=utf-8" },
    body,
  });
  assert.equal(ok.status, 200);
  const bodyless = await app.request("/gru/v1/services/web/instances", {
    method: "DELETE",
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  assert.equal(bodyless.status, 200, "a request without a body may omit the content type");
});

Deno.test("contentTypeProblem() refuses a body without a content type", () => {
  const h = (o: Record<string, string>) => new Headers(o);
  assert.equal(contentTypeProblem("GET", h({ "content-type": "text/plain" })), undefined);
  assert.equal(contentTypeProblem("POST", h({})), undefined);
  assert.equal(contentTypeProblem("POST", h({ "content-length": "0" })), undefined);
  assert.match(contentTypeProblem("POST", h({ "content-length": "12" }))!, /found none/);
  assert.match(contentTypeProblem("DELETE", h({ "transfer-encoding": "chunked" }))!, /found none/);
  assert.equal(contentTypeProblem("POST", h({ "content-type": "Application/JSON" })), undefined);
});

Deno.test("errors quote at most 80 characters of the input, escaped", async () => {
  const { agent } = fakeAgent();
  const app = createApi(agent, { token: () => TOKEN });
  const huge = "\u001b[31m" + "A".repeat(10_000);
  for (
    const body of [
      huge,
      JSON.stringify({ Name: 1, Target: huge }),
      JSON.stringify([huge]),
    ]
  ) {
    const res = await app.request("/gru/v1/commands", { method: "POST", headers: auth, body });
    assert.equal(res.status, 400);
    const message: string = (await res.json()).error.message;
    assert.ok(message.length < 300, message);
    assert.doesNotMatch(message, /A{81}/);
    assert.ok(!message.includes("\u001b"), "no raw escape character");
  }
  const stats = await app.request("/gru/v1/stats/user/web/m", {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ nope: huge }),
  });
  assert.equal(stats.status, 400);
  assert.doesNotMatch((await stats.json()).error.message, /A{81}/);
  const limit = await app.request(`/gru/v1/decisions?limit=${"9".repeat(500)}x`, { headers: auth });
  assert.equal(limit.status, 400);
  assert.doesNotMatch((await limit.json()).error.message, /9{81}/);
});

Deno.test("every POST and DELETE leaves one audit line: who, what, outcome, no secret", async () => {
  const records: LogRecord[] = [];
  await configure({
    reset: true,
    sinks: { memory: (r: LogRecord) => records.push(r) },
    loggers: [
      { category: ["gru", "audit"], lowestLevel: "debug", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
    ],
  });
  try {
    const { agent } = fakeAgent();
    const app = createApi(agent, { token: () => TOKEN, peerName: () => undefined });
    const body = JSON.stringify({ Name: "start", Target: "service", Object: "web" });
    await app.request("/gru/v1/commands", { method: "POST", headers: auth, body });
    await app.request("/gru/v1/commands", {
      method: "POST",
      headers: { ...json, authorization: "Bearer wrong-secret" },
      body,
    });
    await app.request("/gru/v1/commands", { method: "POST", body });
    const mtls = createApi(agent, { token: () => TOKEN, peerName: () => "node-2" });
    await mtls.request("/gru/v1/gossip", {
      method: "POST",
      headers: auth,
      body: '{"cluster":"c1","from":"node-2","entries":[]}',
    });
    await app.request("/gru/v1/config", { headers: auth });
    assert.equal(records.length, 4, "reads are not audited");
    const [ok, wrong, csrf, gossip] = records.map((r) => r.properties);
    assert.equal(ok!.who, "token");
    assert.equal(ok!.status, 200);
    assert.match(String(ok!.what), /command "start" "service" "web"/);
    assert.equal(wrong!.who, "anonymous");
    assert.equal(wrong!.status, 401);
    assert.equal(csrf!.status, 415);
    assert.equal(gossip!.who, "node-2");
    assert.equal(records[3]!.level, "debug");
    assert.equal(records[1]!.level, "warning");
    const all = JSON.stringify(records.map((r) => [r.message, r.properties]));
    assert.doesNotMatch(all, new RegExp(`${TOKEN}|wrong-secret`));
  } finally {
    await reset();
  }
});

Deno.test("a body over the limit is audited too", async () => {
  const records: LogRecord[] = [];
  await configure({
    reset: true,
    sinks: { memory: (r: LogRecord) => records.push(r) },
    loggers: [
      { category: ["gru", "audit"], lowestLevel: "debug", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
    ],
  });
  try {
    const { agent } = fakeAgent();
    const app = createApi(agent, { token: () => TOKEN, maxBodyBytes: 100 });
    const res = await app.request("/gru/v1/commands", {
      method: "POST",
      headers: { ...auth, "content-length": "1000" },
      body: "x".repeat(1000),
    });
    assert.equal(res.status, 413);
    assert.equal(records.length, 1);
    assert.equal(records[0]!.properties.status, 413);
  } finally {
    await reset();
  }
});

Deno.test("/health names a refused document to anyone but gives the reason only with the token", async () => {
  const { agent } = fakeAgent();
  const leaky = "services/web: $.configuration.env.DB_PASSWORD: expected a string, found 12345";
  const health = agent.health;
  (agent as unknown as { health: () => unknown }).health = () => ({
    ...health(),
    status: "degraded",
    documents: {
      ok: false,
      problems: [{
        document: "service web",
        key: "/gru/c1/services/web",
        error: leaky,
        inForce: "none",
      }],
    },
  });
  const app = createApi(agent, { token: () => TOKEN });
  const open = await app.request("/gru/v1/health");
  const openText = await open.text();
  assert.equal(open.status, 503);
  assert.ok(openText.includes("service web"), openText);
  assert.ok(!openText.includes("12345"), `no reason without the token: ${openText}`);
  const withToken = await (await app.request("/gru/v1/health", { headers: auth })).json();
  assert.match(withToken.documents.problems[0].error, /DB_PASSWORD/);
});
