/**
 * Issue #2's path end to end, with the real CLI (subprocesses), a real etcd and a real dockerd:
 * create → import → two agents join → list nodes → start service (labelled container with
 * its port and cpuset, answering HTTP) → stop service → a killed agent's node vanishes within
 * the lease TTL → a stopped agent leaves its containers running. Plus bad input.
 */

import assert from "node:assert/strict";
import { gru, GruProcess } from "../helpers/gru_process.ts";
import { etcdEndpoints, testRunId } from "../helpers/env.ts";
import { removeRunContainers, testRuntime } from "../helpers/docker.ts";
import { eventually } from "../contract/kv_store_contract.ts";
import { EtcdKvStore } from "../../src/adapters/etcd/etcd_kv_store.ts";
import {
  LABEL_CLUSTER,
  LABEL_NODE,
  LABEL_SERVICE,
  LABEL_TEST_RUN,
} from "../../src/domain/model.ts";
import { freePort } from "../helpers/net.ts";

async function writeConfigDir(dir: string) {
  await Deno.mkdir(`${dir}/services`, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/config.json`,
    `{ // the original's key casing
      "Docker": { "DaemonUrl": "default", "DaemonTimeout": 10 },
      "Autonomic": { "LoopTimeInterval": 1, "PlannerStrategy": "probdelta" },
      "Communication": { "LoopTimeInterval": 1, "MaxFriends": 2 },
      "Storage": { "StorageService": "internal" },
      "Discovery": { "AppRoot": "app/flow/services", "TTL": 5 }
    }`,
  );
  await Deno.writeTextFile(
    `${dir}/services/web.json`,
    JSON.stringify({
      Name: "web",
      Type: "webserver",
      Image: "gru-demo/web",
      DiscoveryPort: "80",
      Configuration: { cpunumber: 1, memory: "32m", ports: { "80": "28080-28089" } },
    }),
  );
}

Deno.test("cluster flow: create, import, join two agents, start/stop service, node expiry", async (t) => {
  const run = testRunId();
  const cluster = `flow-${run}`;
  const etcd = etcdEndpoints().join(",");
  const env = { ETCD_ADDR: etcd };
  const tmp = await Deno.makeTempDir({ prefix: "gru-flow-" });
  const agents: GruProcess[] = [];
  const ttl = 3;
  try {
    await t.step("create prints <cluster>:<uuid> and refuses a second time", async () => {
      const r = await gru(["create", cluster], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout.trim(), new RegExp(`^${cluster}:[0-9a-f]{32}$`));
      const again = await gru(["create", cluster], { env });
      assert.equal(again.code, 1);
      assert.match(again.stderr, /already exists/);
      assert.equal(again.stdout.trim(), "");
    });

    await t.step("config import writes the documents", async () => {
      await writeConfigDir(`${tmp}/conf`);
      const r = await gru(["config", "import", cluster, `${tmp}/conf`], { env });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const get = await gru(["config", "get", cluster, "services/web"], { env });
      assert.equal(get.code, 0, get.stderr);
      assert.match(get.stdout, /gru-demo\/web/);
    });

    const ports = [freePort(), freePort()];
    await t.step("two agents join and list nodes shows both", async () => {
      for (const [i, name] of ["n1", "n2"].entries()) {
        const state = `${tmp}/${name}.json`;
        const j = await gru([
          "join",
          cluster,
          "--name",
          name,
          "--address",
          "127.0.0.1",
          "--port",
          String(ports[i]),
          "--state",
          state,
          "--register-only",
        ], { env });
        assert.equal(j.code, 0, j.stderr);
        assert.match(j.stdout, new RegExp(`Joined cluster ${cluster} as node ${name}`));
        agents.push(
          new GruProcess([
            "agent",
            "--state",
            state,
            "--ttl",
            String(ttl),
            "--listen",
            "127.0.0.1",
            "--label",
            `${LABEL_TEST_RUN}=${run}`,
          ], env),
        );
      }
      await eventually(async () => {
        const r = await gru(["manage"], { env, stdin: `use ${cluster}\nlist nodes\n` });
        return r.stdout.includes("n1") && r.stdout.includes("n2") &&
          r.stdout.includes(`127.0.0.1:${ports[0]}`);
      }, 30_000).catch((err) => {
        throw new Error(`${err.message}\nagent logs:\n${agents.map((a) => a.log).join("\n")}`);
      });
      // `join --register-only` lists the node for one lease TTL before its agent runs: wait
      // until the agent itself answers healthy and registered.
      let last = "";
      await eventually(async () => {
        const health = await fetch(`http://127.0.0.1:${ports[0]}/gru/v1/health`).catch(() =>
          undefined
        );
        if (!health) return false;
        last = await health.text();
        return health.status === 200 && JSON.parse(last).registered === true;
      }, 30_000).catch((err) => {
        throw new Error(`${err.message}\nlast /health: ${last}`);
      });
    });

    await t.step("join refuses a name held by a live node and changes nothing", async () => {
      const r = await gru([
        "join",
        cluster,
        "--name",
        "n1",
        "--address",
        "127.0.0.1",
        "--port",
        "1",
        "--state",
        `${tmp}/intruder.json`,
        "--register-only",
      ], { env });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /Node name "n1" is held by a live node/);
      await assert.rejects(Deno.stat(`${tmp}/intruder.json`));
      const kv = await EtcdKvStore.connect({ endpoints: [etcd] });
      const token = await kv.get(`/gru/${cluster}/token`).finally(() => kv.close());
      const health = await fetch(`http://127.0.0.1:${ports[0]}/gru/v1/node`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal((await health.json()).config.address, `http://127.0.0.1:${ports[0]}`);
    });

    const rt = testRuntime();
    const labels = { [LABEL_CLUSTER]: cluster, [LABEL_NODE]: "n1", [LABEL_SERVICE]: "web" };
    await t.step(
      "start service web node n1 runs a labelled container with port and cpuset",
      async () => {
        const r = await gru(["manage"], {
          env,
          stdin: `use ${cluster}\nstart service web node n1\n`,
        });
        assert.equal(r.code, 0, r.stderr);
        const cs = await rt.list(labels);
        assert.equal(cs.length, 1, r.stdout + r.stderr);
        const d = await rt.inspect(cs[0]!.id);
        assert.equal(d.labels[LABEL_TEST_RUN], run);
        assert.equal(d.state, "running");
        assert.match(d.cpusetCpus, /^\d+$/);
        const host = d.portBindings["80/tcp"]?.[0];
        assert.ok(host !== undefined && host >= 28080 && host <= 28089, `host port ${host}`);
        assert.equal(d.memory, 32 * 1024 * 1024);
        await eventually(async () => {
          try {
            const res = await fetch(`http://127.0.0.1:${host}/`);
            return res.ok && (await res.text()).includes("gru demo web");
          } catch {
            return false;
          }
        }, 10_000);
      },
    );

    await t.step("an unknown service is refused by name and starts nothing", async () => {
      const r = await gru(["manage"], {
        env,
        stdin: `use ${cluster}\nstart service nope node n1\n`,
      });
      assert.match(r.stdout + r.stderr, /nope/);
      assert.equal((await rt.list({ [LABEL_CLUSTER]: cluster })).length, 1);
    });

    await t.step("stop service removes the container", async () => {
      const r = await gru(["manage"], { env, stdin: `use ${cluster}\nstop service web node n1\n` });
      assert.equal(r.code, 0, r.stderr);
      assert.equal((await rt.list(labels)).length, 0, r.stdout + r.stderr);
    });

    await t.step("a killed agent's node vanishes from list nodes within the TTL", async () => {
      const killedAt = Date.now();
      await agents[1]!.stop("SIGKILL");
      await eventually(async () => {
        const r = await gru(["manage"], { env, stdin: `use ${cluster}\nlist nodes\n` });
        return r.stdout.includes("n1") && !r.stdout.includes("n2");
      }, (ttl + 10) * 1000);
      const gone = Date.now() - killedAt;
      // The lease expires after the TTL; the poll itself adds a CLI start-up per round.
      assert.ok(gone < (ttl + 8) * 1000, `node vanished after ${gone} ms`);
    });

    await t.step(
      "SIGTERM leaves at once (lease revoked) and leaves containers running",
      async () => {
        const r = await gru(["manage"], {
          env,
          stdin: `use ${cluster}\nstart service web node n1\n`,
        });
        assert.equal(r.code, 0, r.stderr);
        assert.equal((await rt.list(labels)).length, 1, r.stdout + r.stderr);
        const status = await agents[0]!.stop("SIGTERM");
        assert.equal(status.code, 0, agents[0]!.log);
        const kv = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
        try {
          assert.deepEqual(await kv.getPrefix(`/gru/${cluster}/nodes/`), []);
        } finally {
          await kv.close();
        }
        const left = await rt.list(labels);
        assert.equal(left.length, 1);
        assert.equal(left[0]!.state, "running");
      },
    );
  } finally {
    for (const a of agents) await a.stop("SIGKILL");
    await removeRunContainers(run);
    const kv = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
    await kv.deletePrefix(`/gru/${cluster}/`).finally(() => kv.close());
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("create with etcd down fails with exit 1, names etcd, prints no uuid", async () => {
  const r = await gru(["create", `down-${testRunId()}`, "--etcd", "http://127.0.0.1:1"]);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout.trim(), "");
  assert.match(r.stderr, /Cannot reach etcd at http:\/\/127\.0\.0\.1:1/);
});
