import assert from "node:assert/strict";
import { defaultAgentConfig, parseServiceDescriptor } from "../config/documents.ts";
import { redactAgentConfig, REDACTED, redactService, redactUnknown, redactUrl } from "./redact.ts";

Deno.test("redactAgentConfig() hides metric credentials and Docker TLS, keeps settings", () => {
  const config = defaultAgentConfig();
  config.docker.daemonUrl = "https://ops:pw@docker.example:2376";
  config.docker.tls = {
    ca: "/etc/ca.pem",
    cert: "/etc/cert.pem",
    key: "/etc/key.pem",
    verify: true,
  };
  config.metric = {
    metricService: "influxdb",
    configuration: {
      Url: "http://admin:hunter2@influx:8086",
      DbName: "gru",
      Username: "admin",
      Password: "hunter2",
      Token: "tok",
      Org: "o",
      Bucket: "b",
      Custom: "x",
    },
  };
  const before = structuredClone(config);
  const out = redactAgentConfig(config);
  assert.deepEqual(out.metric.configuration, {
    Url: `http://${REDACTED}@influx:8086`,
    DbName: "gru",
    Username: REDACTED,
    Password: REDACTED,
    Token: REDACTED,
    Org: "o",
    Bucket: "b",
    Custom: REDACTED,
  });
  assert.deepEqual(out.docker.tls, { ca: REDACTED, cert: REDACTED, key: REDACTED, verify: true });
  assert.equal(out.docker.daemonUrl, `https://${REDACTED}@docker.example:2376`);
  assert.equal(out.autonomic.loopTimeInterval, config.autonomic.loopTimeInterval);
  assert.deepEqual(config, before, "the input is not changed");
  assert.doesNotMatch(JSON.stringify(out), /hunter2|tok"|key\.pem/);
});

Deno.test("redactService() keeps Env names and hides every value", () => {
  const s = parseServiceDescriptor({
    name: "web",
    image: "busybox",
    configuration: { env: { DB_PASSWORD: "s3cret", MODE: "prod", EMPTY: "" } },
  }, "web.json");
  const out = redactService({ ...s, instances: [] });
  assert.deepEqual(out.configuration.env, {
    DB_PASSWORD: REDACTED,
    MODE: REDACTED,
    EMPTY: REDACTED,
  });
  assert.deepEqual(out.instances, []);
  assert.equal(s.configuration.env.DB_PASSWORD, "s3cret", "the input is not changed");
});

Deno.test("redactUnknown() hides secret-named keys, env maps and lists, URL user info", () => {
  const out = redactUnknown({
    ok: true,
    data: {
      name: "web-1",
      Env: ["A=1", "B"],
      env: { X: "y" },
      password: "p",
      apiKey: "k",
      nested: [{ token: "t", url: "http://u:p@h/" }],
    },
  });
  assert.deepEqual(out, {
    ok: true,
    data: {
      name: "web-1",
      Env: [`A=${REDACTED}`, `B=${REDACTED}`],
      env: { X: REDACTED },
      password: REDACTED,
      apiKey: REDACTED,
      nested: [{ token: REDACTED, url: `http://${REDACTED}@h/` }],
    },
  });
});

Deno.test("redactUrl() leaves URLs without user info and plain text alone", () => {
  assert.equal(redactUrl("http://influx:8086/write?db=x"), "http://influx:8086/write?db=x");
  assert.equal(redactUrl("user@example.com"), "user@example.com");
});

Deno.test("redactService() hides metric sources' header values and basic-auth password", () => {
  const service = parseServiceDescriptor({
    Name: "web",
    Image: "nginx",
    MetricSources: {
      rps: {
        Url: "https://prom.example:9090",
        Query: "sum(up)",
        Headers: { "X-Scope-OrgID": "tenant-7", Authorization: "Bearer tok-123" },
        BasicAuth: { Username: "gru", Password: "pw-456" },
      },
    },
  }, "web.json");
  const shown = redactService(service);
  const text = JSON.stringify(shown);
  for (const secret of ["tenant-7", "tok-123", "pw-456"]) assert.ok(!text.includes(secret), text);
  const rps = shown.metricSources!.rps!;
  assert.deepEqual(rps.headers, { "X-Scope-OrgID": REDACTED, Authorization: REDACTED });
  assert.deepEqual(rps.basicAuth, { username: "gru", password: REDACTED });
  assert.equal(rps.query, "sum(up)");
  assert.equal(service.metricSources!.rps!.basicAuth!.password, "pw-456", "input unchanged");
  // A command's data of unknown shape: header maps keep their names only.
  const data = redactUnknown({ MetricSources: { rps: { Headers: { "X-Org": "t" } } } });
  assert.deepEqual(data, { MetricSources: { rps: { Headers: { "X-Org": REDACTED } } } });
});
