import assert from "node:assert/strict";
import { buildCli } from "../mod.ts";
import {
  type AgentRunOptions,
  type CliDeps,
  ExitError,
  memoryOutput,
  type NodeIdentity,
  type StoreOptions,
} from "../context.ts";
import { ClusterStore } from "../../cluster/cluster_store.ts";
import { MemoryKvStore } from "../../adapters/memory/memory_kv_store.ts";
import { cliDeps, sharedStore } from "./_testing.ts";

interface Fake {
  deps: CliDeps;
  out: ReturnType<typeof memoryOutput>;
  /** Store options of every `openStore`. */
  opened: StoreOptions[];
  /** Options of every `runAgent`. */
  agents: AgentRunOptions[];
  /** The open store handed to each `runAgent` (join's own, not reopened). */
  handed: unknown[];
  /** Identity files written. */
  written: Map<string, NodeIdentity>;
  kv: MemoryKvStore;
}

/** CLI deps over one shared embedded store holding cluster `c1`; agents "run" at once. */
async function fake(options: { writeFails?: boolean } = {}): Promise<Fake> {
  const kv = await MemoryKvStore.open();
  await new ClusterStore(kv).createCluster("c1", { uuid: "u1", token: "t1" });
  const out = memoryOutput();
  const f: Fake = {
    out,
    opened: [],
    agents: [],
    handed: [],
    written: new Map(),
    kv,
    deps: cliDeps("the join tests", out, {
      openStore: (o) => {
        f.opened.push(o);
        // `close` of the command's store must not close the shared one.
        return Promise.resolve(sharedStore(kv));
      },
      runAgent: (o, store) => {
        f.agents.push(o);
        f.handed.push(store);
        return Promise.resolve(0);
      },
      readIdentity: (path) => Promise.resolve(f.written.get(path)),
      writeIdentity: (path, identity) => {
        if (options.writeFails) return Promise.reject(new Error("read-only file system"));
        f.written.set(path, identity);
        return Promise.resolve();
      },
      detectHostIp: () => "10.0.0.5",
    }),
  };
  return f;
}

async function run(f: Fake, ...args: string[]): Promise<number> {
  try {
    await buildCli(f.deps).parseAsync(args, { from: "user" });
    return 0;
  } catch (err) {
    if (err instanceof ExitError) return err.exitCode;
    throw err;
  }
}

Deno.test("gru join becomes the agent: registers, saves the identity, runs the agent inactive", async () => {
  const f = await fake();
  try {
    assert.equal(await run(f, "join", "c1", "--name", "node1", "--state", "/s/n1.json"), 0);
    assert.deepEqual(f.out.stdout, [
      "Joined cluster c1 as node node1 (10.0.0.5:5000).",
      "Waiting for commands...",
    ]);
    assert.equal(f.agents.length, 1);
    const a = f.agents[0]!;
    assert.equal(a.identity.name, "node1");
    assert.equal(a.identity.cluster, "c1");
    assert.equal(a.activate, false);
    assert.equal(a.statePath, "/s/n1.json");
    assert.equal(f.written.get("/s/n1.json")?.uuid, a.identity.uuid);
    // The agent goes on with join's store (already connected): one store opened in all.
    assert.equal(f.opened.length, 1);
    assert.ok(f.handed[0] instanceof ClusterStore);
    // The name is claimed in the store before the agent starts.
    const node = await new ClusterStore(f.kv).getNode("c1", "node1");
    assert.equal(node?.config.address, "http://10.0.0.5:5000");
  } finally {
    await f.kv.close();
  }
});

Deno.test("gru join --register-only registers and exits; --run is a no-op kept for compatibility", async () => {
  const f = await fake();
  try {
    assert.equal(
      await run(f, "join", "c1", "-n", "node1", "--state", "/s/a.json", "--register-only"),
      0,
    );
    assert.equal(f.agents.length, 0);
    assert.match(f.out.stdout[1]!, /^Identity saved to \/s\/a\.json\. Start the agent: gru agent/);
    assert.ok(f.written.has("/s/a.json"));
    assert.equal(await run(f, "join", "c1", "-n", "node1", "--state", "/s/a.json", "--run"), 0);
    assert.equal(f.agents.length, 1);
    const both = await run(f, "join", "c1", "--state", "/s/b.json", "--run", "--register-only");
    assert.equal(both, 2);
    assert.equal(f.agents.length, 1);
  } finally {
    await f.kv.close();
  }
});

Deno.test("gru join: an identity that cannot be saved is a warning when running, fatal when registering only", async () => {
  const f = await fake({ writeFails: true });
  try {
    assert.equal(await run(f, "join", "c1", "-n", "node1"), 0);
    assert.equal(f.agents.length, 1);
    assert.equal(f.agents[0]!.statePath, undefined);
    assert.match(
      f.out.stderr[0]!,
      /^Warning: cannot save the identity to \/var\/lib\/gru\/node\.json/,
    );
    await assert.rejects(
      () => run(f, "join", "c1", "-n", "node2", "--register-only"),
      /read-only file system/,
    );
  } finally {
    await f.kv.close();
  }
});

Deno.test("gru join: bad flags are usage errors before anything registers", async () => {
  const f = await fake();
  try {
    assert.equal(await run(f, "join", "c1", "--ttl", "0"), 2);
    assert.equal(await run(f, "join", "c1", "--label", "novalue"), 2);
    assert.equal(await run(f, "join", "c1", "--port", "70000"), 2);
    assert.deepEqual(f.opened, []);
    assert.deepEqual(await new ClusterStore(f.kv).listNodes("c1"), []);
  } finally {
    await f.kv.close();
  }
});

Deno.test("-e/--etcdserver on create, join and agent: the original's option beside the global --etcd", async (t) => {
  const f = await fake();
  try {
    await t.step("create -e and --etcdserver", async () => {
      assert.equal(await run(f, "create", "c2", "-e", "http://a:2379"), 0);
      assert.equal(await run(f, "create", "c3", "--etcdserver", "http://b:2379"), 0);
      assert.deepEqual(f.opened.map((o) => o.etcd), ["http://a:2379", "http://b:2379"]);
    });
    await t.step("the global --etcd alone, or the same value twice", async () => {
      f.opened.length = 0;
      assert.equal(await run(f, "--etcd", "http://g:2379", "create", "c4"), 0);
      assert.equal(
        await run(f, "--etcd", "http://g:2379", "create", "c5", "-e", "http://g:2379"),
        0,
      );
      assert.deepEqual(f.opened.map((o) => o.etcd), ["http://g:2379", "http://g:2379"]);
    });
    await t.step("a conflict is a usage error naming both, and opens nothing", async () => {
      f.opened.length = 0;
      const r = buildCli(f.deps).parseAsync(
        ["--etcd", "http://g:2379", "create", "c6", "-e", "http://other:2379"],
        { from: "user" },
      );
      await assert.rejects(r, (err: unknown) => {
        assert.ok(err instanceof ExitError);
        assert.equal(err.exitCode, 2);
        assert.equal(
          err.message,
          'Conflicting etcd options: --etcd "http://g:2379" and -e/--etcdserver ' +
            '"http://other:2379": give only one',
        );
        return true;
      });
      assert.deepEqual(f.opened, []);
      assert.equal(await run(f, "create", "c6", "-e", ""), 2);
    });
    await t.step("-e wins over ETCD_ADDR, which stays the default", async () => {
      f.opened.length = 0;
      const before = Deno.env.get("ETCD_ADDR");
      Deno.env.set("ETCD_ADDR", "http://env:2379");
      try {
        assert.equal(await run(f, "create", "c7"), 0);
        assert.equal(await run(f, "create", "c8", "-e", "http://a:2379"), 0);
      } finally {
        if (before === undefined) Deno.env.delete("ETCD_ADDR");
        else Deno.env.set("ETCD_ADDR", before);
      }
      assert.deepEqual(f.opened.map((o) => o.etcd), ["http://env:2379", "http://a:2379"]);
    });
    await t.step("join -e: the agent and the saved identity use it", async () => {
      assert.equal(
        await run(f, "join", "c1", "-n", "j1", "--state", "/s/j1.json", "-e", "http://j:2379"),
        0,
      );
      const a = f.agents.at(-1)!;
      assert.equal(a.store.etcd, "http://j:2379");
      assert.equal(f.written.get("/s/j1.json")?.etcd, "http://j:2379");
    });
    await t.step("agent --etcdserver", async () => {
      assert.equal(
        await run(f, "agent", "--state", "/s/j1.json", "--etcdserver", "http://k:2379"),
        0,
      );
      assert.equal(f.agents.at(-1)!.store.etcd, "http://k:2379");
    });
    await t.step("manage takes -e too", () => {
      const manage = buildCli(f.deps).commands.find((c) => c.name() === "manage")!;
      assert.ok(manage.options.some((o) => o.short === "-e" && o.long === "--etcdserver"));
    });
  } finally {
    await f.kv.close();
  }
});

Deno.test("deploy/cloud-init.yaml registers only: its systemd unit runs the agent", async () => {
  const text = await Deno.readTextFile(
    new URL("../../../deploy/cloud-init.yaml", import.meta.url),
  );
  const joins = text.split("\n").filter((l) => /\bgru join\b/.test(l) && !/^\s*#/.test(l));
  assert.ok(joins.length > 0, "cloud-init runs no gru join");
  for (const line of joins) assert.match(line, /--register-only/, line);
  assert.match(text, /systemctl enable --now gru-agent/);
});

Deno.test("gru join: GRU_LABELS gives comma-separated container labels; --label wins", async () => {
  const f = await fake();
  const before = Deno.env.get("GRU_LABELS");
  Deno.env.set("GRU_LABELS", "gru.test-run=r1,team=a");
  try {
    assert.equal(await run(f, "join", "c1", "-n", "l1", "--state", "/s/l1.json"), 0);
    assert.deepEqual(f.agents.at(-1)!.labels, { "gru.test-run": "r1", team: "a" });
    assert.equal(await run(f, "agent", "--state", "/s/l1.json", "--label", "x=1,2"), 0);
    assert.deepEqual(f.agents.at(-1)!.labels, { x: "1,2" });
  } finally {
    if (before === undefined) Deno.env.delete("GRU_LABELS");
    else Deno.env.set("GRU_LABELS", before);
    await f.kv.close();
  }
});
