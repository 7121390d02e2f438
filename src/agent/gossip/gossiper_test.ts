import assert from "node:assert/strict";
import { Gossiper, type GossipTransport } from "./gossiper.ts";
import { Membership } from "../membership.ts";
import { MemoryKvStore } from "../../adapters/memory/memory_kv_store.ts";
import { ClusterStore } from "../../cluster/cluster_store.ts";
import { FakeClock } from "../../domain/clock.ts";
import { seededPrng } from "../../domain/random.ts";
import type { LocalShare } from "./types.ts";
import type { GossipMessage, NodeShare } from "./types.ts";
import { generateSigningKey, ShareSigner, type SigningKeyPair } from "./signing.ts";
import { PrometheusTelemetry } from "../../adapters/prometheus/prometheus_telemetry.ts";
import { peerStates } from "../monitor/external_metrics.ts";
import { mergeCluster } from "./merge.ts";
import { descriptor } from "../../../tests/helpers/planner_fixtures.ts";

const KEYS: Record<string, SigningKeyPair> = {
  n1: await generateSigningKey(),
  n2: await generateSigningKey(),
  n3: await generateSigningKey(),
};

/** `share` signed by `signer` (a real peer's share; a forgery when the key is not the origin's). */
async function signed(entry: NodeShare, key: SigningKeyPair, cluster = "c"): Promise<NodeShare> {
  const signer = await ShareSigner.create(cluster, key);
  return { ...entry, sig: await signer.sign(entry) };
}

function entryOf(origin: string, version: number, extra: Partial<NodeShare> = {}): NodeShare {
  return {
    origin,
    version,
    time: 0,
    active: true,
    services: { web: { running: 2, pending: 0, cpu_avg: 0.8, analytics: {}, cpuNumber: 1 } },
    resources: { totalCpus: 2, freeCpus: 0, totalMemory: 1, freeMemory: 1 },
    actions: [],
    ...extra,
  };
}

const share: LocalShare = {
  active: true,
  services: { web: { running: 1, pending: 0, analytics: {}, cpuNumber: 1 } },
  resources: { totalCpus: 2, freeCpus: 1, totalMemory: 1, freeMemory: 1 },
};

async function setup(transport: GossipTransport, registered = true, maxSkewMs?: number) {
  const telemetry = new PrometheusTelemetry();
  const store = new ClusterStore(await MemoryKvStore.open());
  await store.createCluster("c", { uuid: "u", token: "t" });
  const lease = await store.kv.grantLease(30);
  for (const name of ["n1", "n2", "n3"]) {
    await store.registerNode("c", {
      config: {
        uuid: name,
        name,
        address: `http://${name}`,
        cluster: "c",
        remote: "",
        publicKey: KEYS[name]!.publicKey,
      },
      constraints: { cpuMin: 0, cpuMax: 0, baseServices: [] },
      resources: { totalCpus: 2, totalMemory: 1 },
      active: true,
    }, lease.id);
  }
  const clock = new FakeClock(1_000_000);
  const membership = new Membership({ store, cluster: "c", clock });
  membership.start();
  clock.advance(0);
  // Let the first listing land.
  for (let i = 0; i < 50 && membership.nodes.size < 3; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const g = new Gossiper({
    self: "n1",
    cluster: "c",
    clock,
    prng: seededPrng(3),
    membership,
    transport,
    settings: () => ({ intervalMs: 1000, maxFriends: 2, ...(maxSkewMs ? { maxSkewMs } : {}) }),
    registered: () => registered,
    fallbackShare: () => share,
    signer: await ShareSigner.create("c", KEYS.n1!),
    telemetry,
  });
  return {
    g,
    telemetry,
    clock,
    close: async () => {
      await membership.stop();
      await lease.revoke();
      await store.kv.close();
    },
  };
}

Deno.test("Gossiper merges its friends' replies and reports them in the cluster view", async () => {
  const peer = async (from: string): Promise<GossipMessage> => ({
    cluster: "c",
    from,
    entries: [await signed(entryOf(from, 1), KEYS[from]!)],
  });
  const asked: string[] = [];
  const { g, close } = await setup((address) => {
    asked.push(address);
    return peer(address.slice("http://".length));
  });
  try {
    await g.round();
    assert.deepEqual(asked.sort(), ["http://n2", "http://n3"]);
    const view = g.update(share, 1_000_000);
    assert.equal(view.web?.running, 5);
    assert.deepEqual(view.web?.nodes.sort(), ["n1", "n2", "n3"]);
    assert.equal(g.unknownPeers().length, 0);
    assert.equal(g.partitioned(), undefined);
  } finally {
    await close();
  }
});

Deno.test("Gossiper calls itself partitioned when etcd or most peers are out of reach", async () => {
  const down = await setup(() => Promise.reject(new Error("unreachable")));
  try {
    await down.g.round();
    assert.match(down.g.partitioned() ?? "", /reached only 0 of 2 peers/);
    assert.equal(down.g.stats.failures, 2);
    assert.deepEqual(down.g.unknownPeers().sort(), ["n2", "n3"]);
  } finally {
    await down.close();
  }
  const noEtcd = await setup(() => Promise.reject(new Error("x")), false);
  try {
    assert.equal(noEtcd.g.partitioned(), "this node cannot reach etcd");
  } finally {
    await noEtcd.close();
  }
});

Deno.test("Gossiper refuses another cluster's message and replies with what the sender lacks", async () => {
  const { g, close } = await setup(() => Promise.reject(new Error("x")));
  try {
    g.update(share, 1_000_000);
    await assert.rejects(
      () => g.receive({ cluster: "other", from: "x", entries: [] }),
      /cluster "other"/,
    );
    await g.signed();
    const mine = g.view.get("n1")!;
    assert.match(mine.sig ?? "", /^[A-Za-z0-9_-]{86}$/);
    const reply = await g.receive({ cluster: "c", from: "n2", entries: [mine] });
    assert.deepEqual(reply.entries, []);
    const fresh = await g.receive({ cluster: "c", from: "n2", entries: [] });
    assert.deepEqual(fresh.entries.map((e) => e.origin), ["n1"]);
    assert.equal(fresh.entries[0]?.sig, mine.sig);
  } finally {
    await close();
  }
});

Deno.test("Gossiper refuses a sender that is not a live member or not its certificate's name", async () => {
  const { g, telemetry, close } = await setup(() => Promise.reject(new Error("x")));
  try {
    await assert.rejects(
      () => g.receive({ cluster: "c", from: "intruder", entries: [] }),
      /\$\.from "intruder" is not a live member of cluster "c"/,
    );
    await assert.rejects(
      () => g.receive({ cluster: "c", from: "n1", entries: [] }),
      /not a live member/,
    );
    await assert.rejects(
      () => g.receive({ cluster: "c", from: "n2", entries: [] }, "n3"),
      /\$\.from is "n2" but the client certificate is for "n3"/,
    );
    await g.receive({ cluster: "c", from: "n2", entries: [] }, "n2");
    assert.equal(g.stats.rejected.sender, 3);
    assert.match(telemetry.render(), /gru_gossip_rejected_total\{reason="sender"\} 3/);
  } finally {
    await close();
  }
});

Deno.test("Gossiper drops forged, unsigned, future and unknown entries and counts each", async () => {
  const { g, telemetry, clock, close } = await setup(() => Promise.reject(new Error("x")));
  try {
    const now = clock.now();
    const attacker = KEYS.n2!;
    const forged = await signed(entryOf("n3", now), attacker); // n3's entry, n2's key
    const unsigned = entryOf("n3", now);
    const tampered = { ...(await signed(entryOf("n3", now), KEYS.n3!)), active: false };
    const maxVersion = await signed(entryOf("n3", Number.MAX_SAFE_INTEGER), KEYS.n3!);
    const futureAction = await signed(
      entryOf("n3", now, {
        actions: [{ service: "web", action: "start", time: now + 3_600_000, reason: "x" }],
      }),
      KEYS.n3!,
    );
    const futureTime = await signed(entryOf("n3", now, { time: now + 3_600_000 }), KEYS.n3!);
    const stranger = await signed(entryOf("ghost", now), attacker);
    const otherCluster = await signed(entryOf("n3", now), KEYS.n3!, "other");
    const huge = await signed(
      entryOf("n3", now, {
        services: Object.fromEntries(
          Array.from({ length: 900 }, (_, i) => [
            `svc-${i}-${"x".repeat(40)}`,
            { running: 1, pending: 0, analytics: {}, cpuNumber: 1 },
          ]),
        ),
      }),
      KEYS.n3!,
    );
    await g.receive({
      cluster: "c",
      from: "n2",
      entries: [
        forged,
        unsigned,
        tampered,
        maxVersion,
        futureAction,
        futureTime,
        stranger,
        otherCluster,
        huge,
      ],
    });
    assert.equal(g.view.get("n3"), undefined);
    assert.equal(g.view.get("ghost"), undefined);
    assert.deepEqual(g.stats.rejected, {
      bad_signature: 3,
      unsigned: 1,
      future_version: 1,
      future_action: 1,
      future_time: 1,
      unknown_origin: 1,
      too_large: 1,
    });
    const metrics = telemetry.render();
    assert.match(metrics, /gru_gossip_rejected_total\{reason="bad_signature"\} 3/);
    assert.match(metrics, /gru_gossip_rejected_total\{reason="future_version"\} 1/);

    // The genuine entry passes, within the allowed skew too.
    const genuine = await signed(entryOf("n3", now + 10_000), KEYS.n3!);
    await g.receive({ cluster: "c", from: "n2", entries: [genuine] });
    assert.equal(g.view.get("n3")?.version, now + 10_000);

    // A forged share of this node itself is not taken as a previous life: the version floor
    // stays, so the next publish does not jump to the attacker's version.
    const selfForged = await signed(entryOf("n1", now + 20_000), attacker);
    await g.receive({ cluster: "c", from: "n2", entries: [selfForged] });
    assert.equal(g.update(share, now).web !== undefined, true);
    assert.ok(g.view.get("n1")!.version < now + 20_000);
  } finally {
    await close();
  }
});

Deno.test("Gossiper verifies an entry once, however often it arrives", async () => {
  const { g, clock, close } = await setup(() => Promise.reject(new Error("x")));
  try {
    const entry = await signed(entryOf("n3", clock.now()), KEYS.n3!);
    await Promise.all(
      [1, 2, 3].map(() => g.receive({ cluster: "c", from: "n2", entries: [entry] })),
    );
    for (let i = 0; i < 10; i++) await g.receive({ cluster: "c", from: "n2", entries: [entry] });
    assert.equal(g.view.get("n3")?.sig, entry.sig);
    assert.equal(g.verifier.checks, 1);
  } finally {
    await close();
  }
});

Deno.test("Gossiper: cluster cooldowns go by ages, so a peer's clock offset neither blocks nor unblocks them", async () => {
  const { g, clock, close } = await setup(() => Promise.reject(new Error("x")));
  try {
    const now = clock.now();
    // n2's clock is 20 s ahead (within the skew), n3's 10 minutes behind; each started web 2 s
    // before publishing.
    const peer = (origin: string, offset: number) =>
      signed(
        entryOf(origin, now + offset, {
          time: now + offset,
          actions: [{
            service: "web",
            action: "start",
            time: now + offset - 2000,
            age: 2000,
            reason: "x",
          }],
        }),
        KEYS[origin]!,
      );
    await g.receive({
      cluster: "c",
      from: "n2",
      entries: [await peer("n2", 20_000), await peer("n3", -600_000)],
    });
    clock.advance(3000);
    const ages = (view: ReturnType<typeof g.update>) =>
      Object.fromEntries(view.web!.recentActions.map((a) => [a.origin, a.age]));
    // 2 s stated + 3 s held here, for both: the offsets play no part.
    assert.deepEqual(ages(g.update(share, clock.now())), { n2: 5000, n3: 5000 });

    // This node's own action ages on its monotonic clock: an NTP step back of a minute does
    // not make it younger, and the age it publishes says so.
    g.recordAction("web", "start", "scaleout", clock.now());
    clock.advance(4000);
    clock.stepWall(-60_000);
    const view = g.update(share, clock.now());
    assert.equal(view.web!.recentActions.find((a) => a.origin === "n1")?.age, 4000);
    assert.equal(g.view.get("n1")!.actions[0]?.age, 4000);
  } finally {
    await close();
  }
});

Deno.test("Gossiper: the allowed clock skew is a setting", async () => {
  const { g, clock, close } = await setup(() => Promise.reject(new Error("x")), true, 5000);
  try {
    const now = clock.now();
    const ahead = await signed(entryOf("n3", now, { time: now + 10_000 }), KEYS.n3!);
    await g.receive({ cluster: "c", from: "n2", entries: [ahead] });
    assert.equal(g.view.get("n3"), undefined, "10 s ahead is beyond a 5 s skew");
    assert.deepEqual(g.stats.rejected, { future_time: 1 });
    const within = await signed(entryOf("n3", now, { time: now + 4000 }), KEYS.n3!);
    await g.receive({ cluster: "c", from: "n2", entries: [within] });
    assert.equal(g.view.get("n3")?.time, now + 4000);
  } finally {
    await close();
  }
});

Deno.test("Gossiper carries metric-source readings, aged by how long it has held them", async () => {
  const withSources = (from: string) =>
    entryOf(from, 1, {
      services: {
        web: {
          running: 1,
          pending: 0,
          analytics: {},
          cpuNumber: 1,
          sources: { rps: { value: 12, age: 500 } },
        },
      },
    });
  const { g, clock, close } = await setup(async (address) => {
    const from = address.slice("http://".length);
    return { cluster: "c", from, entries: [await signed(withSources(from), KEYS[from]!)] };
  });
  try {
    await g.round();
    clock.advance(4000);
    const peers = g.peerShares(clock.now());
    assert.deepEqual(peers.map((p) => [p.share.origin, p.heldMs]).sort(), [
      ["n2", 4000],
      ["n3", 4000],
    ]);
    const states = peerStates(peers);
    assert.deepEqual(states[0]!.readings.get("web\u0000rps"), {
      origin: states[0]!.origin,
      ageMs: 4500,
      value: 12,
    });
    // This node's own readings go into its share through the merge phase.
    const web = entryOf("n1", 1).services.web!;
    mergeCluster({
      analysis: {
        web: {
          running: web.running,
          pending: 0,
          stopped: 0,
          paused: 0,
          cpu_avg: undefined,
          memory_avg: undefined,
          cpu_cores: undefined,
          analytics: {},
          metrics: {},
          dataAgeMs: undefined,
          notes: [],
        },
      },
      services: new Map([["web", descriptor("web")]]),
      node: share.resources,
      context: g,
      now: clock.now(),
      sources: {
        values: {},
        statuses: {},
        share: { web: { p95: { age: 0, error: "timeout: no answer within 2000 ms" } } },
      },
    });
    const mine = g.view.entries().find((e) => e.origin === "n1")!;
    assert.deepEqual(mine.services.web!.sources, {
      p95: { age: 0, error: "timeout: no answer within 2000 ms" },
    });
  } finally {
    await close();
  }
});
