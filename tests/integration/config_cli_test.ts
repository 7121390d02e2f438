/**
 * `gru config` through the real command tree (`buildCli` with the real composition root) against
 * a real etcd: import the demo into a fresh cluster, export it back (round trip), read raw keys,
 * and check that a rejected import writes nothing.
 */

import assert from "node:assert/strict";
import { buildCli } from "../../src/cli/mod.ts";
import { ExitError, memoryOutput } from "../../src/cli/context.ts";
import { realCliDeps } from "../../src/app/mod.ts";
import { ClusterStore } from "../../src/cluster/cluster_store.ts";
import { EtcdKvStore } from "../../src/adapters/etcd/etcd_kv_store.ts";
import { loadConfigDir } from "../../src/adapters/fs/config_dir.ts";
import { NotFoundError } from "../../src/domain/errors.ts";
import { etcdEndpoints, testRunId } from "../helpers/env.ts";

const ROOT = `${import.meta.dirname}/../..`;
const DEMO = `${ROOT}/examples/demo`;
const INVALID = `${ROOT}/tests/fixtures/config/invalid`;

/** Runs `gru --etcd … <args>` in process; returns the exit code as main.ts would see it. */
async function gru(...args: string[]) {
  const output = memoryOutput();
  const deps = { ...realCliDeps(output), configureLogging: () => Promise.resolve() };
  const program = buildCli(deps);
  let code = 0;
  let error: unknown;
  try {
    await program.parseAsync(["--etcd", etcdEndpoints().join(","), ...args], { from: "user" });
  } catch (err) {
    error = err;
    code = err instanceof ExitError ? err.exitCode : 1;
  }
  return { code, error, stdout: output.stdout, stderr: output.stderr };
}

async function readTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(sub: string) {
    for await (const e of Deno.readDir(`${dir}/${sub}`)) {
      const rel = sub ? `${sub}/${e.name}` : e.name;
      if (e.isDirectory) await walk(rel);
      else out[rel] = await Deno.readTextFile(`${dir}/${rel}`);
    }
  }
  await walk("");
  return out;
}

Deno.test("gru config: import, export round trip, get, and rejected imports on real etcd", async (t) => {
  const kv = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
  const store = new ClusterStore(kv);
  const cluster = `cfg-${testRunId()}-${crypto.randomUUID().slice(0, 8)}`;
  const tmp = await Deno.makeTempDir({ prefix: "gru-config-it-" });
  try {
    await store.createCluster(cluster, { uuid: crypto.randomUUID(), token: "secret" });

    await t.step("validate runs offline through the whole command tree", async () => {
      const ok = await gru("config", "validate", DEMO);
      assert.equal(ok.code, 0);
      assert.match(ok.stdout.at(-1) ?? "", /is valid \(config, policy, 2 services, 1 analytic;/);
      const bad = await gru("config", "validate", `${INVALID}/descending_port_range`);
      assert.equal(bad.code, 2);
      assert.equal(bad.stdout.length, 5);
    });

    await t.step("import writes the demo in one transaction", async () => {
      const r = await gru("config", "import", cluster, DEMO);
      assert.equal(r.code, 0, String(r.error));
      assert.deepEqual(r.stdout, [
        `Imported config, policy, 2 services, 1 analytic into cluster "${cluster}"`,
      ]);
      const config = await store.getConfig(cluster);
      assert.equal(config.autonomic.loopTimeInterval, 1);
      assert.equal(config.docker.daemonUrl, "default");
      const web = await store.getService(cluster, "web");
      assert.equal(web?.image, "gru-demo/web");
      assert.deepEqual(web?.configuration.ports, { "80": "18080-18089" });
      assert.equal(web?.remote, `/gru/${cluster}/services/web`);
      assert.deepEqual((await store.listAnalytics(cluster)).map((a) => a.name), [
        "resp_time_ratio",
      ]);
    });

    await t.step("export round-trips", async () => {
      const r = await gru("config", "export", cluster, `${tmp}/first`);
      assert.equal(r.code, 0, String(r.error));
      const exported = await loadConfigDir(`${tmp}/first`);
      const demo = await loadConfigDir(DEMO);
      assert.deepEqual(exported.problems, []);
      assert.deepEqual(exported.docs, {
        ...demo.docs,
        services: demo.docs.services?.map((s) => ({
          ...s,
          remote: `/gru/${cluster}/services/${s.name}`,
        })),
      });
      // Re-importing the export and exporting again gives the same files.
      assert.equal((await gru("config", "import", cluster, `${tmp}/first`)).code, 0);
      assert.equal((await gru("config", "export", cluster, `${tmp}/second`)).code, 0);
      assert.deepEqual(await readTree(`${tmp}/second`), await readTree(`${tmp}/first`));
    });

    await t.step("get prints raw entries, JSON pretty-printed", async () => {
      const one = await gru("config", "get", cluster, "config");
      assert.equal(one.code, 0, String(one.error));
      assert.equal(one.stdout.length, 1);
      assert.ok(one.stdout[0]!.startsWith(`/gru/${cluster}/config:\n{\n  "docker": {`));
      assert.match(one.stdout[0]!, /"loopTimeInterval": 1,/);
      const folder = await gru("config", "get", cluster, "services");
      assert.deepEqual(folder.stdout.map((l) => l.split("\n")[0]), [
        `/gru/${cluster}/services/busy:`,
        `/gru/${cluster}/services/web:`,
      ]);
      const all = await gru("config", "get", cluster);
      assert.ok(all.stdout.some((l) => l.startsWith(`/gru/${cluster}/uuid: `)));
      const missing = await gru("config", "get", cluster, "nope");
      assert.equal(missing.code, 1);
    });

    await t.step("a rejected import writes nothing", async () => {
      const before = await store.getRaw(cluster);
      for (const name of ["descending_port_range", "malformed_json", "unknown_analytic"]) {
        const r = await gru("config", "import", cluster, `${INVALID}/${name}`);
        assert.equal(r.code, 2, name);
        assert.ok(r.stderr.length > 0, `${name}: problems are printed`);
      }
      // Valid on its own, but it would delete the analytic the stored "web" service uses.
      await Deno.mkdir(`${tmp}/other/analytics`, { recursive: true });
      await Deno.writeTextFile(
        `${tmp}/other/analytics/load.json`,
        `{ "expr": "q / 10", "metrics": ["q"] }`,
      );
      const r = await gru("config", "import", cluster, `${tmp}/other`);
      assert.equal(r.code, 2);
      assert.deepEqual(r.stderr, [
        `etcd:/gru/${cluster}/services/web: $.analytics[0]: expected the name of a defined analytic (load), found "resp_time_ratio"`,
      ]);
      assert.deepEqual(await store.getRaw(cluster), before);
    });

    await t.step("import into a cluster that does not exist creates nothing", async () => {
      const ghost = `${cluster}-ghost`;
      const r = await gru("config", "import", ghost, DEMO);
      assert.ok(r.error instanceof NotFoundError, String(r.error));
      assert.deepEqual(await kv.getPrefix(`/gru/${ghost}/`), []);
    });
  } finally {
    await kv.deletePrefix(`/gru/${cluster}/`);
    await kv.close();
    await Deno.remove(tmp, { recursive: true });
  }
});
