import assert from "node:assert/strict";
import { buildCli } from "../mod.ts";
import { memoryOutput } from "../context.ts";
import { makeFixture } from "../repl/_testing.ts";
import { cliDeps, sharedStore } from "./_testing.ts";
import { CLEAR_SCREEN, HIDE_CURSOR, SHOW_CURSOR, watchStatus } from "./status.ts";

Deno.test("watchStatus redraws until aborted, then shows the cursor again", async () => {
  const writes: string[] = [];
  const controller = new AbortController();
  let n = 0;
  await watchStatus({
    refresh: () => {
      n++;
      if (n === 2) return Promise.reject(new Error("etcd down"));
      if (n === 3) controller.abort();
      return Promise.resolve(`frame ${n}`);
    },
    write: (t) => writes.push(t),
    intervalMs: 1,
    signal: controller.signal,
  });
  assert.deepEqual(writes, [
    HIDE_CURSOR,
    `${CLEAR_SCREEN}frame 1`,
    `${CLEAR_SCREEN}Error: etcd down`,
    SHOW_CURSOR,
  ]);
});

Deno.test("watchStatus stops during a slow refresh", async () => {
  const writes: string[] = [];
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const done = watchStatus({
    refresh: () => new Promise((resolve) => timer = setTimeout(() => resolve("late"), 200)),
    write: (t) => writes.push(t),
    intervalMs: 1000,
    signal: controller.signal,
  });
  controller.abort();
  await done;
  clearTimeout(timer);
  assert.deepEqual(writes, [HIDE_CURSOR, SHOW_CURSOR]);
});

Deno.test("gru status --json over the embedded store (agents unreachable)", async () => {
  const fixture = await makeFixture({
    nodes: [{ name: "n1", address: "http://127.0.0.1:1" }],
    services: [{ name: "web", image: "gru-demo/web" }],
  });
  const output = memoryOutput();
  let opened = 0;
  let closed = 0;
  const deps = cliDeps("gru status", output, {
    openStore: () => {
      opened++;
      return Promise.resolve(sharedStore(fixture.store.kv, () => closed++));
    },
    readIdentity: () => Promise.resolve(undefined),
    detectHostIp: () => undefined,
  });
  try {
    // Two clusters and no identity: the cluster must be named.
    await assert.rejects(
      buildCli(deps).parseAsync(["status", "--json"], { from: "user" }),
      /--cluster/,
    );
    await buildCli(deps).parseAsync(["status", "--cluster", "c1", "--json"], { from: "user" });
    const snap = JSON.parse(output.stdout.join("\n"));
    assert.equal(snap.cluster, "c1");
    assert.equal(snap.nodes[0].name, "n1");
    assert.equal(snap.nodes[0].health, "unreachable");
    assert.match(snap.nodes[0].error, /Cannot reach agent/);
    assert.deepEqual(snap.services, [
      { name: "web", image: "gru-demo/web", instances: { total: 0, byNode: {} } },
    ]);
    output.stdout.length = 0;
    await buildCli(deps).parseAsync(["status", "-c", "c1"], { from: "user" });
    assert.match(output.stdout.join("\n"), /^n1 +http:\/\/127\.0\.0\.1:1 +no +unreachable/m);
    assert.equal(opened, 3);
    assert.equal(closed, 3);
  } finally {
    await fixture.close();
  }
});
