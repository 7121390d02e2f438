import assert from "node:assert/strict";
import { configCommand } from "./config.ts";
import { type CliDeps, ExitError, memoryOutput } from "../context.ts";
import { ClusterStore } from "../../cluster/cluster_store.ts";
import { MemoryKvStore } from "../../adapters/memory/memory_kv_store.ts";
import type { KvStore } from "../../ports/kv_store.ts";
import { loadConfigDir, writeConfigDir } from "../../adapters/fs/config_dir.ts";
import { cliDeps, runCommand, sharedStore } from "./_testing.ts";

const ROOT = `${import.meta.dirname}/../../..`;
const FIXTURES = `${ROOT}/tests/fixtures/config`;
const DEMO = `${ROOT}/examples/demo`;
const UPDATE = Deno.env.get("UPDATE_GOLDEN") === "1";

interface Harness {
  deps: CliDeps;
  out: ReturnType<typeof memoryOutput>;
  opened: number;
  closed: number;
}

/** Deps whose store is `kv` (shared across commands; `close` is only counted). */
function harness(kv?: KvStore): Harness {
  const out = memoryOutput();
  const h: Harness = {
    out,
    opened: 0,
    closed: 0,
    deps: cliDeps("gru config", out, {
      openStore: () => {
        if (!kv) throw new Error("The store must not be opened");
        h.opened++;
        return Promise.resolve(sharedStore(kv, () => h.closed++));
      },
      loadConfigDir,
      writeConfigDir,
    }),
  };
  return h;
}

async function run(h: Harness, ...args: string[]): Promise<void> {
  await runCommand(configCommand(h.deps), ["config", ...args]);
}

async function exitCode(promise: Promise<void>): Promise<number> {
  try {
    await promise;
    return 0;
  } catch (err) {
    if (err instanceof ExitError) return err.exitCode;
    throw err;
  }
}

async function subdirs(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.isDirectory) names.push(e.name);
  return names.sort();
}

async function readGolden(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

Deno.test("config validate prints every problem of each invalid fixture (golden) and exits 2", async (t) => {
  const cases = await subdirs(`${FIXTURES}/invalid`);
  assert.ok(cases.length >= 8, "at least the eight required cases");
  for (const name of cases) {
    await t.step(name, async () => {
      const dir = `${FIXTURES}/invalid/${name}`;
      const h = harness();
      let error: unknown;
      try {
        await run(h, "validate", dir);
      } catch (err) {
        error = err;
      }
      assert.ok(error instanceof ExitError, "validate fails");
      assert.equal(error.exitCode, 2);
      assert.match(error.message, /^Invalid configuration in .*: \d+ errors?, \d+ warnings?/);
      const text = h.out.stdout.join("\n") + "\n";
      if (UPDATE) await Deno.writeTextFile(`${dir}/expected.txt`, text);
      assert.equal(text, await Deno.readTextFile(`${dir}/expected.txt`));
      assert.equal(h.opened, 0, "validate never opens the store");
    });
  }
});

Deno.test("config validate accepts the valid fixtures and the examples", async (t) => {
  const dirs = [
    ...(await subdirs(`${FIXTURES}/valid`)).map((n) => `${FIXTURES}/valid/${n}`),
    `${ROOT}/examples/original`,
    `${ROOT}/examples/promql`,
    `${ROOT}/examples/target-tracking`,
    `${ROOT}/examples/schedules`,
    DEMO,
  ];
  for (const dir of dirs) {
    await t.step(dir.slice(ROOT.length + 1), async () => {
      const h = harness();
      await run(h, "validate", dir);
      const lines = h.out.stdout;
      assert.match(
        lines.at(-1) ?? "",
        /^Configuration in .* is valid \(.*; 0 errors, \d+ warnings?\)$/,
      );
      const problems = lines.slice(0, -1).map((l) => l + "\n").join("");
      const golden = `${dir}/expected.txt`;
      if (UPDATE && problems !== "") await Deno.writeTextFile(golden, problems);
      assert.equal(problems, (await readGolden(golden)) ?? "");
    });
  }
  const h = harness();
  await run(h, "validate", DEMO);
  assert.deepEqual(h.out.stdout, [
    `Configuration in ${DEMO} is valid (config, policy, 2 services, 1 analytic; 0 errors, 0 warnings)`,
  ]);
});

Deno.test("config import refuses an invalid directory without opening the store", async () => {
  const h = harness();
  const code = await exitCode(run(h, "import", "c1", `${FIXTURES}/invalid/bad_memory`));
  assert.equal(code, 2);
  assert.equal(h.opened, 0);
  assert.equal(h.out.stderr.length, 3, "one line per problem");
});

Deno.test("config import, get and export work on a store and close it every time", async () => {
  const kv = await MemoryKvStore.open();
  const tmp = await Deno.makeTempDir({ prefix: "gru-config-cli-" });
  try {
    await new ClusterStore(kv).createCluster("c1", { uuid: "u1", token: "t1" });
    const h = harness(kv);

    await run(h, "import", "c1", DEMO);
    assert.deepEqual(h.out.stdout, [
      `Imported config, policy, 2 services, 1 analytic into cluster "c1"`,
    ]);
    const stored = JSON.parse((await kv.get("/gru/c1/services/web"))!);
    assert.equal(stored.remote, "/gru/c1/services/web");
    assert.equal(stored.configuration.memory, "64m");

    h.out.stdout.length = 0;
    await run(h, "get", "c1", "services/busy");
    assert.equal(h.out.stdout.length, 1);
    assert.ok(h.out.stdout[0]!.startsWith(`/gru/c1/services/busy:\n{\n  "name": "busy",`));
    h.out.stdout.length = 0;
    await run(h, "get", "c1", "uuid");
    assert.deepEqual(h.out.stdout, ["/gru/c1/uuid: u1"]);
    h.out.stdout.length = 0;
    await run(h, "get", "c1");
    assert.ok(h.out.stdout.length >= 7, "the whole tree");
    assert.ok(h.out.stdout.includes("/gru/c1/token: <hidden: gru token show>"), "token hidden");
    assert.ok(!h.out.stdout.some((l) => l.includes("t1")), "no token value in a listing");
    h.out.stdout.length = 0;
    await run(h, "get", "c1", "token");
    assert.deepEqual(h.out.stdout, ["/gru/c1/token: t1"], "asked for by name");
    assert.equal(await exitCode(run(h, "get", "c1", "services/nope")), 1);

    h.out.stdout.length = 0;
    await run(h, "export", "c1", `${tmp}/out`);
    assert.deepEqual(h.out.stdout, [
      `Exported config, policy, 2 services, 1 analytic of cluster "c1" to ${tmp}/out (5 files)`,
    ]);
    const exported = await loadConfigDir(`${tmp}/out`);
    const original = await loadConfigDir(DEMO);
    assert.deepEqual(exported.problems, []);
    assert.deepEqual(exported.docs, {
      ...original.docs,
      services: original.docs.services?.map((s) => ({
        ...s,
        remote: `/gru/c1/services/${s.name}`,
      })),
    });
    assert.equal(h.opened, 7);
    assert.equal(h.closed, h.opened, "every command closes its store");
  } finally {
    await kv.close();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("config import checks references against what the cluster will hold", async () => {
  const kv = await MemoryKvStore.open();
  const tmp = await Deno.makeTempDir({ prefix: "gru-config-cli-" });
  try {
    await new ClusterStore(kv).createCluster("c2", { uuid: "u2", token: "t2" });
    const h = harness(kv);
    await run(h, "import", "c2", DEMO);
    const before = await kv.getPrefix("/gru/c2/");

    // An analytics/ directory without resp_time_ratio would delete the one "web" uses.
    await Deno.mkdir(`${tmp}/analytics`, { recursive: true });
    await Deno.writeTextFile(
      `${tmp}/analytics/other.json`,
      `{ "expr": "x / 2", "metrics": ["x"] }`,
    );
    h.out.stderr.length = 0;
    assert.equal(await exitCode(run(h, "import", "c2", tmp)), 2);
    assert.deepEqual(h.out.stderr, [
      `etcd:/gru/c2/services/web: $.analytics[0]: expected the name of a defined analytic (other), found "resp_time_ratio"`,
    ]);
    assert.deepEqual(await kv.getPrefix("/gru/c2/"), before, "nothing was written");

    // A service using a stored analytic is fine; one using an unknown analytic is not.
    await Deno.remove(`${tmp}/analytics`, { recursive: true });
    await Deno.mkdir(`${tmp}/services`);
    await Deno.writeTextFile(
      `${tmp}/services/api.json`,
      `{ "image": "gru-demo/api", "remote": "/gru/elsewhere/services/api",
         "analytics": ["resp_time_ratio"], "constraints": { "MAX_RESP_TIME": 1 } }`,
    );
    h.out.stderr.length = 0;
    await run(h, "import", "c2", tmp);
    assert.deepEqual(h.out.stderr, [
      `Service "api": remote "/gru/elsewhere/services/api" replaced by "/gru/c2/services/api"`,
    ]);
    assert.deepEqual(
      (await kv.getPrefix("/gru/c2/services/")).map((e) => e.key),
      ["/gru/c2/services/api"],
      "services/ is mirrored",
    );
    await Deno.writeTextFile(`${tmp}/services/api.json`, `{ "image": "a", "analytics": ["nope"] }`);
    assert.equal(await exitCode(run(h, "import", "c2", tmp)), 2);
    assert.equal(h.closed, h.opened);
  } finally {
    await kv.close();
    await Deno.remove(tmp, { recursive: true });
  }
});
