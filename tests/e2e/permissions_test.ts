/**
 * The compiled binary's permissions, exercised. The binary itself cannot be built on every
 * machine (`deno compile` needs the `denort` runtime), so main.ts runs under `deno run` with
 * exactly the flags `deno task compile` bakes in (`binaryRunFlags()`, derived from
 * scripts/compile.ts, never `-A`):
 *
 * - every CLI command a node or an operator runs (tls, create, config, token, join, agent,
 *   manage piped, status) does its real work: an agent registers in etcd, serves its API, starts
 *   and removes a container through dockerd and writes its state files under /tmp;
 * - each permission is needed: without it, a command that uses it fails with exit 1 and an error
 *   naming the refused access (no stack trace), and a path outside the write allow-list is
 *   refused the same way. So a permission the code needs but the compile task lacks fails here.
 */

import assert from "node:assert/strict";
import { binaryRunFlags, gru, GruProcess, type Permissions } from "../helpers/gru_process.ts";
import { etcdEndpoints, testRunId } from "../helpers/env.ts";
import { removeRunContainers, testRuntime } from "../helpers/docker.ts";
import { eventually } from "../contract/kv_store_contract.ts";
import { freePort } from "../helpers/net.ts";
import { EtcdKvStore } from "../../src/adapters/etcd/etcd_kv_store.ts";
import { LABEL_CLUSTER, LABEL_SERVICE, LABEL_TEST_RUN } from "../../src/domain/model.ts";
import { permissionFlags, WRITE_PATHS } from "../../scripts/compile.ts";

const BINARY: Permissions = "binary";

/** The binary's flags without the one that starts with `prefix`. */
function without(prefix: string): string[] {
  const flags = binaryRunFlags();
  const kept = flags.filter((f) => !f.startsWith(prefix));
  assert.equal(kept.length, flags.length - 1, `${prefix} is not among ${flags.join(" ")}`);
  return kept;
}

async function writeConfigDir(dir: string) {
  await Deno.mkdir(`${dir}/services`, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/config.json`,
    JSON.stringify({
      Docker: { DaemonUrl: "default", DaemonTimeout: 10 },
      Autonomic: { LoopTimeInterval: 1, PlannerStrategy: "probdelta" },
      Discovery: { TTL: 3 },
    }),
  );
  await Deno.writeTextFile(
    `${dir}/services/web.json`,
    JSON.stringify({
      Name: "web",
      Type: "webserver",
      Image: "gru-demo/web",
      DiscoveryPort: "80",
      Configuration: { cpunumber: 1, memory: "32m", ports: { "80": "28190-28199" } },
    }),
  );
}

async function health(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/gru/v1/health`, { signal: AbortSignal.timeout(3000) });
  return { status: res.status, body: await res.json() };
}

/** A refused permission: exit 1, the refused access named, no stack trace. */
function assertRefused(r: { code: number; stderr: string; stdout: string }, access: RegExp) {
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, access);
  assert.doesNotMatch(r.stderr, /^\s+at /m, "a stack trace instead of a message");
}

Deno.test("binary permissions: the CLI and an agent do their work under the compiled flags", async (t) => {
  const run = testRunId();
  const cluster = `perm-${run}`;
  const env = { ETCD_ADDR: etcdEndpoints().join(",") };
  const tmp = await Deno.makeTempDir({ prefix: "gru-perm-" });
  assert.ok(tmp.startsWith("/tmp/"), `${tmp} is outside the binary's write allow-list`);
  const ok = async (args: string[], stdin?: string) => {
    const r = await gru(args, { env, stdin, permissions: BINARY });
    assert.equal(r.code, 0, `gru ${args.join(" ")}:\n${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  const agents: GruProcess[] = [];
  const logs = () => agents.map((a) => a.log).join("\n");
  try {
    await t.step("--version, tls ca/cert create (files under /tmp)", async () => {
      assert.match(await ok(["--version"]), /^\d+\.\d+\.\d+/);
      await ok(["tls", "ca", "create", "--dir", `${tmp}/tls`]);
      await ok(["tls", "cert", "create", "--cli", "--dir", `${tmp}/tls`]);
      for (const f of ["gru-ca.pem", "cli.pem", "cli-key.pem"]) await Deno.stat(`${tmp}/tls/${f}`);
    });

    await t.step("create, config validate/import/get/export, token show", async () => {
      assert.match((await ok(["create", cluster])).trim(), new RegExp(`^${cluster}:[0-9a-f]{32}$`));
      await writeConfigDir(`${tmp}/conf`);
      await ok(["config", "validate", `${tmp}/conf`]);
      await ok(["config", "import", cluster, `${tmp}/conf`]);
      assert.match(await ok(["config", "get", cluster, "services/web"]), /gru-demo\/web/);
      await ok(["config", "export", cluster, `${tmp}/export`]);
      assert.match(await Deno.readTextFile(`${tmp}/export/services/web.json`), /gru-demo\/web/);
      assert.match(await ok(["token", "show", cluster, "--reveal"]), /\S{16,}/);
    });

    const port = freePort();
    let address = "";
    await t.step("join --register-only finds the host's address (--allow-sys)", async () => {
      await ok([
        "join",
        cluster,
        "--register-only",
        "--name",
        "n1",
        "--port",
        String(port),
        "--state",
        `${tmp}/n1.json`,
      ]);
      address = JSON.parse(await Deno.readTextFile(`${tmp}/n1.json`)).address;
      assert.match(address, /^\d+\.\d+\.\d+\.\d+$/);
      assert.doesNotMatch(address, /^127\./);
    });

    const url = () => `http://${address}:${port}`;
    await t.step(
      "agent --state (as systemd runs it): etcd, dockerd, API, state files",
      async () => {
        // Listening on the detected address only (not 0.0.0.0), which peers would use.
        agents.push(
          new GruProcess(
            [
              "agent",
              "--state",
              `${tmp}/n1.json`,
              "--listen",
              address,
              "--ttl",
              "3",
              "--label",
              `${LABEL_TEST_RUN}=${run}`,
            ],
            env,
            BINARY,
          ),
        );
        await eventually(async () => {
          try {
            const h = await health(url());
            return h.status === 200 && h.body.registered === true;
          } catch {
            return false;
          }
        }, 30_000).catch((err) => {
          throw new Error(`${err.message}\nagent log:\n${logs()}`);
        });
        await eventually(async () => {
          const r = await gru(["manage"], {
            env,
            stdin: `use ${cluster}\nlist nodes\n`,
            permissions: BINARY,
          });
          return r.stdout.includes("n1") && r.stdout.includes(`${address}:${port}`);
        }, 15_000);
        // The node-state cache beside the identity: written at start under /tmp.
        await Deno.stat(`${tmp}/n1.node-state.json`);
      },
    );

    const rt = testRuntime();
    const labels = { [LABEL_CLUSTER]: cluster, [LABEL_SERVICE]: "web" };
    await t.step("manage (piped) starts and stops a container; status --json", async () => {
      await ok(["manage"], `use ${cluster}\nstart service web node n1\n`);
      const cs = await rt.list(labels);
      assert.equal(cs.length, 1, logs());
      const d = await rt.inspect(cs[0]!.id);
      assert.equal(d.labels[LABEL_TEST_RUN], run);
      assert.equal(d.state, "running");
      const snap = JSON.parse(await ok(["status", "--cluster", cluster, "--json"]));
      assert.deepEqual(snap.nodes.map((n: { name: string }) => n.name), ["n1"]);
      await ok(["manage"], `use ${cluster}\nstop service web node n1\n`);
      assert.equal((await rt.list(labels)).length, 0, logs());
    });

    await t.step("join (foreground) is the agent too, under the same flags", async () => {
      const port2 = freePort();
      agents.push(
        new GruProcess(
          [
            "join",
            cluster,
            "--name",
            "n2",
            "--address",
            "127.0.0.1",
            "--port",
            String(port2),
            "--listen",
            "127.0.0.1",
            "--state",
            `${tmp}/n2.json`,
            "--ttl",
            "3",
            "--label",
            `${LABEL_TEST_RUN}=${run}`,
          ],
          env,
          BINARY,
        ),
      );
      await eventually(async () => {
        try {
          return (await health(`http://127.0.0.1:${port2}`)).body.registered === true;
        } catch {
          return false;
        }
      }, 30_000).catch((err) => {
        throw new Error(`${err.message}\nagent log:\n${logs()}`);
      });
      await Deno.stat(`${tmp}/n2.json`);
    });

    await t.step("no permission was refused; SIGTERM leaves cleanly", async () => {
      for (const a of agents) assert.equal((await a.stop("SIGTERM")).code, 0, a.log);
      assert.doesNotMatch(logs(), /NotCapable|Requires \w+ access/);
    });
  } finally {
    for (const a of agents) await a.stop("SIGKILL");
    await removeRunContainers(run);
    const kv = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
    await kv.deletePrefix(`/gru/${cluster}/`).finally(() => kv.close());
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("binary permissions: each one is needed, and a refused one fails clearly", async (t) => {
  const run = testRunId();
  const cluster = `permneg-${run}`;
  const env = { ETCD_ADDR: etcdEndpoints().join(",") };
  const tmp = await Deno.makeTempDir({ prefix: "gru-perm-" });
  const outside = await Deno.makeTempDir({ dir: "/var/tmp", prefix: "gru-perm-" });
  assert.ok(!WRITE_PATHS.some((p) => `${outside}/`.startsWith(`${p}/`)), outside);
  const agents: GruProcess[] = [];
  try {
    const created = await gru(["create", cluster], { env, permissions: BINARY });
    assert.equal(created.code, 0, created.stderr);
    await writeConfigDir(`${tmp}/conf`);
    // The table covers every flag the compile task grants: a new one needs a case here.
    const cases: Record<string, { args: string[]; refused: RegExp }> = {
      "--allow-net": { args: ["create", `${cluster}x`], refused: /Requires net access to "/ },
      "--allow-read": {
        args: ["config", "validate", `${tmp}/conf`],
        refused: /Requires read access to "/,
      },
      "--allow-write": {
        args: ["tls", "ca", "create", "--dir", `${tmp}/tls`],
        refused: /Requires write access to "\/tmp\//,
      },
      "--allow-env": { args: ["create", `${cluster}x`], refused: /Requires env access to "/ },
      // The agent finds its address in the network interfaces when none is given.
      "--allow-sys": {
        args: ["agent", "--cluster", cluster, "--name", "s1", "--state", `${tmp}/s1.json`],
        refused: /Requires sys access to "networkInterfaces": not permitted to gru/,
      },
    };
    assert.deepEqual(
      Object.keys(cases).sort(),
      permissionFlags().map((f) => f.replace(/=.*/, "")).sort(),
    );
    for (const [flag, c] of Object.entries(cases)) {
      await t.step(`without ${flag}: gru ${c.args.slice(0, 2).join(" ")} fails`, async () => {
        const r = await gru(c.args, { env, permissions: without(flag) });
        assertRefused(r, c.refused);
      });
    }
    await t.step("nothing was done by the refused commands", async () => {
      const kv = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
      try {
        assert.equal(await kv.get(`/gru/${cluster}x/uuid`), undefined);
        assert.deepEqual(await kv.getPrefix(`/gru/${cluster}/nodes/`), []);
      } finally {
        await kv.close();
      }
      await assert.rejects(Deno.stat(`${tmp}/tls`));
    });

    await t.step("join --register-only with a state file outside the allow-list", async () => {
      const state = `${outside}/node.json`;
      const r = await gru([
        "join",
        cluster,
        "--register-only",
        "--name",
        "s2",
        "--address",
        "127.0.0.1",
        "--port",
        String(freePort()),
        "--state",
        state,
      ], { env, permissions: BINARY });
      assertRefused(r, new RegExp(`Requires write access to "${outside}`));
      await assert.rejects(Deno.stat(state));
    });

    await t.step("an agent that may not write the Docker socket says so on /health", async () => {
      const port = freePort();
      const flags = without("--allow-write");
      flags.push(`--allow-write=${WRITE_PATHS.filter((p) => !p.endsWith("/run")).join(",")}`);
      const agent = new GruProcess(
        [
          "agent",
          "--cluster",
          cluster,
          "--name",
          "s3",
          "--address",
          "127.0.0.1",
          "--port",
          String(port),
          "--listen",
          "127.0.0.1",
          "--state",
          `${tmp}/s3.json`,
          "--ttl",
          "3",
          "--label",
          `${LABEL_TEST_RUN}=${run}`,
        ],
        env,
        flags,
      );
      agents.push(agent);
      let last: { status: number; body: Record<string, unknown> } | undefined;
      await eventually(async () => {
        try {
          last = await health(`http://127.0.0.1:${port}`);
          const docker = last.body.docker as { ok: boolean; error?: string };
          // Until the first check, the error reads "not checked yet".
          return last.status === 503 && !docker.ok && !/not checked/.test(docker.error ?? "");
        } catch {
          return false;
        }
      }, 30_000).catch((err) => {
        throw new Error(`${err.message}: ${JSON.stringify(last)}\n${agent.log}`);
      });
      const docker = last!.body.docker as { error: string };
      assert.match(docker.error, /Requires write access to "\/(var\/)?run\/docker\.sock"/);
    });
  } finally {
    for (const a of agents) await a.stop("SIGKILL");
    await removeRunContainers(run);
    const kv = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
    await kv.deletePrefix(`/gru/${cluster}/`)
      .then(() => kv.deletePrefix(`/gru/${cluster}x/`))
      .finally(() => kv.close());
    await Deno.remove(tmp, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});
