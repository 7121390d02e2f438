import assert from "node:assert/strict";
import { ValidationError } from "../domain/errors.ts";
import { NAME_PATTERN } from "../cluster/keys.ts";
import {
  checkAgentConfig,
  checkAnalytic,
  checkPolicyConfig,
  checkServiceDescriptor,
  defaultAgentConfig,
  defaultPolicyConfig,
  parseAgentConfig,
  parseAnalytic,
  parseNodeConfig,
  parseNodeConstraints,
  parseNodeResources,
  parsePolicyConfig,
  parseServiceDescriptor,
} from "./documents.ts";
import { DOCUMENT_NAME_PATTERN } from "./schemas.ts";
import { formatProblem, type Problem } from "./problem.ts";

type Check = (input: unknown, source: string) => { value: unknown; problems: Problem[] };

Deno.test("defaultAgentConfig() holds the documented defaults", () => {
  assert.deepEqual(defaultAgentConfig(), {
    docker: { daemonUrl: "default", daemonTimeout: 10 },
    autonomic: {
      loopTimeInterval: 5,
      plannerStrategy: "probdelta",
      enableLogReading: false,
      dryRun: false,
      warmup: 5,
      window: 10,
      scaleOutCooldown: 10,
      scaleInCooldown: 30,
      scaleInStabilization: 10,
      decisionHistory: 100,
    },
    communication: { loopTimeInterval: 5, maxFriends: 3, maxClockSkew: 30 },
    storage: { storageService: "internal" },
    metric: { metricService: "none", configuration: {} },
    discovery: { appRoot: "", ttl: 5 },
  });
  assert.notEqual(defaultAgentConfig(), defaultAgentConfig(), "a fresh object each time");
});

Deno.test("defaultPolicyConfig() disables every policy with the README thresholds", () => {
  const rule = (threshold: number) => ({
    enable: false,
    threshold,
    metrics: [],
    analytics: [],
    dryRun: false,
  });
  assert.deepEqual(defaultPolicyConfig(), {
    scalein: rule(0.35),
    scaleout: rule(0.75),
    swap: rule(0.6),
  });
});

Deno.test("parseAgentConfig() matches keys in any case", () => {
  for (
    const [outer, inner] of [["Docker", "DaemonUrl"], ["docker", "daemonurl"], [
      "DOCKER",
      "daemonUrl",
    ]]
  ) {
    const c = parseAgentConfig({ [outer!]: { [inner!]: "local:2375" } }, "config.json");
    assert.equal(c.docker.daemonUrl, "local:2375", `${outer}.${inner}`);
    assert.equal(c.docker.daemonTimeout, 10);
  }
});

Deno.test("parseAgentConfig() reads the original README example unchanged", () => {
  const c = parseAgentConfig({
    Docker: { DaemonUrl: "local:2375", DaemonTimeout: 10 },
    Autonomic: { LoopTimeInterval: 60, PlannerStrategy: "probdelta", EnableLogReading: true },
    Communication: { LoopTimeInterval: 55, MaxFriends: 5 },
    Storage: { StorageService: "internal" },
    Metric: {
      MetricService: "influxdb",
      Configuration: { Url: "http://h:8086", DbName: "gru", Username: "u", Password: "p" },
    },
    Discovery: { AppRoot: "app/myapp/services", TTL: 5 },
  }, "config.json");
  assert.deepEqual(c, {
    docker: { daemonUrl: "local:2375", daemonTimeout: 10 },
    autonomic: {
      loopTimeInterval: 60,
      plannerStrategy: "probdelta",
      enableLogReading: true,
      dryRun: false,
      warmup: 5,
      window: 10,
      scaleOutCooldown: 10,
      scaleInCooldown: 30,
      scaleInStabilization: 10,
      decisionHistory: 100,
    },
    communication: { loopTimeInterval: 55, maxFriends: 5, maxClockSkew: 30 },
    storage: { storageService: "internal" },
    metric: {
      metricService: "influxdb",
      configuration: { Url: "http://h:8086", DbName: "gru", Username: "u", Password: "p" },
    },
    discovery: { appRoot: "app/myapp/services", ttl: 5 },
  });
});

Deno.test("parseServiceDescriptor() reads the original's exported shape (nulls, instances)", () => {
  const s = parseServiceDescriptor({
    name: "service1",
    type: "service1",
    image: "elleflorio/service1",
    remote: "/gru/myCluster/services/service1",
    discoveryport: "50000",
    instances: { all: null, running: null, pending: null, stopped: null, paused: null },
    analytics: null,
    constraints: null,
    configuration: {
      env: { ETCD_ADDR: "" },
      volumes: null,
      entrypoint: null,
      memory: "",
      cpunumber: 1,
      cpushares: 0,
      cpusetcpus: "",
      links: null,
      ports: { "50000": "50000-50004" },
      cmd: ["start", "service1"],
      stoptimeout: 30,
    },
  }, "etcd:/gru/myCluster/services/service1");
  assert.deepEqual(s, {
    name: "service1",
    type: "service1",
    image: "elleflorio/service1",
    remote: "/gru/myCluster/services/service1",
    discoveryPort: "50000",
    analytics: [],
    constraints: {},
    minInstances: 0,
    maxInstances: 0,
    configuration: {
      env: { ETCD_ADDR: "" },
      volumes: {},
      entrypoint: [],
      memory: "",
      cpuNumber: 1,
      cpuShares: 0,
      cpusetCpus: "",
      links: [],
      ports: { "50000": "50000-50004" },
      cmd: ["start", "service1"],
      stopTimeout: 30,
    },
  });
});

Deno.test("parse functions accept their own output (JSON round trip)", () => {
  const service = parseServiceDescriptor({
    Name: "web",
    Image: "gru-demo/web",
    Configuration: { Memory: 1024, Ports: { "80": 8080 }, Volumes: { "/d": {} } },
  }, "s");
  assert.equal(service.configuration.memory, "1024", "a number of bytes becomes its text");
  assert.equal(service.configuration.ports["80"], "8080");
  const cases: [unknown, (input: unknown, source: string) => unknown][] = [
    [defaultAgentConfig(), parseAgentConfig],
    [defaultPolicyConfig(), parsePolicyConfig],
    [service, parseServiceDescriptor],
    [parseAnalytic({ name: "a", expr: "x", metrics: ["x"] }, "a"), parseAnalytic],
  ];
  for (const [value, parse] of cases) {
    assert.deepEqual(parse(JSON.parse(JSON.stringify(value)), "round-trip"), value);
  }
});

Deno.test("documents accept the boundaries of every range", () => {
  const config = checkAgentConfig({
    autonomic: { loopTimeInterval: 0.001, warmup: 0, plannerStrategy: "dummy" },
    communication: { loopTimeInterval: 0.5, maxFriends: 1 },
    discovery: { ttl: 1 },
    docker: { daemonTimeout: 0, daemonUrl: "tcp://10.0.0.1:2375" },
  }, "config.json");
  assert.deepEqual(config.problems, []);
  const policy = checkPolicyConfig({
    scalein: { threshold: 0.0001 },
    scaleout: { threshold: 0.9999 },
  }, "policy.json");
  assert.deepEqual(policy.problems, []);
  for (
    const url of ["default", "local:2375", "10.0.0.2:2375", "unix:///run/d.sock", "https://h:2376"]
  ) {
    assert.deepEqual(checkAgentConfig({ docker: { daemonUrl: url } }, "c").problems, [], url);
  }
  for (const memory of ["", "512m", "1g", "1024", "32kb", 0, 1048576]) {
    const s = checkServiceDescriptor({ name: "s", image: "i", configuration: { memory } }, "s");
    assert.deepEqual(s.problems, [], String(memory));
  }
});

Deno.test("each invalid value is an error naming the path, the expectation and the value", () => {
  const cases: { name: string; check: Check; input: unknown; line: string }[] = [
    {
      name: "string for a number",
      check: checkAgentConfig,
      input: { Autonomic: { LoopTimeInterval: "5" } },
      line:
        `c: $.Autonomic.LoopTimeInterval: expected a number of seconds greater than 0, found "5"`,
    },
    {
      name: "zero interval",
      check: checkAgentConfig,
      input: { communication: { loopTimeInterval: 0 } },
      line:
        `c: $.communication.loopTimeInterval: expected a number of seconds greater than 0, found 0`,
    },
    {
      name: "fractional maxFriends",
      check: checkAgentConfig,
      input: { communication: { maxFriends: 1.5 } },
      line: `c: $.communication.maxFriends: expected a whole number >= 1, found 1.5`,
    },
    {
      name: "ttl 0",
      check: checkAgentConfig,
      input: { discovery: { TTL: 0 } },
      line: `c: $.discovery.TTL: expected a whole number of seconds >= 1, found 0`,
    },
    {
      name: "unknown strategy",
      check: checkAgentConfig,
      input: { autonomic: { plannerStrategy: "best" } },
      line:
        `c: $.autonomic.plannerStrategy: expected one of "probdelta", "probcumulative", "dummy", "threshold" or "target", found "best"`,
    },
    {
      name: "storage service",
      check: checkAgentConfig,
      input: { storage: { storageService: "etcd" } },
      line: `c: $.storage.storageService: expected "internal", found "etcd"`,
    },
    {
      name: "metric configuration value",
      check: checkAgentConfig,
      input: { metric: { configuration: { Url: 8086 } } },
      line: `c: $.metric.configuration.Url: expected a string, found 8086`,
    },
    {
      name: "section not an object",
      check: checkAgentConfig,
      input: { docker: "local:2375" },
      line: `c: $.docker: expected an object, found "local:2375"`,
    },
    {
      name: "document not an object",
      check: checkAgentConfig,
      input: "config",
      line: `c: $: expected an object, found "config"`,
    },
    {
      name: "threshold 1",
      check: checkPolicyConfig,
      input: { Scaleout: { Threshold: 1 } },
      line: `c: $.Scaleout.Threshold: expected a number between 0 and 1 (both excluded), found 1`,
    },
    {
      name: "threshold 0",
      check: checkPolicyConfig,
      input: { swap: { threshold: 0 } },
      line: `c: $.swap.threshold: expected a number between 0 and 1 (both excluded), found 0`,
    },
    {
      name: "unknown base metric",
      check: checkPolicyConfig,
      input: { scalein: { metrics: ["cpu_avg", "disk_avg"] } },
      line: `c: $.scalein.metrics[1]: expected one of "cpu_avg" or "memory_avg", found "disk_avg"`,
    },
    {
      name: "descending port range",
      check: checkServiceDescriptor,
      input: { name: "web", image: "i", configuration: { ports: { "80": "8080-8000" } } },
      line:
        `c: $.configuration.ports["80"]: expected an ascending port range in 1..65535, found "8080-8000"`,
    },
    {
      name: "guest port key",
      check: checkServiceDescriptor,
      input: { name: "web", image: "i", configuration: { ports: { "80/sctp": "8080" } } },
      line:
        `c: $.configuration.ports["80/sctp"]: expected a guest port in 1..65535, optionally with "/tcp" or "/udp", found "80/sctp"`,
    },
    {
      name: "bad memory",
      check: checkServiceDescriptor,
      input: { name: "web", image: "i", Configuration: { Memory: "1.5g" } },
      line:
        `c: $.Configuration.Memory: expected a size such as "512m", "1g" or "1024", a number of bytes, or "", found "1.5g"`,
    },
    {
      name: "negative cpunumber",
      check: checkServiceDescriptor,
      input: { name: "web", image: "i", configuration: { cpunumber: -1 } },
      line: `c: $.configuration.cpunumber: expected a whole number >= 0, found -1`,
    },
    {
      name: "constraint not a number",
      check: checkServiceDescriptor,
      input: { name: "web", image: "i", constraints: { MAX: "1" } },
      line: `c: $.constraints.MAX: expected a number, found "1"`,
    },
    {
      name: "missing image",
      check: checkServiceDescriptor,
      input: { name: "web" },
      line: `c: $.image: expected a Docker image name, found nothing`,
    },
    {
      name: "invalid name",
      check: checkServiceDescriptor,
      input: { name: "../web", image: "i" },
      line:
        `c: $.name: expected a name of 1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit, found "../web"`,
    },
    {
      name: "min above max",
      check: checkServiceDescriptor,
      input: { name: "web", image: "i", minInstances: 3, maxInstances: 2 },
      line: `c: $.maxInstances: expected 0 (unlimited) or a number >= minInstances (3), found 2`,
    },
    {
      name: "empty expression",
      check: checkAnalytic,
      input: { name: "a", expr: "" },
      line: `c: $.expr: expected an expression, found ""`,
    },
  ];
  for (const c of cases) {
    const r = c.check(c.input, "c");
    assert.equal(r.value, undefined, c.name);
    assert.deepEqual(r.problems.map(formatProblem), [c.line], c.name);
  }
});

Deno.test("unknown keys are warnings with a suggestion, and do not reject the document", () => {
  const r = checkAgentConfig({ Docker: { DeamonUrl: "x" }, Gossip: {} }, "config.json");
  assert.ok(r.value, "still valid");
  assert.deepEqual(r.problems.map((p) => [p.severity, p.path, p.message]), [
    [
      "warning",
      "$.Docker.DeamonUrl",
      `expected one of the keys daemonUrl, daemonTimeout, tls (any case), found "DeamonUrl" (ignored; did you mean "daemonUrl"?)`,
    ],
    [
      "warning",
      "$.Gossip",
      `expected one of the keys docker, autonomic, communication, storage, metric, discovery (any case), found "Gossip" (ignored)`,
    ],
  ]);
});

Deno.test("semantic warnings: discovery port, policy flapping, empty enabled policy, influx url", () => {
  const s = checkServiceDescriptor(
    { name: "w", image: "i", discoveryPort: "81", configuration: { ports: { "80": "8080" } } },
    "s",
  );
  assert.deepEqual(s.problems.map((p) => [p.severity, p.path]), [["warning", "$.discoveryPort"]]);
  const p = checkPolicyConfig({
    scalein: { enable: true, threshold: 0.8, metrics: ["cpu_avg"] },
    scaleout: { enable: true, threshold: 0.7 },
  }, "p");
  assert.deepEqual(p.problems.map((x) => [x.severity, x.path]), [
    ["warning", "$.scaleout"],
    ["warning", "$.scalein.threshold"],
  ]);
  const c = checkAgentConfig({ metric: { metricService: "influxdb" } }, "c");
  assert.deepEqual(c.problems.map((x) => [x.severity, x.path]), [
    ["warning", "$.metric.configuration"],
  ]);
});

Deno.test("parse functions throw a ValidationError listing every problem", () => {
  const input = {
    Autonomic: { LoopTimeInterval: -1, PlannerStrategy: "x" },
    Communication: { MaxFriends: 0 },
  };
  assert.throws(() => parseAgentConfig(input, "etcd:/gru/c/config"), ValidationError);
  try {
    parseAgentConfig(input, "etcd:/gru/c/config");
    assert.fail("should throw");
  } catch (e) {
    assert.ok(e instanceof ValidationError);
    const details = e.details as Problem[];
    assert.equal(details.length, 3);
    assert.ok(details.every((p) => p.file === "etcd:/gru/c/config" && p.severity === "error"));
    assert.match(e.message, /^Invalid agent configuration in etcd:\/gru\/c\/config: 3 errors/);
    for (const p of details) assert.ok(e.message.includes(formatProblem(p)), p.path);
  }
});

Deno.test("node documents read the original's lower-case keys", () => {
  assert.deepEqual(
    parseNodeConstraints({ cpumin: 0.5, cpumax: 1, baseservices: ["web"] }, "k"),
    { cpuMin: 0.5, cpuMax: 1, baseServices: ["web"] },
  );
  assert.deepEqual(parseNodeConstraints({ baseservices: null }, "k"), {
    cpuMin: 0,
    cpuMax: 0,
    baseServices: [],
  });
  assert.deepEqual(parseNodeResources({ totalcpus: 4, totalmemory: 2048 }, "k"), {
    totalCpus: 4,
    totalMemory: 2048,
  });
  const config = {
    uuid: "u",
    name: "n",
    address: "http://10.0.0.1:5000",
    cluster: "c",
    remote: "/gru/c/nodes/n",
  };
  assert.deepEqual(parseNodeConfig(config, "k"), config);
  assert.throws(() => parseNodeResources({ totalCpus: "4" }, "k"), ValidationError);
});

Deno.test("document names follow the cluster key rule", () => {
  assert.equal(DOCUMENT_NAME_PATTERN.source, NAME_PATTERN.source);
});

Deno.test("StopTimeout is bounded to 0..300 s, with an error naming the file and the path", () => {
  const parse = (stopTimeout: unknown) =>
    parseServiceDescriptor(
      { Name: "web", Image: "i", Configuration: { StopTimeout: stopTimeout } },
      "services/web.json",
    );
  assert.equal(parse(300).configuration.stopTimeout, 300);
  assert.equal(parse(0).configuration.stopTimeout, 0);
  for (const bad of [301, -1, 2.5, "10"]) {
    assert.throws(
      () => parse(bad),
      (e: unknown) =>
        e instanceof ValidationError &&
        /services\/web\.json/.test(e.message) &&
        /configuration\.stopTimeout|Configuration\.StopTimeout/i.test(e.message) &&
        /from 0 to 300/.test(e.message),
      `StopTimeout ${bad}`,
    );
  }
});
