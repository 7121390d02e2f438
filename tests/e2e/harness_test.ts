/**
 * The multi-node harness (scripts/cluster.sh) end to end: three nodes, each a network namespace
 * with its own dockerd and agent, register in the harness etcd and answer health; agents reach
 * each other across namespaces; `start service` through `gru manage` runs the container on the
 * chosen node's own engine (never on the host's); a killed node vanishes within its lease TTL;
 * `down` leaves nothing behind. Needs root (namespaces, bridges, iptables).
 */

import assert from "node:assert/strict";
import { Harness } from "../helpers/harness.ts";
import { gru } from "../helpers/gru_process.ts";
import { eventually } from "../contract/kv_store_contract.ts";
import { EtcdKvStore } from "../../src/adapters/etcd/etcd_kv_store.ts";
import { ClusterStore } from "../../src/cluster/cluster_store.ts";
import { LABEL_CLUSTER, LABEL_NODE, LABEL_SERVICE } from "../../src/domain/model.ts";

const TTL = 3; // the script's agent --ttl

async function output(cmd: string, args: string[]): Promise<{ ok: boolean; text: string }> {
  const r = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return { ok: r.success, text: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

/** Processes whose command line names the harness's directories or its etcd ports. */
async function harnessProcesses(): Promise<string[]> {
  const found: string[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name) || Number(e.name) === Deno.pid) continue;
    const cmdline = await Deno.readTextFile(`/proc/${e.name}/cmdline`).catch(() => "");
    const args = cmdline.split("\0").join(" ");
    if (/\/(run|var\/lib)\/gru-nodes\b|:2479\b|netns\/gn\d/.test(args)) {
      found.push(`${e.name} ${args}`);
    }
  }
  return found;
}

Deno.test({
  name: "harness: up 3 nodes, cross-node reachability, placement, node death, clean down",
  ignore: Deno.uid() !== 0,
  fn: async (t) => {
    const h = await Harness.up(3, { cluster: "e2e" });
    const kv = await EtcdKvStore.connect({ endpoints: [h.etcdUrl] });
    const store = new ClusterStore(kv);
    const env = { ETCD_ADDR: h.etcdUrl, ...h.cliEnv };
    const names = async () => (await store.listNodes(h.cluster)).map((n) => n.config.name);
    try {
      await t.step("every node is registered in the harness etcd at its own address", async () => {
        const nodes = await store.listNodes(h.cluster);
        assert.deepEqual(nodes.map((n) => n.config.name), ["gn1", "gn2", "gn3"]);
        assert.deepEqual(nodes.map((n) => n.config.address), h.addresses);
        assert.deepEqual(h.addresses, [
          "https://10.231.0.11:5000",
          "https://10.231.0.12:5000",
          "https://10.231.0.13:5000",
        ]);
      });

      await t.step("each node's agent answers /gru/v1/health with 200", async () => {
        for (const node of h.nodes) {
          const res = await h.fetch(`${node.url}/gru/v1/health`);
          const body = await res.json();
          assert.equal(res.status, 200, JSON.stringify(body));
          assert.equal(body.node, node.name);
          assert.equal(body.registered, true);
        }
      });

      await t.step("agents of different nodes reach each other", async () => {
        for (const from of h.nodes) {
          for (const to of h.nodes.filter((n) => n !== from)) {
            const r = await h.exec(from.index, "curl", [
              "-s",
              "-m",
              "3",
              ...h.curlTls,
              `${to.url}/gru/v1/health`,
            ]);
            assert.equal(r.code, 0, `${from.name} → ${to.name}: ${r.stderr}`);
            assert.equal(JSON.parse(r.stdout).node, to.name);
          }
        }
      });

      await t.step("start service runs the container on gn2's own engine only", async () => {
        const r = await gru(["manage"], {
          env,
          stdin: `use ${h.cluster}\nstart service web node gn2\n`,
        });
        assert.equal(r.code, 0, r.stdout + r.stderr);
        const filter = ["--filter", `label=${LABEL_CLUSTER}=${h.cluster}`];
        const ps = await h.docker(2, [
          "ps",
          ...filter,
          "--format",
          `{{.Label "${LABEL_NODE}"}} {{.Label "${LABEL_SERVICE}"}} {{.Ports}}`,
        ]);
        const lines = ps.stdout.trim().split("\n").filter(Boolean);
        assert.equal(lines.length, 1, r.stdout + ps.stdout + ps.stderr);
        assert.match(lines[0]!, /^gn2 web .*:(\d+)->80\/tcp/);
        for (const other of [1, 3]) {
          assert.equal((await h.docker(other, ["ps", "-q", ...filter])).stdout.trim(), "");
        }
        const host = await output("docker", ["ps", "-q", ...filter]);
        assert.ok(host.ok, host.text);
        assert.equal(host.text.trim(), "", "nothing on the host engine");
        // Its published port answers on gn2's address, from another node.
        const port = lines[0]!.match(/:(\d+)->80\/tcp/)![1];
        await eventually(async () => {
          const c = await h.exec(1, "curl", ["-s", "-m", "2", `http://${h.node(2).ip}:${port}/`]);
          return c.stdout.includes("gru demo web");
        }, 10_000);
      });

      await t.step("a killed node vanishes from listNodes within the TTL", async () => {
        const killedAt = Date.now();
        await h.killNode(3);
        await eventually(async () => !(await names()).includes("gn3"), (TTL + 5) * 1000);
        const gone = Date.now() - killedAt;
        assert.ok(gone < (TTL + 2) * 1000, `gn3 vanished after ${gone} ms`);
        assert.deepEqual(await names(), ["gn1", "gn2"]);
        const health = await h.fetch(`${h.node(1).url}/gru/v1/health`);
        assert.equal(health.status, 200, await health.text());
      });
    } finally {
      await kv.close();
      await h.down();
    }

    await t.step("down leaves no namespace, bridge, rule or process", async () => {
      const ns = await output("ip", ["netns", "list"]);
      assert.doesNotMatch(ns.text, /^gn\d+\b/m);
      assert.equal((await output("ip", ["link", "show", "grubr0"])).ok, false);
      const links = await output("ip", ["-o", "link", "show"]);
      assert.doesNotMatch(links.text, /\bgn\d+-h\b/);
      const rule = await output("iptables", [
        "-C",
        "DOCKER-USER",
        "-s",
        "10.231.0.0/16",
        "-d",
        "10.231.0.0/16",
        "-j",
        "ACCEPT",
      ]);
      assert.equal(rule.ok, false, "forward rule removed");
      assert.deepEqual(await harnessProcesses(), []);
    });
  },
});
