import assert from "node:assert/strict";
import { loadConfigDir, readConfigListing, writeConfigDir } from "./config_dir.ts";
import { formatProblem } from "../../config/problem.ts";

const ROOT = `${import.meta.dirname}/../../..`;
const EXAMPLES = `${ROOT}/examples`;
const FIXTURES = `${ROOT}/tests/fixtures/config`;

function tempDir(_t: Deno.TestContext): Promise<string> {
  return Deno.makeTempDir({ prefix: "gru-config-" });
}

Deno.test("loadConfigDir() loads the original README's files unchanged", async () => {
  const { docs, problems } = await loadConfigDir(`${EXAMPLES}/original`);
  assert.deepEqual(problems.map(formatProblem), []);
  assert.equal(docs.config?.docker.daemonUrl, "local:2375");
  assert.equal(docs.config?.autonomic.loopTimeInterval, 60);
  assert.equal(docs.config?.communication.maxFriends, 5);
  assert.deepEqual(docs.config?.metric.configuration, {
    Url: "http://localhost:8086",
    DbName: "gru",
    Username: "gru",
    Password: "gru",
  });
  assert.equal(docs.config?.discovery.ttl, 5);
  assert.deepEqual(docs.policy?.scaleout, {
    enable: true,
    threshold: 0.75,
    metrics: ["cpu_avg"],
    analytics: ["resp_time_ratio"],
    dryRun: false,
  });
  assert.deepEqual(docs.analytics, [{
    name: "resp_time_ratio",
    expr: "execution_time / MAX_RESP_TIME",
    metrics: ["execution_time"],
    constraints: ["MAX_RESP_TIME"],
  }]);
  const [service1] = docs.services ?? [];
  assert.equal(docs.services?.length, 1);
  assert.equal(service1?.discoveryPort, "50000");
  assert.equal(service1?.configuration.cpuNumber, 1);
  assert.equal(service1?.configuration.stopTimeout, 30);
  assert.deepEqual(service1?.configuration.ports, { "50000": "50000-50004" });
  assert.equal(service1?.configuration.env.ETCD_ADDR, "");
});

Deno.test("loadConfigDir() loads the demo", async () => {
  const { docs, problems } = await loadConfigDir(`${EXAMPLES}/demo`);
  assert.deepEqual(problems.map(formatProblem), []);
  assert.equal(docs.config?.autonomic.loopTimeInterval, 1);
  assert.equal(docs.config?.docker.daemonUrl, "default");
  assert.deepEqual(docs.services?.map((s) => s.name), ["busy", "web"]);
  const web = docs.services?.find((s) => s.name === "web");
  assert.equal(web?.image, "gru-demo/web");
  assert.deepEqual(web?.configuration.ports, { "80": "18080-18089" });
  assert.equal(web?.configuration.memory, "64m");
  assert.deepEqual(web?.constraints, { MAX_RESP_TIME: 200 });
  const busy = docs.services?.find((s) => s.name === "busy");
  assert.deepEqual(busy?.configuration.cmd, ["sh", "-c", "while :; do :; done"]);
  assert.equal(docs.policy?.scaleout.enable, true);
  assert.equal(docs.policy?.scalein.enable, true);
  assert.equal(docs.policy?.swap.enable, false);
  assert.equal(docs.analytics?.[0]?.expr, "response_time / MAX_RESP_TIME");
});

Deno.test("loadConfigDir() collects the problems of every file", async () => {
  const { docs, problems } = await loadConfigDir(`${FIXTURES}/invalid/many_files`);
  assert.deepEqual([...new Set(problems.map((p) => p.file))], [
    "config.json",
    "policy.json",
    "services/a.json",
    "services/b.json",
    "analytics/x.json",
  ]);
  assert.equal(docs.config, undefined);
  assert.deepEqual(docs.services, [], "services/ is present, so the (empty) set is mirrored");
});

Deno.test("readConfigListing() reads the document files only; loadConfigDir() names them", async (t) => {
  const dir = await tempDir(t);
  try {
    await Deno.mkdir(`${dir}/services/nested`, { recursive: true });
    await Deno.mkdir(`${dir}/policy.json`);
    await Deno.writeTextFile(`${dir}/services/web.json`, `{ "image": "a" }`);
    await Deno.writeTextFile(`${dir}/services/other.json`, `{ "NAME": "web", "image": "b" }`);
    await Deno.writeTextFile(`${dir}/services/notes.md`, `hello`);
    await Deno.writeTextFile(`${dir}/services/nested/deep.json`, `{}`);
    await Deno.writeTextFile(`${dir}/unrelated.json`, `{}`);
    const listing = await readConfigListing(dir);
    assert.equal(listing.kind, "directory");
    assert.deepEqual([...listing.entries.keys()], [
      "policy.json",
      "services",
      "services/nested",
      "services/notes.md",
      "services/other.json",
      "services/web.json",
    ]);
    assert.deepEqual(listing.entries.get("services/web.json"), {
      kind: "file",
      text: `{ "image": "a" }`,
    });
    assert.deepEqual(listing.entries.get("services/notes.md"), { kind: "file" });
    assert.deepEqual(listing.entries.get("policy.json"), { kind: "directory" });
    const { docs, problems } = await loadConfigDir(dir);
    // Files load in name order: other.json claims "web" before web.json does.
    assert.deepEqual(docs.services?.map((s) => [s.name, s.image]), [["web", "b"]]);
    assert.deepEqual(problems.map(formatProblem), [
      "policy.json: $: expected a JSON file, found a directory",
      "services/nested: $: warning: expected a service file named <name>.json, found a directory (ignored)",
      `services/notes.md: $: warning: expected a service file named <name>.json, found "notes.md" (ignored)`,
      `services/web.json: $.name: expected a service name used by no other file, found "web" (services/other.json defines it too)`,
    ]);
    assert.deepEqual((await readConfigListing(`${dir}/services/web.json`)).kind, "file");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadConfigDir() leaves absent parts undefined and reports a missing directory", async (t) => {
  const dir = await tempDir(t);
  try {
    await Deno.writeTextFile(`${dir}/policy.json`, `{}`);
    const { docs, problems } = await loadConfigDir(dir);
    assert.deepEqual(problems, []);
    assert.deepEqual(Object.keys(docs), ["policy"]);
    const missing = await loadConfigDir(`${dir}/nope`);
    assert.deepEqual(missing.problems.map((p) => p.message), [
      "expected a configuration directory, found nothing",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadConfigDir({ crossCheck: false }) skips the expression checks", async () => {
  const dir = `${FIXTURES}/invalid/unknown_symbol`;
  assert.equal((await loadConfigDir(dir)).problems.length, 2);
  assert.deepEqual((await loadConfigDir(dir, { crossCheck: false })).problems, []);
});

Deno.test("writeConfigDir() writes what loadConfigDir() reads back, and prunes stale files", async (t) => {
  const dir = await tempDir(t);
  try {
    const { docs } = await loadConfigDir(`${EXAMPLES}/demo`);
    await Deno.mkdir(`${dir}/services`, { recursive: true });
    await Deno.writeTextFile(`${dir}/services/stale.json`, `{ "image": "old" }`);
    await Deno.writeTextFile(`${dir}/services/keep.txt`, `not json`);
    const written = await writeConfigDir(dir, docs);
    assert.deepEqual(written, [
      "config.json",
      "policy.json",
      "services/busy.json",
      "services/web.json",
      "analytics/resp_time_ratio.json",
    ]);
    const back = await loadConfigDir(dir);
    assert.deepEqual(back.docs, docs);
    assert.equal(back.problems.filter((p) => p.severity === "error").length, 0);
    const text = await Deno.readTextFile(`${dir}/services/web.json`);
    assert.equal(text, JSON.stringify(docs.services?.[1], null, 2) + "\n");
    assert.ok(text.startsWith(`{\n  "name": "web",`));
    const names = [];
    for await (const e of Deno.readDir(`${dir}/services`)) names.push(e.name);
    assert.deepEqual(names.sort(), ["busy.json", "keep.txt", "web.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
