/**
 * Signed gossip against real agent processes and real etcd: a token holder (here a rogue node
 * "evil" with its own registered key) cannot speak for another node, cannot push a far-future
 * version or action, and cannot flood an agent with made-up origins; genuine gossip still
 * converges. Every refusal is counted in `/metrics` (`gru_gossip_rejected_total{reason}`).
 */

import assert from "node:assert/strict";
import { gru, type GruProcess, loopbackAgent } from "../helpers/gru_process.ts";
import { etcdEndpoints, testRunId } from "../helpers/env.ts";
import { removeRunContainers } from "../helpers/docker.ts";
import { waitFor } from "../helpers/agent.ts";
import { freePort } from "../helpers/net.ts";
import { EtcdKvStore } from "../../src/adapters/etcd/etcd_kv_store.ts";
import { ClusterStore } from "../../src/cluster/cluster_store.ts";
import {
  generateSigningKey,
  ShareSigner,
  type SigningKeyPair,
} from "../../src/agent/gossip/signing.ts";
import type { NodeShare } from "../../src/agent/gossip/types.ts";

interface GossipState {
  entries: NodeShare[];
  stats: { rejected: Record<string, number> };
}

function entryOf(origin: string, version: number, extra: Partial<NodeShare> = {}): NodeShare {
  return {
    origin,
    version,
    time: Date.now(),
    active: true,
    services: {},
    resources: { totalCpus: 1, freeCpus: 1, totalMemory: 1, freeMemory: 1 },
    actions: [],
    ...extra,
  };
}

async function signedBy(entry: NodeShare, key: SigningKeyPair, cluster: string) {
  const signer = await ShareSigner.create(cluster, key);
  return { ...entry, sig: await signer.sign(entry) };
}

function rssKb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]);
}

Deno.test("signed gossip: forged, future and flooding entries are dropped; genuine gossip converges", async () => {
  const run = testRunId();
  const cluster = `gsec-${run}`;
  const env = { ETCD_ADDR: etcdEndpoints().join(",") };
  const tmp = await Deno.makeTempDir({ prefix: "gru-gsec-" });
  const agents: GruProcess[] = [];
  const ports = [freePort(), freePort()];
  const kv = await EtcdKvStore.connect({ endpoints: etcdEndpoints() });
  const store = new ClusterStore(kv);
  try {
    assert.equal((await gru(["create", cluster], { env })).code, 0);
    await Deno.mkdir(`${tmp}/conf`);
    await Deno.writeTextFile(
      `${tmp}/conf/config.json`,
      JSON.stringify({ Communication: { LoopTimeInterval: 0.5, MaxFriends: 1 } }),
    );
    const imp = await gru(["config", "import", cluster, `${tmp}/conf`], { env });
    assert.equal(imp.code, 0, imp.stderr);
    // g2 has an identity from before signed gossip (no key): its agent makes one and saves it.
    await Deno.writeTextFile(
      `${tmp}/g2.json`,
      JSON.stringify({
        cluster,
        name: "g2",
        uuid: "0".repeat(32),
        address: "127.0.0.1",
        port: ports[1],
      }),
    );
    for (const [i, port] of ports.entries()) {
      agents.push(
        loopbackAgent({ cluster, name: `g${i + 1}`, port, stateDir: tmp, run, ttl: 2, env }),
      );
    }
    const token = await kv.get(`/gru/${cluster}/token`);
    assert.ok(token);
    const headers = { "content-type": "application/json", authorization: `Bearer ${token}` };
    const url = `http://127.0.0.1:${ports[0]}`;
    const view = async (): Promise<GossipState> =>
      await (await fetch(`${url}/gru/v1/gossip`, { headers })).json();
    const post = (body: unknown) =>
      fetch(`${url}/gru/v1/gossip`, { method: "POST", headers, body: JSON.stringify(body) });
    const rejected = async (reason: string): Promise<number> => {
      const text = await (await fetch(`${url}/metrics`)).text();
      const m = new RegExp(`^gru_gossip_rejected_total\\{reason="${reason}"\\} (\\d+)`, "m")
        .exec(text);
      return Number(m?.[1] ?? NaN);
    };

    await waitFor(
      async () => (await view().catch(() => undefined))?.entries.length === 2,
      30_000,
      () => agents.map((a) => a.log.slice(-800)).join("\n---\n"),
    );

    // Keys: in the identity files (mode 0600) and, public part only, in the etcd node records.
    for (const name of ["g1", "g2"]) {
      const info = await Deno.stat(`${tmp}/${name}.json`);
      assert.equal(info.mode! & 0o777, 0o600, `${name}.json mode`);
      const identity = JSON.parse(await Deno.readTextFile(`${tmp}/${name}.json`));
      assert.match(identity.signingKey?.publicKey ?? "", /^[A-Za-z0-9_-]{43}$/);
      const record = await store.getNode(cluster, name);
      assert.equal(record?.config.publicKey, identity.signingKey.publicKey);
      const raw = await kv.get(`/gru/${cluster}/nodes/${name}/config`);
      assert.ok(!raw?.includes(identity.signingKey.privateKey), "no private key in etcd");
    }
    const g2Before = (await view()).entries.find((e) => e.origin === "g2")!;
    assert.match(g2Before.sig ?? "", /^[A-Za-z0-9_-]{86}$/);

    // A rogue member "evil": registered with its own key, as any token holder could do.
    const evilKey = await generateSigningKey();
    const lease = await kv.grantLease(60);
    await store.registerNode(cluster, {
      config: {
        uuid: "e".repeat(32),
        name: "evil",
        address: "http://127.0.0.1:9",
        cluster,
        remote: `/gru/${cluster}/nodes/evil`,
        publicKey: evilKey.publicKey,
      },
      constraints: { cpuMin: 0, cpuMax: 0, baseServices: [] },
      resources: { totalCpus: 0, totalMemory: 0 },
      active: false,
    }, lease.id);
    await waitFor(
      async () => {
        const r = await post({ cluster, from: "evil", entries: [] });
        await r.body?.cancel();
        return r.status === 200;
      },
      10_000,
      () => "evil never became a member",
    );

    // A sender that is not a live member is refused outright.
    const stranger = await post({ cluster, from: "nobody", entries: [] });
    assert.equal(stranger.status, 401);
    assert.match((await stranger.json()).error.message, /not a live member/);

    const now = Date.now();
    const frozen = entryOf("g2", Number.MAX_SAFE_INTEGER, {
      actions: [{ service: "web", action: "start", time: now + 3_600_000, reason: "x" }],
    });
    const attacks: [string, NodeShare][] = [
      // g2's entry, signed with evil's own key: forged.
      ["bad_signature", await signedBy(entryOf("g2", now + 20_000), evilKey, cluster)],
      // The attack of the issue: g2 at version 2^53-1 with an action an hour ahead.
      ["future_version", await signedBy(frozen, evilKey, cluster)],
      // g2's entry without a signature.
      ["unsigned", entryOf("g2", now + 20_000)],
      // evil's own, validly signed entries with a version or an action beyond the skew.
      [
        "future_version",
        await signedBy(entryOf("evil", Number.MAX_SAFE_INTEGER), evilKey, cluster),
      ],
      [
        "future_action",
        await signedBy(
          entryOf("evil", now, {
            actions: [{ service: "web", action: "start", time: now + 3_600_000, reason: "x" }],
          }),
          evilKey,
          cluster,
        ),
      ],
    ];
    for (const [reason, entry] of attacks) {
      const before = await rejected(reason);
      const res = await post({ cluster, from: "evil", entries: [entry] });
      assert.equal(res.status, 200, reason);
      await res.body?.cancel();
      assert.equal(await rejected(reason), before + 1, `counted as ${reason}`);
    }
    const after = await view();
    const g2 = after.entries.find((e) => e.origin === "g2")!;
    assert.ok(g2.version < now + 60_000, `g2 version ${g2.version} was not frozen`);
    assert.ok(g2.actions.every((a) => a.time <= Date.now()), "no future action of g2");
    assert.ok(!after.entries.some((e) => e.origin === "evil" && e.version > now + 60_000));

    // Genuine gossip goes on: g2's newer shares still reach g1.
    await waitFor(
      async () =>
        ((await view()).entries.find((e) => e.origin === "g2")?.version ?? 0) > g2.version,
      10_000,
      () => "g2's share stopped advancing at g1",
    );

    // Origin flood, the attack: 200 requests of 5000 made-up origins each, twice. No
    // fake origin may be held, every fake entry is counted, and the agent's RSS stays bounded:
    // the first flood costs what parsing 1 MiB bodies costs the JS heap (the heap grows, then
    // stays), and a second flood of the same size adds next to nothing (nothing accumulates).
    const pid = agents[0]!.child.pid;
    const requests = 200;
    const origins = 5000;
    const flood = async (tag: string) => {
      let next = 0;
      const worker = async () => {
        while (next < requests) {
          const r = next++;
          const entries = Array.from(
            { length: origins },
            (_, i) => entryOf(`fake-${tag}${r}-${i}`, now),
          );
          const res = await post({ cluster, from: "evil", entries });
          if (res.status !== 200) assert.fail(`flood: ${res.status} ${await res.text()}`);
          await res.body?.cancel();
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
    };
    const rss0 = rssKb(pid);
    const unknownBefore = await rejected("unknown_origin");
    await flood("a");
    const rss1 = rssKb(pid);
    await flood("b");
    await flood("c");
    const rss2 = rssKb(pid);
    const mb = (kb: number) => Math.round(kb / 1024);
    const figures = `RSS ${mb(rss0)} MB -> ${mb(rss1)} MB -> (two more floods) ${mb(rss2)} MB`;
    const flooded = await view();
    assert.ok(!flooded.entries.some((e) => e.origin.startsWith("fake-")), "no fake origin held");
    assert.equal(
      await rejected("unknown_origin") - unknownBefore,
      3 * requests * origins,
      "every fake entry counted",
    );
    // Bounded, not growing with the attack: what the first flood costs is the JS heap that parsing
    // 1 MiB bodies needs; two more floods of the same size must not cost that again. (Before signed
    // gossip, one flood took an agent from 97 MB to 790 MB.)
    assert.ok(rss1 - rss0 < 300 * 1024, `first flood: ${figures} (bound +300 MB)`);
    assert.ok(rss2 - rss1 < 150 * 1024, `two more floods: ${figures} (bound +150 MB)`);
    await lease.revoke();
  } finally {
    for (const a of agents) await a.stop("SIGKILL");
    await removeRunContainers(run);
    await kv.deletePrefix(`/gru/${cluster}/`).catch(() => {});
    await kv.close();
    await Deno.remove(tmp, { recursive: true });
  }
});
