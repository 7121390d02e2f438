/**
 * Bad input against a real agent process (real etcd, real engine): user-metric names that are
 * too long or carry control characters are refused with a short, escaped excerpt and never
 * stored; a flood of distinct names stops at the per-service bound; and an `Env` entry with an
 * empty value never copies the agent's credentials into a container.
 */

import assert from "node:assert/strict";
import { gru, type GruProcess, loopbackAgent } from "../helpers/gru_process.ts";
import { etcdEndpoints, testRunId } from "../helpers/env.ts";
import { removeRunContainers } from "../helpers/docker.ts";
import { waitFor } from "../helpers/agent.ts";
import { EtcdKvStore } from "../../src/adapters/etcd/etcd_kv_store.ts";
import { freePort } from "../helpers/net.ts";

/** The value of an unlabelled (or `labels`-matching) sample of `name` in Prometheus text. */
function sample(text: string, name: string, labels = ""): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.split(" ").at(-1));
}

Deno.test("bad input: metric names and Env copies against a real agent", async (t) => {
  const run = testRunId();
  const cluster = `badin-${run}`;
  const env = { ETCD_ADDR: etcdEndpoints().join(",") };
  const tmp = await Deno.makeTempDir({ prefix: "gru-badin-" });
  const port = freePort();
  let agent: GruProcess | undefined;
  try {
    assert.equal((await gru(["create", cluster], { env })).code, 0);
    await Deno.mkdir(`${tmp}/conf/services`, { recursive: true });
    await Deno.writeTextFile(
      `${tmp}/conf/services/web.json`,
      JSON.stringify({
        Name: "web",
        Image: "gru-test/busybox",
        Configuration: {
          cpunumber: 1,
          cmd: ["sleep", "600"],
          Env: {
            TZ: "",
            ETCD_USERNAME: "",
            GRU_SECRET_THING: "",
            DB_PASSWORD: "",
            SERVICE_TOKEN: "",
            ETCD_ADDR: "",
            GIVEN: "by-descriptor",
          },
        },
      }),
    );
    const imp = await gru(["config", "import", cluster, `${tmp}/conf`], { env });
    assert.equal(imp.code, 0, imp.stderr);
    agent = loopbackAgent({
      cluster,
      name: "b1",
      port,
      stateDir: tmp,
      run,
      ttl: 3,
      env: {
        ...env,
        TZ: "Europe/Rome",
        ETCD_USERNAME: "etcd-user-value",
        GRU_SECRET_THING: "gru-secret-value",
        DB_PASSWORD: "db-password-value",
        SERVICE_TOKEN: "service-token-value",
      },
    });
    const base = `http://127.0.0.1:${port}/gru/v1`;
    await waitFor(
      () =>
        fetch(`${base}/health`).then(async (r) => (await r.json()).registered === true)
          .catch(() => false),
      30_000,
      () => agent!.log.slice(-800),
    );
    const kv = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
    const token = await kv.get(`/gru/${cluster}/token`).finally(() => kv.close());
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const push = (metric: string, values: unknown[] = [1]) =>
      fetch(`${base}/stats/user/web/${encodeURIComponent(metric)}`, {
        method: "POST",
        headers,
        body: JSON.stringify({ values }),
      });
    const metrics = async () => {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers });
      return await res.text();
    };

    await t.step(
      "oversized and control-character names are 400s quoting a short excerpt",
      async () => {
        for (
          const name of ["x".repeat(5000), "rt\nINFO forged line", "a\u001b[2Jb", "5xx", "a b"]
        ) {
          const res = await push(name);
          assert.equal(res.status, 400, name.slice(0, 20));
          const body = await res.json();
          const message: string = body.error.message;
          assert.match(message, /^Invalid metric name "/);
          assert.ok(message.length <= 200, `short message: ${message.length}`);
          assert.ok(!message.includes("x".repeat(81)), "at most an 80-character excerpt");
          // deno-lint-ignore no-control-regex
          assert.doesNotMatch(message, /[\u0000-\u001f]/, "control characters escaped");
        }
        const text = await metrics();
        assert.equal(sample(text, "gru_user_metrics_refused_total", '{reason="name"}'), 5);
        assert.equal(sample(text, "gru_user_metrics"), 0, "nothing stored");
        assert.ok(!agent!.log.includes("\nINFO forged line"), "no forged log line");
      },
    );

    await t.step("a flood of distinct names stops at 64 per service", async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 80; i++) {
        const res = await push(`flood_${i}`);
        statuses.push(res.status);
        await res.body?.cancel();
      }
      assert.equal(statuses.filter((s) => s === 200).length, 64);
      assert.equal(statuses.filter((s) => s === 400).length, 16);
      const refused = await push("one_more");
      assert.equal(refused.status, 400);
      assert.match((await refused.json()).error.message, /has 64 user metrics already/);
      // known metrics still take values
      const known = await push("flood_0", [2]);
      assert.equal(known.status, 200);
      await known.body?.cancel();
      const text = await metrics();
      assert.equal(sample(text, "gru_user_metrics"), 64);
      assert.equal(sample(text, "gru_user_metrics_refused_total", '{reason="limit"}'), 17);
    });

    await t.step("an empty Env value copies the agent's variable, never a credential", async () => {
      const started = await fetch(`${base}/services/web/instances`, { method: "POST", headers });
      assert.equal(started.status, 201, await started.clone().text());
      await started.body?.cancel();
      const ps = await new Deno.Command("docker", {
        args: ["ps", "-q", "--filter", `label=gru.test-run=${run}`],
        stdout: "piped",
      }).output();
      const ids = new TextDecoder().decode(ps.stdout).trim().split("\n").filter(Boolean);
      assert.equal(ids.length, 1);
      const inspect = await new Deno.Command("docker", {
        args: ["inspect", "--format", "{{json .Config.Env}}", ids[0]!],
        stdout: "piped",
      }).output();
      const containerEnv = JSON.parse(new TextDecoder().decode(inspect.stdout)) as string[];
      const has = (entry: string) => containerEnv.includes(entry);
      assert.ok(has("TZ=Europe/Rome"), containerEnv.join(" "));
      assert.ok(has("GIVEN=by-descriptor"));
      assert.ok(has(`ETCD_ADDR=${env.ETCD_ADDR}`));
      for (const name of ["ETCD_USERNAME", "GRU_SECRET_THING", "DB_PASSWORD", "SERVICE_TOKEN"]) {
        assert.ok(has(`${name}=`), `${name} stays empty`);
      }
      const joined = containerEnv.join("\n");
      for (const secret of ["etcd-user-value", "gru-secret-value", "db-password-value"]) {
        assert.ok(!joined.includes(secret), secret);
      }
      assert.ok(!joined.includes("service-token-value"));
    });
  } finally {
    await agent?.stop("SIGKILL");
    await removeRunContainers(run);
    const kv = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
    await kv.deletePrefix(`/gru/${cluster}/`).finally(() => kv.close());
    await Deno.remove(tmp, { recursive: true });
  }
});
