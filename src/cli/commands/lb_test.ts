/**
 * `gru lb haproxy`'s checks: bad flags are usage errors naming the flag (nothing opened), and an
 * HAProxy without the backend fails before anything is watched or changed.
 */

import assert from "node:assert/strict";
import { lbCommand } from "./lb.ts";
import { memoryOutput } from "../context.ts";
import { MemoryKvStore } from "../../adapters/memory/memory_kv_store.ts";
import { ClusterStore } from "../../cluster/cluster_store.ts";
import { FakeHaproxy } from "../../lb/_testing.ts";
import { cliDeps, failure, notUsed, runCommand } from "./_testing.ts";

function harness(store?: ClusterStore) {
  const out = memoryOutput();
  let opened = 0;
  const deps = cliDeps("gru lb", out, {
    openStore: () => {
      opened++;
      return store ? Promise.resolve(store) : notUsed("gru lb")();
    },
  });
  const run = async (...args: string[]) => {
    // The lb command's own exits throw too.
    await runCommand(lbCommand(deps).exitOverride(), ["lb", "haproxy", ...args]);
  };
  return { out, run, opened: () => opened };
}

Deno.test("gru lb haproxy: bad flags are usage errors naming the flag; nothing is opened", async () => {
  const base = ["--service", "web", "--socket", "/run/haproxy/admin.sock", "--app-root", ""];
  const cases: [string[], RegExp][] = [
    [["--service", "web;x", "--socket", "/s", "--app-root", ""], /Invalid --service "web;x"/],
    [[...base, "--backend", "a b"], /Invalid --backend "a b"/],
    [[...base, "--server-options", "check; del server web/x"], /Invalid --server-options/],
    [[...base, "--resync", "0"], /Invalid --resync "0": expected seconds from 1/],
    [[...base, "--drain-timeout", "-1"], /Invalid --drain-timeout "-1"/],
    [["--service", "web", "--socket", "/s"], /Missing --app-root or --cluster/],
    [["--service", "web", "--socket", "nohost", "--app-root", ""], /Invalid --socket "nohost"/],
  ];
  for (const [args, message] of cases) {
    const h = harness();
    const err = await failure(h.run(...args));
    assert.equal(err.exitCode, 2, args.join(" "));
    assert.match(err.message, message);
    assert.equal(h.opened(), 0);
  }
});

Deno.test("gru lb haproxy: an unknown backend or cluster fails before watching", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gru-lb-cli-" });
  const fake = new FakeHaproxy(`${dir}/admin.sock`, "web");
  fake.listen();
  const store = new ClusterStore(await MemoryKvStore.open());
  try {
    const h = harness(store);
    const err = await failure(
      h.run("--service", "web", "--backend", "nope", "--socket", fake.path, "--app-root", "a"),
    );
    assert.equal(err.exitCode, 1);
    assert.match(err.message, /Can't find backend.*is backend nope in HAProxy's config/);
    assert.deepEqual(fake.log, ["show servers state nope"]);
    await assert.rejects(
      harness(store).run("--service", "web", "--socket", fake.path, "--cluster", "ghost"),
      /Cluster "ghost" does not exist/,
    );
  } finally {
    await store.kv.close();
    await fake.close();
    await Deno.remove(dir, { recursive: true });
  }
});
