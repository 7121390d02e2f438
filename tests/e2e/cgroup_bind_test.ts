/**
 * Container usage under the binary's permissions. Deno refuses reads under `/sys` and `/proc`
 * without `--allow-all`, which the compiled binary does not have; its agent reads bind mounts of
 * them named by `GRU_CGROUP_ROOT` and `GRU_PROC_ROOT` (as deploy/gru-agent.service sets up).
 *
 * - with the cgroup tree and `/proc` bind-mounted under a temp dir (as root; unmounted at the
 *   end), an agent under exactly the binary's flags says it reads the cgroup files and reports
 *   the CPU of a labelled container of its service;
 * - without them, it says once at start that it falls back to Docker stats streams, why, and
 *   which settings fix it.
 */

import assert from "node:assert/strict";
import { gru, GruProcess } from "../helpers/gru_process.ts";
import { etcdEndpoints, testRunId } from "../helpers/env.ts";
import { removeRunContainers } from "../helpers/docker.ts";
import { eventually } from "../contract/kv_store_contract.ts";
import { freePort } from "../helpers/net.ts";
import { EtcdKvStore } from "../../src/adapters/etcd/etcd_kv_store.ts";
import { LABEL_CLUSTER, LABEL_SERVICE, LABEL_TEST_RUN } from "../../src/domain/model.ts";

async function sh(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: exit ${out.code}: ${dec.decode(out.stderr)}`);
  }
  return dec.decode(out.stdout).trim();
}

/** Unmounts whatever is mounted at `dir` (recursively); true when nothing is left. */
async function unmount(dir: string): Promise<boolean> {
  await sh("umount", ["-R", dir]).catch(() => undefined);
  const mounts = await Deno.readTextFile("/proc/self/mountinfo");
  return !mounts.split("\n").some((l) => l.split(" ")[4] === dir);
}

Deno.test({
  name: "binary permissions: the agent reads cgroup usage through bind mounts, else says so",
  ignore: Deno.uid() !== 0,
  fn: async (t) => {
    const run = testRunId();
    const cluster = `cgbind-${run}`;
    const env = { ETCD_ADDR: etcdEndpoints().join(",") };
    const tmp = await Deno.makeTempDir({ prefix: "gru-cgbind-" });
    const cg = `${tmp}/cgroup`;
    const proc = `${tmp}/proc`;
    const agents: GruProcess[] = [];
    let mounted = false;
    const ok = async (args: string[]) => {
      const r = await gru(args, { env, permissions: "binary" });
      assert.equal(r.code, 0, `gru ${args.join(" ")}:\n${r.stdout}${r.stderr}`);
      return r.stdout;
    };
    const agent = (name: string, port: number, extraEnv: Record<string, string>) => {
      const a = new GruProcess(
        [
          ...["agent", "--cluster", cluster, "--name", name, "--address", "127.0.0.1"],
          ...["--port", String(port), "--listen", "127.0.0.1", "--active", "--ttl", "3"],
          ...["--state", `${tmp}/${name}.json`, "--label", `${LABEL_TEST_RUN}=${run}`],
        ],
        { ...env, ...extraEnv },
        "binary",
      );
      agents.push(a);
      return a;
    };
    try {
      await ok(["create", cluster]);
      const token = (await ok(["token", "show", cluster, "--reveal"])).trim();
      await Deno.mkdir(`${tmp}/conf/services`, { recursive: true });
      await Deno.writeTextFile(
        `${tmp}/conf/config.json`,
        JSON.stringify({ Autonomic: { LoopTimeInterval: 1, Window: 5 } }),
      );
      await Deno.writeTextFile(
        `${tmp}/conf/services/idle.json`,
        JSON.stringify({
          Name: "idle",
          Image: "gru-test/busybox",
          Configuration: { Cmd: ["sleep", "600"] },
        }),
      );
      await ok(["config", "import", cluster, `${tmp}/conf`]);
      // A container of service idle on node c1, busy enough to have a CPU figure.
      const id = await sh("docker", [
        ...["run", "-d", "--label", `${LABEL_CLUSTER}=${cluster}`, "--label", "gru.node=c1"],
        ...["--label", `${LABEL_SERVICE}=idle`, "--label", `${LABEL_TEST_RUN}=${run}`],
        ...["gru-test/busybox", "sh", "-c", "while :; do :; done"],
      ]);

      await t.step("with GRU_CGROUP_ROOT and GRU_PROC_ROOT on bind mounts", async () => {
        await Deno.mkdir(cg);
        await Deno.mkdir(proc);
        mounted = true;
        await sh("mount", ["--rbind", "/sys/fs/cgroup", cg]);
        await sh("mount", ["--bind", "/proc", proc]);
        const port = freePort();
        const a = agent("c1", port, { GRU_CGROUP_ROOT: cg, GRU_PROC_ROOT: proc });
        let last = "";
        await eventually(async () => {
          const res = await fetch(`http://127.0.0.1:${port}/gru/v1/stats/instances/${id}`, {
            headers: { authorization: `Bearer ${token}` },
            signal: AbortSignal.timeout(3000),
          }).catch(() => undefined);
          last = res ? await res.text() : "";
          if (res?.status !== 200) return false;
          return typeof JSON.parse(last).basemetrics?.cpu_avg === "number";
        }, 40_000).catch((err) => {
          throw new Error(`${err.message}\nlast answer: ${last}\nagent log:\n${a.log}`);
        });
        assert.match(
          a.log,
          new RegExp(`container usage read from "?cgroup-v[12]"? files under "?${cg}"?; `),
        );
        assert.match(a.log, new RegExp(`cgroups found from ${proc}/<pid>/cgroup`));
        assert.doesNotMatch(a.log, /docker-stats|NotCapable|Requires \w+ access/, a.log);
        assert.equal((await a.stop("SIGTERM")).code, 0, a.log);
      });

      await t.step("without them: one warning naming the reason and the settings", async () => {
        const a = agent("c2", freePort(), {});
        await eventually(() => Promise.resolve(/usage read from/.test(a.log)), 30_000)
          .catch((err) => {
            throw new Error(`${err.message}\nagent log:\n${a.log}`);
          });
        assert.equal((await a.stop("SIGTERM")).code, 0, a.log);
        const lines = a.log.split("\n").filter((l) => /usage read from/.test(l));
        assert.equal(lines.length, 1, a.log);
        assert.match(lines[0]!, /\[WRN\]/);
        assert.match(lines[0]!, /docker-stats, one stream per container/);
        assert.match(lines[0]!, /cannot read \/sys\/fs\/cgroup: not permitted .*--allow-all/);
        assert.match(lines[0]!, /GRU_CGROUP_ROOT and GRU_PROC_ROOT/);
      });
    } finally {
      for (const a of agents) await a.stop("SIGKILL");
      await removeRunContainers(run);
      const kv = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
      await kv.deletePrefix(`/gru/${cluster}/`).finally(() => kv.close());
      // Never a recursive removal through a mount left behind (that would reach /sys or /proc).
      const clean = !mounted || (await unmount(cg) && await unmount(proc));
      if (clean) await Deno.remove(tmp, { recursive: true });
      // deno-lint-ignore no-console
      else console.error(`could not unmount ${cg} or ${proc}; left ${tmp} in place`);
    }
  },
});
