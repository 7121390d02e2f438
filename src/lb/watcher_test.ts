/**
 * The discovery → HAProxy watcher on fakes: the in-memory KV store and a fake runtime API on a
 * real unix socket (./_testing.ts). Keys become servers, deleted keys drain before they go, a
 * key back during a drain restores its server, and a backend changed behind the watcher's back
 * (or an HAProxy that was down) is repaired.
 */

import assert from "node:assert/strict";
import { MemoryKvStore } from "../adapters/memory/memory_kv_store.ts";
import { systemClock } from "../domain/clock.ts";
import { FakeHaproxy } from "./_testing.ts";
import { HaproxyBackend, socketRuntimeApi } from "./runtime_api.ts";
import { HaproxyWatcher, parseEndpoint, serverName } from "./watcher.ts";

const ID_A = "a".repeat(64);
const ID_B = "b".repeat(64);
const A = serverName("web", ID_A);
const B = serverName("web", ID_B);

async function until(check: () => boolean, what: () => string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`Not reached within ${ms} ms: ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function rig(options: { listen?: boolean; drainTimeoutMs?: number } = {}) {
  const dir = await Deno.makeTempDir({ prefix: "gru-lb-" });
  const fake = new FakeHaproxy(`${dir}/admin.sock`, "web");
  if (options.listen ?? true) fake.listen();
  const kv = await MemoryKvStore.open();
  const watcher = new HaproxyWatcher({
    kv,
    haproxy: new HaproxyBackend(socketRuntimeApi({ transport: "unix", path: fake.path }), "web"),
    appRoot: "app/shop",
    service: "web",
    serverOptions: "check inter 1s",
    resyncMs: 300,
    drainTimeoutMs: options.drainTimeoutMs ?? 60_000,
    drainPollMs: 30,
    clock: systemClock,
  });
  const state = () => JSON.stringify([...fake.servers]);
  return {
    fake,
    kv,
    watcher,
    state,
    close: async () => {
      await watcher.stop();
      await kv.close();
      await fake.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("parseEndpoint and serverName accept only what HAProxy can take", () => {
  assert.deepEqual(parseEndpoint("10.0.0.1:8080"), { address: "10.0.0.1", port: 8080 });
  assert.deepEqual(parseEndpoint("[::1]:80"), { address: "::1", port: 80 });
  for (const bad of ["", "10.0.0.1", "10.0.0.1:0", "a b:80", "x:80; del server", "h:99999"]) {
    assert.equal(parseEndpoint(bad), undefined, bad);
  }
  assert.equal(A, "gru-web-aaaaaaaaaaaa");
  assert.equal(serverName("web", "x;y z"), "gru-web-x_y_z");
});

Deno.test("keys become servers; other servers, empty and malformed values are left alone", async () => {
  const r = await rig();
  try {
    r.fake.servers.set("static1", {
      address: "10.9.9.9",
      port: 80,
      admin: "ready",
      health: false,
      options: "",
      sessions: 0,
    });
    await r.kv.put(`/app/shop/web/${ID_A}`, "127.0.0.1:30001");
    await r.kv.put("/app/shop/web/nodiscoveryport", "");
    await r.kv.put("/app/shop/web/bad", "not an address");
    await r.kv.put("/app/shop/webx/other", "127.0.0.1:30009");
    await r.watcher.start();
    const a = r.fake.servers.get(A);
    assert.ok(a, r.state());
    assert.deepEqual([a.address, a.port, a.admin, a.health, a.options], [
      "127.0.0.1",
      30001,
      "ready",
      true,
      "check inter 1s",
    ]);
    assert.deepEqual([...r.fake.servers.keys()].sort(), [A, "static1"].sort());
    // The check-before-traffic order: health on, then ready and down in one line.
    const cmds = r.fake.log.filter((c) => c.includes(A));
    assert.deepEqual(cmds.map((c) => c.split(" ").slice(0, 2).join(" ")), [
      "add server",
      "enable health",
      "set server",
      "set server",
    ]);
    assert.match(cmds[3]!, /health down$/);

    await r.kv.put(`/app/shop/web/${ID_B}`, "127.0.0.1:30002");
    await until(() => r.fake.servers.get(B)?.admin === "ready", r.state);
    await r.kv.put(`/app/shop/web/${ID_B}`, "127.0.0.2:30003");
    await until(() => r.fake.servers.get(B)?.address === "127.0.0.2", r.state);
    assert.equal(r.fake.servers.get(B)?.port, 30003);
    assert.equal(r.fake.servers.get("static1")?.admin, "ready");
  } finally {
    await r.close();
  }
});

Deno.test("a deleted key drains its server until its sessions end, then deletes it", async () => {
  const r = await rig();
  try {
    await r.kv.put(`/app/shop/web/${ID_A}`, "127.0.0.1:30001");
    await r.kv.put(`/app/shop/web/${ID_B}`, "127.0.0.1:30002");
    await r.watcher.start();
    r.fake.servers.get(A)!.sessions = 2;
    await r.kv.delete(`/app/shop/web/${ID_A}`);
    await until(() => r.fake.servers.get(A)?.admin === "drain", r.state);
    // Sessions in flight: it stays, draining, over several passes.
    const passes = r.watcher.passes;
    await until(() => r.watcher.passes >= passes + 5, () => `${r.watcher.passes} passes`);
    assert.equal(r.fake.servers.get(A)?.admin, "drain", r.state());
    assert.ok(!r.fake.log.some((c) => c === `del server web/${A}`), r.fake.log.join("\n"));
    r.fake.servers.get(A)!.sessions = 0;
    await until(() => !r.fake.servers.has(A), r.state);
    const mine = r.fake.log.filter((c) => c.includes(`web/${A}`) && c.startsWith("set server"));
    assert.deepEqual(
      mine.slice(-2),
      [`set server web/${A} state drain`].concat(
        [`set server web/${A} state maint`],
      ),
    );
    assert.equal(r.fake.servers.get(B)?.admin, "ready");
  } finally {
    await r.close();
  }
});

Deno.test("a key back while its server drains puts it back in service", async () => {
  const r = await rig();
  try {
    await r.kv.put(`/app/shop/web/${ID_A}`, "127.0.0.1:30001");
    await r.watcher.start();
    r.fake.servers.get(A)!.sessions = 1;
    await r.kv.delete(`/app/shop/web/${ID_A}`);
    await until(() => r.fake.servers.get(A)?.admin === "drain", r.state);
    await r.kv.put(`/app/shop/web/${ID_A}`, "127.0.0.1:30001");
    await until(() => r.fake.servers.get(A)?.admin === "ready", r.state);
    r.fake.servers.get(A)!.sessions = 0;
    const passes = r.watcher.passes;
    await until(() => r.watcher.passes >= passes + 3, () => `${r.watcher.passes} passes`);
    assert.equal(r.fake.servers.get(A)?.admin, "ready", r.state());
  } finally {
    await r.close();
  }
});

Deno.test("past the drain timeout a busy server goes to maintenance, deleted once free", async () => {
  const r = await rig({ drainTimeoutMs: 100 });
  try {
    await r.kv.put(`/app/shop/web/${ID_A}`, "127.0.0.1:30001");
    await r.watcher.start();
    r.fake.servers.get(A)!.sessions = 1;
    await r.kv.delete(`/app/shop/web/${ID_A}`);
    await until(() => r.fake.servers.get(A)?.admin === "maint", r.state);
    // HAProxy refuses to delete a server with connections: retried until it is free.
    await until(() => r.fake.log.includes(`del server web/${A}`), () => r.fake.log.join("\n"));
    assert.ok(r.fake.servers.has(A));
    r.fake.servers.get(A)!.sessions = 0;
    await until(() => !r.fake.servers.has(A), r.state);
  } finally {
    await r.close();
  }
});

Deno.test("an HAProxy down at start, then restarted empty, is brought up to date", async () => {
  const r = await rig({ listen: false });
  try {
    await r.kv.put(`/app/shop/web/${ID_A}`, "127.0.0.1:30001");
    await r.watcher.start(); // the first pass fails (logged), the watcher keeps going
    assert.equal(r.fake.servers.size, 0);
    r.fake.listen();
    await until(() => r.fake.servers.get(A)?.admin === "ready", r.state);
    // A restarted HAProxy has lost its dynamic servers: the next resync adds them again.
    r.fake.servers.clear();
    await until(() => r.fake.servers.get(A)?.admin === "ready", r.state);
  } finally {
    await r.close();
  }
});

Deno.test("a server HAProxy refuses does not hold the others back, and is retried", async () => {
  const r = await rig();
  try {
    r.fake.refuseAdd.add(A);
    await r.kv.put(`/app/shop/web/${ID_A}`, "127.0.0.1:30001");
    await r.kv.put(`/app/shop/web/${ID_B}`, "127.0.0.1:30002");
    await r.watcher.start();
    assert.equal(r.fake.servers.get(B)?.admin, "ready", r.state());
    assert.ok(!r.fake.servers.has(A));
    r.fake.refuseAdd.clear();
    await until(() => r.fake.servers.get(A)?.admin === "ready", r.state);
  } finally {
    await r.close();
  }
});
